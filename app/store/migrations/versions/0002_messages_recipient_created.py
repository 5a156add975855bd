"""messages by recipient and time, for the proactive policy's look-backs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:00:00.000000
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The policy reads one person's messages of the last day (or of the marketing wait) before every
    # send: a range on (workspace, recipient, created_at), however long their history is.
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_recipient_created', ['workspace_id', 'recipient', 'created_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_recipient_created')
