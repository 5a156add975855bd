"""API keys for customers' systems: shown once, stored only as a hash, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

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
    _cache.drop(prefix)  # at once in this process; other processes within CACHE_SECONDS
    return True


def list_keys(ctx: Context, workspace_name: str) -> list[ApiKey]:
    with ctx.store.session() as session:
        workspace = workspace_named(session, workspace_name)
        return list(session.scalars(select(ApiKey).where(ApiKey.workspace_id == workspace.id).order_by(ApiKey.id)))


# A verified key is remembered by each process for a few seconds, so a burst of API calls costs one
# read of the key (a revoked key stops working within CACHE_SECONDS); its last use is written at most
# once a minute per process instead of on every request.
CACHE_SECONDS = 2.0
LAST_USED_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class _Known:
    key_id: int
    secret_hash: str
    caller: Caller | None  # None: revoked
    last_used_at: datetime | None


class KeyCache:
    """Per-process memory of recently verified keys, by prefix; thread-safe."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[str, tuple[float, _Known]] = {}
        self._lock = threading.Lock()

    def get(self, prefix: str) -> _Known | None:
        with self._lock:
            entry = self._entries.get(prefix)
        if entry is None or self._clock() - entry[0] > CACHE_SECONDS:
            return None
        return entry[1]

    def drop(self, prefix: str) -> None:
        with self._lock:
            self._entries.pop(prefix, None)

    def put(self, prefix: str, known: _Known) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[prefix] = (self._clock(), known)


_cache = KeyCache()


def _load(ctx: Context, prefix: str) -> _Known | None:
    with ctx.store.sessions() as session:  # a read: no transaction to commit
        row = session.execute(select(ApiKey, Workspace.name).join(Workspace, Workspace.id == ApiKey.workspace_id)
                              .where(ApiKey.prefix == prefix)).first()
        if row is None:
            return None
        key, workspace = row
        caller = None if key.revoked_at is not None else Caller(key.workspace_id, workspace, key.name)
        return _Known(key.id, key.secret_hash, caller, key.last_used_at)


def _note_use(ctx: Context, prefix: str, known: _Known) -> None:
    now = ctx.now()
    if known.last_used_at is not None and now - known.last_used_at < LAST_USED_EVERY:
        return
    _cache.put(prefix, _Known(known.key_id, known.secret_hash, known.caller, now))
    with ctx.store.session() as session:
        session.execute(update(ApiKey).where(ApiKey.id == known.key_id).values(last_used_at=now)
                        .execution_options(synchronize_session=False))


def authenticate(ctx: Context, presented: str | None) -> Caller | None:
    """The caller behind a key, or None for a missing, malformed, unknown or revoked one."""
    if not presented or not presented.startswith(PREFIX):
        return None
    shape = _KEY.fullmatch(presented[len(PREFIX):])
    if shape is None:
        return None
    prefix, secret = shape.groups()
    known = _cache.get(prefix)
    if known is None:
        known = _load(ctx, prefix)
        if known is not None:
            _cache.put(prefix, known)
    expected = known.secret_hash if known else _hash("no such key")
    matches = hmac.compare_digest(expected, _hash(secret))
    if known is None or not matches or known.caller is None:
        return None
    _note_use(ctx, prefix, known)
    return known.caller
