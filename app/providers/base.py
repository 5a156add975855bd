"""The shape every provider adapter has: send text, send a template, explain its errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..domain.templates import ParamValue, TemplateSpec

FAILED, UNKNOWN = "failed", "unknown"


@dataclass(frozen=True)
class Outbound:
    """One message as a provider needs it: nothing of Intercom, HubSpot or the store."""

    channel: str
    to: str
    sender: str
    text: str
    template: TemplateSpec | None = None
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    options: Mapping[str, str] = field(default_factory=dict)
    credentials: Mapping[str, str] = field(default_factory=dict)
    reference: str = ""  # our message id, echoed back by providers that support it
    status_callback: str = ""


@dataclass(frozen=True)
class Accepted:
    """The provider took the message; its fate arrives later on the status webhook."""

    provider_message_id: str
    status: str = "accepted"
    detail: Mapping[str, Any] = field(default_factory=dict)


class ProviderError(Exception):
    """A provider said no, or could not be reached. ``outcome`` is ``failed`` or ``unknown``."""

    def __init__(self, code: str, explanation: str, *, action: str = "", retryable: bool = False,
                 outcome: str = FAILED, provider_message: str = "", kind: str = "other",
                 template_status: str = "") -> None:
        self.code = code
        self.kind = kind  # what happened in the product's words; see providers.errors
        # The status the refused template is in now (PAUSED, DISABLED), when the error says so.
        self.template_status = template_status
        self.explanation = explanation
        self.action = action
        self.retryable = retryable
        self.outcome = outcome
        self.provider_message = provider_message
        super().__init__(f"{code}: {explanation}")

    def sentence(self) -> str:
        """What a person reads: the explanation, then what to do next."""
        return f"{self.explanation} {self.action}".strip()


@dataclass(frozen=True)
class ErrorInfo:
    """One row of a provider's error table."""

    explanation: str
    action: str = ""
    retryable: bool = False


class Provider:
    """Base adapter: dispatches to ``send_text`` or ``send_template``."""

    name = "base"
    channels: tuple[str, ...] = ()
    error_table: Mapping[str, ErrorInfo] = {}

    @classmethod
    def from_config(cls, config: Any) -> "Provider":
        """Build the adapter from Herald's configuration (API origins, timeouts)."""
        return cls()

    def send(self, outbound: Outbound) -> Accepted:
        if outbound.template is not None:
            return self.send_template(outbound)
        return self.send_text(outbound)

    def send_text(self, outbound: Outbound) -> Accepted:
        raise NotImplementedError

    def send_template(self, outbound: Outbound) -> Accepted:
        raise NotImplementedError

    def map_error(self, code: str | int, provider_message: str = "") -> ProviderError:
        """Turn a provider code into a typed error; unknown codes keep the provider's own words."""
        info = self.error_table.get(str(code))
        if info is None:
            text = provider_message or "The provider refused the message without saying why."
            return ProviderError(str(code), text, provider_message=provider_message)
        return ProviderError(str(code), info.explanation, action=info.action, retryable=info.retryable,
                             provider_message=provider_message)
