"""Workspaces (tenants): created, listed, and their settings set and unset."""

from __future__ import annotations

import json
from typing import Any

import click
from flask.cli import AppGroup

from ..domain.refusals import Refused
from ..services import workspaces as ws
from .common import context, fail, pairs

workspace_cli = AppGroup("workspace", help="Create and list workspaces (tenants).")


@workspace_cli.command("create")
@click.argument("name")
@click.option("--intercom-workspace-id", help="The Intercom workspace (app) id this workspace serves.")
@click.option("--hubspot-portal-id", help="The HubSpot portal (hub) id this workspace serves.")
def workspace_create(name: str, intercom_workspace_id: str | None, hubspot_portal_id: str | None) -> None:
    """Create a workspace."""
    try:
        workspace = ws.create_workspace(context(), name, intercom_workspace_id, hubspot_portal_id)
    except Refused as refused:
        fail(refused)
    click.echo(f"Created workspace {workspace.name} (id {workspace.id}).")


@workspace_cli.command("list")
def workspace_list() -> None:
    """List workspaces and what they are linked to."""
    rows = ws.list_workspaces(context())
    if not rows:
        click.echo("No workspaces yet: create one with `flask --app app workspace create NAME`.")
    for w in rows:
        links = ", ".join(filter(None, [f"Intercom {w.intercom_workspace_id}" if w.intercom_workspace_id else "",
                                        f"HubSpot {w.hubspot_portal_id}" if w.hubspot_portal_id else ""]))
        click.echo(f"{w.name}\t{links or 'not linked'}")


def _settings_help() -> str:
    from ..domain.settings import SETTINGS

    return "\n".join(f"  {s.key}: {s.wanted} (default {json.dumps(s.default)})" for s in SETTINGS.values())


@workspace_cli.command("set", epilog="\b\nSettings:\n" + _settings_help())
@click.argument("workspace")
@click.argument("settings", nargs=-1, required=True)
def workspace_set(workspace: str, settings: tuple[str, ...]) -> None:
    """Change workspace settings, e.g. max_sms_segments=6 quiet_start=22:00 daily_cap=null.

    Values are JSON where they parse as JSON (numbers, null, lists), text otherwise. An unknown
    key or a value of the wrong form is refused, and then nothing changes.
    """
    changes: dict[str, Any] = {}
    for key, value in pairs(settings, "SETTINGS").items():
        try:
            changes[key] = json.loads(value)
        except json.JSONDecodeError:
            changes[key] = value
    try:
        result = ws.update_settings(context(), workspace, changes)
    except Refused as refused:
        fail(refused)
    click.echo(json.dumps(result, sort_keys=True))


@workspace_cli.command("unset")
@click.argument("workspace")
@click.argument("keys", nargs=-1, required=True)
def workspace_unset(workspace: str, keys: tuple[str, ...]) -> None:
    """Return settings to their defaults, e.g. `workspace unset acme daily_cap`."""
    try:
        result = ws.unset_settings(context(), workspace, keys)
    except Refused as refused:
        fail(refused)
    click.echo(json.dumps(result, sort_keys=True))
