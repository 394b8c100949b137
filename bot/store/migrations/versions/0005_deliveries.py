"""deliveries: user actions already run, so a re-delivery runs nothing (commit 344b8b5).

Revision ID: 0005_deliveries
Revises: 0004_buttons
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_deliveries"
down_revision = "0004_buttons"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_deliveries_expires_at", "deliveries", ["expires_at"])


def downgrade() -> None:
    op.drop_table("deliveries")
