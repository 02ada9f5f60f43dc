"""INSERT … ON CONFLICT DO NOTHING, the same on SQLite and PostgreSQL.

Every claim in Flare is a unique key: an outbox row, a processed Slack request, a
subscriber address, a named state row. Whoever inserts first wins; everyone else learns
that nothing was inserted, without an error and without a race.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session


def insert_ignore(
    session: Session,
    model: type[Any],
    rows: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    conflict: Sequence[str],
    returning: Sequence[InstrumentedAttribute[Any] | ColumnElement[Any]] = (),
) -> list[Row[Any]]:
    """Insert `rows` unless a row with the same `conflict` columns exists.

    Returns the `returning` columns of the rows actually inserted (RETURNING, not rowcount:
    psycopg reports -1 for ON CONFLICT inserts), or [] when nothing is asked back.
    """
    values = [dict(rows)] if isinstance(rows, Mapping) else [dict(r) for r in rows]
    if not values:
        return []
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(model).values(values).on_conflict_do_nothing(index_elements=list(conflict))
    if not returning:
        session.execute(stmt)
        return []
    return list(session.execute(stmt.returning(*returning)).all())
