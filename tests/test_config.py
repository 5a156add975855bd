"""Configuration: the demo's public credentials never verify anything outside the demo."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from app import create_app
from app.config import Config, ConfigError, from_env, problems
from app.store.models import Workspace
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
    # Serving neither host (HERALD_HOSTS=none) is the one way to start without their secrets; the
    # routes still refuse every request rather than trusting the demo's public ones.
    settings = from_env({"HERALD_INSTANCE_PATH": str(tmp_path), "HERALD_DEMO": "0", "HERALD_HOSTS": "none",
                         "HERALD_TASKS": "inline", "SECRET_KEY": "k" * 40,
                         "DATABASE_URL": f"sqlite:///{tmp_path}/h.db", "ENCRYPTION_KEY": TEST_ENCRYPTION_KEY})
    client = create_app(settings, migrate=True).test_client()
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
                      "encryption_keys": (TEST_ENCRYPTION_KEY,), "secret_key": "k", "demo": False,
                      "hosts": (), "tasks": "inline"}, migrate=True)
    settings = app.config["HERALD"]
    assert settings.intercom_client_secret == "" and settings.hubspot_client_secret == ""


PRODUCTION = {"DATABASE_URL": "postgresql://herald@db.internal/herald", "SECRET_KEY": "s" * 40,
              "ENCRYPTION_KEY": TEST_ENCRYPTION_KEY, "REDIS_URL": "redis://cache.internal:6379/0",
              "INTERCOM_CLIENT_ID": "ic", "INTERCOM_CLIENT_SECRET": "is",
              "HUBSPOT_CLIENT_ID": "hc", "HUBSPOT_CLIENT_SECRET": "hs", "HUBSPOT_APP_ID": "1"}


@pytest.mark.parametrize("missing", sorted(set(PRODUCTION) - {"DATABASE_URL"}))
def test_outside_the_embedded_default_a_missing_setting_stops_start_up_naming_it(tmp_path, missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing} | {"HERALD_INSTANCE_PATH": str(tmp_path)}
    with pytest.raises(ConfigError) as refused:
        create_app(from_env(env))
    message = str(refused.value)
    assert missing in message and message.startswith("Herald cannot start: ")
    assert refused.value.code == message and "\n" not in message  # one sentence, exit status 1 via SystemExit
    assert not (tmp_path / "secret_key").exists() and not (tmp_path / "encryption_key").exists()


def test_a_complete_production_configuration_passes_and_generates_nothing(tmp_path):
    settings = from_env(PRODUCTION | {"HERALD_INSTANCE_PATH": str(tmp_path)})
    assert problems(settings) == [] and not settings.embedded and settings.generated == frozenset()
    assert settings.broker_url == "redis://cache.internal:6379/0" and settings.log_format == "json"
    assert settings.tasks == "celery"


def test_the_embedded_default_keeps_its_keys_and_a_serverless_broker_under_instance(tmp_path):
    settings = from_env({"HERALD_INSTANCE_PATH": str(tmp_path)})
    assert settings.embedded and problems(settings) == []
    assert settings.generated == {"secret_key", "encryption_keys"}
    assert settings.broker_url == f"sqla+sqlite:///{tmp_path}/broker.db"
    assert from_env({"HERALD_INSTANCE_PATH": str(tmp_path)}).secret_key == settings.secret_key
    # a key given in the environment is not "generated", even in the embedded default
    given = from_env({"HERALD_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x" * 40})
    assert "secret_key" not in given.generated


def test_the_instance_folder_is_read_when_asked_not_when_imported(tmp_path, monkeypatch):
    """Nothing is read from the environment at import time: the default follows the process's directory."""
    monkeypatch.chdir(tmp_path)
    assert from_env({"DATABASE_URL": "postgresql://h@db/h"}).instance_path == str(tmp_path / "instance")
    assert Config(database_url="sqlite://", secret_key="k", encryption_keys=()).instance_path == \
        str(tmp_path / "instance")


def test_a_setting_that_does_not_exist_is_refused_by_name(tmp_path):
    with pytest.raises(TypeError, match="not a setting: clcok"):
        create_app({"database_url": f"sqlite:///{tmp_path}/h.db", "instance_path": str(tmp_path),
                    "encryption_keys": (TEST_ENCRYPTION_KEY,), "secret_key": "k", "clcok": None})


def test_hooks_are_named_arguments(tmp_path):
    moment = datetime(2030, 1, 2, 3, 4, tzinfo=timezone.utc)
    written = []
    app = create_app({"database_url": f"sqlite:///{tmp_path}/h.db", "instance_path": str(tmp_path),
                      "encryption_keys": (TEST_ENCRYPTION_KEY,), "secret_key": "k", "testing": True,
                      "tasks": "inline"},
                     clock=lambda: moment, writers={"test": lambda ctx, row: written.append(row)},
                     migrate=True, seed_demo=False)
    ctx = app.extensions["herald"]
    assert ctx.now() == moment and {"intercom", "hubspot", "test"} <= set(ctx.writers)
    ctx.writers["test"](ctx, "row")
    assert written == ["row"]
    with ctx.store.session() as session:
        assert session.scalar(select(func.count()).select_from(Workspace)) == 0  # seed_demo=False
