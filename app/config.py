"""Every setting Herald reads, from the environment, in one place, with the embedded defaults."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from .security.sealing import new_key

def default_instance() -> Path:
    """Where the embedded default keeps its files when ``HERALD_INSTANCE_PATH`` is not set: ``instance/``
    under the directory the process runs in (read when asked, never when this module is imported)."""
    return Path.cwd() / "instance"


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
    instance_path: str = field(default_factory=lambda: str(default_instance()))
    demo: bool = True
    testing: bool = False
    max_body_bytes: int = 256 * 1024
    provider_timeout: tuple[float, float] = (3.05, 10.0)
    # "celery": background work goes to the broker's workers; "inline": it runs at once, in-process
    tasks: str = "inline"
    broker_url: str = ""
    broker_visibility_timeout: float = 300.0
    job_lease_seconds: float = 60.0   # one attempt at a write-back or webhook event holds its row this long
    sweep_seconds: float = 30.0       # how often workers look for work whose job was lost
    hosts: tuple[str, ...] = ("intercom", "hubspot")
    log_format: str = "text"
    # settings whose value was generated under instance/ rather than given (a second machine would differ)
    generated: frozenset[str] = frozenset()

    @property
    def embedded(self) -> bool:
        """The one-command default: SQLite and the demo, no other server, keys kept under instance/."""
        return self.database_url.startswith("sqlite") and self.demo

    def with_overrides(self, overrides: Mapping[str, Any]) -> "Config":
        """These settings with some replaced; a name that is no setting is refused, so a typo (or a test
        hook, which is a named argument of ``create_app``) is never silently ignored."""
        unknown = sorted(k for k in overrides if k not in self.__dataclass_fields__)
        if unknown:
            raise TypeError(f"not a setting: {', '.join(unknown)} (clock, writers, migrate and seed_demo are "
                            "named arguments of create_app)")
        known = dict(overrides)
        if isinstance(known.get("encryption_keys"), str):
            known["encryption_keys"] = (known["encryption_keys"],)
        known.setdefault("generated", self.generated - set(known))
        updated = replace(self, **known)
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


class ConfigError(SystemExit):
    """A setting Herald cannot start without: one sentence naming the variable, exit status 1."""


REQUIRED_SECRETS = {"secret_key": "SECRET_KEY", "encryption_keys": "ENCRYPTION_KEY"}
HOST_SECRETS = {
    "intercom": (("intercom_client_id", "INTERCOM_CLIENT_ID"), ("intercom_client_secret", "INTERCOM_CLIENT_SECRET")),
    "hubspot": (("hubspot_client_id", "HUBSPOT_CLIENT_ID"), ("hubspot_client_secret", "HUBSPOT_CLIENT_SECRET"),
                ("hubspot_app_id", "HUBSPOT_APP_ID")),
}


def problems(config: Config) -> list[str]:
    """What stops this configuration from running outside the embedded default, one sentence each.

    Tests (``testing``) build deliberately partial configurations and are not held to it.
    """
    if config.embedded or config.testing:
        return []
    found = []
    for name, variable in REQUIRED_SECRETS.items():
        if not getattr(config, name) or name in config.generated:
            found.append(f"{variable} is not set: outside the embedded default every machine must be given the "
                         f"same {variable} (`python -m app.security.sealing` prints a new encryption key; any long random string will do for SECRET_KEY).")
    for host in config.hosts:
        for name, variable in HOST_SECRETS.get(host, ()):
            if not getattr(config, name) or getattr(config, name) == DEMO_CREDENTIALS.get(name):
                found.append(f"{variable} is not set, and Herald serves {host.capitalize()} (HERALD_HOSTS); "
                             f"set it from the app's settings in {host.capitalize()}, or leave {host} out of "
                             "HERALD_HOSTS.")
    if config.tasks == "celery" and not config.broker_url:
        found.append("REDIS_URL (or CELERY_BROKER_URL) is not set: outside the embedded default background "
                     "work runs on Celery workers and needs a broker.")
    return found


def check(config: Config) -> None:
    """Refuse to start a misconfigured production process, naming the first missing variable."""
    found = problems(config)
    if found:
        raise ConfigError("Herald cannot start: " + found[0])


def from_env(env: Mapping[str, str] | None = None) -> Config:
    """Read the environment; anything unset falls back to the embedded default."""
    env = os.environ if env is None else env
    given_instance = env.get("HERALD_INSTANCE_PATH", "")
    instance = Path(given_instance) if given_instance else default_instance()

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
    embedded = database_url.startswith("sqlite") and demo
    generated: set[str] = set()
    # Outside the embedded default keys are never made up: a second machine would not read the first's data.
    secret_key = env.get("SECRET_KEY", "").strip()
    if not secret_key and embedded:
        secret_key = _instance_secret(instance, "secret_key", lambda: secrets.token_urlsafe(48))
        generated.add("secret_key")
    keys = env.get("ENCRYPTION_KEY", "").strip()
    if not keys and embedded:
        keys = _instance_secret(instance, "encryption_key", new_key)
        generated.add("encryption_keys")
    broker = get("CELERY_BROKER_URL", get("REDIS_URL", ""))
    if not broker and embedded:
        broker = f"sqla+sqlite:///{instance / 'broker.db'}"
    hosts = tuple(h.strip().lower() for h in get("HERALD_HOSTS", "intercom,hubspot").split(",")
                  if h.strip() and h.strip().lower() not in ("none", "-"))
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
        tasks=get("HERALD_TASKS", "celery").lower(),
        broker_url=broker,
        broker_visibility_timeout=float(get("HERALD_TASK_VISIBILITY_TIMEOUT", "300")),
        job_lease_seconds=float(get("HERALD_JOB_LEASE_SECONDS", "60")),
        sweep_seconds=float(get("HERALD_SWEEP_SECONDS", "30")),
        hosts=hosts,
        log_format=get("HERALD_LOG_FORMAT", "text" if embedded else "json").lower(),
        generated=frozenset(generated),
    )
