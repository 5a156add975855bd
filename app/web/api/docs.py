"""The people's page for /api/v1: the OpenAPI description rendered on the server as plain HTML.

Nothing is fetched from elsewhere (no CDN, no script): the page is readable offline and under a
strict Content-Security-Policy. Pure functions turn the description into rows the template prints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass
class Row:
    """One field of a schema, indented by ``depth``."""

    name: str
    type: str
    required: bool
    notes: str
    depth: int


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    description: str
    parameters: list[dict[str, Any]] = field(default_factory=list)
    body: list[Row] = field(default_factory=list)
    examples: list[tuple[str, str]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"{self.method}-{self.path.strip('/').replace('/', '-').replace('{', '').replace('}', '')}"


def _resolve(schema: Mapping[str, Any], spec: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """A schema with its ``$ref`` followed; returns the referenced name too ("" when inline)."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        return name, spec["components"]["schemas"][name]
    return "", schema


def type_of(schema: Mapping[str, Any], spec: Mapping[str, Any]) -> str:
    """A schema's type in a few words: ``string or null``, ``object (CurrencyParam)``, ``list of string``."""
    name, target = _resolve(schema, spec)
    if name:
        return name
    for key in ("oneOf", "anyOf"):
        if key in target:
            return " or ".join(dict.fromkeys(type_of(option, spec) for option in target[key]))
    kind = target.get("type", "any")
    kinds = kind if isinstance(kind, list) else [kind]
    words = []
    for item in kinds:
        if item == "array" and "items" in target:
            words.append(f"list of {type_of(target['items'], spec)}")
        else:
            words.append(str(item))
    return " or ".join(words)


def _notes(schema: Mapping[str, Any]) -> str:
    parts = []
    if schema.get("description"):
        parts.append(str(schema["description"]))
    if "enum" in schema:
        parts.append("one of " + ", ".join(json.dumps(v) for v in schema["enum"]))
    for key, words in (("minLength", "at least {} character(s)"), ("maxLength", "at most {} characters"),
                       ("minimum", "at least {}"), ("maximum", "at most {}"), ("pattern", "matches {}"),
                       ("maxItems", "at most {} items"), ("maxProperties", "at most {} entries")):
        if key in schema:
            parts.append(words.format(schema[key]))
    if "default" in schema and schema["default"] not in (None, ""):
        parts.append(f"default {json.dumps(schema['default'])}")
    if "example" in schema:
        parts.append(f"e.g. {json.dumps(schema['example'], ensure_ascii=False)}")
    return "; ".join(part.rstrip(".") if index < len(parts) - 1 else part for index, part in enumerate(parts))


def typed_values(spec: Mapping[str, Any]) -> list[tuple[str, list[Row]]]:
    """The typed template values (currency, date_time), which the body table names but does not open."""
    return [(name, rows({"$ref": f"#/components/schemas/{name}"}, spec))
            for name in ("CurrencyParam", "DateTimeParam") if name in spec["components"]["schemas"]]


def rows(schema: Mapping[str, Any], spec: Mapping[str, Any], depth: int = 0, seen: frozenset[str] = frozenset(),
         ) -> list[Row]:
    """The fields of an object schema, with nested objects' fields below them."""
    name, target = _resolve(schema, spec)
    if name in seen or depth > 6:
        return []
    seen = seen | {name} if name else seen
    required = set(target.get("required", ()))
    out: list[Row] = []
    for key, prop in (target.get("properties") or {}).items():
        out.append(Row(key, type_of(prop, spec), key in required, _notes(_resolve(prop, spec)[1]) or _notes(prop),
                       depth))
        for option in [prop, *prop.get("anyOf", ()), *prop.get("oneOf", ())]:
            inner_name, inner = _resolve(option, spec)
            if inner.get("properties"):
                out.extend(rows(option, spec, depth + 1, seen))
            elif inner.get("type") == "array" and isinstance(inner.get("items"), Mapping):
                out.extend(rows(inner["items"], spec, depth + 1, seen))
    return out


def _parameter(parameter: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    ref = parameter.get("$ref")
    if isinstance(ref, str):
        parameter = spec["components"]["parameters"][ref.rsplit("/", 1)[1]]
    schema = parameter.get("schema", {})
    notes = "; ".join(n for n in (parameter.get("description", ""), _notes(schema)) if n)
    return {"name": parameter["name"], "in": parameter["in"], "required": bool(parameter.get("required")),
            "type": type_of(schema, spec), "notes": notes}


def operations(spec: Mapping[str, Any]) -> list[Operation]:
    """Every operation of the description, in its order, ready to print."""
    out = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            entry = Operation(method.upper(), path, op.get("summary", ""), op.get("description", ""),
                              [_parameter(p, spec) for p in op.get("parameters", ())])
            content = ((op.get("requestBody") or {}).get("content") or {}).get("application/json")
            if content:
                entry.body = rows(content["schema"], spec)
                entry.examples = [(e.get("summary", key), json.dumps(e["value"], indent=2, ensure_ascii=False))
                                  for key, e in (content.get("examples") or {}).items()]
            for status, answer in op.get("responses", {}).items():
                body = (answer.get("content") or {}).get("application/json") or {}
                example = body.get("example")
                entry.responses.append({
                    "status": status, "description": answer.get("description", ""),
                    "type": type_of(body["schema"], spec) if "schema" in body else "",
                    "example": json.dumps(example, indent=2, ensure_ascii=False) if example is not None else ""})
            out.append(entry)
    return out
