"""The host clients of a running Herald: one :class:`app.hosts.registry.HostClients` per store and
configuration, so every request and task shares the same connection pools."""

from __future__ import annotations

import threading
import weakref
from typing import Any

from ..hosts.registry import HostClients
from .context import Context

_lock = threading.Lock()
_clients: "weakref.WeakKeyDictionary[Any, HostClients]" = weakref.WeakKeyDictionary()


def host_clients(ctx: Context) -> HostClients:
    """The clients for ``ctx``; a configuration replaced on the context gets clients of its own."""
    with _lock:
        clients = _clients.get(ctx.store)
        if clients is None or clients.config is not ctx.config:
            clients = _clients[ctx.store] = HostClients(ctx.config)
        return clients
