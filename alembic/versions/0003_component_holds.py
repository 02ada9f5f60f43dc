"""component levels from what holds them: manual settings, and who changed a level and why

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 18:00:00
"""

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
    with op.batch_alter_table('component_status_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous', sa.Enum(*LEVELS, name='componentstatus', native_enum=False, length=32), nullable=True))
        batch_op.add_column(sa.Column('actor', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('cause', sa.String(length=300), nullable=True))
    # Until now a component's level was "last write wins"; a level set by hand outside any
    # incident is the only hold that was not recorded anywhere else, so keep today's levels
    # that no open incident explains as manual settings (the next recompute then agrees).
    op.execute(
        "UPDATE components SET manual_status = status WHERE status NOT IN "
        "('operational', 'under_maintenance') AND id NOT IN ("
        "SELECT ic.component_id FROM incident_components ic "
        "JOIN incidents i ON i.id = ic.incident_id WHERE i.status <> 'resolved')"
    )


def downgrade() -> None:
    with op.batch_alter_table('component_status_changes', schema=None) as batch_op:
        batch_op.drop_column('cause')
        batch_op.drop_column('actor')
        batch_op.drop_column('previous')
    with op.batch_alter_table('components', schema=None) as batch_op:
        batch_op.drop_column('manual_status')
