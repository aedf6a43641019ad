"""faq embeddings: one stored search vector per article version

Revision ID: 7305e9a46c15
Revises: e07f2686eb3c
Create Date: 2026-11-23 11:13:33.549265
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7305e9a46c15"
down_revision: str | None = "e07f2686eb3c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "faq_embeddings",
        sa.Column("article_id", sa.String(length=80), nullable=False),
        sa.Column("article_version", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("dimension", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["faq_articles.id"],
            name=op.f("fk_faq_embeddings_article_id_faq_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_faq_embeddings")),
    )


def downgrade() -> None:
    op.drop_table("faq_embeddings")
