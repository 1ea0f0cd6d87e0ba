"""conference programme (plenaries, workshops, choices close) and workshop choices (issue 17)

Revision ID: 0091214772d7
Revises: d0a454075713
Create Date: 2026-12-01 01:45:48.334254

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0091214772d7'
down_revision = 'd0a454075713'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('programme_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('leads', sa.String(length=500), nullable=False),
    sa.Column('room', sa.String(length=200), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_programme_items_session_id_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_items'))
    )
    with op.batch_alter_table('programme_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_items_session_id'), ['session_id'], unique=False)

    op.create_table('workshop_choices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('chosen_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_workshop_choices_booking_id_bookings')),
    sa.ForeignKeyConstraint(['item_id'], ['programme_items.id'], name=op.f('fk_workshop_choices_item_id_programme_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workshop_choices')),
    sa.UniqueConstraint('booking_id', 'item_id', name=op.f('uq_workshop_choices_booking_id_item_id'))
    )
    with op.batch_alter_table('workshop_choices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workshop_choices_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_workshop_choices_item_id'), ['item_id'], unique=False)

    # A plain nullable column: added in place on SQLite too (no copy of the table).
    op.add_column('sessions', sa.Column('choices_close_at', sa.DateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('workshop_choices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workshop_choices_item_id'))
        batch_op.drop_index(batch_op.f('ix_workshop_choices_booking_id'))

    op.drop_table('workshop_choices')
    with op.batch_alter_table('programme_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_items_session_id'))

    op.drop_table('programme_items')
    if op.get_bind().dialect.name == "sqlite":
        # Bookings and much else refer to sessions: batch mode would copy, drop and rename it, which
        # the foreign keys of a database holding data refuse. SQLite (3.35+) drops a plain column itself.
        op.execute("ALTER TABLE sessions DROP COLUMN choices_close_at")
    else:
        op.drop_column('sessions', 'choices_close_at')
