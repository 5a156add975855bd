"""Message templates: added by hand, listed, and synced from Meta."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..domain.refusals import Refused
from ..domain.channels import CHANNELS
from ..services import workspaces as ws
from .common import context, fail

template_cli = AppGroup("template", help="Message templates.")


@template_cli.command("add")
@click.argument("workspace")
@click.option("--channel", type=click.Choice(CHANNELS), required=True)
@click.option("--name", required=True)
@click.option("--language", required=True, help="e.g. en_US, es, pt_BR")
@click.option("--category", required=True, help="UTILITY, MARKETING, AUTHENTICATION; Viber: TRANSACTIONAL, PROMOTIONAL")
@click.option("--body", required=True, help="Text with {{1}} or {{name}} placeholders.")
@click.option("--header", "header_text", default="", help="Header text (may hold one placeholder).")
@click.option("--footer", default="")
@click.option("--status", default="APPROVED", show_default=True)
def template_add(workspace: str, channel: str, name: str, language: str, category: str, body: str,
                 header_text: str, footer: str, status: str) -> None:
    """Record a template by hand (SMS snippets, Viber templates approved elsewhere)."""
    try:
        row = ws.add_template(context(), workspace, channel, name, language, body, category, status,
                              header_text=header_text, footer=footer)
    except Refused as refused:
        fail(refused)
    click.echo(f"Added template {row.name} ({row.language}, {row.category}, {row.status}).")


@template_cli.command("list")
@click.argument("workspace")
@click.option("--channel", type=click.Choice(CHANNELS))
def template_list(workspace: str, channel: str | None) -> None:
    """List templates with their status; only APPROVED ones can be sent."""
    try:
        rows = ws.list_templates(context(), workspace, channel)
    except Refused as refused:
        fail(refused)
    if not rows:
        click.echo("No templates.")
    for t in rows:
        click.echo(f"{t.channel}\t{t.name}\t{t.language}\t{t.category}\t{t.status}")


@template_cli.command("sync")
@click.argument("workspace")
def template_sync(workspace: str) -> None:
    """Fetch the workspace's WhatsApp templates from Meta; only APPROVED ones can be sent."""
    from ..services.template_sync import SyncProgress, sync_templates

    def show(step: SyncProgress) -> None:
        click.echo(f"  account {step.waba_id}: page {step.page} fetched, {step.fetched} template(s) so far")

    click.echo(f"Syncing WhatsApp templates for {workspace}…")
    try:
        report = sync_templates(context(), workspace, progress=show)
    except Refused as refused:
        fail(refused)
    click.echo(f"Synced {report.fetched} template(s): {len(report.created)} new, {len(report.updated)} updated, "
               f"{report.usable} approved.")
    for line in report.unusable:
        click.echo(f"  not usable: {line}")
    for line in report.vanished:
        click.echo(f"  no longer at Meta (marked VANISHED): {line}")
