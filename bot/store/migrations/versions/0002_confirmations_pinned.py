"""confirmations.pinned: the image IDs a prune preview showed (commit 0eaf9f0).

Revision ID: 0002_confirmations_pinned
Revises: 0001_baseline
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_confirmations_pinned"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows already there pinned nothing: "" reads back as None (no pin), as before.
    with op.batch_alter_table("confirmations") as batch:
        batch.add_column(sa.Column("pinned", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("confirmations") as batch:
        batch.drop_column("pinned")
