"""The one HTTP client style Herald uses to call other services' APIs (messaging providers in
``providers/``, Intercom and HubSpot in ``hosts/``): a pooled ``requests.Session`` per API, connect
and read timeouts on every call, a POST made exactly once, and only reads (GET) retried.

It lives outside both layers so each may import it without importing the other; it imports
nothing of Herald's. What a failure means to the caller (a send's unknown outcome, a host that did
not answer) is the caller's to say: the hooks ``post_failed`` and ``read_failed`` build the
exception raised.

Why POSTs are never retried: once the request may have reached the other side, a second POST can
put a second message on a customer's phone or a second note on a conversation.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, NewConnectionError
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (3.05, 10.0)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status code, the JSON body when there is one, the raw text."""

    status: int
    body: Any
    text: str
    reason: str = ""  # the status line's phrase ("Service Unavailable"), for messages with nothing better

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json_object(self) -> dict[str, Any]:
        """The body when it is a JSON object, else an empty one (an error page, an empty answer)."""
        return self.body if isinstance(self.body, dict) else {}


def _reply(response: requests.Response) -> Reply:
    try:
        body = response.json()
    except ValueError:
        body = None
    return Reply(response.status_code, body, response.text[:2000], str(response.reason or ""))


def never_connected(error: BaseException) -> bool:
    """True when the connection was never opened, so nothing reached the other side."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(error, requests.exceptions.ConnectionError):
        cause = error.args[0] if error.args else None
        if isinstance(cause, MaxRetryError):
            cause = cause.reason
        return isinstance(cause, NewConnectionError)
    return False


class TransportError(Exception):
    """A call that got no HTTP answer: ``error`` is what ``requests`` raised, ``attempts`` how many tries."""

    def __init__(self, label: str, error: BaseException, attempts: int = 1) -> None:
        super().__init__(f"{label} could not be reached ({type(error).__name__})")
        self.label = label
        self.error = error
        self.attempts = attempts


class HttpClient:
    """A ``requests.Session`` with a connection pool, timeouts, one-shot POSTs and retried GETs."""

    def __init__(self, label: str, timeout: tuple[float, float] = DEFAULT_TIMEOUT, *,
                 pool_size: int = 10, get_attempts: int = 3, backoff_seconds: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.label = label
        self.timeout = (float(timeout[0]), float(timeout[1]))
        self.get_attempts = max(1, get_attempts)
        self.backoff_seconds = backoff_seconds
        self._sleep = sleep
        self.session = requests.Session()
        # No retries inside urllib3: which calls may be repeated is decided here, per method.
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size,
                              max_retries=Retry(total=0, connect=0, read=0, redirect=0, status=0, other=0,
                                                raise_on_status=False))
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def post_failed(self, error: requests.RequestException) -> Exception:
        """The exception a POST that got no answer raises (callers give it their own meaning)."""
        return TransportError(self.label, error)

    def read_failed(self, error: BaseException, attempts: int) -> Exception:
        """The exception a GET that got no answer after every attempt raises."""
        return TransportError(self.label, error, attempts)

    def post_once(self, url: str, *, json: Any = None, data: Any = None,
                  headers: Mapping[str, str] | None = None, auth: Any = None) -> Reply:
        """POST once; a transport failure raises :meth:`post_failed`'s exception."""
        try:
            response = self.session.post(url, json=json, data=data, headers=dict(headers or {}), auth=auth,
                                         timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as error:
            log.warning("%s POST failed in transport: %s", self.label, type(error).__name__)
            raise self.post_failed(error) from None
        return _reply(response)

    def get(self, url: str, *, params: Mapping[str, Any] | None = None,
            headers: Mapping[str, str] | None = None, auth: Any = None) -> Reply:
        """GET with retries on transport errors, 429 and 5xx; a read never duplicates anything."""
        last_error: BaseException | None = None
        reply: Reply | None = None
        for attempt in range(1, self.get_attempts + 1):
            try:
                reply = _reply(self.session.get(url, params=params, headers=dict(headers or {}), auth=auth,
                                                timeout=self.timeout))
                last_error = None
            except requests.RequestException as error:
                last_error, reply = error, None
            if reply is not None and reply.status not in RETRY_STATUSES:
                return reply
            if attempt < self.get_attempts:
                self._sleep(self.backoff_seconds * (2 ** (attempt - 1)))
        if reply is not None:
            return reply
        assert last_error is not None
        log.warning("%s read failed after %s attempts: %s", self.label, self.get_attempts,
                    type(last_error).__name__)
        raise self.read_failed(last_error, self.get_attempts) from None

    def close(self) -> None:
        self.session.close()
