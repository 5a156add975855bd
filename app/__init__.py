"""Herald: proactive WhatsApp, SMS and Viber messages from the tools support agents already use."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Mapping

from flask import Flask

from .config import Config, check, from_env
from .logs import configure_logging, install_request_ids
from .security.sealing import Sealer
from .services.context import Context
from .store import Store
from .store.db import Cipher

EXTENSION = "herald"

Writer = Callable[[Context, Any], None]


def create_app(config: Config | Mapping[str, Any] | None = None, *,
               clock: Callable[[], datetime] | None = None,
               writers: Mapping[str, Writer] | None = None,
               migrate: bool | None = None,
               seed_demo: bool = True) -> Flask:
    """Build the application: configuration, store, blueprints, CLI — the only wiring place.

    ``config`` is a :class:`~app.config.Config`, or settings that replace some of the environment's.
    The rest are hooks for tests and tools, each typed: ``clock`` (what "now" is), ``writers`` (host
    name -> the function that writes a send back there, over the Intercom and HubSpot ones),
    ``migrate`` (bring the schema up to date now; by default only in the embedded default) and
    ``seed_demo`` (create the demo workspace when the demo is on).

    Outside the embedded default a missing secret or broker stops start-up with one sentence
    (:class:`app.config.ConfigError`), and the schema is left to the release step
    (``flask --app app db upgrade``) instead of every process racing to migrate it.
    """
    if isinstance(config, Config):
        settings = config
    else:
        settings = from_env()
        if config:
            settings = settings.with_overrides(config)
    check(settings)
    app = Flask(__name__, instance_path=settings.instance_path, instance_relative_config=False)
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=settings.max_body_bytes,
                      TESTING=settings.testing, HERALD=settings)
    configure_logging(settings.log_format)
    install_request_ids(app)

    sealer = Sealer(*settings.encryption_keys)
    store = Store(settings.database_url, Cipher(sealer.seal, sealer.unseal))
    if settings.embedded if migrate is None else migrate:
        store.migrate()
    ctx = Context(store=store, config=settings)
    if clock is not None:
        ctx.clock = clock
    app.extensions[EXTENSION] = ctx
    from .services.hubspot import write_communication as hubspot_writer
    ctx.writers["hubspot"] = hubspot_writer
    from .services.intercom import write_note as intercom_writer
    ctx.writers["intercom"] = intercom_writer
    ctx.writers.update(writers or {})

    if settings.tasks == "celery":
        from .tasks import make_celery

        make_celery(app)

    from .security.redaction import install as redact_log

    redact_log("werkzeug")  # the development server's access log: no token, code or state in it
    from .web import register_blueprints

    register_blueprints(app)
    from .cli import register_cli

    register_cli(app)
    if settings.demo and seed_demo:
        from .services.demo import ensure_demo

        # Before the release step has made the tables (`flask --app app db upgrade` itself runs
        # through here) there is nothing to seed yet; the next start seeds it.
        if store.schema_revisions()[0] is not None:
            ensure_demo(ctx)
    return app


def context_of(app: Flask) -> Context:
    return app.extensions[EXTENSION]
