"""Workspaces, senders and templates: what an operator sets up before anyone can send."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain import phone
from ..domain import settings as workspace_settings
from ..domain.refusals import Reason, Refused
from ..domain.channels import CHANNEL_LABELS, CHANNELS
from ..domain.templates import (
    APPROVED,
    CATEGORIES,
    STATUS_WORDS,
    Button,
    TemplateSpec,
    placeholders,
)
from ..providers.registry import PROVIDER_CHANNELS, PROVIDER_NAMES
from ..store.models import Sender, Template, Workspace
from .context import Context

SECRET_OPTION = re.compile(r"(token|secret|password|private|key)", re.IGNORECASE)

DEFAULT_SETTINGS: dict[str, object] = {"max_sms_segments": 10}


def workspace_named(session: Session, name: str) -> Workspace:
    workspace = session.scalar(select(Workspace).where(Workspace.name == name))
    if workspace is None:
        raise Refused(Reason("workspace_unknown", f"There is no workspace named “{name}”.", "workspace"))
    return workspace


def workspace_for_host(session: Session, host: str, external_id: str) -> Workspace | None:
    """The workspace linked to an Intercom workspace id or a HubSpot portal id."""
    column = Workspace.intercom_workspace_id if host == "intercom" else Workspace.hubspot_portal_id
    return session.scalar(select(Workspace).where(column == str(external_id)))


def create_workspace(ctx: Context, name: str, intercom_workspace_id: str | None = None,
                     hubspot_portal_id: str | None = None, settings: Mapping[str, object] | None = None) -> Workspace:
    name = name.strip()
    if not name or len(name) > 120:
        raise Refused(Reason("workspace_name_invalid", "A workspace name needs 1 to 120 characters.", "name"))
    chosen = workspace_settings.checked_all(settings or {})
    with ctx.store.session() as session:
        workspace = Workspace(name=name, intercom_workspace_id=intercom_workspace_id or None,
                              hubspot_portal_id=hubspot_portal_id or None,
                              settings={**DEFAULT_SETTINGS, **chosen}, created_at=ctx.now())
        session.add(workspace)
        try:
            session.flush()
        except IntegrityError:
            raise Refused(Reason("workspace_exists", "A workspace with that name, Intercom workspace id or "
                                                     "HubSpot portal id already exists.", "name")) from None
        return workspace


def list_workspaces(ctx: Context) -> list[Workspace]:
    with ctx.store.session() as session:
        return list(session.scalars(select(Workspace).order_by(Workspace.id)))


def update_settings(ctx: Context, workspace_name: str, changes: Mapping[str, object]) -> dict:
    """Change settings; an unknown key or a value of the wrong form refuses them all, changing nothing."""
    checked = workspace_settings.checked_all(changes)
    with ctx.store.session() as session:
        workspace = workspace_named(session, workspace_name)
        workspace.settings = {**(workspace.settings or {}), **checked}
        result = dict(workspace.settings)
    ctx.workspaces.invalidate()
    return result


def unset_settings(ctx: Context, workspace_name: str, keys: Sequence[str]) -> dict:
    """Return settings to their defaults by removing them."""
    with ctx.store.session() as session:
        workspace = workspace_named(session, workspace_name)
        stored = dict(workspace.settings or {})
        reasons = []
        for key in keys:
            try:
                workspace_settings.unsettable(key, stored)
            except Refused as refused:
                reasons.extend(refused.reasons)
        if reasons:
            raise Refused(*reasons)
        workspace.settings = {k: v for k, v in stored.items() if k not in keys}
        result = dict(workspace.settings)
    ctx.workspaces.invalidate()
    return result


@dataclass(frozen=True)
class SenderView:
    id: int
    workspace: str
    channel: str
    provider: str
    from_number: str
    options: Mapping[str, str]
    secret_option_names: tuple[str, ...]


def split_options(options: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Separate secrets (tokens, keys, passwords) from plain settings, which stay readable."""
    plain = {k: v for k, v in options.items() if not SECRET_OPTION.search(k)}
    secret = {k: v for k, v in options.items() if SECRET_OPTION.search(k)}
    return plain, secret


def add_sender(ctx: Context, workspace_name: str, channel: str, provider: str, from_number: str,
               options: Mapping[str, str] | None = None) -> SenderView:
    if channel not in CHANNELS:
        raise Refused(Reason("channel_unknown", f"Channel must be one of {', '.join(CHANNELS)}.", "channel"))
    if provider not in PROVIDER_NAMES:
        raise Refused(Reason("provider_unknown", f"Provider must be one of {', '.join(PROVIDER_NAMES)}.",
                             "provider"))
    if channel not in PROVIDER_CHANNELS[provider]:
        raise Refused(Reason("provider_channel", f"{provider} does not carry {CHANNEL_LABELS[channel]}.",
                             "provider"))
    # Viber senders are named service ids; numbers are normalised.
    sender_id = from_number.strip() if channel == "viber" and not from_number.strip().startswith("+") \
        else phone.normalise(from_number, field="from")
    if not sender_id:
        raise Refused(Reason("sender_missing", "Give the number or sender id to send from.", "from"))
    plain, secret = split_options(dict(options or {}))
    with ctx.store.session() as session:
        workspace = workspace_named(session, workspace_name)
        sender = Sender(workspace_id=workspace.id, channel=channel, provider=provider, from_number=sender_id,
                        options=plain, credentials_sealed=ctx.store.seal(json.dumps(secret)) if secret else None,
                        created_at=ctx.now())
        session.add(sender)
        try:
            session.flush()
        except IntegrityError:
            raise Refused(Reason("sender_exists", f"{workspace_name} already sends {CHANNEL_LABELS[channel]} "
                                                  f"from {sender_id}.", "from")) from None
        view = SenderView(sender.id, workspace.name, channel, provider, sender_id, plain, tuple(sorted(secret)))
    ctx.workspaces.invalidate()
    return view


def list_senders(ctx: Context, workspace_name: str) -> list[SenderView]:
    with ctx.store.session() as session:
        workspace = workspace_named(session, workspace_name)
        views = []
        for s in workspace.senders:
            secret = json.loads(ctx.store.unseal(s.credentials_sealed)) if s.credentials_sealed else {}
            views.append(SenderView(s.id, workspace.name, s.channel, s.provider, s.from_number, dict(s.options),
                                    tuple(sorted(secret))))
        return views


def sender_credentials(ctx: Context, sender: Any) -> dict[str, str]:
    return json.loads(ctx.store.unseal(sender.credentials_sealed)) if sender.credentials_sealed else {}


def to_spec(row: Template) -> TemplateSpec:
    """The domain's view of a stored template."""
    return TemplateSpec(
        name=row.name, language=row.language, channel=row.channel, category=row.category, status=row.status,
        body=row.body or "", parameter_format=row.parameter_format or "POSITIONAL",
        header_format=row.header_format or "", header_text=row.header_text or "", footer=row.footer or "",
        buttons=tuple(Button(b.get("type", ""), b.get("text", ""), b.get("url", "")) for b in (row.buttons or [])),
    )


def add_template(ctx: Context, workspace_name: str, channel: str, name: str, language: str, body: str,
                 category: str, status: str = APPROVED, header_text: str = "", header_format: str = "",
                 footer: str = "", buttons: Sequence[Mapping[str, str]] = ()) -> Template:
    """Record a template by hand (SMS snippets, or a channel Herald cannot sync from)."""
    category = category.upper()
    status = status.upper()
    reasons = []
    if channel not in CHANNELS:
        reasons.append(Reason("channel_unknown", f"Channel must be one of {', '.join(CHANNELS)}.", "channel"))
    elif category not in CATEGORIES[channel]:
        reasons.append(Reason("category_invalid", f"A {CHANNEL_LABELS[channel]} template's category is one of "
                                                  f"{', '.join(CATEGORIES[channel])}.", "category"))
    if status != APPROVED and status not in STATUS_WORDS:
        reasons.append(Reason("status_invalid", f"Unknown template status “{status}”.", "status"))
    if not re.fullmatch(r"[a-z0-9_]{1,512}", name):
        reasons.append(Reason("template_name_invalid", "A template name uses lowercase letters, digits and "
                                                       "underscores only.", "name"))
    if not body.strip():
        reasons.append(Reason("template_body_missing", "A template needs a body.", "body"))
    keys = placeholders(body) + placeholders(header_text)
    named = any(not k.isdigit() for k in keys)
    if named and any(k.isdigit() for k in keys):
        reasons.append(Reason("template_mixed_placeholders", "Use either numbered ({{1}}) or named "
                                                             "({{first_name}}) placeholders, not both.", "body"))
    if reasons:
        raise Refused(*reasons)
    now = ctx.now()
    with ctx.store.session() as session:
        workspace = workspace_named(session, workspace_name)
        row = Template(workspace_id=workspace.id, channel=channel, name=name, language=language, category=category,
                       status=status, parameter_format="NAMED" if named else "POSITIONAL", body=body,
                       header_format=header_format or ("TEXT" if header_text else ""), header_text=header_text,
                       footer=footer, buttons=[dict(b) for b in buttons], components=[], created_at=now,
                       updated_at=now)
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            raise Refused(Reason("template_exists", f"Template “{name}” ({language}) already exists for "
                                                    f"{CHANNEL_LABELS[channel]}.", "name")) from None
    ctx.workspaces.invalidate()
    return row


def list_templates(ctx: Context, workspace_name: str, channel: str | None = None,
                   usable_only: bool = False) -> list[Template]:
    with ctx.store.session() as session:
        workspace = workspace_named(session, workspace_name)
        query = select(Template).where(Template.workspace_id == workspace.id)
        if channel:
            query = query.where(Template.channel == channel)
        if usable_only:
            query = query.where(Template.status == APPROVED)
        return list(session.scalars(query.order_by(Template.channel, Template.name, Template.language)))


def templates_for(session: Session, workspace_id: int, channel: str, name: str | None = None) -> list[Template]:
    query = select(Template).where(Template.workspace_id == workspace_id, Template.channel == channel)
    if name is not None:
        query = query.where(Template.name == name)
    return list(session.scalars(query))


def names(rows: Iterable[Template]) -> list[str]:
    return sorted({r.name for r in rows})
