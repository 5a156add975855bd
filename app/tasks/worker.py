"""The worker's entry point: ``celery -A app.tasks.worker worker`` (and ``… beat`` for the schedule)."""

from __future__ import annotations

from .. import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
