from datetime import datetime, timedelta, timezone

import pytest

from app.domain.decision import Draft, Limits, PolicyVerdict, RecipientState
from app.domain.refusals import Reason
from app.domain.channels import channel_summary, decide
from app.domain.templates import TemplateSpec

NOW = datetime(2026, 11, 22, 15, 5, tzinfo=timezone.utc)
TO = "+12015550123"
UTILITY = TemplateSpec(name="order", language="en", channel="whatsapp", category="UTILITY", status="APPROVED",
                       body="Order {{1}} shipped.")
VIBER_TX = TemplateSpec(name="parcel", language="en", channel="viber", category="TRANSACTIONAL",
                        status="APPROVED", body="Parcel {{tracking}} arrives today.", parameter_format="NAMED")
VIBER_PROMO = TemplateSpec(name="promo", language="en", channel="viber", category="PROMOTIONAL",
                           status="APPROVED", body="Double points this week.")


def wrote(hours_ago: float, **extra) -> RecipientState:
    return RecipientState(last_inbound_at=NOW - timedelta(hours=hours_ago), **extra)


def codes(decision):
    return [r.code for r in decision.reasons]


# WhatsApp ------------------------------------------------------------------------------------------

def test_whatsapp_free_text_allowed_inside_the_window_with_its_closing_time():
    decision = decide(Draft("whatsapp", TO, text="Your parcel is here"), wrote(1), NOW)
    assert decision.allowed
    assert decision.window.closes_at == NOW + timedelta(hours=23)


def test_whatsapp_window_edges_one_second_either_side_of_24_hours():
    inside = RecipientState(last_inbound_at=NOW - timedelta(hours=24) + timedelta(seconds=1))
    outside = RecipientState(last_inbound_at=NOW - timedelta(hours=24) - timedelta(seconds=1))
    assert decide(Draft("whatsapp", TO, text="hi"), inside, NOW).allowed
    refused = decide(Draft("whatsapp", TO, text="hi"), outside, NOW)
    assert codes(refused) == ["window_closed"]
    assert "closed on Nov 22, 2026 at 3:04 PM UTC" in refused.reasons[0].message
    assert "template" in refused.reasons[0].message


def test_a_new_inbound_message_restarts_the_window():
    old = wrote(30)
    assert not decide(Draft("whatsapp", TO, text="hi"), old, NOW).allowed
    restarted = RecipientState(last_inbound_at=NOW - timedelta(minutes=5))
    assert decide(Draft("whatsapp", TO, text="hi"), restarted, NOW).allowed


def test_our_own_outbound_messages_never_extend_the_window():
    state = RecipientState(last_inbound_at=NOW - timedelta(hours=25), last_outbound_at=NOW - timedelta(minutes=1),
                           outbound_since_inbound=3)
    assert codes(decide(Draft("whatsapp", TO, text="hi"), state, NOW)) == ["window_closed"]


def test_whatsapp_never_wrote_needs_a_template_and_says_so():
    decision = decide(Draft("whatsapp", TO, text="hi"), RecipientState(), NOW)
    assert "has not written" in decision.reasons[0].message


def test_whatsapp_template_allowed_outside_the_window_with_rendered_text():
    decision = decide(Draft("whatsapp", TO, template=UTILITY, params={"1": "A-1"}), RecipientState(), NOW)
    assert decision.allowed and decision.kind == "template" and decision.text == "Order A-1 shipped."


def test_whatsapp_text_longer_than_4096_is_refused():
    decision = decide(Draft("whatsapp", TO, text="a" * 4097), wrote(1), NOW)
    assert codes(decision) == ["text_too_long"]
    assert decide(Draft("whatsapp", TO, text="a" * 4096), wrote(1), NOW).allowed


def test_template_and_text_together_or_neither_are_refused():
    assert "content_ambiguous" in codes(decide(Draft("whatsapp", TO, text="x", template=UTILITY,
                                                     params={"1": "a"}), wrote(1), NOW))
    assert codes(decide(Draft("whatsapp", TO, text="  "), wrote(1), NOW)) == ["content_missing"]


def test_a_template_for_another_channel_is_refused():
    assert "template_wrong_channel" in codes(decide(Draft("sms", TO, template=UTILITY, params={"1": "a"}),
                                                    RecipientState(), NOW))


def test_missing_template_parameter_is_a_reason_with_its_field():
    decision = decide(Draft("whatsapp", TO, template=UTILITY), RecipientState(), NOW)
    assert decision.reasons[0].field == "param:1"


# SMS -----------------------------------------------------------------------------------------------

def test_sms_free_text_needs_no_window_and_reports_encoding():
    decision = decide(Draft("sms", TO, text="a" * 161), RecipientState(), NOW)
    assert decision.allowed and decision.sms.segments == 2 and decision.sms.encoding == "GSM-7"


def test_sms_opted_out_recipient_is_refused_until_they_opt_back_in():
    stopped = RecipientState(opted_out=True, opted_out_at=NOW - timedelta(days=1))
    decision = decide(Draft("sms", TO, text="hello"), stopped, NOW)
    assert codes(decision) == ["opted_out"] and "START" in decision.reasons[0].message


def test_sms_segment_cap_per_workspace():
    text = "a" * (153 * 3)
    assert decide(Draft("sms", TO, text=text), RecipientState(), NOW, Limits(max_sms_segments=3)).allowed
    refused = decide(Draft("sms", TO, text=text + "a"), RecipientState(), NOW, Limits(max_sms_segments=3))
    assert codes(refused) == ["sms_too_many_segments"] and "4 segments" in refused.reasons[0].message


def test_every_reason_is_gathered_not_only_the_first():
    stopped = RecipientState(opted_out=True)
    decision = decide(Draft("sms", TO, text="a" * 2000), stopped, NOW, Limits(max_sms_segments=2))
    assert set(codes(decision)) == {"opted_out", "sms_too_many_segments"}


# Viber ---------------------------------------------------------------------------------------------

def test_viber_free_text_only_inside_the_session():
    assert decide(Draft("viber", TO, text="hi"), wrote(2), NOW).allowed
    assert codes(decide(Draft("viber", TO, text="hi"), wrote(25), NOW)) == ["window_closed"]


@pytest.mark.parametrize("sent, allowed", [(4, True), (5, False), (6, False)])
def test_viber_at_most_five_business_messages_in_a_row(sent, allowed):
    state = wrote(1, outbound_since_inbound=sent, last_outbound_at=NOW)
    decision = decide(Draft("viber", TO, template=VIBER_TX, params={"tracking": "T1"}), state, NOW)
    assert decision.allowed is allowed
    if not allowed:
        assert codes(decision) == ["viber_in_a_row"]


def test_viber_first_message_is_never_promotional():
    assert codes(decide(Draft("viber", TO, template=VIBER_PROMO), RecipientState(), NOW)) == \
        ["viber_first_promotional"]
    assert decide(Draft("viber", TO, template=VIBER_TX, params={"tracking": "T"}), RecipientState(), NOW).allowed
    known = RecipientState(last_outbound_at=NOW - timedelta(days=2))
    assert decide(Draft("viber", TO, template=VIBER_PROMO), known, NOW).allowed


def test_viber_text_longer_than_1000_is_refused():
    assert codes(decide(Draft("viber", TO, text="a" * 1001), wrote(1), NOW)) == ["text_too_long"]


# Policy hook ---------------------------------------------------------------------------------------

def test_the_policy_is_asked_after_channel_rules_and_can_ask_for_confirmation():
    seen = []

    def policy(inputs):
        seen.append(inputs.text)
        return PolicyVerdict("confirm", (Reason("reads_as_marketing", "Reads as marketing."),),
                             questions=("Would you send it?",))

    draft = Draft("sms", TO, text="hello")
    assert decide(draft, RecipientState(), NOW, policy=policy).outcome == "confirm"
    confirmed = Draft("sms", TO, text="hello", confirmed=True)
    assert decide(confirmed, RecipientState(), NOW, policy=policy).outcome == "allowed"
    assert seen == ["hello", "hello"]
    # a channel refusal short-cuts the policy
    decide(Draft("sms", TO, text="hello"), RecipientState(opted_out=True), NOW, policy=policy)
    assert len(seen) == 2


def test_a_policy_refusal_is_final_even_when_confirmed():
    def policy(_):
        return PolicyVerdict("refuse", (Reason("ai_marketing", "No."),))

    decision = decide(Draft("sms", TO, text="x", confirmed=True), RecipientState(), NOW, policy=policy)
    assert decision.outcome == "refused" and codes(decision) == ["ai_marketing"]


# Panel lines ---------------------------------------------------------------------------------------

def test_channel_summary_lines():
    assert channel_summary("whatsapp", wrote(1), NOW)["summary"] == "Free text until Nov 23, 2026 at 2:05 PM UTC"
    assert channel_summary("whatsapp", wrote(30), NOW)["state"] == "template_only"
    assert channel_summary("sms", RecipientState(opted_out=True), NOW)["state"] == "opted_out"
    assert channel_summary("sms", RecipientState(), NOW)["summary"] == "Free text"
    assert channel_summary("viber", wrote(1, outbound_since_inbound=5), NOW)["state"] == "unavailable"
