"""Webhooks and sends together, through the Flask test client and the send service, with the
providers' HTTP APIs faked at the boundary: the window a customer's message opens, STOP, statuses
that arrive out of order or twice, and sends whose outcome only the status webhook can settle."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from responses import matchers

from app.domain import status as st
from app.domain.refusals import Refused
from app.services.send import SendRequest, send
from tests.providers.docs import load_json
from tests.webhooks.conftest import (applied, ACCOUNT_SID, CUSTOMER, PHONE_NUMBER_ID, PUBLIC_BASE, VIBER_CUSTOMER,
                                     WORKSPACE, events, message, post_twilio, post_vonage, post_whatsapp, state,
                                     twilio_inbound, twilio_status, vonage_inbound, vonage_status, vonage_token,
                                     whatsapp_inbound, whatsapp_status)

WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJCOTY3NDc0NDFDRUI3NTA0Q0UA"
TWILIO_SID = "SM304417148af644198a0efaceebc965a5"
VONAGE_UUID = "d8f86df1-dec6-442f-870a-2241be27d721"


def graph_url(ctx) -> str:
    return f"{ctx.config.whatsapp_api_base}/{PHONE_NUMBER_ID}/messages"


def twilio_url(ctx) -> str:
    return f"{ctx.config.twilio_api_base}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def vonage_url(ctx) -> str:
    return f"{ctx.config.vonage_api_base}/v1/messages"


def send_text(ctx, channel: str, to: str, text: str, dry_run: bool = False):
    return send(ctx, SendRequest(workspace=WORKSPACE, channel=channel, to=to, text=text, surface="api",
                                 origin="agent", purpose="delivery_update", dry_run=dry_run))


def customer_writes_on_whatsapp(client, clock, message_id: str = "wamid.IN1", ago: timedelta = timedelta(minutes=1)):
    response = post_whatsapp(client, whatsapp_inbound("Where is my parcel?", message_id,
                                                      int((clock() - ago).timestamp())))
    assert response.status_code == 200 and applied(client, response)["inbound_recorded"] == 1


def iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


# --------------------------------------------------------------------------- the WhatsApp window


def test_an_inbound_whatsapp_message_opens_the_window_for_free_text(client, ctx, acme, clock, http) -> None:
    refused = send_text(ctx, "whatsapp", CUSTOMER, "Your parcel is at the depot.")
    assert refused.decision.outcome == "refused" and refused.message is None
    assert [r.code for r in refused.decision.reasons] == ["window_closed"]

    customer_writes_on_whatsapp(client, clock)

    http.post(graph_url(ctx), json=load_json("whatsapp_send_response.json"))
    result = send_text(ctx, "whatsapp", CUSTOMER, "Your parcel is at the depot.")
    assert result.decision.outcome == "allowed"
    assert result.message["status"] == st.ACCEPTED and result.message["provider_message_id"] == WAMID
    sent = json.loads(http.calls[0].request.body)
    assert sent["text"]["body"] == "Your parcel is at the depot."
    assert sent["biz_opaque_callback_data"] == result.message["id"]
    assert http.calls[0].request.headers["Authorization"] == "Bearer EAAG-acme-token"


def test_a_message_written_more_than_a_day_ago_does_not_open_the_window(client, ctx, acme, clock) -> None:
    customer_writes_on_whatsapp(client, clock, ago=timedelta(hours=25))
    result = send_text(ctx, "whatsapp", CUSTOMER, "Your parcel is at the depot.")
    assert [r.code for r in result.decision.reasons] == ["window_closed"]


def test_a_read_arriving_before_delivered_leaves_the_message_read(client, ctx, acme, clock, http) -> None:
    customer_writes_on_whatsapp(client, clock)
    http.post(graph_url(ctx), json=load_json("whatsapp_send_response.json"))
    public_id = send_text(ctx, "whatsapp", CUSTOMER, "On its way.").message["id"]
    now = int(clock().timestamp())
    for word, at in (("read", now + 20), ("delivered", now + 10), ("sent", now + 5)):
        assert post_whatsapp(client, whatsapp_status(WAMID, word, at)).status_code == 200
    assert message(ctx, public_id).status == st.READ
    assert events(ctx, public_id) == [st.QUEUED, st.ACCEPTED, st.READ, st.DELIVERED, st.SENT]


def test_a_redelivered_status_is_applied_once(client, ctx, acme, clock, http) -> None:
    customer_writes_on_whatsapp(client, clock)
    http.post(graph_url(ctx), json=load_json("whatsapp_send_response.json"))
    public_id = send_text(ctx, "whatsapp", CUSTOMER, "On its way.").message["id"]
    body = whatsapp_status(WAMID, "delivered", int(clock().timestamp()))
    assert applied(client, post_whatsapp(client, body))["statuses_applied"] == 1
    assert post_whatsapp(client, body).get_json()["duplicate"] is True
    rewrapped = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert applied(client, post_whatsapp(client, rewrapped))["statuses_duplicate"] == 1
    assert events(ctx, public_id).count(st.DELIVERED) == 1


def test_a_failed_status_records_metas_code_and_what_to_do(client, ctx, acme, clock, http) -> None:
    customer_writes_on_whatsapp(client, clock)
    http.post(graph_url(ctx), json=load_json("whatsapp_send_response.json"))
    public_id = send_text(ctx, "whatsapp", CUSTOMER, "On its way.").message["id"]
    documented = load_json("whatsapp_status_failed.json")["entry"][0]["changes"][0]["value"]["statuses"][0]
    post_whatsapp(client, whatsapp_status(WAMID, "failed", int(clock().timestamp()), error=documented["errors"][0]))
    row = message(ctx, public_id)
    assert (row.status, row.error_code) == (st.FAILED, "131047")
    assert "approved template" in row.error_message


def test_a_timed_out_whatsapp_send_is_settled_by_its_status(client, ctx, acme, clock, http) -> None:
    customer_writes_on_whatsapp(client, clock)
    http.post(graph_url(ctx), body=requests.ReadTimeout("read timed out"))
    result = send_text(ctx, "whatsapp", CUSTOMER, "On its way.")
    public_id = result.message["id"]
    assert result.message["status"] == st.UNKNOWN and result.message["error_code"] == "outcome_unknown"
    assert message(ctx, public_id).provider_message_id is None

    body = whatsapp_status(WAMID, "delivered", int(clock().timestamp()), reference=public_id)
    assert applied(client, post_whatsapp(client, body))["statuses_applied"] == 1
    row = message(ctx, public_id)
    assert (row.status, row.provider_message_id) == (st.DELIVERED, WAMID)


# --------------------------------------------------------------------------- SMS opt-out


def test_stop_blocks_the_next_sms_and_start_lifts_it(client, ctx, acme, http) -> None:
    http.post(twilio_url(ctx), status=201, json=load_json("twilio_message_201.json"))
    first = send_text(ctx, "sms", CUSTOMER, "Your parcel is at the depot.")
    assert first.message["status"] == st.ACCEPTED and first.message["provider_message_id"] == TWILIO_SID

    assert post_twilio(client, twilio_inbound("STOP", "SMin1")).status_code == 200
    blocked = send_text(ctx, "sms", CUSTOMER, "Your parcel was delivered.")
    assert blocked.decision.outcome == "refused" and [r.code for r in blocked.decision.reasons] == ["opted_out"]
    assert len(http.calls) == 1  # nothing went to Twilio

    post_twilio(client, twilio_inbound("START", "SMin2"))
    http.post(twilio_url(ctx), status=201, json={**load_json("twilio_message_201.json"), "sid": "SM2"})
    assert send_text(ctx, "sms", CUSTOMER, "Your parcel was delivered.").message["status"] == st.ACCEPTED


def test_twilio_statuses_never_move_backwards_and_failures_keep_their_code(client, ctx, acme, http) -> None:
    http.post(twilio_url(ctx), status=201, json=load_json("twilio_message_201.json"))
    http.post(twilio_url(ctx), status=201, json={**load_json("twilio_message_201.json"), "sid": "SMfailing"})
    delivered = send_text(ctx, "sms", CUSTOMER, "Your parcel left the depot.").message["id"]
    failing = send_text(ctx, "sms", CUSTOMER, "Your parcel is on the van.").message["id"]
    post_twilio(client, twilio_status(TWILIO_SID, "delivered"))
    post_twilio(client, twilio_status(TWILIO_SID, "sent"))
    post_twilio(client, twilio_status("SMfailing", "undelivered", error_code="30003"))
    assert message(ctx, delivered).status == st.DELIVERED
    row = message(ctx, failing)
    assert (row.status, row.error_code) == (st.FAILED, "30003")
    assert "unreachable" in row.error_message


def test_a_timed_out_twilio_send_is_settled_by_its_status_callback(client, ctx, acme, http) -> None:
    http.post(twilio_url(ctx), body=requests.ReadTimeout("read timed out"))
    public_id = send_text(ctx, "sms", CUSTOMER, "Your parcel is at the depot.").message["id"]
    assert message(ctx, public_id).status == st.UNKNOWN
    callback = dict(parse_qsl(http.calls[0].request.body))["StatusCallback"]
    assert callback == f"{PUBLIC_BASE}/webhooks/twilio/{acme['sms']}?ref={public_id}"

    response = post_twilio(client, twilio_status(TWILIO_SID, "sent"), query=urlsplit(callback).query)
    assert response.status_code == 200
    row = message(ctx, public_id)
    assert (row.status, row.provider_message_id) == (st.SENT, TWILIO_SID)


# --------------------------------------------------------------------------- Viber through Vonage


def test_viber_window_count_and_a_timed_out_send(client, ctx, acme, clock, http) -> None:
    body = vonage_inbound("Is my parcel coming today?", "in-1", iso(clock() - timedelta(minutes=1)))
    assert post_vonage(client, body, vonage_token(body, clock().timestamp())).status_code == 200

    for number in range(5):
        http.post(vonage_url(ctx), status=202, json={"message_uuid": f"uuid-{number}"})
        assert send_text(ctx, "viber", VIBER_CUSTOMER, f"Update {number}").message["status"] == st.ACCEPTED
    sixth = send_text(ctx, "viber", VIBER_CUSTOMER, "Update 5")
    assert [r.code for r in sixth.decision.reasons] == ["viber_in_a_row"]

    clock.advance(minutes=5)
    body = vonage_inbound("Thanks", "in-2", iso(clock()))
    post_vonage(client, body, vonage_token(body, clock().timestamp()))
    assert state(ctx, acme["viber"], VIBER_CUSTOMER).outbound_since_inbound == 0

    http.post(vonage_url(ctx), body=requests.ReadTimeout("read timed out"),
              match=[matchers.header_matcher({"Accept": "application/json"})])
    public_id = send_text(ctx, "viber", VIBER_CUSTOMER, "Update 5").message["id"]
    assert message(ctx, public_id).status == st.UNKNOWN
    sent = json.loads(http.calls[-1].request.body)
    assert sent["client_ref"] == public_id and sent["webhook_url"] == f"{PUBLIC_BASE}/webhooks/vonage/{acme['viber']}"

    status = vonage_status(VONAGE_UUID, "read", iso(clock()), reference=public_id)
    assert post_vonage(client, status, vonage_token(status, clock().timestamp())).status_code == 200
    row = message(ctx, public_id)
    assert (row.status, row.provider_message_id) == (st.READ, VONAGE_UUID)


def test_a_rejected_viber_message_says_the_customer_is_not_on_viber(client, ctx, acme, clock, http) -> None:
    body = vonage_inbound("Hi", "in-1", iso(clock()))
    post_vonage(client, body, vonage_token(body, clock().timestamp()))
    http.post(vonage_url(ctx), status=202, json=load_json("vonage_send_response.json"))
    public_id = send_text(ctx, "viber", VIBER_CUSTOMER, "Hello").message["id"]
    status = vonage_status(VONAGE_UUID, "rejected", iso(clock()), error={
        "type": "https://developer.vonage.com/api-errors/messages#1340", "title": "1340",
        "detail": "SRVC_NOT_VIBER_USER", "instance": "bf0ca0bf"})
    post_vonage(client, status, vonage_token(status, clock().timestamp()))
    row = message(ctx, public_id)
    assert (row.status, row.error_code) == (st.FAILED, "SRVC_NOT_VIBER_USER")
    assert "not registered on Viber" in row.error_message and "SMS" in row.error_message


def test_an_opt_out_twilio_reports_is_honoured_before_the_next_send(client, ctx, acme, http) -> None:
    documented = load_json("twilio_error_21211.json")  # Twilio's error body shape, with the 21610 code
    http.post(twilio_url(ctx), status=400, json={**documented, "code": 21610,
                                                 "message": "Attempt to send to unsubscribed recipient",
                                                 "more_info": "https://www.twilio.com/docs/errors/21610"})
    first = send_text(ctx, "sms", CUSTOMER, "Your parcel is at the depot.")
    assert (first.message["status"], first.message["error_code"]) == (st.FAILED, "21610")
    second = send_text(ctx, "sms", CUSTOMER, "Your parcel was delivered.")
    assert [r.code for r in second.decision.reasons] == ["opted_out"]
    assert len(http.calls) == 1  # the second never reached Twilio
    post_twilio(client, twilio_inbound("START", "SMin3"))
    assert send_text(ctx, "sms", CUSTOMER, "Delivered.", dry_run=True).decision.allowed


def test_viber_counts_what_may_have_gone_and_not_what_failed(client, ctx, acme, clock, http) -> None:
    body = vonage_inbound("Is my parcel coming today?", "in-1", iso(clock() - timedelta(minutes=1)))
    post_vonage(client, body, vonage_token(body, clock().timestamp()))

    def counted() -> int:
        return state(ctx, acme["viber"], VIBER_CUSTOMER).outbound_since_inbound

    http.post(vonage_url(ctx), status=202, json={"message_uuid": "uuid-0"})
    assert send_text(ctx, "viber", VIBER_CUSTOMER, "Update 0").message["status"] == st.ACCEPTED
    assert counted() == 1
    http.post(vonage_url(ctx), status=422, json=load_json("vonage_error_low_balance.json"))
    assert send_text(ctx, "viber", VIBER_CUSTOMER, "Update 1").message["status"] == st.FAILED
    assert counted() == 1  # it reached nobody
    http.post(vonage_url(ctx), body=requests.ReadTimeout("read timed out"))
    assert send_text(ctx, "viber", VIBER_CUSTOMER, "Update 2").message["status"] == st.UNKNOWN
    assert counted() == 2  # it may have reached them: Viber's limit counts it


def test_a_template_meta_reports_paused_is_not_offered_again(client, ctx, acme, http) -> None:
    from app.services import workspaces as ws

    ws.add_template(ctx, WORKSPACE, "whatsapp", "order_confirmation", "en_US", "Order {{1}} is confirmed.", "UTILITY")
    documented = load_json("whatsapp_error_130429.json")  # Graph's error body, carrying the 132015 code
    documented["error"].update(code=132015, message="(#132015) Cannot send message as the template is paused",
                               error_data={"details": "Template is paused due to low quality"})
    http.post(graph_url(ctx), status=400, json=documented)
    request = SendRequest(workspace=WORKSPACE, channel="whatsapp", to=CUSTOMER, template="order_confirmation",
                          params=["A-17"], purpose="confirmation", surface="api", origin="agent")
    first = send(ctx, request)
    assert (first.message["status"], first.message["error_code"]) == (st.FAILED, "132015")
    assert [t.status for t in ws.list_templates(ctx, WORKSPACE, "whatsapp")] == ["PAUSED"]
    assert ws.list_templates(ctx, WORKSPACE, "whatsapp", usable_only=True) == []
    with pytest.raises(Refused) as refused:
        send(ctx, request)
    assert refused.value.code == "template_not_approved" and len(http.calls) == 1
