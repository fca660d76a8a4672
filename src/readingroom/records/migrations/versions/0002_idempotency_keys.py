"""Idempotency keys on attendance events and poll answers: the journal replays a record until it lands, and
the unique key makes a replay after a crash (committed, but not yet crossed off the journal) land once.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("attendance_event", "poll_answer")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("idempotency_key", sa.String(length=100), nullable=True))
            batch_op.create_index(f"uq_{table}_idempotency_key", ["idempotency_key"], unique=True)


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_index(f"uq_{table}_idempotency_key")
            batch_op.drop_column("idempotency_key")
