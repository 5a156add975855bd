"""What /api/v1 accepts and answers, checked field by field before anything else happens.

These schemas validate every request and are also what the OpenAPI description is generated from
(:mod:`app.web.api.spec`), so the contract and the checks cannot drift apart.
"""

from __future__ import annotations

import math
import re
from typing import Any, Mapping

from marshmallow import (
    EXCLUDE,
    INCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from ...domain.purposes import PURPOSES
from ...domain.channels import CHANNELS

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
IDEMPOTENCY_KEY_MAX = 255
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]+")
MAX_PARAMS = 50
MAX_PARAM_LENGTH = 1024
_SLOT = re.compile(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)?")
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")  # anchored: marshmallow matches from the start only
MAX_AMOUNT_1000 = 10 ** 15  # well inside the integers JSON readers keep exactly


class Text(fields.String):
    """A string with no NUL character and no unpaired surrogate: neither can be stored or sent."""

    default_error_messages = {"characters": "Must not contain NUL characters or unpaired surrogates."}

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if _UNSTORABLE.search(text):
            raise self.make_error("characters")
        return text


def unstorable(text: str) -> bool:
    return bool(_UNSTORABLE.search(text))


class CurrencyParam(Schema):
    """A WhatsApp currency value; people read ``fallback_value``."""

    class Meta:
        unknown = RAISE

    type = fields.String(required=True, validate=validate.OneOf(["currency"]))
    fallback_value = Text(required=True, validate=validate.Length(min=1, max=100),
                          metadata={"example": "$100.99"})
    code = fields.String(required=True, validate=validate.Regexp(_CURRENCY_CODE, error="Must be an ISO 4217 code "
                                                                                        "such as USD."),
                         metadata={"example": "USD"})
    amount_1000 = fields.Integer(required=True, strict=True,
                                 validate=validate.Range(-MAX_AMOUNT_1000, MAX_AMOUNT_1000),
                                 metadata={"description": "The amount times 1000: 100990 is 100.99.",
                                           "example": 100990})


class DateTimeParam(Schema):
    """A WhatsApp date_time value; people read ``fallback_value`` exactly as given."""

    class Meta:
        unknown = RAISE

    type = fields.String(required=True, validate=validate.OneOf(["date_time"]))
    fallback_value = Text(required=True, validate=validate.Length(min=1, max=100),
                          metadata={"example": "February 25, 1977"})


_TYPED = {"currency": CurrencyParam, "date_time": DateTimeParam}


def _value(value: Any) -> Any:
    """One parameter value: text, a finite number (sent as its text) or a typed object."""
    if isinstance(value, bool) or value is None:
        raise ValidationError("Must be text, a number or a typed value such as "
                              '{"type": "currency", "fallback_value": "$10.00", "code": "USD", "amount_1000": 10000}.')
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValidationError("Must be a finite number.")
        return str(value)
    if isinstance(value, str):
        if unstorable(value):
            raise ValidationError("Must not contain NUL characters or unpaired surrogates.")
        if len(value) > MAX_PARAM_LENGTH:
            raise ValidationError(f"Longer than {MAX_PARAM_LENGTH} characters.")
        return value
    if isinstance(value, dict):
        schema = _TYPED.get(value.get("type")) if isinstance(value.get("type"), str) else None
        if schema is None:
            raise ValidationError({"type": ["Must be currency or date_time."]})
        return schema().load(value)
    raise ValidationError("Must be text, a number or a typed value (an object with a type).")


class TemplateParams(fields.Field):
    """``{"1": "Asha"}`` or ``{"first_name": "Asha"}`` (by placeholder), or ``["Asha", "A-17"]`` (in order)."""

    default_error_messages = {"invalid": "Must be an object (values by placeholder name) or a list (in order)."}

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Any:
        if isinstance(value, list):
            if len(value) > MAX_PARAMS:
                raise ValidationError(f"At most {MAX_PARAMS} values.")
            out, errors = [], {}
            for index, item in enumerate(value):
                try:
                    loaded = _value(item)
                except ValidationError as error:
                    errors[index] = error.messages
                    continue
                if isinstance(loaded, dict):
                    errors[index] = ["Typed values go in an object of values by placeholder name."]
                out.append(loaded)
            if errors:
                raise ValidationError(errors)
            return out
        if isinstance(value, dict):
            if len(value) > MAX_PARAMS:
                raise ValidationError(f"At most {MAX_PARAMS} values.")
            named, errors = {}, {}
            for key, item in value.items():
                if not _SLOT.fullmatch(key) or len(key) > 64:
                    errors[key] = ["Not a placeholder name (letters, digits and _, e.g. 1, first_name, header.1)."]
                    continue
                try:
                    named[key] = _value(item)
                except ValidationError as error:
                    errors[key] = error.messages
            if errors:
                raise ValidationError(errors)
            return named
        raise self.make_error("invalid")


class TemplateRef(Schema):
    class Meta:
        unknown = RAISE

    error_messages = {"type": 'Must be an object such as {"name": "order_shipped", "language": "en_US", '
                              '"params": ["Asha", "A-17", "Nov 25"]}.'}

    name = Text(required=True, validate=validate.Length(min=1, max=512), metadata={"example": "order_shipped"})
    language = Text(load_default=None, validate=validate.Length(max=16), metadata={"example": "en_US"})
    params = TemplateParams(load_default=dict, metadata={"example": ["Asha", "A-17", "Nov 25"]})


class SendBody(Schema):
    """A message to send: free text or an approved template, to one number, on one channel."""

    class Meta:
        unknown = RAISE

    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    to = Text(required=True, validate=validate.Length(min=1, max=40), metadata={"example": "+12015550123"})
    text = Text(load_default=None, validate=validate.Length(min=1, max=5000),
                metadata={"example": "Your parcel is out for delivery."})
    template = fields.Nested(TemplateRef, load_default=None)
    sender = Text(load_default=None, validate=validate.Length(max=64),
                  metadata={"description": "The number or sender id to send from, when the workspace has several."})
    purpose = fields.String(load_default=None, validate=validate.OneOf(sorted(PURPOSES)))
    origin = fields.String(load_default="api", validate=validate.OneOf(["api", "ai"]))
    dry_run = fields.Boolean(load_default=False, metadata={"description": "Decide and answer, send nothing."})
    contact_ref = Text(load_default=None, validate=validate.Length(max=64))
    requested_by = Text(load_default="", validate=validate.Length(max=255))

    @validates_schema
    def one_kind_of_content(self, data: dict, **_: object) -> None:
        if (data.get("text") is None) == (data.get("template") is None):
            raise ValidationError("Give exactly one of text or template.", "text")


class TemplatesQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    channel = fields.String(validate=validate.OneOf(CHANNELS, error=f"Must be one of {', '.join(CHANNELS)}."))


IDEMPOTENCY_KEY_RULE = (f"An Idempotency-Key has 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII characters "
                        "with no spaces.")


def idempotency_key_problem(value: str | None) -> str | None:
    """Why the header cannot be a key, in words; None when it is absent or fine."""
    if value is None:
        return None
    if not 0 < len(value) <= IDEMPOTENCY_KEY_MAX or not _IDEMPOTENCY_KEY.fullmatch(value):
        return IDEMPOTENCY_KEY_RULE
    return None


# --------------------------------------------------------------------------- what the API answers
# Documented only (the answers are built by the services); they give the OpenAPI description its shapes.
# An answer may carry more fields than these name (a newer Herald adds some): callers ignore the rest.


class Answer(Schema):
    class Meta:
        unknown = INCLUDE


class ReasonOut(Answer):
    code = fields.String(required=True, metadata={"example": "window_closed"})
    message = fields.String(required=True, metadata={"example": "The 24-hour WhatsApp window is closed: choose "
                                                                "an approved template."})
    field = fields.String(required=True, metadata={"example": "text"})


class ErrorDetail(Answer):
    code = fields.String(required=True, metadata={"example": "invalid_request"})
    message = fields.String(required=True, metadata={"example": "Some fields are missing or wrong."})
    reasons = fields.List(fields.Nested(ReasonOut), required=True)


class ErrorOut(Answer):
    """Every error under /api/v1 has this shape, whatever its status."""

    error = fields.Nested(ErrorDetail, required=True)


class MessageOut(Answer):
    id = fields.String(required=True, metadata={"example": "msg_019a5b7c3d2e8f0a1b2c3d4e"})
    channel = fields.String(required=True)
    channel_label = fields.String(required=True)
    to = fields.String(required=True)
    from_ = fields.String(data_key="from", allow_none=True, required=True)
    kind = fields.String(required=True)
    template = fields.String(allow_none=True, required=True)
    language = fields.String(allow_none=True, required=True)
    text = fields.String(required=True)
    purpose = fields.String(allow_none=True, required=True)
    origin = fields.String(required=True)
    surface = fields.String(required=True)
    requested_by = fields.String(required=True)
    status = fields.String(required=True, metadata={
        "description": "queued, accepted, sent, delivered, read, failed, or unknown when Herald cannot tell "
                       "whether the provider took it (its delivery status settles it)."})
    status_label = fields.String(required=True)
    provider_message_id = fields.String(allow_none=True, required=True)
    error_code = fields.String(allow_none=True, required=True)
    error_message = fields.String(allow_none=True, required=True)
    sms_encoding = fields.String(allow_none=True, required=True)
    sms_segments = fields.Integer(allow_none=True, required=True)
    policy_verdict = fields.String(allow_none=True, required=True)
    created_at = fields.String(required=True, metadata={"format": "date-time"})
    updated_at = fields.String(required=True, metadata={"format": "date-time"})


class HistoryStep(Answer):
    status = fields.String(required=True)
    at = fields.String(required=True, metadata={"format": "date-time"})
    error_code = fields.String(allow_none=True, required=True)
    error_message = fields.String(allow_none=True, required=True)


class MessageWithHistory(MessageOut):
    history = fields.List(fields.Nested(HistoryStep), required=True)


class DecisionOut(Answer):
    """The rules' decision: allowed, confirm (needs an agent's confirmation) or refused, with reasons."""

    outcome = fields.String(required=True, validate=validate.OneOf(["allowed", "confirm", "refused"]))
    allowed = fields.Boolean(required=True)
    channel = fields.String(required=True)
    recipient = fields.String(allow_none=True, required=True)
    kind = fields.String(allow_none=True, required=True)
    text = fields.String(allow_none=True, required=True, metadata={"description": "The exact text the "
                                                                                  "customer reads."})
    purpose = fields.String(allow_none=True, required=True)
    reasons = fields.List(fields.Nested(ReasonOut), required=True)
    window = fields.Dict(allow_none=True, metadata={"description": "The channel's window: open, closes_at."})
    sms = fields.Dict(allow_none=True, metadata={"description": "For SMS: encoding and segment count."})
    policy = fields.Dict(allow_none=True, metadata={"description": "The proactive policy's verdict and reasons."})


class SendResultOut(Answer):
    decision = fields.Nested(DecisionOut, required=True)
    message = fields.Nested(MessageOut, allow_none=True, required=True)
    replayed = fields.Boolean(required=True)


class RefusedSendOut(SendResultOut):
    error = fields.Nested(ErrorDetail, required=True)


class TemplateOut(Answer):
    channel = fields.String(required=True)
    name = fields.String(required=True)
    language = fields.String(required=True)
    category = fields.String(required=True)
    body = fields.String(required=True)
    header = fields.String(allow_none=True, required=True)
    footer = fields.String(allow_none=True, required=True)


class TemplateList(Answer):
    templates = fields.List(fields.Nested(TemplateOut), required=True)


def errors_as_reasons(error: ValidationError) -> list[dict[str, str]]:
    """marshmallow's nested messages flattened into Herald's reason shape, each naming its field."""
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
