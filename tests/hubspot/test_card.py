"""GET /hubspot/card: the card data for contacts with and without an open window, the contact from
HubSpot's CRM (faked with ``responses``) or the demo directory, set-up states, compose links and the
classic ``results`` format."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import requests
import responses
from sqlalchemy import select, text

from app.services import hubspot as hs
from app.services import installs
from app.services.send import SendRequest, send
from app.services.workspaces import create_workspace
from app.store.models import Installation

from .common import (ACME_ACCESS, ACME_PORTAL, ACME_REFRESH, API, BASE, SECRET, card, expect_contact, setup_acme,
                      signed_get, v2_signature)

CARD_KEYS = {"contact", "setup", "channels", "messages"}
MESSAGE_KEYS = {"id", "channel", "channel_label", "text", "status", "status_label", "created_at"}


def channel(data: dict, name: str) -> dict:
    return next(line for line in data["channels"] if line["channel"] == name)


def test_open_window_contact(web, clock) -> None:
    data = card(web, clock, contact="101").get_json()
    assert set(data) == CARD_KEYS
    assert data["contact"] == {"id": "101", "name": "Asha Patel", "phone": "+12015550123"}
    assert data["setup"] == {"needed": False, "message": ""}
    assert channel(data, "whatsapp") == {
        "channel": "whatsapp", "label": "WhatsApp", "state": "free_text",
        "summary": "Free text until Nov 23, 2026 at 1:00 PM UTC", "closes_at": "2026-11-23T13:00:00+00:00"}
    assert channel(data, "viber")["state"] == "free_text"
    assert channel(data, "sms") == {"channel": "sms", "label": "SMS", "state": "free_text",
                                    "summary": "Free text", "closes_at": None}
    assert data["messages"] == []


def test_contact_without_an_open_window(web, clock) -> None:
    data = card(web, clock, contact="104").get_json()
    assert data["contact"]["name"] == "Dmitri Ivanov"
    assert channel(data, "whatsapp") == {"channel": "whatsapp", "label": "WhatsApp", "state": "template_only",
                                         "summary": "Template only", "closes_at": None}
    assert channel(data, "viber")["state"] == "template_only"


def test_window_that_has_closed_since(web, clock) -> None:
    clock.advance(hours=22)  # the demo customer wrote 2 h before the start: the window ends now
    data = card(web, clock, contact="101").get_json()
    assert channel(data, "whatsapp")["state"] == "template_only"


def test_opted_out_and_no_phone(web, clock) -> None:
    assert channel(card(web, clock, contact="102").get_json(), "sms")["state"] == "opted_out"
    data = card(web, clock, contact="105").get_json()
    assert data["contact"]["phone"] is None
    assert {line["state"] for line in data["channels"]} == {"unavailable"}


def test_messages_newest_first_in_the_card_shape(ctx, client, clock) -> None:
    sent = []
    for text_ in ("First update", "Second update", "Third update"):
        result = send(ctx, SendRequest(workspace="demo", channel="sms", to="+12015550123", text=text_,
                                       surface="hubspot", contact_ref="101"))
        sent.append(result.message["id"])
        clock.advance(minutes=1)
    messages = card(client, clock, contact="101").get_json()["messages"]
    assert [m["id"] for m in messages] == sent[::-1]
    assert set(messages[0]) == MESSAGE_KEYS
    assert messages[0]["text"] == "Third update"
    assert messages[0]["status_label"] == "Accepted"


def test_unknown_portal_needs_setup(web, clock) -> None:
    response = card(web, clock, portal="555")
    assert response.status_code == 200
    data = response.get_json()
    assert data["setup"]["needed"] is True
    assert f"{BASE}/hubspot/oauth/start" in data["setup"]["message"]
    assert data["channels"] == [] and data["messages"] == []


def test_linked_but_not_installed_portal_needs_setup(sctx, web, clock) -> None:
    create_workspace(sctx, "globex", hubspot_portal_id="777")
    data = card(web, clock, portal="777").get_json()
    assert data["setup"]["needed"] is True
    assert "has not been approved yet" in data["setup"]["message"]


def test_installed_portal_without_senders_needs_setup(sctx, web, clock) -> None:
    create_workspace(sctx, "initech", hubspot_portal_id="888")
    installs.save_hubspot_tokens(sctx, "888", hs.TokenSet("a", "r", 1800, "888", None, ""))
    data = card(web, clock, portal="888").get_json()
    assert data["setup"]["needed"] is True
    assert "flask --app app sender add initech" in data["setup"]["message"]


def test_bad_ids_are_refused(web, clock) -> None:
    response = card(web, clock, contact="../../owners")
    assert response.status_code == 400
    assert "contact" in response.get_json()["error"]


class TestContactFromHubSpot:
    def test_contact_read_with_the_portals_token(self, acme, client, clock, hubspot_api) -> None:
        call = expect_contact(hubspot_api, "201", mobilephone="(201) 555-0177", phone="+44 20 7946 0000")
        data = card(client, clock, portal=ACME_PORTAL, contact="201").get_json()
        assert data["contact"] == {"id": "201", "name": "Grace Hopper", "phone": "+12015550177"}
        request = call.calls[0].request
        assert request.headers["Authorization"] == f"Bearer {ACME_ACCESS}"
        properties = parse_qs(urlsplit(request.url).query)["properties"][0].split(",")
        assert {"firstname", "lastname", "email", "phone", "mobilephone"} <= set(properties)
        assert {line["state"] for line in data["channels"]} == {"template_only", "free_text"}

    def test_phone_when_there_is_no_mobile(self, acme, client, clock, hubspot_api) -> None:
        expect_contact(hubspot_api, "202", mobilephone=None, phone="+44 20 7946 0018")
        assert card(client, clock, portal=ACME_PORTAL, contact="202").get_json()["contact"]["phone"] == \
            "+442079460018"

    def test_contact_without_any_number(self, acme, client, clock, hubspot_api) -> None:
        expect_contact(hubspot_api, "203", mobilephone=None, phone=None, firstname="", lastname="",
                       email="nobody@example.com")
        data = card(client, clock, portal=ACME_PORTAL, contact="203").get_json()
        assert data["contact"] == {"id": "203", "name": "nobody@example.com", "phone": None}

    def test_unknown_contact(self, acme, client, clock, hubspot_api) -> None:
        expect_contact(hubspot_api, "999", status=404)
        response = card(client, clock, portal=ACME_PORTAL, contact="999")
        assert response.status_code == 404
        assert response.get_json() == {"error": "HubSpot has no contact 999 in this account."}

    def test_hubspot_unreachable(self, acme, client, clock, hubspot_api) -> None:
        hubspot_api.add(responses.GET, f"{API}/crm/v3/objects/contacts/204",
                        body=requests.ConnectionError("connection refused"))
        response = card(client, clock, portal=ACME_PORTAL, contact="204")
        assert response.status_code == 504
        assert "did not answer" in response.get_json()["error"]


class TestTokenRefresh:
    def refresh_answer(self, hubspot_api, access: str = "acme-access-token-2"):
        return hubspot_api.add(responses.POST, f"{API}/oauth/2026-03/token",
                               json={"token_type": "bearer", "refresh_token": ACME_REFRESH,
                                     "access_token": access, "expires_in": 1800})

    def test_no_refresh_while_the_token_is_fresh(self, acme, client, clock, hubspot_api) -> None:
        refresh = self.refresh_answer(hubspot_api)
        contact = expect_contact(hubspot_api, "201")
        clock.advance(minutes=24)
        card(client, clock, portal=ACME_PORTAL, contact="201")
        assert refresh.call_count == 0
        assert contact.calls[0].request.headers["Authorization"] == f"Bearer {ACME_ACCESS}"

    def test_refreshed_before_the_30_minute_expiry(self, acme, client, clock, hubspot_api) -> None:
        refresh = self.refresh_answer(hubspot_api)
        contact = expect_contact(hubspot_api, "201")
        clock.advance(minutes=26)
        assert card(client, clock, portal=ACME_PORTAL, contact="201").status_code == 200
        assert refresh.call_count == 1
        form = parse_qs(refresh.calls[0].request.body)
        assert form["grant_type"] == ["refresh_token"] and form["refresh_token"] == [ACME_REFRESH]
        assert form["client_id"] == ["demo-hubspot-client"] and form["client_secret"] == ["demo-hubspot-secret"]
        assert contact.calls[0].request.headers["Authorization"] == "Bearer acme-access-token-2"
        with acme.store.session() as session:
            row = session.scalar(select(Installation).where(Installation.external_id == ACME_PORTAL))
            assert row.expires_at == clock() + timedelta(minutes=30)
            assert acme.store.unseal(row.access_token_sealed) == "acme-access-token-2"
        with acme.store.engine.connect() as connection:  # sealed at rest: no token in the clear
            raw = json.dumps([list(r) for r in connection.execute(text("SELECT * FROM installations"))],
                             default=str)
        assert "acme-access-token-2" not in raw and ACME_REFRESH not in raw

    def test_an_answer_of_401_renews_once(self, acme, client, clock, hubspot_api) -> None:
        refresh = self.refresh_answer(hubspot_api)
        hubspot_api.add(responses.GET, f"{API}/crm/v3/objects/contacts/201", status=401,
                        json={"status": "error", "category": "EXPIRED_AUTHENTICATION"})
        expect_contact(hubspot_api, "201")
        assert card(client, clock, portal=ACME_PORTAL, contact="201").status_code == 200
        assert refresh.call_count == 1

    def test_revoked_access_asks_for_a_reinstall(self, acme, client, clock, hubspot_api) -> None:
        hubspot_api.add(responses.POST, f"{API}/oauth/2026-03/token", status=400,
                        json={"error": "invalid_grant", "error_description": "refresh token is invalid",
                              "status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh token"})
        clock.advance(hours=1)
        data = card(client, clock, portal=ACME_PORTAL, contact="201").get_json()
        assert data["setup"]["needed"] is True
        assert "reinstalls it at https://herald.test/hubspot/oauth/start" in data["setup"]["message"]


class TestComposeLink:
    def test_link_is_bound_to_portal_contact_and_user(self, sctx, web, clock) -> None:
        response = signed_get(web, "/hubspot/card?portalId=900001&contactId=104&action=compose_link"
                                   "&userId=77&userEmail=agent%40acme.example", clock,
                              signed_uri=BASE + "/hubspot/card?portalId=900001&contactId=104"
                                                "&action=compose_link&userId=77&userEmail=agent@acme.example")
        url = response.get_json()["compose_url"]
        assert url.startswith(f"{BASE}/hubspot/compose?token=")
        grant = hs.read_compose_token(sctx, parse_qs(urlsplit(url).query)["token"][0])
        assert (grant.portal_id, grant.contact_id, grant.user_id, grant.user_email) == \
            ("900001", "104", "77", "agent@acme.example")
        assert grant.expires_at == clock() + timedelta(minutes=15)

    def test_no_link_for_a_portal_that_is_not_set_up(self, web, clock) -> None:
        response = card(web, clock, portal="555", extra="&action=compose_link")
        assert response.status_code == 409
        assert "not connected" in response.get_json()["error"]

    def test_unknown_action(self, web, clock) -> None:
        response = card(web, clock, extra="&action=delete_everything")
        assert response.status_code == 400
        assert set(response.get_json()) == {"error"}


class TestClassicCard:
    PATH = ("/hubspot/card?userId=12345&userEmail=loggedinuser%40hubspot.com&associatedObjectId={contact}"
            "&associatedObjectType=CONTACT&portalId=900001&firstname=Asha")

    def fetch(self, client, contact: str):
        path = self.PATH.format(contact=contact)
        return client.get(path, headers={"X-HubSpot-Signature": v2_signature("GET", BASE + path, b""),
                                         "X-HubSpot-Signature-Version": "v2"})

    def test_results_with_the_compose_page_as_primary_iframe(self, ctx, client, clock) -> None:
        send(ctx, SendRequest(workspace="demo", channel="sms", to="+12015550123", text="Your parcel is out.",
                              contact_ref="101"))
        data = self.fetch(client, "101").get_json()
        channels, message = data["results"]
        assert channels["title"] == "What can be sent now"
        assert {"label": "WhatsApp", "dataType": "STATUS", "value": "Free text until Nov 23, 2026 at 1:00 PM UTC",
                "optionType": "SUCCESS"} in channels["properties"]
        assert isinstance(message["objectId"], int) and message["link"] is None
        assert message["title"] == "SMS message"
        assert {"label": "Status", "dataType": "STATUS", "value": "Accepted", "optionType": "INFO"} in \
            message["properties"]
        assert {"label": "Sent", "dataType": "DATETIME", "value": str(int(clock().timestamp() * 1000))} in \
            message["properties"]
        action = data["primaryAction"]
        assert (action["type"], action["width"], action["height"], action["label"]) == \
            ("IFRAME", 640, 720, "Send message")
        token = parse_qs(urlsplit(action["uri"]).query)["token"][0]
        grant = hs.read_compose_token(ctx, token)
        assert (grant.contact_id, grant.user_email) == ("101", "loggedinuser@hubspot.com")

    def test_no_send_action_without_a_phone(self, web) -> None:
        assert "primaryAction" not in self.fetch(web, "105").get_json()

    def test_other_record_types_are_refused(self, web) -> None:
        path = "/hubspot/card?associatedObjectId=5&associatedObjectType=DEAL&portalId=900001"
        response = web.get(path, headers={"X-HubSpot-Signature": v2_signature("GET", BASE + path, b""),
                                          "X-HubSpot-Signature-Version": "v2"})
        assert response.status_code == 400


def test_demo_directory_only_in_the_embedded_default(tmp_path, clock, sqlite_template) -> None:
    """Without HERALD_DEMO the demo portal is an ordinary portal: not installed, so not served offline."""
    from tests.conftest import make_app

    app = make_app("sqlite", tmp_path, clock, sqlite_template, demo=False, hubspot_client_secret=SECRET)
    try:
        client = app.test_client()
        data = card(client, clock, contact="101").get_json()
        assert data["setup"]["needed"] is True
        assert client.get("/playground/hubspot").status_code == 404
    finally:
        app.extensions["herald"].store.dispose()


def test_second_portal_runs_beside_the_demo(sctx, web, clock, hubspot_api) -> None:
    setup_acme(sctx)
    expect_contact(hubspot_api, "201")
    assert card(web, clock, portal=ACME_PORTAL, contact="201").get_json()["contact"]["name"] == "Grace Hopper"
    assert card(web, clock, contact="101").get_json()["contact"]["name"] == "Asha Patel"
