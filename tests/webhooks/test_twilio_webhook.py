"""POST /webhooks/twilio through the Flask test client: X-Twilio-Signature over the URL rebuilt
from PUBLIC_BASE_URL and the form, the bodySHA256 variant, opt-out keywords and statuses."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.webhooks.conftest import (CUSTOMER, PUBLIC_BASE, inbound_count, post_twilio, state, twilio_inbound,
                                     twilio_signature, twilio_status)


@pytest.mark.parametrize("keyword", ["STOP", "stopall", "Unsubscribe", "CANCEL", "end", "QUIT", "REVOKE",
                                     "OPTOUT", " stop. "])
def test_opt_out_keywords_opt_the_customer_out(client, ctx, acme, keyword) -> None:
    response = post_twilio(client, twilio_inbound(keyword, "SM0001"))
    assert response.status_code == 200
    assert response.mimetype == "text/xml" and b"<Response>" in response.data
    assert state(ctx, acme["sms"], CUSTOMER).opted_out is True


@pytest.mark.parametrize("keyword", ["START", "yes", "UNSTOP"])
def test_opt_in_keywords_opt_the_customer_back_in(client, ctx, acme, keyword) -> None:
    post_twilio(client, twilio_inbound("STOP", "SM0001"))
    post_twilio(client, twilio_inbound(keyword, "SM0002"))
    assert state(ctx, acme["sms"], CUSTOMER).opted_out is False


def test_a_sentence_with_stop_in_it_is_not_an_opt_out(client, ctx, acme) -> None:
    post_twilio(client, twilio_inbound("Please stop by tomorrow", "SM0001"))
    assert state(ctx, acme["sms"], CUSTOMER).opted_out is False


def test_missing_signature_is_401_and_changes_nothing(client, ctx, acme) -> None:
    response = post_twilio(client, twilio_inbound("STOP", "SM0001"), token=None)
    assert response.status_code == 401
    assert state(ctx, acme["sms"], CUSTOMER) is None


def test_tampered_form_is_403(client, ctx, acme) -> None:
    fields = twilio_inbound("Hello", "SM0001")
    signed_for = twilio_signature(f"{PUBLIC_BASE}/webhooks/twilio", fields)
    tampered = {**fields, "Body": "STOP"}
    from urllib.parse import urlencode

    response = client.post("/webhooks/twilio", data=urlencode(tampered),
                           headers={"Content-Type": "application/x-www-form-urlencoded",
                                    "X-Twilio-Signature": signed_for})
    assert response.status_code == 403
    assert state(ctx, acme["sms"], CUSTOMER) is None


def test_wrong_auth_token_is_403(client, ctx, acme) -> None:
    response = post_twilio(client, twilio_inbound("STOP", "SM0001"), token="another-token")
    assert response.status_code == 403 and inbound_count(ctx) == 0


def test_the_url_is_rebuilt_from_the_public_base_url(client, ctx, acme) -> None:
    """Signed for the URL Flask sees behind a proxy (http://localhost/…), not the public one: refused."""
    response = post_twilio(client, twilio_inbound("STOP", "SM0001"), signed_url="http://localhost/webhooks/twilio")
    assert response.status_code == 403 and inbound_count(ctx) == 0


def test_the_query_string_is_part_of_what_is_signed(client, ctx, acme) -> None:
    fields = twilio_status("SM0009", "delivered")
    assert post_twilio(client, fields, query="ref=msg_1").status_code == 200
    forged = post_twilio(client, fields, query="ref=msg_2", signed_url=f"{PUBLIC_BASE}/webhooks/twilio?ref=msg_1")
    assert forged.status_code == 403


def test_replayed_delivery_is_applied_once(client, ctx, acme) -> None:
    fields = twilio_inbound("STOP", "SM0001")
    post_twilio(client, fields)
    post_twilio(client, twilio_inbound("START", "SM0002"))
    assert post_twilio(client, fields).status_code == 200  # the old STOP again: already recorded
    assert state(ctx, acme["sms"], CUSTOMER).opted_out is False
    assert inbound_count(ctx) == 2


def test_json_body_with_body_sha256(client, ctx, acme) -> None:
    body = json.dumps(twilio_inbound("STOP", "SM0001")).encode()
    query = f"bodySHA256={hashlib.sha256(body).hexdigest()}"
    signature = twilio_signature(f"{PUBLIC_BASE}/webhooks/twilio?{query}", {})
    headers = {"Content-Type": "application/json", "X-Twilio-Signature": signature}
    tampered = body.replace(b'"STOP"', b'"START"')
    assert client.post(f"/webhooks/twilio?{query}", data=tampered, headers=headers).status_code == 403
    assert client.post(f"/webhooks/twilio?{query}", data=body, headers=headers).status_code == 200
    assert state(ctx, acme["sms"], CUSTOMER).opted_out is True


def test_a_message_to_a_number_we_do_not_send_from_is_acknowledged(client, ctx, acme) -> None:
    response = post_twilio(client, twilio_inbound("STOP", "SM0001", to="+14155550177"))
    assert response.status_code == 200 and inbound_count(ctx) == 0


def test_a_status_for_an_unknown_message_is_acknowledged(client, ctx, acme) -> None:
    assert post_twilio(client, twilio_status("SMunknown", "delivered")).status_code == 200
