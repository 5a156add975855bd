"""The send service on a real store (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.refusals import Refused
from app.services.demo import CUSTOMERS, DEMO
from app.services.sandbox import play_reply, play_statuses
from app.services.send import SendRequest, send
from app.store.models import IdempotencyKey, Message, MessageEvent, RecipientState, Sender

OPEN, STOPPED, BROKEN, NEW = (CUSTOMERS[k] for k in ("open_window", "opted_out", "undeliverable", "new"))


def count(ctx, model=Message):
    with ctx.store.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def request(**overrides) -> SendRequest:
    base = dict(workspace=DEMO, channel="whatsapp", to=OPEN, text="Your parcel is out for delivery.",
                requested_by="agent@example.com")
    return SendRequest(**{**base, **overrides})


def test_allowed_free_text_is_sent_and_recorded_with_its_history(ctx):
    result = send(ctx, request())
    assert result.decision.allowed and result.message["status"] == "accepted"
    assert result.message["provider_message_id"].startswith("sbx_")
    with ctx.store.session() as session:
        message = session.scalar(select(Message))
        assert message.text == "Your parcel is out for delivery." and message.requested_by == "agent@example.com"
        assert [e.status for e in message.events] == ["queued", "accepted"]


def test_template_send_records_the_rendered_text_and_parameters(ctx):
    result = send(ctx, request(to=NEW, text=None, template="order_shipped", params=["Asha", "A-17", "Nov 25"]))
    assert result.message["text"].startswith("Hi Asha, your order A-17 has shipped")
    with ctx.store.session() as session:
        message = session.scalar(select(Message))
        assert message.params == {"1": "Asha", "2": "A-17", "3": "Nov 25"}
        assert message.template_language == "en_US"


def test_named_template_with_language_choice(ctx):
    result = send(ctx, request(to=NEW, text=None, template="appointment_reminder", language="es",
                               params={"first_name": "Ana", "date": "3 dic", "time": "10:00"}))
    assert result.message["text"].startswith("Hola Ana")
    with pytest.raises(Refused) as caught:
        send(ctx, request(to=NEW, text=None, template="appointment_reminder",
                          params={"first_name": "Ana", "date": "3 dic", "time": "10:00"}))
    assert caught.value.code == "template_language_needed"


@pytest.mark.parametrize("overrides, code", [
    (dict(to="not a number"), "number_invalid"),
    (dict(to="+1 201"), "number_impossible"),
    (dict(workspace="nobody"), "workspace_unknown"),
    (dict(channel="fax"), "channel_unknown"),
    (dict(sender="+12015550999"), "sender_unknown"),
    (dict(text=None, template="no_such_template"), "template_unknown"),
    (dict(text=None, template="refund_update", params=["Asha", "$10"]), "template_not_approved"),
    (dict(text=None, template="order_shipped", params=["a", "b", "c", "d"]), "template_params_extra"),
    (dict(purpose="gossip"), "purpose_invalid"),
    (dict(origin="robot"), "origin_invalid"),
])
def test_bad_input_is_refused_in_words_and_changes_nothing(ctx, overrides, code):
    with pytest.raises(Refused) as caught:
        send(ctx, request(**overrides))
    assert caught.value.code == code and caught.value.reasons[0].message
    assert count(ctx) == 0


@pytest.mark.parametrize("overrides, code", [
    (dict(to=NEW), "window_closed"),
    (dict(channel="sms", to=STOPPED), "opted_out"),
    (dict(text="a" * 5000), "text_too_long"),
    (dict(text=None, template="order_shipped", params=["Asha"]), "template_param_missing"),
])
def test_rule_refusals_send_nothing_and_store_nothing(ctx, overrides, code):
    result = send(ctx, request(**overrides))
    assert result.decision.outcome == "refused" and code in [r.code for r in result.decision.reasons]
    assert result.message is None and count(ctx) == 0


def test_dry_run_decides_without_sending(ctx):
    result = send(ctx, request(channel="sms", text="Grüße 😀", dry_run=True))
    assert result.decision.allowed and result.decision.sms.encoding == "UCS-2"
    assert result.message is None and count(ctx) == 0


def test_workspace_sms_segment_cap_applies(ctx):
    from app.services.workspaces import update_settings

    update_settings(ctx, DEMO, {"max_sms_segments": 1})
    result = send(ctx, request(channel="sms", to=NEW, text="a" * 161))
    assert [r.code for r in result.decision.reasons] == ["sms_too_many_segments"]


def test_a_provider_refusal_is_recorded_as_failed_with_its_explanation(ctx):
    result = send(ctx, request(channel="sms", to=BROKEN, text="hello"))
    assert result.message["status"] == "failed"
    assert result.message["error_code"] == "sandbox_undeliverable"
    assert "unable to receive" in result.message["error_message"]
    assert not result.sent


def test_inbound_reply_opens_the_window_and_statuses_play_through(ctx, clock):
    assert not send(ctx, request(to=NEW)).decision.allowed
    play_reply(ctx, DEMO, "whatsapp", NEW, "hello?")
    result = send(ctx, request(to=NEW))
    assert result.decision.allowed
    assert result.decision.window.closes_at == clock() + timedelta(hours=24)
    assert play_statuses(ctx, result.message["id"]) == "read"


def test_viber_counts_messages_in_a_row_and_a_reply_resets_it(ctx):
    viber = dict(channel="viber", text=None, template="delivery_notice",
                 params={"name": "Asha", "tracking": "T1"})
    for _ in range(5):
        assert send(ctx, request(**viber)).message["status"] == "accepted"
    sixth = send(ctx, request(**viber))
    assert [r.code for r in sixth.decision.reasons] == ["viber_in_a_row"]
    play_reply(ctx, DEMO, "viber", OPEN, "thanks")
    assert send(ctx, request(**viber)).decision.allowed


def test_viber_first_message_to_a_new_person_is_not_promotional(ctx):
    result = send(ctx, request(channel="viber", to=NEW, text=None, template="loyalty_offer",
                               params={"name": "Ben"}))
    assert [r.code for r in result.decision.reasons] == ["viber_first_promotional"]


# Idempotency ---------------------------------------------------------------------------------------

def test_same_key_replays_the_first_result_without_sending_again(ctx):
    first = send(ctx, request(idempotency_key="k-1"))
    again = send(ctx, request(idempotency_key="k-1"))
    assert again.replayed and again.message["id"] == first.message["id"]
    assert count(ctx) == 1
    with ctx.store.session() as session:
        assert session.scalar(select(RecipientState.outbound_since_inbound).join(Sender)
                              .where(RecipientState.recipient == OPEN, Sender.channel == "whatsapp")) == 1


def test_same_key_with_different_content_is_refused(ctx):
    send(ctx, request(idempotency_key="k-2"))
    with pytest.raises(Refused) as caught:
        send(ctx, request(idempotency_key="k-2", text="Something else"))
    assert caught.value.code == "idempotency_key_reused"
    assert count(ctx) == 1


def test_racing_requests_with_one_key_produce_one_provider_call(ctx):
    barrier = threading.Barrier(8)
    results, errors = [], []

    def worker():
        barrier.wait()
        try:
            results.append(send(ctx, request(idempotency_key="race")))
        except Refused as refused:  # "still being processed" is an acceptable answer for a loser
            errors.append(refused.code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert count(ctx) == 1 and count(ctx, IdempotencyKey) == 1
    ids = {r.message["id"] for r in results}
    assert len(ids) == 1
    assert set(errors) <= {"idempotency_conflict"}
    assert sum(1 for r in results if not r.replayed) == 1
    with ctx.store.session() as session:
        accepted = session.scalar(select(func.count()).select_from(MessageEvent)
                                  .where(MessageEvent.status == "accepted"))
    assert accepted == 1


def test_keys_are_per_workspace(ctx):
    from app.services.workspaces import add_sender, create_workspace

    create_workspace(ctx, "other")
    add_sender(ctx, "other", "whatsapp", "sandbox", "+12015550177")
    play_reply(ctx, "other", "whatsapp", OPEN, "hi")
    send(ctx, request(idempotency_key="shared"))
    other = send(ctx, request(workspace="other", idempotency_key="shared"))
    assert not other.replayed and count(ctx) == 2


def test_a_retry_replays_even_when_the_rules_would_now_refuse(ctx, clock):
    first = send(ctx, request(idempotency_key="k-late"))
    assert first.message["status"] == "accepted"
    clock.advance(hours=23)  # the window the first send relied on has closed
    assert not send(ctx, request()).decision.allowed
    again = send(ctx, request(idempotency_key="k-late"))
    assert again.replayed and again.message["id"] == first.message["id"]
    assert count(ctx) == 1


@pytest.mark.parametrize("status, sent", [("accepted", True), ("delivered", True), ("failed", False),
                                          ("unknown", False)])
def test_a_result_counts_as_sent_only_when_the_provider_took_it(ctx, status, sent):
    from app.services.send import SendResult

    result = send(ctx, request(dry_run=True))
    assert SendResult(result.decision, {"status": status}).sent is sent


def _race(ctx, make_request, n: int = 8) -> list:
    """``n`` threads send at once; returns their results."""
    barrier = threading.Barrier(n)
    results = []

    def worker(i: int):
        barrier.wait()
        results.append(send(ctx, make_request(i)))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_racing_sends_to_one_person_respect_the_daily_cap(ctx):
    from app.services.workspaces import update_settings

    update_settings(ctx, DEMO, {"daily_cap": 3, "quiet_start": "00:00", "quiet_end": "00:00"})
    results = _race(ctx, lambda i: request(to=NEW, text=None, template="order_shipped",
                                           params=["Ana", f"A-{i}", "Monday"], purpose="delivery_update"))
    assert sum(1 for r in results if r.sent) == 3
    assert sorted(r.decision.reasons[0].code for r in results if not r.sent) == ["daily_cap"] * 5
    assert count(ctx) == 3


def test_racing_viber_sends_never_make_six_in_a_row(ctx):
    results = _race(ctx, lambda i: request(channel="viber", text=None, template="delivery_notice",
                                           params={"name": "Asha", "tracking": f"T{i}"}))
    assert sum(1 for r in results if r.sent) == 5
    assert [r.decision.reasons[0].code for r in results if not r.sent] == ["viber_in_a_row"] * 3
