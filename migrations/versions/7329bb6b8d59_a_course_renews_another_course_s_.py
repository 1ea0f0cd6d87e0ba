"""a course renews another course's refresher

Revision ID: 7329bb6b8d59
Revises: 01f45ee5c6ea
Create Date: 2026-11-30 18:11:09.645492

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7329bb6b8d59'
down_revision = '01f45ee5c6ea'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('renews_course_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_courses_renews_course_id'), ['renews_course_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_courses_renews_course_id_courses'), 'courses', ['renews_course_id'], ['id'])



def downgrade():
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_courses_renews_course_id_courses'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_courses_renews_course_id'))
        batch_op.drop_column('renews_course_id')

