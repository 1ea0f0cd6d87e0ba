"""session changes keep the parts they removed

Revision ID: 235a5c37ee9f
Revises: 5f0ecda1de2f
Create Date: 2026-11-30 18:56:11.484655

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '235a5c37ee9f'
down_revision = '5f0ecda1de2f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('session_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removed_parts', sa.Text(), server_default='[]', nullable=False))



def downgrade():
    with op.batch_alter_table('session_changes', schema=None) as batch_op:
        batch_op.drop_column('removed_parts')

