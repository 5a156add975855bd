"""No secret query value in a log line: the function, and the development server's real access log."""

from __future__ import annotations

import logging

import pytest
import requests

from app.security.redaction import REDACTED, RedactingFilter, redact_query


@pytest.mark.parametrize("line, secrets", [
    ("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=s3cr3t&hub.challenge=42", ["s3cr3t"]),
    ("https://herald.test/hubspot/compose?token=eyJ.abc.def&channel=sms", ["eyJ.abc.def"]),
    ("/intercom/oauth/callback?code=AUTHCODE&state=STATE123", ["AUTHCODE", "STATE123"]),
    ("/hubspot/oauth/callback?state=S&code=C", ["=S", "=C"]),
    ('127.0.0.1 - - [01/Dec/2026 10:00:00] "GET /x?TOKEN=UPPER HTTP/1.1" 200 -', ["UPPER"]),
    ("/x?hub%2Everify_token=encoded-name&x=1", ["encoded-name"]),
    ("/x?a=1;code=semi", ["semi"]),
])
def test_secret_values_are_replaced(line, secrets):
    redacted = redact_query(line)
    assert all(secret not in redacted for secret in secrets), redacted
    assert REDACTED in redacted


def test_everything_else_is_kept():
    line = '"GET /hubspot/card?portalId=900001&contactId=101&userEmail=a%40b.c HTTP/1.1" 200 512'
    assert redact_query(line) == line
    assert redact_query("/webhooks/whatsapp?hub.challenge=42&hub.mode=subscribe") == \
        "/webhooks/whatsapp?hub.challenge=42&hub.mode=subscribe"
    assert redact_query("/x?token=&next=1") == "/x?token=&next=1"


def test_the_filter_rewrites_message_and_arguments():
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '%s - "%s" %s',
                               ("127.0.0.1", "GET /x?code=abc HTTP/1.1", 200), None)
    assert RedactingFilter().filter(record) is True
    assert "abc" not in record.getMessage() and record.args[2] == 200


def test_the_development_servers_access_log_carries_no_secret(live_server, caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")
    urls = ["/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=VERIFYSECRET&hub.challenge=1",
            "/hubspot/compose?token=COMPOSESECRET",
            "/intercom/oauth/callback?code=CODESECRET&state=STATESECRET"]
    for url in urls:
        requests.get(live_server.url + url, timeout=5, allow_redirects=False)
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert len([line for line in lines if "GET /" in line]) >= 3, lines
    text = "\n".join(lines)
    for secret in ("VERIFYSECRET", "COMPOSESECRET", "CODESECRET", "STATESECRET"):
        assert secret not in text
    assert "hub.verify_token=[redacted]" in text
