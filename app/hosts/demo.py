"""The demo host: plays HubSpot (and its demo portal's contacts) for the embedded default, offline,
the way the sandbox provider plays the messaging providers.

It answers the same calls as :class:`app.hosts.hubspot.HubSpotClient`, so the services that read
contacts and write the timeline run one path whichever host answers; which host serves a portal
is decided once, where the host clients are chosen. It writes nothing anywhere.
"""

from __future__ import annotations

import itertools
from typing import Any, Mapping

from .hubspot import Contact, HubSpotError, TokenSource

DEMO_INTERCOM_WORKSPACE = "demo-intercom"
DEMO_HUBSPOT_PORTAL = "900001"
CUSTOMERS = {
    "open_window": "+12015550123",   # wrote on WhatsApp and Viber two hours ago
    "opted_out": "+12015550124",     # replied STOP to SMS
    "undeliverable": "+12015550125", # the sandbox refuses to deliver to this one
    "new": "+12015550126",           # never wrote in
}

# The demo portal's contacts: ids a playground visitor can type, each one of the demo customers.
DEMO_CONTACTS: dict[str, tuple[str, str, str, str | None]] = {
    "101": ("Asha", "Patel", "asha.patel@example.com", CUSTOMERS["open_window"]),
    "102": ("Bruno", "Costa", "bruno.costa@example.com", CUSTOMERS["opted_out"]),
    "103": ("Chloé", "Martin", "chloe.martin@example.com", CUSTOMERS["undeliverable"]),
    "104": ("Dmitri", "Ivanov", "dmitri.ivanov@example.com", CUSTOMERS["new"]),
    "105": ("Emeka", "Okafor", "emeka.okafor@example.com", None),
}
DEMO_NOTES = {
    "101": "wrote on WhatsApp and Viber two hours ago",
    "102": "replied STOP to SMS",
    "103": "the sandbox cannot deliver to this number",
    "104": "never wrote in",
    "105": "no phone number",
}


def demo_contact(contact_id: str) -> Contact:
    """One of the demo portal's contacts, or the 404 a visitor typing another id gets."""
    if contact_id not in DEMO_CONTACTS:
        raise HubSpotError(f"The demo account has no contact {contact_id}; its contacts are "
                           f"{', '.join(DEMO_CONTACTS)}.", 404)
    first, last, email, number = DEMO_CONTACTS[contact_id]
    return Contact(contact_id, first, last, email, number, number or "")


class DemoHubSpot:
    """HubSpot's contact and timeline calls for the demo portal, answered from its own directory."""

    records_timeline = False  # the demo portal's timeline is nobody's: nothing is written back
    needs_install = False  # Herald is always installed here; it never asks for a token
    demo = True  # the compose page says its sends go to the sandbox

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    def contact(self, token: TokenSource, contact_id: str, region: str | None) -> Contact:
        return demo_contact(contact_id)

    def create_object(self, token: TokenSource, kind: str, payload: Mapping[str, Any], what: str) -> str:
        return f"demo-{kind[:-1]}-{next(self._ids)}"
