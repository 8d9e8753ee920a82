"""Alembic environment: always run programmatically by ``kiosk.db.migrate``.

The caller passes an open connection (inside its transaction) in ``config.attributes`` so that
the migration and the version check share one transaction and, on PostgreSQL, one advisory lock.
"""

from alembic import context

from kiosk.models import Base, UTCDateTime


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Autogenerate writes plain SQLAlchemy types, never model classes (migrations must not
    change when the models do)."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only for ad-hoc ``alembic`` CLI use
    raise SystemExit("run migrations through kiosk.db.migrate (kiosk init)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
