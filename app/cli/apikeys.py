"""Keys customers' systems use on ``/api/v1``: created, listed by prefix, revoked."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from ..domain.refusals import Refused
from .common import context, fail

apikey_cli = AppGroup("apikey", help="Keys customers' systems use on /api/v1.")


@apikey_cli.command("create")
@click.argument("workspace")
@click.option("--name", required=True, help="Who uses the key, e.g. 'order system'.")
def apikey_create(workspace: str, name: str) -> None:
    """Create a key; it is printed once and never again."""
    from ..services.apikeys import create_key

    try:
        key = create_key(context(), workspace, name)
    except Refused as refused:
        fail(refused)
    click.echo(key)
    click.echo("Store it now: Herald keeps only its hash.", err=True)


@apikey_cli.command("list")
@click.argument("workspace")
def apikey_list(workspace: str) -> None:
    """List keys by prefix (never the key itself)."""
    from ..services.apikeys import PREFIX, list_keys

    try:
        keys = list_keys(context(), workspace)
    except Refused as refused:
        fail(refused)
    for k in keys:
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        click.echo(f"{PREFIX}{k.prefix}_…\t{k.name}\t{state}")


@apikey_cli.command("revoke")
@click.argument("workspace")
@click.argument("prefix")
def apikey_revoke(workspace: str, prefix: str) -> None:
    """Revoke a key by its prefix (the 8 characters after hk_)."""
    from ..services.apikeys import revoke_key

    prefix = prefix.removeprefix("hk_").split("_")[0]
    try:
        done = revoke_key(context(), workspace, prefix)
    except Refused as refused:
        fail(refused)
    if not done:
        click.echo("Error: no active key with that prefix.", err=True)
        sys.exit(1)
    click.echo("Revoked.")
