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
