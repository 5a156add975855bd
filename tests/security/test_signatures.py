"""Signature verifiers against the vendors' published vectors and against signatures computed here
with hmac/hashlib directly, plus every way a request can fail to verify.

Vendor vectors: HubSpot v2/v3 from HubSpot's docs and hubspot-api-python's tests (quoted in
reference/hubspot.md §2); Meta's HMAC vector from reference/providers.md §1.7.2; Twilio from
twilio-python's ``tests/unit/test_request_validator.py`` @306691e (providers.md §2.5 quotes two of
them); Vonage from vonage-python-sdk's ``jwt/tests/test_verify_jwt.py`` @b308cb1.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from app.security.signatures import (
    HubSpotV2Verifier,
    HubSpotV3Verifier,
    IntercomCanvasVerifier,
    MetaVerifier,
    SignatureError,
    TwilioVerifier,
    VonageVerifier,
    hubspot_v3_uri,
    request_url,
    twilio_url,
)


def fixed_clock(now: float) -> Callable[[], float]:
    """A clock that always answers ``now``."""
    return lambda: now


def refused(reason_part: str) -> Any:
    """Expect a SignatureError whose reason contains ``reason_part``."""
    return pytest.raises(SignatureError, match=reason_part)


# --------------------------------------------------------------------------- Intercom Canvas Kit

INTERCOM_SECRET = "intercom-client-secret-7f3a9c"
INTERCOM_BODY = (
    b'{"workspace_id":"ecahpwf5","admin":{"id":"4379045"},'
    b'"conversation":{"id":"1295"},"contact":{"phone":"+14155550100"}}'
)


def intercom_signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class TestIntercomCanvas:
    def test_good_signature(self) -> None:
        verifier = IntercomCanvasVerifier(INTERCOM_SECRET)
        assert verifier.verify(INTERCOM_BODY, intercom_signature(INTERCOM_SECRET, INTERCOM_BODY)) is None

    def test_uppercase_hex_and_surrounding_space_accepted(self) -> None:
        header = " " + intercom_signature(INTERCOM_SECRET, INTERCOM_BODY).upper() + " "
        IntercomCanvasVerifier(INTERCOM_SECRET).verify(INTERCOM_BODY, header)

    def test_tampered_body(self) -> None:
        header = intercom_signature(INTERCOM_SECRET, INTERCOM_BODY)
        with refused("signature does not match"):
            IntercomCanvasVerifier(INTERCOM_SECRET).verify(INTERCOM_BODY.replace(b"1295", b"1296"), header)

    def test_reserialised_json_does_not_match(self) -> None:
        header = intercom_signature(INTERCOM_SECRET, INTERCOM_BODY)
        reserialised = json.dumps(json.loads(INTERCOM_BODY)).encode()
        with refused("signature does not match"):
            IntercomCanvasVerifier(INTERCOM_SECRET).verify(reserialised, header)

    def test_wrong_secret(self) -> None:
        header = intercom_signature("another-secret", INTERCOM_BODY)
        with refused("signature does not match"):
            IntercomCanvasVerifier(INTERCOM_SECRET).verify(INTERCOM_BODY, header)

    @pytest.mark.parametrize("header", [None, "", "   "])
    def test_missing_header(self, header: str | None) -> None:
        with refused("missing X-Body-Signature header"):
            IntercomCanvasVerifier(INTERCOM_SECRET).verify(INTERCOM_BODY, header)

    @pytest.mark.parametrize(
        "header",
        [
            "sha256=" + "a" * 64,  # no prefix in this scheme
            "a" * 40,  # a SHA-1 length digest
            "z" * 64,
            "é" * 64,
        ],
    )
    def test_malformed_header(self, header: str) -> None:
        with refused("malformed X-Body-Signature header"):
            IntercomCanvasVerifier(INTERCOM_SECRET).verify(INTERCOM_BODY, header)

    @pytest.mark.parametrize("secret", ["", "  "])
    def test_empty_secret_refused(self, secret: str) -> None:
        with pytest.raises(ValueError):
            IntercomCanvasVerifier(secret)


# --------------------------------------------------------------------------- HubSpot

HUBSPOT_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
HUBSPOT_URI = "https://www.example.com/webhook_uri"
HUBSPOT_SDK_BODY = b"{'example_field':'example_value'}"
HUBSPOT_V3_TIMESTAMP = "1693657560000"
HUBSPOT_V3_EXPECTED = "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="
HUBSPOT_V3_NOW = 1693657560.0


def hubspot_v3_signature(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    message = method.encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def hubspot_v2_signature(secret: str, method: str, uri: str, body: bytes) -> str:
    return hashlib.sha256(secret.encode() + method.encode() + uri.encode() + body).hexdigest()


class TestHubSpotV3:
    def verifier(self, now: float = HUBSPOT_V3_NOW, **kwargs: Any) -> HubSpotV3Verifier:
        return HubSpotV3Verifier(HUBSPOT_SECRET, clock=fixed_clock(now), **kwargs)

    def test_vendor_vector(self) -> None:
        assert (
            self.verifier().verify(
                "POST", HUBSPOT_URI, HUBSPOT_SDK_BODY, HUBSPOT_V3_EXPECTED, HUBSPOT_V3_TIMESTAMP
            )
            is None
        )

    def test_exactly_at_the_limit_is_accepted(self) -> None:
        self.verifier(HUBSPOT_V3_NOW + 300).verify(
            "POST", HUBSPOT_URI, HUBSPOT_SDK_BODY, HUBSPOT_V3_EXPECTED, HUBSPOT_V3_TIMESTAMP
        )

    def test_one_second_past_the_limit_is_stale(self) -> None:
        with refused("timestamp is older than 5 minutes"):
            self.verifier(HUBSPOT_V3_NOW + 301).verify(
                "POST", HUBSPOT_URI, HUBSPOT_SDK_BODY, HUBSPOT_V3_EXPECTED, HUBSPOT_V3_TIMESTAMP
            )

    def test_future_timestamp_within_the_window_is_accepted(self) -> None:
        self.verifier(HUBSPOT_V3_NOW - 300).verify(
            "POST", HUBSPOT_URI, HUBSPOT_SDK_BODY, HUBSPOT_V3_EXPECTED, HUBSPOT_V3_TIMESTAMP
        )

    def test_far_future_timestamp_is_refused(self) -> None:
        with refused("timestamp is more than 5 minutes in the future"):
            self.verifier(HUBSPOT_V3_NOW - 301).verify(
                "POST", HUBSPOT_URI, HUBSPOT_SDK_BODY, HUBSPOT_V3_EXPECTED, HUBSPOT_V3_TIMESTAMP
            )

    def test_injected_clock_and_window(self) -> None:
        """The verifier reads only the clock it was given, and the window is configurable."""
        readings: list[float] = []

        def clock() -> float:
            readings.append(HUBSPOT_V3_NOW + 61)
            return readings[-1]

        verifier = HubSpotV3Verifier(HUBSPOT_SECRET, clock=clock, max_age_seconds=60)
        with refused("timestamp is older than 1 minute"):
            verifier.verify("POST", HUBSPOT_URI, HUBSPOT_SDK_BODY, HUBSPOT_V3_EXPECTED, HUBSPOT_V3_TIMESTAMP)
        assert readings == [HUBSPOT_V3_NOW + 61]

    def test_tampered_body(self) -> None:
        with refused("signature does not match"):
            self.verifier().verify(
                "POST", HUBSPOT_URI, b"{'example_field':'other'}", HUBSPOT_V3_EXPECTED, HUBSPOT_V3_TIMESTAMP
            )

    def test_tampered_timestamp(self) -> None:
        with refused("signature does not match"):
            self.verifier().verify(
                "POST", HUBSPOT_URI, HUBSPOT_SDK_BODY, HUBSPOT_V3_EXPECTED, "1693657560001"
            )

    def test_tampered_method_and_uri(self) -> None:
        verifier = self.verifier()
        with refused("signature does not match"):
            verifier.verify("PUT", HUBSPOT_URI, HUBSPOT_SDK_BODY, HUBSPOT_V3_EXPECTED, HUBSPOT_V3_TIMESTAMP)
        with refused("signature does not match"):
            verifier.verify(
                "POST", HUBSPOT_URI + "?x=1", HUBSPOT_SDK_BODY, HUBSPOT_V3_EXPECTED, HUBSPOT_V3_TIMESTAMP
            )

    def test_wrong_secret(self) -> None:
        verifier = HubSpotV3Verifier("zzzzzzzz-zzzz", clock=fixed_clock(HUBSPOT_V3_NOW))
        with refused("signature does not match"):
            verifier.verify("POST", HUBSPOT_URI, HUBSPOT_SDK_BODY, HUBSPOT_V3_EXPECTED, HUBSPOT_V3_TIMESTAMP)

    @pytest.mark.parametrize("signature", [None, ""])
    def test_missing_signature(self, signature: str | None) -> None:
        with refused("missing X-HubSpot-Signature-v3 header"):
            self.verifier().verify("POST", HUBSPOT_URI, HUBSPOT_SDK_BODY, signature, HUBSPOT_V3_TIMESTAMP)

    @pytest.mark.parametrize("timestamp", [None, ""])
    def test_missing_timestamp(self, timestamp: str | None) -> None:
        with refused("missing X-HubSpot-Request-Timestamp header"):
            self.verifier().verify("POST", HUBSPOT_URI, HUBSPOT_SDK_BODY, HUBSPOT_V3_EXPECTED, timestamp)

    @pytest.mark.parametrize(
        "timestamp", ["1693657560.0", "-1693657560000", "abc", "１６９３６５７５６００００", "9" * 40]
    )
    def test_malformed_timestamp(self, timestamp: str) -> None:
        with refused("malformed X-HubSpot-Request-Timestamp header"):
            self.verifier().verify("POST", HUBSPOT_URI, HUBSPOT_SDK_BODY, HUBSPOT_V3_EXPECTED, timestamp)

    @pytest.mark.parametrize("signature", ["not a signature", "v3=" + HUBSPOT_V3_EXPECTED, "K36d"])
    def test_malformed_signature(self, signature: str) -> None:
        with refused("malformed X-HubSpot-Signature-v3 header"):
            self.verifier().verify("POST", HUBSPOT_URI, HUBSPOT_SDK_BODY, signature, HUBSPOT_V3_TIMESTAMP)

    def test_encoded_user_email_is_decoded_per_hubspot_rules(self) -> None:
        """HubSpot decodes %40 (and its other listed escapes) but keeps %20, %26 and friends."""
        base = "https://herald.example.com"
        path = "/hubspot/card"
        query = "portalId=62515&userEmail=jane.doe%40example.com&note=a%20b%26c%3Dd"
        signed_uri = (
            "https://herald.example.com/hubspot/card"
            "?portalId=62515&userEmail=jane.doe@example.com&note=a%20b%26c%3Dd"
        )
        timestamp = "1700000000000"
        signature = hubspot_v3_signature(HUBSPOT_SECRET, "GET", signed_uri, b"", timestamp)
        verifier = HubSpotV3Verifier(HUBSPOT_SECRET, clock=fixed_clock(1700000000.0))

        assert hubspot_v3_uri(base, path, query) == signed_uri
        verifier.verify("GET", hubspot_v3_uri(base, path, query), b"", signature, timestamp)
        verifier.verify("GET", f"{base}{path}?{query}", b"", signature, timestamp)

        fully_decoded = (
            "https://herald.example.com/hubspot/card"
            "?portalId=62515&userEmail=jane.doe@example.com&note=a b&c=d"
        )
        raw = f"{base}{path}?{query}"
        for wrong_uri in (fully_decoded, raw):
            wrong = hubspot_v3_signature(HUBSPOT_SECRET, "GET", wrong_uri, b"", timestamp)
            with refused("signature does not match"):
                verifier.verify("GET", raw, b"", wrong, timestamp)

    def test_only_the_listed_escapes_are_decoded(self) -> None:
        uri = hubspot_v3_uri(
            "https://herald.example.com/",
            "/hubspot/card",
            "d=%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B&k=%20%26%3D%2B%25%23%5B%5D&l=%3a%2f%40",
        )
        assert uri == (
            "https://herald.example.com/hubspot/card"
            "?d=:/?@!$'()*,;&k=%20%26%3D%2B%25%23%5B%5D&l=:/@"
        )

    def test_uri_rebuilt_from_public_base_url(self) -> None:
        assert hubspot_v3_uri("https://msg.example.com/", "hubspot/card", "") == (
            "https://msg.example.com/hubspot/card"
        )
        assert hubspot_v3_uri("https://msg.example.com", "/hubspot/card", b"appId=1&userEmail=a%40b.c") == (
            "https://msg.example.com/hubspot/card?appId=1&userEmail=a@b.c"
        )

    @pytest.mark.parametrize("secret", ["", " "])
    def test_empty_secret_refused(self, secret: str) -> None:
        with pytest.raises(ValueError):
            HubSpotV3Verifier(secret)

    @pytest.mark.parametrize("max_age", [0, -5])
    def test_non_positive_window_refused(self, max_age: float) -> None:
        with pytest.raises(ValueError):
            HubSpotV3Verifier(HUBSPOT_SECRET, max_age_seconds=max_age)


class TestHubSpotV2:
    @pytest.mark.parametrize(
        ("method", "body", "expected"),
        [
            ("GET", b"", "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"),
            (
                "POST",
                b'{"example_field":"example_value"}',
                "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900",
            ),
            ("POST", HUBSPOT_SDK_BODY, "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"),
        ],
        ids=["get-docs", "post-docs", "post-sdk"],
    )
    def test_vendor_vectors(self, method: str, body: bytes, expected: str) -> None:
        assert HubSpotV2Verifier(HUBSPOT_SECRET).verify(method, HUBSPOT_URI, body, expected) is None

    def test_uppercase_hex_accepted(self) -> None:
        HubSpotV2Verifier(HUBSPOT_SECRET).verify(
            "GET", HUBSPOT_URI, b"", "EEE2DDDCC73C94D699F5E395F4B9D454A069A6855FBFA152E91E88823087200E"
        )

    def test_tampered_body(self) -> None:
        with refused("signature does not match"):
            HubSpotV2Verifier(HUBSPOT_SECRET).verify(
                "POST",
                HUBSPOT_URI,
                b'{"example_field":"tampered"}',
                "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900",
            )

    def test_tampered_method(self) -> None:
        with refused("signature does not match"):
            HubSpotV2Verifier(HUBSPOT_SECRET).verify(
                "POST", HUBSPOT_URI, b"", "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
            )

    def test_wrong_secret(self) -> None:
        with refused("signature does not match"):
            HubSpotV2Verifier("another-secret").verify(
                "GET", HUBSPOT_URI, b"", "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
            )

    @pytest.mark.parametrize("signature", [None, ""])
    def test_missing_header(self, signature: str | None) -> None:
        with refused("missing X-HubSpot-Signature header"):
            HubSpotV2Verifier(HUBSPOT_SECRET).verify("GET", HUBSPOT_URI, b"", signature)

    @pytest.mark.parametrize("signature", ["v2", "g" * 64, "ab" * 16])
    def test_malformed_header(self, signature: str) -> None:
        with refused("malformed X-HubSpot-Signature header"):
            HubSpotV2Verifier(HUBSPOT_SECRET).verify("GET", HUBSPOT_URI, b"", signature)

    def test_encoded_user_email_raw_or_decoded(self) -> None:
        """HubSpot leaves open whether v2 hashes the raw or the decoded URI; both are accepted."""
        raw = request_url(
            "https://herald.example.com", "/hubspot/card", "portalId=62515&userEmail=jane%40example.com"
        )
        decoded = "https://herald.example.com/hubspot/card?portalId=62515&userEmail=jane@example.com"
        verifier = HubSpotV2Verifier(HUBSPOT_SECRET)
        verifier.verify("GET", raw, b"", hubspot_v2_signature(HUBSPOT_SECRET, "GET", raw, b""))
        verifier.verify("GET", raw, b"", hubspot_v2_signature(HUBSPOT_SECRET, "GET", decoded, b""))
        other = decoded.replace("jane", "john")
        with refused("signature does not match"):
            verifier.verify("GET", raw, b"", hubspot_v2_signature(HUBSPOT_SECRET, "GET", other, b""))

    def test_empty_secret_refused(self) -> None:
        with pytest.raises(ValueError):
            HubSpotV2Verifier("")


# --------------------------------------------------------------------------- Meta

META_BODY = (
    b'{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":'
    b'[{"value":{"messaging_product":"whatsapp","statuses":[{"id":"wamid.HBgL","status":"delivered"}]},'
    b'"field":"messages"}]}]}'
)


class TestMeta:
    def test_known_vector(self) -> None:
        header = "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"
        assert MetaVerifier("secret").verify(b"test", header) is None

    def test_good_signature_on_a_webhook_body(self) -> None:
        header = "sha256=" + hmac.new(b"meta-app-secret", META_BODY, hashlib.sha256).hexdigest()
        MetaVerifier("meta-app-secret").verify(META_BODY, header)

    def test_tampered_body(self) -> None:
        header = "sha256=" + hmac.new(b"meta-app-secret", META_BODY, hashlib.sha256).hexdigest()
        with refused("signature does not match"):
            MetaVerifier("meta-app-secret").verify(META_BODY.replace(b"delivered", b"read"), header)

    def test_wrong_secret(self) -> None:
        header = "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"
        with refused("signature does not match"):
            MetaVerifier("not-the-secret").verify(b"test", header)

    @pytest.mark.parametrize("header", [None, ""])
    def test_missing_header(self, header: str | None) -> None:
        with refused("missing X-Hub-Signature-256 header"):
            MetaVerifier("secret").verify(b"test", header)

    @pytest.mark.parametrize(
        "header",
        [
            "0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914",  # no prefix
            "sha1=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914",
            "sha256=",
            "sha256=0329a06b",
            "sha256=xyz9a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914",
        ],
    )
    def test_malformed_header(self, header: str) -> None:
        with refused("malformed X-Hub-Signature-256 header"):
            MetaVerifier("secret").verify(b"test", header)

    def test_empty_secret_refused(self) -> None:
        with pytest.raises(ValueError):
            MetaVerifier("")


# --------------------------------------------------------------------------- Twilio

TWILIO_TOKEN = "12345"
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}
TWILIO_EXPECTED = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
TWILIO_JSON_BODY = b'{"property": "value", "boolean": true}'
TWILIO_BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
TWILIO_DUPLICATE_PAIRS = [
    ("Sid", "CA123"),
    ("SidAccount", "AC123"),
    ("Digits", "5678"),  # names are sorted,
    ("Digits", "1234"),  # values too,
    ("Digits", "1234"),  # and a repeated value is signed once
]
TWILIO_DUPLICATES_EXPECTED = "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def twilio_signature(token: str, signed: str) -> str:
    """Twilio's recipe by hand: ``signed`` is the URL with the name+value pairs already appended."""
    return base64.b64encode(hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()).decode()


class TestTwilio:
    def test_vendor_vector(self) -> None:
        assert TwilioVerifier(TWILIO_TOKEN).verify(TWILIO_URL, TWILIO_PARAMS, TWILIO_EXPECTED) is None

    def test_params_as_pairs(self) -> None:
        TwilioVerifier(TWILIO_TOKEN).verify(TWILIO_URL, list(TWILIO_PARAMS.items()), TWILIO_EXPECTED)

    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            # Twilio signed without the port; the request URL carries one.
            ("https://mycompany.com:1234/myapp.php?foo=1&bar=2", TWILIO_EXPECTED),
            # Twilio signed with the http URL's explicit port.
            ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
            # Twilio signed with the default port added.
            (TWILIO_URL, "kvajT1Ptam85bY51eRf/AJRuM3w="),
            ("http://mycompany.com/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),
        ],
        ids=["https-port-removed", "http-port-kept", "https-443-added", "http-80-added"],
    )
    def test_vendor_port_variants(self, url: str, expected: str) -> None:
        TwilioVerifier(TWILIO_TOKEN).verify(url, TWILIO_PARAMS, expected)

    def test_explicit_default_port_in_url_matches_signature_without_it(self) -> None:
        suffix = "".join(name + TWILIO_PARAMS[name] for name in sorted(TWILIO_PARAMS))
        signature = twilio_signature(TWILIO_TOKEN, TWILIO_URL + suffix)
        TwilioVerifier(TWILIO_TOKEN).verify(
            "https://mycompany.com:443/myapp.php?foo=1&bar=2", TWILIO_PARAMS, signature
        )

    def test_other_port_is_not_guessed(self) -> None:
        suffix = "".join(name + TWILIO_PARAMS[name] for name in sorted(TWILIO_PARAMS))
        signed_url = "https://mycompany.com:8443/myapp.php?foo=1&bar=2"
        signature = twilio_signature(TWILIO_TOKEN, signed_url + suffix)
        with refused("signature does not match"):
            TwilioVerifier(TWILIO_TOKEN).verify(TWILIO_URL, TWILIO_PARAMS, signature)

    @pytest.mark.parametrize(
        "params",
        [
            TWILIO_DUPLICATE_PAIRS,
            MultiDict(TWILIO_DUPLICATE_PAIRS),
            {"Sid": "CA123", "SidAccount": "AC123", "Digits": ["5678", "1234", "1234"]},
        ],
        ids=["pairs", "multidict", "mapping-of-lists"],
    )
    def test_vendor_duplicate_params(self, params: Any) -> None:
        TwilioVerifier(TWILIO_TOKEN).verify(TWILIO_URL, params, TWILIO_DUPLICATES_EXPECTED)

    def test_duplicate_params_computed_independently(self) -> None:
        signed = (
            TWILIO_URL + "BodySTOP" + "Bodyhello" + "From+14155550100" + "MediaUrl0https://x/a"
        )
        signature = twilio_signature(TWILIO_TOKEN, signed)
        params = [
            ("MediaUrl0", "https://x/a"),
            ("From", "+14155550100"),
            ("Body", "hello"),
            ("Body", "STOP"),
        ]
        TwilioVerifier(TWILIO_TOKEN).verify(TWILIO_URL, params, signature)

    def test_get_request_with_parameters_in_the_url(self) -> None:
        url = twilio_url(
            "https://herald.example.com", "/webhooks/twilio", "MessageSid=SM1&MessageStatus=delivered"
        )
        assert url == "https://herald.example.com/webhooks/twilio?MessageSid=SM1&MessageStatus=delivered"
        TwilioVerifier("auth-token").verify(url, None, twilio_signature("auth-token", url))
        TwilioVerifier("auth-token").verify(url, {}, twilio_signature("auth-token", url))

    def test_vendor_body_sha256(self) -> None:
        url = TWILIO_URL + "&bodySHA256=" + TWILIO_BODY_HASH
        assert hashlib.sha256(TWILIO_JSON_BODY).hexdigest() == TWILIO_BODY_HASH
        TwilioVerifier(TWILIO_TOKEN).verify(
            url, None, "a9nBmqA0ju/hNViExpshrM61xv4=", body=TWILIO_JSON_BODY
        )

    def test_body_sha256_ignores_form_params(self) -> None:
        url = TWILIO_URL + "&bodySHA256=" + TWILIO_BODY_HASH
        TwilioVerifier(TWILIO_TOKEN).verify(
            url, TWILIO_PARAMS, "a9nBmqA0ju/hNViExpshrM61xv4=", body=TWILIO_JSON_BODY
        )

    def test_body_sha256_with_a_tampered_body(self) -> None:
        url = TWILIO_URL + "&bodySHA256=" + TWILIO_BODY_HASH
        with refused("the body does not match its bodySHA256 hash"):
            TwilioVerifier(TWILIO_TOKEN).verify(
                url, None, "a9nBmqA0ju/hNViExpshrM61xv4=", body=b'{"property": "value", "boolean": false}'
            )

    def test_body_sha256_with_a_rewritten_hash(self) -> None:
        """An attacker who rehashes a new body still cannot re-sign the URL."""
        body = b'{"property": "evil"}'
        url = TWILIO_URL + "&bodySHA256=" + hashlib.sha256(body).hexdigest()
        with refused("signature does not match"):
            TwilioVerifier(TWILIO_TOKEN).verify(url, None, "a9nBmqA0ju/hNViExpshrM61xv4=", body=body)

    def test_body_sha256_without_a_body(self) -> None:
        url = TWILIO_URL + "&bodySHA256=" + TWILIO_BODY_HASH
        with refused("request body is missing"):
            TwilioVerifier(TWILIO_TOKEN).verify(url, None, "a9nBmqA0ju/hNViExpshrM61xv4=")

    @pytest.mark.parametrize("value", ["abc", "%C3%A9" * 32, TWILIO_BODY_HASH + "00"])
    def test_malformed_body_sha256(self, value: str) -> None:
        with refused("malformed bodySHA256"):
            TwilioVerifier(TWILIO_TOKEN).verify(
                TWILIO_URL + "&bodySHA256=" + value,
                None,
                "a9nBmqA0ju/hNViExpshrM61xv4=",
                body=TWILIO_JSON_BODY,
            )

    def test_tampered_params(self) -> None:
        params = dict(TWILIO_PARAMS, Digits="9999")
        with refused("signature does not match"):
            TwilioVerifier(TWILIO_TOKEN).verify(TWILIO_URL, params, TWILIO_EXPECTED)

    def test_tampered_url(self) -> None:
        with refused("signature does not match"):
            TwilioVerifier(TWILIO_TOKEN).verify(
                TWILIO_URL.replace("foo=1", "foo=2"), TWILIO_PARAMS, TWILIO_EXPECTED
            )

    def test_wrong_token(self) -> None:
        with refused("signature does not match"):
            TwilioVerifier("54321").verify(TWILIO_URL, TWILIO_PARAMS, TWILIO_EXPECTED)

    @pytest.mark.parametrize("signature", [None, ""])
    def test_missing_header(self, signature: str | None) -> None:
        with refused("missing X-Twilio-Signature header"):
            TwilioVerifier(TWILIO_TOKEN).verify(TWILIO_URL, TWILIO_PARAMS, signature)

    @pytest.mark.parametrize(
        "signature", ["RSOYDt4T1cUTdK1PDd93", "not base64 at all!!!!!!!!!!=", "é" * 28]
    )
    def test_malformed_header(self, signature: str) -> None:
        with refused("malformed X-Twilio-Signature header"):
            TwilioVerifier(TWILIO_TOKEN).verify(TWILIO_URL, TWILIO_PARAMS, signature)

    def test_empty_token_refused(self) -> None:
        with pytest.raises(ValueError):
            TwilioVerifier("")


# --------------------------------------------------------------------------- Vonage

# vonage-python-sdk jwt/tests/test_verify_jwt.py: HS256, iat 1697634680, aud "" and sub "".
VONAGE_VENDOR_TOKEN = (
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJPbmxpbmUgSldUIEJ1aWxkZXIiLCJpYXQiOjE2OTc2MzQ2ODAs"
    "ImV4cCI6MzMyNTQ1NDA4MjgsImF1ZCI6IiIsInN1YiI6IiJ9.88vJc3I2HhuqEDixHXVhc9R30tA6U_HQHZTC29y6CGM"
)
VONAGE_VENDOR_SECRET = "qwertyuiopasdfghjklzxcvbnm123456"
VONAGE_VENDOR_IAT = 1697634680

VONAGE_SECRET = "vonage-signature-secret-0123456789abcdef"
VONAGE_NOW = 1763800000.0
VONAGE_BODY = (
    b'{"message_uuid":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab","to":"447700900000","from":"Herald",'
    b'"timestamp":"2025-11-22T10:26:40Z","status":"delivered","channel":"viber_service"}'
)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(claims: dict[str, Any], secret: str, alg: str = "HS256") -> str:
    """A JWT built by hand (no PyJWT), so the verifier is checked against an independent encoder."""
    header = _b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = _b64url(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}".encode()
    digests = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
    if alg == "none":
        return f"{header}.{payload}."
    signature = hmac.new(secret.encode(), signing_input, digests[alg]).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


def vonage_claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iat": int(VONAGE_NOW),
        "jti": "c5ba8f24-1a14-4c10-bfdf-3fbe8ce511b5",
        "iss": "Vonage",
        "payload_hash": hashlib.sha256(VONAGE_BODY).hexdigest(),
        "api_key": "a1b2c3d4",
        "application_id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


class TestVonage:
    def verifier(self, now: float = VONAGE_NOW, **kwargs: Any) -> VonageVerifier:
        return VonageVerifier(VONAGE_SECRET, clock=fixed_clock(now), **kwargs)

    def test_vendor_token(self) -> None:
        """Vonage's published example verifies as far as its signature and times go; it carries no
        payload_hash (a real webhook always does), so it binds no body and is refused for that alone."""
        verifier = VonageVerifier(VONAGE_VENDOR_SECRET, clock=fixed_clock(VONAGE_VENDOR_IAT + 10))
        with refused("token has no payload_hash claim"):
            verifier.verify(b"", f"Bearer {VONAGE_VENDOR_TOKEN}")

    def test_vendor_token_with_wrong_secret(self) -> None:
        verifier = VonageVerifier("asdf" * 8, clock=fixed_clock(VONAGE_VENDOR_IAT))
        with refused("signature does not match"):
            verifier.verify(b"", f"Bearer {VONAGE_VENDOR_TOKEN}")

    def test_good_token_with_payload_hash_returns_claims(self) -> None:
        claims = self.verifier().verify(VONAGE_BODY, "Bearer " + make_jwt(vonage_claims(), VONAGE_SECRET))
        assert claims["api_key"] == "a1b2c3d4"
        assert claims["payload_hash"] == hashlib.sha256(VONAGE_BODY).hexdigest()

    def test_token_without_payload_hash_is_refused(self) -> None:
        token = make_jwt(vonage_claims(payload_hash=None), VONAGE_SECRET)
        with refused("token has no payload_hash claim"):
            self.verifier().verify(b"anything", f"bearer {token}")

    @pytest.mark.parametrize("jti", [None, "", 17, "x" * 256])
    def test_token_without_a_usable_jti_is_refused(self, jti: object) -> None:
        token = make_jwt(vonage_claims(jti=jti) if jti is not None else
                         {k: v for k, v in vonage_claims().items() if k != "jti"}, VONAGE_SECRET)
        with refused("jti|malformed token"):
            self.verifier().verify(VONAGE_BODY, f"Bearer {token}")

    def test_payload_hash_mismatch(self) -> None:
        token = make_jwt(vonage_claims(payload_hash=hashlib.sha256(b"other").hexdigest()), VONAGE_SECRET)
        with refused("the body does not match the token's payload_hash"):
            self.verifier().verify(VONAGE_BODY, f"Bearer {token}")

    def test_tampered_body(self) -> None:
        token = make_jwt(vonage_claims(), VONAGE_SECRET)
        with refused("payload_hash"):
            self.verifier().verify(VONAGE_BODY.replace(b"delivered", b"rejected"), f"Bearer {token}")

    def test_malformed_payload_hash(self) -> None:
        token = make_jwt(vonage_claims(payload_hash=12345), VONAGE_SECRET)
        with refused("payload_hash claim is not a SHA-256 hex digest"):
            self.verifier().verify(VONAGE_BODY, f"Bearer {token}")

    def test_wrong_secret(self) -> None:
        token = make_jwt(vonage_claims(), "a-different-signature-secret-0123456789")
        with refused("signature does not match"):
            self.verifier().verify(VONAGE_BODY, f"Bearer {token}")

    def test_tampered_claims(self) -> None:
        header, _, signature = make_jwt(vonage_claims(), VONAGE_SECRET).split(".")
        forged_payload = _b64url(json.dumps(vonage_claims(api_key="attacker")).encode())
        with refused("signature does not match"):
            self.verifier().verify(VONAGE_BODY, f"Bearer {header}.{forged_payload}.{signature}")

    @pytest.mark.parametrize("alg", ["none", "HS512", "HS384"])
    def test_other_algorithms_refused(self, alg: str) -> None:
        token = make_jwt(vonage_claims(), VONAGE_SECRET, alg=alg)
        with refused(f"token algorithm '{alg}' is not allowed"):
            self.verifier().verify(VONAGE_BODY, f"Bearer {token}")

    def test_exactly_at_the_limit_is_accepted(self) -> None:
        token = make_jwt(vonage_claims(iat=int(VONAGE_NOW) - 300), VONAGE_SECRET)
        self.verifier().verify(VONAGE_BODY, f"Bearer {token}")

    def test_expired_iat(self) -> None:
        token = make_jwt(vonage_claims(iat=int(VONAGE_NOW) - 301), VONAGE_SECRET)
        with refused("token is older than 5 minutes"):
            self.verifier().verify(VONAGE_BODY, f"Bearer {token}")

    def test_injected_clock_decides_and_window_is_configurable(self) -> None:
        token = make_jwt(vonage_claims(), VONAGE_SECRET)
        self.verifier(VONAGE_NOW + 120, max_age_seconds=120).verify(VONAGE_BODY, f"Bearer {token}")
        with refused("token is older than 2 minutes"):
            self.verifier(VONAGE_NOW + 121, max_age_seconds=120).verify(VONAGE_BODY, f"Bearer {token}")

    def test_far_future_iat(self) -> None:
        token = make_jwt(vonage_claims(iat=int(VONAGE_NOW) + 301), VONAGE_SECRET)
        with refused("in the future"):
            self.verifier().verify(VONAGE_BODY, f"Bearer {token}")

    def test_missing_iat(self) -> None:
        token = make_jwt(vonage_claims(iat=None), VONAGE_SECRET)
        with refused("token has no iat claim"):
            self.verifier().verify(VONAGE_BODY, f"Bearer {token}")

    def test_expired_exp(self) -> None:
        token = make_jwt(vonage_claims(exp=int(VONAGE_NOW) - 1), VONAGE_SECRET)
        with refused("token has expired"):
            self.verifier().verify(VONAGE_BODY, f"Bearer {token}")

    @pytest.mark.parametrize("header", [None, "", "  "])
    def test_missing_header(self, header: str | None) -> None:
        with refused("missing Authorization header"):
            self.verifier().verify(VONAGE_BODY, header)

    @pytest.mark.parametrize(
        "header",
        ["Bearer", "Basic dXNlcjpwYXNz", make_jwt(vonage_claims(), VONAGE_SECRET), "Token abc.def.ghi"],
        ids=["no-token", "basic", "no-scheme", "other-scheme"],
    )
    def test_malformed_header(self, header: str) -> None:
        with refused("malformed Authorization header"):
            self.verifier().verify(VONAGE_BODY, header)

    @pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "eyJhbGciOiJIUzI1NiJ9"])
    def test_malformed_token(self, token: str) -> None:
        with refused("malformed token"):
            self.verifier().verify(VONAGE_BODY, f"Bearer {token}")

    def test_empty_secret_refused(self) -> None:
        with pytest.raises(ValueError):
            VonageVerifier("")
