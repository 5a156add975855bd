"""Install (OAuth), the token sealed and bound to the workspace id, and the uninstall notice."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import responses
from sqlalchemy import select

from app.store.models import Installation, Workspace

from .conftest import compact, initialize_payload, install_token, post_signed, secret_of, sign

TOKEN_URL = "https://api.intercom.io/auth/eagle/token"
ME_URL = "https://api.intercom.io/me"
SUCCESS = "https://app.intercom.com/appstore/redirect?install_success=true"


def me(id_code: str = "demo-intercom", region: str = "US", name: str = "Demo Co") -> dict:
    return {"type": "admin", "id": "991267", "email": "owner@example.com", "email_verified": True,
            "has_inbox_seat": True, "app": {"type": "app", "id_code": id_code, "name": name, "region": region,
                                            "timezone": "Europe/Dublin", "created_at": 1595515233}}


def start(client) -> str:
    response = client.get("/intercom/oauth/start")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "app.intercom.com", "/oauth")
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["client_id"] == "demo-intercom-client"
    assert query["redirect_uri"] == "https://herald.test/intercom/oauth/callback"
    assert len(query["state"]) >= 32
    return query["state"]


def failure_message(response) -> str:
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.netloc == "app.intercom.com" and location.path == "/appstore/redirect"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["install_success"] == "false"
    return query["error_message"]


def installations(ctx) -> list[Installation]:
    with ctx.store.session() as session:
        return list(session.scalars(select(Installation)))


def test_install_exchanges_the_code_and_binds_the_token_to_the_workspace(client, ctx, intercom_api):
    state = start(client)
    intercom_api.post(TOKEN_URL, json={"token_type": "Bearer", "token": "dG9rOmZyZXNo", "access_token": "dG9rOmZyZXNo"},
                      match=[responses.matchers.urlencoded_params_matcher(
                          {"code": "c0de+with/end==", "client_id": "demo-intercom-client",
                           "client_secret": "demo-intercom-secret"})])
    intercom_api.get(ME_URL, json=me(region="EU"),
                     match=[responses.matchers.header_matcher({"Authorization": "Bearer dG9rOmZyZXNo"})])
    response = client.get("/intercom/oauth/callback", query_string={"code": "c0de+with/end==", "state": state})
    assert response.status_code == 302 and response.headers["Location"] == SUCCESS
    [installed] = installations(ctx)
    assert installed.external_id == "demo-intercom" and installed.host == "intercom"
    assert installed.api_base == "https://api.eu.intercom.io"
    assert installed.installed_by == "owner@example.com"
    assert installed.access_token_sealed and "dG9rOmZyZXNo" not in installed.access_token_sealed
    assert ctx.store.unseal(installed.access_token_sealed) == "dG9rOmZyZXNo"
    with ctx.store.session() as session:
        demo = session.scalar(select(Workspace).where(Workspace.name == "demo"))
    assert installed.workspace_id == demo.id


def test_installing_again_replaces_the_token(client, ctx, intercom_api):
    install_token(ctx, "old-token")
    state = start(client)
    intercom_api.post(TOKEN_URL, json={"token": "new-token"})
    intercom_api.get(ME_URL, json=me())
    client.get("/intercom/oauth/callback", query_string={"code": "x", "state": state})
    [installed] = installations(ctx)
    assert ctx.store.unseal(installed.access_token_sealed) == "new-token"
    assert installed.api_base == "https://api.intercom.io"


def test_an_unknown_intercom_workspace_gets_its_own_herald_workspace(client, ctx, intercom_api):
    state = start(client)
    intercom_api.post(TOKEN_URL, json={"access_token": "tok-acme"})
    intercom_api.get(ME_URL, json=me(id_code="acme42", name="demo"))
    assert client.get("/intercom/oauth/callback", query_string={"code": "x", "state": state}).headers[
        "Location"] == SUCCESS
    with ctx.store.session() as session:
        created = session.scalar(select(Workspace).where(Workspace.intercom_workspace_id == "acme42"))
    assert created.name == "demo (acme42)"  # "demo" was taken
    body = post_signed(client, "/intercom/initialize", initialize_payload(workspace_id="acme42"))
    assert "has no WhatsApp, SMS or Viber sender yet" in body["canvas"]["content"]["components"][1]["text"]


def test_a_callback_without_the_browser_state_is_refused(client, ctx, intercom_api):
    response = client.get("/intercom/oauth/callback", query_string={"code": "x", "state": "forged"})
    assert "start the install again" in failure_message(response)
    start(client)
    response = client.get("/intercom/oauth/callback", query_string={"code": "x", "state": "forged"})
    assert "start the install again" in failure_message(response)
    assert len(intercom_api.calls) == 0 and installations(ctx) == []


def test_a_state_is_single_use_and_expires(client, ctx, clock, intercom_api):
    intercom_api.post(TOKEN_URL, json={"access_token": "t"})
    intercom_api.get(ME_URL, json=me())
    state = start(client)
    assert client.get("/intercom/oauth/callback", query_string={"code": "x", "state": state}).headers[
        "Location"] == SUCCESS
    again = client.get("/intercom/oauth/callback", query_string={"code": "x", "state": state})
    assert "start the install again" in failure_message(again)
    state = start(client)
    clock.advance(minutes=11)
    late = client.get("/intercom/oauth/callback", query_string={"code": "x", "state": state})
    assert "start the install again" in failure_message(late)


def test_intercom_refusing_the_code_ends_on_the_failure_page(client, ctx, intercom_api):
    intercom_api.post(TOKEN_URL, status=401, json={"type": "error.list", "errors": [
        {"code": "unauthorized", "message": "Unauthorized Code"}]})
    state = start(client)
    response = client.get("/intercom/oauth/callback", query_string={"code": "mangled", "state": state})
    assert failure_message(response) == ("Herald could not finish the install: Intercom answered 401 to the "
                                         "OAuth token exchange (unauthorized: Unauthorized Code).")
    assert installations(ctx) == []


def test_an_admin_declining_ends_on_the_failure_page(client):
    start(client)
    response = client.get("/intercom/oauth/callback", query_string={"error": "access_denied"})
    assert failure_message(response) == "Intercom did not authorise Herald (access_denied)."


def post_uninstall(client, payload, signature: str | None = "sign"):
    raw = compact(payload)
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["X-Body-Signature"] = sign(raw, secret_of(client))
    elif signature is not None:
        headers["X-Body-Signature"] = signature
    return client.post("/intercom/uninstall", data=raw, headers=headers)


def test_a_signed_uninstall_removes_the_token_once_intercom_refuses_it(client, ctx, intercom_api):
    install_token(ctx, "tok-gone")
    assert post_uninstall(client, {"app_id": "demo-intercom"}, signature="0" * 64).status_code == 401
    assert len(installations(ctx)) == 1
    intercom_api.get(ME_URL, status=401, json={"type": "error.list", "errors": [
        {"code": "token_unauthorized", "message": "Not authorized to access resource"}]})
    response = post_uninstall(client, {"app_id": "demo-intercom"})
    assert response.status_code == 200 and response.get_json() == {"removed": True}
    assert installations(ctx) == []
    assert post_uninstall(client, {"app_id": "demo-intercom"}).get_json() == {"removed": False}


def test_a_replayed_signed_panel_request_cannot_uninstall_a_working_token(client, ctx, intercom_api):
    install_token(ctx, "tok-working")
    intercom_api.get(ME_URL, json=me())
    # any signed Canvas Kit body names the workspace; replayed here it must not remove the installation
    replay = {"workspace_id": "demo-intercom", "admin": {"id": "814860"}, "component_id": "send"}
    assert post_uninstall(client, replay).get_json() == {"removed": False}
    assert len(installations(ctx)) == 1


def test_an_unsigned_uninstall_is_checked_with_intercom_first(client, ctx, intercom_api):
    install_token(ctx, "tok-still-valid")
    intercom_api.get(ME_URL, json=me())
    assert post_uninstall(client, {"app_id": "demo-intercom"}, signature=None).get_json() == {"removed": False}
    assert len(installations(ctx)) == 1
    intercom_api.replace(responses.GET, ME_URL, status=401, json={"type": "error.list", "errors": [
        {"code": "token_unauthorized", "message": "Not authorized to access resource"}]})
    assert post_uninstall(client, {"app_id": "demo-intercom"}, signature=None).get_json() == {"removed": True}
    assert installations(ctx) == []
