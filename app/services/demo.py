"""The demo workspace the embedded default starts with: sandbox senders, templates and customers.

Its customers and the host accounts it is linked to are the demo host's (:mod:`app.hosts.demo`),
which plays Intercom and HubSpot for it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ..hosts.demo import CUSTOMERS, DEMO_HUBSPOT_PORTAL, DEMO_INTERCOM_WORKSPACE
from ..store.models import Workspace
from .context import Context
from .recipients import record_inbound
from .workspaces import add_sender, add_template, create_workspace

__all__ = ["CUSTOMERS", "DEMO", "DEMO_HUBSPOT_PORTAL", "DEMO_INTERCOM_WORKSPACE", "SENDER", "VIBER_SENDER",
           "ensure_demo"]

DEMO = "demo"
SENDER = "+12015550100"
VIBER_SENDER = "HeraldDemo"


def ensure_demo(ctx: Context) -> bool:
    """Seed the demo workspace once; returns False when it already exists."""
    with ctx.store.session() as session:
        if session.scalar(select(Workspace.id).where(Workspace.name == DEMO)) is not None:
            return False
    create_workspace(ctx, DEMO, intercom_workspace_id=DEMO_INTERCOM_WORKSPACE, hubspot_portal_id=DEMO_HUBSPOT_PORTAL)
    options = {"undeliverable": CUSTOMERS["undeliverable"]}
    add_sender(ctx, DEMO, "whatsapp", "sandbox", SENDER, options)
    add_sender(ctx, DEMO, "sms", "sandbox", SENDER, options)
    add_sender(ctx, DEMO, "viber", "sandbox", VIBER_SENDER, options)
    add_template(ctx, DEMO, "whatsapp", "order_shipped", "en_US",
                 "Hi {{1}}, your order {{2}} has shipped and should arrive on {{3}}.", "UTILITY",
                 footer="Reply to this message if you need help.")
    add_template(ctx, DEMO, "whatsapp", "appointment_reminder", "en_US",
                 "Hello {{first_name}}, this is a reminder of your appointment on {{date}} at {{time}}. "
                 "Reply here if you need to change it.", "UTILITY")
    add_template(ctx, DEMO, "whatsapp", "appointment_reminder", "es",
                 "Hola {{first_name}}, le recordamos su cita el {{date}} a las {{time}}. "
                 "Responda aquí si necesita cambiarla.", "UTILITY")
    add_template(ctx, DEMO, "whatsapp", "account_security_alert", "en_US",
                 "A new sign-in to your account was detected on {{1}}. If this was not you, reply to this "
                 "message and we will lock the account.", "UTILITY")
    add_template(ctx, DEMO, "whatsapp", "winter_sale", "en_US",
                 "Hi {{1}}, our winter sale is on: 20% off everything until Sunday!", "MARKETING")
    add_template(ctx, DEMO, "whatsapp", "refund_update", "en_US",
                 "Hi {{1}}, your refund of {{2}} is on its way.", "UTILITY", status="PENDING")
    add_template(ctx, DEMO, "viber", "delivery_notice", "en",
                 "Hello {{name}}, your parcel {{tracking}} will be delivered today.", "TRANSACTIONAL")
    add_template(ctx, DEMO, "viber", "loyalty_offer", "en",
                 "{{name}}, members get double points this week.", "PROMOTIONAL")
    add_template(ctx, DEMO, "sms", "callback_confirmation", "en",
                 "Hi {{1}}, we will call you back on {{2}}. Reply STOP to opt out.", "UTILITY")
    now = ctx.now()
    with ctx.store.session() as session:
        workspace = session.scalar(select(Workspace).where(Workspace.name == DEMO))
        assert workspace is not None
        for sender in workspace.senders:
            if sender.channel in ("whatsapp", "viber"):
                record_inbound(session, sender, CUSTOMERS["open_window"], "Hi, where is my order?",
                               f"demo-in-{sender.channel}", now - timedelta(hours=2))
            if sender.channel == "sms":
                record_inbound(session, sender, CUSTOMERS["opted_out"], "STOP", "demo-in-stop",
                               now - timedelta(days=3))
    return True
