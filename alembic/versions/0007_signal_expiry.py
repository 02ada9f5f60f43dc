"""signal expiry: an alert's endsAt, when it was last heard, when the tick first saw it

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('signals') as batch:
        batch.add_column(sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('heard_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('seen_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('signals') as batch:
        batch.drop_column('seen_at')
        batch.drop_column('heard_at')
        batch.drop_column('ends_at')
