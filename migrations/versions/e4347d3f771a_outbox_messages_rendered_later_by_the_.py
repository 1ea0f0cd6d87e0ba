"""outbox messages rendered later by the runner

Revision ID: e4347d3f771a
Revises: 235a5c37ee9f
Create Date: 2026-11-30 20:43:16.158390

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'e4347d3f771a'
down_revision = '235a5c37ee9f'
branch_labels = None
depends_on = None

def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('render_json', sa.Text(), nullable=True))

def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('render_json')

