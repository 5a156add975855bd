"""Logs: one JSON event per line, the request id on every line and in the response, no secret anywhere."""

from __future__ import annotations

import json
import logging

from app.logs import JsonFormatter, request_id
from app.security.redaction import RedactingFilter, redact_query


def test_request_ids_are_taken_when_sane_generated_otherwise_and_echoed(client):
    given = client.get("/healthz", headers={"X-Request-Id": "lb-7f3a.42"})
    assert given.headers["X-Request-Id"] == "lb-7f3a.42"
    made = client.get("/healthz", headers={"X-Request-Id": "bad id; <script>" + "x" * 200})
    assert made.headers["X-Request-Id"] != "bad id" and len(made.headers["X-Request-Id"]) == 16
    assert client.get("/healthz").headers["X-Request-Id"] != made.headers["X-Request-Id"]


def test_a_json_line_carries_the_request_id_the_extras_and_no_secret():
    token = request_id.set("req-1")
    try:
        record = logging.makeLogRecord({"name": "app.test", "levelname": "WARNING", "levelno": 30,
                                        "msg": "GET %s", "args": ("/webhooks/whatsapp?hub.verify_token=s3cret&x=1",),
                                        "workspace_id": 7, "message_id": "msg_1"})
        line = JsonFormatter().format(record)
    finally:
        request_id.reset(token)
    event = json.loads(line)
    assert "\n" not in line and event["level"] == "warning" and event["logger"] == "app.test"
    assert event["request_id"] == "req-1" and event["workspace_id"] == 7 and event["message_id"] == "msg_1"
    assert "s3cret" not in line and event["message"] == "GET /webhooks/whatsapp?hub.verify_token=[redacted]&x=1"


def test_every_secret_query_parameter_is_redacted_and_nothing_else():
    url = ("/hubspot/compose?token=eyJabc.def&contact=101 /intercom/oauth/callback?code=c0de&state=st4te "
           "/x?Access_Token=t&keep=1")
    redacted = redact_query(url)
    for secret in ("eyJabc.def", "c0de", "st4te", "=t&"):
        assert secret not in redacted
    assert "contact=101" in redacted and "keep=1" in redacted
    assert redact_query("/healthz") == "/healthz"


def test_the_filter_rewrites_a_records_message_and_arguments():
    record = logging.makeLogRecord({"msg": '"GET /hubspot/compose?token=abc HTTP/1.1" %s %s',
                                    "args": ("200", "/x?state=zz")})
    assert RedactingFilter().filter(record) is True
    assert "abc" not in record.getMessage() and "zz" not in record.getMessage()
