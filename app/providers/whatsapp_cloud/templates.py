"""Meta's template list (``GET /{waba-id}/message_templates``), read into what Herald stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import parse_qs, urlsplit

from ...domain.templates import placeholders


@dataclass(frozen=True)
class SyncedTemplate:
    """One template as Meta lists it, with the parts Herald renders already picked out."""

    provider_id: str
    name: str
    language: str
    status: str
    category: str
    parameter_format: str
    body: str
    header_format: str
    header_text: str
    footer: str
    buttons: tuple[Mapping[str, str], ...]
    components: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class TemplatePage:
    number: int
    templates: tuple[SyncedTemplate, ...]


def parse_template(item: Mapping[str, Any]) -> SyncedTemplate | None:
    """A ``message_templates`` entry (providers.md §1.6) in Herald's terms; None if it has no name."""
    name, language = str(item.get("name") or ""), str(item.get("language") or "")
    if not name or not language:
        return None
    components = [c for c in item.get("components") or [] if isinstance(c, Mapping)]
    body = header_format = header_text = footer = ""
    buttons: list[dict[str, str]] = []
    for component in components:
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER":
            header_format = str(component.get("format", "TEXT")).upper()
            header_text = str(component.get("text", "")) if header_format == "TEXT" else ""
        elif kind == "BODY":
            body = str(component.get("text", ""))
        elif kind == "FOOTER":
            footer = str(component.get("text", ""))
        elif kind == "BUTTONS":
            for button in component.get("buttons") or []:
                if isinstance(button, Mapping):
                    buttons.append({"type": str(button.get("type", "")).upper(), "text": str(button.get("text", "")),
                                    "url": str(button.get("url", ""))})
    declared = str(item.get("parameter_format") or "").upper()
    keys = placeholders(body) + placeholders(header_text)
    parameter_format = declared if declared in ("NAMED", "POSITIONAL") else (
        "NAMED" if any(not k.isdigit() for k in keys) else "POSITIONAL")
    return SyncedTemplate(
        provider_id=str(item.get("id") or ""), name=name, language=language,
        status=str(item.get("status") or "").upper(), category=str(item.get("category") or "").upper(),
        parameter_format=parameter_format, body=body, header_format=header_format, header_text=header_text,
        footer=footer, buttons=tuple(buttons), components=tuple(dict(c) for c in components))


def next_cursor(body: Mapping[str, Any], page_had_data: bool) -> str | None:
    """The ``after`` cursor of the next page, or None on the last page.

    Graph puts ``paging.next`` on every page but the last; that it always does so is not confirmed
    (providers.md §1.6), so a page that has data and an ``after`` cursor but no ``next`` is
    followed too, and the empty page that answers it ends the listing.
    """
    paging = body.get("paging") if isinstance(body.get("paging"), Mapping) else {}
    cursors = paging.get("cursors") if isinstance(paging.get("cursors"), Mapping) else {}
    following = paging.get("next")
    if isinstance(following, str) and following:
        after = parse_qs(urlsplit(following).query).get("after", [None])[0]
        return after or cursors.get("after")
    if page_had_data and cursors.get("after"):
        return str(cursors["after"])
    return None
