"""Typed provider errors: each provider's table maps its codes to a kind Herald can branch on.

A kind says what happened in the product's words (the window closed, the customer opted out, slow
down), whatever provider reported it; the explanation and the action are what a person reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .base import FAILED, ErrorInfo, ProviderError

WINDOW_CLOSED = "window_closed"          # free text outside the customer-service window
UNDELIVERABLE = "undeliverable"          # the number cannot receive on this channel
NOT_ON_CHANNEL = "not_on_channel"        # the person has no account on the channel (Viber)
OPTED_OUT = "opted_out"                  # the person asked not to get these messages
BLOCKED = "blocked"                      # the person, a carrier or a filter blocked the message
MARKETING_LIMIT = "marketing_limit"      # the channel caps marketing messages to this person
RATE_LIMITED = "rate_limited"            # too many messages too fast: retry later
SESSION_LIMIT = "session_limit"          # too many business messages without a reply (Viber)
TEMPLATE = "template"                    # the template or its parameters were refused
RECIPIENT_INVALID = "recipient_invalid"  # the number itself is wrong
AUTH = "auth"                            # credentials expired or refused: reconnect
CONFIG = "config"                        # the sender or account is set up wrongly
ACCOUNT = "account"                      # billing, suspension, policy blocks on the account
CONTENT = "content"                      # the message body or media was refused
PROVIDER_UNAVAILABLE = "provider_unavailable"  # the provider failed on its side
TRANSPORT = "transport"                  # Herald could not talk to the provider
OTHER = "other"


@dataclass(frozen=True)
class ErrorRow(ErrorInfo):
    """One row of a provider's error table, with the kind the code belongs to."""

    kind: str = OTHER
    template_status: str = ""  # the error means the template is now in this status (PAUSED, DISABLED)


class TypedProviderError(ProviderError):
    """A :class:`ProviderError` that also says which kind of failure it is."""

    def __init__(self, code: str, explanation: str, *, kind: str = OTHER, action: str = "",
                 retryable: bool = False, outcome: str = FAILED, provider_message: str = "",
                 template_status: str = "") -> None:
        super().__init__(code, explanation, action=action, retryable=retryable, outcome=outcome,
                         provider_message=provider_message, kind=kind, template_status=template_status)


def lookup(table: Mapping[str, ErrorInfo], code: str | int, provider_message: str, provider_label: str,
           ) -> TypedProviderError:
    """The typed error for ``code``; a code missing from the table keeps the provider's own words."""
    key = str(code)
    row = table.get(key)
    if row is None:
        text = provider_message.strip() or f"{provider_label} refused the message (error {key})."
        if provider_message.strip() and not text.endswith((".", "!", "?")):
            text += "."
        return TypedProviderError(key, f"{provider_label}: {text}" if provider_message.strip() else text,
                                  provider_message=provider_message)
    return TypedProviderError(key, row.explanation, kind=getattr(row, "kind", OTHER), action=row.action,
                              retryable=row.retryable, provider_message=provider_message,
                              template_status=getattr(row, "template_status", ""))


def not_configured(provider_label: str, missing: list[str]) -> TypedProviderError:
    """A sender that lacks the settings its provider needs: nothing was sent."""
    names = ", ".join(missing)
    return TypedProviderError(
        "sender_not_configured", f"This {provider_label} sender is missing {names}.", kind=CONFIG,
        action=f"An operator adds {'them' if len(missing) > 1 else 'it'} with "
               "`flask --app app sender add … --option NAME=VALUE`.")
