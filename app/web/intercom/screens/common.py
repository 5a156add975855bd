"""What every Intercom canvas shares: limits, the back link, dates and numbers, the set-up and error canvases."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from ....domain.phone import display
from ....domain.purposes import MARKETING, SERVICE
from ....domain.window import format_moment
from ..components import Component, button, canvas, divider, plain, text

RECENT = 3
EARLIER = 3  # earlier consent records shown under the current ones
ECHO = 5000  # longest text echoed back into a field: past every channel's limit, far under 64 KB
NO_PURPOSE = "none"
KIND_LABELS = {SERVICE: "Service", MARKETING: "Marketing"}
# The policy's refusals that recording the customer's marketing consent can lift.
CONSENT_REASONS = ("marketing_consent_missing", "marketing_consent_withdrawn")


def shown_number(value: str | None) -> str:
    if not value:
        return ""
    return display(value) if value.startswith("+") else value


def back(id: str = "home", label: str = "Back") -> list[Component]:
    return [divider(), button(id, label, "link")]


def moment(iso: str) -> str:
    try:
        return format_moment(datetime.fromisoformat(iso))
    except (TypeError, ValueError):
        return iso


# --------------------------------------------------------------------------- set-up and errors


def setup_needed(intercom_workspace_id: str, install_url: str) -> dict[str, Any]:
    """Intercom asked from a workspace Herald does not know: say how to finish set-up."""
    ident = plain(intercom_workspace_id or "unknown")
    return canvas([
        text("Finish setting up Herald", "header"),
        text(f"Herald is not linked to this Intercom workspace ({ident}) yet, so it cannot send messages "
             "from here.", "muted"),
        text("An Intercom admin installs Herald from the App Store, or your Herald operator links the "
             f"workspace with: flask --app app workspace create NAME --intercom-workspace-id {ident}", "muted"),
        button("install", "Install Herald", "secondary", url=install_url),
        *back("home", "Check again"),
    ], {"v": 1, "step": "setup"})


def no_senders(workspace_name: str) -> dict[str, Any]:
    return canvas([
        text("Finish setting up Herald", "header"),
        text(f"Workspace {plain(workspace_name)} has no WhatsApp, SMS or Viber sender yet. Your Herald "
             "operator adds one with: flask --app app sender add", "muted"),
        *back("home", "Check again"),
    ], {"v": 1, "step": "setup"})


def problem(message: str, stored: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Something went wrong on Herald's side: say so plainly and offer the way back."""
    return canvas([
        text("Something went wrong", "header"),
        text(plain(message), "muted"),
        *back("home", "Back to start"),
    ], {"v": 1, "step": "problem", **{k: v for k, v in (stored or {}).items() if k in ("phone", "contact_id")}})


def expired(opened_at: datetime, stored: Mapping[str, Any]) -> dict[str, Any]:
    """A send from a form opened long ago: what can be sent may have changed since."""
    return canvas([
        text("This form has expired", "header"),
        text(f"It was opened on {format_moment(opened_at)} and can no longer send. Start again to see what "
             "can be sent to this customer now.", "muted"),
        *back("home", "Back to start"),
    ], {"v": 1, "step": "problem", "phone": stored.get("phone"), "contact_id": stored.get("contact_id")})
