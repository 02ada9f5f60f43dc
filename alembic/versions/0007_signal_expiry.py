"""signal expiry: an alert's endsAt, when it was last heard, when the tick first saw it

Alert keys gain their source and component ("alert:<source>:<component or ->:<fp>"), so that
fingerprints shared across monitors or components never collide; existing rows are rekeyed
from their own columns, so a resolve after the upgrade still finds them.

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
    op.execute(
        "UPDATE signals SET key = substr('alert:' || source || ':' || "
        "coalesce(component_key, '-') || ':' || substr(key, 7), 1, 200) "
        "WHERE key LIKE 'alert:%' AND source != 'check'"
    )


def downgrade() -> None:
    # Keys stay in the new form (the old one cannot hold two sources' fingerprints).
    with op.batch_alter_table('signals') as batch:
        batch.drop_column('seen_at')
        batch.drop_column('heard_at')
        batch.drop_column('ends_at')
