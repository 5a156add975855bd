"""Every setting Herald reads, from the environment, in one place, with the embedded defaults."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from .security.sealing import new_key

DEFAULT_INSTANCE = Path(os.environ.get("HERALD_INSTANCE_PATH", Path.cwd() / "instance"))


# Credentials that only make the embedded demo work: they are in the source, so they verify nothing
# once the demo is off.
DEMO_CREDENTIALS = {
    "intercom_client_id": "demo-intercom-client", "intercom_client_secret": "demo-intercom-secret",
    "hubspot_client_id": "demo-hubspot-client", "hubspot_client_secret": "demo-hubspot-secret",
    "hubspot_app_id": "demo-hubspot-app",
}


@dataclass(frozen=True)
class Config:
    database_url: str
    secret_key: str
    encryption_keys: tuple[str, ...]
    public_base_url: str = "http://127.0.0.1:5000"
    intercom_client_id: str = "demo-intercom-client"
    intercom_client_secret: str = "demo-intercom-secret"
    intercom_access_token: str = ""
    hubspot_client_id: str = "demo-hubspot-client"
    hubspot_client_secret: str = "demo-hubspot-secret"
    hubspot_app_id: str = "demo-hubspot-app"
    whatsapp_api_base: str = "https://graph.facebook.com/v23.0"
    twilio_api_base: str = "https://api.twilio.com"
    vonage_api_base: str = "https://api.nexmo.com"
    intercom_api_base: str = "https://api.intercom.io"
    hubspot_api_base: str = "https://api.hubapi.com"
    instance_path: str = str(DEFAULT_INSTANCE)
    demo: bool = True
    testing: bool = False
    max_body_bytes: int = 256 * 1024
    provider_timeout: tuple[float, float] = (3.05, 10.0)
    writeback_retry_seconds: float = 60.0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def with_overrides(self, overrides: Mapping[str, Any]) -> "Config":
        known = {k: v for k, v in overrides.items() if k in self.__dataclass_fields__}
        unknown = {k: v for k, v in overrides.items() if k not in self.__dataclass_fields__}
        if isinstance(known.get("encryption_keys"), str):
            known["encryption_keys"] = (known["encryption_keys"],)
        updated = replace(self, **known, extra={**self.extra, **unknown})
        if not updated.demo:  # the demo's public credentials never outlive the demo
            public = {name: "" for name, value in DEMO_CREDENTIALS.items()
                      if getattr(updated, name) == value and name not in known}
            updated = replace(updated, **public)
        return updated


def _instance_secret(instance: Path, name: str, make) -> str:
    """A key generated once and kept under ``instance/`` (readable by its owner only)."""
    path = instance / name
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def from_env(env: Mapping[str, str] | None = None) -> Config:
    """Read the environment; anything unset falls back to the embedded default."""
    env = os.environ if env is None else env
    instance = Path(env.get("HERALD_INSTANCE_PATH", str(DEFAULT_INSTANCE)))

    def get(name: str, default: str) -> str:
        value = env.get(name, "").strip()
        return value or default

    database_url = get("DATABASE_URL", f"sqlite:///{instance / 'herald.db'}")
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://"):]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    demo = get("HERALD_DEMO", "1") not in ("0", "false", "no")
    # The demo's app credentials are public: they stand in only while the demo is on.
    demo_value = (lambda value: value) if demo else (lambda value: "")
    secret_key = env.get("SECRET_KEY") or _instance_secret(instance, "secret_key", lambda: secrets.token_urlsafe(48))
    keys = env.get("ENCRYPTION_KEY") or _instance_secret(instance, "encryption_key", new_key)
    return Config(
        database_url=database_url,
        secret_key=secret_key,
        encryption_keys=tuple(k.strip() for k in keys.split(",") if k.strip()),
        public_base_url=get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        intercom_client_id=get("INTERCOM_CLIENT_ID", demo_value(DEMO_CREDENTIALS["intercom_client_id"])),
        intercom_client_secret=get("INTERCOM_CLIENT_SECRET", demo_value(DEMO_CREDENTIALS["intercom_client_secret"])),
        intercom_access_token=get("INTERCOM_ACCESS_TOKEN", ""),
        hubspot_client_id=get("HUBSPOT_CLIENT_ID", demo_value(DEMO_CREDENTIALS["hubspot_client_id"])),
        hubspot_client_secret=get("HUBSPOT_CLIENT_SECRET", demo_value(DEMO_CREDENTIALS["hubspot_client_secret"])),
        hubspot_app_id=get("HUBSPOT_APP_ID", demo_value(DEMO_CREDENTIALS["hubspot_app_id"])),
        whatsapp_api_base=get("WHATSAPP_API_BASE", "https://graph.facebook.com/v23.0").rstrip("/"),
        twilio_api_base=get("TWILIO_API_BASE", "https://api.twilio.com").rstrip("/"),
        vonage_api_base=get("VONAGE_API_BASE", "https://api.nexmo.com").rstrip("/"),
        intercom_api_base=get("INTERCOM_API_BASE", "https://api.intercom.io").rstrip("/"),
        hubspot_api_base=get("HUBSPOT_API_BASE", "https://api.hubapi.com").rstrip("/"),
        instance_path=str(instance),
        demo=demo,
        writeback_retry_seconds=float(get("HERALD_WRITEBACK_RETRY_SECONDS", "60")),
    )
