"""amendments: one open item per member per identical change to the same proposal

The same change (say, deleting paragraph 2) proposed by one member on two proposals was
refused as a duplicate: the unique index left the proposal out.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 14:45:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")


def upgrade():
    with op.batch_alter_table('amendments', schema=None) as batch_op:
        batch_op.drop_index('uq_amendments_open_change', sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.create_index('uq_amendments_open_change', ['user_id', 'proposal_id', 'change_key'],
                              unique=True, sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade():
    with op.batch_alter_table('amendments', schema=None) as batch_op:
        batch_op.drop_index('uq_amendments_open_change', sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.create_index('uq_amendments_open_change', ['user_id', 'change_key'],
                              unique=True, sqlite_where=OPEN, postgresql_where=OPEN)
