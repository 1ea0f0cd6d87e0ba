"""accounts: account events keep the field changed, from and to

Revision ID: 5f0ecda1de2f
Revises: 7329bb6b8d59
Create Date: 2026-11-30 18:11:17.313894

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5f0ecda1de2f'
down_revision = '7329bb6b8d59'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('account_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('field', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('from_value', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('to_value', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('account_events', schema=None) as batch_op:
        batch_op.drop_column('to_value')
        batch_op.drop_column('from_value')
        batch_op.drop_column('field')

