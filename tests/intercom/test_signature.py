"""X-Body-Signature over the raw body, before the JSON is read; a 401 that says why otherwise."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.store.models import Message

from .canvaskit import validate_response
from .conftest import Panel, compact, initialize_payload, post_raw, secret_of, sign


@pytest.mark.parametrize("path", ["/intercom/initialize", "/intercom/submit"])
def test_missing_or_wrong_signature_gets_a_401_that_says_why(client, path):
    raw = compact(initialize_payload())
    for signature in (None, "", "0" * 64, sign(raw, "not-the-secret"), sign(raw, secret_of(client))[:-1],
                      "sha256=" + sign(raw, secret_of(client))):
        response = post_raw(client, path, raw, signature)
        assert response.status_code == 401, signature
        words = response.get_json()["error"]
        assert words.startswith("Herald could not verify that this request comes from Intercom (")
        if signature is None:
            assert "missing X-Body-Signature header" in words


def test_the_signature_covers_the_exact_bytes(client):
    payload = initialize_payload()
    raw = compact(payload)
    signature = sign(raw, secret_of(client))
    assert post_raw(client, "/intercom/initialize", raw, signature).status_code == 200
    assert post_raw(client, "/intercom/initialize", raw, signature.upper()).status_code == 200
    # the same JSON re-serialised with spaces is different bytes: the signature no longer holds
    spaced = json.dumps(payload, ensure_ascii=False).encode()
    assert post_raw(client, "/intercom/initialize", spaced, signature).status_code == 401
    tampered = raw.replace(b'"814860"', b'"999999"')
    assert post_raw(client, "/intercom/initialize", tampered, signature).status_code == 401


def test_a_forged_send_sends_nothing(client, ctx):
    panel = Panel(client)
    panel.initialize()
    panel.click("compose")
    panel.click("content:free")
    payload = panel.submit_payload("send", {"message": "Your order is on its way.", "purpose": "delivery_update"})
    raw = compact(payload)
    assert post_raw(client, "/intercom/submit", raw, sign(raw, "guessed")).status_code == 401
    with ctx.store.session() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0


def test_body_size_is_capped(client):
    raw = compact({**initialize_payload(), "padding": "x" * (300 * 1024)})
    response = post_raw(client, "/intercom/initialize", raw, sign(raw, secret_of(client)))
    assert response.status_code == 413


def test_a_signed_body_that_is_not_json_still_gets_a_canvas(client):
    raw = b"{not json"
    response = post_raw(client, "/intercom/submit", raw, sign(raw, secret_of(client)))
    assert response.status_code == 200
    body = validate_response(response.get_json())
    texts = [c.get("text", "") for c in body["canvas"]["content"]["components"]]
    assert "Something went wrong" in texts
    assert any(t.startswith("Herald could not complete this step.") for t in texts)
    back = body["canvas"]["content"]["components"][-1]
    assert back["type"] == "button" and back["style"] == "link"
