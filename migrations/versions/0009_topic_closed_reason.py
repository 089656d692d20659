"""topics: the reason a moderator gave for closing one

Readers of a closed topic saw only that it was closed; the reason was in the moderation log.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 20:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_reason', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.drop_column('closed_reason')
