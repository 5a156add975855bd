"""INSERT … ON CONFLICT in the dialect at hand (SQLite and PostgreSQL both speak it)."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session, table):
    """The dialect's insert construct, which has ``on_conflict_do_update`` / ``on_conflict_do_nothing``."""
    return insert_for_dialect(session.get_bind().dialect.name, table)


def insert_for_dialect(dialect: str, table):
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)
