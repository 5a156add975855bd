"""Template sync: bring a workspace's WhatsApp templates in line with what Meta lists.

Each WhatsApp Cloud API sender with a ``waba_id`` names a WhatsApp Business Account; its templates
are paged through and stored with their status, category, parameter format and components. A
template Herald synced before that Meta no longer lists is marked VANISHED; Meta's PAUSED, DISABLED
and other statuses are stored as they are. Only APPROVED templates are offered or sent (see
:func:`app.domain.templates.choose`). Templates recorded by hand were never at Meta and are left
alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, Iterable

from sqlalchemy import select

from ..domain.refusals import Reason, Refused
from ..domain.templates import APPROVED
from ..providers.base import ProviderError
from ..providers.whatsapp_cloud import SyncedTemplate, WhatsAppCloudProvider
from ..store.models import Sender, Template, Workspace
from .context import Context
from .workspaces import sender_credentials, workspace_named

log = logging.getLogger(__name__)

CHANNEL = "whatsapp"
VANISHED = "VANISHED"


@dataclass(frozen=True)
class SyncProgress:
    """One page fetched: which account, which page, how many templates so far."""

    waba_id: str
    page: int
    fetched: int


@dataclass
class SyncReport:
    workspace: str
    accounts: list[str] = field(default_factory=list)
    fetched: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unusable: list[str] = field(default_factory=list)   # synced, but not APPROVED: "name (lang): STATUS"
    vanished: list[str] = field(default_factory=list)

    @property
    def usable(self) -> int:
        return self.fetched - len(self.unusable)


def _accounts(ctx: Context, workspace_name: str) -> tuple[int, list[tuple[str, str]]]:
    """The workspace id and each distinct (waba_id, access token) among its WhatsApp Cloud senders."""
    with ctx.store.session() as session:
        workspace = workspace_named(session, workspace_name)
        accounts: dict[str, str] = {}
        for sender in workspace.senders:
            waba_id = str((sender.options or {}).get("waba_id") or "").strip()
            if sender.provider != "whatsapp_cloud" or not waba_id or waba_id in accounts:
                continue
            token = str(sender_credentials(ctx, sender).get("access_token") or "").strip()
            if token:
                accounts[waba_id] = token
        return workspace.id, list(accounts.items())


def fetch(provider: WhatsAppCloudProvider, accounts: Iterable[tuple[str, str]],
          progress: Callable[[SyncProgress], None] | None = None) -> list[SyncedTemplate]:
    """Every template of every account, page by page; any failure stops the sync before it stores."""
    found: list[SyncedTemplate] = []
    for waba_id, token in accounts:
        for page in provider.list_templates(waba_id, token):
            found.extend(page.templates)
            if progress is not None:
                progress(SyncProgress(waba_id, page.number, len(found)))
    return found


def sync_templates(ctx: Context, workspace_name: str,
                   progress: Callable[[SyncProgress], None] | None = None) -> SyncReport:
    """Fetch the workspace's WhatsApp templates from Meta and store them (see the module's docstring)."""
    workspace_id, accounts = _accounts(ctx, workspace_name)
    if not accounts:
        raise Refused(Reason("template_sync_unavailable",
                             f"“{workspace_name}” has no WhatsApp Cloud API sender with a waba_id and an "
                             "access_token; add them with `flask --app app sender add … --option waba_id=… "
                             "--option access_token=…`.", "workspace"))
    provider = ctx.provider("whatsapp_cloud")
    assert isinstance(provider, WhatsAppCloudProvider)
    try:
        templates = fetch(provider, accounts, progress)
    except ProviderError as error:
        raise Refused(Reason("template_sync_failed", f"Templates could not be fetched from Meta: "
                                                     f"{error.sentence()}", "workspace")) from None
    report = SyncReport(workspace_name, accounts=[waba for waba, _ in accounts], fetched=len(templates))
    _store(ctx, workspace_id, templates, report)
    ctx.workspaces.invalidate()  # new languages may have arrived
    return report


def _store(ctx: Context, workspace_id: int, templates: list[SyncedTemplate], report: SyncReport) -> None:
    now = ctx.now()
    with ctx.store.session() as session:
        rows = {(r.name, r.language): r for r in session.scalars(
            select(Template).where(Template.workspace_id == workspace_id, Template.channel == CHANNEL))}
        seen: set[tuple[str, str]] = set()
        for synced in templates:
            key = (synced.name[:512], synced.language[:16])
            seen.add(key)
            label = f"{synced.name} ({synced.language})"
            row = rows.get(key)
            if row is None:
                row = Template(workspace_id=workspace_id, channel=CHANNEL, name=key[0], language=key[1],
                               created_at=now)
                session.add(row)
                rows[key] = row
                report.created.append(label)
            else:
                report.updated.append(label)
            row.category = synced.category[:32] or "UTILITY"
            row.status = synced.status[:32] or "PENDING"
            row.parameter_format = synced.parameter_format
            row.body, row.footer = synced.body, synced.footer
            row.header_format, row.header_text = synced.header_format[:16], synced.header_text
            row.buttons = [dict(b) for b in synced.buttons]
            row.components = [dict(c) for c in synced.components]
            row.provider_template_id = synced.provider_id[:64] or None
            row.synced_at, row.updated_at = now, now
            if row.status != APPROVED:
                report.unusable.append(f"{label}: {row.status}")
        for key, row in rows.items():
            if key not in seen and row.provider_template_id and row.status != VANISHED:
                row.status, row.updated_at = VANISHED, now
                report.vanished.append(f"{row.name} ({row.language})")


def sync_all_workspaces(ctx: Context) -> dict[str, str]:
    """The periodic sync: every workspace with a WhatsApp Cloud account; one failing never stops the rest."""
    with ctx.store.session() as session:
        names = list(session.scalars(
            select(Workspace.name).join(Sender, Sender.workspace_id == Workspace.id)
            .where(Sender.provider == "whatsapp_cloud").distinct().order_by(Workspace.name)))
    results: dict[str, str] = {}
    for name in names:
        try:
            report = sync_templates(ctx, name)
        except Refused as refused:
            results[name] = str(refused)
            log.info("template sync for %s skipped: %s", name, results[name])
        else:
            results[name] = f"{report.fetched} fetched"
    return results
