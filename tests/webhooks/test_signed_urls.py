"""Twilio and HubSpot sign the URL they called, and Herald takes that URL the same way for both: the
public origin plus the raw path and query as sent. ``%74`` is not ``t``, ``//`` is not ``/`` and a
trailing slash is not nothing: a signature over another spelling of the URL does not verify."""

from __future__ import annotations

from urllib.parse import unquote, urlencode

import pytest

from tests.hubspot.common import DEMO_PORTAL, millis, v2_signature, v3_signature
from tests.webhooks.conftest import PUBLIC_BASE, inbound_count, twilio_inbound, twilio_signature

QUERY = f"portalId={DEMO_PORTAL}&contactId=101"


@pytest.fixture
def backend() -> str:
    """URLs are checked before the store is touched: one database is enough."""
    return "sqlite"


def raw(path: str) -> dict[str, str]:
    """The environ a server builds for this request line: PATH_INFO decoded, the raw URI as sent (the
    test client cannot be given ``//x`` itself: it would read it as a host)."""
    return {"PATH_INFO": unquote(path.split("?")[0]), "REQUEST_URI": path, "RAW_URI": path}


def twilio(client, sent_path: str, signed_path: str, sid: str = "SM0001"):
    fields = twilio_inbound("Hello", sid)
    return client.post("/placeholder", data=urlencode(fields), environ_overrides=raw(sent_path),
                       headers={"Content-Type": "application/x-www-form-urlencoded",
                                "X-Twilio-Signature": twilio_signature(PUBLIC_BASE + signed_path, fields)})


def hubspot(client, clock, sent_path: str, signed_path: str, version: str = "v3"):
    path, _, query = sent_path.partition("?")
    environ = {**raw(sent_path), "QUERY_STRING": query}
    if version == "v3":
        stamp = millis(clock)
        headers = {"X-HubSpot-Signature-v3": v3_signature("GET", PUBLIC_BASE + signed_path, b"", stamp),
                   "X-HubSpot-Request-Timestamp": stamp}
    else:
        headers = {"X-HubSpot-Signature": v2_signature("GET", PUBLIC_BASE + signed_path, b""),
                   "X-HubSpot-Signature-Version": "v2"}
    return client.get("/placeholder", environ_overrides=environ, headers=headers)


# --------------------------------------------------------------------------- Twilio


@pytest.mark.parametrize("sent", ["/webhooks/%74wilio", "//webhooks/twilio", "/webhooks/twili%6F"])
def test_twilio_verifies_the_url_as_sent(client, ctx, acme, sent):
    assert twilio(client, sent, sent).status_code == 200
    assert inbound_count(ctx) == 1


@pytest.mark.parametrize("sent, signed", [
    ("/webhooks/%74wilio", "/webhooks/twilio"),
    ("/webhooks/twilio", "/webhooks/%74wilio"),
    ("//webhooks/twilio", "/webhooks/twilio"),
    ("/webhooks/twilio", "//webhooks/twilio"),
    ("/webhooks/twilio", "/webhooks/twilio/"),
])
def test_twilio_refuses_another_spelling_of_the_url(client, ctx, acme, sent, signed):
    assert twilio(client, sent, signed).status_code == 403
    assert inbound_count(ctx) == 0


def test_twilio_with_a_trailing_slash_reaches_nothing(client, ctx, acme):
    assert twilio(client, "/webhooks/twilio/", "/webhooks/twilio/").status_code == 404
    assert inbound_count(ctx) == 0


# --------------------------------------------------------------------------- HubSpot


@pytest.mark.parametrize("version", ["v3", "v2"])
@pytest.mark.parametrize("sent", [f"/hubspot/%63ard?{QUERY}", f"//hubspot/card?{QUERY}"])
def test_hubspot_verifies_the_url_as_sent(client, clock, version, sent):
    response = hubspot(client, clock, sent, sent, version)
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("version", ["v3", "v2"])
@pytest.mark.parametrize("sent, signed", [
    (f"/hubspot/%63ard?{QUERY}", f"/hubspot/card?{QUERY}"),
    (f"/hubspot/card?{QUERY}", f"/hubspot/%63ard?{QUERY}"),
    (f"//hubspot/card?{QUERY}", f"/hubspot/card?{QUERY}"),
    (f"/hubspot/card?{QUERY}", f"//hubspot/card?{QUERY}"),
    (f"/hubspot/card?{QUERY}", f"/hubspot/card/?{QUERY}"),
])
def test_hubspot_refuses_another_spelling_of_the_url(client, clock, version, sent, signed):
    response = hubspot(client, clock, sent, signed, version)
    assert response.status_code == 401 and "signature does not match" in response.get_json()["error"]


def test_hubspot_with_a_trailing_slash_reaches_nothing(client, clock):
    sent = f"/hubspot/card/?{QUERY}"
    assert hubspot(client, clock, sent, sent).status_code == 404
