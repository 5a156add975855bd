"""policy_decisions: the sends the proactive policy or the channel rules stopped

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-24 09:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

from app.store.types import UTCDateTime

revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A refused or confirmation-needed decision leaves no message row; this is its audit trail,
    # read by `report proactive` as a range of (workspace, created_at).
    op.create_table(
        'policy_decisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('recipient', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('template_name', sa.String(length=512), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('purpose', sa.String(length=32), nullable=True),
        sa.Column('origin', sa.String(length=16), nullable=False),
        sa.Column('surface', sa.String(length=16), nullable=False),
        sa.Column('requested_by', sa.String(length=255), nullable=False),
        sa.Column('contact_ref', sa.String(length=64), nullable=True),
        sa.Column('reason_codes', sa.JSON(), nullable=False),
        sa.Column('reasons', sa.JSON(), nullable=False),
        sa.Column('content', sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('policy_decisions', schema=None) as batch_op:
        batch_op.create_index('ix_policy_decisions_created', ['workspace_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('policy_decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_policy_decisions_created')
    op.drop_table('policy_decisions')
