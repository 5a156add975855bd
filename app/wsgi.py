"""The web process's entry point: ``gunicorn -c gunicorn.conf.py app.wsgi:app``."""

from __future__ import annotations

from . import create_app

app = create_app()
