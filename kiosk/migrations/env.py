"""Alembic environment: always run programmatically by ``kiosk.db.migrate``.

The caller passes an open connection (inside its transaction) in ``config.attributes`` so that
the migration and the version check share one transaction and, on PostgreSQL, one advisory lock.
"""

from alembic import context

from kiosk.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only for ad-hoc ``alembic`` CLI use
    raise SystemExit("run migrations through kiosk.db.migrate (kiosk init)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
