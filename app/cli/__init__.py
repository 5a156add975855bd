"""Operator commands: `flask --app app …`. Secrets go in as options and never come back out.

One module per group of commands; :func:`register_cli` adds them all to the app.
"""

from __future__ import annotations

from flask import Flask

from .apikeys import apikey_cli
from .consent import consent_cli
from .operations import db_cli, keys_cli, writeback_cli
from .reports import report_cli
from .sandbox import demo_command, sandbox_cli
from .send import send_command
from .senders import sender_cli
from .templates import template_cli
from .webhooks import webhook_cli
from .workspaces import workspace_cli


def register_cli(app: Flask) -> None:
    for command in (workspace_cli, sender_cli, template_cli, sandbox_cli, db_cli, keys_cli, writeback_cli, apikey_cli,
                    send_command, demo_command, consent_cli, report_cli, webhook_cli):
        app.cli.add_command(command)
