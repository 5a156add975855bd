"""The compose page and the playground in headless Chromium (Debian's, driven by Playwright): what an agent
actually sees and does, with and without JavaScript."""

from __future__ import annotations

import re

import pytest

from .common import ACME_PORTAL, compose_path, expect_contact, setup_acme

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

ORDER_LINE = "Hi Dmitri, your order A-1001 has shipped and should arrive on Friday."


def compose_url(live_server, clock, contact: str, portal: str = "900001") -> str:
    return live_server.url + compose_path(live_server.app.test_client(), clock, portal=portal, contact=contact)


def test_template_fill_preview_send_success(live_server, page, clock) -> None:
    url = compose_url(live_server, clock, "104")
    page.goto(url)
    expect(page.locator("#contact-name")).to_have_text("Dmitri Ivanov")
    expect(page.locator("#chooser button")).to_be_hidden()  # JavaScript submits the chooser itself

    page.select_option("#template", "order_shipped:en_US")
    page.wait_for_url(re.compile(r"template=order_shipped"))
    page.fill("#param-1", "Dmitri")
    expect(page.locator("#preview-text")).to_contain_text("Hi Dmitri, your order [Variable 2] has shipped")
    expect(page.locator("#preview-state")).to_have_text("Cannot be sent")
    expect(page.locator("#reasons-list")).to_contain_text("Fill in “Variable 2”.")
    expect(page.locator("#param-2")).to_have_attribute("aria-invalid", "true")

    page.fill("#param-2", "A-1001")
    page.fill("#param-3", "Friday")
    expect(page.locator("#preview-text")).to_contain_text(ORDER_LINE)
    expect(page.locator("#preview-state")).to_have_text("Ready to send")
    expect(page.locator("#reasons")).to_be_hidden()
    page.select_option("#purpose", "delivery_update")

    page.click("#send")
    expect(page.locator("h1")).to_have_text("Message sent")
    expect(page.locator("#status")).to_have_text("Accepted")
    expect(page.locator(".bubble")).to_contain_text(ORDER_LINE)

    page.goto(url)  # the link was spent by the send
    expect(page.locator("h1")).to_have_text("Already sent")


def test_free_text_refused_when_the_window_has_closed(live_server, page, clock) -> None:
    clock.advance(hours=21, minutes=55)
    page.goto(compose_url(live_server, clock, "101"))
    expect(page.locator("#window-line")).to_have_text(
        "The 24-hour window is open until Nov 23, 2026 at 1:00 PM UTC.")
    page.fill("#text", "Your replacement card was posted today.")
    expect(page.locator("#preview-state")).to_have_text("Ready to send")

    clock.advance(minutes=6)
    page.click("#send")
    expect(page.locator("#reasons-list")).to_have_text(
        "The 24-hour WhatsApp window closed on Nov 23, 2026 at 1:00 PM UTC: choose an approved template.")
    expect(page.locator("#text")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#text")).to_have_value("Your replacement card was posted today.")


def test_sms_counts_segments_as_the_agent_types(live_server, page, clock) -> None:
    page.goto(compose_url(live_server, clock, "101") + "&channel=sms")
    page.fill("#text", "x" * 161)
    expect(page.locator("#sms-line")).to_have_text("GSM-7 · 161 characters · 2 segments")
    page.fill("#text", "Grüße 😀")
    expect(page.locator("#sms-line")).to_have_text("UCS-2 · 8 UCS-2 units · 1 segment (because of 😀)")


def test_script_in_a_contact_name_is_shown_as_text(live_server, page, clock, hubspot_api) -> None:
    setup_acme(live_server.app.extensions["herald"])
    expect_contact(hubspot_api, "301", firstname="<script>alert(1)</script>", lastname="")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(compose_url(live_server, clock, "301", portal=ACME_PORTAL) + "&channel=viber")
    page.select_option("#template", "delivery_notice:en")
    page.wait_for_url(re.compile(r"template=delivery_notice"))
    expect(page.locator("#contact-name")).to_have_text("<script>alert(1)</script>")
    expect(page.locator("#param-name")).to_have_value("<script>alert(1)</script>")
    page.fill("#param-tracking", "ZX-1")
    expect(page.locator("#preview-text")).to_contain_text("Hello <script>alert(1)</script>, your parcel ZX-1")
    assert dialogs == []


def test_sending_works_without_javascript(live_server, browser, clock) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(compose_url(live_server, clock, "104"))
        page.select_option("#template", "order_shipped:en_US")
        page.click("#chooser button")
        for slot, value in (("1", "Dmitri"), ("2", "A-1001"), ("3", "Friday")):
            page.fill(f"#param-{slot}", value)
        page.click("text=Update preview")
        expect(page.locator("#preview-text")).to_contain_text(ORDER_LINE)
        page.click("#send")
        expect(page.locator("h1")).to_have_text("Message sent")
    finally:
        context.close()


def test_playground_opens_the_real_compose_page_and_closes_on_done(live_server, page) -> None:
    page.goto(live_server.url + "/playground/hubspot?contact=101")
    expect(page.locator("#herald-card")).to_contain_text("Free text until Nov 23, 2026 at 1:00 PM UTC")
    expect(page.locator("#no-messages")).to_be_visible()

    page.click("#send-message")
    expect(page.locator("#compose-modal")).to_be_visible()
    frame = page.frame_locator("#compose-frame")
    expect(frame.locator("#contact-name")).to_have_text("Asha Patel")
    frame.locator("#text").fill("Your parcel is on its way.")
    expect(frame.locator("#preview-state")).to_have_text("Ready to send")
    frame.locator("#send").click()
    expect(frame.locator("h1")).to_have_text("Message sent")

    # The page posts {"action": "DONE"}; the playground closes the modal and reloads the card.
    expect(page.locator("#compose-modal")).to_be_hidden(timeout=10_000)
    expect(page.locator("#card-messages")).to_contain_text("Your parcel is on its way.")
    expect(page.locator("#card-messages")).to_contain_text("Accepted")


def test_policy_confirmation_in_the_live_preview(live_server, page, clock) -> None:
    page.goto(compose_url(live_server, clock, "101") + "&channel=sms")
    page.select_option("#purpose", "delivery_update")
    page.fill("#text", "Je pakket is onderweg en wordt morgen tussen 9 en 12 uur bezorgd.")  # Dutch: unchecked
    expect(page.locator("#preview-state")).to_have_text("Needs your confirmation")
    expect(page.locator("#confirm-box")).to_be_visible()
    expect(page.locator("#confirm-questions li")).to_have_text([
        "Would a competent agent send this message today, unprompted?", "Would the customer thank you for it?"])

    page.click("#send")  # not confirmed yet: the page asks again, nothing is sent
    expect(page.locator("#confirm-box")).to_be_visible()
    page.check("#confirmed")
    expect(page.locator("#preview-state")).to_have_text("Needs your confirmation")  # ticking is not a preview
    page.click("#send")
    expect(page.locator("h1")).to_have_text("Message sent")

    page.goto(compose_url(live_server, clock, "104") + "&channel=sms")
    page.fill("#text", "Your parcel is out for delivery today.")
    expect(page.locator("#preview-state")).to_have_text("Ready to send")
    expect(page.locator("#confirm-box")).to_be_hidden()


def test_expired_link_is_refused(live_server, page, clock) -> None:
    url = compose_url(live_server, clock, "101")
    clock.advance(minutes=16)
    page.goto(url)
    expect(page.locator("h1")).to_have_text("This window has expired")
    expect(page.locator("#notice-message")).to_contain_text("choose Send message on the contact card again")


def test_recording_consent_on_the_page_lets_the_marketing_message_go(live_server, page, clock) -> None:
    """Refused for missing consent, the agent follows the pointer, records the customer's consent and
    sends: the draft survives the round trip and the link is spent only by the send."""
    page.goto(compose_url(live_server, clock, "104") + "&template=winter_sale:en_US")
    expect(page.locator("#consent-lines li")).to_have_count(3)
    expect(page.locator('#consent-lines li[data-channel="whatsapp"] .consent-status')).to_have_text("Not recorded")
    page.fill("#param-1", "Dmitri")
    expect(page.locator("#preview-state")).to_have_text("Cannot be sent")
    expect(page.locator("#reasons-list")).to_contain_text(
        "Marketing needs the customer's consent to marketing on WhatsApp; none is recorded.")
    expect(page.locator("#consent-pointer")).to_be_visible()
    expect(page.locator("#consent")).to_have_class(re.compile(r"\bis-needed\b"))

    page.click("#send")  # the server refuses it too, and points to the same place
    expect(page.locator("#reasons-list")).to_contain_text("none is recorded")
    page.click("#consent-pointer a")
    expect(page).to_have_url(re.compile(r"#consent$"))
    expect(page.locator("#consent-channel")).to_have_value("whatsapp")
    page.fill("#consent-note", "Said yes on the phone <today>")
    page.click("#consent-grant")

    expect(page.locator("#consent-notice")).to_have_text(
        "Saved. WhatsApp: Consented to marketing on Nov 22, 2026 at 3:00 PM UTC, recorded by "
        "agent@acme.example via hubspot.")
    whatsapp = page.locator('#consent-lines li[data-channel="whatsapp"]')
    expect(whatsapp.locator(".consent-status")).to_have_text("Consented")
    expect(whatsapp.locator(".consent-detail")).to_contain_text(
        "Recorded by agent@acme.example on Nov 22, 2026 at 3:00 PM UTC via hubspot.")
    expect(whatsapp.locator(".consent-note")).to_have_text("Said yes on the phone <today>")
    expect(page.locator("#template")).to_have_value("winter_sale:en_US")
    expect(page.locator("#param-1")).to_have_value("Dmitri")  # kept in the tab, not in the URL
    assert "Dmitri" not in page.url
    expect(page.locator("#preview-state")).to_have_text("Ready to send")
    expect(page.locator("#consent-pointer")).to_be_hidden()

    page.click("#send")
    expect(page.locator("h1")).to_have_text("Message sent")
    expect(page.locator(".bubble")).to_contain_text("our winter sale is on")
