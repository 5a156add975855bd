"""Canvas Kit components as plain dicts (reference §3.2), and the envelope around them.

Only documented keys are emitted, and optional keys only when they carry a value, so every canvas
is exactly what the schema allows.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Sequence

Component = dict[str, Any]

SUBMIT: dict[str, str] = {"type": "submit"}
MAX_OPTIONS = 10

_LINK = re.compile(r"\]\s*\(")


def plain(value: str) -> str:
    """Text from people (names, messages) made inert in Canvas Kit's markdown: no links, no bold."""
    return _LINK.sub("] (", value.replace("**", "* *"))


def text(value: str, style: str | None = None, *, align: str | None = None, bottom_margin: bool = True) -> Component:
    component: Component = {"type": "text", "text": value}
    if style:
        component["style"] = style
    if align:
        component["align"] = align
    if not bottom_margin:
        component["bottom_margin"] = "none"
    return component


def button(id: str, label: str, style: str = "secondary", *, url: str | None = None,
           disabled: bool = False) -> Component:
    component: Component = {"type": "button", "id": id, "label": label, "style": style,
                            "action": {"type": "url", "url": url} if url else dict(SUBMIT)}
    if disabled:
        component["disabled"] = True
    return component


def input_(id: str, label: str, value: str = "", *, placeholder: str = "", failed: bool = False,
           inline_submit: bool = False) -> Component:
    component: Component = {"type": "input", "id": id, "label": label}
    if placeholder:
        component["placeholder"] = placeholder
    if value:
        component["value"] = value
    if inline_submit:
        component["action"] = dict(SUBMIT)
    if failed:
        component["save_state"] = "failed"
    return component


def textarea(id: str, label: str, value: str = "", *, placeholder: str = "", error: bool = False,
             disabled: bool = False) -> Component:
    component: Component = {"type": "textarea", "id": id, "label": label}
    if placeholder:
        component["placeholder"] = placeholder
    if value:
        component["value"] = value
    if error:
        component["error"] = True
    if disabled:
        component["disabled"] = True
    return component


def options(pairs: Iterable[tuple[str, str]]) -> list[Component]:
    return [{"type": "option", "id": id, "text": label} for id, label in pairs]


def single_select(id: str, label: str, choices: Sequence[tuple[str, str]], value: str | None = None, *,
                  submit_on_change: bool = False, failed: bool = False) -> Component:
    """Pills; needs 2 to 10 choices (callers show plain text for one)."""
    _check_count(id, choices)
    component: Component = {"type": "single-select", "id": id, "label": label, "options": options(choices)}
    if value and any(value == c[0] for c in choices):
        component["value"] = value
    if submit_on_change:
        component["action"] = dict(SUBMIT)
    if failed:
        component["save_state"] = "failed"
    return component


def dropdown(id: str, label: str, choices: Sequence[tuple[str, str]], value: str | None = None, *,
             failed: bool = False) -> Component:
    _check_count(id, choices)
    component: Component = {"type": "dropdown", "id": id, "label": label, "options": options(choices)}
    if value and any(value == c[0] for c in choices):
        component["value"] = value
    if failed:
        component["save_state"] = "failed"
    return component


def _check_count(id: str, choices: Sequence[tuple[str, str]]) -> None:
    if not 2 <= len(choices) <= MAX_OPTIONS:
        raise ValueError(f"select {id!r} needs 2 to {MAX_OPTIONS} options, got {len(choices)}")


def data_table(rows: Iterable[tuple[str, str]]) -> Component:
    return {"type": "data-table",
            "items": [{"type": "field-value", "field": field, "value": value} for field, value in rows]}


def list_item(id: str, title: str, subtitle: str = "", tertiary: str = "") -> Component:
    item: Component = {"type": "item", "id": id, "title": title, "action": dict(SUBMIT)}
    if subtitle:
        item["subtitle"] = subtitle
    if tertiary:
        item["tertiary_text"] = tertiary
    return item


def list_(items: Sequence[Component]) -> Component:
    return {"type": "list", "items": list(items)}


def divider() -> Component:
    return {"type": "divider"}


def spacer(size: str = "s") -> Component:
    return {"type": "spacer", "size": size}


def canvas(components: Sequence[Component], stored_data: dict[str, Any] | None = None, *,
           completed: bool = False) -> dict[str, Any]:
    """The response body: ``{"canvas": {"content": …, "stored_data": …}}`` (+ ``event`` when a flow ends)."""
    body: dict[str, Any] = {"canvas": {"content": {"components": list(components)}}}
    if stored_data is not None:
        body["canvas"]["stored_data"] = stored_data
    if completed:
        body["event"] = {"type": "completed"}
    return body


def clip(value: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word where possible, with an ellipsis."""
    value = " ".join(value.split())
    if len(value) <= limit:
        return value
    cut = value[: limit - 1].rsplit(" ", 1)[0] or value[: limit - 1]
    return cut.rstrip(",.;:") + "…"
