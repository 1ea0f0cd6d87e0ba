"""outbox: one Message-ID per message, a retry window, failures reported once

Revision ID: 807c24df159f
Revises: 0ca05261018f
Create Date: 2026-11-30 17:32:45.889325

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '807c24df159f'
down_revision = '0ca05261018f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('retry_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('failure_reported_at', sa.DateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('failure_reported_at')
        batch_op.drop_column('retry_until')
        batch_op.drop_column('message_id')

