"""The host clients at HTTP level (HubSpot and Intercom faked with ``responses``) and the demo host."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import requests
import responses

from app.hosts.demo import DEMO_HUBSPOT_PORTAL, DemoHubSpot
from app.hosts.hubspot import HTTP_TIMEOUT, HubSpotClient, HubSpotError
from app.hosts.intercom import IntercomClient, IntercomError
from app.hosts.registry import HostClients
from app.httpclient import HttpClient

HUBSPOT = "https://hubspot.test"
INTERCOM = "https://intercom.test"
CONTACT_URL = f"{HUBSPOT}/crm/v3/objects/contacts/101"
# reference/hubspot.md §4.5: GET /crm/v3/objects/contacts/{id}
CONTACT = {"id": "101", "properties": {"firstname": "Asha", "lastname": "Patel", "email": "asha@example.com",
                                       "mobilephone": "+1 201 555 0123"}}


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def hubspot(naps: list[float]) -> HubSpotClient:
    return HubSpotClient(HUBSPOT, "client", "secret", HttpClient("HubSpot", HTTP_TIMEOUT, get_attempts=2,
                                                                 sleep=naps.append))


def tokens(given: list[bool]):
    def token(force_refresh: bool) -> str:
        given.append(force_refresh)
        return "fresh" if force_refresh else "stale"
    return token


def test_a_contact_read_is_retried_once_when_hubspot_is_busy(api) -> None:
    naps: list[float] = []
    api.get(CONTACT_URL, status=503, json={"status": "error", "message": "busy"})
    api.get(CONTACT_URL, json=CONTACT)
    contact = hubspot(naps).contact(tokens([]), "101", "US")
    assert (contact.name, contact.phone) == ("Asha Patel", "+12015550123")
    assert len(api.calls) == 2 and len(naps) == 1


def test_an_expired_token_is_renewed_once(api) -> None:
    given: list[bool] = []
    api.get(CONTACT_URL, status=401, json={"status": "error", "category": "EXPIRED_AUTHENTICATION"})
    api.get(CONTACT_URL, json=CONTACT, match=[responses.matchers.header_matcher({"Authorization": "Bearer fresh"})])
    hubspot([]).contact(tokens(given), "101", None)
    assert given == [False, True]


def test_a_timeline_write_is_posted_once_whatever_happens(api) -> None:
    api.post(f"{HUBSPOT}/crm/v3/objects/communications", status=503, json={"message": "busy"})
    with pytest.raises(HubSpotError) as caught:
        hubspot([]).create_object(tokens([]), "communications", {"properties": {}}, "msg_1")
    assert "HTTP 503 when recording msg_1 as communication: busy" in caught.value.message
    assert len(api.calls) == 1


def test_hubspot_not_answering_is_a_504_in_words(api) -> None:
    api.get(CONTACT_URL, body=requests.ConnectionError("refused"))
    with pytest.raises(HubSpotError) as caught:
        hubspot([]).contact(tokens([]), "101", None)
    assert caught.value.status == 504 and "did not answer" in caught.value.message


def test_the_demo_host_answers_from_its_directory_and_asks_for_no_token() -> None:
    def no_token(force_refresh: bool) -> str:
        raise AssertionError("the demo host asked for a token")

    demo = DemoHubSpot()
    assert demo.contact(no_token, "101", None).name == "Asha Patel"
    with pytest.raises(HubSpotError) as caught:
        demo.contact(no_token, "999", None)
    assert caught.value.status == 404 and "101, 102" in caught.value.message
    assert not demo.records_timeline and not demo.needs_install


def test_only_the_embedded_default_has_the_demo_host_play_its_portal() -> None:
    config = SimpleNamespace(demo=True, hubspot_api_base=HUBSPOT, hubspot_client_id="c", hubspot_client_secret="s",
                             intercom_api_base=INTERCOM, intercom_client_id="c", intercom_client_secret="s")
    clients = HostClients(config)
    assert clients.hubspot_for(DEMO_HUBSPOT_PORTAL) is clients.demo_hubspot
    assert clients.hubspot_for("123") is clients.hubspot
    config.demo = False
    assert HostClients(config).hubspot_for(DEMO_HUBSPOT_PORTAL).records_timeline


def test_intercom_reads_are_retried_and_notes_posted_once(api) -> None:
    naps: list[float] = []
    client = IntercomClient(INTERCOM, "c", "s", HttpClient("Intercom", get_attempts=2, sleep=naps.append))
    api.get(f"{INTERCOM}/contacts/c1", status=502)
    api.get(f"{INTERCOM}/contacts/c1", json={"type": "contact", "id": "c1", "phone": "+12015550124"})
    assert client.contact_phone(INTERCOM, "tok", "c1") == "+12015550124" and naps == [0.5]
    api.post(f"{INTERCOM}/conversations/9/reply", status=503,
             json={"type": "error.list", "errors": [{"code": "service_unavailable", "message": "Try later"}]})
    with pytest.raises(IntercomError) as caught:
        client.note_conversation(INTERCOM, "tok", "9", "42", "<p>hi</p>")
    assert str(caught.value) == ("Intercom answered 503 to the conversation note "
                                 "(service_unavailable: Try later)")
    assert [c.request.method for c in api.calls] == ["GET", "GET", "POST"]
