"""The audit chain's append and the change counter's bump in one round trip on PostgreSQL (#23)

Every transaction that writes ends the same way on PostgreSQL: ``kiosk_audit_append`` chains
its audit records, then ``UPDATE change_counter … RETURNING value`` tells the other stations
(``kiosk.changes``), then COMMIT. Two statements, two round trips on the venue LAN, one after
the other on every check-in, call, slip and redemption of the day.

``kiosk_audit_append_bump(records jsonb)`` does both, in that order: the records are chained
and inserted under the chain's advisory lock (by ``kiosk_audit_append`` itself, so there is
one definition of the chaining), then the counter row is bumped, so the counter stays the
last lock a transaction takes and cannot be part of a deadlock. Each row returned is a
record's previous hash and hash, as ``kiosk_audit_append``'s, with the counter's new value.
The trigger of migration 0018 notifies the stations from the bump as before, delivered only
if the transaction commits.

It runs as the caller (no SECURITY DEFINER): the station role already inserts audit records
and bumps the counter. SQLite needs none of this (no network).

Revision ID: 9b4d2f6a1c83
Revises: 7e3a9c1d2b64
Create Date: 2026-12-07 18:50:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9b4d2f6a1c83"
down_revision: str | None = "7e3a9c1d2b64"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION kiosk_audit_append_bump(
    records jsonb, OUT chained_prev text, OUT chained_hash text, OUT reached bigint
) RETURNS SETOF record
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    prevs text[];
    hashes text[];
    bumped bigint;
BEGIN
    SELECT array_agg(a.chained_prev ORDER BY a.n), array_agg(a.chained_hash ORDER BY a.n)
    INTO prevs, hashes
    FROM kiosk_audit_append(records) WITH ORDINALITY AS a(chained_prev, chained_hash, n);
    UPDATE change_counter SET value = value + 1 WHERE id = 1 RETURNING value INTO bumped;
    FOR i IN 1 .. COALESCE(array_length(prevs, 1), 0) LOOP
        chained_prev := prevs[i];
        chained_hash := hashes[i];
        reached := bumped;
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
        op.execute("DROP FUNCTION IF EXISTS kiosk_audit_append_bump(jsonb)")
