"""Bulk writes for imports and generators: many rows per statement, stored as the ORM stores them.

SQLAlchemy's Core ``executemany`` processes every parameter through its type objects, which
costs more than the database work for narrow rows. On SQLite these helpers convert values
once per column and hand plain tuples to the driver's ``executemany`` — in the same storage
format SQLAlchemy itself uses, so the ORM reads the rows back unchanged. Other engines go
through SQLAlchemy Core.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Numeric,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy import Enum as EnumType
from sqlalchemy.orm import Session

Converter = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def _datetime_converter() -> Converter:
    last: list[Any] = [None, None]

    def convert(value: Any) -> Any:
        if isinstance(value, datetime):
            # A batch stamps thousands of rows with one moment: format it once per call.
            if value is not last[0]:
                # SQLAlchemy's SQLite DATETIME storage format.
                last[0], last[1] = value, value.strftime("%Y-%m-%d %H:%M:%S.%f")
            return last[1]
        return value

    return convert


def _date(value: Any) -> Any:
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return value


def _enum(value: Any) -> Any:
    return value._value_ if isinstance(value, Enum) else value


def _boolean(value: Any) -> Any:
    return None if value is None else int(bool(value))


def _json(value: Any) -> Any:
    return None if value is None else json.dumps(value)


def _numeric(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _converter(column_type: Any) -> Converter:
    if isinstance(column_type, DateTime):
        return _datetime_converter()
    if isinstance(column_type, Date):
        return _date
    if isinstance(column_type, EnumType):
        return _enum
    if isinstance(column_type, Boolean):
        return _boolean
    if isinstance(column_type, JSON):
        return _json
    if isinstance(column_type, Numeric):
        return _numeric
    return _identity


def _plain_rows(
    table: Table, rows: Sequence[dict[str, Any]], keys: list[str], names: list[str] | None = None
) -> list[tuple[Any, ...]]:
    """Rows as tuples in ``keys`` order; only columns whose type needs it are converted."""
    names = names or keys
    convert = [
        (i, c)
        for i, c in enumerate(_converter(table.c[name].type) for name in names)
        if c is not _identity
    ]
    pick = itemgetter(*keys)
    if len(keys) == 1:
        return [(pick(row),) for row in rows]
    if not convert:
        return [pick(row) for row in rows]
    out: list[tuple[Any, ...]] = []
    for row in rows:
        values = list(pick(row))
        for i, c in convert:
            values[i] = c(values[i])
        out.append(tuple(values))
    return out


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def next_new_id(session: Session, table: Table) -> int:
    """The ID SQLite gives the next row of ``table`` inserted without one.

    For callers that number many new rows themselves: above every ID the table ever
    used (its AUTOINCREMENT counter), not only above the rows still there, so the ID of a
    deleted record never comes back.
    """
    highest = int(session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0)
    if (
        session.get_bind().dialect.name == "sqlite"
        and table.dialect_options["sqlite"]["autoincrement"]
    ):
        # The counters' table exists once any table with AUTOINCREMENT does; a file that
        # predates them (being upgraded) has none yet.
        counters = session.scalar(
            text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'")
        )
        if counters:
            counter = session.scalar(
                text("SELECT seq FROM sqlite_sequence WHERE name = :name"), {"name": table.name}
            )
            highest = max(highest, int(counter or 0))
    return highest + 1


def bulk_insert(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows that all have the same keys."""
    if not rows:
        return
    if not _is_sqlite(session):
        session.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    plain = _plain_rows(table, rows, columns)
    quoted = ", ".join(f'"{name}"' for name in columns)
    marks = ", ".join("?" for _ in columns)
    cursor = session.connection().connection.cursor()
    try:
        cursor.executemany(f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks})', plain)
    finally:
        cursor.close()


def bulk_update(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    where: dict[str, str],
) -> int:
    """Update rows matched by ``where`` (column → key of the row dict); returns rows changed.

    Every dict has the same keys; the keys not used by ``where`` name the columns to set.
    A row whose condition matches nothing (say, a version moved on) changes nothing.
    """
    if not rows:
        return 0
    condition_keys = set(where.values())
    columns = [name for name in rows[0] if name not in condition_keys]
    if not _is_sqlite(session):
        statement = update(table).where(
            *[table.c[column] == bindparam(key) for column, key in where.items()]
        )
        result = session.connection().execute(
            statement.values({c: bindparam(f"set_{c}") for c in columns}),
            [
                {**{f"set_{c}": row[c] for c in columns}, **{k: row[k] for k in condition_keys}}
                for row in rows
            ],
        )
        return int(result.rowcount)
    keys = [*columns, *where.values()]
    plain = _plain_rows(table, rows, keys, [*columns, *where])
    assignments = ", ".join(f'"{name}" = ?' for name in columns)
    condition = " AND ".join(f'"{name}" = ?' for name in where)
    cursor = session.connection().connection.cursor()
    try:
        cursor.executemany(f'UPDATE "{table.name}" SET {assignments} WHERE {condition}', plain)
        return int(cursor.rowcount)
    finally:
        cursor.close()
