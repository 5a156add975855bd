"""Installing Herald in a HubSpot account: the authorize redirect, the code exchange on the 2026-03 token
endpoint, learning the hub id, binding it to a workspace, and tokens sealed at rest."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import responses
from sqlalchemy import select, text

from app.services.workspaces import create_workspace
from app.store.models import Installation, Workspace

from .common import API, BASE

TOKEN_URL = f"{API}/oauth/2026-03/token"
INTROSPECT_URL = f"{API}/oauth/2026-03/token/introspect"


def start(client) -> str:
    """Follow /hubspot/oauth/start as the installer's browser; returns the state HubSpot will send back."""
    response = client.get("/hubspot/oauth/start")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "https://app.hubspot.com/oauth/authorize"
    return parse_qs(location.query)["state"][0]


def token_answer(**extra) -> dict:
    return {"token_type": "bearer", "refresh_token": "rt-from-hubspot", "access_token": "at-from-hubspot",
            "expires_in": 1800, **extra}


def installation(ctx, portal: str) -> Installation | None:
    with ctx.store.session() as session:
        return session.scalar(select(Installation).where(Installation.host == "hubspot",
                                                         Installation.external_id == portal))


def test_start_redirects_to_hubspots_authorize_page(web) -> None:
    response = web.get("/hubspot/oauth/start")
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["client_id"] == ["demo-hubspot-client"]
    assert query["redirect_uri"] == [f"{BASE}/hubspot/oauth/callback"]
    assert query["scope"] == ["oauth crm.objects.contacts.read crm.objects.contacts.write"]
    cookie = response.headers["Set-Cookie"]
    assert "herald_hubspot_install=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" in cookie  # PUBLIC_BASE_URL is https


def test_callback_binds_the_linked_workspace(ctx, client, clock, hubspot_api) -> None:
    create_workspace(ctx, "acme", hubspot_portal_id="123")
    exchange = hubspot_api.add(responses.POST, TOKEN_URL, json=token_answer(hub_id=123, user="owner@acme.example"))
    state = start(client)
    response = client.get("/hubspot/oauth/callback", query_string={"code": "code-from-hubspot", "state": state})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "installed in HubSpot account 123 for workspace “acme”" in response.get_data(as_text=True)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"  # the code never leaves in a Referer
    form = parse_qs(exchange.calls[0].request.body)
    assert form == {"grant_type": ["authorization_code"], "code": ["code-from-hubspot"],
                    "redirect_uri": [f"{BASE}/hubspot/oauth/callback"], "client_id": ["demo-hubspot-client"],
                    "client_secret": ["demo-hubspot-secret"]}
    row = installation(ctx, "123")
    assert ctx.store.unseal(row.access_token_sealed) == "at-from-hubspot"
    assert ctx.store.unseal(row.refresh_token_sealed) == "rt-from-hubspot"
    assert row.expires_at == clock() + timedelta(seconds=1800)
    assert row.installed_by == "owner@acme.example"
    with ctx.store.engine.connect() as connection:
        raw = json.dumps([list(r) for r in connection.execute(text("SELECT * FROM installations"))], default=str)
    assert "at-from-hubspot" not in raw and "rt-from-hubspot" not in raw


def test_hub_id_from_introspection_and_a_new_workspace(ctx, client, hubspot_api) -> None:
    """The token answer need not carry hub_id; introspection says which account it is."""
    hubspot_api.add(responses.POST, TOKEN_URL, json=token_answer())
    introspect = hubspot_api.add(responses.POST, INTROSPECT_URL, json={
        "active": True, "token_type": "access_token", "hub_id": 456, "user": "owner@globex.example",
        "scopes": ["oauth", "crm.objects.contacts.read", "crm.objects.contacts.write"]})
    response = client.get("/hubspot/oauth/callback", query_string={"code": "c2", "state": start(client)})
    assert response.status_code == 200
    assert "in a new workspace “hubspot-456”" in response.get_data(as_text=True)
    form = parse_qs(introspect.calls[0].request.body)
    assert form["token"] == ["at-from-hubspot"] and form["token_type_hint"] == ["access_token"]
    with ctx.store.session() as session:
        workspace = session.scalar(select(Workspace).where(Workspace.hubspot_portal_id == "456"))
        assert workspace.name == "hubspot-456"
    assert installation(ctx, "456").workspace_id == workspace.id


def test_hub_id_from_legacy_token_info_when_introspection_fails(ctx, client, hubspot_api) -> None:
    hubspot_api.add(responses.POST, TOKEN_URL, json=token_answer())
    hubspot_api.add(responses.POST, INTROSPECT_URL, status=404, json={"status": "error"})
    hubspot_api.add(responses.GET, f"{API}/oauth/v1/access-tokens/at-from-hubspot",
                    json={"token": "at-from-hubspot", "user": "o@x.example", "hub_domain": "x.example",
                          "scopes": ["oauth"], "hub_id": 789, "app_id": 1, "expires_in": 1700,
                          "user_id": 5, "token_type": "access"})
    assert client.get("/hubspot/oauth/callback",
                      query_string={"code": "c3", "state": start(client)}).status_code == 200
    assert installation(ctx, "789") is not None


def test_reinstall_replaces_the_tokens(ctx, client, hubspot_api) -> None:
    create_workspace(ctx, "acme", hubspot_portal_id="123")
    hubspot_api.add(responses.POST, TOKEN_URL, json=token_answer(hub_id="123"))
    hubspot_api.add(responses.POST, TOKEN_URL, json=token_answer(hub_id="123", access_token="at-2"))
    client.get("/hubspot/oauth/callback", query_string={"code": "c1", "state": start(client)})
    client.get("/hubspot/oauth/callback", query_string={"code": "c2", "state": start(client)})
    with ctx.store.session() as session:
        rows = list(session.scalars(select(Installation)))
    assert len(rows) == 1 and ctx.store.unseal(rows[0].access_token_sealed) == "at-2"


def test_install_started_from_hubspot_carries_no_state(ctx, client, hubspot_api) -> None:
    hubspot_api.add(responses.POST, TOKEN_URL, json=token_answer(hub_id=321))
    assert client.get("/hubspot/oauth/callback", query_string={"code": "c4"}).status_code == 200
    assert installation(ctx, "321") is not None


def test_state_is_spent_once_and_bound_to_the_browser(web, hubspot_api) -> None:
    hubspot_api.add(responses.POST, TOKEN_URL, json=token_answer(hub_id=123))
    state = start(web)
    nonce = web.get_cookie("herald_hubspot_install", path="/hubspot/oauth").value
    assert web.get("/hubspot/oauth/callback", query_string={"code": "c", "state": state}).status_code == 200
    assert web.get_cookie("herald_hubspot_install", path="/hubspot/oauth") is None  # cleared on success
    web.set_cookie("herald_hubspot_install", nonce, path="/hubspot/oauth")  # a replay with the same browser
    again = web.get("/hubspot/oauth/callback", query_string={"code": "c", "state": state})
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)

    state = start(web)
    web.delete_cookie("herald_hubspot_install", path="/hubspot/oauth")
    other_browser = web.get("/hubspot/oauth/callback", query_string={"code": "c", "state": state})
    assert other_browser.status_code == 400 and "another browser" in other_browser.get_data(as_text=True)

    forged = web.get("/hubspot/oauth/callback", query_string={"code": "c", "state": "abc.def.ghi"})
    assert forged.status_code == 400


def test_denied_access_and_a_refused_code(web, hubspot_api) -> None:
    denied = web.get("/hubspot/oauth/callback", query_string={"error": "access_denied",
                                                              "error_description": "The user denied access"})
    assert denied.status_code == 400 and "The user denied access" in denied.get_data(as_text=True)
    hubspot_api.add(responses.POST, TOKEN_URL, status=400,
                    json={"error": "invalid_grant", "error_description": "code expired", "status": "BAD_AUTH_CODE"})
    refused = web.get("/hubspot/oauth/callback", query_string={"code": "old", "state": start(web)})
    assert refused.status_code == 400 and "did not accept this sign-in code" in refused.get_data(as_text=True)
