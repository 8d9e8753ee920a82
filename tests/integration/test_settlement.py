"""Close, settlement and reconciliation against hand-computed figures, and the ledger agrees."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from kiosk import audit, privacy
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.models import Customer, Merchant, Offer, Redemption, Slip, SlipStatus
from kiosk.permissions import Action
from kiosk.points import available_points
from kiosk.services import keys, reception
from kiosk.services.auth import staff_session
from kiosk.services.settlement import close_event, reconciliation, settlement
from kiosk.services.slips import CartLine, issue_slips, void_slip
from sync.ledger import Ledger
from sync.push import accounts_from_event, push
from tests.approval_support import s001_approves
from tests.gate_support import make_ready
from tests.points_support import drop_lots

# These customers hold a balance without lots: no day makes any of it expire.
UNDATED = date(2026, 12, 6)

MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)


@pytest.fixture
def ledger(demo_db: Database, pg_url: str) -> Iterator[Ledger]:
    opened = Ledger.open(pg_url, create=True)
    yield opened
    opened.dispose()


def _redeem(db: Database, serial: int, booth: str, seq: int) -> None:
    """What a booth bundle import records for one redemption."""
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup
        s = uow.session
        slip = s.scalar(select(Slip).where(Slip.serial == serial))
        assert slip is not None
        slip.status = SlipStatus.REDEEMED
        s.add(
            Redemption(
                uid=f"{booth}-{seq}",
                event_id=slip.event_id,
                slip_serial=serial,
                merchant_id=slip.merchant_id,
                booth_id=booth,
                booth_seq=seq,
                redeemed_at=MORNING + timedelta(hours=2),
                received_at=MORNING + timedelta(hours=9),
            )
        )
        uow.commit()


def test_close_settle_reconcile(demo_db: Database, ledger: Ledger) -> None:
    clock = FixedClock(MORNING)
    with audit.unaudited(), demo_db.unit_of_work() as uow:  # test setup
        ids = uow.session.scalars(select(Customer.id).order_by(Customer.id).limit(4)).all()
        uow.session.execute(update(Customer).values(points_balance=100_000))
        drop_lots(uow.session)
        # One offer expires early so close has something to release and something to keep.
        uow.session.execute(
            update(Offer).where(Offer.code == "O501").values(redeem_by=MORNING.date())
        )
        uow.commit()
    ledger.upsert_accounts(
        accounts_from_event(demo_db, privacy.unlock(demo_db.unit_of_work(), DEMO_PASSPHRASE))
    )
    front = staff_session(demo_db.unit_of_work(), "R001", clock=clock)
    desk = staff_session(demo_db.unit_of_work(), "A001", clock=clock)
    boss = staff_session(demo_db.unit_of_work(), "S001", clock=clock)
    key = keys.unlock(demo_db.unit_of_work(), DEMO_PASSPHRASE)
    make_ready(demo_db, *ids)
    for customer_id in ids:
        reception.check_in(demo_db.unit_of_work(), customer_id, front, clock=clock)
        issue_slips(
            demo_db.unit_of_work(),
            customer_id,
            [CartLine("O101"), CartLine("O501", 2)],  # 12,000 and 2 x 2,000
            desk,
            key,
            clock=clock,
        )
    # Serials: customer k has 2k-1 (O101, 12,000) and 2k (O501 x2, 4,000).
    _redeem(demo_db, 1, "booth-a", 1)
    _redeem(demo_db, 2, "booth-b", 1)
    _redeem(demo_db, 3, "booth-a", 2)
    void_slip(
        demo_db.unit_of_work(),
        4,
        desk,
        reason="changed mind",
        approval=s001_approves(demo_db, Action.VOID_SLIP, clock),
        clock=clock,
    )

    # The day after the O501 redeem-by date: serials 6 and 8 are released, O101 stays open.
    later = FixedClock(MORNING + timedelta(days=1))
    report = close_event(demo_db.unit_of_work(), boss, clock=later)
    assert (report.released, report.points, report.still_open) == (2, 8_000, 2)
    assert not report.closed and report.next_redeem_by is not None
    again = close_event(demo_db.unit_of_work(), boss, clock=later)
    assert again.released == 0  # nothing twice

    lines = settlement(demo_db.unit_of_work())
    with demo_db.unit_of_work() as uow:
        names = dict(uow.session.execute(select(Merchant.code, Merchant.name)).all())
    assert [(x.merchant_code, x.offer_code, x.slips, x.quantity, x.points) for x in lines] == [
        ("M01", "O101", 2, 2, 24_000),
        ("M05", "O501", 1, 2, 4_000),
    ]
    assert lines[0].merchant_name == names["M01"]
    figures = reconciliation(demo_db.unit_of_work())
    assert (figures.issued, figures.issued_points) == (8, 64_000)
    assert (figures.redeemed, figures.redeemed_points) == (3, 28_000)
    assert (figures.voided, figures.voided_points) == (1, 4_000)
    assert (figures.released, figures.released_points) == (2, 8_000)
    assert (figures.open, figures.open_points) == (2, 24_000)
    assert figures.balanced and figures.double_redemptions == 0
    with demo_db.unit_of_work() as uow:
        third = uow.session.get(Customer, ids[2])
        assert third is not None  # 12,000 redeemed; its 4,000 O501 slip released
        assert available_points(uow.session, third, UNDATED) == 100_000 - 12_000

    # The ledger ends where the event does: debits minus voids and releases.
    result = push(demo_db, ledger, clock=later)
    assert result.rejected == 0
    totals = ledger.totals()
    assert totals["debited"] == 64_000 and totals["credited"] == 4_000 + 8_000
    assert reconciliation(demo_db.unit_of_work()).pending == 0


def test_booth_redemptions_reach_the_ledger_and_late_ones_are_conflicts(
    demo_db: Database, ledger: Ledger, tmp_path: Path
) -> None:
    """Scan at a booth, import its bundle, push: the ledger marks the slip redeemed. A slip
    redeemed after close released it, and a gap in a booth's numbers, are both reported."""
    from kiosk.services.booths import deliver_bundle, import_bundle
    from tests.booth_support import MORNING as BOOTH_MORNING
    from tests.booth_support import issue, new_booth, pack_bytes

    codes = issue(demo_db, ["O101", "O102"])  # serials 1 and 2, both for M01
    ledger.upsert_accounts(
        accounts_from_event(demo_db, privacy.unlock(demo_db.unit_of_work(), DEMO_PASSPHRASE))
    )
    booth = new_booth(tmp_path / "booth.sqlite3", FixedClock(BOOTH_MORNING))
    booth.install(pack_bytes(demo_db))
    assert booth.redeem(codes[0], "李四").redeemed
    data, _count = booth.bundle()
    pushed = FixedClock(MORNING + timedelta(minutes=5))  # over the LAN, soon after
    assert deliver_bundle(demo_db.unit_of_work(), data, clock=pushed).added == 1
    assert push(demo_db, ledger, clock=pushed).rejected == 0
    assert ledger.slip_status(_event_code(demo_db), 1) == "redeemed"

    # Slip 2 is not redeemed by its date: close releases it; then the booth reports it.
    with audit.unaudited(), demo_db.unit_of_work() as uow:  # test setup
        uow.session.execute(update(Slip).where(Slip.serial == 2).values(redeem_by=MORNING.date()))
        uow.commit()
    after = FixedClock(MORNING + timedelta(days=1))
    boss = staff_session(demo_db.unit_of_work(), "S001", clock=after)
    assert close_event(demo_db.unit_of_work(), boss, clock=after).released == 1
    assert booth.redeem(codes[1], "李四").redeemed  # the booth had no network that day
    data, _count = booth.bundle()
    after.advance(hours=1)  # brought on a USB stick
    result = import_bundle(demo_db.unit_of_work(), data, boss, clock=after)
    assert [c.conflict for c in result.conflicts] == ["released"]
    with audit.unaudited(), demo_db.unit_of_work() as uow:  # a redemption never received
        uow.session.execute(
            update(Redemption).where(Redemption.slip_serial == 2).values(booth_seq=4)
        )
        uow.commit()
    figures = reconciliation(demo_db.unit_of_work())
    assert figures.redemption_conflicts == [("released", 1)]
    assert [(booth_id, seqs) for booth_id, seqs in figures.missing] == [
        (figures.missing[0][0], [2, 3])
    ]
    assert figures.balanced and (figures.redeemed, figures.released) == (1, 1)
    assert push(demo_db, ledger, clock=after).rejected == 0  # the release; the conflict is not sent
    assert ledger.slip_status(_event_code(demo_db), 2) == "released"


def _event_code(db: Database) -> str:
    from kiosk.services.events import current_event

    with db.unit_of_work() as uow:
        return current_event(uow.session).code
