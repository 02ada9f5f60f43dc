"""component levels from what holds them: manual settings, and who changed a level and why

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 18:00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVELS = ('operational', 'degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance')


def upgrade() -> None:
    with op.batch_alter_table('components', schema=None) as batch_op:
        batch_op.add_column(sa.Column('manual_status', sa.Enum(*LEVELS, name='componentstatus', native_enum=False, length=32), nullable=True))
    # A promise is one per publishing instant, not per due time: an on-time update that
    # promises the same time again makes a second promise, and both are counted.
    with op.batch_alter_table('promises', schema=None) as batch_op:
        batch_op.drop_constraint('uq_promises_incident_id', type_='unique')
        batch_op.create_unique_constraint('uq_promises_incident_id', ['incident_id', 'made_at'])
    with op.batch_alter_table('component_status_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous', sa.Enum(*LEVELS, name='componentstatus', native_enum=False, length=32), nullable=True))
        batch_op.add_column(sa.Column('actor', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('cause', sa.String(length=300), nullable=True))
    # Until now a component's level was "last write wins"; a level set by hand outside any
    # incident is the only hold that was not recorded anywhere else, so keep today's levels
    # that no open incident and no maintenance in progress explains as manual settings (the
    # recompute at the next start then agrees with the page).
    bind = op.get_bind()
    held_by_incidents = {
        row[0]
        for row in bind.execute(sa.text(
            "SELECT ic.component_id FROM incident_components ic "
            "JOIN incidents i ON i.id = ic.incident_id WHERE i.status <> 'resolved'"
        ))
    }
    in_maintenance: set[str] = set()
    for (keys,) in bind.execute(
        sa.text("SELECT component_keys FROM maintenances WHERE status = 'in_progress'")
    ):
        in_maintenance.update(json.loads(keys) if isinstance(keys, str) else keys or [])
    for component_id, key, status in bind.execute(
        sa.text("SELECT id, key, status FROM components WHERE status <> 'operational'")
    ):
        if component_id in held_by_incidents:
            continue
        if status == 'under_maintenance' and key in in_maintenance:
            continue
        bind.execute(
            sa.text("UPDATE components SET manual_status = :status WHERE id = :id"),
            {"status": status, "id": component_id},
        )


def downgrade() -> None:
    with op.batch_alter_table('promises', schema=None) as batch_op:
        batch_op.drop_constraint('uq_promises_incident_id', type_='unique')
        batch_op.create_unique_constraint('uq_promises_incident_id', ['incident_id', 'due_at'])
    with op.batch_alter_table('component_status_changes', schema=None) as batch_op:
        batch_op.drop_column('cause')
        batch_op.drop_column('actor')
        batch_op.drop_column('previous')
    with op.batch_alter_table('components', schema=None) as batch_op:
        batch_op.drop_column('manual_status')
