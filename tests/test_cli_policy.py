"""The proactive policy at the operator CLI: verdicts, reasons and questions, consent, and the report."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.domain.policy import QUESTIONS
from app.services.demo import CUSTOMERS
from app.store.models import Consent, Message

OPEN, NEW = CUSTOMERS["open_window"], CUSTOMERS["new"]
MIXED = "Your order has shipped! Use code SAVE10 for 10% off your next order."
# Dutch: a language the marketing check does not read, so an agent is asked the two questions.
DUTCH = "Je pakket is onderweg en wordt morgen tussen 9 en 12 uur bezorgd."


@pytest.fixture
def run(sqlite_app):
    runner = sqlite_app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=list(args))
    return invoke


def messages(app) -> list[Message]:
    with app.extensions["herald"].store.session() as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


def sale(run, *extra):
    return run("send", "demo", "--channel", "whatsapp", "--to", NEW, "--template", "winter_sale", "--param", "Ana",
               *extra)


def test_confirm_prints_the_verdict_reasons_and_both_questions_and_sends_nothing(run, sqlite_app):
    result = run("send", "demo", "--channel", "whatsapp", "--to", OPEN, "--text", DUTCH,
                 "--purpose", "delivery_update")
    assert result.exit_code == 1
    out = result.output
    assert out.startswith("Needs confirmation: WhatsApp to +1 201-555-0123")
    assert "Policy verdict: confirm (marketing)" in out
    assert "This looks like Dutch, which Herald's marketing check does not read" in out
    for question in QUESTIONS:
        assert f"  ? {question}" in out
    assert "Run again with --confirm to send it." in out
    assert messages(sqlite_app) == []


def test_confirm_in_json_carries_the_verdict_and_questions(run, sqlite_app):
    result = run("send", "demo", "--channel", "whatsapp", "--to", OPEN, "--text", DUTCH,
                 "--purpose", "delivery_update", "--json")
    assert result.exit_code == 1
    decision = json.loads(result.output)["decision"]
    assert decision["outcome"] == "confirm" and decision["purpose"] == "delivery_update"
    assert decision["policy"]["outcome"] == "confirm" and decision["policy"]["questions"] == list(QUESTIONS)
    assert decision["policy"]["reasons"][0]["code"] == "language_unchecked"
    assert decision["policy"]["content"]["language_name"] == "Dutch"
    assert messages(sqlite_app) == []


def test_a_mixed_message_is_explained_sentence_kind_and_words(run, sqlite_app):
    result = run("send", "demo", "--channel", "whatsapp", "--to", OPEN, "--text", MIXED,
                 "--purpose", "delivery_update", "--json")
    policy = json.loads(result.output)["decision"]["policy"]
    assert policy["outcome"] == "refuse" and policy["purpose"] == "promotion"
    [sentence] = policy["content"]["sentences"]
    assert sentence["text"] == "Use code SAVE10 for 10% off your next order." and "SAVE10" in sentence["words"]
    assert policy["content"]["mixed"] is True
    assert [r["code"] for r in policy["reasons"]][-1] == "marketing_consent_missing"


def test_the_confirm_flag_sends_and_the_confirmation_is_stored(run, sqlite_app):
    result = run("send", "demo", "--channel", "whatsapp", "--to", OPEN, "--text", DUTCH,
                 "--purpose", "delivery_update", "--confirm")
    assert result.exit_code == 0, result.output
    assert "Policy verdict: confirm (marketing) — confirmed with --confirm" in result.output
    assert "Accepted" in result.output
    [message] = messages(sqlite_app)
    assert (message.policy_verdict, message.confirmed_by, message.purpose) == ("confirm", "cli", "delivery_update")
    assert message.confirmed_at is not None


def test_refuse_prints_the_reason_and_json_has_its_code(run, sqlite_app):
    result = sale(run)
    assert result.exit_code == 1
    assert result.output.startswith("Refused: WhatsApp to +1 201-555-0126")
    assert "  - Marketing needs the customer's consent to marketing on WhatsApp; none is recorded." in result.output
    assert "Policy verdict: refuse (marketing)" in result.output
    confirmed = sale(run, "--confirm", "--json")
    assert confirmed.exit_code == 1, "a refusal is final, confirmed or not"
    policy = json.loads(confirmed.output)["decision"]["policy"]
    assert policy["outcome"] == "refuse" and policy["questions"] == []
    assert [r["code"] for r in policy["reasons"]] == ["marketing_consent_missing"]
    assert messages(sqlite_app) == []


def test_consent_recorded_at_the_cli_lets_marketing_through_but_never_an_ais(run, sqlite_app):
    recorded = run("consent", "record", "demo", "--to", "+1 (201) 555-0126", "--channel", "whatsapp", "--granted",
                   "--by", "ana@example.com", "--source", "web_form", "--note", "checkout box")
    assert recorded.exit_code == 0, recorded.output
    assert recorded.output == ("Recorded consent to marketing on WhatsApp for +1 201-555-0126: Consented to "
                               "marketing on Nov 22, 2026 at 3:00 PM UTC, recorded by ana@example.com via "
                               "web_form.\n")
    ai = sale(run, "--origin", "ai")
    assert ai.exit_code == 1 and "never sends marketing that is an AI's idea" in ai.output
    ok = sale(run)
    assert ok.exit_code == 0, ok.output
    assert "Policy verdict: allow (marketing)" in ok.output and "recorded by ana@example.com" in ok.output
    assert [m.purpose for m in messages(sqlite_app)] == ["promotion"]


def test_consent_show_and_withdrawal(run, sqlite_app, clock):
    run("consent", "record", "demo", "--to", NEW, "--channel", "sms", "--granted", "--by", "ana@example.com")
    clock.advance(hours=2)
    withdrawn = run("consent", "record", "demo", "--to", NEW, "--channel", "sms", "--withdrawn", "--by", "bob",
                    "--source", "phone", "--json")
    assert withdrawn.exit_code == 0 and json.loads(withdrawn.output)["granted"] is False
    shown = run("consent", "show", "demo", "--to", NEW)
    assert shown.exit_code == 0
    lines = shown.output.splitlines()
    assert lines[0] == "Marketing consent of +1 201-555-0126:"
    assert "  SMS      no   Withdrew marketing consent on Nov 22, 2026 at 5:00 PM UTC, recorded by bob via phone." \
        in lines
    assert "  WhatsApp no   No marketing consent recorded on WhatsApp." in lines
    assert lines[-2:] == ["  SMS: Withdrew marketing consent on Nov 22, 2026 at 5:00 PM UTC, recorded by bob via "
                          "phone.",
                          "  SMS: Consented to marketing on Nov 22, 2026 at 3:00 PM UTC, recorded by ana@example.com "
                          "via cli."]
    as_json = json.loads(run("consent", "show", "demo", "--to", NEW, "--json").output)
    assert as_json["channels"]["sms"]["granted"] is False and len(as_json["history"]) == 2
    with sqlite_app.extensions["herald"].store.session() as session:
        assert session.scalar(select(Consent.recorded_by).order_by(Consent.id.desc()).limit(1)) == "bob"


def test_consent_record_needs_a_direction_and_valid_input(run):
    assert run("consent", "record", "demo", "--to", NEW, "--channel", "sms", "--by", "x").exit_code == 2
    bad = run("consent", "record", "demo", "--to", "12", "--channel", "sms", "--granted", "--by", "x")
    assert bad.exit_code == 1 and "wrong number of digits" in bad.output
    nobody = run("consent", "show", "nobody", "--to", NEW)
    assert nobody.exit_code == 1 and "no workspace named" in nobody.output


def test_workspace_settings_drive_the_policy(run):
    assert run("workspace", "set", "demo", "daily_cap=1").exit_code == 0
    first = run("send", "demo", "--channel", "sms", "--to", NEW, "--text", "Your parcel arrives today.")
    assert first.exit_code == 0, first.output
    second = run("send", "demo", "--channel", "sms", "--to", NEW, "--text", "Your parcel is at the door.")
    assert second.exit_code == 1 and "this workspace allows 1 a day" in second.output
    broken = run("workspace", "set", "demo", "quiet_start=9pm")
    assert broken.exit_code == 1 and "quiet_start is a time of day" in broken.output


def test_report_proactive_counts_and_lists_sends_with_who_confirmed(run, clock):
    run("consent", "record", "demo", "--to", NEW, "--channel", "whatsapp", "--granted", "--by", "ana@example.com")
    assert sale(run).exit_code == 0
    clock.advance(minutes=5)
    assert run("send", "demo", "--channel", "whatsapp", "--to", OPEN, "--text", DUTCH, "--purpose",
               "delivery_update", "--confirm").exit_code == 0
    assert sale(run, "--origin", "ai").exit_code == 1  # stopped: shown beside the sends
    clock.advance(days=5)
    assert run("send", "demo", "--channel", "sms", "--to", NEW, "--text", "Your parcel arrives today.",
               "--purpose", "delivery_update").exit_code == 0

    human = run("report", "proactive", "demo", "--since", "2026-11-22", "--until", "2026-11-22")
    assert human.exit_code == 0, human.output
    lines = human.output.splitlines()
    assert lines[0] == "Sends of demo from 2026-11-22 00:00 UTC up to (not including) 2026-11-23 00:00 UTC: 2"
    assert lines[1].split() == ["purpose", "allow", "confirm", "total"]
    assert lines[2].split() == ["delivery_update", "0", "1", "1"]
    assert lines[3].split() == ["promotion", "1", "0", "1"]
    assert lines[4].startswith("2026-11-22 15:00  whatsapp +12015550126")
    assert "promotion" in lines[4] and "agent" in lines[4] and "allow" in lines[4]
    confirmed = next(line for line in lines if "confirmed by cli" in line)
    assert confirmed.startswith("2026-11-22 15:05  whatsapp +12015550123") and "confirm (reply)" in confirmed
    assert "    - This looks like Dutch, which Herald's marketing check does not read, so it could not tell " \
           "whether this is marketing. Send it only if you can answer yes to both questions." in human.output
    stopped = lines.index("Stopped by the rules: 1 (refused 1, waiting for an agent's confirmation 0)")
    assert lines[stopped + 1].split() == ["reason", "refused", "confirm"]
    assert lines[stopped + 2].split() == ["ai_marketing", "1", "0"]
    assert lines[stopped + 3].startswith("2026-11-22 15:05  whatsapp +12015550126")
    assert "promotion" in lines[stopped + 3] and lines[stopped + 3].endswith("refused via cli by cli")

    payload = json.loads(run("report", "proactive", "demo", "--since", "2026-11-01", "--until", "2026-11-30",
                             "--json").output)
    assert payload["total"] == 3
    assert payload["counts"] == {"delivery_update": {"allow": 1, "confirm": 1}, "promotion": {"allow": 1}}
    assert [(s["purpose"], s["verdict"], s["confirmed_by"]) for s in payload["sends"]] == [
        ("promotion", "allow", None), ("delivery_update", "confirm", "cli"), ("delivery_update", "allow", None)]
    assert payload["stopped"] == {"total": 1, "counts": {"refused": 1}, "by_reason": {"ai_marketing": {"refused": 1}}}
    [stopped] = payload["stopped_sends"]
    assert (stopped["origin"], stopped["surface"], stopped["codes"]) == ("ai", "cli", ["ai_marketing"])
    first = payload["sends"][0]
    assert set(first) >= {"time", "channel", "recipient", "purpose", "origin", "verdict", "reasons", "confirmed_by"}
    assert first["reasons"][0].startswith("Marketing (“Promotion”) to a customer who consented")

    empty = json.loads(run("report", "proactive", "demo", "--since", "2026-10-01", "--until", "2026-10-31",
                           "--json").output)
    assert empty["total"] == 0 and empty["sends"] == [] and empty["counts"] == {}
    assert empty["stopped"]["total"] == 0 and empty["stopped_sends"] == []
    bad = run("report", "proactive", "demo", "--since", "yesterday")
    assert bad.exit_code == 1 and "is not a date" in bad.output
