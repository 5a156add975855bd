"""Housekeeping the workers run on a schedule: interrupted sends settle, spent keys go, syncs cover all."""

from __future__ import annotations

from datetime import timedelta

import responses
from sqlalchemy import select

from app.domain import status as st
from app.services import maintenance
from app.services.demo import CUSTOMERS, DEMO
from app.services.jobs import DeferredJobs, handlers
from app.services.send import SendRequest, send
from app.services.statuses import StatusUpdate, record_status
from app.services.template_sync import sync_all_workspaces
from app.store.models import IdempotencyKey, Message, MessageEvent, UsedToken


def _queued(ctx, clock, created_ago: timedelta) -> int:
    """A message a process claimed and then died before the provider answered."""
    result = send(ctx, SendRequest(workspace=DEMO, channel="sms", to=CUSTOMERS["new"], text="On its way.",
                                   idempotency_key="k-crash"))
    with ctx.store.session() as session:
        row = session.scalar(select(Message).where(Message.public_id == result.message["id"]))
        row.status, row.created_at, row.provider_message_id = st.QUEUED, clock() - created_ago, "sbx_late"
        return row.id


def test_a_send_cut_off_before_the_provider_answered_becomes_unknown_and_can_still_settle(ctx, clock):
    young = _queued(ctx, clock, timedelta(seconds=30))
    assert maintenance.sweep_interrupted_sends(ctx) == 0  # it may still be talking to the provider
    clock.advance(seconds=maintenance.interrupted_after(ctx).total_seconds())
    assert maintenance.sweep_interrupted_sends(ctx) == 1
    assert maintenance.sweep_interrupted_sends(ctx) == 0
    with ctx.store.session() as session:
        row = session.get(Message, young)
        assert row.status == st.UNKNOWN and row.error_code == "interrupted"
        assert "not known whether it went" in row.error_message
        assert session.scalar(select(MessageEvent.status).where(MessageEvent.message_id == young)
                              .order_by(MessageEvent.id.desc()).limit(1)) == st.UNKNOWN
    assert record_status(ctx, StatusUpdate("sbx_late", st.DELIVERED, clock())) == "applied"
    with ctx.store.session() as session:
        assert session.get(Message, young).status == st.DELIVERED


def test_cleanup_removes_keys_past_a_day_and_tokens_past_their_replay_window(ctx, clock):
    send(ctx, SendRequest(workspace=DEMO, channel="sms", to=CUSTOMERS["new"], text="On its way.",
                          idempotency_key="k-old"))
    with ctx.store.session() as session:
        session.add(UsedToken(jti="spent-long-ago", used_at=clock() - timedelta(days=3)))
        session.add(UsedToken(jti="spent-now", used_at=clock()))
    assert maintenance.cleanup(ctx) == {"idempotency_keys": 0, "used_tokens": 1}
    clock.advance(hours=25)
    assert maintenance.cleanup(ctx) == {"idempotency_keys": 1, "used_tokens": 0}
    with ctx.store.session() as session:
        assert list(session.scalars(select(IdempotencyKey))) == []
        assert [t.jti for t in session.scalars(select(UsedToken))] == ["spent-now"]


def test_the_periodic_template_sync_covers_every_whatsapp_account_and_survives_one_failing(ctx):
    from app.services import workspaces as ws

    for name, waba in (("alpha", "111"), ("beta", "222")):
        ws.create_workspace(ctx, name)
        ws.add_sender(ctx, name, "whatsapp", "whatsapp_cloud", f"+1415555{waba}0",
                      {"phone_number_id": f"9{waba}", "waba_id": waba, "access_token": f"tok-{name}"})
    base = ctx.config.whatsapp_api_base
    with responses.RequestsMock() as meta:
        meta.get(f"{base}/111/message_templates", json={"data": [], "paging": {}})
        meta.get(f"{base}/222/message_templates", status=500, json={"error": {"message": "down", "code": 2}})
        results = sync_all_workspaces(ctx)
    assert results["alpha"] == "0 fetched"
    assert "could not be fetched" in results["beta"]


def test_every_background_job_has_a_handler_and_deferred_jobs_run_them(ctx):
    assert set(handlers()) >= {"writeback", "writebacks_due", "webhook_event", "webhook_events_due",
                               "template_sync_all", "cleanup", "sweep_interrupted_sends"}
    jobs = DeferredJobs(ctx)
    jobs.enqueue("cleanup")
    jobs.enqueue("sweep_interrupted_sends")
    assert jobs.run() == 2 and jobs.pending == []
