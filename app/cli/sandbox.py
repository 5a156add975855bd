"""The demo workspace and the sandbox provider's customer side."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from ..domain.phone import display
from ..domain.refusals import Refused
from ..domain.channels import CHANNELS, CHANNEL_LABELS
from .common import context, fail

sandbox_cli = AppGroup("sandbox", help="Play the customer's side of the sandbox provider.")


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Seed the demo workspace the embedded default uses."""
    from ..services.demo import DEMO, ensure_demo

    created = ensure_demo(context())
    click.echo(f"Demo workspace “{DEMO}” {'created' if created else 'already exists'}.")


@sandbox_cli.command("reply")
@click.argument("workspace")
@click.option("--channel", type=click.Choice(CHANNELS), required=True)
@click.option("--from", "customer", required=True, help="The customer's number.")
@click.option("--text", required=True)
def sandbox_reply(workspace: str, channel: str, customer: str, text: str) -> None:
    """Play an inbound customer message: it opens the window (or says STOP/START on SMS)."""
    from ..services.sandbox import play_reply

    try:
        number = play_reply(context(), workspace, channel, customer, text)
    except Refused as refused:
        fail(refused)
    click.echo(f"Recorded a {CHANNEL_LABELS[channel]} message from {display(number)}.")


@sandbox_cli.command("deliver")
@click.argument("message_id")
@click.option("--until", type=click.Choice(["sent", "delivered", "read"]), default="read", show_default=True)
def sandbox_deliver(message_id: str, until: str) -> None:
    """Play the delivery receipts of a sandbox message."""
    from ..services.sandbox import play_statuses

    try:
        final = play_statuses(context(), message_id, until)
    except Refused as refused:
        fail(refused)
    click.echo(f"{message_id}: {final}")
