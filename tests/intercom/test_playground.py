"""The playground plays Intercom: clicked through in headless Chromium, on the demo workspace."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.store.models import Message

from ..conftest import make_app
from .canvaskit import validate_response

pytestmark = pytest.mark.browser


def test_the_playground_exists_only_in_the_demo(tmp_path, clock, sqlite_template, sqlite_app):
    served = sqlite_app.test_client().get("/playground/intercom")
    assert served.status_code == 200
    assert sqlite_app.extensions["herald"].config.intercom_client_secret.encode() not in served.data
    (tmp_path / "prod").mkdir()
    production = make_app("sqlite", tmp_path / "prod", clock, sqlite_template, seed_demo=False, demo=False)
    try:
        assert production.test_client().get("/playground/intercom").status_code == 404
        assert production.test_client().post("/playground/intercom/relay/initialize", json={}).status_code == 404
    finally:
        production.extensions["herald"].store.dispose()


def test_the_relay_signs_only_for_the_demo_workspace(sqlite_app):
    answer = sqlite_app.test_client().post("/playground/intercom/relay/initialize", json={
        "workspace_id": "someone-else", "admin": {"id": "1"},
        "contact": {"id": "c1", "name": "Ana", "phone": "+12015550123"}}).get_json()
    assert answer["request"]["body"]["workspace_id"] == "demo-intercom"
    assert answer["status"] == 200 and len(answer["request"]["signature"]) == 64
    validate_response(answer["body"], first=True)


@pytest.fixture
def seen(page):
    """Every canvas the page receives through the relay, validated when the test ends."""
    responses = []
    page.on("response", lambda r: responses.append(r) if "/playground/intercom/relay/" in r.url else None)
    yield responses
    assert responses
    for response in responses:
        answer = response.json()
        assert answer["status"] == 200
        validate_response(answer["body"], first=answer["request"]["path"].endswith("/initialize"))


def canvas_state(page, state: str) -> None:
    page.wait_for_selector(f'#canvas[data-state="{state}"]:not([aria-busy])')


def test_clicking_through_the_whole_flow(live_server, page, seen):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/playground/intercom")

    page.click("text=Ana García")
    canvas_state(page, "home")
    sidebar = page.locator("#canvas")
    assert "WhatsApp: free text until Nov 23, 2026 at 1:00 PM UTC" in sidebar.inner_text()
    assert sidebar.bounding_box()["height"] <= 400
    assert page.locator("#canvas .btn.primary").count() == 0
    page.screenshot(path="/tmp/intercom-playground-home.png")

    page.click("#canvas >> text=Write a message")
    canvas_state(page, "compose")
    page.click("#canvas .item:has-text('order_shipped')")
    canvas_state(page, "write")
    assert page.input_value('input[name="param:1"]') == "Ana"
    page.fill('input[name="param:2"]', "A-1001")
    page.fill('input[name="param:3"]', "Monday")
    page.select_option('select[name="purpose"]', "delivery_update")
    page.click("#canvas button:has-text('Preview')")
    canvas_state(page, "write")
    assert page.input_value('textarea[name="preview_text"]').startswith(
        "Hi Ana, your order A-1001 has shipped and should arrive on Monday.")
    page.screenshot(path="/tmp/intercom-playground-write.png", full_page=True)
    page.click("#canvas button.primary:has-text('Send')")
    canvas_state(page, "sent")
    assert "WhatsApp message sent" in sidebar.inner_text()
    assert "Accepted" in sidebar.inner_text()

    page.click("#deliver")
    page.wait_for_selector("#customer-said:has-text('read')")
    page.click("#canvas >> text=Refresh status")
    canvas_state(page, "sent")
    assert "Read" in sidebar.inner_text()
    page.screenshot(path="/tmp/intercom-playground-sent.png")
    page.click("#canvas >> text=Back to start")
    canvas_state(page, "home")
    assert "WhatsApp · Read · Nov 22, 2026 at 3:00 PM UTC" in sidebar.inner_text()
    assert sidebar.bounding_box()["height"] <= 400

    with live_server.app.extensions["herald"].store.session() as session:
        [message] = session.scalars(select(Message)).all()
    assert (message.surface, message.recipient, message.status) == ("intercom", "+12015550123", "read")


def test_a_refusal_and_a_provider_error_in_the_browser(live_server, page, seen):
    page.goto(f"{live_server.url}/playground/intercom")
    page.click("text=Sam Lee")
    canvas_state(page, "home")
    assert "SMS: opted out (replied STOP)" in page.locator("#canvas").inner_text()
    page.click("#canvas >> text=Write a message")
    canvas_state(page, "compose")
    page.click("#canvas .pill:has-text('SMS')")
    page.wait_for_selector("#canvas .pill.chosen:has-text('SMS')")
    canvas_state(page, "compose")
    page.click("#canvas .item:has-text('Free text')")
    canvas_state(page, "write")
    page.fill('textarea[name="message"]', "We tried to reach you about your invoice.")
    page.select_option('select[name="purpose"]', "confirmation")
    page.click("#canvas button.primary:has-text('Send')")
    page.wait_for_selector("#canvas .text.error")
    assert "opted out of SMS" in page.locator("#canvas .text.error").first.inner_text()
    assert page.locator("#canvas .field.failed input[name='to']").count() == 1
    assert page.input_value('textarea[name="message"]') == "We tried to reach you about your invoice."

    page.click("text=Kim Novak")
    canvas_state(page, "home")
    page.click("#canvas >> text=Write a message")
    canvas_state(page, "compose")
    page.click("#canvas .pill:has-text('SMS')")
    page.wait_for_selector("#canvas .pill.chosen:has-text('SMS')")
    canvas_state(page, "compose")
    page.click("#canvas .item:has-text('Free text')")
    canvas_state(page, "write")
    page.fill('textarea[name="message"]', "Your parcel is at the depot.")
    page.select_option('select[name="purpose"]', "delivery_update")
    page.click("#canvas button.primary:has-text('Send')")
    page.wait_for_selector("#canvas .text.error")
    errors = page.locator("#canvas .text.error").all_inner_texts()
    assert errors[0] == "Not sent: the provider did not accept the message."
    assert "unable to receive messages" in errors[1]
    page.screenshot(path="/tmp/intercom-playground-error.png", full_page=True)


def test_a_contact_without_a_number_and_the_customer_opening_the_window(live_server, page, seen):
    page.goto(f"{live_server.url}/playground/intercom")
    page.click("text=Lena Fischer")
    canvas_state(page, "home")
    page.fill('input[name="phone"]', "+1 201 555 0126")
    page.click("#canvas button.inline")
    canvas_state(page, "home")
    assert "WhatsApp: template only" in page.locator("#canvas").inner_text()

    page.click("text=Tom Baker")
    canvas_state(page, "home")
    assert "WhatsApp: template only" in page.locator("#canvas").inner_text()
    page.click("#customer-actions button:has-text('writes on WhatsApp')")
    page.wait_for_selector("#customer-said:has-text('wrote')")
    page.click("text=Tom Baker")
    canvas_state(page, "home")
    assert "WhatsApp: free text until Nov 23, 2026 at 3:00 PM UTC" in page.locator("#canvas").inner_text()


def test_recording_marketing_consent_in_the_browser(live_server, page, seen):
    page.goto(f"{live_server.url}/playground/intercom")
    page.click("text=Ana García")
    canvas_state(page, "home")
    assert page.locator("#canvas").bounding_box()["height"] <= 400
    page.click("#canvas button.link:has-text('Marketing consent')")
    canvas_state(page, "consent")
    assert "WhatsApp: no marketing consent recorded" in page.locator("#canvas").inner_text()
    page.click("#canvas .pill:has-text('WhatsApp')")
    page.fill('input[name="consent_note"]', "asked on the phone")
    page.click("#canvas button.primary:has-text('Record consent')")
    canvas_state(page, "consent_recorded")
    sidebar = page.locator("#canvas").inner_text()
    assert "Marketing consent recorded" in sidebar
    assert "recorded by dana@herald.demo (Intercom admin 814860) via intercom" in sidebar
    page.screenshot(path="/tmp/intercom-playground-consent.png")
    page.click("#canvas button.link:has-text('Marketing consent')")
    canvas_state(page, "consent")
    assert "WhatsApp: consented to marketing on Nov 22, 2026 at 3:00 PM UTC" in page.locator("#canvas").inner_text()
    page.click("#canvas button.link:has-text('Back')")
    canvas_state(page, "home")
