"""Personal data at rest: sealed values, unreadable raw rows, an older database encrypted in
place, governance with sealed fields, the sealed outbox, and the purge after the event."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import func, select, text

from kiosk import privacy
from kiosk.clock import FixedClock
from kiosk.db import Database, create_db_engine, open_database
from kiosk.demo import DEMO_PASSPHRASE, create_demo
from kiosk.errors import KioskError, PermissionDenied
from kiosk.idcard import is_valid_resident_id
from kiosk.kyc import governance_gaps
from kiosk.masking import mask_id, mask_name
from kiosk.models import (
    Customer,
    Event,
    GovernanceChange,
    OutboxEntry,
    PrivacyKey,
    SearchKey,
    Slip,
    Staff,
    Visit,
)
from kiosk.search import find_customer_ids
from kiosk.services import desk, keys, reception, settlement, tracking
from kiosk.services.auth import staff_session
from kiosk.services.desk import GovernanceInvalid
from kiosk.services.personal_data import compact, encrypt_event, purge
from kiosk.services.slips import CartLine, issue_slips
from sync.ledger import Ledger
from sync.push import accounts_from_event, push
from tests.conftest import DEMO_DATE
from tests.gate_support import make_ready
from tests.unit.cli.test_cli import run
from tests.unit.kiosk.test_migrations import _downgrade

MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)


def _secrets(database: Database) -> list[str]:
    """Every full phone, ID number, birth date and address of the event."""
    values = []
    for person in privacy.full_values(database.unit_of_work(), DEMO_PASSPHRASE):
        values += [v for v in (person.phone, person.id_number, person.address) if v]
        if person.id_number and is_valid_resident_id(person.id_number):
            values.append(person.id_number[6:14])
    return values


def _raw(path: Path) -> str:
    data = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        data += wal.read_bytes()
    return data.decode("utf-8", "replace")


def test_sealed_values_round_trip_and_stay_in_their_field() -> None:
    private = X25519PrivateKey.generate()
    public = private.public_key().public_bytes_raw()
    sealer = privacy.Sealer(public)
    sealed = sealer.seal("phone", "13812345678")
    assert sealed and sealed.startswith("s1.") and "13812345678" not in sealed
    assert sealer.seal("phone", "13812345678") != sealed  # a fresh nonce every time
    opener = privacy.Opener(private)
    assert opener.open("phone", sealed) == "13812345678"
    with pytest.raises(privacy.PrivacyError, match="damaged or belongs elsewhere"):
        opener.open("id_number", sealed)  # a phone cannot pass for an ID number
    with pytest.raises(privacy.PrivacyError):
        privacy.Opener(X25519PrivateKey.generate()).open("phone", sealed)  # another event's
    with pytest.raises(privacy.PrivacyError, match="without the privacy key"):
        privacy.Opener(None).open("phone", sealed)
    locked = privacy.lock_private_key(private, "a passphrase")
    assert locked.startswith("scrypt$")
    assert privacy.unlock_private_key(locked, "a passphrase").public_key().public_bytes_raw() == (
        public
    )
    with pytest.raises(KioskError, match="Wrong passphrase"):
        privacy.unlock_private_key(locked, "another one")
    with pytest.raises(KioskError, match="at least 8"):
        privacy.lock_private_key(private, "short")


def test_raw_sqlite_unreadable_without_the_passphrase(sqlite_demo_db: Database) -> None:
    """SQLite only: the event's SQLite file is read byte by byte."""
    demo_db = sqlite_demo_db
    secrets = _secrets(demo_db)
    assert len(secrets) > 600
    with demo_db.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM customer")).all()
        dump = "\n".join(str(row) for row in rows)
    assert not [s for s in secrets if s in dump]
    path = Path(demo_db.url.removeprefix("sqlite:///"))
    demo_db.dispose()
    raw = _raw(path)
    assert not [s for s in secrets if s in raw]
    # With the passphrase: the full values, consistent with the masks in clear.
    database = open_database(f"sqlite:///{path}")
    full = {p.customer_no: p for p in privacy.full_values(database.unit_of_work(), DEMO_PASSPHRASE)}
    with database.unit_of_work() as uow:
        for customer in uow.session.scalars(select(Customer)):
            person = full[customer.customer_no]
            assert customer.id_masked == mask_id(person.id_number)
            assert customer.phone_masked == privacy.stored_phone_mask(person.phone)
    with pytest.raises(KioskError, match="Wrong passphrase"):
        privacy.full_values(database.unit_of_work(), "guess-passphrase")
    database.dispose()


@pytest.mark.pg
def test_raw_postgresql_unreadable_without_the_passphrase(pg_url: str, tmp_path: Path) -> None:
    database = open_database(pg_url)
    create_demo(database.unit_of_work(), event_date=DEMO_DATE, invitees=40)
    secrets = _secrets(database)
    database.dispose()
    dump = subprocess.run(
        ["pg_dump", "--data-only", pg_url], capture_output=True, text=True, check=True
    ).stdout
    assert "s1." in dump and "****" in dump  # sealed values and masks are there
    assert not [s for s in secrets if s in dump]


def _legacy_database(demo_url: str) -> tuple[list[privacy.FullValues], str]:
    """The demo as a kiosk before the privacy migration left it: values in clear, a pending
    and a pushed governance change in the outbox, a governance record with full phones."""
    database = open_database(demo_url)
    full = privacy.full_values(database.unit_of_work(), DEMO_PASSPHRASE)
    database.dispose()
    _downgrade(demo_url, "834a53fecced")
    engine = create_db_engine(demo_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE customer SET phone = :phone, id_number = :id_number, address = :address"
                " WHERE customer_no = :customer_no"
            ),
            [p.__dict__ for p in full],
        )
        wang = full[0]
        for status, key in (("pending", "governance:1"), ("accepted", "governance:2")):
            payload = {"customer_no": wang.customer_no, "changes": {"phone": "13987654321"}}
            connection.execute(
                text(
                    "INSERT INTO outbox_entry (event_id, idempotency_key, kind, payload,"
                    " created_at, status) VALUES (1, :key, 'governance', :payload,"
                    " '2026-11-28 01:00:00', :status)"
                ),
                {"key": key, "payload": json.dumps(payload), "status": status},
            )
        connection.execute(
            text(
                "INSERT INTO governance_change (customer_id, field, old_value, new_value,"
                " staff_id, at) VALUES (1, 'phone', :old, '13987654321', 1,"
                " '2026-11-28 01:00:00')"
            ),
            {"old": wang.phone},
        )
    engine.dispose()
    return full, wang.phone or ""


def test_an_older_database_works_then_is_encrypted_in_place(
    sqlite_demo_url: str, tmp_path: Path
) -> None:
    """SQLite only: the older database is made by downgrading the SQLite file."""
    demo_url = sqlite_demo_url
    full, old_phone = _legacy_database(demo_url)
    database = open_database(demo_url)  # migrates: masks filled in, values still in clear
    with database.unit_of_work() as uow:
        s = uow.session
        assert s.scalar(select(func.count(PrivacyKey.id))) == 0
        first = s.scalar(select(Customer).where(Customer.customer_no == full[0].customer_no))
        assert first is not None and first.legacy_phone == full[0].phone
        assert first.id_masked == mask_id(full[0].id_number) and first.id_number_valid
        gaps_before = {
            c.customer_no: governance_gaps(c, DEMO_DATE) for c in s.scalars(select(Customer))
        }
        change = s.scalar(select(GovernanceChange))
        assert change is not None and change.new_value == "139****4321"
        assert change.old_value == privacy.stored_phone_mask(old_phone)
        sent = s.scalar(select(OutboxEntry).where(OutboxEntry.status == "accepted"))
        assert (
            sent is not None and "13987654321" not in sent.payload and "139****4321" in sent.payload
        )
    # It keeps working before anyone types the passphrase: reception shows masks.
    clock = FixedClock(MORNING)
    staff = staff_session(database.unit_of_work(), "R001", clock=clock)
    hits = reception.search(database.unit_of_work(), (full[0].phone or "")[-4:])
    assert any(h.masked_id == mask_id(full[0].id_number) for h in hits)
    walk_in = reception.register_walk_in(
        database.unit_of_work(),
        name="周八",
        phone="13700001111",
        branch_code="B01",
        staff=staff,
        clock=clock,
    )
    with database.unit_of_work() as uow:
        row = uow.session.get(Customer, walk_in)
        assert row is not None and row.legacy_phone == "13700001111" and row.phone_sealed is None

    with pytest.raises(PermissionDenied, match="Only a supervisor encrypts"):
        # Staff exist: someone must.
        encrypt_event(database.unit_of_work(), DEMO_PASSPHRASE, clock=clock)
    with pytest.raises(PermissionDenied, match="Only a supervisor encrypts"):
        encrypt_event(database.unit_of_work(), DEMO_PASSPHRASE, staff=staff, clock=clock)
    supervisor = staff_session(database.unit_of_work(), "S001", clock=clock)
    with pytest.raises(KioskError, match="Wrong passphrase for the event's signing key"):
        encrypt_event(database.unit_of_work(), "not-the-passphrase", staff=supervisor, clock=clock)
    report = encrypt_event(database.unit_of_work(), DEMO_PASSPHRASE, staff=supervisor, clock=clock)
    assert (report.key_created, report.customers, report.outbox) == (True, 241, 1)
    again = encrypt_event(database.unit_of_work(), DEMO_PASSPHRASE, staff=supervisor, clock=clock)
    assert again.customers == 0  # done once
    compact(database)
    with database.unit_of_work() as uow:
        s = uow.session
        assert (
            s.scalar(select(func.count(Customer.id)).where(Customer.legacy_phone.is_not(None))) == 0
        )
        gaps_after = {
            c.customer_no: governance_gaps(c, DEMO_DATE)
            for c in s.scalars(select(Customer))
            if not c.walk_in
        }
        assert gaps_after == gaps_before
        pending = s.scalar(select(OutboxEntry).where(OutboxEntry.status == "pending"))
        assert pending is not None and pending.sealed and "1398765" not in pending.payload
    after = {
        p.customer_no: p for p in privacy.full_values(database.unit_of_work(), DEMO_PASSPHRASE)
    }
    assert [after[p.customer_no] for p in full] == full
    assert any(p.phone == "13700001111" for p in after.values())
    database.dispose()
    raw = _raw(Path(demo_url.removeprefix("sqlite:///")))
    secrets = [v for p in full for v in (p.phone, p.id_number, p.address) if v]
    assert not [s for s in [*secrets, "13700001111", "13987654321"] if s in raw]


def _clean_customer(database: Database) -> int:
    with database.unit_of_work() as uow:
        for customer in uow.session.scalars(select(Customer).order_by(Customer.id)):
            if not governance_gaps(customer, DEMO_DATE):
                return customer.id
    raise AssertionError("the demo has customers without gaps")


def test_governance_keeps_or_seals_the_sealed_fields(demo_db: Database) -> None:
    clock = FixedClock(MORNING)
    customer_id = _clean_customer(demo_db)
    rm = staff_session(demo_db.unit_of_work(), "RM001", clock=clock)
    form = desk.current_form(demo_db.unit_of_work(), customer_id)
    assert form.id_number and form.id_number[6:14] == "*" * 8 and "****" in (form.phone or "")
    # Saved as shown (masks) or left alone (None): nothing changes.
    assert desk.save_governance(demo_db.unit_of_work(), customer_id, form, rm, clock=clock) == []
    kept = replace(form, phone=None, id_number=None, address=None)
    assert desk.save_governance(demo_db.unit_of_work(), customer_id, kept, rm, clock=clock) == []
    # New ID dates with the sealed number kept: no retyping (#16 item 3), but the period must
    # be one of the law's, since the birth date the age rule needs is behind the mask.
    later = replace(kept, id_valid_from=date(2026, 11, 1), id_valid_to=date(2046, 11, 1))
    assert (
        desk.check_form(demo_db.unit_of_work(), later, customer_id=customer_id, clock=clock) == {}
    )
    odd = replace(later, id_valid_to=date(2040, 11, 1))
    with pytest.raises(GovernanceInvalid) as invalid:
        desk.save_governance(demo_db.unit_of_work(), customer_id, odd, rm, clock=clock)
    assert set(invalid.value.errors) == {"id_valid_to"}
    assert "5, 10 or 20 years" in invalid.value.errors["id_valid_to"]
    # A typed phone is sealed, recorded masked, and sent sealed.
    changed = desk.save_governance(
        demo_db.unit_of_work(), customer_id, replace(kept, phone="13911112222"), rm, clock=clock
    )
    assert changed == ["phone"]
    with demo_db.unit_of_work() as uow:
        s = uow.session
        record = s.scalar(select(GovernanceChange))
        assert record is not None and record.new_value == "139****2222"
        entry = s.scalar(select(OutboxEntry).where(OutboxEntry.kind == "governance"))
        assert entry is not None and entry.sealed and "13911112222" not in entry.payload
        customer = s.get(Customer, customer_id)
        assert customer is not None and customer.phone_masked == "139****2222"
        assert customer_id in find_customer_ids(s, "2222")
    opener = privacy.unlock(demo_db.unit_of_work(), DEMO_PASSPHRASE)
    payload = json.loads(entry.payload)
    assert privacy.open_json(opener, "changes", payload["sealed_changes"]) == {
        "phone": "13911112222"
    }


def _ledger(database: Database, tmp_path: Path) -> Ledger:
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}", create=True)
    opener = privacy.unlock(database.unit_of_work(), DEMO_PASSPHRASE)
    ledger.upsert_accounts(accounts_from_event(database, opener))
    return ledger


def _figures(database: Database) -> tuple[object, ...]:
    uow = database.unit_of_work
    with uow() as u:
        s = u.session
        counts = (
            s.scalar(select(func.count(Customer.id))),
            s.scalar(select(func.count(Visit.id))),
            s.scalar(select(func.count(Slip.id))),
            s.scalar(select(func.sum(Customer.points_balance))),
        )
    return (
        counts,
        settlement.reconciliation(uow()),
        settlement.settlement(uow()),
        tracking.progress(uow()),
        tracking.slot_load(uow()),
    )


def test_purge_after_close_and_sync_keeps_the_figures(demo_db: Database, tmp_path: Path) -> None:
    clock = FixedClock(MORNING)
    with demo_db.unit_of_work() as uow:
        rich = uow.session.scalars(
            select(Customer.id).where(Customer.points_balance >= 4000).order_by(Customer.id)
        ).all()[:3]
        staff_names = set(uow.session.scalars(select(Staff.name)))
        names = {
            n
            for n in uow.session.scalars(select(Customer.name))
            if len(n) >= 3 and not any(n in staff for staff in staff_names)
        }
    secrets = _secrets(demo_db)
    front = staff_session(demo_db.unit_of_work(), "R001", clock=clock)
    activation = staff_session(demo_db.unit_of_work(), "A001", clock=clock)
    supervisor = staff_session(demo_db.unit_of_work(), "S001", clock=clock)
    key = keys.unlock(demo_db.unit_of_work(), DEMO_PASSPHRASE)
    make_ready(demo_db, *rich)
    for customer_id in rich:
        reception.check_in(demo_db.unit_of_work(), customer_id, front, clock=clock)
        issue_slips(
            demo_db.unit_of_work(), customer_id, [CartLine("O501")], activation, key, clock=clock
        )
    governed = _clean_customer(demo_db)
    form = replace(desk.current_form(demo_db.unit_of_work(), governed), phone="13911112222")
    rm = staff_session(demo_db.unit_of_work(), "RM001", clock=clock)
    desk.save_governance(demo_db.unit_of_work(), governed, form, rm, clock=clock)

    with pytest.raises(KioskError, match="not closed yet"):
        purge(demo_db.unit_of_work(), supervisor, clock=clock)
    with demo_db.unit_of_work() as uow:
        last = max(uow.session.scalars(select(Slip.redeem_by)))
    after_all = FixedClock(
        datetime.combine(last, datetime.min.time(), UTC).replace(year=last.year + 1)
    )
    report = settlement.close_event(demo_db.unit_of_work(), supervisor, clock=after_all)
    assert report.closed
    with pytest.raises(KioskError, match="have not reached the ledger yet"):
        purge(demo_db.unit_of_work(), supervisor, clock=after_all)
    ledger = _ledger(demo_db, tmp_path)
    held = push(demo_db, ledger, clock=after_all)
    assert held.held == 1  # the sealed governance change waits for the passphrase
    with pytest.raises(KioskError, match="1 entries have not reached the ledger"):
        purge(demo_db.unit_of_work(), supervisor, clock=after_all)
    opener = privacy.unlock(demo_db.unit_of_work(), DEMO_PASSPHRASE)
    sent = push(demo_db, ledger, opener=opener, clock=after_all)
    assert (sent.sent, sent.held) == (1, 0)
    account = ledger.accounts([form_no(demo_db, governed)])[0]
    assert account.kyc["phone"] == "13911112222"  # the ledger got the full value
    ledger.dispose()

    before = _figures(demo_db)
    result = purge(demo_db.unit_of_work(), supervisor, clock=after_all)
    assert result.customers == 240
    compact(demo_db)
    assert _figures(demo_db) == before
    with demo_db.unit_of_work() as uow:
        s = uow.session
        assert s.scalar(select(func.count(SearchKey.id))) == 0
        assert s.scalar(select(func.count(PrivacyKey.id))) == 0
        customer = s.get(Customer, governed)
        assert customer is not None and customer.name == mask_name(customer.name)
        assert customer.phone_masked is None and customer.id_masked is None
        assert s.scalar(select(Event.closed_at)) is not None
    if not demo_db.is_sqlite:
        return  # what follows reads the SQLite file's pages, free ones included
    path = Path(demo_db.url.removeprefix("sqlite:///"))
    demo_db.dispose()
    raw = _raw(path)
    assert not [s for s in secrets if s in raw]
    assert not [n for n in names if n in raw]
    assert "139****2222" not in raw


def form_no(database: Database, customer_id: int) -> str:
    with database.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None
        return customer.customer_no


def test_commands_push_hold_purge_and_info(
    capsys: pytest.CaptureFixture[str],
    demo_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KIOSK_PASSPHRASE", raising=False)
    base = ["--lang", "en", "--db", demo_url]
    code, out, _err = run(capsys, *base, "info")
    assert code == 0 and "Personal data: sealed" in out
    database = open_database(demo_url)
    customer_id = _clean_customer(database)
    form = replace(desk.current_form(database.unit_of_work(), customer_id), phone="13911112222")
    clock = FixedClock(MORNING)
    rm = staff_session(database.unit_of_work(), "RM001", clock=clock)
    desk.save_governance(database.unit_of_work(), customer_id, form, rm, clock=clock)
    database.dispose()
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    monkeypatch.setenv("KIOSK_PASSPHRASE", DEMO_PASSPHRASE)
    assert run(capsys, *base, "ledger", "seed", "--url", ledger)[0] == 0
    monkeypatch.delenv("KIOSK_PASSPHRASE")
    code, out, _err = run(capsys, *base, "sync", "push", "--ledger", ledger)
    assert code == 0 and "0 entries pushed" in out
    assert "1 governance changes carry sealed personal data and wait" in out
    code, out, _err = run(capsys, *base, "sync", "push", "--ledger", ledger, "--progress-lines")
    assert "held 1" in out  # what the app's header reads
    monkeypatch.setenv("KIOSK_PIN", "1234")  # S001's, A001's
    code, _out, err = run(capsys, *base, "event", "purge", "--staff", "S001")
    assert code == 1 and "not closed yet" in err
    code, _out, err = run(capsys, *base, "event", "purge", "--staff", "A001")
    assert code == 1 and "Only a supervisor" in err
    code, _out, err = run(capsys, *base, "event", "encrypt")
    assert code == 1 and "KIOSK_PASSPHRASE" in err
    monkeypatch.setenv("KIOSK_PASSPHRASE", DEMO_PASSPHRASE)
    code, out, _err = run(capsys, *base, "event", "encrypt", "--staff", "S001")
    assert code == 0 and "0 customers" in out  # the demo is sealed from the start
    code, out, _err = run(capsys, *base, "sync", "push", "--ledger", ledger)
    # The governance change and the push's checkpoint of the audit chain (#26).
    assert code == 0 and "2 entries pushed: 2 accepted" in out
    database = open_database(demo_url)
    with database.unit_of_work() as uow:  # closed, as close_event leaves it
        uow.session.execute(text("UPDATE event SET closed_at = created_at"))
        uow.commit()
    database.dispose()
    code, out, err = run(capsys, *base, "event", "purge", "--staff", "S001")
    assert code == 0 and "Personal data of 240 customers removed" in out, err
    code, out, _err = run(capsys, *base, "info")
    assert code == 0 and "240" in out
