"""The compose page through HTTP: what it offers, the server's preview, sends, refusals in words, the
one-time token, forgery protection, escaping, and the headers that let HubSpot (and only HubSpot) frame it."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
from sqlalchemy import func, select

from app.domain.decision import CONFIRM, REFUSED, Decision, PolicyVerdict
from app.domain.refusals import Reason
from app.services import hubspot as hs
from app.services.workspaces import add_template
from app.store.models import Message, UsedToken
from app.web.hubspot import compose
from app.web.hubspot.screens.compose import ComposeForm, decision_view

from .common import ACME_PORTAL, BASE, compose_path, expect_contact, form_fields

ORDER = {"template": "order_shipped:en_US", "p.1": "Dmitri", "p.2": "A-1001", "p.3": "Friday"}
ORDER_TEXT = ("Hi Dmitri, your order A-1001 has shipped and should arrive on Friday.\n"
              "Reply to this message if you need help.")


def open_page(client, clock, contact: str = "101", query: str = "", **kwargs):
    path = compose_path(client, clock, contact=contact, **kwargs)
    page = client.get(path + query)
    return path, page


def post(client, page, **data):
    fields = form_fields(page.get_data(as_text=True))
    return client.post("/hubspot/compose", data={**fields, "channel": "whatsapp", **data})


def preview(client, page, **data):
    fields = form_fields(page.get_data(as_text=True))
    return client.post("/hubspot/compose/preview", data={**fields, "channel": "whatsapp", **data})


def messages(ctx) -> list[Message]:
    with ctx.store.session() as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


class TestPage:
    def test_headers_let_hubspot_frame_it_and_nothing_inline(self, web, clock) -> None:
        _, page = open_page(web, clock)
        assert page.status_code == 200
        csp = page.headers["Content-Security-Policy"]
        assert "frame-ancestors 'self' https://*.hubspot.com" in csp
        assert "script-src 'self';" in csp and "default-src 'none'" in csp and "form-action 'self'" in csp
        assert "X-Frame-Options" not in page.headers
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert page.headers["Cache-Control"] == "no-store"
        html = page.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script would be blocked by the CSP"
        assert " style=" not in html, "inline styles would be blocked by the CSP"
        assert not re.search(r"\son[a-z]+=", html), "inline event handlers would be blocked by the CSP"

    def test_open_window_offers_free_text(self, web, clock) -> None:
        _, page = open_page(web, clock, "101")
        html = page.get_data(as_text=True)
        assert "The 24-hour window is open until Nov 23, 2026 at 1:00 PM UTC." in html
        assert '<textarea id="text" name="text"' in html
        assert re.search(r'<option value="" selected>\s*Free text\s*</option>', html)

    def test_closed_window_starts_on_a_template(self, web, clock) -> None:
        _, page = open_page(web, clock, "104")
        html = page.get_data(as_text=True)
        assert "Template only: the customer has not written on WhatsApp in the last 24 hours." in html
        assert re.search(r'<option value="" disabled>\s*Free text \(not possible now\)', html)
        assert '<option value="account_security_alert:en_US" selected>' in html
        assert 'name="p.1"' in html and "<textarea" not in html
        assert "refund_update" not in html  # pending templates are not offered

    def test_placeholders_prefilled_from_the_contact(self, web, clock) -> None:
        _, page = open_page(web, clock, "104", "&template=appointment_reminder:en_US")
        html = page.get_data(as_text=True)
        assert re.search(r'name="p.first_name" value="Dmitri"', html)
        assert re.search(r'name="p.date" value=""', html)
        assert "Hello Dmitri, this is a reminder of your appointment on [Date] at [Time]." in html

    def test_a_greeting_placeholder_is_prefilled_with_the_first_name_as_in_intercom(self, web, clock) -> None:
        _, page = open_page(web, clock, "104", "&template=order_shipped:en_US")
        html = page.get_data(as_text=True)
        assert re.search(r'name="p.1" value="Dmitri"', html)
        assert re.search(r'name="p.2" value=""', html)
        assert "Hi Dmitri, your order [Variable 2] has shipped" in html

    def test_purpose_preselected_from_the_template(self, web, clock) -> None:
        _, page = open_page(web, clock, "104", "&template=winter_sale:en_US")
        assert '<option value="promotion" selected>Promotion</option>' in page.get_data(as_text=True)
        _, page = open_page(web, clock, "104", "&template=order_shipped:en_US")
        assert '<option value="" selected>Not stated</option>' in page.get_data(as_text=True)

    def test_channel_chosen_by_link(self, web, clock) -> None:
        _, page = open_page(web, clock, "101", "&channel=sms")
        html = page.get_data(as_text=True)
        assert re.search(r'data-channel="sms" aria-current="page"', html)
        assert '<p class="window" id="window-line">Free text.</p>' in html
        assert "Send SMS message" in html

    def test_contact_without_a_phone(self, web, clock) -> None:
        _, page = open_page(web, clock, "105")
        assert "Emeka Okafor has no phone number in HubSpot" in page.get_data(as_text=True)


class TestPreview:
    def test_sms_encoding_and_segments(self, web, clock) -> None:
        _, page = open_page(web, clock, "101", "&channel=sms")
        view = preview(web, page, channel="sms", template="", text="Hello Asha").get_json()
        assert (view["outcome"], view["text"], view["complete"]) == ("allowed", "Hello Asha", True)
        assert view["sms_line"] == "GSM-7 · 10 characters · 1 segment"
        view = preview(web, page, channel="sms", template="", text="Olá Asha 😀 " + "x" * 60).get_json()
        assert view["sms_line"] == "UCS-2 · 72 UCS-2 units · 2 segments (because of á 😀)"

    def test_missing_values_named_and_partial_text(self, web, clock) -> None:
        _, page = open_page(web, clock, "104")
        view = preview(web, page, template="order_shipped:en_US", **{"p.1": "Dmitri", "p.2": "", "p.3": ""}).get_json()
        assert view["outcome"] == "refused" and view["complete"] is False
        assert [r["message"] for r in view["reasons"]] == ["Fill in “Variable 2”.", "Fill in “Variable 3”."]
        assert view["field_ids"] == {"param-2": "Fill in “Variable 2”.", "param-3": "Fill in “Variable 3”."}
        assert view["text"].startswith("Hi Dmitri, your order [Variable 2] has shipped")

    def test_exact_text_when_complete(self, web, clock) -> None:
        _, page = open_page(web, clock, "104")
        view = preview(web, page, **ORDER).get_json()
        assert (view["outcome"], view["headline"], view["text"]) == ("allowed", "Ready to send", ORDER_TEXT)

    def test_empty_free_text_is_not_an_error_yet(self, web, clock) -> None:
        _, page = open_page(web, clock, "101")
        view = preview(web, page, template="", text="").get_json()
        assert view["outcome"] == "" and view["reasons"] == []

    def test_without_javascript_the_preview_button_renders_it(self, web, clock) -> None:
        _, page = open_page(web, clock, "104")
        response = post(web, page, op="preview", **ORDER)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "Hi Dmitri, your order A-1001 has shipped and should arrive on Friday." in html
        assert "Ready to send" in html

    def test_preview_needs_the_pages_csrf_value(self, web, clock) -> None:
        _, page = open_page(web, clock, "101")
        fields = form_fields(page.get_data(as_text=True))
        response = web.post("/hubspot/compose/preview", data={"token": fields["token"], "csrf": "0" * 64,
                                                               "channel": "sms", "text": "x"})
        assert response.status_code == 400 and "could not be verified" in response.get_json()["error"]


class TestSend:
    def test_template_send_succeeds_and_spends_the_token(self, ctx, client, clock) -> None:
        path, page = open_page(client, clock, "104")
        response = post(client, page, op="send", purpose="delivery_update", **ORDER)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "<h1>Message sent</h1>" in html and '<strong id="status">Accepted</strong>' in html
        assert 'data-done="1"' in html
        [message] = messages(ctx)
        assert (message.channel, message.recipient, message.text) == ("whatsapp", "+12015550126", ORDER_TEXT)
        assert (message.origin, message.surface, message.requested_by, message.contact_ref, message.purpose) == \
            ("agent", "hubspot", "agent@acme.example", "104", "delivery_update")
        assert message.context == {"hubspot_portal_id": "900001", "hubspot_contact_id": "104",
                                   "hubspot_user_id": "77"}
        with ctx.store.session() as session:
            assert session.scalar(select(func.count()).select_from(UsedToken)) == 1

        again = client.get(path)
        assert again.status_code == 409 and "already used to send a message" in again.get_data(as_text=True)
        resend = post(client, page, op="send", **ORDER)
        assert resend.status_code == 409
        assert len(messages(ctx)) == 1

    def test_free_text_refused_when_the_customer_never_wrote(self, ctx, client, clock) -> None:
        path, page = open_page(client, clock, "104")
        response = post(client, page, op="send", template="", text="Hello Dmitri!")
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert "This customer has not written to you on WhatsApp, so the first message must be an approved " \
               "template." in html
        assert 'id="text" name="text" rows="5" maxlength="4096"' in html and 'aria-invalid="true"' in html
        assert messages(ctx) == []
        assert client.get(path).status_code == 200  # a refusal does not spend the link

    def test_free_text_refused_after_the_window_closed(self, ctx, client, clock) -> None:
        clock.advance(hours=21, minutes=55)  # the window has five minutes left when the page opens
        _, page = open_page(client, clock, "101")
        clock.advance(minutes=6)
        response = post(client, page, op="send", template="", text="Are you still there?")
        assert response.status_code == 422
        assert "The 24-hour WhatsApp window closed on Nov 23, 2026 at 1:00 PM UTC: choose an approved template." \
            in response.get_data(as_text=True)
        assert messages(ctx) == []

    def test_opted_out_sms_refused_in_words(self, client, clock) -> None:
        _, page = open_page(client, clock, "102", "&channel=sms")
        response = post(client, page, op="send", channel="sms", template="", text="Your order shipped.")
        assert response.status_code == 422
        assert "This customer opted out of SMS (replied STOP on Nov 19, 2026 at 3:00 PM UTC)" in \
            response.get_data(as_text=True)

    def test_viber_template(self, ctx, client, clock) -> None:
        _, page = open_page(client, clock, "101", "&channel=viber")
        response = post(client, page, op="send", channel="viber", template="delivery_notice:en",
                        **{"p.name": "Asha", "p.tracking": "ZX-9"})
        assert "<h1>Message sent</h1>" in response.get_data(as_text=True)
        assert messages(ctx)[0].text == "Hello Asha, your parcel ZX-9 will be delivered today."

    def test_provider_failure_is_shown_not_hidden(self, ctx, client, clock) -> None:
        _, page = open_page(client, clock, "103", "&channel=sms")
        response = post(client, page, op="send", channel="sms", template="", text="Your order shipped.")
        html = response.get_data(as_text=True)
        assert "<h1>Message not sent</h1>" in html and 'data-done="0"' in html
        assert "The sandbox treats this number as unable to receive messages" in html

    def test_policy_confirmation_round_trip(self, ctx, client, clock) -> None:
        """Text the marketing check cannot read (Dutch): the policy asks the agent, who confirms."""
        path, page = open_page(client, clock, "101", "&channel=sms")
        draft = {"op": "send", "channel": "sms", "template": "", "purpose": "delivery_update",
                 "text": "Je pakket is onderweg en wordt morgen tussen 9 en 12 uur bezorgd."}
        asked = post(client, page, **draft)
        assert asked.status_code == 200
        html = asked.get_data(as_text=True)
        box = html[html.index('id="confirm-box"'):html.index('<div class="actions">')]
        assert "hidden" not in box.split(">", 1)[0] and "This looks like Dutch" in box
        assert "<li>Would a competent agent send this message today, unprompted?</li>" in box
        assert "<li>Would the customer thank you for it?</li>" in box
        assert 'name="confirmed" value="1"' in box
        assert messages(ctx) == [] and client.get(path).status_code == 200

        sent = post(client, page, **draft, confirmed="1")
        assert "<h1>Message sent</h1>" in sent.get_data(as_text=True)
        [message] = messages(ctx)
        assert (message.confirmed_by, message.confirmed_at, message.purpose) == \
            ("agent@acme.example", clock(), "delivery_update")

    def test_policy_refusal_in_words(self, ctx, client, clock) -> None:
        _, page = open_page(client, clock, "101", "&channel=sms")
        response = post(client, page, op="send", channel="sms", template="", purpose="promotion",
                        text="Winter sale: 20% off everything until Sunday!")
        assert response.status_code == 422
        assert "Herald's proactive-message policy does not allow this message:" in response.get_data(as_text=True)
        assert messages(ctx) == []


class TestToken:
    def test_expired_link(self, web, clock) -> None:
        path, page = open_page(web, clock, "101")
        clock.advance(minutes=15)
        response = web.get(path)
        assert response.status_code == 410
        assert "This compose window has expired" in response.get_data(as_text=True)
        assert post(web, page, op="send", template="", text="Hi").status_code == 410

    def test_foreign_or_altered_link(self, web, clock) -> None:
        path, _ = open_page(web, clock, "101")
        token = parse_qs(urlsplit(path).query)["token"][0]
        claims = jwt.decode(token, options={"verify_signature": False})
        forged = jwt.encode({**claims, "contact": "102"}, "x" * 32, algorithm="HS256")
        for bad in (forged, token[:-2] + "xx", "", "not-a-token"):
            response = web.get("/hubspot/compose", query_string={"token": bad})
            assert response.status_code == 403
            assert "not a valid Herald compose link" in response.get_data(as_text=True)

    def test_post_without_csrf_or_from_another_site(self, web, clock) -> None:
        _, page = open_page(web, clock, "101")
        fields = form_fields(page.get_data(as_text=True))
        response = web.post("/hubspot/compose", data={"token": fields["token"], "op": "send", "text": "Hi"})
        assert response.status_code == 400
        for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site", "Origin": "null"}):
            response = web.post("/hubspot/compose", data={**fields, "op": "send", "text": "Hi"}, headers=headers)
            assert response.status_code == 403
        for origin in (BASE, "http://localhost"):  # Herald's public origin, or the one the browser reached
            response = web.post("/hubspot/compose", data={**fields, "op": "preview", "text": "Hi"},
                                headers={"Origin": origin})
            assert response.status_code == 200


class TestEscaping:
    def test_script_in_the_contact_name_is_text(self, sctx, web, clock, hubspot_api) -> None:
        from .common import setup_acme

        setup_acme(sctx)
        add_template(sctx, "acme", "viber", "bold_claim", "en", "Hi {{name}}, <b>read</b> & smile.",
                     "TRANSACTIONAL")
        expect_contact(hubspot_api, "301", firstname="<script>alert(1)</script>", lastname="")
        path = compose_path(web, clock, portal=ACME_PORTAL, contact="301")
        html = web.get(path + "&channel=viber&template=bold_claim:en").get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html
        assert '<h1 class="recipient-name" id="contact-name">&lt;script&gt;alert(1)&lt;/script&gt;</h1>' in html
        assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in html
        assert "Hi &lt;script&gt;alert(1)&lt;/script&gt;, &lt;b&gt;read&lt;/b&gt; &amp; smile." in html


class TestPolicySurface:
    """The page is built from the Decision alone, so a policy's confirm and refuse render whatever it says."""

    QUESTIONS = ("Would a competent agent send this today, unprompted?", "Would Asha thank us for it?")

    def render(self, app, ctx, clock, decision: Decision) -> str:
        path = compose_path(app.test_client(), clock, contact="101")
        token = parse_qs(urlsplit(path).query)["token"][0]
        with app.test_request_context():
            grant = hs.read_compose_token(ctx, token)
            target = hs.compose_target(ctx, grant)
            form = ComposeForm()
            selection = compose._selection(ctx, target, form)
            html, _ = compose._render(ctx, token, grant, target, form, selection, decision_view(decision))
        return html

    def test_confirmation_with_reasons_and_both_questions(self, sqlite_app, sctx, clock) -> None:
        reason = Reason("marketing_after_service", "A promotion minutes after a service message is marketing "
                                                   "riding on the support channel.", "purpose")
        decision = Decision(CONFIRM, "whatsapp", "+12015550123", reasons=(reason,), text="Hi Asha, 20% off!",
                            policy=PolicyVerdict("confirm", (reason,), "promotion", True, self.QUESTIONS))
        html = self.render(sqlite_app, sctx, clock, decision)
        box = html[html.index('id="confirm-box"'):html.index('<div class="actions">')]
        assert "hidden" not in box.split(">", 1)[0]
        assert "A promotion minutes after a service message is marketing riding on the support channel." in box
        assert all(f"<li>{q}</li>" in box for q in self.QUESTIONS)
        assert '<input type="checkbox" name="confirmed" value="1" id="confirmed">' in box
        assert "Needs your confirmation" in html

    def test_policy_refusal_in_words(self, sqlite_app, sctx, clock) -> None:
        reason = Reason("marketing_without_consent", "Asha has not agreed to marketing on WhatsApp.", "purpose")
        decision = Decision(REFUSED, "whatsapp", "+12015550123", reasons=(reason,), text="Hi Asha, 20% off!",
                            policy=PolicyVerdict("refuse", (reason,), "promotion", True))
        html = self.render(sqlite_app, sctx, clock, decision)
        assert "Herald's proactive-message policy does not allow this message:" in html
        assert "<li>Asha has not agreed to marketing on WhatsApp.</li>" in html
        assert re.search(r'<section class="confirm" id="confirm-box" hidden>', html)


def test_link_lifetime_is_minutes(sctx, web, clock) -> None:
    path, _ = open_page(web, clock, "101")
    grant = hs.read_compose_token(sctx, parse_qs(urlsplit(path).query)["token"][0])
    assert grant.expires_at - clock() == timedelta(minutes=15)


def test_choosing_among_several_senders(sctx, web, clock, hubspot_api) -> None:
    from app.services.workspaces import add_sender

    from .common import setup_acme

    setup_acme(sctx)
    second = add_sender(sctx, "acme", "sms", "sandbox", "+12015550101")
    expect_contact(hubspot_api, "201")
    path = compose_path(web, clock, portal=ACME_PORTAL, contact="201")
    page = web.get(path + "&channel=sms")
    html = page.get_data(as_text=True)
    assert '<select id="sender" name="sender">' in html
    assert f'<option value="{second.id}">+1 201-555-0101</option>' in html
    response = web.post("/hubspot/compose", data={**form_fields(html), "op": "send", "channel": "sms",
                                                  "template": "", "sender": str(second.id),
                                                  "text": "Your engineer arrives at 10:00."})
    assert "<h1>Message sent</h1>" in response.get_data(as_text=True)
    [message] = messages(sctx)
    assert message.sender_id == second.id
