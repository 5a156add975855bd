"""The bodies of ``POST /{phone-number-id}/messages``: free text, and templates with their
components and parameters (providers.md §1.2-§1.4)."""

from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import urlsplit

from ...domain.templates import (
    MEDIA_FORMATS,
    Currency,
    DateTimeValue,
    ParamValue,
    TemplateSpec,
    clean_parameter,
    placeholders,
)
from ..base import Outbound
from ..errors import TEMPLATE, TypedProviderError
from .codes import _URL


def text_payload(outbound: Outbound) -> dict[str, Any]:
    """A free-text message; only allowed inside the customer-service window (providers.md §1.2)."""
    payload: dict[str, Any] = {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": outbound.to, "type": "text",
        "text": {"preview_url": bool(_URL.search(outbound.text)), "body": outbound.text},
    }
    if outbound.reference:
        payload["biz_opaque_callback_data"] = outbound.reference
    return payload


def template_payload(outbound: Outbound, typed_named: bool = True) -> dict[str, Any]:
    """A template message (providers.md §1.3); ``typed_named=False`` sends currency and dates as text."""
    spec = outbound.template
    assert spec is not None
    template: dict[str, Any] = {"name": spec.name, "language": {"code": spec.language}}
    components = template_components(spec, outbound.params, typed_named=typed_named)
    if components:
        template["components"] = components
    payload: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual",
                               "to": outbound.to, "type": "template", "template": template}
    if outbound.reference:
        payload["biz_opaque_callback_data"] = outbound.reference
    return payload


def template_components(spec: TemplateSpec, params: Mapping[str, ParamValue], *,
                        typed_named: bool = True) -> list[dict[str, Any]]:
    """Header, body and button parameters in Meta's shape, from Herald's slots (``header.media``,
    ``header.<key>``, ``<key>``, ``button<i>.<key>``).

    Positional values go in placeholder order ({{1}}, {{2}} …); named ones carry ``parameter_name``.
    Whether Meta wants ``parameter_name`` on currency and date_time values of a NAMED template is not
    confirmed (providers.md §1.3): they carry it unless ``typed_named`` is False, which sends their
    fallback text as a named text value instead.
    """
    named = spec.parameter_format.upper() == "NAMED"
    components: list[dict[str, Any]] = []
    if spec.header_format.upper() in MEDIA_FORMATS:
        components.append({"type": "header",
                           "parameters": [media_parameter(spec.header_format, _param(params, "header.media"))]})
    elif spec.header_format.upper() == "TEXT":
        keys = placeholders(spec.header_text)
        if keys:
            components.append({"type": "header", "parameters": [
                _value_parameter(k, _param(params, f"header.{k}"), named, typed_named) for k in keys]})
    body_keys = _ordered(placeholders(spec.body), named)
    if body_keys:
        components.append({"type": "body", "parameters": [
            _value_parameter(k, _param(params, k), named, typed_named) for k in body_keys]})
    for index, button in enumerate(spec.buttons):
        kind = button.type.upper()
        if kind == "URL":
            keys = placeholders(button.url)
            if keys:
                components.append({"type": "button", "sub_type": "url", "index": str(index), "parameters": [
                    {"type": "text", "text": _text(_param(params, f"button{index}.{k}"))} for k in keys]})
        elif kind == "OTP" and body_keys:
            # An authentication template repeats the code in its button (providers.md §1.3).
            components.append({"type": "button", "sub_type": "url", "index": str(index), "parameters": [
                {"type": "text", "text": _text(_param(params, body_keys[0]))}]})
    return components


def media_parameter(header_format: str, value: ParamValue) -> dict[str, Any]:
    """A header image, video or document: a public link, or a media id uploaded to Meta."""
    kind = header_format.lower()
    reference = _text(value).strip()
    media: dict[str, Any] = {"link": reference} if _URL.match(reference) else {"id": reference}
    if kind == "document" and "link" in media:
        name = urlsplit(reference).path.rsplit("/", 1)[-1]
        if "." in name:
            media["filename"] = name
    return {"type": kind, kind: media}


def _value_parameter(key: str, value: ParamValue, named: bool, typed_named: bool) -> dict[str, Any]:
    if isinstance(value, Currency) and (typed_named or not named):
        out: dict[str, Any] = {"type": "currency"}
        body: dict[str, Any] = {"currency": {"fallback_value": value.fallback_value, "code": value.code,
                                             "amount_1000": value.amount_1000}}
    elif isinstance(value, DateTimeValue) and (typed_named or not named):
        out, body = {"type": "date_time"}, {"date_time": {"fallback_value": value.fallback_value}}
    else:
        out, body = {"type": "text"}, {"text": _text(value)}
    if named:
        out["parameter_name"] = key
    out.update(body)
    return out


def _ordered(keys: list[str], named: bool) -> list[str]:
    if named or not all(k.isdigit() for k in keys):
        return keys
    return sorted(keys, key=int)


def _param(params: Mapping[str, ParamValue], slot: str) -> ParamValue:
    if slot not in params:
        raise TypedProviderError("template_param_missing", f"The template's “{slot}” value is missing.",
                                 kind=TEMPLATE, action="Fill in every placeholder and send again.")
    return params[slot]


def _text(value: ParamValue) -> str:
    return clean_parameter(value if isinstance(value, str) else value.text())


def _has_typed_named(spec: TemplateSpec, params: Mapping[str, ParamValue]) -> bool:
    return spec.parameter_format.upper() == "NAMED" and any(
        isinstance(v, (Currency, DateTimeValue)) for v in params.values())
