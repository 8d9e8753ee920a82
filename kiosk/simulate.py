"""A demo day played through the real services on a simulated clock (``kiosk demo --simulate``).

Every step goes through the same service calls the stations make: reception checks customers
in (``reception.check_in``, walk-ins with ``register_walk_in``), relationship managers call
the next ticket at the service desk, govern the data that needs it and open mobile banking,
activation desks record the mobile-banking login, the charity scan-pay and the prize and
issue signed slips past the event's redemption gate (``kiosk.services.gate``: the steps the
gate asks for are done at the desk when they can be; a customer it still stops is let through
by the supervisor on the spot, audited, or leaves without slips), and merchant booths
(``kiosk.booth_laptop``, one booth file per merchant with its pack installed) redeem the slips;
their bundles are imported into the event database every half hour, as a runner with a USB
stick would. So the dashboard and the reports read exactly what a real day leaves behind.

The day is a discrete-event simulation: a heap of timed actions, each run at its simulated
time on ``SimClock``, which every service and booth reads. Arrivals spread over the slots
with some early and late customers and a few walk-ins; desks are people who call the next
ticket when free. The same seed plays the same day. ``run_until`` advances to a moment, so
the app can play the day in accelerated real time from a QTimer while a dashboard watches.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from kiosk import privacy
from kiosk.booth_laptop.booth import Booth
from kiosk.booth_laptop.store import open_booth_database
from kiosk.clock import Clock, FixedClock
from kiosk.db import Database
from kiosk.demo import DEMO_PASSPHRASE, DEMO_PIN
from kiosk.errors import KioskError
from kiosk.governance import KycForm, add_years, age_on, validity_years
from kiosk.idcard import birth_date, gender, is_valid_resident_id
from kiosk.kyc import OCCUPATIONS, governance_gaps
from kiosk.models import (
    Branch,
    Customer,
    Event,
    Invitation,
    InvitationStatus,
    Merchant,
    MobileBanking,
    Offer,
    Queue,
    QueueEntry,
    QueueStatus,
    Role,
    ServiceDelivery,
    Slip,
    SlipFeedback,
    SlipStatus,
    Staff,
    TimeSlot,
)
from kiosk.permissions import Action
from kiosk.services import activation, desk, feedback, gate, keys, reception, slips
from kiosk.services.approval import approve
from kiosk.services.auth import StaffSession, staff_session
from kiosk.services.booths import export_pack, import_bundle
from kiosk.services.desk import DeskPolicy
from kiosk.services.events import current_event


class SimClock(Clock):
    """The simulated time: set by the simulation, read by every service and booth."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@dataclass(frozen=True)
class DayPlan:
    """How people behave; the defaults give a busy but realistic day."""

    show_confirmed: float = 0.85  # confirmed invitees who come
    show_unconfirmed: float = 0.25  # invitees who never answered but come anyway
    show_declined: float = 0.02
    early: float = 0.12  # come 35-90 minutes before their slot
    late: float = 0.07  # come after their slot ended
    walk_ins: int = 5
    desk_minutes: tuple[float, float] = (5, 12)  # governance and mobile banking
    open_mobile_banking: float = 0.85  # of those without it, at the desk
    activation_minutes: tuple[float, float] = (3, 7)
    login: float = 0.8  # mobile-banking login at the activation desk (when they have it)
    scan_pay: float = 0.7
    takes_slips: float = 0.9
    override: float = 0.5  # a customer the gate stops, let through by the supervisor
    void: float = 0.03  # a slip voided right away (changed their mind)
    redeem_today: float = 0.7  # slips redeemed at the booths on the day
    redeem_minutes: tuple[float, float] = (5, 120)
    bundle_every: timedelta = timedelta(minutes=30)
    # After the event (issue #21): services delivered, complaints, satisfaction calls.
    delivered_at_booth: float = 0.6  # of slips redeemed at a booth whose service comes later
    delivered_later: float = 0.8  # of the rest: reported days later by the merchant
    booth_complaint: float = 0.04  # a customer complains at the booth
    called: float = 0.5  # redeemed slips reached by the satisfaction call
    call_complaint: float = 0.15  # of those reached, a complaint


@dataclass
class SimulationSummary:
    arrivals: int = 0
    walk_ins: int = 0
    governed: int = 0
    mobile_banking_opened: int = 0
    logins: int = 0
    scan_pays: int = 0
    slips: int = 0
    voided: int = 0
    redeemed: int = 0
    overrides: int = 0  # customers the supervisor let past the gate
    held_at_gate: int = 0  # customers the gate stopped, who left without slips
    bundles: int = 0
    deliveries: int = 0  # delivery times recorded (booths and the merchants' later files)
    complaints: int = 0  # complaints (at the booth and on the call)
    calls: int = 0  # satisfaction calls recorded
    finished_at: datetime | None = None
    refused: list[str] = field(default_factory=list)  # service refusals (one sentence each)


# What customers said, in their words (issue #21's 兑换积分易、使用服务难).
_BOOTH_COMPLAINTS = (
    ("conditions", "要求先办会员卡才给做"),
    ("refused", "说今天名额满了不给兑换"),
    ("quality", "积分客户被安排到最后"),
)
_CALL_COMPLAINTS = (
    ("conditions", "到店后要求加钱升级套餐"),
    ("refused", "预约了三次都说没有时间"),
    ("quality", "服务时间比付费客户短"),
    ("other", "门店地址和兑换券上的不一样"),
)


@dataclass
class _Desk:
    staff: StaffSession
    queue: Queue
    name: str
    shift_end: datetime
    busy: bool = False


class Simulation:
    """One demo day; ``run()`` plays it to the end, ``run_until(t)`` up to a moment."""

    def __init__(
        self,
        database: Database,
        booth_folder: Path,
        *,
        seed: int = 1,
        plan: DayPlan | None = None,
        clock: SimClock | None = None,
    ) -> None:
        self.database = database
        self.plan = plan or DayPlan()
        self.rng = random.Random(seed)
        self.summary = SimulationSummary()
        self._heap: list[tuple[datetime, int, Callable[[], None]]] = []
        self._order = itertools.count()
        with database.unit_of_work() as uow:
            s = uow.session
            event = current_event(s)
            self.zone = ZoneInfo(event.timezone)
            self.event_code = event.code
            self.day: date = event.event_date
            slots = list(event.slots)
            if not slots:
                raise KioskError("The event has no slots to simulate.")
            self.starts_at = min(t.starts_at for t in slots) - timedelta(minutes=90)
            self.ends_at = max(t.ends_at for t in slots) + timedelta(hours=3)
            invitations = s.execute(
                select(Invitation.customer_id, Invitation.status, TimeSlot)
                .join(TimeSlot, TimeSlot.id == Invitation.slot_id)
                .where(Invitation.event_id == event.id)
                .order_by(Invitation.id)
            ).all()
            branch_slots = {
                branch: slot
                for branch, slot in s.execute(
                    select(Customer.branch_id, Invitation.slot_id)
                    .join(Customer, Customer.id == Invitation.customer_id)
                    .where(Invitation.event_id == event.id)
                    .distinct()
                )
            }
            rms = s.execute(
                select(Staff.staff_no, Staff.branch_id, Staff.roles).order_by(Staff.staff_no)
            ).all()
            self.branch_codes = list(s.scalars(select(Branch.code).order_by(Branch.code)))
            self.merchants = list(
                s.scalars(select(Merchant.code).where(Merchant.event_id == event.id))
            )
            slot_by_id = {t.id: t for t in slots}
        self.clock = clock or SimClock(self.starts_at)
        self.clock.at = self.starts_at
        uow = database.unit_of_work
        self.receptionists = [
            staff_session(uow(), no, clock=self.clock)
            for no, _b, roles in rms
            if Role.RECEPTION in roles.split()
        ]
        # The supervisor exports the packs, imports the bundles and approves the voids.
        self.supervisor = staff_session(
            uow(),
            next(no for no, _b, roles in rms if Role.SUPERVISOR in roles.split()),
            clock=self.clock,
        )
        self.key = keys.unlock(uow(), DEMO_PASSPHRASE)
        # The simulated RMs read the customers' ID cards: the sealed numbers, opened.
        self.opener = privacy.unlock(uow(), DEMO_PASSPHRASE)
        self.waiting = {queue: 0 for queue in Queue}
        self.idle: dict[Queue, list[_Desk]] = {queue: [] for queue in Queue}
        self.desks: list[_Desk] = []
        # One RM per branch works the service desk during the branch's slot (and stays while
        # customers of the slot still wait); the activation staff work all day.
        first_rm: dict[int, str] = {}
        for no, branch_id, roles in rms:
            if Role.RM in roles.split() and branch_id is not None:
                first_rm.setdefault(branch_id, no)
        for number, (branch_id, no) in enumerate(sorted(first_rm.items()), start=1):
            slot = slot_by_id.get(branch_slots.get(branch_id, -1))
            if slot is None:
                continue
            member = staff_session(uow(), no, clock=self.clock)
            start = slot.starts_at - timedelta(minutes=30)
            end = slot.ends_at + timedelta(minutes=45)  # late arrivals of the slot
            self._add_desk(member, Queue.SERVICE_DESK, f"D{number:02d}", start, end)
        activation_staff = [no for no, _b, roles in rms if Role.ACTIVATION in roles.split()]
        for number, no in enumerate(activation_staff, start=1):
            self._add_desk(
                staff_session(uow(), no, clock=self.clock),
                Queue.ACTIVATION,
                f"J{number:02d}",
                self.starts_at + timedelta(minutes=45),
                max(t.ends_at for t in slots),
            )
        self._plan_arrivals(invitations)
        self._open_booths(booth_folder)
        self._at(self.starts_at + self.plan.bundle_every, self._import_bundles)

    # -- the heap ---------------------------------------------------------------------------

    def _at(self, when: datetime, action: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (when, next(self._order), action))

    @property
    def done(self) -> bool:
        return not self._heap

    @property
    def next_at(self) -> datetime | None:
        return self._heap[0][0] if self._heap else None

    def run_until(self, moment: datetime) -> int:
        """Run every action due up to ``moment``; the clock then shows ``moment`` (or the
        last action's time when the day is over). Returns how many actions ran."""
        ran = 0
        while self._heap and self._heap[0][0] <= moment:
            when, _n, action = heapq.heappop(self._heap)
            self.clock.at = max(self.clock.at, when)
            action()
            ran += 1
        if self._heap:
            self.clock.at = max(self.clock.at, moment)
        elif self.summary.finished_at is None:
            self.summary.finished_at = self.clock.at
        return ran

    def run(self) -> SimulationSummary:
        while self._heap:
            self.run_until(self._heap[0][0])
        self.summary.finished_at = self.clock.at
        return self.summary

    def _refused(self, error: KioskError) -> None:
        """A service said no (sold out, not enough points ...): the day goes on."""
        self.summary.refused.append(str(error))

    # -- arrivals ---------------------------------------------------------------------------

    def _arrival_time(self, slot: TimeSlot) -> datetime:
        rng, plan = self.rng, self.plan
        roll = rng.random()
        if roll < plan.early:
            return slot.starts_at - timedelta(minutes=rng.uniform(35, 90))
        if roll < plan.early + plan.late:
            return slot.ends_at + timedelta(minutes=rng.uniform(2, 40))
        length = (slot.ends_at - slot.starts_at).total_seconds() / 60
        # Most come in the first hour: a triangular spread peaking shortly after the start.
        minutes = rng.triangular(-25, length, 10)
        return slot.starts_at + timedelta(minutes=minutes)

    def _plan_arrivals(self, invitations: list[tuple[int, str, TimeSlot]]) -> None:
        plan = self.plan
        show = {
            InvitationStatus.CONFIRMED: plan.show_confirmed,
            InvitationStatus.INVITED: plan.show_unconfirmed,
            InvitationStatus.DECLINED: plan.show_declined,
        }
        slots = []
        for customer_id, status, slot in invitations:
            slots.append(slot)
            if self.rng.random() < show[InvitationStatus(status)]:
                self._at(self._arrival_time(slot), lambda c=customer_id: self._check_in(c))
        for n in range(plan.walk_ins):
            slot = self.rng.choice(slots)
            when = self._arrival_time(slot)
            self._at(when, lambda n=n: self._walk_in(n))

    def _receptionist(self) -> StaffSession:
        return self.rng.choice(self.receptionists)

    def _check_in(self, customer_id: int) -> None:
        try:
            result = reception.check_in(
                self.database.unit_of_work(), customer_id, self._receptionist(), clock=self.clock
            )
        except KioskError as error:
            self._refused(error)
            return
        self.summary.arrivals += 1
        preferred = None
        if result.queue == Queue.SERVICE_DESK:
            with self.database.unit_of_work() as uow:
                preferred = uow.session.scalar(
                    select(Customer.rm_id).where(Customer.id == customer_id)
                )
        self._enqueued(result.queue, preferred)

    def _walk_in(self, n: int) -> None:
        phone = f"139{self.rng.randrange(10**8):08d}"
        staff = self._receptionist()
        try:
            customer_id = reception.register_walk_in(
                self.database.unit_of_work(),
                name=self.rng.choice(["王", "李", "张", "刘", "陈"])
                + "来宾"
                + "甲乙丙丁戊己"[n % 6],
                phone=phone,
                branch_code=self.rng.choice(self.branch_codes),
                staff=staff,
                clock=self.clock,
            )
        except KioskError as error:
            self._refused(error)
            return
        self.summary.walk_ins += 1
        self._check_in(customer_id)

    # -- desks ------------------------------------------------------------------------------

    def _add_desk(
        self, member: StaffSession, queue: Queue, name: str, start: datetime, end: datetime
    ) -> None:
        d = _Desk(member, queue, name, end)
        self.desks.append(d)
        self._at(start, lambda: self._desk_free(d))

    def _enqueued(self, queue: Queue, preferred: int | None = None) -> None:
        """Someone joined the queue: the desk they wait for looks up at once (their RM, or
        any idle desk); at the service desk the others look when the RM fallback allows."""
        self.waiting[queue] += 1
        idle = self.idle[queue]
        if not idle:
            return
        now = self.clock.now()
        mine = [d for d in idle if d.staff.staff_id == preferred]
        first = mine[0] if mine else idle[0] if preferred is None else None
        if first is not None:
            idle.remove(first)
            self._at(now, lambda: self._desk_free(first))
        if preferred is not None and not mine:

            def wake_all() -> None:
                woken, self.idle[queue] = self.idle[queue], []
                for d in woken:
                    self._desk_free(d)

            self._at(now + DeskPolicy().rm_fallback, wake_all)

    def _idle(self, d: _Desk) -> None:
        if d not in self.idle[d.queue]:
            self.idle[d.queue].append(d)

    def _desk_free(self, d: _Desk) -> None:
        if d.busy:
            return
        now = self.clock.now()
        if self.waiting[d.queue] == 0:
            if now < d.shift_end:
                self._idle(d)
            elif not any(x.queue == d.queue and x.shift_end > now for x in self.desks):
                self._idle(d)  # the last desk stays for late arrivals
            return
        if d.queue == Queue.SERVICE_DESK:
            called = desk.call_next(
                self.database.unit_of_work(), d.staff, desk=d.name, clock=self.clock
            )
        else:
            called = desk.call_next(
                self.database.unit_of_work(),
                d.staff,
                desk=d.name,
                queue=Queue.ACTIVATION,
                clock=self.clock,
            )
        if called is None:
            # Only other RMs' customers wait, and not long enough to fall back to any desk:
            # try again when the first of them may be called, or when someone new comes.
            self._idle(d)
            with self.database.unit_of_work() as uow:
                oldest = uow.session.scalar(
                    select(func.min(QueueEntry.enqueued_at)).where(
                        QueueEntry.queue == d.queue, QueueEntry.status == QueueStatus.WAITING
                    )
                )
            if oldest is not None:
                if isinstance(oldest, str):  # SQLite hands MIN() back as text
                    oldest = datetime.fromisoformat(oldest).replace(tzinfo=UTC)
                retry = max(now + timedelta(seconds=30), oldest + DeskPolicy().rm_fallback)
                self._at(retry, lambda: self._desk_free(d))
            return
        self.waiting[d.queue] -= 1
        d.busy = True
        low, high = (
            self.plan.desk_minutes
            if d.queue == Queue.SERVICE_DESK
            else self.plan.activation_minutes
        )
        minutes = self.rng.uniform(low, high)
        if d.queue == Queue.SERVICE_DESK:
            self._service_desk(d, called, minutes)
        else:
            self._activation_desk(d, called, minutes)

    # -- the service desk -------------------------------------------------------------------

    def _service_desk(self, d: _Desk, called: desk.Called, minutes: float) -> None:
        now = self.clock.now()
        govern_at = now + timedelta(minutes=minutes * 0.6)
        done_at = now + timedelta(minutes=minutes)

        def govern() -> None:
            fixed = self._fix(called.customer_id)
            if fixed is not None:
                try:
                    desk.save_governance(
                        self.database.unit_of_work(),
                        called.customer_id,
                        fixed,
                        d.staff,
                        visit_id=called.visit_id,
                        clock=self.clock,
                    )
                    self.summary.governed += 1
                except KioskError as error:
                    self._refused(error)
            if self.rng.random() >= self.plan.open_mobile_banking:
                return
            today = self.clock.now().astimezone(self.zone).date()
            with self.database.unit_of_work() as uow:
                customer = uow.session.get(Customer, called.customer_id)
                assert customer is not None
                gaps = governance_gaps(customer, today)
                needs = customer.mobile_banking == MobileBanking.NONE
            blocked = gaps.get("id_valid_to") == "expired" or "id_number" in gaps
            if needs and not blocked:
                try:
                    desk.open_mobile_banking(
                        self.database.unit_of_work(),
                        called.customer_id,
                        d.staff,
                        visit_id=called.visit_id,
                        clock=self.clock,
                    )
                    self.summary.mobile_banking_opened += 1
                except KioskError as error:
                    self._refused(error)

        def route_on() -> None:
            desk.route_on(self.database.unit_of_work(), called.entry_id, d.staff, clock=self.clock)
            self._enqueued(Queue.ACTIVATION)
            d.busy = False
            self._desk_free(d)

        self._at(govern_at, govern)
        self._at(done_at, route_on)

    def _fix(self, customer_id: int) -> KycForm | None:
        """The form as the RM completes it with the customer's documents (the ID card's number
        typed, which new ID dates need); None when nothing needs governance or the ID itself
        cannot be fixed here."""
        today = self.clock.now().astimezone(self.zone).date()
        with self.database.unit_of_work() as uow:
            customer = uow.session.get(Customer, customer_id)
            assert customer is not None
            gaps = governance_gaps(customer, today)
            card = self.opener.read(customer, "id_number")  # the card the customer hands over
        if not gaps or not card or not is_valid_resident_id(card):
            return None
        form = desk.current_form(self.database.unit_of_work(), customer_id)
        rng = self.rng
        changes: dict[str, object] = {}
        if "id_valid_to" in gaps:
            born = birth_date(card)
            issued = today - timedelta(days=rng.randint(20, 400))
            years = validity_years(age_on(born, issued))
            changes.update(
                id_number=card,
                id_valid_from=issued,
                id_valid_to=None if years is None else add_years(issued, years),
                id_long_term=years is None,
            )
        if "phone" in gaps:
            changes["phone"] = f"13{rng.randint(5, 9)}{rng.randrange(10**8):08d}"
        if "occupation_code" in gaps:
            changes["occupation_code"] = rng.choice(list(OCCUPATIONS))
        if "address" in gaps:
            changes["address"] = f"广州市天河区天河路{rng.randint(1, 999)}号"
        if "nationality" in gaps:
            changes["nationality"] = "CHN"
        if "gender" in gaps:
            changes["gender"] = gender(card)
        if "tax_residency" in gaps:
            changes["tax_residency"] = "CN"
        fixed = replace(form, **changes)  # type: ignore[arg-type]
        errors = desk.check_form(
            self.database.unit_of_work(), fixed, customer_id=customer_id, clock=self.clock
        )
        if errors:
            return None  # something the simulated RM cannot fix; the customer goes on
        return fixed

    # -- the activation desk ----------------------------------------------------------------

    def _activation_desk(self, d: _Desk, called: desk.Called, minutes: float) -> None:
        now = self.clock.now()
        rng, plan = self.rng, self.plan
        customer_id = called.customer_id
        uow = self.database.unit_of_work

        def step(kind: activation.Step) -> bool:
            try:
                activation.record_step(uow(), customer_id, kind, d.staff, clock=self.clock)
            except KioskError as error:
                self._refused(error)
                return False
            return True

        def steps() -> None:
            person = activation.desk_customer(uow(), customer_id, clock=self.clock)
            has_mobile = person.mobile_banking != MobileBanking.NONE
            # What the gate asks for is done at the desk: staff read it on screen.
            asked = {m.requirement for m in person.gate.missing}
            login_asked = bool(asked & {gate.Requirement.MOBILE_BANKING, gate.Requirement.LOGIN})
            if (
                has_mobile
                and (login_asked or rng.random() < plan.login)
                and step(activation.Step.MOBILE_BANKING_LOGIN)
            ):
                self.summary.logins += 1
            scan_asked = gate.Requirement.SCAN_PAY in asked
            if (scan_asked or rng.random() < plan.scan_pay) and step(activation.Step.CHARITY_PAID):
                self.summary.scan_pays += 1
                if rng.random() < 0.95:
                    step(activation.Step.PRIZE_GIVEN)

        def issue() -> None:
            if rng.random() >= plan.takes_slips:
                return
            cart = self._cart(customer_id)
            if not cart:
                return
            let_through = None
            if not gate.gate_for(uow(), customer_id, clock=self.clock).open:
                if rng.random() >= plan.override:
                    self.summary.held_at_gate += 1
                    return
                let_through = approve(
                    uow(),
                    self.supervisor.staff_no,
                    DEMO_PIN,
                    action=Action.OVERRIDE_GATE,
                    station="activation",
                    clock=self.clock,
                )
                self.summary.overrides += 1
            try:
                issued = slips.issue_slips(
                    uow(),
                    customer_id,
                    cart,
                    d.staff,
                    self.key,
                    clock=self.clock,
                    override=let_through is not None,
                    approval=let_through,
                )
            except KioskError as error:
                self._refused(error)
                return
            self.summary.slips += len(issued)
            for slip in issued:
                if rng.random() < plan.void:
                    approval = approve(
                        uow(),
                        self.supervisor.staff_no,
                        DEMO_PIN,
                        action=Action.VOID_SLIP,
                        station="activation",
                        clock=self.clock,
                    )
                    slips.void_slip(
                        uow(),
                        slip.serial,
                        d.staff,
                        reason="客户改选",
                        approval=approval,
                        clock=self.clock,
                    )
                    self.summary.voided += 1
                elif rng.random() < plan.redeem_today:
                    later = self.clock.now() + timedelta(minutes=rng.uniform(*plan.redeem_minutes))
                    self._at(later, lambda s=slip: self._redeem(s))

        def finish() -> None:
            activation.finish(uow(), called.entry_id, d.staff, clock=self.clock)
            d.busy = False
            self._desk_free(d)

        self._at(now + timedelta(minutes=minutes * 0.3), steps)
        self._at(now + timedelta(minutes=minutes * 0.8), issue)
        self._at(now + timedelta(minutes=minutes), finish)

    def _cart(self, customer_id: int) -> list[slips.CartLine]:
        """The pre-selected services when there are any, else one to three the customer can
        afford, as chosen at the desk."""
        uow = self.database.unit_of_work
        person = activation.desk_customer(uow(), customer_id, clock=self.clock)
        with uow() as u:
            offers = {
                o.code: (o.points_price, o.remaining)
                for o in u.session.scalars(select(Offer).order_by(Offer.code))
            }
        lines = activation.preselected_cart(uow(), customer_id)
        balance = person.balance
        cart: list[slips.CartLine] = []
        for line in lines:
            price, left = offers.get(line.offer_code, (0, 0))
            if left >= line.quantity and price * line.quantity <= balance:
                cart.append(line)
                balance -= price * line.quantity
        if cart:
            return cart
        for _n in range(self.rng.choice([1, 1, 2, 2, 3])):
            choices = [
                code
                for code, (price, left) in offers.items()
                if left > 0 and price <= balance and code not in {c.offer_code for c in cart}
            ]
            if not choices:
                break
            code = self.rng.choice(choices)
            cart.append(slips.CartLine(code))
            balance -= offers[code][0]
        return cart

    # -- the booths -------------------------------------------------------------------------

    def _open_booths(self, folder: Path) -> None:
        """One booth per merchant on its own file, with the merchant's pack installed."""
        folder.mkdir(parents=True, exist_ok=True)
        self.booths: dict[int, Booth] = {}
        self._booth_files = []
        with self.database.unit_of_work() as uow:
            ids = dict(
                uow.session.execute(
                    select(Merchant.code, Merchant.id).where(Merchant.code.in_(self.merchants))
                ).all()
            )
        for code in sorted(self.merchants):
            data, _pack = export_pack(
                self.database.unit_of_work(),
                code,
                DEMO_PASSPHRASE,
                self.supervisor,
                clock=self.clock,
            )
            path = folder / f"booth-{code}.sqlite3"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            booth_db = open_booth_database(path)
            self._booth_files.append(booth_db)
            booth = Booth(booth_db, self.clock)
            booth.install(data)
            # Every other merchant serves on the spot (a meal, a ticket): delivered at once.
            booth.set_delivers_on_redeem(len(self.booths) % 2 == 1)
            self.booths[ids[code]] = booth
        self._delivered: dict[int, int] = {}
        self._dirty: set[int] = set()  # booths with deliveries or complaints not imported

    def _redeem(self, slip: slips.IssuedSlip) -> None:
        with self.database.unit_of_work() as uow:
            merchant_id = uow.session.scalar(
                select(Slip.merchant_id)
                .join(Event, Event.id == Slip.event_id)
                .where(Slip.serial == slip.serial, Event.code == self.event_code)
            )
        booth = self.booths.get(merchant_id or -1)
        if booth is None:
            return
        staff_name = f"{slip.merchant[:2]}店员"
        result = booth.redeem(slip.code, staff_name=staff_name)
        if result.redeemed:
            self.summary.redeemed += 1
            self._after_redemption(booth, merchant_id or -1, slip.serial, staff_name)

    def _after_redemption(self, booth: Booth, merchant_id: int, serial: int, name: str) -> None:
        """At the booth, after serving: the service delivered later the same day (an
        immediate service's booth records it at the redemption), now and then a complaint."""
        rng, plan = self.rng, self.plan
        if not booth.delivers_on_redeem and rng.random() < plan.delivered_at_booth:
            later = self.clock.now() + timedelta(minutes=rng.uniform(15, 150))

            def deliver() -> None:
                booth.deliver(serial, name)
                self._dirty.add(merchant_id)

            self._at(later, deliver)
        if rng.random() < plan.booth_complaint:
            category, words = rng.choice(_BOOTH_COMPLAINTS)
            booth.complain(serial, category, words, name)
            self._dirty.add(merchant_id)

    def _import_bundles(self) -> None:
        """The runner collects every booth's bundle and imports it (idempotent)."""
        for merchant_id, booth in self.booths.items():
            data, count = booth.bundle()
            if count <= self._delivered.get(merchant_id, 0) and merchant_id not in self._dirty:
                continue
            self._dirty.discard(merchant_id)
            imported = import_bundle(
                self.database.unit_of_work(), data, self.supervisor, clock=self.clock
            )
            booth.mark_delivered(imported.up_to_seq)
            self._delivered[merchant_id] = count
            self.summary.bundles += 1
        if self._heap or self.clock.now() < self.ends_at:
            later = self.clock.now() + self.plan.bundle_every
            if self._heap:
                self._at(later, self._import_bundles)

    def after_event(self) -> None:
        """Days after the day: the merchants' later files of services delivered, and the
        satisfaction calls at the service desk (issue #21), through the same services."""
        rng, plan = self.rng, self.plan
        with self.database.unit_of_work() as uow:
            s = uow.session
            redeemed = s.execute(
                select(Slip.serial, Slip.id)
                .join(Event, Event.id == Slip.event_id)
                .where(Event.code == self.event_code, Slip.status == SlipStatus.REDEEMED)
                .order_by(Slip.serial)
            ).all()
            delivered = set(s.scalars(select(ServiceDelivery.slip_id)))
        end = self.ends_at
        for serial, slip_id in redeemed:
            if slip_id not in delivered and rng.random() < plan.delivered_later:
                at = end + timedelta(days=rng.randint(1, 6), hours=rng.uniform(-4, 4))
                feedback.record_delivery(
                    self.database.unit_of_work(),
                    serial,
                    at,
                    self.supervisor,
                    source="merchant file",
                    clock=FixedClock(end + timedelta(days=7)),
                )
            if rng.random() >= plan.called:
                continue
            called_at = end + timedelta(days=rng.randint(7, 10), hours=rng.uniform(0, 6))
            complaint = rng.random() < plan.call_complaint
            category, words = rng.choice(_CALL_COMPLAINTS) if complaint else (None, "")
            score = rng.choice((1, 2, 2, 3)) if complaint else rng.choice((3, 4, 4, 5, 5, 5))
            feedback.record_feedback(
                self.database.unit_of_work(),
                serial,
                self.supervisor,
                score=score,
                category=category,
                complaint=words,
                said_at=called_at,
                clock=FixedClock(called_at),
                station="service_desk",
            )
            self.summary.calls += 1
        with self.database.unit_of_work() as uow:
            s = uow.session
            self.summary.deliveries = s.scalar(select(func.count(ServiceDelivery.id))) or 0
            self.summary.complaints = (
                s.scalar(select(func.count(SlipFeedback.id)).where(SlipFeedback.complaint != ""))
                or 0
            )

    def close(self, *, after_event: bool = True) -> None:
        """Import what the booths still hold and close their files; then, unless told not
        to, the days after the event (``after_event``)."""
        self._import_bundles()
        if after_event:
            self.after_event()
        for booth_db in self._booth_files:
            booth_db.dispose()
        self._booth_files = []
