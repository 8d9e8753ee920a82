"""A full disk on the day (#31): every action exactly once, the cause in words, no broken files.

The event database, the print spool, a booth's database, exports and backups are put on a
real small filesystem (a tmpfs mounted for the test; root is needed, else the tests skip and
say so), which is filled to leave 0, 4, 8, ... KB free, so that each write of an action fails
in turn: the database's shared-memory file at open, each page of its WAL at commit, the
ticket or slip PDF, the print record. The sweep goes on until three runs in a row had room
for everything, and asserts that it met each kind of outcome. After every run, with the disk
freed again, the database must agree exactly with what the command said (done: exit 0, the
rows there once; not done: exit 1, no row), the message must name the full disk, no file
under a final name may be broken, and running the same command again with its request id
must leave the action done exactly once.

On PostgreSQL the event database's tablespace sits on such a filesystem (the WAL stays on the
server's own disk, as the server would report "could not extend file" for a table), and
``tests/tcp_proxy.py`` drops the connection at COMMIT, after or before the server got it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from cli.main import main
from kiosk import audit
from kiosk.booth_laptop.store import BoothRedemption, open_booth_database
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.errors import KioskError, OutcomeUnknown
from kiosk.files import leftovers
from kiosk.governance import KycForm
from kiosk.models import (
    ActionRequest,
    Customer,
    GovernanceChange,
    JournalEntry,
    Offer,
    OutboxEntry,
    Slip,
    Visit,
)
from kiosk.services import desk, keys, reception, slips
from kiosk.services.auth import staff_session
from kiosk.storage import Cause, StorageError
from tests.booth_support import issue, new_booth, pack_bytes
from tests.disk_support import SmallDisk, mount_tmpfs, unmount
from tests.gate_support import make_ready
from tests.tcp_proxy import LanCable

PAGE = 4096
CHECKED_IN = "6200000141"  # 386,800 points: enough for any cart here
FRESH = "6200000001"  # not checked in
# The test's own calls into the services run on the event day's morning; the commands run
# in-process (``cli.main.main``) use the real clock, as they do for the staff.
MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _pin(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI asks for the PIN of who acts; every demo staff member's is 1234."""
    monkeypatch.setenv("KIOSK_PIN", "1234")


# -- a small disk -----------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    disk = mount_tmpfs(tmp_path / "disk", "6m")
    yield disk
    unmount(disk)


def sweep(attempt: Callable[[int], str], *, step: int = PAGE) -> set[str]:
    """Run ``attempt(leave)`` with 0, step, 2 step, ... bytes left free, until three runs in a
    row found room for everything ("done"); the outcomes met."""
    outcomes: list[str] = []
    for leave in range(0, 4_000_000, step):
        outcomes.append(attempt(leave))
        if outcomes[-3:] == ["done"] * 3:
            return set(outcomes)
    raise AssertionError(f"never had room enough: {outcomes[-5:]}")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str, str]:
    """Exit code, stdout, stderr and the request id the command announced ("" if none)."""
    code = main(["--lang", "en", *argv])
    out, err = capsys.readouterr()
    request = ""
    for line in err.splitlines():
        if line.startswith("Request "):
            request = line.split()[1]
    return code, out, err, request


def says_disk_full(message: str, disk: SmallDisk) -> bool:
    return "disk is full" in message.lower() and str(disk.path) in message


def complete_pdfs(folder: Path) -> list[Path]:
    """Every PDF in ``folder``; fails on one that is not whole, or on a temporary file left."""
    assert leftovers(folder) == []
    found = sorted(folder.glob("*.pdf")) if folder.is_dir() else []
    for pdf in found:
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=False)
        assert info.returncode == 0, f"{pdf.name} is broken: {info.stderr.strip()}"
    return found


def consistent(database: Database) -> None:
    """What must hold after any failure: an intact audit chain and file, reserves that match
    the slips, one journal reserve per slip."""
    with database.unit_of_work() as uow:
        s = uow.session
        assert audit.verify(s) is None
        if database.is_sqlite:
            assert s.connection().exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        for offer in s.scalars(select(Offer)):
            taken = s.scalar(
                select(func.coalesce(func.sum(Slip.quantity), 0)).where(
                    Slip.offer_id == offer.id, Slip.status != "voided"
                )
            )
            assert offer.reserved == taken, offer.code
        slips_n = s.scalar(select(func.count()).select_from(Slip))
        reserves = s.scalar(
            select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == "reserve")
        )
        assert slips_n == reserves


def _customer_id(database: Database, customer_no: str) -> int:
    with database.unit_of_work() as uow:
        found = uow.session.scalar(select(Customer.id).where(Customer.customer_no == customer_no))
    assert found is not None
    return found


@pytest.fixture
def ready_event(demo_template: Path, tmp_path: Path) -> Path:
    """The demo event with CHECKED_IN checked in, on the ordinary disk, to copy per run."""
    path = tmp_path / "ready.sqlite3"
    shutil.copyfile(demo_template, path)
    database = open_database(f"sqlite:///{path}")
    clock = FixedClock(MORNING)
    reception.check_in(
        database.unit_of_work(),
        _customer_id(database, CHECKED_IN),
        staff_session(database.unit_of_work(), "R001", clock=clock),
        clock=clock,
    )
    make_ready(database, _customer_id(database, CHECKED_IN))  # data complete, app active
    database.dispose()  # checkpoints: one file to copy
    return path


def fresh_copy(source: Path, disk: SmallDisk, name: str = "event.sqlite3") -> Path:
    target = disk.path / name
    for extra in ("", "-wal", "-shm"):
        target.with_name(name + extra).unlink(missing_ok=True)
    shutil.copyfile(source, target)
    return target


# -- check-in (CLI, SQLite) -------------------------------------------------------------------


def test_checkin_on_a_filling_disk(
    small_disk: SmallDisk,
    ready_event: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spool = small_disk.path / "spool"
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(spool))

    def visits(url: str) -> tuple[int, int]:
        database = open_database(url)
        try:
            consistent(database)
            with database.unit_of_work() as uow:
                s = uow.session
                customer = s.scalar(select(Customer.id).where(Customer.customer_no == FRESH))
                n = s.scalar(select(func.count()).where(Visit.customer_id == customer))
                requests = s.scalar(select(func.count()).select_from(ActionRequest))
            return int(n or 0), int(requests or 0)
        finally:
            database.dispose()

    def attempt(leave: int) -> str:
        path = fresh_copy(ready_event, small_disk)
        shutil.rmtree(spool, ignore_errors=True)
        url = f"sqlite:///{path}"
        before = visits(url)[1]
        small_disk.fill(leave)
        code, out, err, request = run(capsys, "--db", url, "checkin", FRESH, "--staff", "R001")
        small_disk.empty()
        tickets = complete_pdfs(spool)
        n, requests = visits(url)
        if code == 1:  # nothing was done, and the disk is named
            assert (n, requests) == (0, before), err
            assert says_disk_full(err, small_disk), err
            assert tickets == []
            outcome = "not saved"
        else:
            assert code == 0, err
            assert (n, requests) == (1, before + 1)
            assert "Checked in" in out
            if "its ticket was not written" in err:
                assert says_disk_full(err, small_disk) and f"--request-id {request}" in err
                assert tickets == []
                outcome = "saved, no ticket"
            else:
                assert len(tickets) == 1
                outcome = "done"
        # Again with the same request: checked in once, the ticket written now. (No request
        # id was given out when the database could not even be opened: nothing was tried.)
        assert request or outcome == "not saved"
        again = ("--request-id", request) if request else ()
        code, out, err, _request = run(
            capsys, "--db", url, "checkin", FRESH, "--staff", "R001", *again
        )
        assert code == 0, err
        assert visits(url) == (1, before + 1)
        assert ("nothing was done twice" in out) == (outcome != "not saved")
        assert len(complete_pdfs(spool)) == 1
        return outcome

    assert sweep(attempt) == {"not saved", "saved, no ticket", "done"}


# -- slip issue (CLI, SQLite) -----------------------------------------------------------------


def test_slip_issue_on_a_filling_disk(
    small_disk: SmallDisk,
    ready_event: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KIOSK_PASSPHRASE", DEMO_PASSPHRASE)
    pdf = small_disk.path / "slip.pdf"

    def state(url: str) -> tuple[int, int, int]:
        """(slips, copies printed, points reserved) of CHECKED_IN."""
        database = open_database(url)
        try:
            consistent(database)
            with database.unit_of_work() as uow:
                s = uow.session
                customer = _customer_id(database, CHECKED_IN)
                n, copies, points = s.execute(
                    select(
                        func.count(),
                        func.coalesce(func.sum(Slip.copies_printed), 0),
                        func.coalesce(func.sum(Slip.points), 0),
                    ).where(Slip.customer_id == customer)
                ).one()
            return int(n), int(copies), int(points)
        finally:
            database.dispose()

    def attempt(leave: int) -> str:
        path = fresh_copy(ready_event, small_disk)
        pdf.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
        command = (
            "--db", url, "slip", "issue", "--customer", CHECKED_IN, "--offer", "O401",
            "--out", str(pdf), "--staff", "A001",
        )  # fmt: skip
        small_disk.fill(leave)
        code, out, err, request = run(capsys, *command)
        small_disk.empty()
        written = complete_pdfs(small_disk.path)
        if code == 1:
            assert state(url) == (0, 0, 0), err
            assert says_disk_full(err, small_disk), err
            assert written == []
            outcome = "not saved"
        else:
            assert code == 0, err
            assert "Slip 1 issued" in out
            slips_n, copies, points = state(url)
            assert (slips_n, points) == (1, 1500)
            if "printing not finished" in err:
                assert "Slip No. 000001 issued (printing not finished)" in err
                assert says_disk_full(err, small_disk), err
                outcome = "issued, PDF not written" if not written else "issued, not counted"
                assert copies == 0
            else:
                assert written == [pdf] and copies == 1
                outcome = "done"
        # The same command again with its request id: one slip, one reserve, a whole PDF.
        assert request or outcome == "not saved"
        again = ("--request-id", request) if request else ()
        code, out, err, _request = run(capsys, *command, *again)
        assert code == 0, err
        slips_n, copies, points = state(url)
        assert (slips_n, points) == (1, 1500)
        assert ("not issued twice" in out) == (outcome != "not saved")
        assert complete_pdfs(small_disk.path) == [pdf]
        return outcome

    outcomes = sweep(attempt)
    assert {"not saved", "issued, PDF not written", "done"} <= outcomes, outcomes


def test_a_full_spool_leaves_the_slip_issued_and_says_so(
    small_disk: SmallDisk,
    ready_event: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database has room, the folder of the PDF has none: issued, exit 0, a warning that
    names the folder's disk and how to write it again; no PDF at all under its name."""
    monkeypatch.setenv("KIOSK_PASSPHRASE", DEMO_PASSPHRASE)
    url = f"sqlite:///{shutil.copyfile(ready_event, tmp_path / 'event.sqlite3')}"
    pdf = small_disk.path / "slip.pdf"
    small_disk.fill(0)
    code, out, err, request = run(
        capsys, "--db", url, "slip", "issue", "--customer", CHECKED_IN, "--offer", "O401",
        "--out", str(pdf), "--staff", "A001",
    )  # fmt: skip
    assert code == 0 and "Slip 1 issued" in out
    assert "Slip No. 000001 issued (printing not finished)" in err
    assert says_disk_full(err, small_disk)
    assert f"kiosk slip print 1 --out {pdf} --staff A001" in err
    assert not pdf.exists() and leftovers(small_disk.path) == []
    small_disk.empty()
    code, out, err, _ = run(
        capsys, "--db", url, "slip", "print", "1", "--out", str(pdf), "--staff", "A001"
    )
    assert code == 0, err
    assert complete_pdfs(small_disk.path) == [pdf]
    assert request


# -- governance save (service, SQLite) --------------------------------------------------------


CHANGED = ["address", "occupation_code"]


def test_governance_save_on_a_filling_disk(small_disk: SmallDisk, ready_event: Path) -> None:
    """No command line saves governance: the service a desk calls, with its request id."""

    def attempt(leave: int) -> str:
        path = fresh_copy(ready_event, small_disk)
        url = f"sqlite:///{path}"
        database = open_database(url)
        customer = _customer_id(database, CHECKED_IN)
        clock = FixedClock(MORNING)
        rm = staff_session(database.unit_of_work(), "S001", clock=clock)
        form = desk.current_form(database.unit_of_work(), customer)
        form = KycForm(
            **{
                **form.__dict__,
                "occupation_code": "2",
                "address": "广东省广州市天河区体育西路100号",
            }
        )
        request = f"gov-{leave}"
        small_disk.fill(leave)
        told: list[str] = []
        try:
            told = desk.save_governance(
                database.unit_of_work(), customer, form, rm, request_id=request, clock=clock
            )
            outcome = "done"
        except StorageError as error:
            assert error.cause == Cause.DISK_FULL and says_disk_full(str(error), small_disk)
            assert "Nothing was saved" in str(error)
            outcome = "not saved"
        except KioskError as error:  # the database could not even be read
            assert says_disk_full(str(error), small_disk), error
            outcome = "not saved"
        finally:
            small_disk.empty()
            database.dispose()

        def changes() -> int:
            database = open_database(url)
            try:
                consistent(database)
                with database.unit_of_work() as uow:
                    s = uow.session
                    rows = s.scalar(
                        select(func.count()).where(GovernanceChange.customer_id == customer)
                    )
                    outbox = s.scalar(select(func.count()).where(OutboxEntry.kind == "governance"))
                assert rows == outbox * len(CHANGED)
                return int(outbox or 0)
            finally:
                database.dispose()

        assert changes() == (1 if outcome == "done" else 0)
        database = open_database(url)
        again = desk.save_governance(
            database.unit_of_work(), customer, form, rm, request_id=request, clock=clock
        )
        database.dispose()
        assert sorted(again) == CHANGED
        if told:
            assert again == told
        assert changes() == 1
        return outcome

    assert sweep(attempt) == {"not saved", "done"}


# -- booth redeem (CLI, the booth's own SQLite file) ------------------------------------------


def test_booth_redeem_on_a_filling_disk(
    small_disk: SmallDisk,
    sqlite_demo_db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """SQLite only: the booth's own SQLite file is on the filling disk; the event database
    only issues the slip and the pack."""
    demo_db = sqlite_demo_db
    (code,) = issue(demo_db, ["O101"])
    ready = tmp_path / "booth.sqlite3"
    booth = new_booth(ready)
    booth.install(pack_bytes(demo_db))
    booth.database.dispose()

    def redemptions(path: Path) -> int:
        database = open_booth_database(path)
        try:
            with database.unit_of_work() as uow:
                s = uow.session
                assert s.connection().exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
                return int(s.scalar(select(func.count()).select_from(BoothRedemption)) or 0)
        finally:
            database.dispose()

    def attempt(leave: int) -> str:
        path = fresh_copy(ready, small_disk, "booth.sqlite3")
        scan = ("booth", "--booth-db", str(path), "scan", code, "--staff", "李四")
        small_disk.fill(leave)
        status, out, err, request = run(capsys, *scan)
        small_disk.empty()
        if status == 0:
            assert out.startswith("✓ Redeemed: serve the customer")
            assert redemptions(path) == 1
            outcome = "done"
        else:
            assert status == 1 and redemptions(path) == 0
            assert says_disk_full(err, small_disk), err
            assert "connection" not in err.lower() and "offline" not in err.lower()
            outcome = "not saved"
        # Enter again for the same request: redeemed once, "serve the customer".
        if request:
            status, out, err, _ = run(capsys, *scan, "--request-id", request)
            assert status == 0 and out.startswith("✓ Redeemed: serve the customer"), out + err
            assert ("nothing was done twice" in out) == (outcome == "done")
        assert redemptions(path) == (1 if request else 0)
        return outcome

    assert sweep(attempt) == {"not saved", "done"}


# -- exports and backups ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "name"),
    [
        (("export", "progress"), "progress.xlsx"),
        (("report", "summary", "--out"), "summary.pdf"),
        (("backup", "--to"), "backups"),
    ],
)
def test_exports_and_backups_on_a_filling_disk(
    small_disk: SmallDisk,
    sqlite_demo_url: str,
    capsys: pytest.CaptureFixture[str],
    command: tuple[str, ...],
    name: str,
) -> None:
    """Written whole or not at all: exit 1 naming the disk, and nothing under the final name.
    SQLite only: a backup copies the SQLite file (the files written are what is tested)."""
    demo_url = sqlite_demo_url
    target = small_disk.path / name

    def attempt(leave: int) -> str:
        shutil.rmtree(target, ignore_errors=True) if target.is_dir() else target.unlink(
            missing_ok=True
        )
        small_disk.fill(leave)
        code, _out, err, _ = run(capsys, "--db", demo_url, *command, str(target))
        small_disk.empty()
        folder = target if name == "backups" else small_disk.path
        assert leftovers(folder) == []
        if code == 1:
            assert says_disk_full(err, small_disk), err
            written = list(folder.glob("kiosk-*")) if name == "backups" else [target]
            assert not any(p.exists() for p in written)
            return "not written"
        assert code == 0, err
        if name.endswith(".xlsx"):
            load_workbook(target).close()
        elif name.endswith(".pdf"):
            complete_pdfs(small_disk.path)
        else:
            (backup,) = target.glob("kiosk-*.sqlite3")
            check = subprocess.run(
                ["sqlite3", str(backup), "PRAGMA integrity_check"], capture_output=True, text=True
            )
            assert check.stdout.strip() == "ok"
        return "done"

    assert sweep(attempt, step=4 * PAGE) == {"not written", "done"}


# -- PostgreSQL: a tablespace on a full disk --------------------------------------------------


@pytest.fixture
def pg_on_small_disk(pg_demo_template: str) -> Iterator[tuple[str, SmallDisk]]:
    """A copy of the demo event whose tables live on a 16 MB tmpfs (a tablespace)."""
    import pwd

    from tests.conftest import PG_ADMIN_URL, _pg_admin

    folder = Path(tempfile.mkdtemp(prefix="kiosk-pgspace-"))
    folder.chmod(0o755)  # the server's user must reach it
    try:
        postgres = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("the PostgreSQL server does not run as a local user 'postgres' here")
    disk = mount_tmpfs(folder, "16m", f",mode=0700,uid={postgres.pw_uid},gid={postgres.pw_gid}")
    admin, reason = _pg_admin()
    assert admin is not None, reason
    space = f"kiosk_small_{uuid.uuid4().hex[:8]}"
    name = f"kiosk_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin:
            admin.execute(f"CREATE TABLESPACE {space} LOCATION '{folder}'")
            try:
                admin.execute(
                    f'CREATE DATABASE "{name}" TEMPLATE "{pg_demo_template}" TABLESPACE {space}'
                )
                try:
                    yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}", disk
                finally:
                    disk.empty()
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                admin.execute(f"DROP TABLESPACE IF EXISTS {space}")
    finally:
        unmount(disk)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.pg
def test_postgresql_tablespace_full_check_in_and_slips(
    pg_on_small_disk: tuple[str, SmallDisk],
) -> None:
    """The server's table files cannot grow: "could not extend file" is told as the server's
    full disk, nothing is half done, and the same request again acts once."""
    url, disk = pg_on_small_disk
    database = open_database(url)
    clock = FixedClock(MORNING)
    r001 = staff_session(database.unit_of_work(), "R001", clock=clock)
    a001 = staff_session(database.unit_of_work(), "A001", clock=clock)
    key = keys.unlock(database.unit_of_work(), DEMO_PASSPHRASE)
    customers = [_customer_id(database, f"62000001{n:02d}") for n in range(40, 80)]
    told: dict[str, str] = {}

    def count(model: type, customer: int) -> int:
        with database.unit_of_work() as uow:
            return int(
                uow.session.scalar(select(func.count()).where(model.customer_id == customer)) or 0
            )

    disk.fill(0)
    for index, customer in enumerate(customers):
        request = f"pg-checkin-{index}"
        try:
            reception.check_in(
                database.unit_of_work(), customer, r001, request_id=request, clock=clock
            )
            told[request] = "done"
        except StorageError as error:
            assert error.cause == Cause.DISK_FULL and not error.place.local  # type: ignore[union-attr]
            assert "event database server" in str(error) and "Nothing was saved" in str(error)
            told[request] = "not saved"
        assert count(Visit, customer) == (1 if told[request] == "done" else 0)
    assert "not saved" in told.values()
    disk.empty()
    for index, customer in enumerate(customers):  # once there is room: each exactly once
        reception.check_in(
            database.unit_of_work(), customer, r001, request_id=f"pg-checkin-{index}", clock=clock
        )
        assert count(Visit, customer) == 1

    make_ready(database, *customers[:20])
    disk.fill(0)
    issued: dict[int, str] = {}
    for index, customer in enumerate(customers[:20]):
        try:
            slips.issue_slips(
                database.unit_of_work(),
                customer,
                [slips.CartLine("O401")],
                a001,
                key,
                request_id=f"pg-slip-{index}",
                clock=clock,
            )
            issued[customer] = "done"
        except StorageError as error:
            assert error.cause == Cause.DISK_FULL
            issued[customer] = "not saved"
        assert count(Slip, customer) == (1 if issued[customer] == "done" else 0)
    disk.empty()
    for index, customer in enumerate(customers[:20]):
        slips.issue_slips(
            database.unit_of_work(),
            customer,
            [slips.CartLine("O401")],
            a001,
            key,
            request_id=f"pg-slip-{index}",
            clock=clock,
        )
        assert count(Slip, customer) == 1
    consistent(database)
    database.dispose()


# -- PostgreSQL: the connection drops at COMMIT -----------------------------------------------


@pytest.mark.pg
@pytest.mark.parametrize("delivered", [True, False], ids=["committed", "not-committed"])
def test_connection_dropped_at_commit_is_settled_before_answering(
    pg_demo_url: str, delivered: bool
) -> None:
    """The proxy drops every connection as COMMIT passes (after the server got it, or not)
    and lets new ones in: the station asks with the request id and answers truthfully."""
    direct = open_database(pg_demo_url)
    clock = FixedClock(MORNING)
    customer = _customer_id(direct, CHECKED_IN)
    reception.check_in(
        direct.unit_of_work(),
        customer,
        staff_session(direct.unit_of_work(), "R001", clock=clock),
        clock=clock,
    )
    make_ready(direct, customer)
    with LanCable(pg_demo_url) as cable:
        station = open_database(cable.url)
        a001 = staff_session(station.unit_of_work(), "A001", clock=clock)
        key = keys.unlock(station.unit_of_work(), DEMO_PASSPHRASE)
        cable.cut_at_commit(deliver=delivered, down=False)
        cart = [slips.CartLine("O401"), slips.CartLine("O501")]
        try:
            told = slips.issue_slips(
                station.unit_of_work(), customer, cart, a001, key, request_id="drop-1", clock=clock
            )
        except KioskError as error:
            assert not delivered, error
            assert "nothing was saved" in str(error)
            told = []
        else:
            assert delivered
            assert [s.points for s in told] == [1500, 2000]
        assert cable.cuts() == 1  # the COMMIT really was cut off
        with direct.unit_of_work() as uow:
            there = uow.session.scalars(
                select(Slip.serial).where(Slip.customer_id == customer)
            ).all()
        assert sorted(there) == sorted(s.serial for s in told)
        again = slips.issue_slips(
            station.unit_of_work(), customer, cart, a001, key, request_id="drop-1", clock=clock
        )
        assert [s.replayed for s in again] == [True, True] if delivered else [False, False]
        station.dispose()
    with direct.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).where(Slip.customer_id == customer)) == 2
    consistent(direct)
    direct.dispose()


@pytest.mark.pg
@pytest.mark.parametrize("delivered", [True, False], ids=["committed", "not-committed"])
def test_commit_cut_with_the_server_away_is_unknown_until_repeated(
    pg_demo_url: str, delivered: bool
) -> None:
    """The server stays away after the cut, so the station cannot ask: it says it does not
    know yet, and the same request, repeated once the LAN is back, acts exactly once."""
    direct = open_database(pg_demo_url)
    clock = FixedClock(MORNING)
    customer = _customer_id(direct, FRESH)
    with LanCable(pg_demo_url) as cable:
        station = open_database(cable.url)
        r001 = staff_session(station.unit_of_work(), "R001", clock=clock)
        cable.cut_at_commit(deliver=delivered, down=True)
        with pytest.raises(OutcomeUnknown) as unknown:
            reception.check_in(
                station.unit_of_work(), customer, r001, request_id="cut-1", clock=clock
            )
        assert unknown.value.request_id == "cut-1"
        assert "will not be done twice" in str(unknown.value)
        cable.wait_cut()
        cable.plug()
        result = reception.check_in(
            station.unit_of_work(), customer, r001, request_id="cut-1", clock=clock
        )
        assert result.created and result.replayed == delivered
        station.dispose()
    with direct.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).where(Visit.customer_id == customer)) == 1
    consistent(direct)
    direct.dispose()


def test_request_ids_are_checked(ready_event: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A request id reused for another customer is refused, and nothing is done."""
    url = f"sqlite:///{ready_event}"
    code, _out, err, request = run(capsys, "--db", url, "checkin", FRESH, "--staff", "R001")
    assert code == 0 and request
    code, _out, err, _ = run(
        capsys, "--db", url, "checkin", "6200000002", "--staff", "R001", "--request-id", request
    )
    assert code == 1 and "already used" in err and "nothing was done" in err
    code, _out, err, _ = run(
        capsys, "--db", url, "checkin", "6200000002", "--staff", "R001", "--request-id", "x"
    )
    assert code == 1 and "is not a request id" in err
    assert os.environ.get("KIOSK_AUDIT_STRICT") == "1"
