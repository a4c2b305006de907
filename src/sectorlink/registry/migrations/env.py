"""Alembic environment. `sectorlink.registry.db.migrate` hands over an open connection;
`render_as_batch` lets later migrations alter tables on SQLite too."""

from __future__ import annotations

from alembic import context

from sectorlink.registry.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs the alembic CLI by hand
    raise RuntimeError("run migrations with `sectorlink registry migrate`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
