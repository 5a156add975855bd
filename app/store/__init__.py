"""Persistence: SQLAlchemy 2 models and queries; SQLite embedded, PostgreSQL in production."""

from .db import Store

__all__ = ["Store"]
