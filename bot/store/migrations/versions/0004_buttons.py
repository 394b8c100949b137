"""buttons: the command each button's opaque token runs (commit e29fed4).

Revision ID: 0004_buttons
Revises: 0003_replay_keys
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_buttons"
down_revision = "0003_replay_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "buttons",
        sa.Column("token", sa.String(32), primary_key=True),
        sa.Column("action_id", sa.String(64), nullable=False),
        sa.Column("command", sa.Text, nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("issued_by", sa.String(64), nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("expires", sa.Float, nullable=False),
        sa.Column("used_by", sa.String(64), nullable=False),
        sa.Column("used_at", sa.Float, nullable=False),
    )
    op.create_index("ix_buttons_expires", "buttons", ["expires"])


def downgrade() -> None:
    op.drop_table("buttons")
