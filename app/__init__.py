"""Herald: proactive WhatsApp, SMS and Viber messages from the tools support agents already use."""

from __future__ import annotations

import logging
from typing import Any, Mapping

from flask import Flask

from .config import Config, from_env
from .security.sealing import Sealer
from .services.context import Context
from .store import Store
from .store.db import Cipher

EXTENSION = "herald"


def create_app(config: Config | Mapping[str, Any] | None = None) -> Flask:
    """Build the application: configuration, store, blueprints, CLI — the only wiring place."""
    if isinstance(config, Config):
        settings = config
    else:
        settings = from_env()
        if config:
            settings = settings.with_overrides(config)
    app = Flask(__name__, instance_path=settings.instance_path, instance_relative_config=False)
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=settings.max_body_bytes,
                      TESTING=settings.testing, HERALD=settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)

    sealer = Sealer(*settings.encryption_keys)
    store = Store(settings.database_url, Cipher(sealer.seal, sealer.unseal))
    if settings.extra.get("migrate", True):
        store.migrate()
    ctx = Context(store=store, config=settings)
    if "clock" in settings.extra:
        ctx.clock = settings.extra["clock"]
    app.extensions[EXTENSION] = ctx

    from .web import register_blueprints

    register_blueprints(app)
    from .cli import register_cli

    register_cli(app)
    if settings.demo and settings.extra.get("seed_demo", True):
        from .services.demo import ensure_demo

        ensure_demo(ctx)
    return app


def context_of(app: Flask) -> Context:
    return app.extensions[EXTENSION]
