"""A sender an operator set up wrongly (credentials missing, or refused by the provider): whoever
asked to send reads that sending is unavailable and that an operator has been told; the log says why."""

from __future__ import annotations

import logging

import responses

from app.services import workspaces as ws
from app.services.demo import CUSTOMERS, DEMO
from app.services.send import OPERATOR_NOTICE, SendRequest, send


def test_a_sender_without_its_credentials(ctx, caplog):
    caplog.set_level(logging.ERROR)
    ws.add_sender(ctx, DEMO, "sms", "twilio", "+12015550111", {"account_sid": "AC00"})  # no auth_token
    result = send(ctx, SendRequest(workspace=DEMO, channel="sms", to=CUSTOMERS["new"], text="Your parcel is here.",
                                   sender="+12015550111", surface="api"))
    assert result.message["status"] == "failed" and result.message["error_code"] == "sender_not_configured"
    assert result.message["error_message"] == OPERATOR_NOTICE
    assert any("missing auth_token" in r.getMessage() for r in caplog.records)


def test_credentials_the_provider_refuses(ctx, caplog):
    caplog.set_level(logging.ERROR)
    ws.add_sender(ctx, DEMO, "sms", "twilio", "+12015550111", {"account_sid": "AC00", "auth_token": "old"})
    with responses.RequestsMock() as http:
        http.post(f"{ctx.config.twilio_api_base}/2010-04-01/Accounts/AC00/Messages.json", status=401,
                  json={"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003",
                        "status": 401})
        result = send(ctx, SendRequest(workspace=DEMO, channel="sms", to=CUSTOMERS["new"],
                                       text="Your parcel is here.", sender="+12015550111", surface="api"))
    assert result.message["error_message"] == OPERATOR_NOTICE and result.message["error_code"] == "20003"
    assert any("account_sid and auth_token" in r.getMessage() for r in caplog.records)
