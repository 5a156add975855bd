"""One pooled HTTP session per provider: every call has connect and read timeouts, a send is POSTed
exactly once, and only reads (GET) are retried.

Why POSTs are never retried: once the request may have reached the provider, a second POST can put
a second message on the customer's phone. A connection that was never opened sent nothing, so that
failure is reported as "failed, try again"; a timeout or a dropped connection after that point
leaves the outcome unknown, and the status webhook settles it later.
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

from .base import UNKNOWN, Provider, ProviderError
from .errors import PROVIDER_UNAVAILABLE, TRANSPORT, TypedProviderError, lookup

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (3.05, 10.0)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Reply:
    """A provider's HTTP answer: status code, the JSON body when there is one, the raw text."""

    status: int
    body: Any
    text: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def _reply(response: requests.Response) -> Reply:
    try:
        body = response.json()
    except ValueError:
        body = None
    return Reply(response.status_code, body, response.text[:2000])


def never_connected(error: BaseException) -> bool:
    """True when the connection was never opened, so nothing reached the provider."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(error, requests.exceptions.ConnectionError):
        cause = error.args[0] if error.args else None
        if isinstance(cause, MaxRetryError):
            cause = cause.reason
        return isinstance(cause, NewConnectionError)
    return False


def transport_error(provider_label: str, error: BaseException) -> TypedProviderError:
    """The typed error for a request that failed on the way: failed if nothing was sent, else unknown."""
    if never_connected(error):
        return TypedProviderError(
            "provider_unreachable", f"Herald could not connect to {provider_label}; nothing was sent.",
            kind=TRANSPORT, action="Try again in a moment.", retryable=True,
            provider_message=type(error).__name__)
    if isinstance(error, requests.exceptions.Timeout):
        explanation = f"{provider_label} did not answer in time, so Herald cannot tell whether the message went."
    else:
        explanation = (f"The connection to {provider_label} broke during the send, so Herald cannot tell "
                       "whether the message went.")
    return TypedProviderError(
        "outcome_unknown", explanation, kind=TRANSPORT, outcome=UNKNOWN,
        action="Do not send it again yet: its delivery status will settle it.",
        provider_message=type(error).__name__)


def server_error_unknown(provider_label: str, status: int) -> TypedProviderError:
    """A 5xx without the provider's own error body: the send may or may not have gone through."""
    return TypedProviderError(
        f"http_{status}", f"{provider_label} answered with a server error (HTTP {status}), so Herald cannot "
                          "tell whether the message went.", kind=PROVIDER_UNAVAILABLE, outcome=UNKNOWN,
        action="Do not send it again yet: its delivery status will settle it.", provider_message=f"HTTP {status}")


def unreadable_answer(provider_label: str, status: int) -> TypedProviderError:
    """A 2xx whose body is empty or not what the API documents: the provider took the request, but
    Herald cannot read whether it accepted the message, so the outcome is unknown (never "failed",
    which would invite a resend, and never a server error, which it was not)."""
    return TypedProviderError(
        "answer_unreadable", f"{provider_label}'s answer could not be read (HTTP {status} without the message "
                             "id it should carry), so Herald cannot tell whether the message went.",
        kind=PROVIDER_UNAVAILABLE, outcome=UNKNOWN,
        action="Do not send it again yet: its delivery status will settle it.", provider_message=f"HTTP {status}")


class HttpClient:
    """A ``requests.Session`` with a connection pool, timeouts, one-shot POSTs and retried GETs."""

    def __init__(self, provider_label: str, timeout: tuple[float, float] = DEFAULT_TIMEOUT, *,
                 pool_size: int = 10, get_attempts: int = 3, backoff_seconds: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.provider_label = provider_label
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

    def post_once(self, url: str, *, json: Any = None, data: Any = None,
                  headers: Mapping[str, str] | None = None, auth: Any = None) -> Reply:
        """POST one send; transport failures become typed errors (failed or unknown outcome)."""
        try:
            response = self.session.post(url, json=json, data=data, headers=dict(headers or {}), auth=auth,
                                         timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as error:
            log.warning("%s send failed in transport: %s", self.provider_label, type(error).__name__)
            raise transport_error(self.provider_label, error) from None
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
        log.warning("%s read failed after %s attempts: %s", self.provider_label, self.get_attempts,
                    type(last_error).__name__)
        raise TypedProviderError(
            "provider_unreachable", f"Herald could not reach {self.provider_label} "
                                    f"after {self.get_attempts} attempts.",
            kind=TRANSPORT, action="Try again in a few minutes.", retryable=True,
            provider_message=type(last_error).__name__) from None

    def close(self) -> None:
        self.session.close()


def timeout_from(config: Any) -> tuple[float, float]:
    """``config.provider_timeout`` as a (connect, read) pair, whatever shape it was given in."""
    value = getattr(config, "provider_timeout", DEFAULT_TIMEOUT)
    if isinstance(value, (int, float)):
        return float(value), float(value)
    connect, read = value
    return float(connect), float(read)


class HttpProvider(Provider):
    """An adapter reached over HTTP: its API origin from configuration, one pooled client, one error table."""

    label = ""
    default_base = ""
    base_setting = ""  # the configuration field that names this provider's API origin

    def __init__(self, api_base: str | None = None, http: HttpClient | None = None) -> None:
        self.api_base = (api_base or self.default_base).rstrip("/")
        self.http = http or HttpClient(self.label)

    @classmethod
    def from_config(cls, config: Any) -> "HttpProvider":
        return cls(getattr(config, cls.base_setting, "") or cls.default_base, HttpClient(cls.label, timeout_from(config)))

    def map_error(self, code: str | int, provider_message: str = "") -> ProviderError:
        return lookup(self.error_table, code, provider_message, self.label)
