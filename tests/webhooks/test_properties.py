"""Property tests: arbitrary JSON and arbitrary form bodies, correctly signed so they reach each
webhook's parser. Whatever arrives, the answer is 2xx or 4xx, and a 4xx wrote nothing."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.store.models import InboundMessage, MessageEvent
from tests.webhooks.conftest import post_twilio, post_vonage, post_whatsapp, vonage_token

PROPERTY = settings(max_examples=60, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Any character at all, NUL and unpaired surrogates included.
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=20)
SCALARS = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False, allow_infinity=False)
           | ANY_TEXT | st.sampled_from(["messages", "statuses", "text", "sent", "delivered", "failed", "whatsapp",
                                        "viber_service", "16505551234", "106540352242922", "received"]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    ANY_TEXT | st.sampled_from(["id", "from", "to", "type", "text", "status", "timestamp", "errors", "metadata",
                                "message_uuid", "channel", "message_type", "client_ref", "error", "body"]),
    inner, max_size=5), max_leaves=25)


def meta_shaped(leaf) -> st.SearchStrategy:
    """Meta's envelope with arbitrary contents, so the parser's inner paths are reached too."""
    value = st.fixed_dictionaries({}, optional={"metadata": leaf, "messages": leaf, "statuses": leaf,
                                                "errors": leaf, "contacts": leaf, "event": leaf,
                                                "message_template_name": leaf})
    change = st.fixed_dictionaries({"field": st.sampled_from(["messages", "message_template_status_update"]) | leaf,
                                    "value": value | leaf})
    entry = st.fixed_dictionaries({"id": leaf, "changes": st.lists(change, max_size=3) | leaf})
    return st.fixed_dictionaries({"object": leaf, "entry": st.lists(entry, max_size=3) | leaf})


def writes(ctx) -> tuple[int, int]:
    with ctx.store.session() as session:
        return (session.scalar(select(func.count()).select_from(InboundMessage)),
                session.scalar(select(func.count()).select_from(MessageEvent)))


SEEN: list[int] = []


def check(response, before, ctx) -> None:
    SEEN.append(response.status_code)
    assert 200 <= response.status_code < 500, (response.status_code, response.data[:300])
    assert response.status_code not in (401, 403), "the body must reach the parser: it is signed"
    if response.status_code >= 400:
        assert writes(ctx) == before


def reached_the_parser() -> None:
    """Most bodies were accepted (200); a run where every one was refused would prove nothing."""
    assert SEEN.count(200) >= len(SEEN) // 2, SEEN
    SEEN.clear()


def test_whatsapp_takes_anything_signed(client, ctx, acme):
    @PROPERTY
    @given(payload=JSON | meta_shaped(JSON))
    def run(payload):
        before = writes(ctx)
        check(post_whatsapp(client, json.dumps(payload).encode()), before, ctx)
    run()
    reached_the_parser()


def test_vonage_takes_anything_signed(client, ctx, acme, clock):
    @PROPERTY
    @given(payload=JSON | st.dictionaries(st.sampled_from(["message_uuid", "status", "channel", "from", "to",
                                                           "message_type", "text", "timestamp", "error"]),
                                          JSON, max_size=8))
    def run(payload):
        body = json.dumps(payload).encode()
        before = writes(ctx)
        check(post_vonage(client, body, vonage_token(body, clock().timestamp())), before, ctx)
    run()
    assert 200 in SEEN, SEEN  # many arbitrary bodies are not objects, and a 400 is their right answer
    SEEN.clear()


FORM_TEXT = st.text(st.characters(codec="utf-8"), max_size=30)  # what a form can carry: no lone surrogates
FORM_KEYS = FORM_TEXT | st.sampled_from(["MessageSid", "SmsSid", "MessageStatus", "SmsStatus", "Body", "From",
                                         "To", "AccountSid", "ErrorCode", "ErrorMessage", "NumMedia"])


def test_twilio_takes_any_form_signed(client, ctx, acme):
    @PROPERTY
    @given(fields=st.dictionaries(FORM_KEYS, FORM_TEXT | st.sampled_from(["received", "delivered", "failed",
                                                                          "+16505551234", "+14155550101"]),
                                  max_size=8))
    def run(fields):
        before = writes(ctx)
        check(post_twilio(client, fields, body=urlencode(fields).encode()), before, ctx)
    run()
    reached_the_parser()
