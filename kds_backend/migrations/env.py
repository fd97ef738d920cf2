"""Alembic environment: migrations run on the engine the companion hands over (never from a URL in an ini)."""

from __future__ import annotations

from alembic import context

from kds_backend.db.tables import metadata

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
