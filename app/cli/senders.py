"""Senders: the numbers and ids Herald sends from, with each one's own webhook URL."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup

from ..domain.refusals import Refused
from ..domain.channels import CHANNELS, CHANNEL_LABELS
from ..services import workspaces as ws
from .common import context, fail, pairs

sender_cli = AppGroup("sender", help="Numbers and sender ids Herald sends from.")


@sender_cli.command("add")
@click.argument("workspace")
@click.option("--channel", type=click.Choice(CHANNELS), required=True)
@click.option("--provider", type=click.Choice(ws.PROVIDER_NAMES), required=True)
@click.option("--from", "from_number", required=True, help="The number (E.164) or Viber sender id.")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE",
              help="Provider settings and credentials; tokens, secrets and keys are stored encrypted.")
def sender_add(workspace: str, channel: str, provider: str, from_number: str, options: tuple[str, ...]) -> None:
    """Add a sender to a workspace."""
    try:
        view = ws.add_sender(context(), workspace, channel, provider, from_number, pairs(options, "--option"))
    except Refused as refused:
        fail(refused)
    secret = f"; {len(view.secret_option_names)} secret(s) stored encrypted" if view.secret_option_names else ""
    click.echo(f"Added {CHANNEL_LABELS[channel]} sender {view.from_number} via {provider} (id {view.id}){secret}.")
    _echo_webhook(view)


def _echo_webhook(view: Any) -> None:
    """The sender's own webhook URL, to give the provider (its secret alone verifies what arrives there)."""
    from ..services.webhooks import webhook_url

    url = webhook_url(context().config.public_base_url, view.provider, view.id)
    if url:
        click.echo(f"  webhook URL: {url}")


@sender_cli.command("list")
@click.argument("workspace")
def sender_list(workspace: str) -> None:
    """List a workspace's senders (secrets are shown only by name)."""
    try:
        views = ws.list_senders(context(), workspace)
    except Refused as refused:
        fail(refused)
    if not views:
        click.echo("No senders yet.")
    for v in views:
        opts = " ".join(f"{k}={val}" for k, val in sorted(v.options.items()))
        secrets = " ".join(f"{k}=••••" for k in v.secret_option_names)
        click.echo(f"{v.id}\t{v.channel}\t{v.provider}\t{v.from_number}\t{' '.join(filter(None, [opts, secrets]))}")
        _echo_webhook(v)
