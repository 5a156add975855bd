"""Thin HTTP adapters, one blueprint per surface."""

from __future__ import annotations

from flask import Flask, current_app

from ..services.context import Context


def ctx() -> Context:
    """The current application's service context."""
    return current_app.extensions["herald"]


def register_blueprints(app: Flask) -> None:
    from .health import bp as health

    app.register_blueprint(health)
    from .api import bp as api
    app.register_blueprint(api)
    from .webhooks import bp as webhooks
    app.register_blueprint(webhooks)
    from .hubspot import (
        register as register_hubspot,  # the playground too, when config.demo
    )
    register_hubspot(app)
    from .intercom import bp as intercom  # the playground only in the demo
    from .intercom import playground as intercom_playground
    app.register_blueprint(intercom)
    if app.config["HERALD"].demo: app.register_blueprint(intercom_playground)
