"""job leases count runs, failures and the last success

Revision ID: 42354eadd040
Revises: e4347d3f771a
Create Date: 2026-11-30 22:48:13.662124

The metrics (app.operations.metrics) read them at scrape time, so every runner's runs add up and a
job run from cron counts too. Earlier runs are not known: the counts start at 0 and the last success
is empty until the next one.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '42354eadd040'
down_revision = 'e4347d3f771a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job_leases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_succeeded_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('runs', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('failures', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('job_leases', schema=None) as batch_op:
        batch_op.drop_column('failures')
        batch_op.drop_column('runs')
        batch_op.drop_column('last_succeeded_at')
