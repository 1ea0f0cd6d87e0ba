"""outbox: what kind of message (template), when it failed, when retention removed its content

Revision ID: 9aff90790e46
Revises: 42354eadd040
Create Date: 2026-11-30 22:47:00.991475

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9aff90790e46'
down_revision = '42354eadd040'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('template', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('failed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('content_removed_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_outbox_messages_content_removed_at', ['content_removed_at'], unique=False)
    # A message that failed before this column: its last attempt was due at next_attempt_at (a
    # failed message's next_attempt_at is not moved on), so retention counts from there.
    op.execute("UPDATE outbox_messages SET failed_at = next_attempt_at WHERE status = 'failed'")


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_content_removed_at')
        batch_op.drop_column('content_removed_at')
        batch_op.drop_column('failed_at')
        batch_op.drop_column('template')
