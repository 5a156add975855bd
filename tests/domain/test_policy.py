"""The proactive-message policy as a pure function: every rule, its edges, and the words it uses."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from app.domain.decision import Draft, PolicyInput, RecipientState
from app.domain.marketing_model import FORMAT, MarketingModel
from app.domain.policy import (QUESTIONS, REPLY, History, MarketingConsent, PolicySettings, judge,
                               quiet_zones)
from app.domain.purposes import PURPOSES
from app.domain.refusals import Refused
from app.domain.channels import decide
from app.domain.templates import TemplateSpec

# 15:00 UTC is 10:00 in New York (EST, UTC-5, in November).
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc)
TO = "+12015550123"
NEW_YORK = ("America/New_York",)
SERVICE_TEXT = "Your parcel is out for delivery and should arrive by 6 PM."
SALE_TEXT = "Our winter sale is on: 20% off everything until Sunday!"
MIXED_TEXT = "Your order has shipped! Use code SAVE10 for 10% off your next order."
CONSENT = MarketingConsent(granted=True, recorded_by="ana@example.com", recorded_at=NOW - timedelta(days=10),
                           source="web_form", channel="whatsapp")
UTILITY = TemplateSpec(name="order_update", language="en_US", channel="whatsapp", category="UTILITY",
                       status="APPROVED", body="Hi {{1}}, {{2}}")
MARKETING = TemplateSpec(name="winter_sale", language="en_US", channel="whatsapp", category="MARKETING",
                         status="APPROVED", body="Hi {{1}}, our winter sale is on: 20% off everything!")
AUTH = TemplateSpec(name="login_code", language="en_US", channel="whatsapp", category="AUTHENTICATION",
                    status="APPROVED", body="{{1}} is your verification code.")
VIBER_TX = TemplateSpec(name="parcel", language="en", channel="viber", category="TRANSACTIONAL",
                        status="APPROVED", body="Hello {{name}}, {{news}}", parameter_format="NAMED")


DUTCH_TEXT = "Je pakket is onderweg en wordt morgen tussen 9 en 12 uur bezorgd."


def verdict(text: str = SERVICE_TEXT, *, history: History | None = None, settings: PolicySettings | None = None,
            now: datetime = NOW, state: RecipientState | None = None, channel: str = "whatsapp",
            model: MarketingModel | None = None, **draft):
    history = history if history is not None else History(time_zones=NEW_YORK)
    inputs = PolicyInput(draft=Draft(channel, TO, text=text, **draft), text=text,
                         state=state or RecipientState(), now=now)
    return judge(inputs, history, settings or PolicySettings(), model)


def constant_model(bias: float) -> MarketingModel:
    """A model that gives every text the same probability, sigmoid(bias): the policy's handling of
    "sure", "unsure" and "no marketing" is tested apart from what the trained model thinks of a text.
    Its line is 0.5 and it is unsure from 0.3 to 0.7."""
    return MarketingModel({"format": FORMAT, "info": {},
                           "thresholds": {"line": 0.5, "unsure_low": 0.3, "unsure_high": 0.7, "near_miss": 0.2},
                           "marketing": {"bias": bias, "word": {}, "char": {}},
                           "kinds": {"labels": ["promotion", "upsell"], "bias": [0.1, 0.0], "word": {}}})


UNSURE_ABOVE, UNSURE_BELOW, SURE = constant_model(0.2), constant_model(-0.2), constant_model(3.0)


def consented(**extra) -> History:
    return History(consent=CONSENT, time_zones=NEW_YORK, **extra)


def codes(result) -> list[str]:
    return [r.code for r in result.reasons]


def at(hour: int, minute: int = 0) -> datetime:
    """A UTC moment on Nov 22 or 23 that is ``hour:minute`` in New York."""
    return datetime(2026, 11, 22, tzinfo=timezone.utc) + timedelta(hours=hour + 5, minutes=minute)


# Purposes ------------------------------------------------------------------------------------------

def test_a_plain_service_message_is_allowed_with_a_reason_and_a_detected_purpose():
    result = verdict()
    assert result.outcome == "allow" and not result.marketing
    assert result.purpose == "confirmation"
    assert codes(result) == ["purpose_detected"]
    # "found no marketing", never "this is certainly service"
    assert result.reasons[0].message == ("No purpose was given, so Herald records it as “Confirmation or "
                                         "progress”. Herald found no marketing in it.")


def test_a_declared_service_purpose_is_kept_and_said():
    result = verdict(purpose="delivery_update")
    assert (result.outcome, result.purpose, codes(result)) == ("allow", "delivery_update", ["service"])
    assert result.reasons[0].message == "Service message (“Delivery or order update”). Herald found no marketing in it."


def test_a_near_miss_is_shown_on_a_service_verdict():
    near = constant_model(-1.0)  # 27 %: below the unsure band, above the near-miss floor
    result = verdict(purpose="delivery_update", model=near)
    assert result.outcome == "allow"
    assert result.reasons[0].message.startswith("Service message (“Delivery or order update”). Herald found no "
                                                "marketing in it. Closest to marketing, below Herald's line (27 %): "
                                                "“Your parcel is out for delivery")
    assert result.content["near_miss"]["text"] == SERVICE_TEXT


@pytest.mark.parametrize(("template", "purpose"), [(MARKETING, "promotion"), (AUTH, "one_time_passcode"),
                                                   (UTILITY, "confirmation")])
def test_the_template_category_implies_a_purpose(template, purpose):
    result = verdict("text", template=template, history=consented())
    assert result.purpose == purpose


@pytest.mark.parametrize(("text", "purpose"), [
    ("You left something in your cart: complete your purchase today.", "abandoned_cart"),
    ("We miss you! It's been a while since your last order.", "win_back"),
    ("Upgrade to Premium today for unlimited downloads.", "upsell"),
    (SALE_TEXT, "promotion"),
])
def test_marketing_content_without_a_purpose_is_detected_as_the_matching_marketing_purpose(text, purpose):
    result = verdict(text, history=consented())
    assert result.outcome == "allow" and result.marketing and result.purpose == purpose
    assert codes(result)[:2] == ["marketing_consented", "marketing_detected"]
    assert "marketing_content" in codes(result)


@pytest.mark.parametrize("draft", [
    dict(), dict(purpose="appointment"), dict(purpose="upsell"), dict(template=UTILITY), dict(template=MARKETING),
    dict(template=AUTH), dict(origin="ai", purpose="promotion"), dict(origin="api", purpose="delivery_update"),
])
@pytest.mark.parametrize("text", [SERVICE_TEXT, SALE_TEXT, MIXED_TEXT])
def test_every_verdict_carries_a_known_purpose_and_sentences(draft, text):
    for history in (History(), consented()):
        result = verdict(text, history=history, **draft)
        assert result.purpose in PURPOSES
        assert result.reasons, "every verdict says why"
        for reason in result.reasons:
            assert reason.message[0].isupper() and reason.message.rstrip(")").endswith((".", "”")), reason.message


def test_an_unknown_purpose_is_refused_in_words():
    result = verdict(purpose="gossip")
    assert result.outcome == "refuse" and codes(result) == ["purpose_invalid"]
    assert result.purpose == "confirmation", "even a refusal names a purpose"


# Marketing needs consent --------------------------------------------------------------------------

def test_marketing_without_consent_is_refused_with_the_agreed_sentence():
    result = verdict(SALE_TEXT, purpose="promotion")
    assert result.outcome == "refuse" and result.marketing
    assert codes(result) == ["marketing_consent_missing"]
    assert result.reasons[0].message == ("Marketing needs the customer's consent to marketing on WhatsApp; none is "
                                         "recorded.")


def test_marketing_with_consent_is_allowed_and_says_who_recorded_it():
    result = verdict(SALE_TEXT, purpose="promotion", history=consented())
    assert result.outcome == "allow" and codes(result) == ["marketing_consented"]
    assert "ana@example.com" in result.reasons[0].message and "Nov 12, 2026" in result.reasons[0].message


def test_withdrawn_consent_is_no_consent():
    withdrawn = replace(CONSENT, granted=False, recorded_by="bob@example.com", recorded_at=NOW - timedelta(days=1))
    result = verdict(SALE_TEXT, purpose="promotion", history=History(consent=withdrawn, time_zones=NEW_YORK))
    assert codes(result) == ["marketing_consent_withdrawn"]
    assert "withdrew it" in result.reasons[0].message and "bob@example.com" in result.reasons[0].message


def test_the_channel_is_named_in_the_consent_reason():
    result = verdict(SALE_TEXT, purpose="promotion", channel="sms")
    assert "marketing on SMS" in result.reasons[0].message


def test_detected_marketing_needs_consent_and_explains_why_it_is_marketing():
    result = verdict(SALE_TEXT)
    assert result.outcome == "refuse" and result.purpose == "promotion"
    assert codes(result) == ["marketing_detected", "marketing_content", "marketing_consent_missing"]
    explanation = result.reasons[1].message
    # the sentence, the kind, and the words that weighed most
    assert explanation.startswith("Reads as marketing (") and "promotion" in explanation
    assert f"“{SALE_TEXT}”" in explanation and "the words that weighed most: “" in explanation
    assert result.content["kind"] == "promotion" and result.content["marketing"] is True


def test_a_utility_template_whose_filled_in_text_reads_as_marketing_is_caught():
    text = "Hi Ana, your order shipped. Get 30% off your next order with code WINTER30!"
    result = verdict(text, template=UTILITY)
    assert result.outcome == "refuse" and result.marketing and result.purpose == "promotion"
    assert result.reasons[0].message.startswith("Template “order_update” is a utility template, but with its "
                                                "values filled in it reads as marketing")
    assert "marketing_consent_missing" in codes(result)


def test_a_marketing_template_cannot_go_as_a_service_purpose():
    result = verdict("Hi Ana, our winter sale is on", template=MARKETING, purpose="delivery_update",
                     history=consented())
    assert result.outcome == "refuse" and codes(result) == ["marketing_template_as_service"]
    assert "Choose a marketing purpose" in result.reasons[0].message


# AI origin ----------------------------------------------------------------------------------------

def test_marketing_proposed_by_an_ai_is_refused_whatever_the_consent():
    result = verdict(SALE_TEXT, purpose="promotion", origin="ai", history=consented())
    assert result.outcome == "refuse" and codes(result) == ["ai_marketing"]


def test_marketing_detected_in_an_ai_draft_is_refused_too():
    result = verdict(SALE_TEXT, origin="ai", history=consented())
    assert "ai_marketing" in codes(result)


def test_an_ai_may_propose_service():
    assert verdict(origin="ai", purpose="delivery_update").outcome == "allow"


# Service that reads as marketing ------------------------------------------------------------------

def test_declared_service_that_reads_as_marketing_is_marketing_for_an_agent_too():
    """An agent cannot confirm a mixed message into a service message: without consent it is refused."""
    result = verdict(MIXED_TEXT, purpose="delivery_update")
    assert result.outcome == "refuse" and result.marketing and result.purpose == "promotion"
    assert codes(result) == ["service_reads_as_marketing", "marketing_content", "marketing_content",
                             "marketing_consent_missing"]
    assert result.reasons[0].message.startswith("This is sent as “Delivery or order update” but reads as "
                                                "marketing. It can go only as marketing (“Promotion”)")
    # the mixed message is caught by its promotional sentence, which is quoted
    assert "the sentence below reads as marketing" in result.reasons[1].message
    assert "“Use code SAVE10 for 10% off your next order.”" in result.reasons[2].message
    assert result.content["mixed"] is True and result.content["kind"] == "mixed"


def test_a_mixed_message_with_consent_asks_the_agent_to_send_it_as_marketing():
    result = verdict(MIXED_TEXT, purpose="delivery_update", history=consented())
    assert result.outcome == "confirm" and result.purpose == "promotion"
    assert result.questions == ("Send it as marketing (“Promotion”)?",)
    assert "If you send it, it goes as marketing (“Promotion”)" in result.reasons[0].message


@pytest.mark.parametrize(("history", "draft", "code"), [
    (History(time_zones=NEW_YORK), {}, "marketing_consent_missing"),
    (consented(), {"origin": "ai"}, "service_reads_as_marketing"),
    (consented(last_service_at=NOW - timedelta(hours=2)), {}, "marketing_after_service"),
])
def test_confirming_a_mixed_message_keeps_the_marketing_rules(history, draft, code):
    state = RecipientState(last_inbound_at=NOW - timedelta(hours=1))
    draft = Draft("whatsapp", TO, text=MIXED_TEXT, purpose="delivery_update", confirmed=True, **draft)

    def policy(inputs):
        return judge(inputs, history, PolicySettings())

    decision = decide(draft, state, NOW, policy=policy)
    assert decision.outcome == "refused" and code in [r.code for r in decision.reasons]


def test_a_confirmed_mixed_message_goes_as_marketing_never_as_service():
    state = RecipientState(last_inbound_at=NOW - timedelta(hours=1))

    def policy(inputs):
        return judge(inputs, consented(), PolicySettings())

    draft = Draft("whatsapp", TO, text=MIXED_TEXT, purpose="delivery_update", confirmed=True)
    decision = decide(draft, state, NOW, policy=policy)
    assert decision.outcome == "allowed" and decision.purpose == "promotion" and decision.policy.marketing


@pytest.mark.parametrize("origin, who", [("api", "an API or workflow"), ("ai", "an AI assistant")])
def test_declared_service_that_reads_as_marketing_is_refused_for_api_and_ai(origin, who):
    result = verdict(MIXED_TEXT, purpose="delivery_update", origin=origin, history=consented())
    assert result.outcome == "refuse" and codes(result)[0] == "service_reads_as_marketing"
    assert who in result.reasons[0].message and not result.questions


def test_an_authentication_template_that_reads_as_marketing_is_marketing():
    result = verdict("123456 is your code. Use code SAVE10 for 10% off!", template=AUTH)
    assert result.outcome == "refuse" and result.marketing
    assert "marketing_consent_missing" in codes(result)


# Where the model is unsure -------------------------------------------------------------------------

@pytest.mark.parametrize("model", [UNSURE_ABOVE, UNSURE_BELOW])
def test_where_the_model_is_unsure_an_agent_answers_the_two_questions(model):
    result = verdict(purpose="delivery_update", model=model)
    assert result.outcome == "confirm" and result.purpose == "delivery_update"
    assert result.questions == QUESTIONS == ("Would a competent agent send this message today, unprompted?",
                                             "Would the customer thank you for it?")
    assert codes(result) == ["marketing_unsure", "marketing_content"]
    assert result.reasons[1].message.startswith("Herald is not sure whether this reads as marketing (")
    assert f"“{SERVICE_TEXT}”" in result.reasons[1].message
    assert result.content["unsure"] is True


def test_unsure_without_a_purpose_is_the_agents_call_not_a_detected_promotion():
    result = verdict(model=UNSURE_ABOVE)
    assert result.outcome == "confirm" and result.purpose == "confirmation" and result.questions == QUESTIONS


def test_a_confirmed_doubt_goes_out_as_service_and_a_refusal_never_does():
    history = History(time_zones=NEW_YORK)
    state = RecipientState(last_inbound_at=NOW - timedelta(hours=1))

    def policy(inputs):
        return judge(inputs, history, PolicySettings(), UNSURE_ABOVE)

    draft = Draft("whatsapp", TO, text=SERVICE_TEXT, purpose="delivery_update")
    asked = decide(draft, state, NOW, policy=policy)
    assert asked.outcome == "confirm" and asked.policy.questions == QUESTIONS
    confirmed = decide(replace(draft, confirmed=True), state, NOW, policy=policy)
    assert confirmed.outcome == "allowed" and confirmed.purpose == "delivery_update"
    refused = decide(replace(draft, origin="api", confirmed=True), state, NOW, policy=policy)
    assert refused.outcome == "refused"


@pytest.mark.parametrize(("model", "outcome"), [(UNSURE_ABOVE, "refuse"), (UNSURE_BELOW, "allow")])
def test_an_api_sender_gets_the_models_verdict_where_it_is_unsure(model, outcome):
    result = verdict(purpose="delivery_update", origin="api", model=model)
    assert result.outcome == outcome and not result.questions
    if outcome == "allow":  # the close call is shown, not hidden
        assert "Closest to marketing, below Herald's line (45 %)" in result.reasons[0].message


def test_a_sure_verdict_needs_no_questions():
    assert verdict(purpose="delivery_update", model=constant_model(-6.0)).outcome == "allow"
    assert verdict(purpose="delivery_update", model=SURE).outcome == "refuse"


# Languages the check does not read -----------------------------------------------------------------

def test_an_agent_confirms_text_in_a_language_the_check_does_not_read():
    result = verdict(DUTCH_TEXT, purpose="delivery_update")
    assert result.outcome == "confirm" and result.questions == QUESTIONS
    assert codes(result) == ["language_unchecked"]
    assert result.reasons[0].message.startswith("This looks like Dutch, which Herald's marketing check does not "
                                                "read")
    assert result.content["language"] == "other" and result.content["language_name"] == "Dutch"


@pytest.mark.parametrize("origin", ["api", "ai"])
def test_an_api_or_ai_send_in_an_unchecked_language_is_refused_by_default_naming_the_language(origin):
    result = verdict(DUTCH_TEXT, purpose="delivery_update", origin=origin)
    assert result.outcome == "refuse" and codes(result) == ["language_unchecked"]
    assert "This looks like Dutch" in result.reasons[0].message
    assert "unchecked_language=refuse" in result.reasons[0].message


def test_the_workspace_chooses_what_unchecked_languages_get():
    allow = PolicySettings.from_mapping({"unchecked_language": "allow"})
    allowed = verdict(DUTCH_TEXT, purpose="delivery_update", origin="api", settings=allow)
    assert allowed.outcome == "allow" and "language_unchecked" in codes(allowed)
    as_marketing = PolicySettings.from_mapping({"unchecked_language": "marketing"})
    refused = verdict(DUTCH_TEXT, purpose="delivery_update", origin="api", settings=as_marketing)
    assert refused.outcome == "refuse" and codes(refused) == ["language_unchecked", "marketing_consent_missing"]
    sent = verdict(DUTCH_TEXT, purpose="delivery_update", origin="api", settings=as_marketing, history=consented())
    assert sent.outcome == "allow" and sent.purpose == "promotion" and sent.marketing
    ai = verdict(DUTCH_TEXT, purpose="delivery_update", origin="ai", settings=as_marketing, history=consented())
    assert ai.outcome == "refuse" and "ai_marketing" in codes(ai)


def test_a_declared_marketing_send_needs_no_language_check():
    result = verdict(DUTCH_TEXT, purpose="promotion", origin="api", history=consented())
    assert result.outcome == "allow" and codes(result) == ["marketing_consented"]


def test_short_text_with_nothing_to_tell_a_language_by_is_not_unchecked():
    assert verdict("OK", purpose="confirmation", origin="api").outcome == "allow"
    assert verdict("482913", purpose="one_time_passcode", origin="api").outcome == "allow"


def test_workspace_phrases_feed_the_content_check():
    text = "Your order shipped. Ask about the Gold Circle at the desk."
    assert verdict(text).outcome == "allow"
    listed = PolicySettings.from_mapping({"marketing_phrases": ["gold circle"]})
    result = verdict(text, settings=listed)
    assert result.outcome == "refuse" and 'Uses a phrase this workspace lists as marketing ("Gold Circle")' in \
        result.reasons[1].message
    by_code = PolicySettings.from_mapping({"marketing_phrases": {"upsell": ["gold circle"]}})
    assert verdict(text, settings=by_code).purpose == "upsell"


def test_marketing_in_any_of_the_six_languages_is_read_whatever_the_workspace_languages():
    spanish = "Hola Ana, te echamos de menos: vuelve con nosotros."
    assert verdict(spanish).purpose == "win_back"
    assert verdict(spanish, settings=PolicySettings.from_mapping({}, ["es"])).purpose == "win_back"


# Marketing after service --------------------------------------------------------------------------

def test_marketing_23_hours_59_minutes_after_a_service_message_is_refused():
    history = consented(last_service_at=NOW - timedelta(hours=23, minutes=59))
    result = verdict(SALE_TEXT, purpose="promotion", history=history)
    assert result.outcome == "refuse" and codes(result) == ["marketing_after_service"]
    message = result.reasons[0].message
    assert "23 hours 59 minutes ago" in message and "support channel is not a promotion channel" in message
    assert "It may go after Nov 22, 2026 at 3:01 PM UTC." in message


def test_marketing_24_hours_after_a_service_message_may_go():
    history = consented(last_service_at=NOW - timedelta(hours=24))
    assert verdict(SALE_TEXT, purpose="promotion", history=history).outcome == "allow"


def test_the_wait_after_service_is_a_workspace_setting():
    history = consented(last_service_at=NOW - timedelta(hours=3))
    two = PolicySettings.from_mapping({"marketing_after_service_hours": 2})
    assert verdict(SALE_TEXT, purpose="promotion", history=history, settings=two).outcome == "allow"
    off = PolicySettings.from_mapping({"marketing_after_service_hours": 0})
    assert verdict(SALE_TEXT, purpose="promotion", history=consented(last_service_at=NOW), settings=off).outcome \
        == "allow"
    longer = PolicySettings.from_mapping({"marketing_after_service_hours": 48})
    result = verdict(SALE_TEXT, purpose="promotion", history=consented(last_service_at=NOW - timedelta(hours=30)),
                     settings=longer)
    assert codes(result) == ["marketing_after_service"] and "waits 48 hours" in result.reasons[0].message


def test_service_right_after_service_is_fine():
    assert verdict(history=History(last_service_at=NOW - timedelta(minutes=5), time_zones=NEW_YORK)).outcome \
        == "allow"


def test_every_refusal_reason_is_gathered():
    history = History(last_service_at=NOW - timedelta(hours=1), time_zones=NEW_YORK)
    result = verdict(SALE_TEXT, purpose="promotion", origin="ai", history=history, now=at(22, 40))
    assert codes(result) == ["ai_marketing", "marketing_consent_missing", "marketing_after_service", "quiet_hours"]


# Viber's first message ----------------------------------------------------------------------------

def test_viber_first_message_is_never_promotional():
    history = History(consent=replace(CONSENT, channel="viber"), first_on_viber=True, time_zones=NEW_YORK)
    result = verdict("Hello Ana, double points this week only!", channel="viber", template=VIBER_TX,
                     purpose="promotion", history=history)
    assert result.outcome == "refuse" and codes(result) == ["viber_first_promotional"]
    detected = verdict("Hello Ana, our winter sale is on: 20% off!", channel="viber", template=VIBER_TX,
                       history=history)
    assert "viber_first_promotional" in codes(detected)


def test_viber_first_message_may_be_transactional_and_later_ones_promotional():
    first = History(first_on_viber=True, time_zones=NEW_YORK)
    assert verdict("Hello Ana, your parcel arrives today.", channel="viber", template=VIBER_TX,
                   history=first).outcome == "allow"
    later = History(consent=replace(CONSENT, channel="viber"), first_on_viber=False, time_zones=NEW_YORK)
    assert verdict("Hello Ana, double points this week!", channel="viber", template=VIBER_TX, purpose="promotion",
                   history=later).outcome == "allow"


def test_the_viber_rule_is_only_for_viber():
    history = consented(first_on_viber=True)
    assert verdict(SALE_TEXT, purpose="promotion", history=history).outcome == "allow"


# Quiet hours --------------------------------------------------------------------------------------

def test_quiet_hours_refuse_with_the_local_time_and_when_to_send():
    result = verdict(purpose="delivery_update", now=at(22, 40))
    assert result.outcome == "refuse" and codes(result) == ["quiet_hours"]
    assert result.reasons[0].message == ("It's 22:40 for this customer (America/New_York): quiet hours run "
                                         "21:00–08:00. Send after 08:00 their time.")


@pytest.mark.parametrize(("hour", "minute", "quiet"), [
    (20, 59, False), (21, 0, True), (23, 59, True), (24, 0, True), (31, 59, True), (32, 0, False), (10, 0, False),
])
def test_quiet_hours_edges_in_local_time(hour, minute, quiet):
    result = verdict(purpose="delivery_update", now=at(hour, minute))
    assert (result.outcome == "refuse") is quiet


def test_quiet_hours_follow_the_recipients_time_zone_not_ours():
    moment = datetime(2026, 11, 22, 13, 30, tzinfo=timezone.utc)  # 08:30 in New York, 22:30 in Tokyo
    assert verdict(now=moment, history=History(time_zones=NEW_YORK)).outcome == "allow"
    tokyo = verdict(now=moment, history=History(time_zones=("Asia/Tokyo",)))
    assert tokyo.outcome == "refuse" and "It's 22:30 for this customer (Asia/Tokyo)" in tokyo.reasons[0].message


def test_summer_time_moves_the_local_clock():
    july = datetime(2026, 7, 1, 0, 30, tzinfo=timezone.utc)  # 20:30 EDT, not quiet; in winter it would be 19:30
    assert verdict(now=july).outcome == "allow"
    july_late = datetime(2026, 7, 1, 1, 0, tzinfo=timezone.utc)  # 21:00 EDT
    assert verdict(now=july_late).outcome == "refuse"


def test_a_number_in_several_time_zones_is_quiet_if_quiet_in_any():
    zones = ("Europe/Moscow", "Asia/Vladivostok")  # 10 hours apart
    moment = datetime(2026, 11, 22, 3, 40, tzinfo=timezone.utc)  # 06:40 Moscow, 13:40 Vladivostok
    assert [z for z, _ in quiet_zones(moment, zones, "21:00", "08:00")] == ["Europe/Moscow"]
    result = verdict(now=moment, history=History(time_zones=zones))
    assert result.outcome == "refuse"
    message = result.reasons[0].message
    assert message.startswith("It's 06:40 for this customer in Europe/Moscow, one of the time zones their number "
                              "may be in (Europe/Moscow, Asia/Vladivostok)")
    # 08:00 in Moscow is 05:00 UTC, when it is 15:00 in Vladivostok
    assert "Send after 08:00 in all of them (Nov 22, 2026 at 5:00 AM UTC)." in message
    clear = datetime(2026, 11, 22, 5, 0, tzinfo=timezone.utc)
    assert verdict(now=clear, history=History(time_zones=zones)).outcome == "allow"


def test_an_unknown_time_zone_cannot_be_checked_and_the_verdict_says_so():
    result = verdict(now=at(23), history=History())
    assert result.outcome == "allow" and "time_zone_unknown" in codes(result)
    unloadable = verdict(now=at(23), history=History(time_zones=("Mars/Olympus_Mons",)))
    assert unloadable.outcome == "allow" and "time_zone_unknown" in codes(unloadable)
    mixed = verdict(now=at(23), history=History(time_zones=("Mars/Olympus_Mons", "America/New_York")))
    assert mixed.outcome == "refuse" and "(America/New_York)" in mixed.reasons[0].message


@pytest.mark.parametrize("draft", [dict(purpose="account_security"), dict(purpose="one_time_passcode"),
                                   dict(template=AUTH)])
def test_security_events_and_passcodes_break_quiet_hours(draft):
    assert verdict("Your code is 123456." if draft.get("template") else "A new sign-in to your account.",
                   now=at(23, 30), **draft).outcome == "allow"


def test_a_detected_purpose_never_breaks_quiet_hours():
    assert verdict("A new sign-in to your account was detected.", now=at(23, 30)).outcome == "refuse"


@pytest.mark.parametrize("purpose", ["account_security", "one_time_passcode"])
def test_an_urgent_purpose_loses_its_exemptions_when_the_text_reads_as_marketing(purpose):
    text = "Your code is 482913. Upgrade to Premium today and get 3 months free!"
    late = verdict(text, purpose=purpose, now=at(23, 30), history=consented())
    assert late.outcome == "refuse" and "quiet_hours" in codes(late)
    assert "urgent_exemption_lost" in codes(late)
    capped = verdict(text, purpose=purpose, history=consented(proactive_sent=(NOW - timedelta(hours=1),) * 3))
    assert capped.outcome == "refuse" and "daily_cap" in codes(capped)


def test_an_urgent_purpose_in_an_unchecked_language_keeps_no_exemption():
    result = verdict("Je verificatiecode is 482913. Deel deze code met niemand.", purpose="one_time_passcode",
                     now=at(23, 30), origin="api", settings=PolicySettings.from_mapping({"unchecked_language": "allow"}))
    assert result.outcome == "refuse" and "quiet_hours" in codes(result)


def test_quiet_hours_are_a_workspace_setting():
    lunch = PolicySettings.from_mapping({"quiet_start": "12:00", "quiet_end": "14:00"})
    assert verdict(now=at(13), settings=lunch).outcome == "refuse"
    assert verdict(now=at(23), settings=lunch).outcome == "allow"
    off = PolicySettings.from_mapping({"quiet_start": "00:00", "quiet_end": "00:00"})
    assert verdict(now=at(3), settings=off).outcome == "allow"


def test_a_reply_inside_the_open_window_is_not_proactive():
    state = RecipientState(last_inbound_at=at(22, 30) - timedelta(minutes=10))
    result = verdict(now=at(22, 30), state=state, history=History(proactive_sent=(NOW,) * 5, time_zones=NEW_YORK))
    assert result.outcome == "allow" and REPLY in codes(result)
    closed = RecipientState(last_inbound_at=at(22, 30) - timedelta(hours=24))
    assert verdict(now=at(22, 30), state=closed).outcome == "refuse"


def test_marketing_rules_still_apply_to_a_reply():
    state = RecipientState(last_inbound_at=NOW - timedelta(minutes=10))
    assert codes(verdict(SALE_TEXT, purpose="promotion", state=state)) == ["marketing_consent_missing"]


# Daily cap ----------------------------------------------------------------------------------------

def test_the_daily_cap_allows_three_and_refuses_the_fourth():
    two = History(proactive_sent=(NOW - timedelta(hours=5), NOW - timedelta(hours=1)), time_zones=NEW_YORK)
    assert verdict(history=two).outcome == "allow"
    three = replace(two, proactive_sent=(NOW - timedelta(hours=23), *two.proactive_sent))
    result = verdict(history=three)
    assert result.outcome == "refuse" and codes(result) == ["daily_cap"]
    assert result.reasons[0].message == ("This customer has already had 3 proactive messages in the last 24 hours; "
                                         "this workspace allows 3 a day. The next can go after Nov 22, 2026 at "
                                         "4:00 PM UTC.")


def test_a_send_24_hours_old_no_longer_counts():
    sent = (NOW - timedelta(hours=24), NOW - timedelta(hours=2), NOW - timedelta(hours=1))
    assert verdict(history=History(proactive_sent=sent, time_zones=NEW_YORK)).outcome == "allow"


def test_the_cap_is_a_workspace_setting_and_can_be_lifted():
    sent = History(proactive_sent=(NOW - timedelta(hours=1),), time_zones=NEW_YORK)
    one = PolicySettings.from_mapping({"daily_cap": 1})
    assert "allows 1 a day" in verdict(history=sent, settings=one).reasons[0].message
    assert verdict(history=replace(sent, proactive_sent=(NOW,) * 50),
                   settings=PolicySettings.from_mapping({"daily_cap": None})).outcome == "allow"


def test_security_events_and_passcodes_are_not_capped():
    capped = History(proactive_sent=(NOW - timedelta(hours=1),) * 3, time_zones=NEW_YORK)
    assert verdict("A new sign-in to your account.", purpose="account_security", history=capped).outcome == "allow"
    assert verdict("Your code is 123456.", purpose="one_time_passcode", history=capped).outcome == "allow"
    assert verdict("A new sign-in to your account.", history=capped).outcome == "refuse"


# Settings -----------------------------------------------------------------------------------------

def test_defaults():
    settings = PolicySettings.from_mapping({})
    assert (settings.marketing_after_service_hours, settings.daily_cap, settings.quiet_start, settings.quiet_end) \
        == (24, 3, "21:00", "08:00")
    assert settings.languages == ("en",)
    assert settings.unchecked_language == "refuse"
    assert PolicySettings.from_mapping({"marketing_languages": ["pt"]}, ["es", "en_US"]).languages == \
        ("en", "es", "en_US", "pt")


@pytest.mark.parametrize("settings", [
    {"quiet_start": "25:00"}, {"quiet_end": "8am"}, {"daily_cap": 0}, {"daily_cap": "3"}, {"daily_cap": True},
    {"marketing_after_service_hours": -1}, {"marketing_after_service_hours": "a day"},
    {"marketing_phrases": 7}, {"marketing_phrases": {"promotion": 7}}, {"marketing_languages": 3},
    {"unchecked_language": "maybe"},
])
def test_a_bad_setting_is_refused_in_words_never_ignored(settings):
    with pytest.raises(Refused) as caught:
        PolicySettings.from_mapping(settings)
    assert caught.value.code == "policy_setting_invalid"
    assert next(iter(settings)) in caught.value.reasons[0].message
