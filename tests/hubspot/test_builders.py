"""Pure builders, without a server or a database: the compose page's view of a decision, the classic
card answer, the write-back payloads, HubSpot's token answers and the refresh rule."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.domain.decision import ALLOWED, CONFIRM, REFUSED, Decision, PolicyVerdict
from app.domain.policy import MarketingConsent
from app.domain.refusals import Reason
from app.domain.sms import encode
from app.services import hubspot as hs
from app.web.hubspot.classic import classic_card, object_id
from app.web.hubspot.compose import csrf_value, same_site
from app.web.hubspot.screens.compose import (ComposeForm, ConsentEntry, choose_channel, choose_template, consent_problems,
                                          consent_recorder, consent_view, decision_view, field_id, partial_text,
                                          place_query, sms_line, window_line)

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc)
TEMPLATE = {"key": "order_shipped:en_US", "name": "order_shipped", "language": "en_US", "header": "Order {{1}}",
            "body": "Hi {{1}}, order {{2}} ships on {{3}}.", "footer": "Reply STOP to opt out.",
            "default_purpose": None,
            "slots": [{"id": "header.1", "label": "Header 1", "prefill": ""},
                      {"id": "1", "label": "Variable 1", "prefill": "Asha"},
                      {"id": "2", "label": "Variable 2", "prefill": ""},
                      {"id": "3", "label": "Variable 3", "prefill": ""}]}


def test_partial_text_marks_what_is_missing() -> None:
    assert partial_text(TEMPLATE, {"header.1": "#7", "1": "Asha", "2": " "}) == \
        "Order #7\nHi Asha, order [Variable 2] ships on [Variable 3].\nReply STOP to opt out."


def test_form_from_submission() -> None:
    form = ComposeForm.from_mapping({"channel": "sms", "template": "", "p.1": "Asha", "p.header.1": "#7",
                                     "confirmed": "1", "op": "send", "text": "x"}, submitted=True)
    assert (form.channel, form.template, form.confirmed, form.op) == ("sms", "", True, "send")
    assert form.values == {"1": "Asha", "header.1": "#7"} and form.purpose is None
    assert ComposeForm.from_mapping({}, submitted=False).template is None


@pytest.mark.parametrize(("requested", "states", "expected"), [
    ("viber", ("free_text", "free_text", "free_text"), "viber"),
    ("", ("template_only", "free_text", "free_text"), "whatsapp"),
    ("", ("unavailable", "opted_out", "template_only"), "viber"),
    ("telegram", ("unavailable", "unavailable", "unavailable"), "whatsapp"),
])
def test_choose_channel(requested: str, states: tuple[str, ...], expected: str) -> None:
    channels = [{"channel": c, "state": s} for c, s in zip(("whatsapp", "sms", "viber"), states)]
    assert choose_channel(requested, channels) == expected
    assert choose_channel("", []) is None


def test_choose_template() -> None:
    options = {"templates": [TEMPLATE], "free_text_allowed": False}
    assert choose_template(None, options) is TEMPLATE
    assert choose_template(None, {**options, "free_text_allowed": True}) is None
    assert choose_template("", options) is None
    assert choose_template("gone:en", options) is None


def test_sms_line() -> None:
    assert sms_line(encode("Hello").as_dict()) == "GSM-7 · 5 characters · 1 segment"
    assert sms_line(encode("€" * 81).as_dict()) == "GSM-7 · 162 characters · 2 segments"
    assert sms_line(encode("Привет").as_dict()) == "UCS-2 · 6 UCS-2 units · 1 segment (because of П р и в е)"
    assert sms_line(None) == ""


def test_window_line() -> None:
    opened = {"window": {"open": True, "closes_at": "2026-11-23T13:00:00+00:00"}, "free_text_note": "n"}
    closed = {"window": {"open": False, "closes_at": "2026-11-21T13:00:00+00:00"}, "free_text_note": "n"}
    assert window_line("whatsapp", opened) == "The 24-hour window is open until Nov 23, 2026 at 1:00 PM UTC."
    assert window_line("viber", closed) == ("The 24-hour window closed on Nov 21, 2026 at 1:00 PM UTC: only "
                                            "approved templates can be sent.")
    assert window_line("sms", {"free_text_note": "Free text."}) == "Free text."


class TestDecisionView:
    def test_refusal_fields_and_partial_preview(self) -> None:
        reasons = (Reason("template_param_missing", "Fill in “Variable 2”.", "param:2"),
                   Reason("window_closed", "The window closed.", ""))
        view = decision_view(Decision(REFUSED, "whatsapp", "+1", reasons=reasons), TEMPLATE, {"1": "Asha"})
        assert (view["outcome"], view["headline"], view["complete"]) == ("refused", "Cannot be sent", False)
        assert view["fields"] == {"param:2": "Fill in “Variable 2”."}
        assert "[Variable 2]" in view["text"]

    def test_confirmation_carries_both_questions(self) -> None:
        verdict = PolicyVerdict("confirm", (Reason("p", "Looks like marketing.", ""),), "promotion", True,
                                ("Would an agent send this today?", "Would they thank us?"))
        view = decision_view(Decision(CONFIRM, "sms", "+1", reasons=verdict.reasons, text="20% off",
                                      policy=verdict))
        assert view["needs_confirmation"] and view["questions"] == list(verdict.questions)
        assert view["headline"] == "Needs your confirmation" and not view["policy_refused"]

    def test_policy_refusal_is_named(self) -> None:
        verdict = PolicyVerdict("refuse", (Reason("no_consent", "No marketing consent.", ""),))
        view = decision_view(Decision(REFUSED, "sms", "+1", reasons=verdict.reasons, policy=verdict))
        assert view["policy_refused"] and view["questions"] == []

    def test_allowing_remarks_are_notes(self) -> None:
        verdict = PolicyVerdict("allow", (Reason("quiet_hours", "It is late for the customer.", ""),))
        view = decision_view(Decision(ALLOWED, "sms", "+1", reasons=verdict.reasons, text="Hi", policy=verdict,
                                      sms=encode("Hi")))
        assert view["reasons"] == [] and view["notes"] == ["It is late for the customer."]
        assert view["sms_line"] == "GSM-7 · 2 characters · 1 segment"

    def test_refusal_raised_before_a_decision(self) -> None:
        view = decision_view(None, refusal=(Reason("number_invalid", "Not a number.", "to"),))
        assert view["outcome"] == "refused" and view["reasons"][0]["message"] == "Not a number."

    def test_pristine_free_text_is_quiet(self) -> None:
        empty = Decision(REFUSED, "sms", "+1", reasons=(Reason("content_missing", "Write a message.", "text"),))
        assert decision_view(empty, pristine=True)["outcome"] == ""
        assert decision_view(empty)["outcome"] == "refused"


class TestConsentView:
    CHANNELS = [{"channel": "whatsapp", "label": "WhatsApp"}, {"channel": "sms", "label": "SMS"}]
    GRANT = MarketingConsent(True, "agent@acme.example", NOW, "hubspot", "on the phone", "whatsapp", "+12015550126")

    def test_lines_say_who_recorded_what_when(self) -> None:
        view = consent_view(self.CHANNELS, {"whatsapp": self.GRANT, "sms": None}, "sms", "agent@acme.example",
                            recorded="whatsapp")
        whatsapp, sms = view["lines"]
        assert (whatsapp["status"], whatsapp["status_label"], whatsapp["note"]) == ("granted", "Consented",
                                                                                  "on the phone")
        assert whatsapp["detail"] == "Recorded by agent@acme.example on Nov 22, 2026 at 3:00 PM UTC via hubspot."
        assert (sms["status"], sms["status_label"]) == ("none", "Not recorded")
        assert view["notice"] == ("Saved. WhatsApp: Consented to marketing on Nov 22, 2026 at 3:00 PM UTC, "
                                  "recorded by agent@acme.example via hubspot.")
        assert (view["channel"], view["can_record"], view["unavailable"]) == ("sms", True, "")

    def test_nothing_to_announce_or_record(self) -> None:
        assert consent_view(self.CHANNELS, {}, "sms", "x", recorded="sms")["notice"] == ""
        assert consent_view(self.CHANNELS, {}, "sms", "x", recorded="fax")["notice"] == ""
        nobody = consent_view(self.CHANNELS, {}, "sms", "")
        assert not nobody["can_record"] and "does not name the HubSpot user" in nobody["unavailable"]
        unknown = consent_view(self.CHANNELS, None, "sms", "x")
        assert not unknown["can_record"] and {line["status"] for line in unknown["lines"]} == {"unknown"}

    def test_a_refused_entry_is_kept(self) -> None:
        entry = ConsentEntry("sms", "grant", "typed note")
        view = consent_view(self.CHANNELS, {}, "whatsapp", "x", entry=entry, errors=["bad"])
        assert (view["channel"], view["note"], view["errors"]) == ("sms", "typed note", ["bad"])

    def test_problems_in_words(self) -> None:
        offered = {"whatsapp": "WhatsApp", "sms": "SMS", "viber": "Viber"}
        assert consent_problems(ConsentEntry("sms", "withdraw"), offered) == []
        assert consent_problems(ConsentEntry("fax", "grant"), offered) == [
            "“fax” is not a channel this contact can be reached on: choose WhatsApp, SMS or Viber."]
        assert consent_problems(ConsentEntry("", ""), {"sms": "SMS"}) == [
            "No channel was chosen: choose SMS.",
            "Say whether the customer gave their consent to marketing or withdrew it."]
        assert ConsentEntry.from_mapping({"consent_channel": " sms ", "decision": "withdraw"}).granted is False

    def test_recorder_and_place(self) -> None:
        assert consent_recorder("agent@acme.example", "77") == "agent@acme.example"
        assert consent_recorder("", "77") == "hubspot-user:77"
        assert consent_recorder("", "") == ""
        assert place_query({"channel": "sms", "template": "", "text": "secret", "p.1": "x", "csrf": "y"}) == \
            {"channel": "sms", "template": ""}


def test_consent_refusals_point_to_the_section() -> None:
    for code in ("marketing_consent_missing", "marketing_consent_withdrawn"):
        reason = Reason(code, "Marketing needs consent.", "to")
        decision = Decision(REFUSED, "whatsapp", "+12015550126", reasons=(reason,), text="Sale!",
                            policy=PolicyVerdict("refuse", (reason,), "promotion", True))
        assert decision_view(decision)["consent_needed"] is True
    other = Reason("quiet_hours", "It's late.", "")
    decision = Decision(REFUSED, "whatsapp", "+12015550126", reasons=(other,), text="Sale!",
                        policy=PolicyVerdict("refuse", (other,), "promotion", True))
    assert decision_view(decision)["consent_needed"] is False


def test_field_ids() -> None:
    assert field_id("param:header.1") == "param-header-1"
    assert field_id("text") == "text" and field_id("to") == ""


def test_csrf_value_is_bound_to_the_token_and_key() -> None:
    assert csrf_value("k", "jti-1") != csrf_value("k", "jti-2") != csrf_value("k2", "jti-1")
    assert len(csrf_value("k", "jti-1")) == 64


@pytest.mark.parametrize(("origin", "site", "ok"), [
    ("https://herald.test", None, True), ("http://10.0.0.7:8000", None, True), ("https://evil.example", None, False),
    ("null", "same-origin", True), ("null", None, True), (None, "same-origin", True), (None, "cross-site", False),
    ("https://herald.test", "cross-site", False), (None, "same-site", False), (None, None, True),
])
def test_same_site(origin, site, ok) -> None:
    assert same_site(origin, site, ("https://herald.test", "http://10.0.0.7:8000/")) is ok


class TestClassicCard:
    CARD = {"contact": {"id": "101", "name": "Asha", "phone": "+12015550123"},
            "setup": {"needed": False, "message": ""},
            "channels": [{"channel": "sms", "label": "SMS", "state": "opted_out", "summary": "Opted out",
                          "closes_at": None}],
            "messages": [{"id": f"msg_{i:020x}", "channel": "sms", "channel_label": "SMS", "text": f"m{i}",
                          "status": "failed", "status_label": "Failed",
                          "created_at": "2026-11-22T15:00:00+00:00"} for i in range(6)]}

    def test_at_most_five_results_and_the_iframe_action(self) -> None:
        answer = classic_card(self.CARD, "https://herald.test/hubspot/compose?token=t")
        assert len(answer["results"]) == 5
        assert answer["results"][0]["properties"][0]["optionType"] == "DANGER"
        assert answer["results"][1]["properties"][0] == {"label": "Status", "dataType": "STATUS",
                                                         "value": "Failed", "optionType": "DANGER"}
        assert answer["results"][1]["properties"][2]["value"] == "1795359600000"
        assert answer["primaryAction"]["uri"] == "https://herald.test/hubspot/compose?token=t"

    def test_setup_needed(self) -> None:
        answer = classic_card({**self.CARD, "setup": {"needed": True, "message": "Install Herald."}}, None)
        assert answer == {"results": [{"objectId": 1, "title": "Herald needs setting up", "link": None,
                                       "properties": [{"label": "What to do", "dataType": "STRING",
                                                       "value": "Install Herald."}]}]}

    def test_object_ids_are_stable_numbers(self) -> None:
        assert object_id("msg_0123456789abcdef0123") == 0x0123456789AB
        assert object_id("other") == object_id("other") < 2 ** 53


class TestHubSpotPayloads:
    def test_communication(self) -> None:
        body = hs.communication_payload("whatsapp", "Hi", NOW, "53701")
        assert body["properties"]["hs_communication_channel_type"] == "WHATS_APP"
        assert body["properties"]["hs_timestamp"] == "2026-11-22T15:00:00.000Z"
        assert body["associations"][0] == {"to": {"id": "53701"}, "types": [
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 81}]}

    def test_note_escapes_the_message(self) -> None:
        body = hs.note_payload("viber", "<img src=x onerror=alert(1)>\nbye", NOW, "1", "+12015550123", "sent")
        assert "&lt;img src=x onerror=alert(1)&gt;<br>bye" in body["properties"]["hs_note_body"]
        assert body["associations"][0]["types"][0]["associationTypeId"] == 202

    def test_token_answers_in_either_spelling(self) -> None:
        snake = hs.parse_token_answer({"access_token": "a", "refresh_token": "r", "expires_in": 1799,
                                       "hub_id": 62515, "scope": "oauth"})
        camel = hs.parse_token_answer({"accessToken": "a", "refreshToken": "r", "expiresIn": 1799, "hubId": 62515,
                                       "scopes": ["oauth", "crm.objects.contacts.read"]})
        assert (snake.hub_id, snake.expires_in) == (camel.hub_id, camel.expires_in) == ("62515", 1799)
        assert camel.scopes == "oauth crm.objects.contacts.read"
        with pytest.raises(hs.HubSpotError):
            hs.parse_token_answer({"token_type": "bearer"})

    def test_refresh_five_minutes_before_expiry(self) -> None:
        expires = NOW + timedelta(minutes=30)
        assert not hs.needs_refresh(expires, NOW + timedelta(minutes=24, seconds=59))
        assert hs.needs_refresh(expires, NOW + timedelta(minutes=25))
        assert hs.needs_refresh(None, NOW)

    def test_contact_prefers_a_mobile_number(self) -> None:
        contact = hs.contact_from_properties("1", {"firstname": "Ann", "phone": "+44 20 7946 0018",
                                                   "mobilephone": "07400 123456"}, "GB")
        assert (contact.phone, contact.name) == ("+447400123456", "Ann")
        broken = hs.contact_from_properties("2", {"phone": "call me"}, None)
        assert (broken.phone, broken.raw_phone, broken.name) == (None, "call me", "Contact 2")
