"""topics: indexes for the lists, so none reads every topic to find a page

A partial index on pinned topics, which /latest and category lists read first, and one on
created_at, by which /new orders and filters.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 14:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

PINNED = sa.text('pinned_at IS NOT NULL')


def upgrade():
    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.create_index('ix_topics_pinned', ['pinned_at'], unique=False,
                              sqlite_where=PINNED, postgresql_where=PINNED)
        batch_op.create_index(batch_op.f('ix_topics_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topics_created_at'))
        batch_op.drop_index('ix_topics_pinned', sqlite_where=PINNED, postgresql_where=PINNED)
