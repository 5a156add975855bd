"""Provider webhooks: WhatsApp Cloud API, Twilio and Vonage.

Each route reads the raw body, verifies it before anything in it is trusted (at a sender's own URL,
``/webhooks/<provider>/<sender id>``, with that sender's secret; at the shared URL, with every
candidate sender's), and hands the verified delivery to :mod:`app.services.webhooks`. A delivery that
fails verification gets 401 (no signature) or 403 (a signature that does not verify) and changes
nothing; a verified one is acknowledged with 200 even when Herald does not know the sender or the
message, so providers do not retry it for days.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

from . import routes  # noqa: E402,F401  (the routes register themselves on bp)
