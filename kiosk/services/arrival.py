"""Arrival windows (issue #20): each slot cut into windows of ``Event.window_minutes``, and each
branch's confirmed customers given one window, so the opening is not one crowd.

What counts: **customers**, not companions. The desks serve customers (a companion waits with
them and takes no ticket), so ``Event.window_throughput`` is customers per window, and a
window is never planned for more of them than that.

The rules of a plan, per slot:

- the slot holds ``duration // window_minutes`` whole windows from its start (one window, the
  slot itself, when the slot is shorter than a window); the minutes left at the end are slack
  for late-comers;
- a branch's customers of the slot stay together: one window, or consecutive windows when the
  branch alone brings more than the throughput (filled in order, each window to the limit);
- the whole slot is used evenly: branches from the largest down (branch code on a tie), each
  into the emptiest window that holds it whole (the earliest on a tie), so the plan is the same
  every time for the same confirmations;
- a slot whose windows cannot hold its confirmed customers at the throughput is said with its
  numbers, and then **nothing** is planned (no customer is silently left out): raise the
  throughput, lengthen the slot or move customers to another slot first.

Planning again (after more confirmations) keeps what it can: every customer whose window still
exists keeps it, and only those without one (confirmed since, or whose window went with a
change of the window length) are placed, next to their branch when there is room. When that
cannot keep a branch together, or the throughput was lowered under what is planned, the slot is
planned afresh and the result says how many customers moved; ``fresh=True`` always plans
afresh. A customer no longer confirmed loses their window. Customers confirmed after the last
plan have no window ("no window yet") until planning is run again.

The coordinator adjusts by moving a branch of a slot to another window (``move_branch``),
refused in a sentence when the window would then hold more than the throughput. Planning,
moving and the settings are a supervisor's and audited, each in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import audit
from kiosk.changeset import Changes
from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.models import Branch, Customer, Event, Invitation, InvitationStatus, TimeSlot
from kiosk.permissions import Action, require
from kiosk.services.auth import StaffSession
from kiosk.services.events import current_event
from kiosk.services.figure_settings import KEEP, Keep
from kiosk.uow import UnitOfWork

MIN_MINUTES, MAX_MINUTES = 5, 240
# This early still counts as in the window (reception, and the per-RM share arriving in it).
WINDOW_EARLY_GRACE = timedelta(minutes=10)
MAX_THROUGHPUT = 100_000


class WindowsOverflow(KioskError):
    """The slots' windows cannot hold their confirmed customers; nothing was planned."""


# -- the planner (pure) ----------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """Customers per window and branch (``loads[i][branch]``); ``split`` names any branch the
    planner could not keep in consecutive windows (its customers are still all placed)."""

    loads: list[dict[str, int]]
    split: frozenset[str] = frozenset()


def window_count(duration: timedelta, minutes: int) -> int:
    return max(1, int(duration.total_seconds() // 60) // minutes)


def place(
    windows: int,
    throughput: int,
    sizes: dict[str, int],
    fixed: list[dict[str, int]] | None = None,
) -> Placement:
    """Place ``sizes`` (branch -> customers to place) into ``windows`` windows of
    ``throughput`` customers each, around the ``fixed`` customers already there.

    Each branch goes into the emptiest window that holds it (even use of the slot); when that
    leaves a branch split although another placement would not, the fullest window that
    holds it is tried instead (best fit, which packs tighter), and the better of the two is
    taken: fewer branches out of consecutive windows, then fewer split, then the flatter.

    Raises ``ValueError`` when the customers do not fit at all (the caller words it)."""
    even = _place(windows, throughput, sizes, fixed, tight=False)
    if not _problems(even, sizes, throughput)[1]:
        return even
    tight = _place(windows, throughput, sizes, fixed, tight=True)
    options = [even, tight]
    if fixed is None or not any(fixed):
        options.append(_in_turn(windows, throughput, sizes))
    return min(options, key=lambda p: _problems(p, sizes, throughput))


def _in_turn(windows: int, throughput: int, sizes: dict[str, int]) -> Placement:
    """The branches one after the other through the windows, largest first, each window
    filled to an even share (the total over the windows, rounded up) before the next: every
    branch is in consecutive windows by construction, at the cost of splitting a branch at a
    window's edge. The last resort when a nearly full slot leaves no other way."""
    total = sum(sizes.values())
    share = min(throughput, -(-total // windows)) if total else throughput
    loads: list[dict[str, int]] = [{} for _ in range(windows)]
    i, room = 0, share
    for branch, n in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])):
        while n > 0:
            if room == 0:
                i, room = i + 1, share
            give = min(n, room)
            loads[i][branch] = loads[i].get(branch, 0) + give
            n -= give
            room -= give
    return Placement(loads)


def _problems(p: Placement, sizes: dict[str, int], throughput: int) -> tuple[int, int, int]:
    """(branches not in consecutive windows, branches spread over more windows than they
    need, the fullest window): lower is better."""
    spread = sum(
        1
        for branch, n in sizes.items()
        if n and sum(1 for w in p.loads if w.get(branch)) > -(-n // throughput)
    )
    return len(p.split), spread, max((sum(w.values()) for w in p.loads), default=0)


def _place(
    windows: int,
    throughput: int,
    sizes: dict[str, int],
    fixed: list[dict[str, int]] | None,
    *,
    tight: bool,
) -> Placement:
    loads = [dict(f) for f in fixed] if fixed else [{} for _ in range(windows)]
    assert len(loads) == windows
    total = sum(sizes.values()) + sum(sum(w.values()) for w in loads)
    if total > windows * throughput or any(sum(w.values()) > throughput for w in loads):
        raise ValueError("does not fit")
    had: dict[str, int] = defaultdict(int)
    for w in loads:
        for branch, n in w.items():
            had[branch] += n
    split: set[str] = set()

    def free(i: int) -> int:
        return throughput - sum(loads[i].values())

    for branch, n in sorted(sizes.items(), key=lambda kv: (-(kv[1] + had[kv[0]]), kv[0])):
        if n <= 0:
            continue
        occupied = [i for i in range(windows) if loads[i].get(branch)]
        if not occupied and n <= throughput:
            fits = [i for i in range(windows) if free(i) >= n]
            if fits:
                if tight:
                    best = min(fits, key=lambda i: (free(i), i))
                else:
                    best = max(fits, key=lambda i: (free(i), -i))
                loads[best][branch] = n
                continue
        run = _best_run(windows, n, occupied, free)
        if run is None:  # no consecutive windows hold it: the emptiest windows, one by one
            split.add(branch)
            for _ in range(n):
                best = max(range(windows), key=lambda i: (free(i), -i))
                loads[best][branch] = loads[best].get(branch, 0) + 1
            continue
        left = n
        needing = [i for i in run if not loads[i].get(branch)]
        for i in needing:  # every window of the run gets one, so the run stays unbroken
            loads[i][branch] = 1
            left -= 1
        for i in run:
            give = min(left, free(i))
            if give:
                loads[i][branch] = loads[i].get(branch, 0) + give
                left -= give
        assert left == 0
    return Placement(loads, frozenset(split))


def _best_run(
    windows: int, n: int, occupied: list[int], free: Callable[[int], int]
) -> range | None:
    """The shortest run of consecutive windows (covering the branch's windows already) whose
    room holds ``n`` more, every window of it able to take one; the roomiest, then earliest."""
    for length in range(1, windows + 1):
        best: tuple[int, int] | None = None
        for start in range(windows - length + 1):
            run = range(start, start + length)
            if occupied and not (start <= min(occupied) and max(occupied) < start + length):
                continue
            new = [i for i in run if i not in occupied]
            if any(free(i) < 1 for i in new) or len(new) > n:
                continue
            room = sum(free(i) for i in run)
            if room >= n and (best is None or room > best[0]):
                best = (room, start)
        if best is not None:
            return range(best[1], best[1] + length)
    return None


# -- what is planned -------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    starts_at: datetime
    ends_at: datetime
    branches: dict[str, int]  # branch code -> customers

    @property
    def total(self) -> int:
        return sum(self.branches.values())


@dataclass(frozen=True)
class SlotPlan:
    code: str
    label: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    confirmed: int  # confirmed customers of the slot
    windows: list[Window]
    unplanned: dict[str, int]  # branch code -> confirmed customers without a window
    overflow: str = ""  # the sentence when the windows cannot hold the confirmations

    @property
    def planned(self) -> int:
        return sum(w.total for w in self.windows)

    def branches(self) -> list[str]:
        codes = {b for w in self.windows for b in w.branches} | set(self.unplanned)
        return sorted(codes)


@dataclass(frozen=True)
class ArrivalPlan:
    minutes: int
    throughput: int | None
    timezone: str
    slots: list[SlotPlan]
    branch_names: dict[str, str] = field(default_factory=dict)

    @property
    def unplanned(self) -> int:
        return sum(sum(s.unplanned.values()) for s in self.slots)

    def over(self, window: Window) -> bool:
        """Whether the window holds more customers than the desks handle (the throughput
        was lowered after planning; planning again puts it right)."""
        return self.throughput is not None and window.total > self.throughput


def window_starts(slot: TimeSlot, minutes: int) -> list[datetime]:
    count = window_count(slot.ends_at - slot.starts_at, minutes)
    return [slot.starts_at + timedelta(minutes=minutes * k) for k in range(count)]


def window_end(slot_ends_at: datetime, starts_at: datetime, minutes: int) -> datetime:
    return min(starts_at + timedelta(minutes=minutes), slot_ends_at)


def against_window(at: datetime, starts_at: datetime, ends_at: datetime) -> tuple[int, int]:
    """-1 early, 0 in the window (from ``WINDOW_EARLY_GRACE`` before it to its end), 1 late;
    with the whole minutes before the window's start or after its end."""
    if at < starts_at - WINDOW_EARLY_GRACE:
        return -1, int((starts_at - at).total_seconds() // 60)
    if at > ends_at:
        return 1, int((at - ends_at).total_seconds() // 60)
    return 0, 0


def time_text(at: datetime, zone: ZoneInfo) -> str:
    """9:30 as a text message writes it (no leading zero)."""
    local = at.astimezone(zone)
    return f"{local.hour}:{local.minute:02d}"


def window_text(starts_at: datetime, ends_at: datetime, zone: ZoneInfo) -> str:
    return f"{time_text(starts_at, zone)}-{time_text(ends_at, zone)}"


def _overflow(slot: TimeSlot, confirmed: int, windows: int, minutes: int, throughput: int) -> str:
    if confirmed <= windows * throughput:
        return ""
    return _(
        "Slot {slot}: {n} confirmed customers, but its {windows} windows of {minutes} minutes "
        "hold {windows} × {throughput} = {room} at {throughput} customers per window; {over} "
        "too many. Raise the throughput, lengthen the slot or move customers to another slot."
    ).format(
        slot=slot.label,
        n=confirmed,
        windows=windows,
        minutes=minutes,
        throughput=throughput,
        room=windows * throughput,
        over=confirmed - windows * throughput,
    )


def _confirmed(session: Session, event: Event) -> dict[int, list[tuple[Invitation, str]]]:
    """Confirmed invitations per slot id with their branch code, by customer number."""
    rows = session.execute(
        select(Invitation, Branch.code)
        .join(Customer, Customer.id == Invitation.customer_id)
        .join(Branch, Branch.id == Customer.branch_id)
        .where(
            Invitation.event_id == event.id,
            Invitation.status == InvitationStatus.CONFIRMED,
        )
        .order_by(Customer.customer_no)
    ).all()
    per_slot: dict[int, list[tuple[Invitation, str]]] = defaultdict(list)
    for invitation, branch in rows:
        per_slot[invitation.slot_id].append((invitation, branch))
    return per_slot


def arrival_plan(uow: UnitOfWork) -> ArrivalPlan:
    """The plan as it stands: per slot, windows × branches with their customers, and who has
    no window yet."""
    with uow:
        s = uow.session
        event = current_event(s)
        minutes, throughput = event.window_minutes, event.window_throughput
        per_slot = _confirmed(s, event)
        slots = []
        for slot in event.slots:
            starts = window_starts(slot, minutes)
            index = {at: i for i, at in enumerate(starts)}
            loads: list[dict[str, int]] = [defaultdict(int) for _ in starts]
            unplanned: dict[str, int] = defaultdict(int)
            rows = per_slot.get(slot.id, [])
            for invitation, branch in rows:
                i = index.get(invitation.window_starts_at)  # type: ignore[arg-type]
                if i is None:
                    unplanned[branch] += 1
                else:
                    loads[i][branch] += 1
            slots.append(
                SlotPlan(
                    slot.code,
                    slot.label,
                    slot.starts_at,
                    slot.ends_at,
                    slot.capacity,
                    len(rows),
                    [
                        Window(at, window_end(slot.ends_at, at, minutes), dict(load))
                        for at, load in zip(starts, loads, strict=True)
                    ],
                    dict(unplanned),
                    _overflow(slot, len(rows), len(starts), minutes, throughput)
                    if throughput
                    else "",
                )
            )
        names = dict(s.execute(select(Branch.code, Branch.name)).all())
        return ArrivalPlan(minutes, throughput, event.timezone, slots, names)


@dataclass(frozen=True)
class PlanResult:
    placed: int  # customers given a window who had none
    kept: int  # customers who kept their window
    moved: int  # customers whose window changed (a slot planned afresh)
    cleared: int  # windows taken from customers no longer confirmed
    replanned: tuple[str, ...]  # slot labels planned afresh to keep branches together
    split: tuple[str, ...]  # "slot: branch" the planner could not keep in consecutive windows
    changes: Changes = field(default_factory=Changes, compare=False)

    def summary(self) -> str:
        text = _(
            "Arrival windows planned: {placed} customers given a window, {kept} kept theirs, "
            "{moved} moved."
        ).format(placed=self.placed, kept=self.kept, moved=self.moved)
        if self.cleared:
            text += " " + _("{n} no longer confirmed lost their window.").format(n=self.cleared)
        if self.replanned:
            text += " " + _("Planned afresh to keep branches together: {slots}.").format(
                slots="、".join(self.replanned)
            )
        if self.split:
            text += " " + _("Not kept in consecutive windows: {branches}.").format(
                branches="、".join(self.split)
            )
        return text


def _throughput(event: Event) -> int:
    if not event.window_throughput:
        raise KioskError(
            _(
                "Set how many customers the desks handle per window first "
                "(Administration → Arrival windows, or kiosk windows set --throughput N)."
            )
        )
    return event.window_throughput


def plan_windows(
    uow: UnitOfWork,
    staff: StaffSession,
    *,
    fresh: bool = False,
    clock: Clock | None = None,
    station: str = "",
) -> PlanResult:
    """Plan every slot's windows (see the module's rules) and write each confirmed customer's
    ``window_starts_at``, in one transaction; ``WindowsOverflow`` writes nothing."""
    require(staff, Action.PLAN_WINDOWS)
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        event = current_event(s)
        throughput = _throughput(event)
        minutes = event.window_minutes
        per_slot = _confirmed(s, event)
        overflow = [
            sentence
            for slot in event.slots
            if (
                sentence := _overflow(
                    slot,
                    len(per_slot.get(slot.id, [])),
                    len(window_starts(slot, minutes)),
                    minutes,
                    throughput,
                )
            )
        ]
        if overflow:
            raise WindowsOverflow(" ".join([*overflow, _("Nothing was planned.")]))
        placed = kept = moved = 0
        replanned: list[str] = []
        split: list[str] = []
        touched: set[int] = set()
        per_slot_audit: dict[str, int] = {}
        for slot in event.slots:
            rows = per_slot.get(slot.id, [])
            per_slot_audit[slot.code] = len(rows)
            starts = window_starts(slot, minutes)
            index = {at: i for i, at in enumerate(starts)}
            placement, keep = _plan_slot(rows, starts, index, throughput, fresh)
            if keep is False and not fresh:
                replanned.append(slot.label)
            split.extend(f"{slot.label}: {b}" for b in sorted(placement.split))
            # Who goes where: first everyone whose window the placement still gives their
            # branch stays in it (all of them when the windows were kept), then the others
            # fill what is left of their branch's windows, in window order.
            room: dict[tuple[str, int], int] = defaultdict(int)  # (branch, window) -> left
            for i, load in enumerate(placement.loads):
                for branch, n in load.items():
                    room[(branch, i)] = n
            waiting: list[tuple[Invitation, str]] = []
            for invitation, branch in rows:
                i = index.get(invitation.window_starts_at)  # type: ignore[arg-type]
                if i is not None and room[(branch, i)] > 0:
                    room[(branch, i)] -= 1
                    kept += 1
                else:
                    waiting.append((invitation, branch))
            for invitation, branch in waiting:
                i = next(k for k in range(len(starts)) if room[(branch, k)] > 0)
                room[(branch, i)] -= 1
                if invitation.window_starts_at in index:
                    moved += 1
                else:
                    placed += 1
                invitation.window_starts_at = starts[i]
                touched.add(invitation.customer_id)
        cleared = 0
        for invitation in s.scalars(
            select(Invitation).where(
                Invitation.event_id == event.id,
                Invitation.status != InvitationStatus.CONFIRMED,
                Invitation.window_starts_at.is_not(None),
            )
        ):
            invitation.window_starts_at = None
            touched.add(invitation.customer_id)
            cleared += 1
        result = PlanResult(
            placed,
            kept,
            moved,
            cleared,
            tuple(replanned),
            tuple(split),
            Changes.of(customers=touched) if touched else Changes(),
        )
        if touched:
            audit.append(
                s,
                at=now,
                action="windows_planned",
                staff_id=staff.staff_id,
                station=station,
                entity="event",
                entity_id=event.id,
                details={
                    "minutes": minutes,
                    "throughput": throughput,
                    "fresh": fresh,
                    "confirmed": per_slot_audit,
                    "placed": placed,
                    "kept": kept,
                    "moved": moved,
                    "cleared": cleared,
                    "replanned": list(replanned),
                    "split": list(split),
                },
            )
            uow.commit()
        return result


def _plan_slot(
    rows: list[tuple[Invitation, str]],
    starts: list[datetime],
    index: dict[datetime, int],
    throughput: int,
    fresh: bool,
) -> tuple[Placement, bool]:
    """The slot's placement, and whether the customers' current windows were kept."""
    everyone: dict[str, int] = defaultdict(int)
    for _invitation, branch in rows:
        everyone[branch] += 1
    afresh = place(len(starts), throughput, dict(everyone))
    if fresh:
        return afresh, False
    fixed: list[dict[str, int]] = [defaultdict(int) for _ in starts]
    new: dict[str, int] = defaultdict(int)
    for invitation, branch in rows:
        i = index.get(invitation.window_starts_at)  # type: ignore[arg-type]
        if i is None:
            new[branch] += 1
        else:
            fixed[i][branch] += 1
    if not any(fixed):
        return afresh, True  # nothing planned yet: the fresh plan is the plan
    try:
        kept = place(len(starts), throughput, dict(new), [dict(f) for f in fixed])
    except ValueError:  # the throughput was lowered under what is planned
        return afresh, False
    if kept.split and not afresh.split:
        return afresh, False
    return kept, True


@dataclass(frozen=True)
class Moved:
    customers: int
    window: str  # "9:30-10:00"
    changes: Changes = field(default_factory=Changes, compare=False)


def move_branch(
    uow: UnitOfWork,
    staff: StaffSession,
    *,
    slot: str,
    branch: str,
    starts_at: str | datetime,
    clock: Clock | None = None,
    station: str = "",
) -> Moved:
    """Move a branch's confirmed customers of a slot (those without a window too) into the
    window starting at ``starts_at`` ("9:30" in the event's time, or a datetime); refused in
    a sentence when that window would hold more than the throughput."""
    require(staff, Action.PLAN_WINDOWS)
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        event = current_event(s)
        throughput = _throughput(event)
        zone = ZoneInfo(event.timezone)
        the_slot = next(
            (t for t in event.slots if slot.strip().upper() in (t.code, t.label.upper())), None
        )
        if the_slot is None:
            raise KioskError(_("There is no slot “{slot}”.").format(slot=slot))
        starts = window_starts(the_slot, event.window_minutes)
        texts = [time_text(at, zone) for at in starts]
        if isinstance(starts_at, datetime):
            target = starts_at if starts_at in starts else None
        else:
            wanted = starts_at.strip().lstrip("0") or "0"
            wanted = wanted if not wanted.startswith(":") else "0" + wanted
            target = next((at for at, t in zip(starts, texts, strict=True) if t == wanted), None)
        if target is None:
            raise KioskError(
                _(
                    "Slot {slot} has no window starting at {time}; its windows start at {times}."
                ).format(
                    slot=the_slot.label,
                    time=starts_at if isinstance(starts_at, str) else time_text(starts_at, zone),
                    times="、".join(texts),
                )
            )
        rows = [r for r in _confirmed(s, event).get(the_slot.id, [])]
        code = branch.strip().upper()
        mine = [inv for inv, b in rows if b.upper() == code]
        if not mine:
            raise KioskError(
                _("Branch {branch} has no confirmed customers in slot {slot}.").format(
                    branch=branch, slot=the_slot.label
                )
            )
        others = sum(1 for inv, b in rows if b.upper() != code and inv.window_starts_at == target)
        end = window_end(the_slot.ends_at, target, event.window_minutes)
        shown = window_text(target, end, zone)
        if others + len(mine) > throughput:
            raise KioskError(
                _(
                    "Window {window} of {slot} would hold {total} customers, more than the "
                    "{throughput} the desks handle: {branch} brings {n} to the {others} there."
                ).format(
                    window=shown,
                    slot=the_slot.label,
                    total=others + len(mine),
                    throughput=throughput,
                    branch=code,
                    n=len(mine),
                    others=others,
                )
            )
        before = sorted(
            {time_text(inv.window_starts_at, zone) for inv in mine if inv.window_starts_at}
        )
        for invitation in mine:
            invitation.window_starts_at = target
        audit.append(
            s,
            at=now,
            action="window_branch_moved",
            staff_id=staff.staff_id,
            station=station,
            entity="time_slot",
            entity_id=the_slot.id,
            details={"branch": code, "customers": len(mine), "to": shown, "was": before},
        )
        uow.commit()
        return Moved(len(mine), shown, Changes.of(customers=[i.customer_id for i in mine]))


# -- the settings ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowSettings:
    minutes: int
    throughput: int | None  # None: not planned
    cleared: int = 0  # windows cleared because their length changed


def window_settings(uow: UnitOfWork) -> WindowSettings:
    with uow:
        event = current_event(uow.session)
        return WindowSettings(event.window_minutes, event.window_throughput)


def set_window_settings(
    uow: UnitOfWork,
    staff: StaffSession,
    *,
    minutes: int | None = None,
    throughput: int | Keep | None = KEEP,
    clock: Clock | None = None,
    station: str = "",
) -> WindowSettings:
    """Set the window length (minutes) and/or the desks' throughput (customers per window,
    None: no plan); a supervisor's, audited. A new length clears every planned window (they no
    longer exist): plan again."""
    require(staff, Action.PLAN_WINDOWS)
    if minutes is not None and not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise KioskError(
            _("A window lasts {low} to {high} minutes, not {n}.").format(
                low=MIN_MINUTES, high=MAX_MINUTES, n=minutes
            )
        )
    if isinstance(throughput, int) and not 0 < throughput <= MAX_THROUGHPUT:
        raise KioskError(_("The throughput is a number of customers per window, at least 1."))
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        event = current_event(s)
        before = (event.window_minutes, event.window_throughput)
        new_minutes = event.window_minutes if minutes is None else minutes
        new_throughput = event.window_throughput if isinstance(throughput, Keep) else throughput
        if (new_minutes, new_throughput) == before:
            return WindowSettings(*before)
        cleared = 0
        if new_minutes != event.window_minutes:
            for invitation in s.scalars(
                select(Invitation).where(
                    Invitation.event_id == event.id, Invitation.window_starts_at.is_not(None)
                )
            ):
                invitation.window_starts_at = None
                cleared += 1
        event.window_minutes = new_minutes
        event.window_throughput = new_throughput  # type: ignore[assignment]
        audit.append(
            s,
            at=now,
            action="window_settings_set",
            staff_id=staff.staff_id,
            station=station,
            entity="event",
            entity_id=event.id,
            details={
                "minutes": new_minutes,
                "throughput": new_throughput,
                "was": {"minutes": before[0], "throughput": before[1]},
                "windows_cleared": cleared,
            },
        )
        uow.commit()
        return WindowSettings(new_minutes, new_throughput, cleared)  # type: ignore[arg-type]


def describe_settings(settings: WindowSettings) -> str:
    if settings.throughput is None:
        return _("Arrival windows of {minutes} minutes; throughput not set (no plan).").format(
            minutes=settings.minutes
        )
    return _("Arrival windows of {minutes} minutes, {n} customers per window.").format(
        minutes=settings.minutes, n=settings.throughput
    )
