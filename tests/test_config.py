"""Configuration: the demo's public credentials never verify anything outside the demo."""

from __future__ import annotations

import hashlib
import hmac
import json

from app import create_app
from app.config import from_env
from tests.conftest import TEST_ENCRYPTION_KEY


def test_demo_credentials_only_while_the_demo_is_on(tmp_path):
    on = from_env({"HERALD_INSTANCE_PATH": str(tmp_path)})
    off = from_env({"HERALD_INSTANCE_PATH": str(tmp_path), "HERALD_DEMO": "0"})
    assert on.intercom_client_secret == "demo-intercom-secret" and on.hubspot_client_secret
    assert off.intercom_client_secret == "" and off.hubspot_client_secret == "" and off.hubspot_app_id == ""
    configured = from_env({"HERALD_INSTANCE_PATH": str(tmp_path), "HERALD_DEMO": "0",
                           "INTERCOM_CLIENT_SECRET": "real"})
    assert configured.intercom_client_secret == "real"


def test_without_a_client_secret_every_host_request_is_refused(tmp_path):
    settings = from_env({"HERALD_INSTANCE_PATH": str(tmp_path), "HERALD_DEMO": "0",
                         "DATABASE_URL": f"sqlite:///{tmp_path}/h.db", "ENCRYPTION_KEY": TEST_ENCRYPTION_KEY})
    client = create_app(settings).test_client()
    body = json.dumps({"workspace_id": "demo-intercom", "admin": {"id": "1"}}).encode()
    forged = hmac.new(b"demo-intercom-secret", body, hashlib.sha256).hexdigest()
    response = client.post("/intercom/initialize", data=body, headers={"X-Body-Signature": forged,
                                                                        "Content-Type": "application/json"})
    assert response.status_code == 401
    card = client.get("/hubspot/card?portalId=900001&contactId=101",
                      headers={"X-HubSpot-Signature-v3": "x", "X-HubSpot-Request-Timestamp": "1"})
    assert card.status_code == 401


def test_turning_the_demo_off_in_overrides_drops_its_credentials(tmp_path):
    app = create_app({"database_url": f"sqlite:///{tmp_path}/h.db", "instance_path": str(tmp_path),
                      "encryption_keys": (TEST_ENCRYPTION_KEY,), "secret_key": "k", "demo": False})
    settings = app.config["HERALD"]
    assert settings.intercom_client_secret == "" and settings.hubspot_client_secret == ""
