"""canned responses: reply templates for the agent console

Revision ID: 3c1a9e5d7b42
Revises: 7305e9a46c15
Create Date: 2026-12-01 20:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c1a9e5d7b42"
down_revision: str | None = "7305e9a46c15"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shortcut", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_responses")),
        sa.UniqueConstraint("shortcut", name=op.f("uq_canned_responses_shortcut")),
    )
    op.create_index(op.f("ix_canned_responses_category"), "canned_responses", ["category"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_canned_responses_category"), table_name="canned_responses")
    op.drop_table("canned_responses")
