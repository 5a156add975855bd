"""The HubSpot surface: the contact card's data (signed), the compose page (token-bound) and install."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("hubspot", __name__, url_prefix="/hubspot")

from . import card, compose, oauth  # noqa: E402,F401  (routes register themselves on bp)


def register(app: Flask) -> None:
    """Mount the HubSpot surface, and the playground when running the embedded demo."""
    app.register_blueprint(bp)
    if app.extensions["herald"].config.demo:
        from .playground import bp as playground

        app.register_blueprint(playground)
