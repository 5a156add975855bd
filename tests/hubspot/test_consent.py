"""Marketing consent on the compose page: shown per channel with who recorded it and when, recorded in the
name of the HubSpot user the link names without spending the link, guarded exactly like a send, refused in
words, and read by the proactive-message policy on the next send."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from app.services import hubspot as hs
from app.store.models import Consent, Message, UsedToken
from app.web.hubspot import compose

from .common import compose_path, consent_form_fields, form_fields

WINTER_SALE = {"template": "winter_sale:en_US", "purpose": "promotion", "p.1": "Dmitri"}
DMITRI = "+12015550126"  # demo contact 104: never wrote in, no service message before
NO_CONSENT = "Marketing needs the customer&#39;s consent to marketing on WhatsApp; none is recorded."
POINTER = re.compile(r'<p class="reasons-next" id="consent-pointer">\s*If Dmitri agreed to marketing, '
                     r'<a href="#consent">record their consent below</a>, then send again.')


def open_page(client, clock, contact: str = "104", query: str = "", **kwargs):
    path = compose_path(client, clock, contact=contact, **kwargs)
    return path, client.get(path + query)


def record(client, page, decision: str = "grant", channel: str = "whatsapp", note: str = "", **overrides):
    """Submit the page's consent form as the browser would (the fields it carries, plus the agent's choices)."""
    fields = consent_form_fields(page.get_data(as_text=True))
    data = {**fields, "consent_channel": channel, "decision": decision, "note": note, **overrides}
    return client.post("/hubspot/compose/consent", data=data)


def send(client, page, **data):
    fields = form_fields(page.get_data(as_text=True))
    return client.post("/hubspot/compose", data={**fields, "channel": "whatsapp", "op": "send", **data})


def consents(ctx) -> list[Consent]:
    with ctx.store.session() as session:
        return list(session.scalars(select(Consent).order_by(Consent.id)))


def sent(ctx) -> list[Message]:
    with ctx.store.session() as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


def section(html: str) -> str:
    start = html.index('<section class="consent')
    return html[start:html.index("</section>", start)]


def line(html: str, channel: str) -> str:
    match = re.search(r'<li class="consent-line[^"]*" data-channel="%s">.*?</li>' % channel, section(html), re.S)
    assert match, f"no consent line for {channel}"
    return match.group(0)


def follow(client, response):
    assert response.status_code == 303, response.get_data(as_text=True)
    location = urlsplit(response.headers["Location"])
    assert location.path == "/hubspot/compose" and location.fragment == "consent"
    return client.get(f"{location.path}?{location.query}")


class TestSection:
    def test_nothing_recorded_yet(self, web, clock) -> None:
        _, page = open_page(web, clock, "101")
        html = page.get_data(as_text=True)
        part = section(html)
        assert '<h2 id="consent-title">Marketing consent</h2>' in part
        for channel, label in (("whatsapp", "WhatsApp"), ("sms", "SMS"), ("viber", "Viber")):
            entry = line(html, channel)
            assert 'class="consent-line is-none"' in entry
            assert f'<span class="consent-channel">{label}</span>' in entry
            assert '<span class="consent-status">Not recorded</span>' in entry
            assert f"No marketing on {label} until the customer&#39;s consent is recorded." in entry
        assert '<form class="consent-form" method="post" action="/hubspot/compose/consent" id="consent-form">' in part
        assert '<option value="whatsapp" selected>WhatsApp</option>' in part
        assert "Recorded as agent@acme.example, now." in part
        assert 'id="consent-notice"' not in part and 'id="consent-errors"' not in part
        assert re.search(r'id="consent-pointer"\s+hidden>', html)
        fields = consent_form_fields(html)
        assert fields["csrf"] == form_fields(html)["csrf"] and fields["token"] == form_fields(html)["token"]

    def test_the_form_starts_on_the_channel_being_written_on(self, web, clock) -> None:
        _, page = open_page(web, clock, "101", "&channel=sms")
        assert '<option value="sms" selected>SMS</option>' in section(page.get_data(as_text=True))

    def test_a_marketing_draft_points_to_the_section(self, web, clock) -> None:
        _, page = open_page(web, clock, "104", "&template=winter_sale:en_US")
        fields = form_fields(page.get_data(as_text=True))
        view = web.post("/hubspot/compose/preview", data={**fields, "channel": "whatsapp", **WINTER_SALE}).get_json()
        assert view["outcome"] == "refused" and view["consent_needed"] is True
        assert NO_CONSENT.replace("&#39;", "'") in [r["message"] for r in view["reasons"]]
        view = web.post("/hubspot/compose/preview", data={**fields, "channel": "whatsapp", **WINTER_SALE,
                                                           "template": "order_shipped:en_US"}).get_json()
        assert view["consent_needed"] is False


class TestRecording:
    def test_grant_is_stored_with_who_when_and_source_and_the_link_still_sends(self, ctx, client, clock) -> None:
        path, page = open_page(client, clock, "104", "&template=winter_sale:en_US")
        response = record(client, page, note="Agreed on the phone")
        query = parse_qs(urlsplit(response.headers["Location"]).query, keep_blank_values=True)
        assert {k: v[0] for k, v in query.items() if k != "token"} == {
            "channel": "whatsapp", "template": "winter_sale:en_US", "purpose": "promotion", "sender": "",
            "recorded": "whatsapp"}
        [row] = consents(ctx)
        assert (row.recipient, row.channel, row.granted, row.source, row.recorded_by, row.note) == \
            (DMITRI, "whatsapp", True, "hubspot", "agent@acme.example", "Agreed on the phone")
        assert row.recorded_at == clock()
        with ctx.store.session() as session:
            assert session.scalar(select(func.count()).select_from(UsedToken)) == 0

        back = follow(client, response)
        assert back.status_code == 200
        html = back.get_data(as_text=True)
        assert ('<p class="consent-notice" id="consent-notice" role="status">Saved. WhatsApp: Consented to '
                "marketing on Nov 22, 2026 at 3:00 PM UTC, recorded by agent@acme.example via hubspot.</p>") in html
        entry = line(html, "whatsapp")
        assert 'is-granted' in entry and '<span class="consent-status">Consented</span>' in entry
        assert "Recorded by agent@acme.example on Nov 22, 2026 at 3:00 PM UTC via hubspot." in entry
        assert '<q class="consent-note">Agreed on the phone</q>' in entry
        assert "Not recorded" in line(html, "sms")  # consent is per channel
        assert '<option value="winter_sale:en_US" selected>' in html  # the agent is back where they were
        assert '<option value="promotion" selected>Promotion</option>' in html

        response = send(client, back, **WINTER_SALE)
        assert "<h1>Message sent</h1>" in response.get_data(as_text=True)
        [message] = sent(ctx)
        assert (message.recipient, message.purpose, message.text) == \
            (DMITRI, "promotion", "Hi Dmitri, our winter sale is on: 20% off everything until Sunday!")
        assert client.get(path).status_code == 409  # the send, not the consent, spent the link

    def test_marketing_refused_for_missing_consent_then_allowed(self, ctx, client, clock) -> None:
        _, page = open_page(client, clock, "104", "&template=winter_sale:en_US")
        refused = send(client, page, **WINTER_SALE)
        assert refused.status_code == 422
        html = refused.get_data(as_text=True)
        assert "Herald's proactive-message policy does not allow this message:" in html
        assert f"<li>{NO_CONSENT}</li>" in html
        assert POINTER.search(html)
        assert '<section class="consent is-needed" id="consent"' in html
        assert sent(ctx) == []

        clock.advance(minutes=2)
        assert record(client, refused).status_code == 303  # from the refusal's own page
        response = send(client, refused, **WINTER_SALE)
        assert response.status_code == 200 and "<h1>Message sent</h1>" in response.get_data(as_text=True)
        [message] = sent(ctx)
        assert message.purpose == "promotion"
        assert any(r["code"] == "marketing_consented" and "recorded by agent@acme.example on Nov 22, 2026 at "
                   "3:02 PM UTC" in r["message"] for r in message.policy_reasons)

    def test_withdrawal(self, ctx, client, clock) -> None:
        _, page = open_page(client, clock, "104", "&template=winter_sale:en_US")
        assert record(client, page, note="Agreed on the phone").status_code == 303
        clock.advance(minutes=5)
        response = record(client, page, decision="withdraw", note="Asked us to stop offers")
        html = follow(client, response).get_data(as_text=True)
        assert "Saved. WhatsApp: Withdrew marketing consent on Nov 22, 2026 at 3:05 PM UTC, recorded by " \
               "agent@acme.example via hubspot." in html
        entry = line(html, "whatsapp")
        assert 'is-withdrawn' in entry and '<span class="consent-status">Withdrawn</span>' in entry
        assert "Recorded by agent@acme.example on Nov 22, 2026 at 3:05 PM UTC via hubspot." in entry
        assert "Asked us to stop offers" in entry
        assert [(r.granted, r.note) for r in consents(ctx)] == \
            [(True, "Agreed on the phone"), (False, "Asked us to stop offers")]  # history kept, latest wins

        refused = send(client, page, **WINTER_SALE)
        assert refused.status_code == 422
        html = refused.get_data(as_text=True)
        assert ("Marketing needs the customer&#39;s consent to marketing on WhatsApp; they withdrew it (recorded "
                "by agent@acme.example on Nov 22, 2026 at 3:05 PM UTC).") in html
        assert POINTER.search(html)
        assert sent(ctx) == []

    def test_other_channels_and_contacts(self, sctx, web, clock) -> None:
        _, page = open_page(web, clock, "101", "&channel=sms")
        assert record(web, page, channel="viber").status_code == 303
        [row] = consents(sctx)
        assert (row.recipient, row.channel) == ("+12015550123", "viber")

    def test_recorded_by_falls_back_to_the_hubspot_user_id(self, sctx, web, clock) -> None:
        _, page = open_page(web, clock, "104", user_id="77", user_email="")
        assert "Recorded as hubspot-user:77, now." in page.get_data(as_text=True)
        assert record(web, page).status_code == 303
        assert consents(sctx)[0].recorded_by == "hubspot-user:77"

    def test_a_link_naming_no_user_records_nothing(self, sctx, web, clock) -> None:
        token = hs.issue_compose_token(sctx, "900001", "104")
        html = web.get("/hubspot/compose", query_string={"token": token}).get_data(as_text=True)
        assert 'id="consent-form"' not in html
        assert "it does not name the HubSpot user who opened it" in section(html)
        response = web.post("/hubspot/compose/consent", data={**form_fields(html), "consent_channel": "whatsapp",
                                                               "decision": "grant"})
        assert response.status_code == 403
        assert "Nothing was recorded" in response.get_data(as_text=True)
        assert consents(sctx) == []


class TestGuarded:
    def test_forged_posts_are_refused(self, sctx, web, clock) -> None:
        _, page = open_page(web, clock, "104")
        fields = consent_form_fields(page.get_data(as_text=True))
        _, other = open_page(web, clock, "104")
        elsewhere = consent_form_fields(other.get_data(as_text=True))["csrf"]  # another window's value
        wanted = {"consent_channel": "whatsapp", "decision": "grant"}
        for data in ({**fields, "csrf": ""}, {k: v for k, v in fields.items() if k != "csrf"},
                     {**fields, "csrf": "0" * 64}, {**fields, "csrf": elsewhere}):
            response = web.post("/hubspot/compose/consent", data={**data, **wanted})
            assert response.status_code == 400
            assert "This form could not be verified" in response.get_data(as_text=True)
        for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                        {"Sec-Fetch-Site": "same-site", "Origin": "https://herald.test"}):
            response = web.post("/hubspot/compose/consent", data={**fields, **wanted}, headers=headers)
            assert response.status_code == 403
            assert "sent from another site" in response.get_data(as_text=True)
        assert consents(sctx) == []
        response = web.post("/hubspot/compose/consent", data={**fields, **wanted},
                            headers={"Sec-Fetch-Site": "same-origin", "Origin": "https://herald.test"})
        assert response.status_code == 303 and len(consents(sctx)) == 1

    def test_the_headers_of_the_page(self, web, clock) -> None:
        _, page = open_page(web, clock, "104")
        response = record(web, page, channel="fax")
        assert "frame-ancestors 'self' https://*.hubspot.com" in response.headers["Content-Security-Policy"]
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"

    def test_expired_link(self, sctx, web, clock) -> None:
        _, page = open_page(web, clock, "104")
        clock.advance(minutes=15)
        response = record(web, page)
        assert response.status_code == 410
        assert "This compose window has expired" in response.get_data(as_text=True)
        assert consents(sctx) == []

    def test_spent_link(self, sctx, web, clock) -> None:
        _, page = open_page(web, clock, "104")
        delivered = send(web, page, template="order_shipped:en_US", purpose="delivery_update",
                         **{"p.1": "Dmitri", "p.2": "A-1", "p.3": "Friday"})
        assert "<h1>Message sent</h1>" in delivered.get_data(as_text=True)
        response = record(web, page)
        assert response.status_code == 409
        assert "already used to send a message" in response.get_data(as_text=True)
        assert consents(sctx) == []

    def test_a_foreign_token(self, sctx, web, clock) -> None:
        _, page = open_page(web, clock, "104")
        response = record(web, page, token="not-a-token")
        assert response.status_code == 403 and "not a valid Herald compose link" in response.get_data(as_text=True)
        assert consents(sctx) == []


class TestBadInput:
    def test_unknown_channel(self, sctx, web, clock) -> None:
        _, page = open_page(web, clock, "104", "&template=winter_sale:en_US")
        response = record(web, page, channel="fax", note="keep me")
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        part = section(html)
        assert "<p class=\"reasons-lead\">Nothing was recorded:</p>" in part
        assert "<li>“fax” is not a channel this contact can be reached on: choose WhatsApp, SMS or Viber.</li>" \
            in part
        assert 'value="keep me"' in part  # the agent's note is kept to correct and resend
        assert '<option value="winter_sale:en_US" selected>' in html  # and the page is where they left it
        assert consents(sctx) == []

    def test_neither_grant_nor_withdrawal(self, sctx, web, clock) -> None:
        _, page = open_page(web, clock, "104")
        for decision in ("", "maybe"):
            response = record(web, page, decision=decision)
            assert response.status_code == 422
            assert "Say whether the customer gave their consent to marketing or withdrew it." in \
                response.get_data(as_text=True)
        assert consents(sctx) == []

    def test_note_too_long(self, sctx, web, clock) -> None:
        _, page = open_page(web, clock, "104")
        response = record(web, page, note="x" * 2001)
        assert response.status_code == 422
        assert "<li>A consent note has at most 2000 characters.</li>" in response.get_data(as_text=True)
        assert consents(sctx) == []

    def test_contact_without_a_number(self, sctx, web, clock) -> None:
        path, page = open_page(web, clock, "105")
        assert "Emeka Okafor has no phone number in HubSpot" in page.get_data(as_text=True)
        token = parse_qs(urlsplit(path).query)["token"][0]
        grant = hs.read_compose_token(sctx, token)
        response = web.post("/hubspot/compose/consent", data={
            "token": token, "csrf": compose.csrf_value("test-secret-key", grant.jti),
            "consent_channel": "whatsapp", "decision": "grant"})
        assert response.status_code == 409
        assert "Emeka Okafor has no phone number in HubSpot, so Herald has no one to record consent for. " \
               "Nothing was recorded." in response.get_data(as_text=True)
        assert consents(sctx) == []


class TestEscaping:
    def test_the_note_is_text(self, web, clock) -> None:
        _, page = open_page(web, clock, "104")
        note = '<script>alert(1)</script> & "quoted" <b>bold</b>'
        html = follow(web, record(web, page, note=note)).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html and "<b>bold</b>" not in html
        assert ('<q class="consent-note">&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quoted&#34; '
                "&lt;b&gt;bold&lt;/b&gt;</q>") in line(html, "whatsapp")

    def test_a_refused_channel_and_note_are_text(self, web, clock) -> None:
        _, page = open_page(web, clock, "104")
        html = record(web, page, channel='"><img src=x>', note='"><script>x</script>').get_data(as_text=True)
        assert "<img src=x>" not in html and "<script>x</script>" not in html
        assert "“&#34;&gt;&lt;img src=x&gt;” is not a channel" in html
        assert 'value="&#34;&gt;&lt;script&gt;x&lt;/script&gt;"' in html

    def test_the_place_in_the_redirect_is_encoded(self, web, clock) -> None:
        _, page = open_page(web, clock, "104")
        response = record(web, page, purpose='x"&recorded=sms#y')
        query = parse_qs(urlsplit(response.headers["Location"]).query)
        assert query["purpose"] == ['x"&recorded=sms#y'] and query["recorded"] == ["whatsapp"]


def test_consent_does_not_outlive_the_link(sctx, web, clock) -> None:
    """Recording is allowed for the link's lifetime only: one minute before expiry works, at expiry not."""
    _, page = open_page(web, clock, "104")
    clock.advance(minutes=14)
    assert record(web, page).status_code == 303
    clock.advance(minutes=1)
    assert record(web, page).status_code == 410
    assert len(consents(sctx)) == 1
