"""A small event built row by row, whose every figure was computed by hand.

Used by the figures, report and dashboard tests. The story, all times UTC on 2026-11-28
(Shanghai is UTC+8; the AM slot is 01:00-03:30, the PM slot 05:30-08:30, reception's grace
for early arrivals is 30 minutes); the figures are read at 06:30:

- c1 (B01, RM001, AM, confirmed, 1 companion, 10,000 points): arrives 00:20 (early), service
  desk ticket called 00:30, governed 00:35, mobile banking opened 00:38, on to activation
  00:40, called 00:50, mobile-banking login 00:52, scan-pay 00:53; slips S1 (O1 x1, 1,000)
  redeemed 01:20 and S2 (O2 x1, 5,000) redeemed 01:50.
- c2 (B01, RM001, AM, confirmed, 20,000, mobile banking active): arrives 01:10, activation
  called 01:30, scan-pay 01:32; slip S3 (O1 x2, 2,000) still open, S4 (O2, 5,000) voided,
  and a booth reported S4 anyway (a conflict).
- c3 (B01, RM001, AM, invited, 5,000): arrives 03:40 (late), waits at the service desk.
- c4 (B02, RM002, PM, confirmed, 30,000): arrives 05:00 (on time: 30 minutes early is the
  grace), desk called 05:20, governed 05:25, on to activation 05:30, waiting there.
- c5 (B02, RM002, PM, declined, 8,000): never comes.
- c6 (walk-in, B02, no RM): arrives 06:00, waits at activation.
- c7 (B02, 100,000 points) was pulled from the ledger but not invited.

Points as the bank counts them (issue #19): tiers GOLD 金卡 (AUM 500,000) and SILVER 银卡
(50,000); S1 was issued in GOLD, S3 in SILVER, S2 and S4 without a tier: redeemed per tier
GOLD 1,000, no tier 5,000. c2's 20,000 are two lots, 12,000 expiring 2027-01-27 and 8,000
without a date (S3's reserve is not journalled here: 12,000 expire before the next event);
c5's 8,000 expired on 2026-11-20. Every customer's points on the day: 73,000 + 100,000 -
8,000 = 165,000 of 7 customers; the bank's whole stock is 10,000,000. c1 was dormant and
logged in to mobile banking at the activation desk (the login cleared the flag and noted it),
c3 is dormant and came: 1 of 2 dormant customers who came reactivated.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from kiosk import audit
from kiosk.db import Database
from kiosk.models import (
    Branch,
    Customer,
    Event,
    EventTier,
    Invitation,
    Merchant,
    MobileBanking,
    Offer,
    PointsLot,
    QueueEntry,
    Redemption,
    Slip,
    Staff,
    TimeSlot,
    Visit,
    VisitStep,
)
from kiosk.security import hash_pin

DAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 6, 30, tzinfo=UTC)


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 28, hour, minute, tzinfo=UTC)


def build_small_event(database: Database) -> None:
    pin = hash_pin("1234")
    with audit.unaudited(), database.unit_of_work() as uow:  # test setup
        s = uow.session
        event = Event(
            code="SMALL",
            name="小型测试活动",
            venue="测试会场",
            event_date=DAY,
            timezone="Asia/Shanghai",
            bank_points_stock=10_000_000,
            created_at=at(0, 0),
        )
        s.add(event)
        s.flush()
        am = TimeSlot(
            event_id=event.id, code="AM", label="上午场", starts_at=at(1, 0), ends_at=at(3, 30),
            capacity=4,
        )  # fmt: skip
        pm = TimeSlot(
            event_id=event.id, code="PM", label="下午场", starts_at=at(5, 30), ends_at=at(8, 30),
            capacity=10,
        )  # fmt: skip
        b1 = Branch(code="B01", name="天河支行", target=3)
        b2 = Branch(code="B02", name="越秀支行")
        s.add_all([am, pm, b1, b2])
        s.flush()

        def staff(no: str, name: str, roles: str, branch: Branch | None = None) -> Staff:
            member = Staff(
                staff_no=no,
                name=name,
                roles=roles,
                branch_id=branch.id if branch else None,
                pin_hash=pin,
            )
            s.add(member)
            return member

        staff("S001", "主管甲", "supervisor")
        r1 = staff("R001", "接待甲", "reception")
        rm1 = staff("RM001", "张经理", "rm", b1)
        rm2 = staff("RM002", "李经理", "rm", b2)
        a1 = staff("A001", "激活甲", "activation")
        s.flush()

        def customer(
            no: str,
            name: str,
            branch: Branch,
            rm: Staff | None,
            points: int,
            mobile: str = MobileBanking.NONE,
            walk_in: bool = False,
        ) -> Customer:
            c = Customer(
                customer_no=no, name=name, branch_id=branch.id, rm_id=rm.id if rm else None,
                points_balance=points, mobile_banking=mobile, walk_in=walk_in,
            )  # fmt: skip
            s.add(c)
            return c

        c1 = customer("6200000001", "王小明", b1, rm1, 10_000)
        c2 = customer("6200000002", "李丽", b1, rm1, 20_000, MobileBanking.ACTIVE)
        c3 = customer("6200000003", "陈大文", b1, rm1, 5_000)
        c4 = customer("6200000004", "刘芳", b2, rm2, 30_000)
        c5 = customer("6200000005", "周强", b2, rm2, 8_000)
        c6 = customer("W000001", "赵六", b2, None, 0, walk_in=True)
        customer("6200000007", "吴七", b2, rm2, 100_000)  # pulled, never invited
        c3.dormant = True
        s.flush()
        s.add_all(
            [
                EventTier(event_id=event.id, code="GOLD", name="金卡", aum_floor=500_000),
                EventTier(event_id=event.id, code="SILVER", name="银卡", aum_floor=50_000),
                PointsLot(customer_id=c2.id, ref="1", points=12_000,
                          expires_on=date(2027, 1, 27)),
                PointsLot(customer_id=c2.id, ref="2", points=8_000),
                PointsLot(customer_id=c5.id, ref="1", points=8_000,
                          expires_on=date(2026, 11, 20)),
            ]
        )  # fmt: skip

        def invite(
            c: Customer, slot: TimeSlot, rm: Staff, status: str, companions: int = 0, code: str = ""
        ) -> Invitation:
            inv = Invitation(
                event_id=event.id, customer_id=c.id, slot_id=slot.id, rm_id=rm.id,
                code=code, status=status, companions=companions, invited_at=at(0, 0),
            )  # fmt: skip
            s.add(inv)
            return inv

        i1 = invite(c1, am, rm1, "confirmed", 1, "SM000001")
        i2 = invite(c2, am, rm1, "confirmed", 0, "SM000002")
        i3 = invite(c3, am, rm1, "invited", 0, "SM000003")
        i4 = invite(c4, pm, rm2, "confirmed", 0, "SM000004")
        invite(c5, pm, rm2, "declined", 0, "SM000005")
        s.flush()

        def visit(c: Customer, inv: Invitation | None, when: datetime, route: str) -> Visit:
            v = Visit(
                event_id=event.id, customer_id=c.id, invitation_id=inv.id if inv else None,
                checked_in_at=when, checked_in_by=r1.id, route=route,
                companions=inv.companions if inv else 0,
            )  # fmt: skip
            s.add(v)
            s.flush()
            s.add(VisitStep(visit_id=v.id, step="check_in", at=when, staff_id=r1.id))
            return v

        v1 = visit(c1, i1, at(0, 20), "activation")
        v2 = visit(c2, i2, at(1, 10), "activation")
        v3 = visit(c3, i3, at(3, 40), "service_desk")
        v4 = visit(c4, i4, at(5, 0), "activation")
        v6 = visit(c6, None, at(6, 0), "activation")

        def step(v: Visit, name: str, when: datetime, by: Staff) -> None:
            s.add(VisitStep(visit_id=v.id, step=name, at=when, staff_id=by.id))

        tickets = {"service_desk": 0, "activation": 0}

        def entry(
            v: Visit,
            queue: str,
            enqueued: datetime,
            *,
            called: datetime | None = None,
            by: Staff | None = None,
            done: datetime | None = None,
            reason: str = "",
        ) -> None:
            tickets[queue] += 1
            status = "done" if done else "called" if called else "waiting"
            s.add(
                QueueEntry(
                    event_id=event.id, visit_id=v.id, queue=queue, ticket_no=tickets[queue],
                    reason=reason, status=status, enqueued_at=enqueued, called_at=called,
                    called_by=by.id if by else None, finished_at=done,
                )
            )  # fmt: skip

        # c1: the whole journey.
        entry(v1, "service_desk", at(0, 20), called=at(0, 30), by=rm1, done=at(0, 40),
              reason="id_valid_to")  # fmt: skip
        step(v1, "called", at(0, 30), rm1)
        step(v1, "governance", at(0, 35), rm1)
        step(v1, "mobile_banking_opened", at(0, 38), rm1)
        step(v1, "service_desk_done", at(0, 40), rm1)
        entry(v1, "activation", at(0, 40), called=at(0, 50), by=a1, done=at(1, 0))
        step(v1, "called", at(0, 50), a1)
        # The snapshot said dormant; the login cleared the flag and noted it, as the
        # activation service does.
        s.add(
            VisitStep(
                visit_id=v1.id, step="mobile_banking_login", at=at(0, 52), staff_id=a1.id,
                note="reactivated",
            )
        )  # fmt: skip
        step(v1, "charity_paid", at(0, 53), a1)
        step(v1, "slips_issued", at(0, 55), a1)
        step(v1, "activation_done", at(1, 0), a1)
        c1.mobile_banking = MobileBanking.ACTIVE
        # c2: straight to activation.
        entry(v2, "activation", at(1, 10), called=at(1, 30), by=a1, done=at(1, 40))
        step(v2, "called", at(1, 30), a1)
        step(v2, "charity_paid", at(1, 32), a1)
        step(v2, "slips_issued", at(1, 35), a1)
        # c3 waits at the service desk; c4 was governed and waits at activation; c6 too.
        entry(v3, "service_desk", at(3, 40), reason="occupation_code")
        entry(v4, "service_desk", at(5, 0), called=at(5, 20), by=rm2, done=at(5, 30),
              reason="address")  # fmt: skip
        step(v4, "called", at(5, 20), rm2)
        step(v4, "governance", at(5, 25), rm2)
        step(v4, "service_desk_done", at(5, 30), rm2)
        entry(v4, "activation", at(5, 30))
        entry(v6, "activation", at(6, 0))

        m1 = Merchant(event_id=event.id, code="M01", name="康宁体检中心", booth="A1")
        s.add(m1)
        s.flush()
        o1 = Offer(
            event_id=event.id, merchant_id=m1.id, code="O1", name="基础体检", category="health",
            points_price=1000, capacity=10, reserved=3, redeem_by=date(2027, 5, 1),
        )  # fmt: skip
        o2 = Offer(
            event_id=event.id, merchant_id=m1.id, code="O2", name="深度体检", category="health",
            points_price=5000, capacity=1, reserved=1, redeem_by=date(2027, 5, 1),
        )  # fmt: skip
        s.add_all([o1, o2])
        s.flush()

        def slip(
            serial: int,
            c: Customer,
            v: Visit,
            offer: Offer,
            qty: int,
            status: str,
            when: datetime,
            tier: str | None = None,
        ) -> None:
            s.add(
                Slip(
                    event_id=event.id, serial=serial, visit_id=v.id, customer_id=c.id,
                    merchant_id=m1.id, offer_id=offer.id, quantity=qty,
                    points=offer.points_price * qty, redeem_by=offer.redeem_by, code=f"X{serial}",
                    key_id="00000000", status=status, issued_at=when, issued_by=a1.id,
                    tier=tier,
                )
            )  # fmt: skip

        slip(1, c1, v1, o1, 1, "redeemed", at(0, 55), "GOLD")
        slip(2, c1, v1, o2, 1, "redeemed", at(0, 55))
        slip(3, c2, v2, o1, 2, "issued", at(1, 35), "SILVER")
        slip(4, c2, v2, o2, 1, "voided", at(1, 35))

        def redemption(seq: int, serial: int, when: datetime, conflict: str | None = None) -> None:
            s.add(
                Redemption(
                    uid=f"uid-{seq}", event_id=event.id, slip_serial=serial, merchant_id=m1.id,
                    booth_id="booth-1", booth_seq=seq, redeemed_at=when, staff_name="店员甲",
                    received_at=when, conflict=conflict,
                )
            )  # fmt: skip

        redemption(1, 1, at(1, 20))
        redemption(2, 2, at(1, 50))
        redemption(3, 4, at(2, 0), "voided")
        uow.commit()
