"""A unit of work that only read ends with COMMIT on PostgreSQL and keeps the connection's
prepared statements (``kiosk.readonly``, issue #23); anything that may have written is still
rolled back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, text, update

from kiosk import readonly
from kiosk.db import Database, open_database
from kiosk.models import Event


@pytest.fixture
def pg_db(pg_demo_url: str) -> Iterator[Database]:
    database = open_database(pg_demo_url)
    yield database
    database.dispose()


def _prepared(db: Database) -> int:
    """How many statements the pooled connection has prepared on the server (asked with
    text SQL, so this block itself ends with a rollback, after the answer)."""
    with db.unit_of_work() as uow:
        return int(uow.session.scalar(text("SELECT count(*) FROM pg_prepared_statements")))


@pytest.mark.pg
def test_reads_keep_the_prepared_statements_across_read_only_units_of_work(
    pg_db: Database,
) -> None:
    # One connection, reused by every block: psycopg prepares a statement at its sixth run.
    for _ in range(8):
        with pg_db.unit_of_work() as uow:
            assert uow.session.scalars(select(Event.code)).all()
            assert readonly.ending(uow.session) is readonly.Ending.COMMIT
    # With a ROLLBACK after each read, psycopg would have deallocated it every time.
    assert _prepared(pg_db) >= 1


@pytest.mark.pg
def test_a_read_whose_connection_is_lost_at_its_end_keeps_what_it_read(
    pg_demo_url: str,
) -> None:
    """The LAN goes between a read-only block's last read and its COMMIT: what it read stands
    and the block ends quietly, as it did when such a block ended with a ROLLBACK; the next
    block, once the LAN is back, reads again."""
    from tests.tcp_proxy import LanCable

    with LanCable(pg_demo_url) as cable:
        database = open_database(cable.url)
        try:
            with database.unit_of_work() as uow:
                codes = uow.session.scalars(select(Event.code)).all()
                assert readonly.ending(uow.session) is readonly.Ending.COMMIT
                cable.cut()
            assert codes
            cable.plug()
            with database.unit_of_work() as uow:
                assert uow.session.scalars(select(Event.code)).all() == codes
        finally:
            database.dispose()


@pytest.mark.pg
def test_what_may_have_written_is_still_rolled_back(pg_db: Database) -> None:
    with pg_db.unit_of_work() as uow:
        name = uow.session.scalars(select(Event.name)).first()
    with pg_db.unit_of_work() as uow:  # a Core write that nothing in the session noted
        uow.session.connection().execute(update(Event).values(name="not saved"))
        assert readonly.ending(uow.session) is readonly.Ending.ROLLBACK
    with pg_db.unit_of_work() as uow:  # an ORM change never flushed
        event = uow.session.scalars(select(Event)).first()
        assert event is not None
        event.name = "not saved either"
        assert readonly.ending(uow.session) is readonly.Ending.ROLLBACK
    with pg_db.unit_of_work() as uow:
        assert uow.session.scalars(select(Event.name)).first() == name


@pytest.mark.pg
def test_only_plain_selects_count_as_reads(pg_db: Database) -> None:
    with pg_db.unit_of_work() as uow:
        uow.session.execute(select(Event.id)).all()
        assert readonly.ending(uow.session) is readonly.Ending.COMMIT
        uow.session.execute(select(Event.id).with_for_update()).all()  # a locking read
        assert readonly.ending(uow.session) is readonly.Ending.COMMIT_LOCKS
    with pg_db.unit_of_work() as uow:
        uow.session.execute(text("SELECT 1")).all()  # text: anything could be in it
        assert readonly.ending(uow.session) is readonly.Ending.ROLLBACK
    with pg_db.unit_of_work() as uow:
        uow.session.execute(select(Event.id)).all()
        readonly.mark_written(uow.session.connection())  # a COPY behind SQLAlchemy's back
        assert readonly.ending(uow.session) is readonly.Ending.ROLLBACK
    with pg_db.unit_of_work() as uow:  # marks end with their transaction
        uow.session.execute(select(Event.id)).all()
        assert readonly.ending(uow.session) is readonly.Ending.COMMIT


def test_sqlite_ends_every_block_as_before(sqlite_demo_db: Database) -> None:
    with sqlite_demo_db.unit_of_work() as uow:
        uow.session.execute(select(Event.id)).all()
        assert readonly.ending(uow.session) is readonly.Ending.ROLLBACK


@pytest.mark.pg
def test_rows_locked_and_left_alone_keep_the_prepared_statements(
    pg_db: Database, pg_demo_url: str
) -> None:
    """A block that locked rows and wrote nothing (a booth's redemption refused at the gateway:
    the slip was redeemed elsewhere) ends with COMMIT: the statements stay prepared, the locks
    are released, nothing changed, and the next transaction waits for the disk again."""
    import psycopg

    with pg_db.unit_of_work() as uow:
        name = uow.session.scalars(select(Event.name)).first()
    for _ in range(8):
        with pg_db.unit_of_work() as uow:
            event = uow.session.scalars(select(Event).with_for_update()).first()
            assert event is not None
            assert readonly.ending(uow.session) is readonly.Ending.COMMIT_LOCKS
    # With a ROLLBACK after each, psycopg would have deallocated the locking read every time.
    with pg_db.unit_of_work() as uow:
        prepared = uow.session.scalars(text("SELECT statement FROM pg_prepared_statements")).all()
        assert any("FOR UPDATE" in statement for statement in prepared), prepared
        # SET LOCAL: the commit of the locks did not wait, the transactions after it do.
        assert uow.session.scalar(text("SHOW synchronous_commit")) == "on"
    with psycopg.connect(pg_demo_url) as other:  # the rows are free again
        other.execute("SET lock_timeout = '1s'")
        assert other.execute("SELECT name FROM event FOR UPDATE NOWAIT").fetchone()
        other.rollback()
    with pg_db.unit_of_work() as uow:
        assert uow.session.scalars(select(Event.name)).first() == name


@pytest.mark.pg
def test_rows_locked_then_written_are_not_committed_at_the_blocks_end(pg_db: Database) -> None:
    with pg_db.unit_of_work() as uow:
        name = uow.session.scalars(select(Event.name)).first()
    with pg_db.unit_of_work() as uow:
        event = uow.session.scalars(select(Event).with_for_update()).first()
        assert event is not None
        uow.session.connection().execute(update(Event).values(name="not saved"))
        assert readonly.ending(uow.session) is readonly.Ending.ROLLBACK
    with pg_db.unit_of_work() as uow:
        assert uow.session.scalars(select(Event.name)).first() == name
