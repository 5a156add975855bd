"""Why a proactive message is sent: a closed list, split into service and marketing."""

from __future__ import annotations

from dataclasses import dataclass

SERVICE, MARKETING = "service", "marketing"
ORIGINS = ("agent", "api", "ai")


@dataclass(frozen=True)
class Purpose:
    code: str
    label: str
    kind: str  # SERVICE or MARKETING

    @property
    def marketing(self) -> bool:
        return self.kind == MARKETING


PURPOSES: dict[str, Purpose] = {p.code: p for p in (
    Purpose("delivery_update", "Delivery or order update", SERVICE),
    Purpose("appointment", "Appointment", SERVICE),
    Purpose("account_security", "Account or security event", SERVICE),
    Purpose("incident_remediation", "Incident remediation", SERVICE),
    Purpose("renewal_reminder", "Requested renewal or expiry reminder", SERVICE),
    Purpose("confirmation", "Confirmation or progress", SERVICE),
    Purpose("one_time_passcode", "One-time passcode", SERVICE),
    Purpose("promotion", "Promotion", MARKETING),
    Purpose("win_back", "Win-back or re-engagement", MARKETING),
    Purpose("upsell", "Upsell or cross-sell", MARKETING),
    Purpose("abandoned_cart", "Abandoned cart", MARKETING),
)}

# Purposes that may break quiet hours: the customer is waiting for them right now.
URGENT = frozenset({"account_security", "one_time_passcode"})


def purpose(code: str) -> Purpose | None:
    return PURPOSES.get(code)


def default_for_category(category: str | None) -> str | None:
    """The purpose a template's category implies when the caller declared none."""
    return {"AUTHENTICATION": "one_time_passcode", "MARKETING": "promotion",
            "PROMOTIONAL": "promotion"}.get((category or "").upper())
