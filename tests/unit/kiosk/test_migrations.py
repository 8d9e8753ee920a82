"""Migrations from empty on SQLite and PostgreSQL, and the models agree with them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from kiosk import audit
from kiosk.db import current_revision, head_revision, open_database
from kiosk.errors import SchemaTooNewError
from kiosk.models import Base, Branch, Event, TimeSlot

CORE_TABLES = {
    "event",
    "time_slot",
    "branch",
    "staff",
    "customer",
    "invitation",
    "preselection",
    "visit",
    "visit_step",
    "queue_entry",
    "governance_change",
    "merchant",
    "offer",
    "slip",
    "redemption",
    "journal_entry",
    "outbox_entry",
    "audit_record",
}


def _check_fresh(url: str) -> None:
    database = open_database(url)
    try:
        assert current_revision(database.engine) == head_revision()
        tables = set(inspect(database.engine).get_table_names())
        assert tables >= CORE_TABLES
        with database.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        # Opening again is a no-op, not a second migration.
        open_database(url).dispose()
        # Timezone-aware times survive the round trip on this backend.
        at = datetime(2026, 11, 28, 1, 30, tzinfo=UTC)
        with audit.unaudited(), database.unit_of_work() as uow:  # test setup
            event = Event(code="E1", name="e", event_date=date(2026, 11, 28), created_at=at)
            event.slots.append(
                TimeSlot(code="AM", label="am", starts_at=at, ends_at=at, capacity=1)
            )
            uow.session.add(event)
            uow.commit()
        with database.unit_of_work() as uow:
            loaded = uow.session.scalar(select(Event))
            assert loaded is not None
            assert loaded.created_at == at
            assert loaded.created_at.tzinfo is not None
    finally:
        database.dispose()


def test_sqlite_from_empty(empty_url: str) -> None:
    _check_fresh(empty_url)
    database = open_database(empty_url)
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.dispose()


@pytest.mark.pg
def test_postgresql_from_empty(pg_url: str) -> None:
    _check_fresh(pg_url)


def test_uncommitted_work_is_rolled_back(empty_url: str) -> None:
    database = open_database(empty_url)
    with pytest.raises(RuntimeError), database.unit_of_work() as uow:
        uow.session.add(Branch(code="B1", name="x"))
        uow.session.flush()
        raise RuntimeError("crash half-way")
    with database.unit_of_work() as uow:
        assert uow.session.scalar(select(Branch)) is None
    database.dispose()


def test_naive_datetime_is_refused(empty_url: str) -> None:
    database = open_database(empty_url)
    with pytest.raises(Exception, match="naive datetime"), database.unit_of_work() as uow:
        uow.session.add(
            Event(code="E", name="e", event_date=date(2026, 1, 1), created_at=datetime(2026, 1, 1))
        )
        uow.commit()
    database.dispose()


def test_schema_from_newer_version_is_refused(empty_url: str) -> None:
    open_database(empty_url).dispose()
    database = open_database(empty_url, migrate_schema=False)
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff0000beef'"))
    database.dispose()
    with pytest.raises(SchemaTooNewError, match="newer version of kiosk"):
        open_database(empty_url)


def test_search_keys_are_backfilled_on_upgrade(empty_url: str) -> None:
    """A database from before the search keys gets them when it is opened."""
    from alembic import command

    from kiosk import db
    from kiosk.search import find_customer_ids

    engine = db.create_db_engine(empty_url)
    config = db._alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "6b1407ad8ce6")  # the initial schema
        connection.execute(text("INSERT INTO branch (code, name) VALUES ('B01', '天河支行');"))
        connection.execute(
            text(
                "INSERT INTO customer (customer_no, name, name_initials, phone, phone_last4,"
                " id_type, id_long_term, tier, points_balance, branch_id, mobile_banking,"
                " dormant, walk_in)"
                " VALUES ('6200000001', '单田芳', '', '13812345678', '5678', 'resident_id', 0,"
                " 'standard', 100, 1, 'none', 0, 0)"
            )
        )
    engine.dispose()
    database = open_database(empty_url)
    with database.unit_of_work() as uow:
        for query in ("单田芳", "stf", "dtf", "5678", "6200000001"):
            assert find_customer_ids(uow.session, query) == [1], query
    database.dispose()


def test_head_revision_constant_is_current() -> None:
    """Opening a current database skips Alembic by comparing with this constant."""
    from kiosk.db import HEAD_REVISION

    assert head_revision() == HEAD_REVISION, "update kiosk.db.HEAD_REVISION to the new migration"


def _downgrade(url: str, revision: str) -> None:
    """Take a database back to an older schema, as an older kiosk left it."""
    from alembic import command

    from kiosk.db import _alembic_config, _foreign_keys, create_db_engine

    engine = create_db_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            _foreign_keys(connection, on=False)
        with connection.begin():
            config = _alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
        if sqlite:
            _foreign_keys(connection, on=True)
    engine.dispose()


def test_an_event_in_use_upgrades_with_its_slips(sqlite_demo_url: str) -> None:
    """An event database with slips and journal entries written by the previous release
    upgrades in place: SQLite rebuilds the slip table while the journal points at it.
    SQLite only: that rebuild is what is tested (the downgrade switches SQLite's foreign keys)."""
    demo_url = sqlite_demo_url
    from kiosk.clock import FixedClock
    from kiosk.demo import DEMO_PASSPHRASE
    from kiosk.models import Customer, JournalEntry, Slip
    from kiosk.services import keys, reception
    from kiosk.services.auth import staff_session
    from kiosk.services.slips import CartLine, issue_slips

    clock = FixedClock(datetime(2026, 11, 28, 1, 10, tzinfo=UTC))
    database = open_database(demo_url)
    with database.unit_of_work() as uow:
        customer_id = uow.session.scalar(
            select(Customer.id).where(Customer.points_balance >= 2000).limit(1)
        )
    assert customer_id is not None
    reception.check_in(
        database.unit_of_work(),
        customer_id,
        staff_session(database.unit_of_work(), "R001", clock=clock),
        clock=clock,
    )
    issue_slips(
        database.unit_of_work(),
        customer_id,
        [CartLine("O501")],
        staff_session(database.unit_of_work(), "A001", clock=clock),
        keys.unlock(database.unit_of_work(), DEMO_PASSPHRASE),
        clock=clock,
    )
    database.dispose()
    _downgrade(demo_url, "716fef95390d")  # the schema of the release before sync
    upgraded = open_database(demo_url)
    try:
        assert current_revision(upgraded.engine) == head_revision()
        with upgraded.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        with upgraded.unit_of_work() as uow:
            slip = uow.session.scalar(select(Slip))
            assert slip is not None and slip.customer_id == customer_id
            journal = uow.session.scalar(select(JournalEntry))
            assert journal is not None and journal.slip_id == slip.id
            assert journal.settled_at is None
    finally:
        upgraded.dispose()


def test_contacts_are_seeded_from_the_reports_on_upgrade(any_demo_url: str) -> None:
    """Migration 0015 keeps what the daily reports had said as the first contact of each
    invitation, fingerprinted as ``kiosk.contacts`` does, so the same report imported again
    adds nothing. On both backends: the migration reads times back as each driver gives them."""
    from zoneinfo import ZoneInfo

    from kiosk.contacts import Contact, fingerprint
    from kiosk.models import (
        ContactChannel,
        ContactPurpose,
        Event,
        Invitation,
        InvitationAnswer,
        InvitationContact,
    )

    database = open_database(any_demo_url)
    with audit.unaudited(), database.unit_of_work() as uow:  # the state an old import left
        invitations = list(uow.session.scalars(select(Invitation).order_by(Invitation.id)))
        for invitation in invitations:
            invitation.invited_at = None
            invitation.answer = None
        first, second = invitations[0], invitations[1]
        first.channel, first.answer = "phone", InvitationAnswer.CONFIRMED
        first.invited_at = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # noon in Shanghai
        second.channel, second.answer = "sms", None
        second.invited_at = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)  # 1am the 22nd there
        uow.commit()
        ids = (first.id, second.id)
    database.dispose()
    _downgrade(any_demo_url, "7b3f9e21c5d4")
    upgraded = open_database(any_demo_url)
    try:
        with upgraded.unit_of_work() as uow:
            rows = list(uow.session.scalars(select(InvitationContact)))
            zone = uow.session.scalar(select(Event.timezone))
        assert sorted(r.invitation_id for r in rows) == sorted(ids)
        by_id = {r.invitation_id: r for r in rows}
        assert by_id[ids[0]].contacted_on == date(2026, 11, 20)
        assert by_id[ids[0]].channel == "phone" and by_id[ids[0]].answer == "confirmed"
        assert by_id[ids[1]].contacted_on == date(2026, 11, 22), zone
        assert ZoneInfo(zone)  # the event's zone made the day
        for row in rows:
            again = Contact(
                row.invitation_id,
                ContactPurpose.INVITE,
                ContactChannel(row.channel),
                row.contacted_on,
                None,
                row.answer,
            )
            assert row.fingerprint == fingerprint(again)
    finally:
        upgraded.dispose()


@pytest.mark.pg
def test_insert_only_triggers_come_and_go_with_0017(pg_url: str) -> None:
    """0017 puts the insert-only trigger on every money and evidence table (PostgreSQL only,
    ``kiosk.dbroles``); its downgrade takes them and ``database_access`` away again."""
    from kiosk.dbroles import INSERT_ONLY

    def triggered(url: str) -> set[str]:
        database = open_database(url, migrate_schema=False)
        try:
            with database.engine.connect() as connection:
                return set(
                    connection.execute(
                        text(
                            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c "
                            "ON c.oid = t.tgrelid WHERE t.tgname LIKE 'insert_only%'"
                        )
                    ).scalars()
                )
        finally:
            database.dispose()

    open_database(pg_url).dispose()
    assert triggered(pg_url) == set(INSERT_ONLY)
    _downgrade(pg_url, "3bb4e66fa4c9")
    assert triggered(pg_url) == set()
    database = open_database(pg_url)
    try:
        assert current_revision(database.engine) == head_revision()
        assert "database_access" in inspect(database.engine).get_table_names()
    finally:
        database.dispose()
    assert triggered(pg_url) == set(INSERT_ONLY)
