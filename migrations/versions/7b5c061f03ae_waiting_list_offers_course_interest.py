"""waiting-list offers (courses.uses_offers, offer_hours; bookings.offer_expires_at), interest in a course, sessions.published_at (issue 17)

Revision ID: 7b5c061f03ae
Revises: 3dd0b4ddccc4
Create Date: 2026-12-01 01:47:37.250356

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7b5c061f03ae'
down_revision = '3dd0b4ddccc4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('course_interests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_interests_course_id_courses')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_course_interests_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_interests')),
    sa.UniqueConstraint('course_id', 'user_id', name=op.f('uq_course_interests_course_id_user_id'))
    )
    with op.batch_alter_table('course_interests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_interests_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_course_interests_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offer_expires_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uses_offers', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('offer_hours', sa.Integer(), server_default='24', nullable=False))

    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_at', sa.DateTime(), nullable=True))



def downgrade():
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): batch mode would copy and drop these tables,
    # which the foreign keys pointing at them refuse; the columns are in no index or constraint.
    op.drop_column('sessions', 'published_at')
    op.drop_column('courses', 'offer_hours')
    op.drop_column('courses', 'uses_offers')
    op.drop_column('bookings', 'offer_expires_at')

    with op.batch_alter_table('course_interests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_interests_user_id'))
        batch_op.drop_index(batch_op.f('ix_course_interests_course_id'))

    op.drop_table('course_interests')
