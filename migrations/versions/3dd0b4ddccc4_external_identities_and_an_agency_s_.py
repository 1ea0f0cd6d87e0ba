"""external identities and an agency's sign-in provider (issue 15)

Revision ID: 3dd0b4ddccc4
Revises: 8fa875944872
Create Date: 2026-12-01 01:45:57.571817

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3dd0b4ddccc4'
down_revision = '8fa875944872'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('external_identities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=50), nullable=False),
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('linked_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_external_identities_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_identities')),
    sa.UniqueConstraint('issuer', 'subject', name=op.f('uq_external_identities_issuer_subject'))
    )
    with op.batch_alter_table('external_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_identities_user_id'), ['user_id'], unique=False)

    # A plain nullable column: SQLite adds it in place, without batch mode's copy of the table.
    op.add_column('agencies', sa.Column('sign_in_provider', sa.String(length=50), nullable=True))


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        # Users and most tables refer to agencies: batch mode would copy, drop and rename it, which
        # the foreign keys of a database holding data refuse. SQLite (3.35+) drops a plain column.
        op.execute("ALTER TABLE agencies DROP COLUMN sign_in_provider")
    else:
        op.drop_column('agencies', 'sign_in_provider')

    with op.batch_alter_table('external_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_identities_user_id'))

    op.drop_table('external_identities')
