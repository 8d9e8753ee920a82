"""Database roles on the venue LAN (#29): the station role's name, and insert-only evidence

``database_access`` holds the one role name the staff stations connect as, so an upgrade can
grant it its privileges again on every table (``kiosk.dbroles.apply_grants``).

PostgreSQL only: a trigger on the money and evidence tables (audit records, the points journal
and its lots, redemptions, the outbox) refuses UPDATE, DELETE and TRUNCATE by any role that is
not a member of the table's owner (superusers are members of every role). An UPDATE that
changes nothing but the columns named in the trigger's arguments (if any) passes: the delivery state a
station records (the outbox's status, pushed_at and error after a push; a journal entry's
settled_at after a snapshot pull). SQLite has no roles: nothing to refuse there.

Revision ID: 3715987bc59e
Revises: 3bb4e66fa4c9
Create Date: 2026-12-06 22:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Migrations use plain SQLAlchemy types only, never model code, so they never change later.


revision: str = "3715987bc59e"
down_revision: str | None = "3bb4e66fa4c9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The table, and the columns a non-owner may still change in it.
INSERT_ONLY = {
    "audit_record": (),
    "journal_entry": ("settled_at",),
    "journal_lot": (),
    "redemption": (),
    "outbox_entry": ("status", "pushed_at", "error"),
}

FUNCTION = """
CREATE OR REPLACE FUNCTION kiosk_insert_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER')
    THEN
        IF TG_LEVEL = 'ROW' AND TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND TG_NARGS > 0
        AND (to_jsonb(NEW) - COALESCE(TG_ARGV, '{}'::text[]))
            = (to_jsonb(OLD) - COALESCE(TG_ARGV, '{}'::text[]))
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'kiosk: % on % is refused for role %: the table is insert-only',
        TG_OP, TG_TABLE_NAME, current_user
        USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME;
END
$$
"""


def _arguments(columns: tuple[str, ...]) -> str:
    return ", ".join(f"'{column}'" for column in columns)


def upgrade() -> None:
    op.create_table(
        "database_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_role", sa.String(length=63), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_database_access_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_database_access")),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    for table, columns in INSERT_ONLY.items():
        # UPDATE row by row (it may pass when only delivery state changes); DELETE and
        # TRUNCATE per statement, so even one that matches no row is refused.
        op.execute(
            f"CREATE TRIGGER insert_only BEFORE UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION kiosk_insert_only({_arguments(columns)})"
        )
        op.execute(
            f"CREATE TRIGGER insert_only_delete BEFORE DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION kiosk_insert_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in INSERT_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS insert_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS insert_only_delete ON {table}")
        op.execute("DROP FUNCTION IF EXISTS kiosk_insert_only()")
    op.drop_table("database_access")
