"""The pooled HTTP client: which failures mean "nothing was sent", and that only reads are retried."""

from __future__ import annotations

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

from app.providers import errors as kinds
from app.providers.base import FAILED, UNKNOWN
from app.providers.http import HttpClient, never_connected, timeout_from, transport_error

URL = "https://provider.test/resource"


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_connect_failures_never_reached_the_provider() -> None:
    refused = requests.ConnectionError(MaxRetryError(None, URL, NewConnectionError(None, "refused")))
    unresolved = requests.ConnectionError(MaxRetryError(None, URL, NameResolutionError("provider.test", None, "x")))
    assert never_connected(requests.ConnectTimeout())
    assert never_connected(refused) and never_connected(unresolved)
    assert not never_connected(requests.ReadTimeout())
    assert not never_connected(requests.ConnectionError("Connection aborted"))


def test_transport_errors_say_whether_anything_was_sent() -> None:
    assert transport_error("X", requests.ConnectTimeout()).outcome == FAILED
    unknown = transport_error("X", requests.ReadTimeout())
    assert unknown.outcome == UNKNOWN and unknown.kind == kinds.TRANSPORT
    assert "cannot tell" in unknown.explanation and "Do not send it again" in unknown.action


def test_a_post_is_made_once_whatever_happens(http) -> None:
    http.post(URL, status=503, body="busy")
    reply = HttpClient("X", sleep=lambda _: None).post_once(URL, json={"a": 1})
    assert reply.status == 503 and reply.body is None
    assert len(http.calls) == 1


def test_reads_retry_transient_failures_then_give_up(http) -> None:
    naps: list[float] = []
    for _ in range(3):
        http.get(URL, body=requests.ConnectionError("reset"))
    with pytest.raises(kinds.TypedProviderError) as caught:
        HttpClient("X", sleep=naps.append).get(URL)
    assert caught.value.code == "provider_unreachable" and caught.value.retryable
    assert len(http.calls) == 3 and naps == [0.5, 1.0]


def test_reads_do_not_retry_a_client_error(http) -> None:
    http.get(URL, status=404, json={"error": "no"})
    reply = HttpClient("X", sleep=lambda _: None).get(URL)
    assert reply.status == 404 and len(http.calls) == 1


def test_reads_return_the_last_answer_when_the_server_stays_busy(http) -> None:
    for _ in range(3):
        http.get(URL, status=429, json={"slow": "down"})
    reply = HttpClient("X", sleep=lambda _: None).get(URL)
    assert reply.status == 429 and len(http.calls) == 3


@pytest.mark.parametrize("given, expected", [((1, 2), (1.0, 2.0)), (5, (5.0, 5.0)), (None, (3.05, 10.0))])
def test_timeout_from_configuration(given, expected) -> None:
    config = type("C", (), {} if given is None else {"provider_timeout": given})()
    assert timeout_from(config) == expected
