"""The declared steps are the flow: every click a canvas offers is a step declared as offered there,
and what a click answers is a canvas its step declares it leads to."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from app.web.intercom import steps

from .conftest import Panel

# The canvases that say which they are in stored_data; ``expired`` says "problem".
NAMED = {"home", "compose", "write", "confirm", "sent", "consent", "consent_recorded", "problem"}


def submitting_ids(components: Iterable[Mapping[str, Any]]) -> set[str]:
    found = set()
    for component in components:
        if (component.get("action") or {}).get("type") == "submit":
            found.add(component["id"])
        found |= {i["id"] for i in component.get("items", []) if (i.get("action") or {}).get("type") == "submit"}
    return found


class Walk(Panel):
    """A panel that checks the declared steps on every canvas it is shown and every click it makes."""

    seen: set[tuple[str, str, str]]

    def shown(self) -> str:
        canvas = str(self.stored.get("step"))
        assert canvas in NAMED
        for action in submitting_ids(self.components()):
            step = steps.step_for(action)
            assert action in steps.BY_ACTION or action.startswith(steps.CONTENT), \
                f"{action!r} on {canvas} runs no declared step"
            assert canvas in step.offered_on, f"{action!r} is on {canvas} but declared only on {step.offered_on}"
        return canvas

    def initialize(self) -> dict[str, Any]:
        self.seen = set()
        body = super().initialize()
        self.shown()
        return body

    def click(self, component_id: str, typed: Mapping[str, Any] | None = None, *,
              first: bool = False) -> dict[str, Any]:
        before = self.shown()
        body = super().click(component_id, typed, first=first)
        after = self.shown()
        leads_to = set(steps.step_for(component_id).leads_to)
        if "expired" in leads_to:
            leads_to.add("problem")
        assert after in leads_to, f"{component_id!r} answered {after}, declared {sorted(leads_to)}"
        self.seen.add((before, component_id.split(":", 1)[0], after))
        return body


def test_every_action_is_declared_once_and_an_unknown_one_goes_home():
    actions = [step.action for step in steps.STEPS]
    assert len(actions) == len(set(actions))
    assert steps.step_for("no_such_button").run is steps.back_home
    assert steps.step_for("content:tpl:7").run is steps.open_write


def test_walking_the_panel_follows_the_declared_steps(client):
    panel = Walk(client)
    panel.initialize()
    panel.click("compose")
    panel.click(panel.template_item("order_shipped"))
    panel.click("update_preview", {"param:2": "A-1001", "param:3": "Monday"})
    panel.click("back_compose")
    panel.click(panel.template_item("order_shipped"))
    panel.click("send", {"param:2": "A-1001", "param:3": "Monday", "purpose": "delivery_update"})
    assert panel.stored["step"] == "sent"
    panel.click("refresh_status")
    panel.click("home")
    panel.click("consent")
    panel.click("consent_grant", {"consent_channel": "whatsapp"})
    panel.click("consent_view")
    panel.click("consent_back")
    assert panel.seen >= {("home", "compose", "compose"), ("compose", "content", "write"),
                          ("write", "send", "sent"), ("consent", "consent_grant", "consent_recorded"),
                          ("consent", "consent_back", "home")}
