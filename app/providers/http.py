"""The providers' HTTP client: :mod:`app.httpclient`'s pooled client (timeouts, a send POSTed
exactly once, only reads retried) with its failures given the providers' meaning.

A connection that was never opened sent nothing, so that failure is reported as "failed, try
again"; a timeout or a dropped connection after that point leaves the outcome unknown, and the
status webhook settles it later.
"""

from __future__ import annotations

import logging
from typing import Any

import requests

from ..httpclient import DEFAULT_TIMEOUT, RETRY_STATUSES, Reply, never_connected
from ..httpclient import HttpClient as PooledClient
from .base import UNKNOWN, Provider, ProviderError
from .errors import PROVIDER_UNAVAILABLE, TRANSPORT, TypedProviderError, lookup

__all__ = ["DEFAULT_TIMEOUT", "RETRY_STATUSES", "HttpClient", "HttpProvider", "Reply", "never_connected",
           "server_error_unknown", "timeout_from", "transport_error", "unreadable_answer"]

log = logging.getLogger(__name__)


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


class HttpClient(PooledClient):
    """The pooled client whose transport failures are typed provider errors (failed or unknown)."""

    @property
    def provider_label(self) -> str:
        return self.label

    def post_failed(self, error: requests.RequestException) -> Exception:
        return transport_error(self.label, error)

    def read_failed(self, error: BaseException, attempts: int) -> Exception:
        return TypedProviderError(
            "provider_unreachable", f"Herald could not reach {self.label} after {attempts} attempts.",
            kind=TRANSPORT, action="Try again in a few minutes.", retryable=True,
            provider_message=type(error).__name__)


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
