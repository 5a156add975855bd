"""Template sync against Meta's template list, faked at the HTTP boundary with the documented
template object (reference/providers.md §1.6): storing, marking unusable, offering only APPROVED."""

from __future__ import annotations

import copy

import pytest
import responses
from responses import matchers
from app.domain.refusals import Refused
from app.providers.whatsapp_cloud import TEMPLATE_FIELDS
from app.services import workspaces as ws
from app.services.send import SendRequest, send
from app.services.template_sync import SyncProgress, sync_templates
from app.store.models import Template
from tests.providers.docs import load_json

WABA_ID = "102290129340398"
TOKEN = "EAAG-sync-token"


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def initech(ctx) -> None:
    ws.create_workspace(ctx, "initech")
    ws.add_sender(ctx, "initech", "whatsapp", "whatsapp_cloud", "+14155550100",
                  {"phone_number_id": "106540352242922", "waba_id": WABA_ID, "access_token": TOKEN})
    ws.add_template(ctx, "initech", "whatsapp", "hand_made", "en", "Hello {{1}}", "UTILITY")


def listed(**changes) -> dict:
    item = copy.deepcopy(load_json("whatsapp_template_list_item.json"))
    item.update(changes)
    return item


NAMED = listed(id="2002", name="appointment_reminder", language="es", parameter_format="NAMED",
               components=[{"type": "HEADER", "format": "TEXT", "text": "Cita {{day}}",
                            "example": {"header_text_named_params": [{"param_name": "day", "example": "lunes"}]}},
                           {"type": "BODY", "text": "Hola {{first_name}}, su cita es el {{day}}.",
                            "example": {"body_text_named_params": [{"param_name": "first_name",
                                                                    "example": "Jessica"}]}}])
PAUSED = listed(id="3003", name="winter_sale", status="PAUSED", category="MARKETING")


def register_pages(http, ctx, pages: list[list[dict]]) -> None:
    url = f"{ctx.config.whatsapp_api_base}/{WABA_ID}/message_templates"
    query = {"fields": TEMPLATE_FIELDS, "limit": "100"}
    for number, data in enumerate(pages):
        paging = {"cursors": {"before": f"B{number}", "after": f"A{number + 1}"}}
        if number < len(pages) - 1:
            paging["next"] = f"{url}?limit=100&after=A{number + 1}"
        page_query = {**query, "after": f"A{number}"} if number else query
        http.get(url, json={"data": data, "paging": paging},
                 match=[matchers.query_param_matcher(page_query),
                        matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})])
    # The last page has a cursor but no "next": Herald asks once more and gets an empty page.
    http.get(url, json={"data": []}, match=[matchers.query_param_matcher({**query, "after": f"A{len(pages)}"})])


def initech_templates(ctx) -> dict[str, Template]:
    return {f"{t.name}/{t.language}": t for t in ws.list_templates(ctx, "initech")}


def test_sync_stores_templates_and_reports_progress(ctx, initech, http) -> None:
    register_pages(http, ctx, [[listed(), NAMED], [PAUSED]])
    steps: list[SyncProgress] = []
    report = sync_templates(ctx, "initech", progress=steps.append)
    assert [(s.page, s.fetched) for s in steps] == [(1, 2), (2, 3), (3, 3)]
    assert report.fetched == 3 and report.usable == 2
    assert report.unusable == ["winter_sale (en_US): PAUSED"] and report.vanished == []
    stored = initech_templates(ctx)
    shipped = stored["order_shipped/en_US"]
    assert (shipped.status, shipped.category, shipped.parameter_format, shipped.provider_template_id) == (
        "APPROVED", "UTILITY", "POSITIONAL", "1234567890")
    assert shipped.header_format == "IMAGE" and shipped.footer == "Reply STOP to opt out"
    assert shipped.buttons[0] == {"type": "URL", "text": "Track", "url": "https://x.example/t/{{1}}"}
    assert len(shipped.components) == 4 and shipped.synced_at == ctx.now()
    named = stored["appointment_reminder/es"]
    assert (named.parameter_format, named.header_text) == ("NAMED", "Cita {{day}}")
    assert stored["hand_made/en"].provider_template_id is None


def test_only_approved_templates_are_offered_or_sent(ctx, initech, http) -> None:
    register_pages(http, ctx, [[listed(), PAUSED]])
    sync_templates(ctx, "initech")
    offered = [t.name for t in ws.list_templates(ctx, "initech", "whatsapp", usable_only=True)]
    assert "winter_sale" not in offered and "order_shipped" in offered
    with pytest.raises(Refused) as refused:
        send(ctx, SendRequest(workspace="initech", channel="whatsapp", to="+16505551234", template="winter_sale",
                              params=["Asha"], dry_run=True))
    assert refused.value.code == "template_not_approved" and "paused" in str(refused.value)


def test_templates_that_vanish_or_change_status_become_unusable(ctx, initech, http) -> None:
    register_pages(http, ctx, [[listed(), NAMED]])
    sync_templates(ctx, "initech")
    register_pages(http, ctx, [[listed(status="DISABLED")]])
    report = sync_templates(ctx, "initech")
    assert report.vanished == ["appointment_reminder (es)"]
    assert report.unusable == ["order_shipped (en_US): DISABLED"]
    stored = initech_templates(ctx)
    assert stored["appointment_reminder/es"].status == "VANISHED"
    assert stored["order_shipped/en_US"].status == "DISABLED"
    assert stored["hand_made/en"].status == "APPROVED"  # never at Meta: left alone
    with pytest.raises(Refused) as refused:
        send(ctx, SendRequest(workspace="initech", channel="whatsapp", to="+16505551234",
                              template="appointment_reminder", language="es",
                              params={"first_name": "Ana", "day": "lunes", "header.day": "lunes"}, dry_run=True))
    assert "no longer exists" in str(refused.value)


def test_a_failed_page_stores_nothing(ctx, initech, http) -> None:
    url = f"{ctx.config.whatsapp_api_base}/{WABA_ID}/message_templates"
    http.get(url, status=401, json={"error": {"message": "Error validating access token: Session has expired.",
                                              "type": "OAuthException", "code": 190}})
    with pytest.raises(Refused) as refused:
        sync_templates(ctx, "initech")
    assert refused.value.code == "template_sync_failed" and "expired" in str(refused.value)
    assert list(initech_templates(ctx)) == ["hand_made/en"]


def test_a_workspace_without_a_cloud_api_sender_cannot_sync(ctx) -> None:
    with pytest.raises(Refused) as refused:
        sync_templates(ctx, "demo")
    assert refused.value.code == "template_sync_unavailable" and "waba_id" in str(refused.value)


def test_the_cli_shows_progress_and_the_summary(app, ctx, initech, http) -> None:
    register_pages(http, ctx, [[listed()], [PAUSED]])
    result = app.test_cli_runner().invoke(args=["template", "sync", "initech"])
    assert result.exit_code == 0, result.output
    assert "page 1 fetched, 1 template(s) so far" in result.output
    assert "page 2 fetched, 2 template(s) so far" in result.output
    assert "Synced 2 template(s): 2 new, 0 updated, 1 approved." in result.output
    assert "not usable: winter_sale (en_US): PAUSED" in result.output
    assert TOKEN not in result.output


def test_the_cli_explains_a_refusal(app, ctx) -> None:
    result = app.test_cli_runner().invoke(args=["template", "sync", "demo"])
    assert result.exit_code == 1 and "waba_id" in result.output
