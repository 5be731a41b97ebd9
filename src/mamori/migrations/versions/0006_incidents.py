"""incidents: one alert belongs to at most one incident (unique incident_alerts.alert_id)

An alert escalated twice (the console offered "Open incident" on an escalated alert) has two links; the
earliest one is kept (the first incident did the work), later duplicates are removed before the constraint.

Revision ID: 0004_incidents
Revises: 0003
Create Date: 2026-12-08 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_incidents"
down_revision = "0004_baseline_approvals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        sa.text(
            "DELETE FROM incident_alerts WHERE EXISTS (SELECT 1 FROM incident_alerts AS earlier"
            " WHERE earlier.alert_id = incident_alerts.alert_id AND earlier.incident_id < incident_alerts.incident_id)"
        )
    )
    with op.batch_alter_table("incident_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_alerts_alert_id"))
        batch_op.create_unique_constraint(batch_op.f("uq_incident_alerts_alert_id"), ["alert_id"])


def downgrade() -> None:
    with op.batch_alter_table("incident_alerts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_incident_alerts_alert_id"), type_="unique")
        batch_op.create_index(batch_op.f("ix_incident_alerts_alert_id"), ["alert_id"], unique=False)
