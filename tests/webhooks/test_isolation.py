"""One tenant's verified webhook cannot touch another tenant's messages."""

from __future__ import annotations

from app.domain import status as st
from app.services import workspaces as ws
from app.services.send import SendRequest, send
from tests.providers.docs import load_json
from tests.webhooks.conftest import ACCOUNT_SID, CUSTOMER, WORKSPACE, message, post_twilio, twilio_status

OTHER_TOKEN = "globex-twilio-auth-token"
OTHER_SID = "AC99999999999999999999999999999999"


def test_a_status_signed_by_one_tenant_cannot_fail_another_tenants_message(client, ctx, acme, http) -> None:
    ws.create_workspace(ctx, "globex")
    ws.update_settings(ctx, "globex", {"quiet_start": "00:00", "quiet_end": "00:00"})
    ws.add_sender(ctx, "globex", "sms", "twilio", "+14155550199", {"account_sid": OTHER_SID, "auth_token": OTHER_TOKEN})
    http.post(f"{ctx.config.twilio_api_base}/2010-04-01/Accounts/{OTHER_SID}/Messages.json", status=201,
              json={**load_json("twilio_message_201.json"), "sid": "SMglobex"})
    http.post(f"{ctx.config.twilio_api_base}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", status=400,
              json=load_json("twilio_error_21211.json"))
    theirs = send(ctx, SendRequest(workspace="globex", channel="sms", to=CUSTOMER, text="Your parcel is out.",
                                   purpose="delivery_update")).message["id"]
    ours = send(ctx, SendRequest(workspace=WORKSPACE, channel="sms", to=CUSTOMER, text="Hello.",
                                 purpose="delivery_update")).message["id"]
    assert message(ctx, ours).status == st.FAILED  # it has no provider id of its own to guard

    # acme's own token signs a status that names globex's message, and tries to make acme's adopt it
    response = post_twilio(client, twilio_status("SMglobex", "undelivered", error_code="30003"), query=f"ref={ours}")
    assert response.status_code == 200
    assert message(ctx, theirs).status == st.ACCEPTED and message(ctx, theirs).error_code is None
    assert message(ctx, ours).provider_message_id is None
