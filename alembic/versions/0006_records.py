"""records: corrections, maintenance references, exports

Corrections live in the timeline (a `correction` event; the corrected update's event keeps
its original text) and maintenance references are the window's number, so the only new
column is when a maintenance window was cancelled.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('maintenances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('maintenances', schema=None) as batch_op:
        batch_op.drop_column('cancelled_at')
