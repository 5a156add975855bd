"""Customers' marketing consent, recorded and shown with who recorded it and when."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from ..domain.phone import display
from ..domain.refusals import Refused
from ..domain.channels import CHANNELS, CHANNEL_LABELS
from .common import context, fail

consent_cli = AppGroup("consent", help="Customers' marketing consent, per channel, with who recorded it and when.")


@consent_cli.command("record")
@click.argument("workspace")
@click.option("--to", "to", required=True, help="The customer's number, ideally +CC…")
@click.option("--channel", type=click.Choice(CHANNELS), required=True)
@click.option("--granted/--withdrawn", "granted", default=None, help="Consent given, or withdrawn.")
@click.option("--by", "recorded_by", required=True, help="Who records it (a name or an email address).")
@click.option("--source", default="cli", show_default=True,
              help="Where the consent came from, e.g. web_form, phone, email.")
@click.option("--note", default="", help="Anything worth keeping with it (e.g. the form's reference).")
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON.")
def consent_record(workspace: str, to: str, channel: str, granted: bool | None, recorded_by: str, source: str,
                   note: str, as_json: bool) -> None:
    """Record a customer's marketing consent on one channel, or its withdrawal (the latest record wins)."""
    from ..services.consent import record_consent

    if granted is None:
        raise click.UsageError("say --granted or --withdrawn")
    try:
        record = record_consent(context(), workspace, to, channel, granted, source, recorded_by, note)
    except Refused as refused:
        fail(refused)
    if as_json:
        click.echo(json.dumps(record.as_dict(), indent=2, ensure_ascii=False))
        return
    what = "consent to marketing" if granted else "withdrawal of marketing consent"
    click.echo(f"Recorded {what} on {CHANNEL_LABELS[channel]} for {display(record.recipient)}: {record.sentence()}")


@consent_cli.command("show")
@click.argument("workspace")
@click.option("--to", "to", required=True, help="The customer's number, ideally +CC…")
@click.option("--json", "as_json", is_flag=True, help="Print the state and history as JSON.")
def consent_show(workspace: str, to: str, as_json: bool) -> None:
    """Show a customer's marketing consent on every channel, and the records behind it."""
    from ..services.consent import consent_state

    try:
        state = consent_state(context(), workspace, to)
    except Refused as refused:
        fail(refused)
    if as_json:
        click.echo(json.dumps(state.as_dict(), indent=2, ensure_ascii=False))
        return
    click.echo(f"Marketing consent of {display(state.recipient)}:")
    for channel in state.channels:
        mark = "yes" if state.granted(channel) else "no "
        click.echo(f"  {CHANNEL_LABELS[channel]:<9}{mark}  {state.summary(channel)}")
    if state.history:
        click.echo("History (newest first):")
        for record in state.history:
            note = f" — {record.note}" if record.note else ""
            click.echo(f"  {CHANNEL_LABELS.get(record.channel, record.channel)}: {record.sentence()}{note}")
