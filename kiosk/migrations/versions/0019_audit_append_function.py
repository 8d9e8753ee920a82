"""The audit chain's append in one round trip on PostgreSQL (issue #23)

``kiosk_audit_append(records jsonb)`` takes the chain's advisory lock, reads the newest
record's hash, and chains and inserts the records given (oldest first), returning each
one's previous hash and hash: what ``kiosk.audit.write_pending`` did in three statements (lock, read the head,
insert), each a round trip on the venue LAN, now one.

Why a function and not one statement: a single statement's snapshot is taken when it starts,
before it waits for the lock, so it would read the head as it was before the appender it
waited for committed, and two records would chain to one predecessor. Inside a VOLATILE
PL/pgSQL function every statement takes a fresh snapshot, so the head is read after the lock
is held, as before. The lock is the same advisory key (``kiosk.audit._PG_AUDIT_LOCK``).

The hash is SHA-256 over ``prev_hash || "\n" || body`` in UTF-8, ``body`` being the canonical
JSON ``kiosk.audit`` builds (Python keeps the one definition of what a record covers; the
function only chains). ``kiosk.audit`` checks the returned hashes against its own.

SQLite needs none of this (no network; ``BEGIN IMMEDIATE`` already serialises appenders).
A later migration that adds a column to ``audit_record`` must replace this function too.

Revision ID: 5a0c3e8d1f27
Revises: d4ded2732bf3
Create Date: 2026-12-07 01:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5a0c3e8d1f27"
down_revision: str | None = "d4ded2732bf3"
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
            before_digest, after_digest, prev_hash, hash
        ) VALUES (
            (item->>'at')::timestamptz, (item->>'staff_id')::integer, item->>'station',
            item->>'action', item->>'entity', item->>'entity_id', item->>'details',
            (item->>'approved_by')::integer, item->>'before_digest', item->>'after_digest',
            prev, head
        );
        chained_prev := prev;
        chained_hash := head;
        RETURN NEXT;
    END LOOP;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS kiosk_audit_append(jsonb)")
