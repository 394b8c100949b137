"""incidents: engine events become incidents (issue 14): incidents, per-host event cursors,
alert mutes, previous images (Roll back), and where outbox messages landed (threads, updates).

Revision ID: 0006_incidents
Revises: 0005_deliveries
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_incidents"
down_revision = "0005_deliveries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("host", sa.String(64), nullable=False),
        sa.Column("container_id", sa.String(64), nullable=False),
        sa.Column("container", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("opened_at", sa.Float, nullable=False),
        sa.Column("last_event_at", sa.Float, nullable=False),
        sa.Column("closed_at", sa.Float, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("restarts", sa.Integer, nullable=False),
        sa.Column("running_since", sa.Float, nullable=False),
        sa.Column("closed_by", sa.String(64), nullable=False),
        sa.Column("facts", sa.Text, nullable=False),
    )
    op.create_index("ix_incidents_rule", "incidents", ["rule"])
    op.create_index("ix_incidents_state", "incidents", ["state"])
    op.create_index("ix_incidents_container_id", "incidents", ["container_id"])
    op.create_table(
        "event_cursors",
        sa.Column("host", sa.String(64), primary_key=True),
        sa.Column("since_ns", sa.BigInteger, nullable=False),
        sa.Column("seen", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "alert_mutes",
        sa.Column("rule", sa.String(64), primary_key=True),
        sa.Column("container", sa.String(255), primary_key=True),
        sa.Column("until", sa.Float, nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
    )
    op.create_table(
        "previous_images",
        sa.Column("host", sa.String(64), primary_key=True),
        sa.Column("container", sa.String(255), primary_key=True),
        sa.Column("image_id", sa.String(128), nullable=False),
        sa.Column("image", sa.String(512), nullable=False),
        sa.Column("recorded_at", sa.Float, nullable=False),
    )
    op.create_table(
        "outbox_posted",
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("posted_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in ("outbox_posted", "previous_images", "alert_mutes", "event_cursors",
                  "incidents"):
        op.drop_table(table)
