"""progress: how far a one-off job got (the demo's replayed day), so that a restart continues

Note: other branches may add revisions after 0003; on merge this one is re-chained to the head.

Revision ID: 0004_keys_progress
Revises: 0003
Create Date: 2026-12-08 01:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mamori.storage.db

revision = "0004_keys_progress"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "progress",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", mamori.storage.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_progress")),
    )


def downgrade() -> None:
    op.drop_table("progress")
