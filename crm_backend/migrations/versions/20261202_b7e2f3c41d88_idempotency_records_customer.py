"""idempotency records: the customer a stored response is about, for erasure

Revision ID: b7e2f3c41d88
Revises: a41c7d2e9b05
Create Date: 2026-12-02 20:50:00.000000

Records stored before this revision stay unattributed; they expire within the retention
period (CRM_IDEMPOTENCY_RETENTION_HOURS, a week by default).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e2f3c41d88"
down_revision: str | None = "a41c7d2e9b05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_idempotency_records_customer_id"), ["customer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_records_customer_id"))
        batch_op.drop_column("customer_id")
