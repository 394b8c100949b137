"""update_policy: update notices told (edited to "applied" once the containers run the new
digest) and each update job's reminder clock (issue 15, item 6).

Revision ID: 0007_update_policy
Revises: 0006_incidents
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_update_policy"
down_revision = "0006_incidents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "update_notices",
        sa.Column("job", sa.String(64), primary_key=True),
        sa.Column("image", sa.String(512), primary_key=True),
        sa.Column("digest", sa.String(128), primary_key=True),
        sa.Column("notice_key", sa.String(512), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("told_at", sa.Float, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("applied_at", sa.Float, nullable=False),
        sa.Column("applied_by", sa.String(64), nullable=False),
        sa.Column("applied_how", sa.String(64), nullable=False),
    )
    op.create_index("ix_update_notices_state", "update_notices", ["state"])
    op.create_table(
        "update_reminders",
        sa.Column("job", sa.String(64), primary_key=True),
        sa.Column("last_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("update_reminders")
    op.drop_table("update_notices")
