"""Background work on a real Celery worker and a real Redis: the request answers, the worker does the rest."""

from __future__ import annotations

from sqlalchemy import select

from app import create_app
from app.services import workspaces as ws
from app.services.webhook_events import outcome_of
from app.store.models import InboundMessage, Writeback
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.intercom.test_writeback import send_free_text
from tests.webhooks.conftest import ACCOUNT_SID, AUTH_TOKEN, SMS_NUMBER, post_twilio, twilio_inbound

from .cluster import Processes, wait_until

SECRET_KEY = "runtime-test-secret-key-0123456789abcdef"


def _env(tmp_path, redis_url: str, stub_url: str) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{tmp_path}/herald.db", "HERALD_INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": SECRET_KEY, "ENCRYPTION_KEY": TEST_ENCRYPTION_KEY, "REDIS_URL": redis_url,
            "HERALD_TASKS": "celery", "PUBLIC_BASE_URL": "https://herald.test", "INTERCOM_API_BASE": stub_url,
            "INTERCOM_ACCESS_TOKEN": "tok-runtime", "TWILIO_API_BASE": stub_url, "HERALD_SWEEP_SECONDS": "1",
            "HERALD_JOB_LEASE_SECONDS": "5", "HERALD_TASK_VISIBILITY_TIMEOUT": "10"}


def _app(tmp_path, redis_url: str, stub_url: str):
    """This process's app, sending its background work to Redis like a gunicorn worker would."""
    return create_app({"database_url": f"sqlite:///{tmp_path}/herald.db", "instance_path": str(tmp_path / "instance"),
                       "secret_key": SECRET_KEY, "encryption_keys": (TEST_ENCRYPTION_KEY,), "testing": True,
                       "tasks": "celery", "broker_url": redis_url, "public_base_url": "https://herald.test",
                       "intercom_api_base": stub_url, "intercom_access_token": "tok-runtime",
                       "twilio_api_base": stub_url}, migrate=True)


def test_the_panel_answers_before_the_note_and_a_real_worker_writes_it_once(tmp_path, clean_redis, stub):
    app = _app(tmp_path, clean_redis, stub.url)
    ctx = app.extensions["herald"]
    ws.update_settings(ctx, "demo", {"quiet_start": "00:00", "quiet_end": "00:00"})
    processes = Processes(_env(tmp_path, clean_redis, stub.url), tmp_path)
    try:
        processes.worker("w1")
        stub.note_gate.clear()  # Intercom's API hangs: the note cannot be written yet
        panel = send_free_text(app.test_client())
        assert panel.texts("header") == ["✅ WhatsApp message sent"]  # the agent has the answer now
        with ctx.store.session() as session:
            [row] = session.scalars(select(Writeback))
            assert row.status == "pending"
        assert sum(stub.notes.values()) == 0
        stub.note_gate.set()

        def written() -> bool:
            with ctx.store.session() as session:
                return session.scalar(select(Writeback.status)) == "done"

        wait_until(written, 30, "the worker to write the note\n" + processes.log("w1"))
        assert stub.notes == {panel.stored["message"]: 1}
    finally:
        processes.stop_all()
        ctx.store.dispose()


def test_a_provider_webhook_is_answered_at_once_and_applied_by_a_real_worker(tmp_path, clean_redis, stub):
    app = _app(tmp_path, clean_redis, stub.url)
    ctx = app.extensions["herald"]
    ws.add_sender(ctx, "demo", "sms", "twilio", SMS_NUMBER, {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN})
    client = app.test_client()
    response = post_twilio(client, twilio_inbound("Reply 1: Tuesday works", "SMrt0001", to=SMS_NUMBER))
    assert response.status_code == 200
    event_id = int(response.headers["X-Herald-Event"])
    assert outcome_of(ctx, event_id) is None  # stored; no worker has applied it yet
    processes = Processes(_env(tmp_path, clean_redis, stub.url), tmp_path)
    try:
        # Celery's default pool forks: each child must open its own database connections.
        processes.worker("w1", pool="prefork")
        wait_until(lambda: outcome_of(ctx, event_id) is not None, 30,
                   "the worker to apply the webhook\n" + processes.log("w1"))
        assert outcome_of(ctx, event_id)["inbound_recorded"] == 1
        again = post_twilio(client, twilio_inbound("Reply 1: Tuesday works", "SMrt0001", to=SMS_NUMBER))
        assert again.status_code == 200 and int(again.headers["X-Herald-Event"]) == event_id
        with ctx.store.session() as session:
            assert [m.text for m in session.scalars(select(InboundMessage).where(
                InboundMessage.provider_message_id == "SMrt0001"))] == ["Reply 1: Tuesday works"]
    finally:
        processes.stop_all()
        ctx.store.dispose()
