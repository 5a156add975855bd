"""A provider that answers HTTP 200 with an empty or unreadable body: recorded as "the provider's
answer could not be read", outcome unknown, never as a server error and never as a failure."""

from __future__ import annotations

import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.providers.base import UNKNOWN, Outbound, ProviderError
from app.providers.http import HttpClient
from app.providers.twilio import TwilioProvider
from app.providers.vonage import VonageProvider
from app.providers.whatsapp_cloud import WhatsAppCloudProvider


def _vonage_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


CASES = {
    "whatsapp": (lambda: WhatsAppCloudProvider("https://graph.test/v23.0", HttpClient("WhatsApp")),
                 "https://graph.test/v23.0/1065/messages",
                 dict(channel="whatsapp", options={"phone_number_id": "1065"}, credentials={"access_token": "t"})),
    "twilio": (lambda: TwilioProvider("https://twilio.test", HttpClient("Twilio")),
               "https://twilio.test/2010-04-01/Accounts/AC1/Messages.json",
               dict(channel="sms", options={"account_sid": "AC1"}, credentials={"auth_token": "t"})),
    "vonage": (lambda: VonageProvider("https://vonage.test", HttpClient("Vonage")), "https://vonage.test/v1/messages",
               dict(channel="viber", options={"application_id": "app"}, credentials={"private_key": _vonage_key()})),
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("body", ["", "<html>OK</html>", "{}", "[]", '{"messages": []}'])
def test_a_200_without_a_readable_answer_is_unknown_not_a_server_error(name, body) -> None:
    make, url, fields = CASES[name]
    outbound = Outbound(to="+16505551234", sender="+14155550100", text="Your order has shipped.", **fields)
    with responses.RequestsMock() as http:
        http.post(url, status=200, body=body)
        with pytest.raises(ProviderError) as caught:
            make().send(outbound)
    error = caught.value
    assert error.code == "answer_unreadable" and error.outcome == UNKNOWN
    assert "answer could not be read" in error.sentence() and "server error" not in error.sentence()
