"""Operating Herald: the schema, keys, and write-backs to Intercom and HubSpot."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from .common import context

db_cli = AppGroup("db", help="Database schema.")
keys_cli = AppGroup("keys", help="Keys for SECRET_KEY and ENCRYPTION_KEY.")
writeback_cli = AppGroup("writeback", help="Records of sends in Intercom and HubSpot.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (the app also does this when it starts)."""
    context().store.migrate()
    click.echo("Database is up to date.")


@keys_cli.command("generate")
def keys_generate() -> None:
    """Print a new ENCRYPTION_KEY (Fernet) for the environment."""
    from ..security.sealing import new_key

    click.echo(new_key())


@writeback_cli.command("retry")
@click.option("--failed", "failed", is_flag=True, help="Put write-backs that gave up back in line (all, or --id).")
@click.option("--id", "ids", type=int, multiple=True, help="With --failed: only this write-back (repeatable).")
def writeback_retry(failed: bool, ids: tuple[int, ...]) -> None:
    """Retry write-backs to Intercom and HubSpot that are due now (the workers also do this every 30 s)."""
    from ..services.writeback import requeue_failed, run_due

    if failed:
        chosen = requeue_failed(context(), list(ids) or None)
        click.echo(f"Put {len(chosen)} failed write-back(s) back in line" + (f": {', '.join(map(str, chosen))}."
                                                                             if chosen else "."))
        return
    if ids:
        raise click.UsageError("--id goes with --failed")
    click.echo(f"Tried {run_due(context())} write-back(s).")


@writeback_cli.command("list")
@click.option("--failed", "only_failed", is_flag=True, help="Only those that gave up after every attempt.")
@click.option("--status", type=click.Choice(["pending", "failed", "done"]), help="Only this status.")
@click.option("--json", "as_json", is_flag=True)
def writeback_list(only_failed: bool, status: str | None, as_json: bool) -> None:
    """Write-backs to Intercom and HubSpot, newest first, with their last error."""
    from ..services.writeback import listing

    rows = listing(context(), "failed" if only_failed else status)
    if as_json:
        click.echo(json.dumps([{**vars(r), "next_attempt_at": r.next_attempt_at.isoformat(),
                                "created_at": r.created_at.isoformat()} for r in rows], indent=2))
        return
    if not rows:
        click.echo("No write-backs" + (f" with status {('failed' if only_failed else status)}." if
                                        (only_failed or status) else "."))
        return
    for r in rows:
        line = f"{r.id:>6}  {r.host:<8} {r.message}  {r.status:<7} attempts {r.attempts}"
        if r.last_error and r.status != "done":
            line += f"  last error: {r.last_error[:160]}"
        click.echo(line)
