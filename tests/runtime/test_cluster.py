"""Several machines, shown on one: two gunicorn web processes and two Celery workers on the real
PostgreSQL and Redis, under a burst of sends, duplicated webhooks and a worker killed mid-way.

What must hold afterwards: every provider was called once per message, every write-back was done
exactly once, every stored webhook was applied, and no message's status was lost or went backwards.
"""

from __future__ import annotations

import secrets
import subprocess
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
import requests
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from app.domain import status as st
from app.store.models import InboundMessage, Message, MessageEvent, WebhookEvent, Writeback
from tests.conftest import POSTGRES_URL, TEST_ENCRYPTION_KEY
from tests.intercom.conftest import Panel, contact, initialize_payload
from tests.webhooks.conftest import ACCOUNT_SID, AUTH_TOKEN, SMS_NUMBER, twilio_inbound, twilio_signature

from .cluster import BIN, ROOT, Processes, free_port, wait_for_http, wait_until

PUBLIC = "https://herald.test"
INTERCOM_SECRET = "cluster-intercom-secret"
API_SENDS, PANEL_SENDS, INBOUND = 24, 6, 8

pytestmark = pytest.mark.postgres


class Remote:
    """The surface of Flask's test client that the panel driver uses, over real HTTP to one web process."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.application = SimpleNamespace(extensions={"herald": SimpleNamespace(
            config=SimpleNamespace(intercom_client_secret=INTERCOM_SECRET))})

    def post(self, path: str, data: bytes, headers: dict[str, str]):
        response = self.http.post(self.base + path, data=data, headers=headers, timeout=30)
        return SimpleNamespace(status_code=response.status_code, data=response.content,
                               mimetype=response.headers.get("Content-Type", "").split(";")[0],
                               get_json=response.json)


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def cluster(tmp_path, clean_redis, stub):
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured (set HERALD_TEST_POSTGRES_URL)")
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as connection:  # a database as a new installation finds it
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    env = {"DATABASE_URL": POSTGRES_URL, "HERALD_DEMO": "0", "SECRET_KEY": "cluster-" + "k" * 40,
           "ENCRYPTION_KEY": TEST_ENCRYPTION_KEY, "REDIS_URL": clean_redis, "PUBLIC_BASE_URL": PUBLIC,
           "INTERCOM_CLIENT_ID": "cluster-intercom", "INTERCOM_CLIENT_SECRET": INTERCOM_SECRET,
           "INTERCOM_ACCESS_TOKEN": "tok-cluster", "INTERCOM_API_BASE": stub.url,
           "HUBSPOT_CLIENT_ID": "cluster-hubspot", "HUBSPOT_CLIENT_SECRET": "cluster-hubspot-secret",
           "HUBSPOT_APP_ID": "1", "TWILIO_API_BASE": stub.url, "HERALD_INSTANCE_PATH": str(tmp_path / "instance"),
           "HERALD_SWEEP_SECONDS": "1", "HERALD_JOB_LEASE_SECONDS": "4", "HERALD_TASK_VISIBILITY_TIMEOUT": "8",
           "HERALD_LOG_FORMAT": "json"}
    processes = Processes(env, tmp_path)
    env = processes.env
    _cli(env, "db", "upgrade")  # the release step, once, before any web process starts
    _cli(env, "workspace", "create", "acme", "--intercom-workspace-id", "demo-intercom")
    _cli(env, "workspace", "set", "acme", "quiet_start=00:00", "quiet_end=00:00", "daily_cap=null")
    _cli(env, "sender", "add", "acme", "--channel", "sms", "--provider", "twilio", "--from", SMS_NUMBER,
         "--option", f"account_sid={ACCOUNT_SID}", "--option", f"auth_token={AUTH_TOKEN}")
    key = next(word for word in _cli(env, "apikey", "create", "acme", "--name", "load").split()
               if word.startswith("hk_"))
    ports = [free_port(), free_port()]
    try:
        for index, port in enumerate(ports):
            processes.web(f"web{index}", port)
        processes.worker("w1")
        processes.worker("w2", beat=True)
        for port in ports:
            wait_for_http(f"http://127.0.0.1:{port}/healthz", 60)
        yield SimpleNamespace(processes=processes, webs=[f"http://127.0.0.1:{p}" for p in ports], key=key,
                              engine=engine, stub=stub)
    finally:
        processes.stop_all()
        engine.dispose()


def _api_send(base: str, key: str, index: int, idempotency: str) -> tuple[int, str]:
    response = requests.post(f"{base}/api/v1/messages", timeout=30,
                             headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idempotency},
                             json={"channel": "sms", "to": f"+120155501{30 + index:02d}", "purpose": "delivery_update",
                                   "text": f"Your parcel {index} is on its way."})
    return response.status_code, response.text[:300]


def _panel_send(base: str, index: int) -> str:
    panel = Panel(Remote(base), initialize_payload(contact("+12015550123"), conversation_id=str(500 + index)))
    panel.initialize()
    panel.click("compose")
    panel.click("content:free")
    panel.click("send", {"message": f"Your repair {index} is booked for Tuesday.", "purpose": "appointment"})
    assert panel.texts("header") == ["✅ SMS message sent"], panel.all_text()
    return panel.stored["message"]


def _twilio(base: str, fields: dict[str, str]) -> int:
    signature = twilio_signature(f"{PUBLIC}/webhooks/twilio", fields, AUTH_TOKEN)
    response = requests.post(f"{base}/webhooks/twilio", data=urlencode(fields), timeout=30,
                             headers={"Content-Type": "application/x-www-form-urlencoded",
                                      "X-Twilio-Signature": signature})
    return response.status_code


def _status(sid: str, to: str, status: str) -> dict[str, str]:
    return {"SmsSid": sid, "SmsStatus": status, "MessageStatus": status, "To": to, "MessageSid": sid,
            "AccountSid": ACCOUNT_SID, "From": SMS_NUMBER, "ApiVersion": "2010-04-01"}


def test_two_web_processes_and_two_workers_lose_nothing_and_do_nothing_twice(cluster):
    webs, stub, processes = cluster.webs, cluster.stub, cluster.processes
    stub.note_gate.clear()  # Intercom hangs: every note call is in flight when a worker dies
    keys = [f"burst-{secrets.token_hex(4)}-{i}" for i in range(API_SENDS)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        # every API send is posted twice with its key, once to each web process, at the same time
        api = [pool.submit(_api_send, webs[(i + twin) % 2], cluster.key, i, keys[i])
               for i in range(API_SENDS) for twin in (0, 1)]
        panel = [pool.submit(_panel_send, webs[i % 2], i) for i in range(PANEL_SENDS)]
        answers = [f.result() for f in api]
        noted = [f.result() for f in panel]
    codes = [code for code, _ in answers]
    assert all(code in (200, 201, 409) for code in codes), answers
    assert sum(1 for code in codes if code == 201) == API_SENDS

    wait_until(lambda: stub.notes_waiting >= 2, 30, "the workers to be calling Intercom")
    processes.kill("w1")  # a machine lost mid-way: its tasks were neither finished nor acknowledged
    stub.note_gate.set()  # Intercom answers again; it kept the notes of the calls the dead worker made
    sent = list(stub.sms)
    assert len(sent) == API_SENDS + PANEL_SENDS
    with ThreadPoolExecutor(max_workers=12) as pool:
        hooks = [pool.submit(_twilio, webs[n % 2], _status(m["sid"], m["To"], status))
                 for n, (m, status) in enumerate((m, s) for m in sent for s in ("delivered", "sent") for _ in (0, 1))]
        hooks += [pool.submit(_twilio, webs[n % 2], twilio_inbound(f"Reply {i}", f"SMin{i:04d}",
                                                                     customer=f"+120155501{30 + i:02d}", to=SMS_NUMBER))
                  for n, i in enumerate(i for i in range(INBOUND) for _ in (0, 1))]
        assert all(f.result() == 200 for f in hooks)
    processes.worker("w1-again")

    def settled() -> bool:
        with Session(cluster.engine) as session:
            pending_notes = session.scalar(select(Writeback.id).where(Writeback.status != "done").limit(1))
            pending_events = session.scalar(select(WebhookEvent.id).where(WebhookEvent.status != "applied").limit(1))
            unsettled = session.scalar(select(Message.id).where(Message.status != st.DELIVERED).limit(1))
            return pending_notes is None and pending_events is None and unsettled is None

    wait_until(settled, 90, "every write-back, webhook and status to settle\n" + processes.log("w2"))

    with Session(cluster.engine) as session:
        messages = list(session.scalars(select(Message)))
        assert len(messages) == API_SENDS + PANEL_SENDS
        # one provider call per message, and each call's id is the message's
        assert sorted(m.provider_message_id for m in messages) == sorted(m["sid"] for m in stub.sms)
        for message in messages:
            statuses = [e.status for e in session.scalars(select(MessageEvent).where(
                MessageEvent.message_id == message.id).order_by(MessageEvent.id))]
            assert statuses.count(st.DELIVERED) == 1 and statuses.count(st.SENT) <= 1, statuses
            assert message.status == st.DELIVERED  # "sent" arriving after "delivered" did not move it back
        # each Canvas Kit send was noted in its conversation exactly once
        assert {public_id: stub.notes[public_id] for public_id in noted} == {public_id: 1 for public_id in noted}
        writebacks = list(session.scalars(select(Writeback)))
        assert len(writebacks) == PANEL_SENDS and {w.status for w in writebacks} == {"done"}
        inbound = list(session.scalars(select(InboundMessage.provider_message_id)))
        assert sorted(inbound) == [f"SMin{i:04d}" for i in range(INBOUND)]
