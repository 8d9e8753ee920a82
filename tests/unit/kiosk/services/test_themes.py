"""Themed sessions (专场, issue #20): the audience of a generated customer list counted against
a direct computation (``kiosk.points.available_points``, ``kiosk.tiers.tier_for`` customer by
customer), on SQLite and PostgreSQL; the empty audience refused; inviting exactly the selected,
once; the theme's services only on the booklet, the short list, the activation catalog and
at issuing."""

from __future__ import annotations

import json
import random
import unicodedata
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.errors import KioskError
from kiosk.models import (
    AuditRecord,
    Branch,
    Customer,
    Event,
    EventTheme,
    Invitation,
    JournalEntry,
    JournalKind,
    Merchant,
    Offer,
    PointsLot,
    Preselection,
    SearchKey,
    Staff,
    TimeSlot,
)
from kiosk.permissions import PermissionDenied
from kiosk.points import available_points, spend
from kiosk.services import activation, keys, reception, themes, tracking
from kiosk.services.auth import staff_session
from kiosk.services.customer_offers import offers_for
from kiosk.services.slips import CartLine, SlipError, issue_slips
from kiosk.services.themes import ThemeSpec
from kiosk.theme_scope import Scope
from kiosk.tiers import event_tiers, offer_terms, tier_for
from tests.conftest import DEMO_DATE
from tests.gate_support import make_ready

CLOCK = FixedClock(datetime(2026, 11, 20, 2, 0, tzinfo=UTC))
EMPLOYERS = ["广州某某科技有限公司", "广州某某科技有限公司（南沙）", "华南电网", "珠江啤酒", None]
PRODUCTS = ["外汇", "理财", "基金", "保险", "贵金属", "信用卡"]
GENERATED = 3000


def generate_customers(db: Database, n: int = GENERATED, seed: int = 20) -> None:
    """A customer list of ``n``: varied points and lots (some expiring before the event), AUM
    (some without, placed by label), employers, products, dormant; a few walk-ins."""
    rng = random.Random(seed)
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup
        s = uow.session
        branches = list(s.scalars(select(Branch.id)))
        rms: dict[int, list[int]] = {}
        for staff_id, branch_id in s.execute(
            select(Staff.id, Staff.branch_id).where(Staff.roles.contains("rm"))
        ):
            rms.setdefault(branch_id, []).append(staff_id)
        rows = []
        for i in range(n):
            branch = rng.choice(branches)
            rows.append(
                {
                    "customer_no": f"7{i:09d}",
                    "name": f"客户{i}",
                    "name_initials": "kh",
                    "branch_id": branch,
                    "rm_id": rng.choice([*rms.get(branch, []), None]),
                    "aum": None if rng.random() < 0.1 else rng.randrange(0, 8_000_000, 1000),
                    "tier": rng.choice(["standard", "gold", "platinum", "PLATINUM"]),
                    "points_balance": rng.randrange(0, 80_000, 50),
                    "dormant": rng.random() < 0.2,
                    "employer": rng.choice(EMPLOYERS),
                    "products": "|".join(rng.sample(PRODUCTS, rng.randint(0, 3))),
                    "walk_in": rng.random() < 0.02,
                    "balance_as_of": CLOCK.now(),
                }
            )
        s.execute(insert(Customer), rows)
        ids = list(
            s.scalars(
                select(Customer.id).where(Customer.customer_no.like("7%")).order_by(Customer.id)
            )
        )
        lots = []
        for customer_id, row in zip(ids, rows, strict=True):
            if rng.random() < 0.3:
                continue  # a plain balance, no lots
            total = 0
            for ref in range(rng.randint(1, 3)):
                points = rng.randrange(0, 40_000, 50)
                expires = rng.choice(
                    [None, DEMO_DATE - timedelta(days=5), DEMO_DATE, DEMO_DATE + timedelta(days=90)]
                )
                lots.append(
                    {
                        "customer_id": customer_id,
                        "ref": str(ref + 1),
                        "points": points,
                        "expires_on": expires,
                    }
                )
                total += points
            row["id"] = customer_id
        s.execute(insert(PointsLot), lots)
        # Some already spent part of their points (the journal's reserves count too).
        staff_id = s.scalar(select(Staff.id).limit(1))
        event_id = s.scalar(select(Event.id))
        for customer in s.scalars(select(Customer).where(Customer.id.in_(ids[::20]))):
            left = available_points(s, customer, DEMO_DATE)
            if left >= 100:
                entry = JournalEntry(
                    event_id=event_id,
                    customer_id=customer.id,
                    kind=JournalKind.RESERVE,
                    points=min(left, rng.randrange(100, 20_000, 50)),
                    at=CLOCK.now(),
                    staff_id=staff_id,
                )
                s.add(entry)
                spend(s, customer, entry, DEMO_DATE)
        uow.commit()


def _direct(db: Database, spec: ThemeSpec) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """The audience computed customer by customer, without the service's SQL: candidates per
    branch code, per RM staff number, and the invited per branch."""
    with db.unit_of_work() as uow:
        s = uow.session
        event = s.scalars(select(Event)).one()
        tiers = event_tiers(s, event.id)
        scope = Scope(
            spec.code,
            spec.name,
            frozenset(spec.categories),
            frozenset(spec.merchants),
            frozenset(spec.offers),
        )
        offers = [
            o
            for o, m in s.execute(select(Offer, Merchant.code).join(Merchant))
            if scope.allows(o.category, m, o.code)
        ]
        cheapest = {
            code: min(t.price for t in offer_terms(s, offers, tier).values())
            for code, tier in [(None, None), *((t.code, t) for t in tiers)]
        }
        branch_codes = dict(s.execute(select(Branch.id, Branch.code)).all())
        staff_nos = dict(s.execute(select(Staff.id, Staff.staff_no)).all())
        invited = set(s.scalars(select(Invitation.customer_id)))
        fold = {"".join(unicodedata.normalize("NFKC", e).lower().split()) for e in spec.employers}
        per_branch: Counter[str] = Counter()
        per_rm: Counter[str] = Counter()
        invited_branch: Counter[str] = Counter()
        for c in s.scalars(select(Customer)):
            if c.walk_in:
                continue
            points = available_points(s, c, event.event_date)
            tier = tier_for(tiers, c.aum, c.tier)
            if spec.points_min is not None and points < spec.points_min:
                continue
            if spec.points_max is not None and points > spec.points_max:
                continue
            if spec.tiers and (tier is None or tier.code not in spec.tiers):
                continue
            if spec.dormant is not None and c.dormant != spec.dormant:
                continue
            employer = "".join(unicodedata.normalize("NFKC", c.employer or "").lower().split())
            if fold and employer not in fold:
                continue
            if spec.products and not set(spec.products) & set(c.products.split("|")):
                continue
            if spec.affordable and points < cheapest[tier.code if tier else None]:
                continue
            per_branch[branch_codes[c.branch_id]] += 1
            per_rm[staff_nos.get(c.rm_id, "")] += 1
            if c.id in invited:
                invited_branch[branch_codes[c.branch_id]] += 1
        return per_branch, per_rm, invited_branch


CAR_AND_MOVIES = ThemeSpec(
    code="CAR",
    name="洗车观影专场",
    slot="PM",
    categories=("car", "movie"),
    points_min=1000,
    points_max=60_000,
    affordable=True,
    tiers=("GOLD", "PLATINUM"),
)
PAYROLL = ThemeSpec(
    code="PAY",
    name="代发薪企业员工专场",
    slot="AM",
    offers=("O101",),
    dormant=False,
    employers=("广州某某科技有限公司(南沙)", "华南电网"),  # half-width brackets: the same
    products=("外币", "理财产品"),  # 外汇, 理财
)


@pytest.mark.parametrize("spec", [CAR_AND_MOVIES, PAYROLL], ids=["car", "payroll"])
def test_audience_counts_match_a_direct_computation(any_demo_db: Database, spec: ThemeSpec) -> None:
    generate_customers(any_demo_db)
    boss = staff_session(any_demo_db.unit_of_work(), "S001", clock=CLOCK)
    view = themes.set_theme(any_demo_db.unit_of_work(), spec, boss, clock=CLOCK)
    assert view.spec.products == tuple(dict.fromkeys(("外汇", "理财"))) or not spec.products
    found = themes.audience(any_demo_db.unit_of_work(), spec.code)
    per_branch, per_rm, invited = _direct(any_demo_db, view.spec)
    assert found.candidates == sum(per_branch.values()) > 50
    assert {c.code: c.candidates for c in found.branches} == dict(per_branch)
    assert {c.code: c.invited for c in found.branches if c.invited} == dict(invited)
    assert {c.code: c.candidates for c in found.rms} == dict(per_rm)
    # The demo's invitees are among the car wash's candidates (no demo customer has an employer).
    assert found.new > 0 and (found.invited > 0) == (spec is CAR_AND_MOVIES)

    # Invite: exactly the selected not invited yet, in the theme's slot, once.
    before = _invitations(any_demo_db)
    done = themes.invite(any_demo_db.unit_of_work(), spec.code, boss, expect=found.new, clock=CLOCK)
    assert (done.created, done.already, done.slot) == (found.new, found.invited, spec.slot)
    after = _invitations(any_demo_db)
    made = {cid: row for cid, row in after.items() if cid not in before}
    assert len(made) == found.new
    with any_demo_db.unit_of_work() as uow:
        s = uow.session
        slot_id = s.scalar(select(TimeSlot.id).where(TimeSlot.code == spec.slot))
        rm_of = dict(s.execute(select(Customer.id, Customer.rm_id)).all())
        assert {row[0] for row in made.values()} == {slot_id}
        assert all(row[1] == rm_of[cid] for cid, row in made.items())
        keys_of = set(
            s.execute(
                select(SearchKey.customer_id, SearchKey.key).where(
                    SearchKey.customer_id.in_(list(made))
                )
            ).all()
        )
        assert all((cid, "v:" + row[2]) in keys_of for cid, row in made.items())
        record = s.scalars(select(AuditRecord).where(AuditRecord.action == "theme_invited")).one()
        assert json.loads(record.details)["created"] == found.new
    again = themes.audience(any_demo_db.unit_of_work(), spec.code)
    assert (again.candidates, again.new) == (found.candidates, 0)
    second = themes.invite(any_demo_db.unit_of_work(), spec.code, boss, clock=CLOCK)
    assert second.created == 0 and _invitations(any_demo_db) == after


def _invitations(db: Database) -> dict[int, tuple[int, int | None, str]]:
    with db.unit_of_work() as uow:
        return {
            cid: (slot, rm, code)
            for cid, slot, rm, code in uow.session.execute(
                select(
                    Invitation.customer_id, Invitation.slot_id, Invitation.rm_id, Invitation.code
                )
            )
        }


def test_an_audience_of_nobody_is_refused_before_anything_is_made(any_demo_db: Database) -> None:
    boss = staff_session(any_demo_db.unit_of_work(), "S001", clock=CLOCK)
    spec = ThemeSpec(code="NONE", name="无人专场", slot="AM", employers=("不存在的公司",))
    themes.set_theme(any_demo_db.unit_of_work(), spec, boss, clock=CLOCK)
    assert themes.audience(any_demo_db.unit_of_work(), "NONE").nobody()
    before = _invitations(any_demo_db)
    with pytest.raises(themes.EmptyAudience, match="selects nobody"):
        themes.invite(any_demo_db.unit_of_work(), "none", boss, clock=CLOCK)
    assert _invitations(any_demo_db) == before


def test_defining_themes(demo_db: Database) -> None:
    boss = staff_session(demo_db.unit_of_work(), "S001", clock=CLOCK)
    rm = staff_session(demo_db.unit_of_work(), "RM001", clock=CLOCK)
    uow = demo_db.unit_of_work
    with pytest.raises(PermissionDenied):
        themes.set_theme(uow(), CAR_AND_MOVIES, rm, clock=CLOCK)
    for bad, message in [
        (ThemeSpec("X", "x", categories=("cars",)), "not a category"),
        (ThemeSpec("X", "x", merchants=("M99",)), "no merchant"),
        (ThemeSpec("X", "x", offers=("O999",)), "O999"),
        (ThemeSpec("X", "x", slot="EVE"), "no slot"),
        (ThemeSpec("X", "x", tiers=("BRONZE",)), "no tier"),
        (ThemeSpec("X", "x", points_min=5000, points_max=100), "range is empty"),
        (ThemeSpec("bad code!", "x"), "not a code"),
    ]:
        with pytest.raises(KioskError, match=message):
            themes.set_theme(uow(), bad, boss, clock=CLOCK)
    themes.set_theme(uow(), CAR_AND_MOVIES, boss, clock=CLOCK)
    with pytest.raises(KioskError, match="already the theme of slot PM"):
        themes.set_theme(uow(), ThemeSpec("CAR2", "x", slot="PM"), boss, clock=CLOCK)
    # Replaced by code: the tier given by its name, the slot moved.
    view = themes.set_theme(
        uow(),
        ThemeSpec("car", "洗车专场", slot="AM", categories=("car",), tiers=("金卡",)),
        boss,
        clock=CLOCK,
    )
    assert (view.spec.slot, view.spec.tiers, view.slot_label) == ("AM", ("GOLD",), "上午场")
    assert view.offer_codes and all(c.startswith("O") for c in view.offer_codes)
    assert [v.spec.code for v in themes.themes(uow())] == ["CAR"]
    whole = themes.set_theme(uow(), ThemeSpec("ALL", "全场"), boss, clock=CLOCK)
    assert whole.spec.slot is None
    with pytest.raises(KioskError, match="name the slot"):
        themes.invite(uow(), "ALL", boss, clock=CLOCK)
    themes.remove_theme(uow(), "CAR", boss, clock=CLOCK)
    assert [v.spec.code for v in themes.themes(uow())] == ["ALL"]
    with uow() as u:
        actions = list(
            u.session.scalars(select(AuditRecord.action).where(AuditRecord.entity == "event_theme"))
        )
    assert actions == ["theme_set", "theme_replaced", "theme_set", "theme_removed"]


def _car_offers(db: Database) -> set[str]:
    with db.unit_of_work() as uow:
        return set(
            uow.session.scalars(select(Offer.code).where(Offer.category.in_(["car", "movie"])))
        )


def test_the_catalog_shows_the_theme_only(any_demo_db: Database) -> None:
    """The event's theme on the booklet and the plain desk catalog; a slot's theme on its
    customers' short list and catalog; issuing refuses a service outside it."""
    db = any_demo_db
    boss = staff_session(db.unit_of_work(), "S001", clock=CLOCK)
    every = {o.code for o in activation.catalog(db.unit_of_work())}
    cars = _car_offers(db)
    assert cars and cars < every
    view = themes.set_theme(db.unit_of_work(), CAR_AND_MOVIES, boss, clock=CLOCK)  # PM's
    with db.unit_of_work() as uow:
        per_slot = dict(
            uow.session.execute(
                select(TimeSlot.code, func.count(Invitation.id))
                .join(Invitation, Invitation.slot_id == TimeSlot.id)
                .group_by(TimeSlot.code)
            ).all()
        )
    assert view.bound == per_slot["PM"]  # everyone invited to PM is bound to it now
    with db.unit_of_work() as uow:
        s = uow.session
        pm, am = (
            s.scalar(
                select(Invitation.customer_id)
                .join(TimeSlot, TimeSlot.id == Invitation.slot_id)
                .where(TimeSlot.code == code, Customer.id == Invitation.customer_id)
                .join(Customer, Customer.id == Invitation.customer_id)
                .where(Customer.points_balance >= 20_000)
                .order_by(Invitation.customer_id)
                .limit(1)
            )
            for code in ("PM", "AM")
        )
    assert {o.code for o in tracking.booklet(db.unit_of_work()).offers} == every
    mine = offers_for(db.unit_of_work(), pm, clock=CLOCK)
    assert {o.code for o in mine.offers} == cars
    assert mine.theme == "洗车观影专场"  # named, so the desk can say why the list is short
    assert offers_for(db.unit_of_work(), am, clock=CLOCK).theme == ""
    assert {o.code for o in mine.short} <= cars
    assert {o.code for o in activation.catalog(db.unit_of_work(), pm)} == cars
    with db.unit_of_work() as uow:  # a service chosen before the theme stays out of the cart
        chose = uow.session.scalar(
            select(Invitation.customer_id)
            .join(Preselection, Preselection.invitation_id == Invitation.id)
            .join(Offer, Offer.id == Preselection.offer_id)
            .join(TimeSlot, TimeSlot.id == Invitation.slot_id)
            .where(TimeSlot.code == "PM", Offer.category.not_in(["car", "movie"]))
            .limit(1)
        )
    assert chose is not None
    assert {
        line.offer_code for line in activation.preselected_cart(db.unit_of_work(), chose)
    } <= cars
    assert {o.code for o in offers_for(db.unit_of_work(), am, clock=CLOCK).offers} == every
    # The whole event's theme: the booklet (and so the e-catalog) and the empty desk.
    whole = themes.set_theme(
        db.unit_of_work(), ThemeSpec("HEALTH", "健康专场", offers=("O101",)), boss, clock=CLOCK
    )
    assert whole.bound == per_slot["AM"]  # PM keeps its own theme
    assert [o.code for o in tracking.booklet(db.unit_of_work()).offers] == ["O101"]
    assert [o.code for o in activation.catalog(db.unit_of_work())] == ["O101"]
    assert {o.code for o in offers_for(db.unit_of_work(), am, clock=CLOCK).offers} == {"O101"}
    assert {o.code for o in activation.catalog(db.unit_of_work(), pm)} == cars  # its slot's

    # Issuing: a service outside the customer's theme is refused with its name.
    clock = FixedClock(datetime.combine(DEMO_DATE, datetime.min.time(), UTC) + timedelta(hours=6))
    desk = staff_session(db.unit_of_work(), "R001", clock=clock)
    reception.check_in(db.unit_of_work(), pm, desk, clock=clock)
    make_ready(db, pm)
    signer = staff_session(db.unit_of_work(), "A001", clock=clock)
    key = keys.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
    with pytest.raises(SlipError, match="themed session “洗车观影专场”"):
        issue_slips(db.unit_of_work(), pm, [CartLine("O101", 1)], signer, key, clock=clock)
    cheapest = min(
        (o for o in offers_for(db.unit_of_work(), pm, clock=clock).offers if o.available),
        key=lambda o: o.price,
    )
    issued = issue_slips(
        db.unit_of_work(), pm, [CartLine(cheapest.code, 1)], signer, key, clock=clock
    )
    assert len(issued) == 1


def test_counts_do_not_change_the_database(demo_db: Database) -> None:
    boss = staff_session(demo_db.unit_of_work(), "S001", clock=CLOCK)
    themes.set_theme(demo_db.unit_of_work(), CAR_AND_MOVIES, boss, clock=CLOCK)
    with demo_db.unit_of_work() as uow:
        before = uow.session.scalar(select(func.count(Invitation.id)))
    themes.audience(demo_db.unit_of_work(), "CAR")
    with demo_db.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count(Invitation.id))) == before
        assert uow.session.scalar(select(func.count(EventTheme.id))) == 1


def test_a_themed_sessions_booklet_and_e_catalog(demo_db: Database, tmp_path: Path) -> None:
    from printing.booklet import render_booklet, render_html

    boss = staff_session(demo_db.unit_of_work(), "S001", clock=CLOCK)
    themes.set_theme(demo_db.unit_of_work(), CAR_AND_MOVIES, boss, clock=CLOCK)
    plain = tracking.booklet(demo_db.unit_of_work())
    assert plain.theme_name == "" and len(plain.offers) > len(_car_offers(demo_db))
    themed = tracking.booklet(demo_db.unit_of_work(), "car")
    assert themed.theme_name == "洗车观影专场"
    assert {o.code for o in themed.offers} == _car_offers(demo_db)
    page = render_html(themed, tmp_path / "car.html").read_text(encoding="utf-8")
    assert "洗车观影专场" in page
    assert all(f'id="{code}"' in page for code in _car_offers(demo_db))
    assert 'id="O101"' not in page
    assert render_booklet(themed, tmp_path / "car.pdf").stat().st_size > 1000
    with pytest.raises(KioskError, match="no theme “NOPE”"):
        tracking.booklet(demo_db.unit_of_work(), "nope")
