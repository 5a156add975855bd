"""``send``: one message from the shell, through the same decision as every other surface."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from flask.cli import with_appcontext

from ..domain.phone import display
from ..domain.purposes import ORIGINS, PURPOSES
from ..domain.refusals import Refused
from ..domain.channels import CHANNELS, CHANNEL_LABELS
from .common import context, fail

@click.command("send")
@with_appcontext
@click.argument("workspace")
@click.option("--channel", type=click.Choice(CHANNELS), required=True)
@click.option("--to", "to", required=True, help="The customer's number, ideally +CC…")
@click.option("--text", help="Free text.")
@click.option("--template", help="An approved template's name.")
@click.option("--language", help="The template's language, e.g. en_US.")
@click.option("--param", "params", multiple=True, help="A placeholder value, in order (or NAME=VALUE).")
@click.option("--purpose", type=click.Choice(sorted(PURPOSES)), help="Why this message is sent.")
@click.option("--origin", type=click.Choice(ORIGINS), default="agent", show_default=True)
@click.option("--sender", help="The number or sender id to send from, when the workspace has several.")
@click.option("--idempotency-key", help="Sending again with the same key never sends twice.")
@click.option("--confirm", "confirmed", is_flag=True, help="Confirm a send the policy wants confirmed.")
@click.option("--dry-run", is_flag=True, help="Decide and print, send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the decision and result as JSON.")
def send_command(workspace: str, channel: str, to: str, text: str | None, template: str | None,
                 language: str | None, params: tuple[str, ...], purpose: str | None, origin: str,
                 sender: str | None, idempotency_key: str | None, confirmed: bool, dry_run: bool,
                 as_json: bool) -> None:
    """Send one message (or, with --dry-run, say whether it could be sent)."""
    from ..services.send import SendRequest, send

    if bool(text) == bool(template):
        raise click.UsageError("give exactly one of --text or --template")
    request = SendRequest(workspace=workspace, channel=channel, to=to, text=text, template=template,
                          language=language, params=list(params), purpose=purpose, origin=origin,
                          surface="cli", requested_by="cli", sender=sender, idempotency_key=idempotency_key,
                          dry_run=dry_run, confirmed=confirmed)
    try:
        result = send(context(), request)
    except Refused as refused:
        if as_json:
            click.echo(json.dumps({"decision": {"outcome": "refused", "allowed": False,
                                                "reasons": [r.as_dict() for r in refused.reasons]},
                                   "message": None}, indent=2))
            sys.exit(1)
        fail(refused)
    decision = result.decision
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        _print_human(result, dry_run)
    ok = decision.allowed and (result.message is None or result.message["status"] != "failed")
    sys.exit(0 if ok else 1)


def _print_human(result: Any, dry_run: bool) -> None:
    decision = result.decision
    label = CHANNEL_LABELS[decision.channel]
    words = {"allowed": "Allowed", "confirm": "Needs confirmation", "refused": "Refused"}[decision.outcome]
    click.echo(f"{words}: {label} to {display(decision.recipient)}")
    for reason in decision.reasons:
        click.echo(f"  - {reason.message}")
    if decision.purpose:
        click.echo(f"Purpose: {PURPOSES[decision.purpose].label if decision.purpose in PURPOSES else decision.purpose}")
    if decision.policy:
        _print_verdict(decision)
    if decision.text:
        click.echo("Text:")
        for line in decision.text.splitlines():
            click.echo(f"  {line}")
    if decision.sms:
        click.echo(f"SMS: {decision.sms.describe()}")
    if decision.window and decision.window.closes_at and decision.channel != "sms":
        state = "open until" if decision.window.open else "closed at"
        from ..domain.window import format_moment
        click.echo(f"Window: {state} {format_moment(decision.window.closes_at)}")
    if decision.outcome == "confirm":
        for question in decision.policy.questions if decision.policy else ():
            click.echo(f"  ? {question}")
        click.echo("Run again with --confirm to send it.")
    if result.message:
        m = result.message
        again = " (replayed: this key was already used)" if result.replayed else ""
        click.echo(f"Message {m['id']}: {m['status_label']}{again}")
        if m["error_message"]:
            click.echo(f"  {m['error_message']}")
    elif dry_run and decision.allowed:
        click.echo("Dry run: nothing was sent.")


def _print_verdict(decision: Any) -> None:
    """The proactive policy's own verdict, beside the decision it led to."""
    verdict = decision.policy
    marketing = " (marketing)" if verdict.marketing else ""
    confirmed = " — confirmed with --confirm" if verdict.outcome == "confirm" and decision.allowed else ""
    click.echo(f"Policy verdict: {verdict.outcome}{marketing}{confirmed}")
