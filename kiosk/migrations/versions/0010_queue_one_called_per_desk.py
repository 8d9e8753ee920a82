"""One customer called per desk and one open ticket per visit (#16, the queue invariant)

Revision ID: 6e934b57736c
Revises: f1ae2c4db6f6
Create Date: 2026-12-06 03:37:42.337200

Before the indexes can hold, a database from an older kiosk is repaired, so an event in
progress still opens: a desk that called a second customer before finishing the first lost
the first from every screen; all but its latest call go back to waiting with their original
arrival time (so they are next in line). A visit with two open tickets (no service wrote one;
repaired for safety) keeps its newest, the older ones are closed as done.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Migrations use plain SQLAlchemy types only, never model code, so they never change later.


revision: str = "6e934b57736c"
down_revision: str | None = "f1ae2c4db6f6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

queue_entry = sa.table(
    "queue_entry",
    sa.column("id", sa.Integer),
    sa.column("event_id", sa.Integer),
    sa.column("visit_id", sa.Integer),
    sa.column("queue", sa.String),
    sa.column("status", sa.String),
    sa.column("desk", sa.String),
    sa.column("enqueued_at", sa.DateTime),
    sa.column("called_at", sa.DateTime),
    sa.column("called_by", sa.Integer),
    sa.column("finished_at", sa.DateTime),
)


def _repair(connection: sa.Connection) -> None:
    q = queue_entry.c
    open_rows = connection.execute(
        sa.select(q.id, q.visit_id, q.enqueued_at, q.called_at)
        .where(q.status.in_(("waiting", "called")))
        .order_by(q.visit_id, q.id.desc())
    ).all()
    seen: set[int] = set()
    for entry_id, visit_id, enqueued_at, called_at in open_rows:
        if visit_id in seen:  # an older open ticket of a visit: closed
            connection.execute(
                sa.update(queue_entry)
                .where(q.id == entry_id)
                .values(status="done", finished_at=called_at or enqueued_at)
            )
        seen.add(visit_id)
    called = connection.execute(
        sa.select(q.id, q.event_id, q.queue, q.desk)
        .where(q.status == "called")
        .order_by(q.event_id, q.queue, q.desk, q.called_at.desc(), q.id.desc())
    ).all()
    desks: set[tuple[int, str, str]] = set()
    for entry_id, event_id, queue, desk in called:
        if (event_id, queue, desk) in desks:  # lost behind a later call at the same desk
            connection.execute(
                sa.update(queue_entry)
                .where(q.id == entry_id)
                .values(status="waiting", desk=None, called_at=None, called_by=None)
            )
        desks.add((event_id, queue, desk))


def upgrade() -> None:
    _repair(op.get_bind())
    with op.batch_alter_table("queue_entry", schema=None) as batch_op:
        batch_op.create_index(
            "uq_queue_entry_called_at_desk",
            ["event_id", "queue", "desk"],
            unique=True,
            sqlite_where=sa.text("status = 'called'"),
            postgresql_where=sa.text("status = 'called'"),
        )
        batch_op.create_index(
            "uq_queue_entry_open_per_visit",
            ["visit_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('waiting', 'called')"),
            postgresql_where=sa.text("status IN ('waiting', 'called')"),
        )


def downgrade() -> None:
    with op.batch_alter_table("queue_entry", schema=None) as batch_op:
        batch_op.drop_index("uq_queue_entry_open_per_visit")
        batch_op.drop_index("uq_queue_entry_called_at_desk")
