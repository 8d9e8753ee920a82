"""The customers each write touched, for the dashboard's incremental figures (#23)

``figure_change`` is an append-only log: a trigger on every table the event's figures read
adds one row naming the customer whose figures the written row belongs to. The dashboard keeps
every figure per customer in memory and, each refresh, recomputes only the customers logged
since its last refresh, so a refresh costs what changed, not the size of the event
(``kiosk.services.live_figures``).

Triggers, not services: they catch every writer (stations, imports, pulls, booth bundles,
COPY) without a service having to remember, and add no round trip: the row is written inside
the statement that changed the table. Append-only rows, not a counter: no row is updated, so
two desks never wait for each other on it (the change counter is the one hot row, and it is
taken last). On PostgreSQL each row carries its transaction id, so a reader can take exactly
the rows of transactions that have finished (see the module above); on SQLite, where writers
commit one at a time, the row id alone orders them.

Revision ID: 5c1f0b7d9e42
Revises: 5a0c3e8d1f27
Create Date: 2026-12-07 01:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Migrations use plain SQLAlchemy types only, never model code, so they never change later.


revision: str = "5c1f0b7d9e42"
down_revision: str | None = "5a0c3e8d1f27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The customer a row of each table belongs to, as an SQL expression over the row ("R").
CUSTOMER_OF = {
    "customer": "R.id",
    "invitation": "R.customer_id",
    "visit": "R.customer_id",
    "slip": "R.customer_id",
    "points_lot": "R.customer_id",
    "journal_entry": "R.customer_id",
    "visit_step": "(SELECT customer_id FROM visit WHERE id = R.visit_id)",
    "queue_entry": "(SELECT customer_id FROM visit WHERE id = R.visit_id)",
    "redemption": (
        "(SELECT customer_id FROM slip WHERE event_id = R.event_id AND serial = R.slip_serial)"
    ),
    "journal_lot": "(SELECT customer_id FROM journal_entry WHERE id = R.journal_entry_id)",
}


def _sqlite(table: str, expression: str) -> list[str]:
    statements = []
    for operation, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
        inserts = " ".join(
            f"INSERT INTO figure_change (customer_id) SELECT c FROM "
            f"(SELECT {expression.replace('R.', row + '.')} AS c) WHERE c IS NOT NULL;"
            for row in rows
        )
        statements.append(
            f"CREATE TRIGGER figure_change_{table}_{operation.lower()} AFTER {operation} "
            f"ON {table} FOR EACH ROW BEGIN {inserts} END"
        )
    return statements


def _postgresql(table: str, expression: str) -> list[str]:
    insert = (
        "INSERT INTO figure_change (customer_id, xid) SELECT c, "
        "pg_current_xact_id()::text::bigint FROM (SELECT {e} AS c) AS x WHERE c IS NOT NULL;"
    )
    old, new = (insert.format(e=expression.replace("R.", f"{row}.")) for row in ("OLD", "NEW"))
    return [
        f"CREATE OR REPLACE FUNCTION kiosk_figure_change_{table}() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {old} END IF; "
        f"IF TG_OP <> 'DELETE' THEN {new} END IF; "
        "RETURN NULL; END $$",
        f"CREATE TRIGGER figure_change AFTER INSERT OR UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION kiosk_figure_change_{table}()",
    ]


def upgrade() -> None:
    op.create_table(
        "figure_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_figure_change")),
    )
    # Partial: SQLite leaves xid empty, so its inserts pay for no index at all.
    op.create_index(
        "ix_figure_change_xid",
        "figure_change",
        ["xid"],
        sqlite_where=sa.text("xid IS NOT NULL"),
        postgresql_where=sa.text("xid IS NOT NULL"),
    )
    # A customer's tickets and slips, read when that customer's figures are recomputed.
    op.create_index("ix_queue_entry_visit", "queue_entry", ["visit_id"])
    op.create_index("ix_slip_customer", "slip", ["customer_id"])
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, expression in CUSTOMER_OF.items():
        for statement in (_postgresql if postgresql else _sqlite)(table, expression):
            op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in CUSTOMER_OF:
        if postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS figure_change ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS kiosk_figure_change_{table}()")
        else:
            for operation in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS figure_change_{table}_{operation}")
    op.drop_index("ix_slip_customer", table_name="slip")
    op.drop_index("ix_queue_entry_visit", table_name="queue_entry")
    op.drop_table("figure_change")
