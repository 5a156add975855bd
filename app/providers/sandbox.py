"""The sandbox provider: sends nothing anywhere, so the embedded default and demos work offline.

It accepts every message and gives it an id; numbers listed in the sender's ``undeliverable``
option fail the way a real number without the app would, so refusals can be tried too.
"""

from __future__ import annotations

import secrets

from .base import Accepted, ErrorInfo, Outbound, Provider

UNDELIVERABLE = "sandbox_undeliverable"


class SandboxProvider(Provider):
    name = "sandbox"
    channels = ("whatsapp", "sms", "viber")
    error_table = {
        UNDELIVERABLE: ErrorInfo("The sandbox treats this number as unable to receive messages on this channel.",
                                 "Try another channel or number."),
    }

    def _accept(self, outbound: Outbound) -> Accepted:
        blocked = {n.strip() for n in outbound.options.get("undeliverable", "").split(",") if n.strip()}
        if outbound.to in blocked:
            raise self.map_error(UNDELIVERABLE)
        return Accepted(f"sbx_{secrets.token_hex(12)}")

    def send_text(self, outbound: Outbound) -> Accepted:
        return self._accept(outbound)

    def send_template(self, outbound: Outbound) -> Accepted:
        return self._accept(outbound)
