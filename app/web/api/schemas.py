"""What /api/v1 accepts, checked field by field before anything else happens."""

from __future__ import annotations

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from ...domain.purposes import PURPOSES
from ...domain.rules import CHANNELS


class TemplateRef(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=512))
    language = fields.String(load_default=None, validate=validate.Length(max=16))
    # {"1": "Asha"} / {"first_name": "Asha"} / ["Asha", "A-17"]; typed values as {"type": "currency", …}
    params = fields.Raw(load_default=dict)


class SendBody(Schema):
    class Meta:
        unknown = RAISE

    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    to = fields.String(required=True, validate=validate.Length(min=1, max=40))
    text = fields.String(load_default=None, validate=validate.Length(max=5000))
    template = fields.Nested(TemplateRef, load_default=None)
    sender = fields.String(load_default=None, validate=validate.Length(max=64))
    purpose = fields.String(load_default=None, validate=validate.OneOf(sorted(PURPOSES)))
    origin = fields.String(load_default="api", validate=validate.OneOf(["api", "ai"]))
    dry_run = fields.Boolean(load_default=False)
    contact_ref = fields.String(load_default=None, validate=validate.Length(max=64))
    requested_by = fields.String(load_default="", validate=validate.Length(max=255))

    @validates_schema
    def one_kind_of_content(self, data: dict, **_: object) -> None:
        if bool(data.get("text")) == bool(data.get("template")):
            raise ValidationError("Give exactly one of text or template.", "text")
        params = (data.get("template") or {}).get("params")
        if params is not None and not isinstance(params, (dict, list)):
            raise ValidationError("params is an object (named) or a list (in order).", "template")


def errors_as_reasons(error: ValidationError) -> list[dict[str, str]]:
    """marshmallow's nested messages flattened into Herald's reason shape."""
    out: list[dict[str, str]] = []

    def walk(messages: object, path: str) -> None:
        if isinstance(messages, dict):
            for key, value in messages.items():
                walk(value, f"{path}.{key}" if path and key != "_schema" else (path or str(key)))
        elif isinstance(messages, list):
            for item in messages:
                if isinstance(item, (dict, list)):
                    walk(item, path)
                else:
                    out.append({"code": "invalid_field", "message": f"{path}: {item}" if path else str(item),
                                "field": path})
    walk(error.messages, "")
    return out


