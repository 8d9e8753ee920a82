"""The merchant booth: packs, every verdict, fuzzed codes, bundles, and a booth killed mid-way."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from kiosk import audit
from kiosk.booth_laptop.booth import Booth, NoPackError, describe
from kiosk.booth_laptop.store import BoothOutbox, BoothRedemption, open_booth_database
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.errors import DatabaseError, KioskError
from kiosk.merchant_pack import PackError
from kiosk.models import Customer, Redemption, Slip, SlipStatus
from kiosk.permissions import Action
from kiosk.redemption_bundle import BundleError
from kiosk.services.auth import staff_session
from kiosk.services.booths import Conflict, deliver_bundle, import_bundle, redemption_conflicts
from kiosk.services.slips import void_slip
from kiosk.slipcode import SlipPayload, Verdict, encode, event_tag
from tests.approval_support import s001_approves
from tests.booth_support import MORNING, issue, new_booth, pack_bytes, supervisor

ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture
def booth(demo_db: Database, tmp_path: Path) -> Booth:
    booth = new_booth(tmp_path / "booth.sqlite3")
    booth.install(pack_bytes(demo_db))
    return booth


def test_pack_holds_no_secret_key_and_no_customer_data(demo_db: Database) -> None:
    issue(demo_db, ["O101"])
    data = pack_bytes(demo_db).decode()
    assert "PRIVATE" not in data and "ENCRYPTED" not in data
    with demo_db.unit_of_work() as uow:
        customers = uow.session.scalars(select(Customer)).all()
        slip_code = uow.session.scalar(select(Slip.code))
    for customer in customers:
        for value in (
            customer.name,
            customer.customer_no,
            customer.phone_masked,
            customer.id_masked,
        ):
            if value and len(value) > 2:
                assert value not in data
    assert slip_code and slip_code not in data
    body = json.loads(data)["body"]
    assert set(body) == {
        "event",
        "merchant",
        "offers",
        "public_keys",
        "revoked",
        "bundle_secret",
        "issued_at",
        "merchants",  # every merchant's code, name and booth: where to send a customer
    }
    assert set(body["merchants"][0]) == {"id", "code", "name", "booth"}
    assert [o["code"] for o in body["offers"]] == ["O101", "O102"]


def test_every_verdict(demo_db: Database, booth: Booth, tmp_path: Path) -> None:
    valid, other_merchant, to_void = issue(demo_db, ["O101", "O501", "O102"])
    first = booth.redeem(valid, "李四")
    assert first.verdict == Verdict.VALID and first.redeemed and first.seq == 1
    assert first.offer_name == "基础体检套餐" and first.masked_name.endswith("*")
    again = booth.redeem(valid, "王五")
    assert again.verdict == Verdict.ALREADY_REDEEMED and not again.redeemed
    headline, _detail = describe(again, "Asia/Shanghai")
    assert headline == "Already redeemed at 09:10 by 李四"
    assert booth.check(other_merchant).verdict == Verdict.OTHER_MERCHANT
    # Voided after the pack was made: refused once the update is installed.
    assert booth.check(to_void).verdict == Verdict.VALID
    serial = int(booth.check(to_void).serial or 0)
    clock = FixedClock(MORNING + timedelta(minutes=2))  # before the update below
    void_slip(
        demo_db.unit_of_work(),
        serial,
        staff_session(demo_db.unit_of_work(), "A001", clock=clock),
        reason="x",
        approval=s001_approves(demo_db, Action.VOID_SLIP, clock),
        clock=clock,
    )
    booth.install(pack_bytes(demo_db, at=MORNING + timedelta(minutes=5)))
    assert booth.redeem(to_void, "李四").verdict == Verdict.REVOKED
    # Another event's slip, a forged one, an altered one, and noise.
    other_key = Ed25519PrivateKey.generate()
    payload = SlipPayload(event_tag("OTHER"), 1, 1, 1, 1, 100, date(2027, 1, 1), "王**")
    assert booth.check(encode(payload, other_key)).verdict == Verdict.OTHER_EVENT
    tag = booth.info.event_code if booth.info else ""
    forged = SlipPayload(event_tag(tag), 99, 1, 1, 1, 100, date(2027, 1, 1), "王**")
    assert booth.check(encode(forged, other_key)).verdict == Verdict.BAD_SIGNATURE
    altered = valid[:40] + ("B" if valid[40] != "B" else "C") + valid[41:]
    assert booth.check(altered).verdict in (Verdict.BAD_SIGNATURE, Verdict.UNREADABLE)
    assert booth.check("https://example.com/?q=1").verdict == Verdict.UNREADABLE
    # Expired: the same booth file, with the clock past the redeem-by date.
    later = Booth(booth.database, FixedClock(MORNING + timedelta(days=400)))
    assert later.check(issue(demo_db, ["O102"], "6200000031")[0]).verdict == Verdict.EXPIRED
    assert later.clock_warning() is not None
    unreadable = booth.check("https://example.com/?q=1")
    results = [first, again, booth.check(other_merchant), booth.check(to_void), unreadable]
    results += [later.check(valid), booth.check(encode(forged, other_key))]
    results += [booth.check(encode(payload, other_key)), booth.check(valid[:-2] + "BB")]
    assert {r.verdict for r in results} | {Verdict.EXPIRED} == set(Verdict)
    for result in results:  # every verdict has its own words
        assert describe(result, "Asia/Shanghai")[0]


def test_pack_refusals(demo_db: Database, tmp_path: Path, empty_url: str) -> None:
    data = pack_bytes(demo_db)
    fresh = new_booth(tmp_path / "a.sqlite3")
    with pytest.raises(NoPackError):
        fresh.check("KX")
    with pytest.raises(PackError, match="not a merchant pack"):
        fresh.install(b"\x00\xffgarbage")
    tampered = data.replace("基础体检套餐".encode(), "豪华体检套餐".encode())
    with pytest.raises(PackError, match="signature does not match"):
        fresh.install(tampered)
    document = json.loads(data)
    document["body"]["revoked"] = []
    document["body"]["merchant"]["name"] = "x"
    with pytest.raises(PackError, match="signature does not match"):
        fresh.install(json.dumps(document).encode())
    assert fresh.info is None
    fresh.install(data)
    assert fresh.info is not None and fresh.info.merchant_code == "M01"
    with pytest.raises(PackError, match="this booth serves"):
        fresh.install(pack_bytes(demo_db, "M02"))
    with pytest.raises(PackError, match="older than"):
        fresh.install(pack_bytes(demo_db, at=MORNING - timedelta(hours=1)))
    # A pack made by another event (its own keys, its own code) is refused by name.
    from kiosk.db import open_database
    from kiosk.demo import create_demo

    other = open_database(empty_url)
    create_demo(other.unit_of_work(), event_date=date(2026, 12, 5), invitees=20, seed=7)
    from kiosk.models import Event

    with audit.unaudited(), other.unit_of_work() as uow:  # test setup
        event = uow.session.scalar(select(Event))
        assert event is not None
        event.code = "OTHER"
        event.name = "另一场活动"
        uow.commit()
    with pytest.raises(PackError, match="another event"):
        fresh.install(pack_bytes(other))
    other.dispose()
    with pytest.raises(KioskError, match="passphrase"):
        from kiosk.services.booths import export_pack

        export_pack(
            demo_db.unit_of_work(),
            "M01",
            "wrong-passphrase",
            supervisor(demo_db),
            clock=FixedClock(MORNING),
        )


def test_booth_file_is_not_an_event_database(sqlite_demo_url: str) -> None:
    """SQLite only: a booth opens a file, and this one is the event's SQLite file."""
    with pytest.raises(DatabaseError, match="event database"):
        open_booth_database(sqlite_demo_url.removeprefix("sqlite:///"))


def _mutations(code: str, rng: random.Random) -> list[str]:
    out = []
    for _ in range(300):
        i = rng.randrange(len(code))
        out.append(code[:i] + rng.choice("BCDEFGHIJKLNOPRSAZ0x*é ") + code[i + 1 :])
    out += [code[:n] for n in range(0, len(code), 7)]
    out += [code + "B", code + "BC", code.lower(), " " + code + "\n", code[2:], "KX" + code]
    return out


def test_fuzz_never_raises_always_a_verdict(demo_db: Database, booth: Booth) -> None:
    rng = random.Random(7)
    (code,) = issue(demo_db, ["O101"])
    inputs = _mutations(code, rng)
    for _ in range(300):
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 400)))
        inputs += [raw.decode("latin-1"), raw.decode("utf-8", "replace"), "KX" + raw.hex()]
        inputs.append(
            "KX" + "".join(rng.choice("BCDEFGHIJKLNOPRS") for _ in range(rng.randrange(300)))
        )
    inputs += [
        "",
        "KX",
        "https://www.example.com/slip?id=1",
        "6901234567892",  # an EAN-13
        "DM7K3F9Q",  # an invitation code
        "WIFI:S:venue;T:WPA;P:secret;;",
        "KX" + "B" * 10_000,
        "\x00\x01\x02",
        "王**",
    ]
    seen = set()
    for text in inputs:
        result = booth.redeem(text, "fuzz")
        assert isinstance(result.verdict, Verdict)
        headline, _detail = describe(result, "Asia/Shanghai")
        assert headline
        seen.add(result.verdict)
        if text.strip().upper() != code:
            assert result.verdict != Verdict.VALID or result.serial == booth.check(code).serial
    assert Verdict.UNREADABLE in seen and Verdict.BAD_SIGNATURE in seen


def test_day_list_totals(demo_db: Database, booth: Booth) -> None:
    codes = issue(demo_db, ["O101", "O101", "O102"])
    for code in codes:
        assert booth.redeem(code, "李四").redeemed
    day = booth.day_list()
    assert day.day == date(2026, 11, 28) and [r.seq for r in day.rows] == [3, 2, 1]
    assert [(t.offer_code, t.redemptions, t.points) for t in day.totals] == [
        ("O101", 2, 24000),
        ("O102", 1, 30000),
    ]
    assert day.pending == 3
    booth.mark_delivered(2)
    assert booth.day_list().pending == 1


def test_bundle_import_is_idempotent_and_conflicts_kept(
    demo_db: Database, booth: Booth, tmp_path: Path
) -> None:
    a, b = issue(demo_db, ["O101", "O102"])
    booth.redeem(a, "李四")
    booth.redeem(b, "李四")
    path = tmp_path / "bundle.json"
    assert booth.export(path) == 2
    clock = FixedClock(MORNING + timedelta(hours=8))
    first = import_bundle(
        demo_db.unit_of_work(), path.read_bytes(), supervisor(demo_db), clock=clock
    )
    assert (first.added, first.duplicates, first.conflicts) == (2, 0, [])
    assert first.import_skew_s == 8 * 3600
    second = import_bundle(
        demo_db.unit_of_work(), path.read_bytes(), supervisor(demo_db), clock=clock
    )
    assert (second.added, second.duplicates) == (0, 2)
    with demo_db.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Redemption)) == 2
        statuses = uow.session.scalars(select(Slip.status).order_by(Slip.serial)).all()
        assert statuses == [SlipStatus.REDEEMED, SlipStatus.REDEEMED]
    # The same slip served at a second booth of the merchant: recorded, as a conflict.
    other = new_booth(tmp_path / "second.sqlite3")
    other.install(pack_bytes(demo_db))
    assert other.redeem(a, "赵六").redeemed
    data, _n = other.bundle()
    third = import_bundle(demo_db.unit_of_work(), data, supervisor(demo_db), clock=clock)
    assert third.added == 1 and [c.conflict for c in third.conflicts] == [Conflict.TWICE]
    assert [c.staff_name for c in redemption_conflicts(demo_db.unit_of_work())] == ["赵六"]
    # An altered bundle is refused whole.
    document = json.loads(path.read_bytes())
    document["body"]["redemptions"][0]["points"] = 1
    with pytest.raises(BundleError, match="altered"):
        import_bundle(
            demo_db.unit_of_work(), json.dumps(document).encode(), supervisor(demo_db), clock=clock
        )
    with pytest.raises(BundleError, match="not a redemption bundle"):
        import_bundle(demo_db.unit_of_work(), b"{}", supervisor(demo_db), clock=clock)


WORKER = """
import sys
from kiosk.booth_laptop.booth import Booth
from kiosk.booth_laptop.store import open_booth_database
booth = Booth(open_booth_database(sys.argv[1]))
with open(sys.argv[2]) as lines:
    codes = lines.read().split()
for code in codes:
    result = booth.redeem(code, "worker")
    print(result.seq, flush=True)
"""


def test_killed_mid_redemption_loses_nothing_and_leaves_nothing_half(
    demo_db: Database, tmp_path: Path
) -> None:
    """SIGKILL while redeeming in a loop: every acknowledged redemption is there, with exactly
    one outbox entry each, and sequence numbers 1..n without a gap."""
    path = tmp_path / "booth.sqlite3"
    booth = new_booth(path, FixedClock(datetime.now(UTC)))
    booth.install(pack_bytes(demo_db, at=datetime.now(UTC) - timedelta(minutes=1)))
    booth.database.dispose()
    # Slips signed with the demo event's key on its own merchant, with many serials.
    from kiosk.demo import DEMO_PASSPHRASE
    from kiosk.services import keys

    key = keys.unlock(demo_db.unit_of_work(), DEMO_PASSPHRASE)
    info = booth.info
    assert info is not None
    codes = [
        encode(
            SlipPayload(
                event_tag(info.event_code), n, info.merchant_id, 1, 1, 100, date(2099, 1, 1), "王**"
            ),
            key,
        )
        for n in range(1, 5001)
    ]
    (tmp_path / "codes.txt").write_text("\n".join(codes))
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(path), str(tmp_path / "codes.txt")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert worker.stdout is not None
    acknowledged = 0
    deadline = time.monotonic() + 60
    while acknowledged < 40 and time.monotonic() < deadline:
        line = worker.stdout.readline()
        if not line:
            break
        acknowledged = int(line)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    worker.stdout.close()
    assert acknowledged >= 40, "the worker did not redeem"
    database = open_booth_database(path)
    with database.unit_of_work() as uow:
        s = uow.session
        seqs = s.scalars(select(BoothRedemption.seq).order_by(BoothRedemption.seq)).all()
        assert seqs == list(range(1, len(seqs) + 1))
        assert len(seqs) >= acknowledged
        outbox = s.scalars(select(BoothOutbox.redemption_seq).order_by(BoothOutbox.id)).all()
        assert outbox == seqs  # one each, none orphaned
        serials = s.scalars(select(BoothRedemption.slip_serial).order_by(BoothRedemption.seq)).all()
        assert serials == list(range(1, len(seqs) + 1))
        assert s.connection().exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    # And the booth goes on where it stopped.
    again = Booth(database, FixedClock(datetime.now(UTC)))  # the worker's clock was the real one
    assert again.redeem(codes[len(seqs)], "after").seq == len(seqs) + 1
    assert again.redeem(codes[0], "after").verdict == Verdict.ALREADY_REDEEMED
    database.dispose()


def test_booth_file_settings_and_a_clock_far_off(demo_db: Database, tmp_path: Path) -> None:
    """WAL and synchronous=FULL like the event database; a booth clock a day behind is
    warned about on screen and recorded in the bundle."""
    behind = FixedClock(MORNING - timedelta(days=1))
    booth = new_booth(tmp_path / "booth.sqlite3", behind)
    with booth.database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    booth.install(pack_bytes(demo_db))
    assert "clock is behind" in (booth.clock_warning() or "")
    (code,) = issue(demo_db, ["O101"])
    assert booth.redeem(code, "李四").redeemed
    data, count = booth.bundle()
    clock = json.loads(data)["body"]["clock"]
    assert count == 1 and clock["pack_installed_at"] < clock["pack_issued_at"]
    result = import_bundle(
        demo_db.unit_of_work(), data, supervisor(demo_db), clock=FixedClock(MORNING)
    )
    assert result.install_skew_s == -86400 and result.import_skew_s == 86400


@pytest.mark.pg
def test_bundle_import_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    """The LAN push: a booth's bundle into a PostgreSQL event database, twice."""
    from kiosk.db import open_database
    from kiosk.demo import create_demo

    database = open_database(pg_url)
    create_demo(database.unit_of_work(), event_date=date(2026, 11, 28), invitees=40)
    (code,) = issue(database, ["O101"], customer_no="6200000010")
    booth = new_booth(tmp_path / "booth.sqlite3")
    booth.install(pack_bytes(database))
    assert booth.redeem(code, "李四").redeemed
    data, _count = booth.bundle()
    clock = FixedClock(MORNING + timedelta(hours=1))
    assert deliver_bundle(database.unit_of_work(), data, clock=clock).added == 1
    assert deliver_bundle(database.unit_of_work(), data, clock=clock).duplicates == 1
    with database.unit_of_work() as uow:
        assert uow.session.scalar(select(Slip.status)) == SlipStatus.REDEEMED
    booth.database.dispose()
    database.dispose()


def test_another_merchants_slip_names_its_booth_and_an_older_pack_still_installs(
    demo_db: Database, tmp_path: Path
) -> None:
    """The pack lists every merchant with its booth, so the verdict says where to send the
    customer; a pack made before that list existed installs, and the verdict then says only
    that the slip is for another merchant."""
    from dataclasses import replace

    from kiosk.demo import DEMO_PASSPHRASE
    from kiosk.merchant_pack import read_pack, sign_pack
    from kiosk.services.booths import _unlock_all
    from kiosk.services.events import current_event

    (other,) = issue(demo_db, ["O501"])  # 星光影城 at booth B1
    data = pack_bytes(demo_db)
    pack, _signer = read_pack(data, None)
    assert ("M05", "星光影城", "B1") in {(m.code, m.name, m.booth) for m in pack.merchants}
    with demo_db.unit_of_work() as uow:
        private = _unlock_all(uow.session, current_event(uow.session).id, DEMO_PASSPHRASE)
    older = sign_pack(replace(pack, merchants=()), private)
    assert b'"merchants"' not in older

    before = new_booth(tmp_path / "old.sqlite3")
    before.install(older)
    result = before.check(other)
    assert result.verdict == Verdict.OTHER_MERCHANT and result.go_to is None
    assert describe(result, "Asia/Shanghai")[0] == "For another merchant"
    before.install(data)  # the update brings the list
    result = before.check(other)
    assert result.go_to is not None and result.go_to.booth == "B1"
    headline, detail = describe(result, "Asia/Shanghai")
    assert headline == "Go to booth B1: 星光影城"
    assert detail.startswith("This slip is for another merchant's service; do not serve.")
    before.database.dispose()
