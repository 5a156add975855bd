"""Property test: arbitrary JSON at POST /api/v1/messages (and bodies shaped like a send, with
arbitrary values) is answered with a documented 2xx or 4xx, and a refusal writes nothing."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.services.apikeys import create_key
from app.services.demo import CUSTOMERS, DEMO
from app.store.models import IdempotencyKey, Message, MessageEvent
from tests.webhooks.test_properties import ANY_TEXT, JSON

ANSWERS = {200, 201, 202, 400, 409, 415, 422, 502}
SEND_KEYS = ["channel", "to", "text", "template", "sender", "purpose", "origin", "dry_run", "contact_ref",
             "requested_by"]
LIKELY = {"channel": st.sampled_from(["sms", "whatsapp", "viber"]),
          "to": st.sampled_from(list(CUSTOMERS.values())) | ANY_TEXT,
          "template": st.fixed_dictionaries({"name": st.sampled_from(["order_shipped", "appointment_reminder"])
                                             | JSON}, optional={"language": JSON, "params": JSON}),
          "purpose": st.sampled_from(["delivery_update", "promotion", "appointment"]),
          "dry_run": st.booleans()}
SHAPED = st.fixed_dictionaries({}, optional={key: (LIKELY[key] | JSON) if key in LIKELY else JSON
                                             for key in SEND_KEYS})


def writes(ctx) -> tuple[int, int, int]:
    with ctx.store.session() as session:
        return tuple(session.scalar(select(func.count()).select_from(model))
                     for model in (Message, MessageEvent, IdempotencyKey))


def test_any_body_gets_a_documented_answer_and_a_refusal_writes_nothing(client, ctx):
    key = create_key(ctx, DEMO, "property tests")

    @settings(max_examples=120, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(body=JSON | SHAPED, idempotency=st.none() | ANY_TEXT.filter(lambda k: "\x00" not in k))
    def run(body, idempotency):
        headers = {"Authorization": f"Bearer {key}"}
        if idempotency is not None:
            try:
                idempotency.encode("latin-1")
            except UnicodeEncodeError:
                idempotency = None  # not sendable as an HTTP header at all
            else:
                headers["Idempotency-Key"] = idempotency
        before = writes(ctx)
        response = client.post("/api/v1/messages", data=json.dumps(body), content_type="application/json",
                               headers=headers)
        assert response.status_code in ANSWERS, (response.status_code, response.data[:300])
        assert response.mimetype == "application/json"
        if response.status_code >= 400 and response.status_code != 502:
            assert writes(ctx) == before, response.get_json()
    run()
