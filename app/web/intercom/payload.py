"""Reading a Canvas Kit request body, whichever of its documented shapes Intercom sends.

Reference §2: ``workspace_id`` was ``app_id`` before 1.3; the contact is ``contact`` or ``customer``;
``current_canvas`` is the canvas itself or (per the OpenAPI spec) a wrapper around it; the
conversation id is ``conversation.id`` (a string) or ``context.conversation_id`` (an integer);
untouched inputs may be missing or empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class Contact:
    id: str = ""
    name: str = ""
    email: str = ""
    phone: str | None = None
    phone_given: bool = False  # False when the payload left ``phone`` out altogether

    def prefill(self) -> dict[str, str]:
        """What template placeholders may be filled from (name, first name, email, phone)."""
        parts = self.name.split()
        return {"name": self.name, "first_name": parts[0] if parts else "",
                "last_name": parts[-1] if len(parts) > 1 else "", "email": self.email, "phone": self.phone or ""}


@dataclass(frozen=True)
class CanvasRequest:
    """One initialize or submit request, reduced to what Herald uses."""

    workspace_id: str
    region: str
    admin_id: str
    admin_email: str
    conversation_id: str
    contact: Contact
    component_id: str = ""
    input_values: Mapping[str, Any] = field(default_factory=dict)
    stored: Mapping[str, Any] = field(default_factory=dict)

    def value(self, component_id: str) -> str:
        """An input's value as a string; missing, null and blank all read as ""."""
        raw = self.input_values.get(component_id)
        if isinstance(raw, list):
            raw = raw[0] if raw else ""
        return "" if raw is None else str(raw).strip()

    def raw_value(self, component_id: str) -> str:
        """Like :meth:`value` but keeps the agent's spacing (free text)."""
        raw = self.input_values.get(component_id)
        return "" if raw is None or isinstance(raw, list) else str(raw)

    @property
    def requested_by(self) -> str:
        """Who asked, for the message record: the teammate's email and Intercom admin id."""
        if self.admin_email and self.admin_id:
            return f"{self.admin_email} (Intercom admin {self.admin_id})"
        return self.admin_email or (f"Intercom admin {self.admin_id}" if self.admin_id else "Intercom")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, (dict, list)) else str(value).strip()


def contact_of(body: Mapping[str, Any]) -> Contact:
    """``contact``, falling back to ``customer`` (and to the first of a legacy list)."""
    raw = body.get("contact") or body.get("customer") or {}
    if isinstance(raw, list):
        raw = raw[0] if raw else {}
    raw = _dict(raw)
    given = "phone" in raw or "formatted_phone" in raw
    number = _text(raw.get("formatted_phone")) or _text(raw.get("phone")) or None
    return Contact(id=_text(raw.get("id")), name=_text(raw.get("name")), email=_text(raw.get("email")),
                   phone=number, phone_given=given)


def stored_data_of(body: Mapping[str, Any]) -> dict[str, Any]:
    """``current_canvas.stored_data``, unwrapping the OpenAPI spec's nested ``current_canvas``."""
    canvas = _dict(body.get("current_canvas"))
    if "current_canvas" in canvas:
        canvas = _dict(canvas["current_canvas"])
    if "canvas" in canvas and "stored_data" not in canvas:
        canvas = _dict(canvas["canvas"])
    return _dict(canvas.get("stored_data"))


def parse(body: Any) -> CanvasRequest:
    """The request as Herald reads it; tolerant of absent keys, strict about nothing."""
    body = _dict(body)
    admin = _dict(body.get("admin"))
    conversation = _dict(body.get("conversation"))
    context = _dict(body.get("context"))
    return CanvasRequest(
        workspace_id=_text(body.get("workspace_id")) or _text(body.get("app_id")),
        region=_text(body.get("workspace_region")),
        admin_id=_text(admin.get("id")),
        admin_email=_text(admin.get("email")),
        conversation_id=_text(conversation.get("id")) or _text(context.get("conversation_id")),
        contact=contact_of(body),
        component_id=_text(body.get("component_id")),
        input_values=_dict(body.get("input_values")),
        stored=stored_data_of(body),
    )
