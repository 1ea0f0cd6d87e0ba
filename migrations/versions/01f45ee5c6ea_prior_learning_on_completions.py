"""prior learning on completions: the provider, the L&D team's decision and an uploaded certificate

Revision ID: 01f45ee5c6ea
Revises: 1ce6a2d082dd
Create Date: 2026-11-30 18:11:02.061008

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '01f45ee5c6ea'
down_revision = '1ce6a2d082dd'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('completions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('check_result', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('check_note', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('certificate_name', sa.String(length=255), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('certificate_type', sa.String(length=50), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('certificate_data', sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table('completions', schema=None) as batch_op:
        batch_op.drop_column('certificate_data')
        batch_op.drop_column('certificate_type')
        batch_op.drop_column('certificate_name')
        batch_op.drop_column('check_note')
        batch_op.drop_column('check_result')
        batch_op.drop_column('provider')
