"""`flask --app app webhook …`: the URLs customers' systems subscribe to Herald's events."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from ..domain.refusals import Refused
from ..services import events
from ..services.context import Context
from ..services.workspaces import workspace_named
from .common import context

webhook_cli = AppGroup("webhook", help="Signed events for customers' systems (message.status_changed, "
                                       "message.received).")


def _workspace_id(ctx: Context, name: str) -> int:
    try:
        with ctx.store.session() as session:
            return workspace_named(session, name).id
    except Refused as refused:
        raise click.ClickException(refused.reasons[0].message) from None


@webhook_cli.command("add")
@click.argument("workspace")
@click.option("--url", required=True, help="Where to POST events (https).")
@click.option("--event", "event_types", multiple=True, type=click.Choice(events.EVENT_TYPES),
              help="An event type to send (repeatable); all of them when omitted.")
def webhook_add(workspace: str, url: str, event_types: tuple[str, ...]) -> None:
    """Subscribe a URL; prints its signing secret once."""
    ctx = context()
    try:
        endpoint = events.add_endpoint(ctx, _workspace_id(ctx, workspace), url, event_types)
    except Refused as refused:
        raise click.ClickException(refused.reasons[0].message) from None
    click.echo(f"Endpoint {endpoint.id}: {endpoint.url} ({', '.join(endpoint.events) or 'every event'})")
    click.echo(f"Signing secret (shown once, keep it with the receiver): {endpoint.secret}")
    click.echo(f"Each delivery carries {events.SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256 of "
               "\"<t>.<raw body>\">; refuse deliveries older than five minutes.")


@webhook_cli.command("list")
@click.argument("workspace")
@click.option("--json", "as_json", is_flag=True)
def webhook_list(workspace: str, as_json: bool) -> None:
    """The workspace's subscribed URLs (secrets are never shown again)."""
    ctx = context()
    rows = events.list_endpoints(ctx, _workspace_id(ctx, workspace))
    if as_json:
        click.echo(json.dumps([{"id": r.id, "url": r.url, "events": list(r.events) or list(events.EVENT_TYPES),
                                "created_at": r.created_at.isoformat()} for r in rows], indent=2))
        return
    if not rows:
        click.echo("No endpoints: add one with `flask --app app webhook add WORKSPACE --url URL`.")
    for r in rows:
        click.echo(f"{r.id:>5}  {r.url}  {', '.join(r.events) or 'every event'}")


@webhook_cli.command("remove")
@click.argument("workspace")
@click.argument("endpoint_id", type=int)
def webhook_remove(workspace: str, endpoint_id: int) -> None:
    """Stop sending events to an endpoint (its pending deliveries go with it)."""
    ctx = context()
    if not events.remove_endpoint(ctx, _workspace_id(ctx, workspace), endpoint_id):
        raise click.ClickException(f"Workspace “{workspace}” has no endpoint {endpoint_id}.")
    click.echo(f"Endpoint {endpoint_id} removed.")


@webhook_cli.command("deliveries")
@click.argument("workspace")
@click.option("--status", type=click.Choice(["pending", "delivered", "failed"]))
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def webhook_deliveries(workspace: str, status: str | None, limit: int, as_json: bool) -> None:
    """Recent event deliveries, newest first, with their last answer."""
    ctx = context()
    rows = events.deliveries(ctx, _workspace_id(ctx, workspace), status, limit)
    if as_json:
        click.echo(json.dumps([{**vars(r), "created_at": r.created_at.isoformat(),
                                "delivered_at": r.delivered_at.isoformat() if r.delivered_at else None}
                               for r in rows], indent=2))
        return
    if not rows:
        click.echo("No deliveries" + (f" with status {status}." if status else "."))
    for r in rows:
        answer = f"HTTP {r.last_status_code}" if r.last_status_code else (r.last_error or "not tried yet")
        click.echo(f"{r.id:>6}  {r.event}  {r.type:<24} → endpoint {r.endpoint_id}  {r.status:<9} "
                   f"attempts {r.attempts}  last: {answer}")
