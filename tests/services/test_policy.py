"""The proactive policy on a real store: consent, history, settings and the audit kept with each message."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import event, func, select

from app.domain.policy import PolicySettings
from app.domain.refusals import Refused
from app.services.consent import consent_state, record_consent
from app.services.demo import CUSTOMERS, DEMO
from app.services.policy import load_history
from app.services.reports import parse_moment, proactive_report
from app.services.sandbox import play_reply
from app.services.send import SendRequest, send
from app.services.workspaces import add_sender, add_template, create_workspace, update_settings
from app.store.models import Consent, Message, PolicyDecision, Workspace

OPEN, BROKEN, NEW = CUSTOMERS["open_window"], CUSTOMERS["undeliverable"], CUSTOMERS["new"]
SALE = dict(text=None, template="winter_sale", language="en_US", params=["Ana"])
SHIPPED = dict(text=None, template="order_shipped", params=["Ana", "A-17", "Monday"], purpose="delivery_update")
MIXED = "Your order has shipped! Use code SAVE10 for 10% off your next order."
# Dutch: a language the marketing check does not read, so an agent is asked the two questions.
DUTCH = "Je pakket is onderweg en wordt morgen tussen 9 en 12 uur bezorgd."


def request(**overrides) -> SendRequest:
    base = dict(workspace=DEMO, channel="whatsapp", to=NEW, requested_by="agent@example.com")
    return SendRequest(**{**base, **overrides})


def codes(result) -> list[str]:
    return [r.code for r in result.decision.reasons]


def stored(ctx) -> list[Message]:
    with ctx.store.session() as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


def consent(ctx, to=NEW, channel="whatsapp", granted=True, by="ana@example.com"):
    return record_consent(ctx, DEMO, to, channel, granted, "web_form", by)


# Consent ------------------------------------------------------------------------------------------

def test_consent_is_recorded_with_who_and_when_and_the_latest_record_wins(ctx, clock):
    first = record_consent(ctx, DEMO, "(201) 555-0126", "whatsapp", True, "web_form", "ana@example.com",
                           note="newsletter box ticked")
    assert (first.recipient, first.granted, first.recorded_by, first.recorded_at) == \
        (NEW, True, "ana@example.com", clock())
    clock.advance(hours=1)
    record_consent(ctx, DEMO, NEW, "whatsapp", False, "phone", "bob@example.com")
    clock.advance(hours=1)
    record_consent(ctx, DEMO, NEW, "sms", True, "phone", "bob@example.com")
    state = consent_state(ctx, DEMO, NEW)
    assert not state.granted("whatsapp") and state.granted("sms") and not state.granted("viber")
    assert state.channels["whatsapp"].recorded_by == "bob@example.com"
    assert state.summary("viber") == "No marketing consent recorded on Viber."
    assert state.summary("whatsapp") == ("Withdrew marketing consent on Nov 22, 2026 at 4:00 PM UTC, recorded by "
                                         "bob@example.com via phone.")
    assert [(r.channel, r.granted) for r in state.history] == [("sms", True), ("whatsapp", False),
                                                                ("whatsapp", True)]
    assert state.history[-1].note == "newsletter box ticked"
    assert state.as_dict()["channels"]["sms"]["granted"] is True


def test_consent_by_workspace_id_and_in_one_workspace_only(ctx):
    with ctx.store.session() as session:
        demo_id = session.scalar(select(Workspace.id).where(Workspace.name == DEMO))
    create_workspace(ctx, "other")
    record_consent(ctx, demo_id, NEW, "whatsapp", True, "web_form", "ana@example.com")
    assert consent_state(ctx, DEMO, NEW).granted("whatsapp")
    assert not consent_state(ctx, "other", NEW).granted("whatsapp")


@pytest.mark.parametrize("args, code", [
    (dict(channel="fax"), "channel_unknown"),
    (dict(source=""), "consent_source_invalid"),
    (dict(recorded_by="  "), "consent_recorded_by_missing"),
    (dict(recipient="12"), "number_impossible"),
    (dict(workspace="nobody"), "workspace_unknown"),
])
def test_bad_consent_is_refused_in_words_and_nothing_is_recorded(ctx, args, code):
    values = {**dict(workspace=DEMO, recipient=NEW, channel="whatsapp", granted=True, source="web_form",
                     recorded_by="ana@example.com"), **args}
    with pytest.raises(Refused) as caught:
        record_consent(ctx, **values)
    assert caught.value.code == code and caught.value.reasons[0].message
    with ctx.store.session() as session:
        assert session.scalar(select(func.count()).select_from(Consent)) == 0


# Marketing through the send service ---------------------------------------------------------------

def test_a_marketing_template_needs_consent_on_that_channel(ctx):
    refused = send(ctx, request(**SALE))
    assert refused.decision.outcome == "refused" and codes(refused) == ["marketing_consent_missing"]
    assert stored(ctx) == []
    consent(ctx, channel="sms")
    assert codes(send(ctx, request(**SALE))) == ["marketing_consent_missing"]
    consent(ctx)
    allowed = send(ctx, request(**SALE))
    assert allowed.decision.allowed and allowed.message["purpose"] == "promotion"
    [message] = stored(ctx)
    assert (message.policy_verdict, message.purpose, message.origin) == ("allow", "promotion", "agent")
    assert message.policy_reasons[0]["code"] == "marketing_consented"
    assert "ana@example.com" in message.policy_reasons[0]["message"]
    assert message.confirmed_by is None and message.confirmed_at is None


def test_withdrawn_consent_stops_marketing_again(ctx, clock):
    consent(ctx)
    clock.advance(minutes=1)
    consent(ctx, granted=False, by="bob@example.com")
    assert codes(send(ctx, request(**SALE))) == ["marketing_consent_withdrawn"]


def test_marketing_an_ai_proposed_is_refused_even_with_consent(ctx):
    consent(ctx)
    result = send(ctx, request(**SALE, origin="ai"))
    assert codes(result) == ["ai_marketing"] and stored(ctx) == []


def test_marketing_waits_24_hours_after_a_service_message_on_any_channel(ctx, clock):
    consent(ctx)
    assert send(ctx, request(channel="sms", text="Your parcel arrives today.", purpose="delivery_update")).sent
    clock.advance(hours=23, minutes=59)
    refused = send(ctx, request(**SALE))
    assert codes(refused) == ["marketing_after_service"]
    assert "23 hours 59 minutes ago" in refused.decision.reasons[0].message
    clock.advance(minutes=1)
    assert send(ctx, request(**SALE)).decision.allowed


def test_a_failed_send_is_no_service_message_and_does_not_count(ctx):
    consent(ctx, to=BROKEN, channel="sms")
    for _ in range(3):
        assert send(ctx, request(channel="sms", to=BROKEN, text="Your parcel arrives today.")).message["status"] \
            == "failed"
    sale = send(ctx, request(channel="sms", to=BROKEN, text="Our winter sale is on: 20% off everything!",
                             purpose="promotion", dry_run=True))
    assert sale.decision.allowed, sale.decision.reasons


def test_marketing_free_text_without_a_purpose_is_detected_and_needs_consent(ctx):
    result = send(ctx, request(to=OPEN, text="Our winter sale is on: 20% off everything until Sunday!"))
    assert result.decision.outcome == "refused" and result.decision.purpose == "promotion"
    assert codes(result)[0] == "marketing_detected" and codes(result)[-1] == "marketing_consent_missing"


def test_every_workspace_reads_the_six_languages_and_its_own_phrases(ctx):
    spanish = "Hola Ana, te echamos de menos: vuelve con nosotros."
    assert codes(send(ctx, request(to=OPEN, text=spanish, dry_run=True)))[-1] == "marketing_consent_missing"
    create_workspace(ctx, "english_only")
    add_sender(ctx, "english_only", "whatsapp", "sandbox", "+12015550177")
    play_reply(ctx, "english_only", "whatsapp", OPEN, "hola")
    english = send(ctx, request(workspace="english_only", to=OPEN, text=spanish, dry_run=True))
    assert not english.decision.allowed, "Spanish marketing is read even where no Spanish template exists"
    club = "Your order shipped. Ask about the Gold Circle at the desk."
    assert send(ctx, request(to=OPEN, text=club, dry_run=True)).decision.allowed
    update_settings(ctx, DEMO, {"marketing_phrases": ["gold circle"]})
    assert codes(send(ctx, request(to=OPEN, text=club, dry_run=True)))[-1] == "marketing_consent_missing"


# Confirmation and its audit -----------------------------------------------------------------------

def test_a_doubt_needs_an_agents_confirmation_which_is_stored(ctx, clock):
    asked = send(ctx, request(to=OPEN, text=DUTCH, purpose="delivery_update"))
    assert asked.decision.outcome == "confirm" and len(asked.decision.policy.questions) == 2
    assert asked.message is None and stored(ctx) == []
    clock.advance(minutes=2)
    sent = send(ctx, request(to=OPEN, text=DUTCH, purpose="delivery_update", confirmed=True))
    assert sent.decision.allowed and sent.sent
    [message] = stored(ctx)
    assert (message.policy_verdict, message.purpose, message.origin) == ("confirm", "delivery_update", "agent")
    assert (message.confirmed_by, message.confirmed_at) == ("agent@example.com", clock())
    assert [r["code"] for r in message.policy_reasons][0] == "language_unchecked"


def test_a_confirmed_mixed_message_still_needs_consent_and_then_goes_as_marketing(ctx, clock):
    refused = send(ctx, request(to=OPEN, text=MIXED, purpose="delivery_update", confirmed=True))
    assert refused.decision.outcome == "refused" and "marketing_consent_missing" in codes(refused)
    consent(ctx, to=OPEN)
    asked = send(ctx, request(to=OPEN, text=MIXED, purpose="delivery_update"))
    assert asked.decision.outcome == "confirm" and asked.decision.purpose == "promotion"
    sent = send(ctx, request(to=OPEN, text=MIXED, purpose="delivery_update", confirmed=True))
    assert sent.sent
    [message] = stored(ctx)
    assert (message.purpose, message.policy_verdict, message.confirmed_by) == ("promotion", "confirm",
                                                                              "agent@example.com")
    # the marketing it now is waits after service: a service message right before it is counted
    clock.advance(minutes=1)
    assert send(ctx, request(to=OPEN, text="Your parcel is out for delivery.", purpose="delivery_update")).sent
    again = send(ctx, request(to=OPEN, text=MIXED, purpose="delivery_update", confirmed=True))
    assert "marketing_after_service" in codes(again)


def test_every_stopped_attempt_is_recorded_from_every_surface_but_a_dry_run_is_not(ctx):
    send(ctx, request(to=OPEN, text=MIXED, purpose="delivery_update", surface="intercom"))
    send(ctx, request(to=OPEN, text=DUTCH, purpose="delivery_update", surface="hubspot"))
    send(ctx, request(to=OPEN, text=DUTCH, purpose="delivery_update", origin="api", surface="api",
                      requested_by="api:orders"))
    send(ctx, request(to=OPEN, text=MIXED, purpose="delivery_update", dry_run=True))
    send(ctx, request(to=OPEN, text="Your parcel is out for delivery.", purpose="delivery_update"))
    with ctx.store.session() as session:
        rows = list(session.scalars(select(PolicyDecision).order_by(PolicyDecision.id)))
    assert [(r.surface, r.outcome, r.origin, r.purpose) for r in rows] == [
        ("intercom", "refused", "agent", "promotion"), ("hubspot", "confirm", "agent", "delivery_update"),
        ("api", "refused", "api", "delivery_update")]
    assert rows[0].reason_codes[0] == "service_reads_as_marketing" and "marketing_consent_missing" in \
        rows[0].reason_codes
    assert rows[0].requested_by == "agent@example.com" and rows[2].requested_by == "api:orders"
    assert rows[2].reason_codes == ["language_unchecked"] and "Dutch" in rows[2].reasons[0]["message"]
    assert rows[0].content["mixed"] is True and rows[0].text == MIXED
    assert len(stored(ctx)) == 1


@pytest.mark.parametrize("origin", ["api", "ai"])
def test_service_that_reads_as_marketing_is_refused_for_systems_even_confirmed(ctx, origin):
    result = send(ctx, request(to=OPEN, text=MIXED, purpose="delivery_update", origin=origin, confirmed=True))
    assert result.decision.outcome == "refused" and codes(result)[0] == "service_reads_as_marketing"
    assert stored(ctx) == []


def test_a_confirmation_flag_on_an_ordinary_send_is_not_recorded_as_a_confirmation(ctx):
    send(ctx, request(to=OPEN, text="Your parcel is out for delivery.", purpose="delivery_update", confirmed=True))
    [message] = stored(ctx)
    assert message.policy_verdict == "allow" and message.confirmed_by is None and message.confirmed_at is None


def test_every_stored_message_has_a_purpose_and_a_verdict(ctx):
    consent(ctx, to=OPEN)
    send(ctx, request(to=OPEN, **SALE))  # first: marketing may not follow a service message within 24 hours
    send(ctx, request(to=OPEN, text="Thanks, it's sorted."))
    send(ctx, request(**{**SHIPPED, "purpose": None}))
    rows = [(m.purpose, m.policy_verdict) for m in stored(ctx)]
    assert rows == [("promotion", "allow"), ("confirmation", "allow"), ("confirmation", "allow")]


# Daily cap ----------------------------------------------------------------------------------------

def test_the_fourth_proactive_message_in_a_day_is_refused_across_channels(ctx, clock):
    assert send(ctx, request(**SHIPPED)).sent
    assert send(ctx, request(channel="sms", text="Your parcel arrives today.")).sent
    clock.advance(hours=1)
    assert send(ctx, request(**SHIPPED)).sent
    refused = send(ctx, request(channel="sms", text="Your parcel is at the door."))
    assert codes(refused) == ["daily_cap"]
    assert "The next can go after Nov 23, 2026 at 3:00 PM UTC." in refused.decision.reasons[0].message
    security = send(ctx, request(text=None, template="account_security_alert", params=["Monday"],
                                 purpose="account_security"))
    assert security.sent
    clock.advance(hours=23)
    assert send(ctx, request(**SHIPPED)).sent


def test_replies_inside_the_open_window_are_not_capped_and_do_not_count(ctx):
    for n in range(6):
        assert send(ctx, request(to=OPEN, text=f"Reply {n}: your parcel left the depot.")).sent
    assert send(ctx, request(to=OPEN, channel="sms", text="Your parcel arrives today.")).sent
    assert all(any(r["code"] == "reply_in_window" for r in m.policy_reasons) for m in stored(ctx)[:6])


def test_the_cap_is_a_workspace_setting(ctx):
    update_settings(ctx, DEMO, {"daily_cap": 1})
    assert send(ctx, request(**SHIPPED)).sent
    assert codes(send(ctx, request(**SHIPPED))) == ["daily_cap"]


def test_a_bad_setting_stored_before_it_was_checked_stops_sends_and_tells_the_operator(ctx, caplog):
    with pytest.raises(Refused):
        update_settings(ctx, DEMO, {"quiet_start": "9pm"})
    with ctx.store.session() as session:  # as an older release, or a hand edit, left it
        workspace = session.scalar(select(Workspace).where(Workspace.name == DEMO))
        workspace.settings = {**workspace.settings, "quiet_start": "9pm"}
    ctx.workspaces.invalidate()
    with pytest.raises(Refused) as caught:
        send(ctx, request(**SHIPPED))
    assert caught.value.code == "sending_unavailable" and "quiet_start" not in str(caught.value)
    assert "an operator has been told" in caught.value.reasons[0].message
    assert any("quiet_start=9pm" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)
    assert stored(ctx) == []


# Quiet hours and Viber ----------------------------------------------------------------------------

def test_quiet_hours_in_the_customers_time_zone(ctx, clock):
    clock.current = datetime(2026, 11, 23, 3, 40, tzinfo=timezone.utc)  # 22:40 in New Jersey
    refused = send(ctx, request(**SHIPPED))
    assert codes(refused) == ["quiet_hours"]
    assert refused.decision.reasons[0].message == ("It's 22:40 for this customer (America/New_York): quiet hours "
                                                   "run 21:00–08:00. Send after 08:00 their time.")
    alert = send(ctx, request(text=None, template="account_security_alert", params=["Monday"],
                              purpose="account_security"))
    assert alert.sent
    update_settings(ctx, DEMO, {"quiet_start": "23:00"})
    assert send(ctx, request(**SHIPPED)).sent


def test_viber_first_message_to_a_person_is_not_promotional(ctx, clock):
    consent(ctx, channel="viber")
    notice = dict(channel="viber", text=None, template="delivery_notice", params={"name": "Ana", "tracking": "T1"})
    refused = send(ctx, request(**notice, purpose="promotion"))
    assert codes(refused) == ["viber_first_promotional"]
    assert send(ctx, request(**notice, purpose="delivery_update")).sent
    clock.advance(hours=24)
    assert send(ctx, request(**notice, purpose="promotion")).sent


# Report -------------------------------------------------------------------------------------------

def test_the_report_counts_sends_per_purpose_and_verdict_and_lists_them(ctx, clock):
    consent(ctx, to=OPEN)
    send(ctx, request(to=OPEN, **SALE))
    send(ctx, request(to=OPEN, **SALE, origin="ai"))  # refused: no message, reported as stopped
    clock.advance(minutes=1)
    send(ctx, request(**SHIPPED))
    send(ctx, request(to=OPEN, text=DUTCH, purpose="delivery_update", confirmed=True))
    clock.advance(days=2)
    send(ctx, request(**SHIPPED))
    report = proactive_report(ctx, DEMO, parse_moment("2026-11-22"), parse_moment("2026-11-22", end_of_day=True))
    assert report.counts == {"delivery_update": {"allow": 1, "confirm": 1}, "promotion": {"allow": 1}}
    assert report.total == 3
    sends = list(report.sends())
    assert [(s.purpose, s.verdict, s.confirmed_by) for s in sends] == [
        ("promotion", "allow", None), ("delivery_update", "allow", None),
        ("delivery_update", "confirm", "agent@example.com")]
    assert sends[2].reply and not sends[1].reply and sends[2].reasons[0].startswith("This looks like Dutch")
    assert sends[0].as_dict()["time"] == "2026-11-22T15:00:00+00:00"
    assert report.stopped_counts == {"refused": 1}
    assert report.stopped_by_reason == {"ai_marketing": {"refused": 1}}
    [stopped] = report.stopped()
    assert (stopped.origin, stopped.purpose, stopped.outcome) == ("ai", "promotion", "refused")
    assert stopped.reasons[0].startswith("This is marketing and an AI assistant proposed it")
    later = proactive_report(ctx, "demo", parse_moment("2026-11-23"), parse_moment("2026-11-30", end_of_day=True))
    assert later.total == 1
    with pytest.raises(Refused):
        proactive_report(ctx, DEMO, parse_moment("2026-11-30"), parse_moment("2026-11-01"))
    with pytest.raises(Refused):
        parse_moment("last tuesday")


# Indexes ------------------------------------------------------------------------------------------

def test_the_history_reads_use_indexes(sqlite_app):
    """The messages table grows to millions of rows: every read the policy makes is an index search."""
    ctx = sqlite_app.extensions["herald"]
    statements: list[tuple[str, tuple]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "FROM messages" in statement or "FROM consents" in statement:
            statements.append((statement, parameters))

    event.listen(ctx.store.engine, "before_cursor_execute", capture)
    try:
        with ctx.store.session() as session:
            load_history(session, 1, "viber", NEW, ctx.now(), PolicySettings())
    finally:
        event.remove(ctx.store.engine, "before_cursor_execute", capture)
    assert len(statements) == 3
    with ctx.store.engine.connect() as connection:
        for statement, parameters in statements:
            plan = " ".join(str(row[-1]) for row in
                            connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", tuple(parameters)))
            assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, (statement, plan)
            assert "SCAN messages" not in plan and "SCAN consents" not in plan, plan
