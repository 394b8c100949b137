"""replay_keys: signed Slack requests already served, kept across restarts (commit 1f125a5).

Revision ID: 0003_replay_keys
Revises: 0002_confirmations_pinned
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_replay_keys"
down_revision = "0002_confirmations_pinned"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replay_keys",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_replay_keys_expires_at", "replay_keys", ["expires_at"])


def downgrade() -> None:
    op.drop_table("replay_keys")
