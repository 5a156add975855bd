"""API keys for customers' systems: shown once, stored only as a hash, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from ..domain.refusals import Reason, Refused
from ..store.models import ApiKey, Workspace
from .context import Context
from .workspaces import workspace_named

PREFIX = "hk_"
# What create_key makes: 8 hex characters, then a url-safe secret. Anything else is no key, and is
# refused before it reaches the database (which may refuse some characters outright, such as NUL).
_KEY = re.compile(r"([0-9a-f]{8})_([A-Za-z0-9_-]{16,128})")


@dataclass(frozen=True)
class Caller:
    workspace_id: int
    workspace: str
    key_name: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(ctx: Context, workspace_name: str, name: str) -> str:
    """Make a key and return it in full: this is the only time it is ever shown."""
    if not name.strip():
        raise Refused(Reason("api_key_name_missing", "Give the key a name that says who uses it.", "name"))
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    with ctx.store.session() as session:
        workspace = workspace_named(session, workspace_name)
        session.add(ApiKey(workspace_id=workspace.id, name=name.strip(), prefix=prefix, secret_hash=_hash(secret),
                           created_at=ctx.now()))
    return f"{PREFIX}{prefix}_{secret}"


def revoke_key(ctx: Context, workspace_name: str, prefix: str) -> bool:
    with ctx.store.session() as session:
        workspace = workspace_named(session, workspace_name)
        key = session.scalar(select(ApiKey).where(ApiKey.workspace_id == workspace.id, ApiKey.prefix == prefix,
                                                  ApiKey.revoked_at.is_(None)))
        if key is None:
            return False
        key.revoked_at = ctx.now()
        return True


def list_keys(ctx: Context, workspace_name: str) -> list[ApiKey]:
    with ctx.store.session() as session:
        workspace = workspace_named(session, workspace_name)
        return list(session.scalars(select(ApiKey).where(ApiKey.workspace_id == workspace.id).order_by(ApiKey.id)))


def authenticate(ctx: Context, presented: str | None) -> Caller | None:
    """The caller behind a key, or None for a missing, malformed, unknown or revoked one."""
    if not presented or not presented.startswith(PREFIX):
        return None
    shape = _KEY.fullmatch(presented[len(PREFIX):])
    if shape is None:
        return None
    prefix, secret = shape.groups()
    with ctx.store.session() as session:
        row = session.execute(select(ApiKey, Workspace.name).join(Workspace, Workspace.id == ApiKey.workspace_id)
                              .where(ApiKey.prefix == prefix)).first()
        expected = row[0].secret_hash if row else _hash("no such key")
        matches = hmac.compare_digest(expected, _hash(secret))
        if row is None or not matches or row[0].revoked_at is not None:
            return None
        return Caller(row[0].workspace_id, row[1], row[0].name)
