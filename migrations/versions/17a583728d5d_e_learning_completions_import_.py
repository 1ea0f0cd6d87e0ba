"""e-learning completions import: a completion's score, and uploaded files held for their preview (issue 15)

Revision ID: 17a583728d5d
Revises: 219316777f8f
Create Date: 2026-12-01 01:46:08.139833

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '17a583728d5d'
down_revision = '219316777f8f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('completion_uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('rows_json', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.Column('applied_at', sa.DateTime(), nullable=True),
    sa.Column('recorded', sa.Integer(), nullable=False),
    sa.Column('accounts_opened', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_completion_uploads_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_completion_uploads'))
    )
    with op.batch_alter_table('completion_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_completion_uploads_uploaded_by_id'), ['uploaded_by_id'], unique=False)

    with op.batch_alter_table('completions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('score', sa.Integer(), nullable=True))



def downgrade():
    with op.batch_alter_table('completions', schema=None) as batch_op:
        batch_op.drop_column('score')

    with op.batch_alter_table('completion_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_completion_uploads_uploaded_by_id'))

    op.drop_table('completion_uploads')
