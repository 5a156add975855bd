"""Signed Canvas Kit requests built from the documented payload shapes, and an agent clicking through.

Every canvas a test receives goes through :func:`canvaskit.validate_response`. Intercom's REST API is
faked with ``responses``; any call a test did not expect fails instead of reaching the network.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from typing import Any, Iterator, Mapping

import pytest
import responses

from .canvaskit import validate_response

WORKSPACE = "demo-intercom"
ADMIN = {"type": "admin", "id": "814860", "name": "Jane Agent", "email": "jane@example.com",
         "away_mode_enabled": False, "away_mode_reassign": False, "has_inbox_seat": True,
         "avatar": {"image_url": "https://static.intercomassets.com/avatars/1/square_128/jane.png"}, "team_ids": []}
CONTACT_ID = "5ba682d23d7cf92bef87bfd4"
CONVERSATION_ID = "147"
OPEN_WINDOW, OPTED_OUT, UNDELIVERABLE, NEW = "+12015550123", "+12015550124", "+12015550125", "+12015550126"


def secret_of(client) -> str:
    return client.application.extensions["herald"].config.intercom_client_secret


def sign(raw: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def compact(payload: Any) -> bytes:
    """Intercom sends compact JSON (reference §4.1); the signature covers these exact bytes."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def post_raw(client, path: str, raw: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Body-Signature"] = signature
    return client.post(path, data=raw, headers=headers)


def post_signed(client, path: str, payload: Mapping[str, Any], *, first: bool | None = None) -> dict[str, Any]:
    """Sign and post like Intercom; the answer must be a 200 JSON canvas that passes the validator."""
    raw = compact(payload)
    response = post_raw(client, path, raw, sign(raw, secret_of(client)))
    assert response.status_code == 200, response.data[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    return validate_response(body, first=path.endswith("/initialize") if first is None else first)


def contact(phone: str | None = OPEN_WINDOW, *, name: str = "Bob Ramos", id: str = CONTACT_ID,
            email: str = "bob@example.com", omit_phone: bool = False) -> dict[str, Any]:
    body = {"type": "contact", "id": id, "external_id": None, "workspace_id": WORKSPACE, "role": "user",
            "email": email, "phone": phone, "name": name, "custom_attributes": {}}
    if omit_phone:
        del body["phone"]
    return body


def initialize_payload(person: Mapping[str, Any] | None = None, *, key: str = "contact",
                       conversation_id: str = CONVERSATION_ID, region: str = "us",
                       workspace_id: str = WORKSPACE, legacy_ids: bool = False, with_context: bool = True,
                       conversation: bool = True) -> dict[str, Any]:
    """The Inbox initialize body of reference §2.2 (a composite of Intercom's docs and a real payload)."""
    person = dict(person if person is not None else contact())
    body: dict[str, Any] = {("app_id" if legacy_ids else "workspace_id"): workspace_id,
                            "workspace_region": region, "admin": ADMIN, key: person}
    if conversation:
        body["conversation"] = {
            "type": "conversation", "id": conversation_id, "created_at": 1633532241, "updated_at": 1636364551,
            "state": "open", "open": True, "read": True, "waiting_since": None, "snoozed_until": None,
            "source": {"type": "conversation", "id": "403918330", "delivered_as": "customer_initiated",
                       "subject": "", "body": "<p>Hi</p>",
                       "author": {"type": "user", "id": person.get("id"), "name": person.get("name"),
                                  "email": person.get("email")}},
            "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": person.get("id"),
                                                               "external_id": None}]}}
    if with_context:
        body["context"] = {"location": "conversation", "conversation_id": int(conversation_id), "locale": "en"}
    return body


def default_values(canvas: Mapping[str, Any]) -> dict[str, Any]:
    """What Intercom reports for the interactive components of a canvas the agent did not touch."""
    values: dict[str, Any] = {}
    for c in canvas["content"]["components"]:
        if c["type"] in ("input", "textarea", "single-select", "dropdown") and "value" in c and not c.get("disabled"):
            values[c["id"]] = c["value"]
        elif c["type"] == "checkbox":
            values[c["id"]] = list(c.get("value", []))
    return values


class Panel:
    """One teammate's sidebar: initialize, then click components with typed values, as Intercom posts them."""

    def __init__(self, client, payload: Mapping[str, Any] | None = None, *, nested: bool = False) -> None:
        self.client = client
        self.payload = dict(payload or initialize_payload())
        self.nested = nested
        self.body: dict[str, Any] = {}

    @property
    def canvas(self) -> dict[str, Any]:
        return self.body["canvas"]

    @property
    def stored(self) -> dict[str, Any]:
        return self.canvas.get("stored_data", {})

    def initialize(self) -> dict[str, Any]:
        self.body = post_signed(self.client, "/intercom/initialize", self.payload)
        return self.body

    def submit_payload(self, component_id: str, typed: Mapping[str, Any] | None = None) -> dict[str, Any]:
        current = {"content": self.canvas["content"], "stored_data": self.canvas.get("stored_data", {})}
        return {**self.payload, "component_id": component_id,
                "input_values": {**default_values(self.canvas), **(typed or {})},
                "current_canvas": {"current_canvas": current} if self.nested else current}

    def click(self, component_id: str, typed: Mapping[str, Any] | None = None, *,
              first: bool = False) -> dict[str, Any]:
        assert component_id in self.ids(), f"{component_id!r} is not on the canvas: {sorted(self.ids())}"
        self.body = post_signed(self.client, "/intercom/submit", self.submit_payload(component_id, typed),
                                first=first)
        return self.body

    # what is on screen
    def components(self) -> list[dict[str, Any]]:
        return self.canvas["content"]["components"]

    def ids(self) -> set[str]:
        found = set()
        for c in self.components():
            if "id" in c:
                found.add(c["id"])
            for item in c.get("items", []):
                if "id" in item:
                    found.add(item["id"])
        return found

    def component(self, id: str) -> dict[str, Any]:
        for c in self.components():
            if c.get("id") == id:
                return c
        raise AssertionError(f"no component {id!r} on the canvas: {sorted(self.ids())}")

    def texts(self, style: str | None = None) -> list[str]:
        return [c["text"] for c in self.components() if c["type"] == "text"
                and (style is None or c.get("style", "paragraph") == style)]

    def all_text(self) -> str:
        parts = []
        for c in self.components():
            for key in ("text", "label", "value"):
                if isinstance(c.get(key), str):
                    parts.append(c[key])
            for item in c.get("items", []):
                parts += [str(v) for k, v in item.items() if k in ("title", "subtitle", "tertiary_text",
                                                                     "field", "value")]
        return "\n".join(parts)

    def summary(self) -> dict[str, str]:
        """The first canvas's lines: the phone (its header) and each channel ("**WhatsApp**: …")."""
        lines: dict[str, str] = {}
        for text in self.texts("header"):
            if text.startswith("+"):
                lines["Phone"] = text
        for text in self.texts("paragraph"):
            if text.startswith("**") and "**: " in text:
                label, _, rest = text[2:].partition("**: ")
                lines[label] = rest
        return lines

    def recent(self) -> list[str]:
        return [t for t in self.texts("muted") if t.startswith("**")]

    def table(self, index: int = 0) -> dict[str, str]:
        tables = [c for c in self.components() if c["type"] == "data-table"]
        return {row["field"]: row["value"] for row in tables[index]["items"]}

    def list_items(self) -> list[dict[str, Any]]:
        return [item for c in self.components() if c["type"] == "list" for item in c["items"]]

    def template_item(self, name: str, language: str | None = None) -> str:
        for item in self.list_items():
            if item["title"] == name and (language is None or item.get("tertiary_text", "").startswith(language)):
                return item["id"]
        raise AssertionError(f"template {name} is not offered: {[i['title'] for i in self.list_items()]}")

    def copy(self) -> "Panel":
        twin = Panel(self.client, self.payload, nested=self.nested)
        twin.body = copy.deepcopy(self.body)
        return twin


@pytest.fixture(autouse=True)
def intercom_api() -> Iterator[responses.RequestsMock]:
    """Intercom's REST API, faked at the HTTP boundary; an unexpected call fails the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def panel(client) -> Panel:
    return Panel(client)


def install_token(ctx, token: str = "tok-demo-123", *, workspace: str = "demo", external_id: str = WORKSPACE,
                  api_base: str | None = None) -> None:
    """An Intercom installation for a workspace, its token sealed as the OAuth callback stores it."""
    from sqlalchemy import select

    from app.store.models import Installation, Workspace

    with ctx.store.session() as session:
        row = session.scalar(select(Workspace).where(Workspace.name == workspace))
        session.add(Installation(workspace_id=row.id, host="intercom", external_id=external_id,
                                 access_token_sealed=ctx.store.seal(token), api_base=api_base,
                                 created_at=ctx.now(), updated_at=ctx.now()))
