"""The card's request verification: HubSpot's published vectors through a real request object, then the
ways a signed GET /hubspot/card can arrive (proxied, with an encoded userEmail, stale, tampered, v2 only).

Vectors (reference/hubspot.md §2): secret ``yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy``, URI
``https://www.example.com/webhook_uri``; v2 GET ``eee2…``, v2 POST ``9569…``, SDK v2 ``4fe4…``,
v3 POST at 1693657560000 ``K36d…``.
"""

from __future__ import annotations

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from app.security.signatures import SignatureError
from app.web.hubspot.verify import verify_request

from .common import BASE, millis, signed_get, v2_signature, v3_signature

VECTOR_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
VECTOR_BASE = "https://www.example.com"


def vector_request(method: str, body: bytes = b"", headers: dict | None = None,
                   base_url: str = "http://10.0.0.7:8000") -> Request:
    """The vendor's request as it reaches Herald behind a proxy (another host and scheme)."""
    return Request(EnvironBuilder(method=method, path="/webhook_uri", base_url=base_url, data=body,
                                  headers=headers or {}).get_environ())


class TestVendorVectors:
    def test_v3_post(self) -> None:
        request = vector_request("POST", b"{'example_field':'example_value'}",
                                 {"X-HubSpot-Signature-v3": "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=",
                                  "X-HubSpot-Request-Timestamp": "1693657560000"})
        assert verify_request(request, VECTOR_SECRET, VECTOR_BASE, lambda: 1693657560.0) == "v3"

    def test_v3_post_stale_by_a_second(self) -> None:
        request = vector_request("POST", b"{'example_field':'example_value'}",
                                 {"X-HubSpot-Signature-v3": "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=",
                                  "X-HubSpot-Request-Timestamp": "1693657560000"})
        with pytest.raises(SignatureError, match="older than 5 minutes"):
            verify_request(request, VECTOR_SECRET, VECTOR_BASE, lambda: 1693657560.0 + 301)

    @pytest.mark.parametrize(("method", "body", "expected"), [
        ("GET", b"", "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"),
        ("POST", b'{"example_field":"example_value"}',
         "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900"),
        ("POST", b"{'example_field':'example_value'}",
         "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"),
    ], ids=["get", "post-json", "post-sdk"])
    def test_v2(self, method: str, body: bytes, expected: str) -> None:
        request = vector_request(method, body, {"X-HubSpot-Signature": expected,
                                                "X-HubSpot-Signature-Version": "v2"})
        assert verify_request(request, VECTOR_SECRET, VECTOR_BASE, lambda: 0.0) == "v2"

    def test_v2_with_the_wrong_public_base_fails(self) -> None:
        request = vector_request("GET", b"", {"X-HubSpot-Signature": "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbf"
                                                                     "a152e91e88823087200e",
                                              "X-HubSpot-Signature-Version": "v2"})
        with pytest.raises(SignatureError, match="does not match"):
            verify_request(request, VECTOR_SECRET, "https://other.example.com", lambda: 0.0)

    def test_v1_is_not_accepted(self) -> None:
        request = vector_request("GET", b"", {"X-HubSpot-Signature": "a" * 64,
                                              "X-HubSpot-Signature-Version": "v1"})
        with pytest.raises(SignatureError, match="not accepted"):
            verify_request(request, VECTOR_SECRET, VECTOR_BASE, lambda: 0.0)


PATH = "/hubspot/card?portalId=900001&contactId=101"


def test_signed_card_request_is_answered(web, clock) -> None:
    response = signed_get(web, PATH, clock)
    assert response.status_code == 200
    assert response.get_json()["contact"]["name"] == "Asha Patel"


def test_unsigned_request_is_refused_in_words(web) -> None:
    response = web.get(PATH)
    assert response.status_code == 401
    assert response.get_json() == {"error": "Herald could not verify that this request comes from HubSpot "
                                             "(missing X-HubSpot-Signature-v3 header)."}


def test_signature_over_the_public_url_survives_a_proxy(web, clock) -> None:
    """The request reaches Herald as http://10.0.0.7:8000; HubSpot signed https://herald.test."""
    response = signed_get(web, PATH, clock, base_url="http://10.0.0.7:8000")
    assert response.status_code == 200


def test_signature_over_the_internal_url_is_refused(web, clock) -> None:
    response = signed_get(web, PATH, clock, signed_uri="http://10.0.0.7:8000" + PATH,
                          base_url="http://10.0.0.7:8000")
    assert response.status_code == 401


def test_stale_timestamp_is_refused(web, clock) -> None:
    timestamp = millis(clock)
    signature = v3_signature("GET", BASE + PATH, b"", timestamp)
    clock.advance(minutes=5, seconds=1)
    response = web.get(PATH, headers={"X-HubSpot-Signature-v3": signature,
                                         "X-HubSpot-Request-Timestamp": timestamp})
    assert response.status_code == 401
    assert "older than 5 minutes" in response.get_json()["error"]


def test_encoded_user_email_is_signed_decoded(web, clock) -> None:
    """HubSpot decodes %40 before signing (v3 rule); the request itself still carries %40."""
    path = PATH + "&userId=77&userEmail=agent%40acme.example&appId=4242"
    decoded = BASE + PATH + "&userId=77&userEmail=agent@acme.example&appId=4242"
    assert signed_get(web, path, clock, signed_uri=decoded).status_code == 200


def test_encoded_user_email_signed_raw_is_refused(web, clock) -> None:
    path = PATH + "&userEmail=agent%40acme.example"
    assert signed_get(web, path, clock, signed_uri=BASE + path).status_code == 401


def test_other_escapes_stay_encoded(web, clock) -> None:
    """%20 and %2B are not in HubSpot's list: the signature covers them encoded."""
    path = PATH + "&userEmail=a%2Bb%40acme.example&note=x%20y"
    signed = BASE + PATH + "&userEmail=a%2Bb@acme.example&note=x%20y"
    assert signed_get(web, path, clock, signed_uri=signed).status_code == 200


def test_tampered_body_is_refused(web, clock) -> None:
    response = signed_get(web, PATH, clock, body=b"", sent_body=b'{"portalId":"1"}')
    assert response.status_code == 401
    assert "does not match" in response.get_json()["error"]


def test_tampered_query_is_refused(web, clock) -> None:
    response = signed_get(web, PATH.replace("101", "102"), clock, signed_uri=BASE + PATH)
    assert response.status_code == 401


def test_wrong_secret_is_refused(web, clock) -> None:
    timestamp = millis(clock)
    response = web.get(PATH, headers={
        "X-HubSpot-Signature-v3": v3_signature("GET", BASE + PATH, b"", timestamp, secret="another-app-secret"),
        "X-HubSpot-Request-Timestamp": timestamp})
    assert response.status_code == 401


def test_legacy_caller_with_v2_only(web) -> None:
    path = ("/hubspot/card?userId=12345&userEmail=loggedinuser%40hubspot.com&associatedObjectId=101"
            "&associatedObjectType=CONTACT&portalId=900001")
    for signed in (BASE + path, BASE + path.replace("%40", "@")):  # raw or decoded: HubSpot does not say
        response = web.get(path, headers={"X-HubSpot-Signature": v2_signature("GET", signed, b""),
                                             "X-HubSpot-Signature-Version": "v2"})
        assert response.status_code == 200
        assert "results" in response.get_json()


def test_v3_is_checked_when_both_are_present(web, clock) -> None:
    """A good v2 does not rescue a bad v3: the stronger signature decides."""
    response = web.get(PATH, headers={
        "X-HubSpot-Signature": v2_signature("GET", BASE + PATH, b""), "X-HubSpot-Signature-Version": "v2",
        "X-HubSpot-Signature-v3": v3_signature("GET", BASE + PATH, b"", "1"),
        "X-HubSpot-Request-Timestamp": millis(clock)})
    assert response.status_code == 401


def test_parameters_hubspot_appends_are_tolerated(web, clock) -> None:
    path = PATH + "&portalId=900001&appId=4242&userId=77"
    assert signed_get(web, path, clock).status_code == 200


def test_conflicting_repeated_parameter_is_refused(web, clock) -> None:
    response = signed_get(web, PATH + "&portalId=123", clock)
    assert response.status_code == 400
    assert response.get_json() == {"error": "The request names more than one portalId."}


def test_a_v2_signature_cannot_mint_a_compose_link(web) -> None:
    """v2 has no timestamp: a captured request could be replayed forever, so it gets no send link."""
    path = "/hubspot/card?portalId=900001&contactId=101&action=compose_link"
    response = web.get(path, headers={"X-HubSpot-Signature": v2_signature("GET", BASE + path, b""),
                                      "X-HubSpot-Signature-Version": "v2"})
    assert response.status_code == 401 and "v3" in response.get_json()["error"]
    assert "compose_url" not in response.get_json()
