"""Migrations and models agree, on every database; secrets never reach the database in plain text."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from app.services.workspaces import add_sender, list_senders
from app.store.models import Base, Installation, Workspace


def test_migrated_schema_matches_the_models(ctx):
    with ctx.store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": False}),
                                Base.metadata)
    assert diff == []


def test_migrations_are_idempotent(ctx):
    ctx.store.migrate()
    assert "messages" in inspect(ctx.store.engine).get_table_names()


def _dump(ctx) -> str:
    """Every value of every table, as a database dump would show them."""
    lines = []
    with ctx.store.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(text(f"SELECT * FROM {table.name}")):
                lines.append(" ".join(str(v) for v in row))
    return "\n".join(lines)


def test_provider_credentials_and_tokens_are_encrypted_at_rest(ctx):
    add_sender(ctx, "demo", "sms", "twilio", "+12015550188",
               {"account_sid": "AC123", "auth_token": "tw-secret-1234567890"})
    with ctx.store.session() as session:
        workspace = session.query(Workspace).filter_by(name="demo").one()
        session.add(Installation(workspace_id=workspace.id, host="intercom", external_id="abc",
                                 access_token_sealed=ctx.store.seal("ic-token-abcdef"),
                                 created_at=ctx.now(), updated_at=ctx.now()))
    dump = _dump(ctx)
    assert "tw-secret-1234567890" not in dump and "ic-token-abcdef" not in dump
    assert "AC123" in dump  # plain settings stay readable for operators
    view = [v for v in list_senders(ctx, "demo") if v.provider == "twilio"][0]
    assert view.secret_option_names == ("auth_token",) and "auth_token" not in view.options


def test_the_head_revision_read_from_the_files_is_alembics(app):
    from alembic.script import ScriptDirectory

    from app.store.db import alembic_config, head_revision

    store = app.extensions["herald"].store
    assert head_revision() == ScriptDirectory.from_config(alembic_config(store)).get_current_head()
    assert store.schema_revisions() == (head_revision(), head_revision())
