"""Column lengths on both backends (issue #16, symptom 12).

A ``String(n)`` column is enforced by PostgreSQL and ignored by SQLite, so a writer tried on
SQLite alone could pass and then fail at the venue: a cart of 17 slips wrote a 204-character
visit-step note into VARCHAR(200). The tests run with ``KIOSK_STRICT_LENGTHS=1``
(tests/conftest.py), which makes SQLite refuse such a value as PostgreSQL does, so every
database test in the suite checks every writer it drives; the tests here check that the guard
covers every column, that the error reaches staff as a sentence, and the long cart itself.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from sqlalchemy import create_engine, select, update

from cli.main import main
from kiosk import audit, lengths
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.errors import ValueTooLong
from kiosk.governance import (
    ADDRESS_MAX,
    ID_NUMBER_MAX,
    NAME_MAX,
    KycForm,
    validate,
)
from kiosk.idcard import check_digit
from kiosk.kyc import governance_gaps
from kiosk.models import Base, Customer, Event, QueueEntry, Slip, Visit, VisitStep
from kiosk.pinyin import INITIALS_MAX, initials_key
from kiosk.services import imports, keys, reception
from kiosk.services.auth import staff_session
from kiosk.services.slips import CartLine, issue_slips
from tests.gate_support import make_ready
from tests.points_support import drop_lots

MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)
TODAY = date(2026, 11, 28)


def _string_columns() -> list[tuple[str, str, int]]:
    return [
        (table.name, column.name, n)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if (n := lengths.limit(column)) is not None
    ]


def test_strict_mode_is_on_in_the_tests() -> None:
    """Without it the SQLite half of the suite would not see what PostgreSQL refuses."""
    assert lengths.strict()


@pytest.fixture(scope="module")
def strict_memory() -> Any:
    engine = create_engine("sqlite://")
    lengths.enforce_on_sqlite(engine)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.mark.parametrize(("table", "column", "n"), _string_columns())
def test_every_bounded_column_refuses_one_character_more_on_sqlite(
    strict_memory: Any, table: str, column: str, n: int
) -> None:
    """Every String(n) column of the models, on INSERT and on UPDATE: n characters pass the
    guard (other constraints may still refuse the half-empty row), n + 1 do not."""
    target = Base.metadata.tables[table]
    keys = {c.key: "k" if lengths.limit(c) else 1 for c in target.primary_key if c.key != column}
    for statement in (target.insert().values(keys), update(target)):
        with strict_memory.connect() as connection:
            try:
                connection.execute(statement.values({column: "x" * n}))
            except Exception as refused:  # a NOT NULL or CHECK constraint on the bare row
                assert "value too long" not in str(refused)
            connection.rollback()
            with pytest.raises(Exception, match=r"value too long for type character varying"):
                connection.execute(statement.values({column: "字" * (n + 1)}))


def test_a_value_too_long_is_a_sentence_on_both_backends(any_demo_db: Database) -> None:
    """Whatever writer is left unbounded, staff read words, never the driver's DataError;
    and SQLite refuses it exactly where PostgreSQL does."""
    with (
        pytest.raises(ValueTooLong, match="longer than the event database can hold"),
        audit.unaudited(),
        any_demo_db.unit_of_work() as uow,
    ):
        event = uow.session.scalars(select(Event)).first()
        assert event is not None
        event.venue = "场" * 201  # VARCHAR(200)
        uow.commit()
    with any_demo_db.unit_of_work() as uow:
        assert all(len(v) <= 200 for v in uow.session.scalars(select(Event.venue)))


def _id(first17: str) -> str:
    return first17 + check_digit(first17)


FORM = KycForm(
    name="张三",
    gender="M",
    nationality="CHN",
    occupation_code="4",
    address="广州市天河区天河路 1 号",
    phone="13912345678",
    id_type="passport",
    id_number="E12345678",
    id_valid_from=date(2020, 5, 3),
    id_valid_to=date(2030, 5, 3),
    id_long_term=False,
    tax_residency="CN",
)


def test_the_governance_form_bounds_what_the_customer_table_holds() -> None:
    """Name, ID number and address are refused in the field when longer than their column
    (the ID number and the address are kept in clear while an event has no privacy key)."""
    assert validate(FORM, TODAY) == {}
    assert (NAME_MAX, ID_NUMBER_MAX, ADDRESS_MAX) == (64, 32, 300)
    assert validate(replace(FORM, name="张" * 64), TODAY) == {}
    assert set(validate(replace(FORM, name="张" * 65), TODAY)) == {"name"}
    assert validate(replace(FORM, id_number="E" * 32), TODAY) == {}
    errors = validate(replace(FORM, id_number="E" * 33), TODAY)
    assert errors == {"id_number": "An ID number has at most 32 characters."}
    assert validate(replace(FORM, address="路" * 300), TODAY) == {}
    assert set(validate(replace(FORM, address="路" * 301), TODAY)) == {"address"}


def _long_cart(url: str, lines: int) -> list[int]:
    """Check a demo customer in and issue ``lines`` cart lines; the serials issued."""
    database = open_database(url)
    try:
        with audit.unaudited(), database.unit_of_work() as uow:  # test setup
            customer_id = uow.session.scalar(
                select(Customer.id).where(Customer.customer_no == "6200000030")
            )
            uow.session.execute(
                update(Customer).where(Customer.id == customer_id).values(points_balance=200_000)
            )
            drop_lots(uow.session, Customer.id == customer_id)
            uow.commit()
        assert customer_id is not None
        make_ready(database, customer_id)
        clock = FixedClock(MORNING)
        staff = staff_session(database.unit_of_work(), "R001", clock=clock)
        reception.check_in(database.unit_of_work(), customer_id, staff, clock=clock)
        desk = staff_session(database.unit_of_work(), "A001", clock=clock)
        key = keys.unlock(database.unit_of_work(), DEMO_PASSPHRASE)
        cart = [CartLine("O501" if i % 2 else "O401") for i in range(lines)]
        issued = issue_slips(database.unit_of_work(), customer_id, cart, desk, key, clock=clock)
        assert len(issued) == lines
        with database.unit_of_work() as uow:
            note = uow.session.scalar(
                select(VisitStep.note)
                .join(Visit, Visit.id == VisitStep.visit_id)
                .where(Visit.customer_id == customer_id, VisitStep.step == "slips_issued")
            )
        # The step lists every slip, whole: it is TEXT (migration 0013).
        assert note == ", ".join(f"No. {slip.serial:06d}" for slip in issued)
        assert len(note) > 200
        return [slip.serial for slip in issued]
    finally:
        database.dispose()


def test_a_cart_of_17_lines_issues_on_both_backends(any_demo_url: str) -> None:
    serials = _long_cart(any_demo_url, 17)
    assert len(set(serials)) == 17


def test_such_an_event_copies_from_sqlite_to_postgresql(
    sqlite_demo_url: str, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``kiosk event copy`` of an event with a 20-line cart: everything arrives (the copy
    goes from the coordinator's SQLite file to the venue's PostgreSQL)."""
    serials = _long_cart(sqlite_demo_url, 20)
    code = main(["--lang", "en", "event", "copy", "--from", sqlite_demo_url, "--to", pg_url])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "the counts match" in out
    target = open_database(pg_url)
    try:
        with target.unit_of_work() as uow:
            assert sorted(uow.session.scalars(select(Slip.serial))) == sorted(serials)
            notes = uow.session.scalars(
                select(VisitStep.note).where(VisitStep.step == "slips_issued")
            ).all()
            assert [len(n) for n in notes] == [20 * len("No. 000001, ") - 2]
    finally:
        target.dispose()


def test_guard_names_the_column(strict_memory: Any) -> None:
    """The message says which column, so a failing test points at the writer to bound."""
    with (
        strict_memory.connect() as connection,
        pytest.raises(Exception, match=r"visit_step\.step: 33 characters"),
    ):
        connection.execute(Base.metadata.tables["visit_step"].update().values(step="s" * 33))


def test_name_initials_fit_their_column() -> None:
    """The longest name an import accepts, with a surname of several readings, keeps whole
    keys only, as many as VARCHAR(200) holds."""
    assert lengths.limit(Customer.name_initials) == INITIALS_MAX
    name = "单" + "长" * 63  # 单: shan / dan / chan
    key = initials_key(name)
    assert 0 < len(key) <= INITIALS_MAX
    assert all(len(part) == 64 for part in key.split("|"))


def test_the_widest_queue_reason_fits() -> None:
    """Reception queues a customer with the data gaps as the reason: all of them at once
    still fit ``queue_entry.reason``."""
    nothing = Customer(name="张三", id_long_term=False)
    reason = ",".join(sorted(governance_gaps(nothing, TODAY)))
    assert len(reason.split(",")) == 8
    assert lengths.bounded(reason, QueueEntry.reason)


def test_an_event_with_too_long_a_name_is_refused_in_words(any_empty_url: str) -> None:
    """``kiosk event create`` says which text is too long, and creates nothing."""
    database = open_database(any_empty_url)
    try:
        slot = imports.SlotSpec("AM", "上午场", time(9), time(11, 30), 120)
        with pytest.raises(ValueTooLong, match="The event name is too long: at most 200"):
            imports.create_event(
                database.unit_of_work(),
                code="GZ26",
                name="积" * 201,
                event_date=TODAY,
                venue="会展中心",
                slots=[slot],
                clock=FixedClock(MORNING),
            )
        with pytest.raises(ValueTooLong, match="The slot label is too long: at most 64"):
            imports.create_event(
                database.unit_of_work(),
                code="GZ26",
                name="积分兑换日",
                event_date=TODAY,
                venue="会展中心",
                slots=[replace(slot, label="场" * 65)],
                clock=FixedClock(MORNING),
            )
        with database.unit_of_work() as uow:
            assert uow.session.scalars(select(Event)).all() == []
    finally:
        database.dispose()
