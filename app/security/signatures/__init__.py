"""Signature verifiers for every caller that signs its requests to Herald.

One class per signature scheme, one module per signer (:mod:`.intercom`, :mod:`.hubspot`,
:mod:`.meta`, :mod:`.twilio`, :mod:`.vonage`). Each works on the raw body bytes exactly as received
(re-serialised JSON never matches), compares in constant time, and takes its clock as a parameter so
timestamp windows are testable. ``verify`` returns on success and raises :class:`SignatureError` with
a short reason a person can read otherwise. No Flask here: the web layer hands over bytes and header
values.

Protocol facts and their sources are in the reference notes: Intercom Canvas Kit §4.1, HubSpot §2,
providers §1.7.2 (Meta), §2.5 (Twilio) and §3.2.5 (Vonage).
"""

from __future__ import annotations

from .base import Clock, SignatureError, request_url
from .hubspot import HubSpotV2Verifier, HubSpotV3Verifier, hubspot_v3_uri
from .intercom import IntercomCanvasVerifier
from .meta import MetaVerifier
from .twilio import TwilioParams, TwilioVerifier, twilio_url
from .vonage import VonageVerifier

__all__ = [
    "Clock", "SignatureError", "request_url",
    "HubSpotV2Verifier", "HubSpotV3Verifier", "hubspot_v3_uri",
    "IntercomCanvasVerifier", "MetaVerifier",
    "TwilioParams", "TwilioVerifier", "twilio_url",
    "VonageVerifier",
]
