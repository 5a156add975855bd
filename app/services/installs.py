"""Installing and uninstalling Herald in a host, one shape for Intercom and HubSpot.

Each install: check the state the installer's browser carries, exchange the OAuth code with the
host (:mod:`app.hosts`), learn which account the token belongs to, find or create its Herald
workspace, and keep the token sealed on an :class:`Installation`. The answer is an
:class:`Installed` either way; a surface says in words what happened.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.refusals import Refused
from ..hosts import hubspot as hubspot_api
from ..hosts import intercom as intercom_api
from ..hosts.hubspot import GrantRefused, HubSpotError, TokenSet
from ..hosts.intercom import IntercomError
from ..security.tokens import StateError, intercom_state, intercom_state_matches
from ..store.models import Installation, Workspace
from . import hubspot
from .context import Context
from .hostclients import host_clients
from .workspaces import create_workspace, workspace_for_host

log = logging.getLogger(__name__)

HUBSPOT, INTERCOM = "hubspot", "intercom"


@dataclass(frozen=True)
class Installed:
    """What an install did: in which host and account, for which workspace, and whether it is new."""

    host: str
    external_id: str
    workspace_name: str
    workspace_created: bool

    @property
    def portal_id(self) -> str:  # HubSpot's word for the account
        return self.external_id


def _base(ctx: Context) -> str:
    return str(ctx.config.public_base_url).rstrip("/")


def _installation(session: Session, host: str, external_id: str) -> Installation | None:
    return session.scalar(select(Installation).where(Installation.host == host,
                                                     Installation.external_id == str(external_id)))


# --------------------------------------------------------------------------- HubSpot


def hubspot_redirect_uri(ctx: Context) -> str:
    return f"{_base(ctx)}/hubspot/oauth/callback"


def hubspot_start(ctx: Context) -> tuple[str, str]:
    """Where the installer goes (HubSpot's authorize page) and the nonce their browser keeps."""
    state, nonce = hubspot.tokens(ctx).issue_state()
    return hubspot_api.authorize_url(ctx.config.hubspot_client_id, hubspot_redirect_uri(ctx), state), nonce


def check_hubspot_state(ctx: Context, state: str, nonce: str | None) -> None:
    """The state must be ours, fresh, unspent and started in this browser; spends it."""
    url = hubspot.install_url(ctx)
    try:
        checked = hubspot.tokens(ctx).check_state(state, nonce)
    except StateError as error:
        raise HubSpotError({
            "invalid": f"This install link is not one Herald issued. Start again from {url}.",
            "expired": f"This install link expired. Start again from {url}.",
        }.get(error.code, f"This install was started in another browser. Start again from {url} in this one."),
            400) from None
    if not hubspot.consume(ctx, checked.jti):
        raise HubSpotError(f"This install link was already used. Start again from {url}.", 400)


def install_hubspot(ctx: Context, code: str) -> Installed:
    """Exchange the authorization code, learn the hub id, and bind the tokens to its workspace.

    A portal an operator already linked (``workspace create … --hubspot-portal-id``) keeps its workspace;
    any other gets a new, empty workspace of its own, which needs senders before it can send.
    """
    url = hubspot.install_url(ctx)
    if not code or len(code) > 512:
        raise HubSpotError(f"HubSpot sent no sign-in code. Start again from {url}.", 400)
    client = host_clients(ctx).hubspot
    try:
        tokens = client.exchange_code(code, hubspot_redirect_uri(ctx))
    except GrantRefused:
        raise HubSpotError(f"HubSpot did not accept this sign-in code (it may have been used already). "
                           f"Start again from {url}.", 400) from None
    account = client.account_of(tokens)
    if account is None:
        raise HubSpotError("HubSpot did not say which account Herald was installed in; try installing again.",
                           502)
    portal_id, user = account
    created = False
    with ctx.store.session() as session:
        workspace = workspace_for_host(session, HUBSPOT, portal_id)
    if workspace is None:
        name = f"hubspot-{portal_id}"
        try:
            workspace = create_workspace(ctx, name, hubspot_portal_id=portal_id)
            created = True
        except Refused:
            with ctx.store.session() as session:  # a concurrent install created it first
                workspace = workspace_for_host(session, HUBSPOT, portal_id)
            if workspace is None:
                raise HubSpotError(f"Herald could not create a workspace for HubSpot account {portal_id}: a "
                                   f"workspace named “{name}” already exists. A Herald operator links it with "
                                   "the portal id and you install again.", 409) from None
    now = ctx.now()
    with ctx.store.session() as session:
        row = _installation(session, HUBSPOT, portal_id)
        if row is None:
            row = Installation(workspace_id=workspace.id, host=HUBSPOT, external_id=portal_id, created_at=now)
            session.add(row)
        row.workspace_id = workspace.id
        hubspot.store_tokens(ctx, row, tokens, now)
        row.installed_by = (user or "")[:255] or None
        row.api_base = ctx.config.hubspot_api_base
    log.info("HubSpot portal %s installed for workspace %s", portal_id, workspace.name)
    return Installed(HUBSPOT, portal_id, workspace.name, created)


def save_hubspot_tokens(ctx: Context, portal_id: str, tokens: TokenSet) -> None:
    """Record tokens for a portal whose workspace already exists (operators' scripts, tests)."""
    now = ctx.now()
    with ctx.store.session() as session:
        workspace = workspace_for_host(session, HUBSPOT, portal_id)
        if workspace is None:
            raise HubSpotError(f"No workspace is linked to HubSpot account {portal_id}.", 404)
        row = _installation(session, HUBSPOT, portal_id) or Installation(
            workspace_id=workspace.id, host=HUBSPOT, external_id=portal_id, created_at=now)
        session.add(row)
        hubspot.store_tokens(ctx, row, tokens, now)


# --------------------------------------------------------------------------- Intercom


def intercom_install_url(ctx: Context) -> str:
    return f"{_base(ctx)}/intercom/oauth/start"


def intercom_start(ctx: Context) -> tuple[str, dict]:
    """Where the installer goes (Intercom's authorize page) and what their session keeps of the state."""
    state, kept = intercom_state(ctx.now)
    callback = f"{_base(ctx)}/intercom/oauth/callback"
    return intercom_api.authorize_url(ctx.config.intercom_client_id, state, callback), kept


def intercom_state_holds(ctx: Context, kept: object, given: str) -> bool:
    """Whether the callback's state is the one the installer's session kept, and still fresh."""
    return intercom_state_matches(kept, given, ctx.now)


def _free_name(session: Session, wanted: str, fallback: str) -> str:
    name = (wanted or "").strip()[:120] or fallback
    if session.scalar(select(Workspace.id).where(Workspace.name == name)) is None:
        return name
    return f"{name[:100]} ({fallback})"[:120]


def install_intercom(ctx: Context, code: str) -> Installed:
    """Exchange the code, ask Intercom which workspace the token is for, and keep the token sealed there.

    A workspace Herald does not know yet is created and linked, so the sidebar answers at once;
    an operator then adds its senders.
    """
    client = host_clients(ctx).intercom
    token = client.exchange_code(code)
    me = client.me(token)
    app_info = me.get("app") or {}
    workspace_id = str(app_info.get("id_code") or "").strip()
    if not workspace_id:
        raise IntercomError("Intercom's /me did not name the workspace this token belongs to")
    base = intercom_api.api_base(app_info.get("region"), ctx.config.intercom_api_base)
    now = ctx.now()
    with ctx.store.session() as session:
        workspace = session.scalar(select(Workspace).where(Workspace.intercom_workspace_id == workspace_id))
        created = workspace is None
        if workspace is None:
            workspace = Workspace(name=_free_name(session, str(app_info.get("name") or ""), workspace_id),
                                  intercom_workspace_id=workspace_id, settings={"max_sms_segments": 10},
                                  created_at=now)
            session.add(workspace)
            session.flush()
        row = _installation(session, INTERCOM, workspace_id)
        if row is None:
            row = Installation(host=INTERCOM, external_id=workspace_id, created_at=now)
            session.add(row)
        row.workspace_id = workspace.id
        row.access_token_sealed = ctx.store.seal(token)
        row.api_base = base
        row.installed_by = str(me.get("email") or me.get("id") or "")[:255] or None
        row.updated_at = now
        log.info("Intercom workspace %s installed Herald (workspace %s)", workspace_id, workspace.name)
        return Installed(INTERCOM, workspace_id, workspace.name, created)


def uninstall_intercom(ctx: Context, intercom_workspace_id: str, signed: bool) -> bool:
    """Forget the workspace's token; returns True when one was removed.

    Signed or not, the notice is acted on only when Intercom itself no longer accepts the token: the
    Canvas Kit signature has no timestamp and names no endpoint, so any signed panel request replayed
    here would otherwise remove a working installation.
    """
    with ctx.store.session() as session:
        row = _installation(session, INTERCOM, intercom_workspace_id)
        if row is None:
            return False
        token = ctx.store.unseal(row.access_token_sealed) if row.access_token_sealed else None
        if token:
            try:
                host_clients(ctx).intercom.me(token, row.api_base)
                log.info("uninstall notice for %s (signed: %s) ignored: the token still works",
                         intercom_workspace_id, signed)
                return False
            except IntercomError as error:
                if error.status not in (401, 403):
                    return False  # Intercom unreachable: keep the token, the notice is unconfirmed
        session.delete(row)
        log.info("Intercom workspace %s uninstalled Herald; its token was removed", intercom_workspace_id)
        return True
