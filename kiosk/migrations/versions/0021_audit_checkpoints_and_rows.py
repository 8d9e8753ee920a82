"""Signed checkpoints of the audit chain, and the money rows each audit record names (#26)

``audit_checkpoint`` keeps the chain's head (record count, head hash) at a moment, signed with
the event's signing key (``kiosk.checkpoint``): the chain alone cannot show every later record
rehashed after an edit, nor the newest records removed; a checkpoint can. It is insert-only on
PostgreSQL like the other evidence tables: ``kiosk.dbroles`` gives any table whose name holds
"checkpoint" the insert-only trigger and grants.

``audit_record.rows`` names, by table and id, the points-journal, slip, redemption and outbox
rows a transaction wrote (``kiosk.audit.ROWS``), so a money row no record names (one written
with plain SQL) or a named one that is gone is found. "" for records written before: the
chain leaves an empty field out of the hash, so they still verify.

PostgreSQL: ``kiosk_audit_append`` (migration 0019) inserts the records' columns one by one,
so it is replaced by one that inserts ``rows`` too.

Revision ID: 7e3a9c1d2b64
Revises: 5c1f0b7d9e42
Create Date: 2026-12-07 04:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Migrations use plain SQLAlchemy types only, never model code, so they never change later.


revision: str = "7e3a9c1d2b64"
down_revision: str | None = "5c1f0b7d9e42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION kiosk_audit_append(
    records jsonb, OUT chained_prev text, OUT chained_hash text
) RETURNS SETOF record
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head text;
    prev text;
    item jsonb;
BEGIN
    PERFORM pg_advisory_xact_lock(1635083369);  -- 0x61756469, "audi"
    SELECT hash INTO head FROM audit_record ORDER BY id DESC LIMIT 1;
    head := COALESCE(head, repeat('0', 64));
    FOR item IN
        SELECT e.value FROM jsonb_array_elements(records) WITH ORDINALITY AS e(value, n)
        ORDER BY e.n
    LOOP
        prev := head;
        head := encode(sha256(convert_to(prev || E'\n' || (item->>'body'), 'UTF8')), 'hex');
        INSERT INTO audit_record (
            at, staff_id, station, action, entity, entity_id, details, approved_by,
            before_digest, after_digest, rows, prev_hash, hash
        ) VALUES (
            (item->>'at')::timestamptz, (item->>'staff_id')::integer, item->>'station',
            item->>'action', item->>'entity', item->>'entity_id', item->>'details',
            (item->>'approved_by')::integer, item->>'before_digest', item->>'after_digest',
            COALESCE(item->>'rows', ''), prev, head
        );
        chained_prev := prev;
        chained_hash := head;
        RETURN NEXT;
    END LOOP;
END
$$
"""

# Migration 0019's function, for the downgrade.
FORMER = FUNCTION.replace(" rows, prev_hash", " prev_hash").replace(
    "\n            COALESCE(item->>'rows', ''), prev, head", "\n            prev, head"
)


def upgrade() -> None:
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rows", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record_count", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_audit_checkpoint_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_audit_checkpoint_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoint")),
        sa.UniqueConstraint("signature", name=op.f("uq_audit_checkpoint_signature")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FORMER)
    op.drop_table("audit_checkpoint")
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.drop_column("rows")
