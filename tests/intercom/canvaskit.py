"""A Canvas Kit response validator, written from the reference (intercom-canvas-kit.md §1, §3).

``validate_response(body, first=False)`` raises :class:`CanvasError` naming the exact place and rule
broken: component types and their documented keys, required fields, enumerations, 2–10 options per
select, unique ids, 64 KB for content and stored_data, and Intercom's inbox design rules (first
canvas under about 400 px with no primary button, navigation as link buttons, no relative dates).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Iterable, Mapping

MAX_BYTES = 64 * 1024
MAX_FIRST_HEIGHT = 400
SIDEBAR_CHARS_PER_LINE = 42  # ~300 px of text at Intercom's sidebar font size

ACTION_TYPES = {"submit", "url", "sheet"}
TEXT_STYLES = {"header", "paragraph", "muted", "error"}
ALIGNS = {"left", "center", "right"}
BUTTON_STYLES = {"primary", "secondary", "link"}
SAVE_STATES = {"unsaved", "saved", "failed"}
SPACER_SIZES = {"xs", "s", "m", "l", "xl"}
IMAGE_ALIGNS = {"left", "center", "right", "full_width"}
NAVIGATION_LABELS = {"back", "cancel", "done", "back to start", "start over"}
RELATIVE_DATES = re.compile(r"\b(\d+\s+(second|minute|hour|day|week|month)s?\s+ago|yesterday|tomorrow|"
                            r"just now|in\s+\d+\s+(minute|hour|day)s?)\b", re.IGNORECASE)

# type -> (required keys, optional keys)
SCHEMA: dict[str, tuple[set[str], set[str]]] = {
    "text": ({"type", "text"}, {"id", "align", "style", "bottom_margin"}),
    "button": ({"type", "id", "label", "action"}, {"style", "disabled"}),
    "input": ({"type", "id"}, {"label", "placeholder", "value", "action", "save_state", "disabled", "aria_label"}),
    "textarea": ({"type", "id"}, {"label", "placeholder", "value", "error", "disabled"}),
    "single-select": ({"type", "id", "options"}, {"label", "value", "save_state", "disabled", "action"}),
    "dropdown": ({"type", "id", "options"}, {"label", "value", "save_state", "disabled"}),
    "checkbox": ({"type", "id", "label"}, {"option", "options", "value", "save_state", "disabled"}),
    "list": ({"type", "items"}, {"disabled"}),
    "data-table": ({"type", "items"}, set()),
    "image": ({"type", "url", "width", "height"}, {"id", "align", "rounded", "bottom_margin", "action"}),
    "spacer": ({"type"}, {"id", "size"}),
    "divider": ({"type"}, {"id", "bottom_margin"}),
}
INTERACTIVE = {"button", "input", "textarea", "single-select", "dropdown", "checkbox"}


class CanvasError(AssertionError):
    """A response Intercom would not accept (or App Store review would not), with where and why."""


def _fail(where: str, message: str) -> None:
    raise CanvasError(f"{where}: {message}")


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _describe(index: int, component: Mapping[str, Any]) -> str:
    ident = component.get("id")
    kind = component.get("type", "?")
    return f"components[{index}] ({kind}{' ' + repr(ident) if ident else ''})"


def _string(where: str, value: Any, name: str, *, empty: bool = False) -> None:
    if not isinstance(value, str):
        _fail(where, f"{name} must be a string, got {type(value).__name__}")
    if not empty and not value.strip():
        _fail(where, f"{name} must not be empty")


def _bool(where: str, component: Mapping[str, Any], name: str) -> None:
    if name in component and not isinstance(component[name], bool):
        _fail(where, f"{name} must be true or false, got {component[name]!r}")


def _enum(where: str, component: Mapping[str, Any], name: str, allowed: set[str]) -> None:
    if name in component and component[name] not in allowed:
        _fail(where, f"{name} {component[name]!r} is not one of {', '.join(sorted(allowed))}")


def _action(where: str, action: Any, *, url_only: bool = False, inbox: bool = True) -> None:
    if not isinstance(action, dict):
        _fail(where, "action must be an object")
    kind = action.get("type")
    if kind not in ACTION_TYPES:
        _fail(where, f"action type {kind!r} is not one of {', '.join(sorted(ACTION_TYPES))}")
    if url_only and kind != "url":
        _fail(where, "only a url action is allowed here")
    if kind == "sheet" and inbox:
        _fail(where, "sheet actions are Messenger-only and do not work in the inbox")
    if kind in ("url", "sheet"):
        _string(where, action.get("url"), "action.url")
        if not re.match(r"https?://", action["url"]):
            _fail(where, f"action.url {action['url']!r} is not an http(s) URL")
        extra = set(action) - {"type", "url"}
    else:
        extra = set(action) - {"type"}
    if extra:
        _fail(where, f"action has undocumented keys {sorted(extra)}")


def _options(where: str, component: Mapping[str, Any], key: str, low: int, high: int | None) -> list[str]:
    options = component.get(key)
    if not isinstance(options, list):
        _fail(where, f"{key} must be a list")
    if len(options) < low or (high is not None and len(options) > high):
        bounds = f"{low} to {high}" if high is not None else f"at least {low}"
        _fail(where, f"needs {bounds} options, has {len(options)}")
    ids: list[str] = []
    for position, option in enumerate(options):
        spot = f"{where} option[{position}]"
        if not isinstance(option, dict) or option.get("type") != "option":
            _fail(spot, 'each option is {"type": "option", "id", "text"}')
        extra = set(option) - {"type", "id", "text", "disabled"}
        if extra:
            _fail(spot, f"undocumented keys {sorted(extra)}")
        _string(spot, option.get("id"), "id")
        _string(spot, option.get("text"), "text")
        _bool(spot, option, "disabled")
        if option["id"] in ids:
            _fail(spot, f"duplicate option id {option['id']!r}")
        ids.append(option["id"])
    return ids


def _check_component(where: str, component: Any, ids: set[str], inbox: bool) -> None:
    if not isinstance(component, dict):
        _fail(where, "a component must be an object")
    kind = component.get("type")
    if kind not in SCHEMA:
        _fail(where, f"unknown component type {kind!r}")
    required, optional = SCHEMA[kind]
    missing = required - set(component)
    if missing:
        _fail(where, f"missing required {sorted(missing)}")
    extra = set(component) - required - optional
    if extra:
        _fail(where, f"undocumented keys {sorted(extra)} for {kind}")
    if "id" in component:
        _string(where, component["id"], "id")
        if component["id"] in ids:
            _fail(where, f"duplicate id {component['id']!r}: ids must be unique on a canvas")
        ids.add(component["id"])
    for flag in ("disabled", "error", "rounded"):
        _bool(where, component, flag)
    if "bottom_margin" in component and component["bottom_margin"] != "none":
        _fail(where, 'bottom_margin can only be "none"')
    if kind == "text":
        _string(where, component["text"], "text")
        _enum(where, component, "style", TEXT_STYLES)
        _enum(where, component, "align", ALIGNS)
        if component.get("style") in ("muted", "error") and component.get("align", "left") != "left":
            _fail(where, "empty and error states are left-aligned")
    elif kind == "button":
        _string(where, component["label"], "label")
        _enum(where, component, "style", BUTTON_STYLES)
        _action(where, component["action"], inbox=inbox)
        if component["label"].strip().lower() in NAVIGATION_LABELS and component.get("style") != "link":
            _fail(where, f"navigation ({component['label']!r}) uses a link-style button")
    elif kind in ("input", "textarea"):
        for name in ("label", "placeholder", "value", "aria_label"):
            if name in component:
                _string(where, component[name], name, empty=(name == "value"))
        _enum(where, component, "save_state", SAVE_STATES)
        if "action" in component:
            _action(where, component["action"], inbox=inbox)
    elif kind in ("single-select", "dropdown"):
        option_ids = _options(where, component, "options", 2, 10)
        if "label" in component:
            _string(where, component["label"], "label")
        _enum(where, component, "save_state", SAVE_STATES)
        if "value" in component and component["value"] not in option_ids:
            _fail(where, f"value {component['value']!r} is not one of its option ids")
        if "action" in component:
            _action(where, component["action"], inbox=inbox)
    elif kind == "checkbox":
        if ("option" in component) == ("options" in component):
            _fail(where, "a checkbox has its choices under exactly one of option/options")
        option_ids = _options(where, component, "options" if "options" in component else "option", 1, None)
        _string(where, component["label"], "label")
        _enum(where, component, "save_state", SAVE_STATES)
        value = component.get("value", [])
        if not isinstance(value, list) or any(v not in option_ids for v in value):
            _fail(where, "value must be a list of its option ids")
    elif kind == "list":
        items = component["items"]
        if not isinstance(items, list) or not items:
            _fail(where, "items must be a non-empty list")
        for position, item in enumerate(items):
            spot = f"{where} item[{position}]"
            if not isinstance(item, dict) or item.get("type") != "item":
                _fail(spot, 'each item is {"type": "item", "id", "title", …}')
            allowed = {"type", "id", "title", "subtitle", "tertiary_text", "image", "image_width", "image_height",
                       "rounded_image", "disabled", "action"}
            extra = set(item) - allowed
            if extra:
                _fail(spot, f"undocumented keys {sorted(extra)}")
            _string(spot, item.get("id"), "id")
            _string(spot, item.get("title"), "title")
            for name in ("subtitle", "tertiary_text"):
                if name in item:
                    _string(spot, item[name], name)
            if "image" in item and not ("image_width" in item and "image_height" in item):
                _fail(spot, "an item image needs image_width and image_height")
            if "action" in item:
                _action(spot, item["action"], inbox=inbox)
            if item["id"] in ids:
                _fail(spot, f"duplicate id {item['id']!r}: ids must be unique on a canvas")
            ids.add(item["id"])
    elif kind == "data-table":
        items = component["items"]
        if not isinstance(items, list) or not items:
            _fail(where, "items must be a non-empty list")
        for position, item in enumerate(items):
            spot = f"{where} item[{position}]"
            if not isinstance(item, dict) or item.get("type") != "field-value" or set(item) != {"type", "field", "value"}:
                _fail(spot, 'each row is exactly {"type": "field-value", "field", "value"}')
            _string(spot, item["field"], "field")
            _string(spot, item["value"], "value", empty=True)
    elif kind == "image":
        _string(where, component["url"], "url")
        for name in ("width", "height"):
            if not isinstance(component[name], int) or isinstance(component[name], bool) or component[name] <= 0:
                _fail(where, f"{name} must be a positive integer")
        _enum(where, component, "align", IMAGE_ALIGNS)
        if "action" in component:
            _action(where, component["action"], url_only=True, inbox=inbox)
    elif kind == "spacer":
        _enum(where, component, "size", SPACER_SIZES)


def _lines(text: str) -> int:
    return sum(max(1, math.ceil(len(line) / SIDEBAR_CHARS_PER_LINE)) for line in text.split("\n"))


def estimated_height(components: Iterable[Mapping[str, Any]]) -> int:
    """Roughly how tall Intercom draws these components in the sidebar, in pixels."""
    total = 0
    for c in components:
        kind = c["type"]
        margin = 0 if c.get("bottom_margin") == "none" else 10
        label = 22 if c.get("label") else 0
        if kind == "text":
            total += (24 if c.get("style") == "header" else 20) * _lines(c["text"]) + margin
        elif kind == "button":
            total += (28 if c.get("style") == "link" else 36) + 10
        elif kind == "input":
            total += label + 36 + 10
        elif kind == "textarea":
            total += label + 80 + 10
        elif kind == "single-select":
            chars = sum(len(o["text"]) + 4 for o in c["options"])
            total += label + 34 * max(1, math.ceil(chars / SIDEBAR_CHARS_PER_LINE)) + 10
        elif kind == "dropdown":
            total += label + 36 + 10
        elif kind == "checkbox":
            total += label + 24 * len(c.get("options") or c.get("option") or []) + 10
        elif kind == "list":
            total += sum(20 + 17 * (("subtitle" in i) + ("tertiary_text" in i)) + 12 for i in c["items"]) + 10
        elif kind == "data-table":
            total += 26 * len(c["items"]) + 10
        elif kind == "image":
            total += int(c["height"]) + margin
        elif kind == "spacer":
            total += {"xs": 4, "s": 8, "m": 16, "l": 24, "xl": 32}[c.get("size", "s")]
        elif kind == "divider":
            total += 1 + margin + 6
    return total


def _texts(components: Iterable[Mapping[str, Any]]) -> Iterable[tuple[str, str]]:
    for index, c in enumerate(components):
        where = _describe(index, c)
        for key in ("text", "label", "placeholder"):
            if isinstance(c.get(key), str):
                yield where, c[key]
        for item in c.get("items", []) if isinstance(c.get("items"), list) else []:
            for key in ("title", "subtitle", "tertiary_text", "field", "value"):
                if isinstance(item, dict) and isinstance(item.get(key), str):
                    yield where, item[key]


def validate_canvas(canvas: Any, *, first: bool = False, inbox: bool = True) -> None:
    """Check one canvas object ({"content": …, "stored_data": …})."""
    if not isinstance(canvas, dict):
        _fail("canvas", "must be an object")
    extra = set(canvas) - {"content", "content_url", "stored_data"}
    if extra:
        _fail("canvas", f"undocumented keys {sorted(extra)}")
    if "content_url" in canvas:
        if inbox:
            _fail("canvas", "content_url (live canvas) works only in the Messenger")
        _string("canvas", canvas["content_url"], "content_url")
    if "content" not in canvas and "content_url" not in canvas:
        _fail("canvas", "a static canvas needs content")
    if "stored_data" in canvas:
        if not isinstance(canvas["stored_data"], dict):
            _fail("canvas.stored_data", "must be an object")
        if _size(canvas["stored_data"]) > MAX_BYTES:
            _fail("canvas.stored_data", f"is {_size(canvas['stored_data'])} bytes; the limit is 64 KB")
    if "content" not in canvas:
        return
    content = canvas["content"]
    if not isinstance(content, dict) or set(content) != {"components"}:
        _fail("canvas.content", 'must be exactly {"components": […]}')
    if _size(content) > MAX_BYTES:
        _fail("canvas.content", f"is {_size(content)} bytes; the limit is 64 KB")
    components = content["components"]
    if not isinstance(components, list) or not components:
        _fail("canvas.content.components", "must be a non-empty list")
    ids: set[str] = set()
    for index, component in enumerate(components):
        where = "canvas.content." + _describe(index, component if isinstance(component, dict) else {})
        _check_component(where, component, ids, inbox)
    for where, value in _texts(components):
        if RELATIVE_DATES.search(value):
            _fail(f"canvas.content.{where}", f"dates are absolute in the inbox, not {value!r}")
    if first:
        for index, component in enumerate(components):
            if component["type"] == "button" and component.get("style", "primary") == "primary":
                _fail(f"canvas.content.{_describe(index, component)}",
                      "no primary button on the first canvas (use secondary or link)")
        height = estimated_height(components)
        if height > MAX_FIRST_HEIGHT:
            _fail("canvas", f"first canvas is about {height} px tall; the inbox allows about {MAX_FIRST_HEIGHT}")


def validate_response(body: Any, *, first: bool = False, inbox: bool = True) -> dict[str, Any]:
    """Check a whole initialize or submit response body; returns it for chaining."""
    if not isinstance(body, dict):
        _fail("response", f"must be a JSON object, got {type(body).__name__}")
    extra = set(body) - {"canvas", "event", "card_creation_options"}
    if extra:
        _fail("response", f"undocumented keys {sorted(extra)}")
    if "canvas" not in body:
        _fail("response", 'must carry a "canvas"')
    if "event" in body and body["event"] != {"type": "completed"}:
        _fail("response.event", 'the only event is {"type": "completed"}')
    if "card_creation_options" in body and not isinstance(body["card_creation_options"], dict):
        _fail("response.card_creation_options", "must be an object")
    validate_canvas(body["canvas"], first=first, inbox=inbox)
    return body
