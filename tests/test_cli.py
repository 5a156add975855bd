"""The operator CLI through Flask's runner, on the real store."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.services.demo import CUSTOMERS
from app.store.models import Message


@pytest.fixture
def run(sqlite_app):
    runner = sqlite_app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=list(args))
    return invoke


def messages(app) -> int:
    with app.extensions["herald"].store.session() as session:
        return session.scalar(select(func.count()).select_from(Message))


def test_workspace_sender_template_lifecycle(run):
    assert run("workspace", "create", "acme", "--hubspot-portal-id", "42").exit_code == 0
    assert "acme\tHubSpot 42" in run("workspace", "list").output
    added = run("sender", "add", "acme", "--channel", "sms", "--provider", "twilio", "--from", "+12015550111",
                "--option", "account_sid=AC1", "--option", "auth_token=very-secret-token")
    assert added.exit_code == 0, added.output
    listed = run("sender", "list", "acme").output
    assert "auth_token=••••" in listed and "very-secret-token" not in listed + added.output
    t = run("template", "add", "acme", "--channel", "sms", "--name", "hello", "--language", "en",
            "--category", "UTILITY", "--body", "Hi {{1}}")
    assert t.exit_code == 0, t.output
    assert "sms\thello\ten\tUTILITY\tAPPROVED" in run("template", "list", "acme").output


def test_bad_input_exits_non_zero_with_words(run):
    result = run("workspace", "create", "demo")
    assert result.exit_code == 1 and "already exists" in result.output
    result = run("sender", "add", "demo", "--channel", "viber", "--provider", "twilio", "--from", "x")
    assert result.exit_code == 1 and "does not carry Viber" in result.output


def test_send_dry_run_json_prints_the_decision(run, sqlite_app):
    result = run("send", "demo", "--channel", "sms", "--to", CUSTOMERS["new"], "--text", "a" * 161,
                 "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["decision"]["allowed"] is True
    assert payload["decision"]["sms"] == {"encoding": "GSM-7", "units": 161, "segments": 2,
                                          "non_gsm_characters": []}
    assert payload["message"] is None and messages(sqlite_app) == 0


def test_send_template_for_real_then_refusal(run, sqlite_app):
    ok = run("send", "demo", "--channel", "whatsapp", "--to", CUSTOMERS["new"], "--template", "order_shipped",
             "--param", "Asha", "--param", "A-1", "--param", "Monday")
    assert ok.exit_code == 0, ok.output
    assert "Allowed" in ok.output and "Accepted" in ok.output and messages(sqlite_app) == 1
    refused = run("send", "demo", "--channel", "whatsapp", "--to", CUSTOMERS["new"], "--text", "hi", "--json")
    assert refused.exit_code == 1
    assert json.loads(refused.output)["decision"]["reasons"][0]["code"] == "window_closed"
    assert messages(sqlite_app) == 1


def test_send_named_params_and_invalid_number(run):
    ok = run("send", "demo", "--channel", "whatsapp", "--to", CUSTOMERS["new"], "--template",
             "appointment_reminder", "--language", "en_US", "--param", "first_name=Ana", "--param", "date=Mon",
             "--param", "time=10:00", "--dry-run")
    assert ok.exit_code == 0 and "Hello Ana" in ok.output
    bad = run("send", "demo", "--channel", "sms", "--to", "12", "--text", "x", "--json")
    assert bad.exit_code == 1 and json.loads(bad.output)["decision"]["reasons"][0]["code"] == "number_impossible"


def test_send_requires_text_or_template(run):
    result = run("send", "demo", "--channel", "sms", "--to", CUSTOMERS["new"])
    assert result.exit_code == 2


def test_sandbox_reply_then_free_text_and_delivery(run):
    assert run("sandbox", "reply", "demo", "--channel", "whatsapp", "--from", CUSTOMERS["new"],
               "--text", "hello").exit_code == 0
    sent = run("send", "demo", "--channel", "whatsapp", "--to", CUSTOMERS["new"], "--text", "Hi!", "--json")
    message_id = json.loads(sent.output)["message"]["id"]
    assert "read" in run("sandbox", "deliver", message_id).output


def test_demo_is_idempotent_and_keys_generate(run):
    assert "already exists" in run("demo").output
    key = run("keys", "generate").output.strip()
    assert len(key) == 44
