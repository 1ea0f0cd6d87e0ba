"""dormant warnings and charge payments

users.dormant_warned_at: when a person was told their unused account will be closed (issue 16).
charges.paid_at, paid_recorded_by_id: an agency's payment of a due charge, recorded so erasure
can tell a settled charge (the person may be erased) from an unpaid one (not yet).

Revision ID: f6195ab4a2bc
Revises: 9aff90790e46
Create Date: 2026-11-30 22:46:48.297473

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f6195ab4a2bc'
down_revision = '9aff90790e46'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('charges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paid_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('paid_recorded_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_charges_paid_recorded_by_id_users'), 'users', ['paid_recorded_by_id'], ['id'])

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dormant_warned_at', sa.DateTime(), nullable=True))



def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        # Nearly every table refers to users: batch mode would copy, drop and rename it, which the
        # foreign keys of a database holding data refuse. SQLite (3.35+) drops a plain column itself.
        op.execute("ALTER TABLE users DROP COLUMN dormant_warned_at")
    else:
        op.drop_column('users', 'dormant_warned_at')

    with op.batch_alter_table('charges', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_charges_paid_recorded_by_id_users'), type_='foreignkey')
        batch_op.drop_column('paid_recorded_by_id')
        batch_op.drop_column('paid_at')

