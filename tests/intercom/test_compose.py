"""Compose and write: channel, sender, templates usable now, placeholders, purpose, preview."""

from __future__ import annotations

from sqlalchemy import update

from app.services.workspaces import add_sender, update_settings
from app.store.models import Template

from .conftest import NEW, OPTED_OUT, Panel, contact, initialize_payload


def open_compose(client, person=None) -> Panel:
    panel = Panel(client, initialize_payload(person) if person else None)
    panel.initialize()
    panel.click("compose")
    return panel


def test_compose_offers_free_text_and_approved_templates_inside_the_window(client):
    panel = open_compose(client)
    assert panel.texts("header") == ["New message"]
    channel = panel.component("channel")
    assert channel["type"] == "single-select" and channel["value"] == "whatsapp"
    assert [o["id"] for o in channel["options"]] == ["whatsapp", "sms", "viber"]
    assert channel["action"] == {"type": "submit"}
    assert "Free text until Nov 23, 2026 at 1:00 PM UTC." in panel.texts("muted")
    titles = [i["title"] for i in panel.list_items()]
    assert titles[0] == "Free text"
    assert set(titles[1:]) == {"account_security_alert", "appointment_reminder", "order_shipped", "winter_sale"}
    assert "refund_update" not in titles  # still pending approval
    assert all(c.get("style") != "primary" for c in panel.components() if c["type"] == "button")


def test_a_customer_who_never_wrote_gets_templates_only(client):
    panel = open_compose(client, contact(NEW))
    assert "content:free" not in panel.ids()
    assert any(t.startswith("Template only") for t in panel.texts("muted"))
    panel.click("channel", {"channel": "sms"})
    assert panel.component("channel")["value"] == "sms"
    assert [i["title"] for i in panel.list_items()] == ["Free text", "callback_confirmation"]
    panel.click("channel", {"channel": "viber"})
    assert {i["title"] for i in panel.list_items()} == {"delivery_notice", "loyalty_offer"}


def test_only_templates_in_the_workspace_languages(client, ctx):
    update_settings(ctx, "demo", {"languages": ["en"]})
    panel = open_compose(client)
    languages = {i["tertiary_text"].split(" · ")[0] for i in panel.list_items() if i["id"] != "content:free"}
    assert languages == {"en_US"}
    update_settings(ctx, "demo", {"languages": "es, fr"})  # as `workspace set demo languages=es,fr` stores it
    panel = open_compose(client)
    assert {i["tertiary_text"] for i in panel.list_items() if i["id"] != "content:free"} == {"es · Utility"}


def test_a_template_with_parameters_prefilled_from_the_contact(client):
    panel = open_compose(client)
    panel.click(panel.template_item("order_shipped"))
    assert panel.texts("header") == ["WhatsApp message"]
    assert panel.component("to")["value"] == "+1 201-555-0123"
    assert "Hi {{1}}, your order {{2}} has shipped and should arrive on {{3}}." in panel.texts("muted")
    first = panel.component("param:1")
    assert first["label"] == "Variable 1 · after “Hi”" and first["value"] == "Bob"
    assert "value" not in panel.component("param:2")
    assert panel.component("param:2")["label"] == "Variable 2 · after “your order”"
    assert "Fill in the message to see exactly what will be sent." in panel.texts("muted")

    panel.click("update_preview", {"param:2": "A-1001", "param:3": "Monday"})
    assert panel.component("preview_text") == {
        "type": "textarea", "id": "preview_text", "label": "Preview: exactly what will be sent",
        "value": "Hi Bob, your order A-1001 has shipped and should arrive on Monday.\n"
                 "Reply to this message if you need help.",
        "disabled": True}
    assert panel.component("param:2")["value"] == "A-1001"


def test_named_placeholders_map_obviously(client):
    panel = open_compose(client, contact(name="Robert Ramos"))
    panel.click(panel.template_item("appointment_reminder", "en_US"))
    assert panel.component("param:first_name")["label"] == "First name"
    assert panel.component("param:first_name")["value"] == "Robert"
    assert "value" not in panel.component("param:date")


def test_purpose_is_preselected_from_the_template_and_changeable(client):
    panel = open_compose(client)
    panel.click(panel.template_item("winter_sale"))
    assert panel.component("purpose_kind")["value"] == "marketing"
    assert panel.component("purpose")["value"] == "promotion"
    assert [o["id"] for o in panel.component("purpose")["options"]] == [
        "none", "promotion", "win_back", "upsell", "abandoned_cart"]
    panel.click("purpose_kind", {"purpose_kind": "service", "param:1": "Bob!"})
    purpose = panel.component("purpose")
    assert purpose["label"] == "Service purpose" and purpose["value"] == "none"
    assert {o["id"] for o in purpose["options"]} >= {"delivery_update", "account_security", "confirmation"}
    assert panel.component("param:1")["value"] == "Bob!"  # the agent's values survive the re-render


def test_utility_templates_ask_for_a_purpose(client):
    panel = open_compose(client)
    panel.click(panel.template_item("order_shipped"))
    assert panel.component("purpose_kind")["value"] == "service"
    assert panel.component("purpose")["value"] == "none"
    panel.click("send", {"param:2": "A-1", "param:3": "Monday"})
    assert panel.component("purpose")["save_state"] == "failed"
    assert panel.texts("error") == ["Choose why you are sending this message."]
    assert panel.component("param:2")["value"] == "A-1"
    panel.click("send", {"param:2": "", "param:3": "Monday"})  # everything wrong is said at once
    assert panel.texts("error") == ["Choose why you are sending this message.", "Fill in “Variable 2”."]
    assert panel.component("param:2")["save_state"] == "failed"
    assert panel.component("purpose")["save_state"] == "failed"


def test_sms_preview_shows_encoding_and_segments(client):
    panel = open_compose(client)
    panel.click("channel", {"channel": "sms"})
    panel.click("content:free")
    assert panel.texts("header") == ["SMS message"]
    panel.click("update_preview", {"message": "Your parcel left the depot."})
    assert panel.component("preview_text")["value"] == "Your parcel left the depot."
    assert "SMS: GSM-7, 27 characters, 1 segment" in panel.texts("muted")
    panel.click("update_preview", {"message": "Zażółć gęślą jaźń " * 5})
    line = next(t for t in panel.texts("muted") if t.startswith("SMS:"))
    assert line.startswith("SMS: UCS-2, 89 characters, 2 segments (UCS-2 because of “ż”")


def test_preview_shows_problems_before_sending(client):
    panel = open_compose(client, contact(OPTED_OUT))
    panel.click("channel", {"channel": "sms"})
    panel.click("content:free")
    panel.click("update_preview", {"message": "Hello"})
    assert any("opted out of SMS" in t for t in panel.texts("error"))
    assert panel.component("to")["save_state"] == "failed"


def test_several_senders_offer_a_choice(client, ctx):
    add_sender(ctx, "demo", "sms", "sandbox", "+12015550111")
    panel = open_compose(client)
    panel.click("channel", {"channel": "sms"})
    panel.click("content:free")
    sender = panel.component("sender")
    assert sender["type"] == "dropdown" and sender["label"] == "From"
    assert [o["text"] for o in sender["options"]] == ["+1 201-555-0100", "+1 201-555-0111"]
    second = sender["options"][1]["id"]
    panel.click("send", {"sender": second, "message": "Checking in.", "purpose": "confirmation"})
    assert panel.table()["From"] == "+1 201-555-0111"


def test_back_navigation(client):
    panel = open_compose(client)
    panel.click("content:free")
    assert panel.component("back_compose")["style"] == "link"
    panel.click("back_compose")
    assert panel.texts("header") == ["New message"]
    panel.click("home", first=True)
    assert panel.summary()["Phone"] == "+1 201-555-0123"


def test_a_template_withdrawn_since_compose_opened(client, ctx):
    panel = open_compose(client)
    item = panel.template_item("order_shipped")
    with ctx.store.session() as session:
        session.execute(update(Template).where(Template.name == "order_shipped").values(status="PAUSED"))
    panel.click(item)
    assert panel.texts("error") == ["That template can no longer be used; choose another."]
    assert "order_shipped" not in [i["title"] for i in panel.list_items()]
