"""Alembic environment: runs on the connection smbcrm hands over (never a URL from an ini)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from smbcrm.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode recreates the table.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("smbcrm migrations run through smbcrm.services.database, not alembic's CLI")
_run(connection)
