"""Arrival windows (issue #20): the planner over many generated cases and by hand, then the
whole flow on the demo event on SQLite and PostgreSQL: settings, a plan checked in the
database, planning again after a new confirmation, moving a branch, a slot that cannot hold
its confirmations, the reminder text carrying the window, and reception judging against it."""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.errors import KioskError, PermissionDenied
from kiosk.models import (
    AuditRecord,
    Branch,
    Customer,
    Event,
    Invitation,
    InvitationStatus,
    TimeSlot,
)
from kiosk.services import arrival, reception, tracking
from kiosk.services.arrival import (
    WindowsOverflow,
    arrival_plan,
    move_branch,
    place,
    plan_windows,
    set_window_settings,
)
from kiosk.services.auth import staff_session
from kiosk.services.reception import Arrival

CLOCK = FixedClock(datetime(2026, 11, 20, 2, 0, tzinfo=UTC))


def _consecutive(windows: list[int]) -> bool:
    return windows == list(range(windows[0], windows[-1] + 1))


def _check(windows: int, throughput: int, sizes: dict[str, int]) -> list[dict[str, int]]:
    p = place(windows, throughput, sizes)
    assert len(p.loads) == windows
    assert not p.split
    for load in p.loads:
        assert sum(load.values()) <= throughput  # never over the throughput
    for branch, n in sizes.items():
        used = [i for i, load in enumerate(p.loads) if load.get(branch)]
        assert sum(p.loads[i][branch] for i in used) == n  # nobody dropped
        assert _consecutive(used)  # a branch stays together
        assert len(used) >= -(-n // throughput)
    assert set().union(*p.loads) <= set(sizes)
    return p.loads


def test_planner_over_many_generated_slots() -> None:
    fitted = refused = 0
    for seed in range(4000):
        rng = random.Random(seed)
        windows, throughput = rng.randint(1, 10), rng.randint(1, 60)
        sizes = {
            f"B{i:02d}": rng.randint(1, throughput * (3 if rng.random() < 0.15 else 1))
            for i in range(rng.randint(0, 15))
        }
        if sum(sizes.values()) > windows * throughput:
            with pytest.raises(ValueError):
                place(windows, throughput, sizes)
            refused += 1
            continue
        loads = _check(windows, throughput, sizes)
        fitted += 1
        # With room to spare, a branch no larger than the throughput is in one window.
        if sum(sizes.values()) * 2 <= windows * throughput:
            for branch, n in sizes.items():
                if n <= throughput:
                    assert sum(1 for load in loads if load.get(branch)) == 1
        assert place(windows, throughput, dict(reversed(sizes.items()))).loads == loads
    assert fitted > 1000 and refused > 300


def test_planner_around_customers_already_planned() -> None:
    for seed in range(1500):
        rng = random.Random(seed)
        windows, throughput = rng.randint(2, 8), rng.randint(5, 40)
        sizes = {f"B{i}": rng.randint(1, throughput) for i in range(rng.randint(1, 8))}
        if sum(sizes.values()) > windows * throughput:
            continue
        first = place(windows, throughput, sizes).loads
        more = {b: rng.randint(0, 3) for b in sizes} | {"NEW": rng.randint(1, 5)}
        try:
            second = place(windows, throughput, more, [dict(w) for w in first])
        except ValueError:
            assert sum(sizes.values()) + sum(more.values()) > windows * throughput
            continue
        for i, load in enumerate(second.loads):
            assert sum(load.values()) <= throughput
            for branch, n in first[i].items():
                assert load[branch] >= n  # what was planned stays
        for branch in more:
            total = sum(load.get(branch, 0) for load in second.loads)
            assert total == sizes.get(branch, 0) + more[branch]
            if not second.split:
                assert _consecutive([i for i, w in enumerate(second.loads) if w.get(branch)])


def test_planner_by_hand() -> None:
    # Largest first into the emptiest window, the earliest on a tie: the slot used evenly.
    assert _check(3, 30, {"B01": 20, "B02": 15, "B03": 10, "B04": 5}) == [
        {"B01": 20},
        {"B02": 15},
        {"B03": 10, "B04": 5},
    ]
    # A branch larger than the throughput takes consecutive windows, filled in order.
    assert _check(3, 30, {"B01": 45, "B02": 30, "B03": 15}) == [
        {"B01": 30},
        {"B01": 15, "B03": 15},
        {"B02": 30},
    ]
    # Exactly full.
    assert _check(2, 10, {"A": 10, "B": 10}) == [{"A": 10}, {"B": 10}]
    # One over: refused, never squeezed.
    with pytest.raises(ValueError):
        place(2, 10, {"A": 10, "B": 11})
    # Three branches of 6 in two windows of 10 cannot all be whole: one is split, in
    # consecutive windows, and nothing exceeds 10.
    loads = _check(2, 10, {"A": 6, "B": 6, "C": 6})
    assert [sum(w.values()) for w in loads] == [9, 9]
    assert sum(1 for b in "ABC" if loads[0].get(b) and loads[1].get(b)) == 1
    # No branches: empty windows.
    assert place(3, 10, {}).loads == [{}, {}, {}]


# -- the flow on the demo event ---------------------------------------------------------------


def _slots(db: Database) -> dict[str, TimeSlot]:
    with db.unit_of_work() as uow:
        return {
            t.code: t
            for t in uow.session.scalars(select(TimeSlot)).all()
            if not uow.session.expunge(t)
        }


def _windows_in_db(db: Database) -> dict[tuple[int, str], Counter[datetime | None]]:
    """(slot id, branch code) -> customers per window start, read straight from the tables."""
    with db.unit_of_work() as uow:
        found: dict[tuple[int, str], Counter[datetime | None]] = defaultdict(Counter)
        for slot_id, branch, starts in uow.session.execute(
            select(Invitation.slot_id, Branch.code, Invitation.window_starts_at)
            .join(Customer, Customer.id == Invitation.customer_id)
            .join(Branch, Branch.id == Customer.branch_id)
            .where(Invitation.status == InvitationStatus.CONFIRMED)
        ):
            found[(slot_id, branch)][starts] += 1
        return found


def _assert_plan_holds(
    db: Database, throughput: int, minutes: int = 30, *, whole: bool = True
) -> None:
    slots = {t.id: t for t in _slots(db).values()}
    per_window: Counter[tuple[int, datetime]] = Counter()
    for (slot_id, _branch), counts in _windows_in_db(db).items():
        slot = slots[slot_id]
        starts = arrival.window_starts(slot, minutes)
        assert None not in counts  # everybody confirmed has a window
        used = sorted(starts.index(at) for at in counts)  # inside the slot, on the grid
        assert used == list(range(used[0], used[-1] + 1))  # consecutive
        if whole and sum(counts.values()) <= throughput:
            assert len(used) == 1
        for at, n in counts.items():
            per_window[(slot_id, at)] += n
    assert per_window and max(per_window.values()) <= throughput


def test_plan_flow(any_demo_db: Database) -> None:
    db = any_demo_db
    boss = staff_session(db.unit_of_work(), "S001", clock=CLOCK)
    rm = staff_session(db.unit_of_work(), "RM001", clock=CLOCK)
    with pytest.raises(PermissionDenied):
        set_window_settings(db.unit_of_work(), rm, throughput=25)
    with pytest.raises(KioskError, match="per window first"):
        plan_windows(db.unit_of_work(), boss, clock=CLOCK)
    plan = arrival_plan(db.unit_of_work())
    assert plan.throughput is None and plan.unplanned > 0
    assert [len(s.windows) for s in plan.slots] == [5, 6]  # 9:00-11:30, 13:30-16:30

    # A throughput too low for the morning: said with numbers, nothing planned.
    set_window_settings(db.unit_of_work(), boss, throughput=5, clock=CLOCK)
    with pytest.raises(WindowsOverflow) as refused:
        plan_windows(db.unit_of_work(), boss, clock=CLOCK)
    assert "5 × 5 = 25" in str(refused.value) and "Nothing was planned" in str(refused.value)
    with db.unit_of_work() as uow:
        assert (
            uow.session.scalar(select(func.count()).where(Invitation.window_starts_at.is_not(None)))
            == 0
        )

    set_window_settings(db.unit_of_work(), boss, throughput=25, clock=CLOCK)
    result = plan_windows(db.unit_of_work(), boss, clock=CLOCK)
    confirmed = sum(s.confirmed for s in arrival_plan(db.unit_of_work()).slots)
    assert result.placed == confirmed and result.kept == result.moved == 0
    _assert_plan_holds(db, 25)
    plan = arrival_plan(db.unit_of_work())
    assert plan.unplanned == 0
    for slot in plan.slots:
        assert sum(w.total for w in slot.windows) == slot.confirmed
        assert max(w.total for w in slot.windows) <= 25
    with db.unit_of_work() as uow:
        record = uow.session.scalars(
            select(AuditRecord).where(AuditRecord.action == "windows_planned")
        ).one()
        assert json.loads(record.details)["placed"] == confirmed

    # The reminder carries the window instead of the whole slot.
    reminders = tracking.reminders(db.unit_of_work())
    assert all(r.window and f"请于 {r.window} 到场" in r.text for r in reminders)
    assert all("请按场次时间到场" not in r.text for r in reminders)
    first = reminders[0]
    assert first.code and first.code in first.text

    # One more customer confirms: "no window yet", then planning again keeps everybody else.
    with audit.unaudited(), db.unit_of_work() as uow:  # test set-up: a report's confirmation
        invitation = uow.session.scalars(
            select(Invitation)
            .where(Invitation.status == InvitationStatus.INVITED)
            .order_by(Invitation.id)
            .limit(1)
        ).one()
        invitation.status = InvitationStatus.CONFIRMED
        newcomer = invitation.id
        uow.commit()
    assert arrival_plan(db.unit_of_work()).unplanned == 1
    text = next(
        r.text
        for r in tracking.reminders(db.unit_of_work())
        if r.window == "" and "请按场次时间到场" in r.text
    )
    assert "请于" not in text  # without a window: the whole slot, as before
    before = _windows_in_db(db)
    again = plan_windows(db.unit_of_work(), boss, clock=CLOCK)
    assert (again.placed, again.kept, again.moved) == (1, confirmed, 0)
    after = _windows_in_db(db)
    for key, counts in before.items():
        for at, n in counts.items():
            if at is not None:
                assert after[key][at] >= n
    # Consecutive; the newcomer may have gone next to their branch's full window.
    _assert_plan_holds(db, 25, whole=False)
    with db.unit_of_work() as uow:
        assert uow.session.get(Invitation, newcomer).window_starts_at is not None  # type: ignore[union-attr]

    # The coordinator moves a branch; refused when the window would exceed the throughput.
    plan = arrival_plan(db.unit_of_work())
    slot = plan.slots[0]
    window = min(slot.windows, key=lambda w: w.total)
    fullest = max(slot.windows, key=lambda w: w.total)
    zone = plan.timezone
    from zoneinfo import ZoneInfo

    small = min(
        (b for w in slot.windows if w is not window for b in w.branches),
        key=lambda b: sum(w.branches.get(b, 0) for w in slot.windows),
    )
    n_small = sum(w.branches.get(small, 0) for w in slot.windows)
    if window.total + n_small <= 25:
        moved = move_branch(
            db.unit_of_work(),
            boss,
            slot=slot.code,
            branch=small,
            starts_at=arrival.time_text(window.starts_at, ZoneInfo(zone)),
            clock=CLOCK,
        )
        assert moved.customers == n_small
        counts = _windows_in_db(db)
        slot_id = _slots(db)[slot.code].id
        assert set(counts[(slot_id, small)]) == {window.starts_at}
    big = max(
        (b for b in fullest.branches),
        key=lambda b: fullest.branches[b],
    )
    plan = arrival_plan(db.unit_of_work())
    target = max((w for w in plan.slots[0].windows if big not in w.branches), key=lambda w: w.total)
    n_big = sum(w.branches.get(big, 0) for w in plan.slots[0].windows)
    set_window_settings(db.unit_of_work(), boss, throughput=target.total + n_big - 1, clock=CLOCK)
    with pytest.raises(KioskError, match="more than the") as too_many:
        move_branch(
            db.unit_of_work(),
            boss,
            slot=slot.code,
            branch=big,
            starts_at=target.starts_at,
            clock=CLOCK,
        )
    assert f"{big} brings {n_big}" in str(too_many.value)
    with pytest.raises(KioskError, match="no window starting at 8:00"):
        move_branch(db.unit_of_work(), boss, slot="AM", branch=big, starts_at="8:00", clock=CLOCK)
    with pytest.raises(PermissionDenied):
        move_branch(db.unit_of_work(), rm, slot="AM", branch=big, starts_at="9:00", clock=CLOCK)

    # The throughput lowered under the fullest window: that slot is planned afresh, moving
    # as few customers as it can, never over the new throughput.
    plan = arrival_plan(db.unit_of_work())
    top = max(w.total for w in plan.slots[0].windows)
    assert not any(plan.over(w) for w in plan.slots[0].windows)
    set_window_settings(db.unit_of_work(), boss, throughput=top - 1, clock=CLOCK)
    before = arrival_plan(db.unit_of_work())  # the old plan, now over in its fullest window
    assert [before.over(w) for w in before.slots[0].windows].count(True) >= 1
    assert all(before.over(w) == (w.total > top - 1) for w in before.slots[0].windows)
    lowered = plan_windows(db.unit_of_work(), boss, clock=CLOCK)
    after = arrival_plan(db.unit_of_work())
    assert not any(after.over(w) for slot in after.slots for w in slot.windows)
    assert plan.slots[0].label in lowered.replanned
    assert lowered.placed == 0 and lowered.moved > 0 and lowered.kept > lowered.moved
    assert lowered.kept + lowered.moved == confirmed + 1
    _assert_plan_holds(db, top - 1, whole=False)

    # A new window length clears the plan: plan again.
    changed = set_window_settings(db.unit_of_work(), boss, minutes=20, throughput=25, clock=CLOCK)
    assert changed.cleared == confirmed + 1
    assert arrival_plan(db.unit_of_work()).unplanned == confirmed + 1
    fresh = plan_windows(db.unit_of_work(), boss, fresh=True, clock=CLOCK)
    assert fresh.placed == confirmed + 1
    _assert_plan_holds(db, 25, minutes=20)

    # A customer who declines loses their window.
    with audit.unaudited(), db.unit_of_work() as uow:
        uow.session.execute(
            update(Invitation)
            .where(Invitation.id == newcomer)
            .values(status=InvitationStatus.DECLINED)
        )
        uow.commit()
    assert plan_windows(db.unit_of_work(), boss, clock=CLOCK).cleared == 1
    with db.unit_of_work() as uow:
        assert uow.session.get(Invitation, newcomer).window_starts_at is None  # type: ignore[union-attr]


def test_reception_against_the_window(any_demo_db: Database) -> None:
    db = any_demo_db
    boss = staff_session(db.unit_of_work(), "S001", clock=CLOCK)
    set_window_settings(db.unit_of_work(), boss, throughput=30, clock=CLOCK)
    plan_windows(db.unit_of_work(), boss, clock=CLOCK)
    with db.unit_of_work() as uow:
        invitation, slot_start = uow.session.execute(
            select(Invitation, TimeSlot.starts_at)
            .join(TimeSlot, TimeSlot.id == Invitation.slot_id)
            .where(
                Invitation.window_starts_at.is_not(None),
                Invitation.window_starts_at > TimeSlot.starts_at,
            )
            .order_by(Invitation.id)
            .limit(1)
        ).one()
        customer_id, starts = invitation.customer_id, invitation.window_starts_at
        uninvited = uow.session.scalar(
            select(Invitation.customer_id).where(Invitation.window_starts_at.is_(None)).limit(1)
        )
        assert uow.session.scalar(select(Event.window_minutes)) == 30
    ends = starts + timedelta(minutes=30)
    for at, expected, minutes in (
        (slot_start, Arrival.EARLY, int((starts - slot_start).total_seconds() // 60)),
        (starts - timedelta(minutes=5), Arrival.IN_WINDOW, 0),  # a few minutes early is fine
        (starts + timedelta(minutes=29), Arrival.IN_WINDOW, 0),
        (ends + timedelta(minutes=12), Arrival.LATE, 12),
    ):
        card = reception.customer_card(db.unit_of_work(), customer_id, clock=FixedClock(at))
        assert (card.arrival, card.minutes_off) == (expected, minutes)
        assert card.window_start == starts and card.window_end == ends
    # Without a window: against the slot, as before.
    card = reception.customer_card(
        db.unit_of_work(), uninvited, clock=FixedClock(slot_start + timedelta(minutes=5))
    )
    assert card.window_start is None
    assert card.arrival in (Arrival.ON_TIME, Arrival.EARLY, Arrival.LATE)


def test_slot_figures_judge_arrivals_as_reception_did(any_demo_db: Database) -> None:
    """The dashboard's early / on time / late per slot agree with what reception told each
    customer: against their window when they have one, else against the slot."""
    from kiosk.models import Event as EventRow
    from kiosk.services.figures import slot_figures

    db = any_demo_db
    boss = staff_session(db.unit_of_work(), "S001", clock=CLOCK)
    set_window_settings(db.unit_of_work(), boss, throughput=30, clock=CLOCK)
    plan_windows(db.unit_of_work(), boss, clock=CLOCK)
    with db.unit_of_work() as uow:
        rows = uow.session.execute(
            select(Invitation.customer_id, Invitation.window_starts_at, TimeSlot.starts_at)
            .join(TimeSlot, TimeSlot.id == Invitation.slot_id)
            .where(TimeSlot.code == "AM")
            .order_by(Invitation.window_starts_at.is_(None), Invitation.id)
        ).all()
    windowed = [r for r in rows if r.window_starts_at is not None]
    plain = [r for r in rows if r.window_starts_at is None]
    assert len(windowed) >= 4 and plain
    late_window = next(r for r in windowed if r.window_starts_at > r.starts_at)
    windowed = [r for r in windowed if r is not late_window]
    # (customer, when they come): early for their window though inside the slot; in the
    # window; late for the window though inside the slot; no window, on time for the slot.
    visits = [
        (late_window, late_window.starts_at + timedelta(minutes=1)),
        (windowed[0], windowed[0].window_starts_at + timedelta(minutes=3)),
        (windowed[1], windowed[1].window_starts_at + timedelta(minutes=45)),
        (plain[0], plain[0].starts_at + timedelta(minutes=20)),
    ]
    told = Counter()
    for row, at in visits:
        desk = staff_session(db.unit_of_work(), "R001", clock=FixedClock(at))
        card = reception.customer_card(db.unit_of_work(), row.customer_id, clock=FixedClock(at))
        told[card.arrival] += 1
        reception.check_in(db.unit_of_work(), row.customer_id, desk, clock=FixedClock(at))
    assert told == {Arrival.EARLY: 1, Arrival.IN_WINDOW: 1, Arrival.LATE: 1, Arrival.ON_TIME: 1}
    with db.unit_of_work() as uow:
        event = uow.session.scalar(select(EventRow))
        figures = {f.code: f for f in slot_figures(uow.session, event, CLOCK.now())}
    morning = figures["AM"]
    assert (morning.arrived, morning.early, morning.on_time, morning.late) == (4, 1, 2, 1)
