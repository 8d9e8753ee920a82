"""Changes pushed, not polled (#23): every bump of the change counter notifies the stations

PostgreSQL only: an AFTER UPDATE trigger on ``change_counter`` calls
``pg_notify('kiosk_changes', <the new value>)``. PostgreSQL delivers a notification when the
transaction commits (never for one rolled back), so a station LISTENing on the channel
(``kiosk.changes.ChangeWatcher``) learns of every committed write without asking, and an
idle station costs the server nothing. A trigger rather than a second statement: the bump
stays one statement, the last before COMMIT (``kiosk.changes``), and every bump notifies,
``kiosk event copy``'s included. SQLite has no notifications: its stations keep reading
the counter.

Revision ID: d4ded2732bf3
Revises: 3715987bc59e
Create Date: 2026-12-07 01:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "d4ded2732bf3"
down_revision: str | None = "3715987bc59e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The channel is kiosk.changes.CHANNEL; written out here, as migrations never change later.
FUNCTION = """
CREATE OR REPLACE FUNCTION kiosk_change_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('kiosk_changes', NEW.value::text);
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    op.execute(
        "CREATE TRIGGER change_notify AFTER UPDATE ON change_counter FOR EACH ROW "
        "WHEN (NEW.value IS DISTINCT FROM OLD.value) EXECUTE FUNCTION kiosk_change_notify()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS change_notify ON change_counter")
    op.execute("DROP FUNCTION IF EXISTS kiosk_change_notify()")
