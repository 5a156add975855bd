"""Which sender a customer's message is for: pure rules, no store."""

from __future__ import annotations

from app.providers.events import InboundEvent
from app.services.webhooks import Candidate, matches, sender_keys


def candidate(provider: str, channel: str, from_number: str, **options: str) -> Candidate:
    return Candidate(1, 1, channel, provider, from_number, options, {"auth_token": "secret"})


def event(channel: str, *ours: str, account: str | None = None) -> InboundEvent:
    return InboundEvent(channel, frozenset(ours), "+16505551234", "hi", "id-1", account=account)


def test_a_whatsapp_cloud_sender_is_its_phone_number_id_or_else_its_number() -> None:
    assert sender_keys(candidate("whatsapp_cloud", "whatsapp", "+14155550100", phone_number_id="1065")) == {
        "pnid:1065"}
    assert sender_keys(candidate("whatsapp_cloud", "whatsapp", "+14155550100")) == {"number:14155550100"}
    with_id = candidate("whatsapp_cloud", "whatsapp", "+14155550100", phone_number_id="1065")
    assert not matches(with_id, event("whatsapp", "pnid:9999", "number:14155550100"))
    assert matches(candidate("whatsapp_cloud", "whatsapp", "+14155550100"),
                   event("whatsapp", "pnid:9999", "number:14155550100"))


def test_twilio_senders_match_on_number_channel_and_account() -> None:
    sms = candidate("twilio", "sms", "+14155550101", account_sid="AC1")
    assert matches(sms, event("sms", "number:14155550101", account="AC1"))
    assert matches(sms, event("sms", "number:14155550101"))
    assert not matches(sms, event("sms", "number:14155550101", account="AC2"))
    assert not matches(sms, event("whatsapp", "number:14155550101", account="AC1"))
    assert not matches(sms, event("sms", "number:14155550102", account="AC1"))


def test_viber_senders_match_on_their_service_id() -> None:
    viber = candidate("vonage", "viber", "AcmeViber")
    assert sender_keys(viber) == {"id:AcmeViber"}
    assert matches(viber, event("viber", "id:AcmeViber"))
    assert not matches(viber, event("viber", "id:OtherViber"))
