"""The demo event's invariants: what every later station and test relies on."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from kiosk.db import Database, open_database
from kiosk.demo import DEMO_PASSPHRASE, DEMO_PIN, POLYPHONIC_SURNAMES, _validity, generate_demo
from kiosk.governance import add_years
from kiosk.idcard import is_valid_mobile, is_valid_resident_id
from kiosk.kyc import governance_gaps
from kiosk.models import (
    Branch,
    Customer,
    Invitation,
    Merchant,
    MobileBanking,
    Offer,
    Role,
    ServiceCategory,
    Staff,
    TimeSlot,
)
from kiosk.privacy import full_values
from kiosk.security import verify_pin
from tests.conftest import DEMO_DATE


def test_counts_and_slots(demo_db: Database) -> None:
    with demo_db.unit_of_work() as uow:
        s = uow.session
        assert s.scalar(select(func.count(Branch.id))) == 15
        assert s.scalar(select(func.count(Customer.id))) == 240
        assert s.scalar(select(func.count(Invitation.id))) == 240
        slots = s.scalars(select(TimeSlot).order_by(TimeSlot.starts_at)).all()
        assert [slot.code for slot in slots] == ["AM", "PM"]
        per_slot = Counter(s.scalars(select(Invitation.slot_id)))
        # Split into a morning and an afternoon, neither slot holding under a third.
        assert all(per_slot[slot.id] >= 80 for slot in slots)
        # A branch is invited to one slot only, so its customers arrive together.
        branch_slots = s.execute(
            select(Customer.branch_id, func.count(func.distinct(Invitation.slot_id)))
            .join(Invitation, Invitation.customer_id == Customer.id)
            .group_by(Customer.branch_id)
        ).all()
        assert len(branch_slots) == 15
        assert all(n == 1 for _, n in branch_slots)


def test_every_invitee_has_a_branch_and_their_branchs_rm(demo_db: Database) -> None:
    with demo_db.unit_of_work() as uow:
        for customer in uow.session.scalars(select(Customer)):
            assert customer.branch is not None
            assert customer.rm is not None
            assert Role.RM in customer.rm.role_set
            assert customer.rm.branch_id == customer.branch_id
        codes = uow.session.scalars(select(Invitation.code)).all()
        assert len(set(codes)) == len(codes)
        assert all(len(code) <= 16 and code.isalnum() and code.isupper() for code in codes)


def test_staff_for_every_role_with_the_demo_pin(demo_db: Database) -> None:
    with demo_db.unit_of_work() as uow:
        staff = uow.session.scalars(select(Staff)).all()
        roles = Counter(role for member in staff for role in member.role_set)
        assert roles[Role.RM] == 30
        assert all(roles[role] >= 1 for role in Role)
        supervisor = next(m for m in staff if m.staff_no == "S001")
        assert verify_pin(DEMO_PIN, supervisor.pin_hash)
        assert not verify_pin("9999", supervisor.pin_hash)
        assert supervisor.pin_hash.startswith("scrypt$")


def test_merchants_offer_services_only(demo_db: Database) -> None:
    with demo_db.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count(Merchant.id))) >= 8
        offers = uow.session.scalars(select(Offer)).all()
        categories = {offer.category for offer in offers}
        assert categories <= {c.value for c in ServiceCategory}
        assert len(categories) >= 7
        assert all(
            o.points_price > 0 and o.capacity > 0 and o.redeem_by > DEMO_DATE for o in offers
        )


def test_realistic_gaps(demo_db: Database) -> None:
    with demo_db.unit_of_work() as uow:
        customers = uow.session.scalars(select(Customer)).all()
        gaps = [governance_gaps(c, DEMO_DATE) for c in customers]
        no_mobile = sum(1 for c in customers if c.mobile_banking == MobileBanking.NONE)
        dormant = sum(1 for c in customers if c.dormant)
        # Nothing in clear: masks, and the full values sealed.
        assert all(c.legacy_phone is None and c.legacy_id_number is None for c in customers)
        assert all(c.phone_sealed and c.id_number_sealed and c.id_masked for c in customers)
    full = full_values(demo_db.unit_of_work(), DEMO_PASSPHRASE)
    bad_phone = sum(1 for person in full if not is_valid_mobile(person.phone or ""))
    ids_valid = all(is_valid_resident_id(person.id_number or "") for person in full)
    # The gaps judged on the masks agree with the full values.
    assert bad_phone == sum(1 for g in gaps if g.get("phone") == "invalid")
    expired = sum(1 for g in gaps if g.get("id_valid_to") == "expired")
    no_occupation = sum(1 for g in gaps if g.get("occupation_code") == "missing")
    assert 15 <= expired <= 60
    assert no_occupation >= 10
    assert 3 <= bad_phone <= 30
    assert 30 <= no_mobile <= 100
    assert dormant >= 15
    needs_governance = sum(1 for g in gaps if g)
    assert 40 <= needs_governance < len(customers)
    # ID numbers themselves are valid: the gaps are in validity and other fields.
    assert ids_valid


def test_surnames_include_the_polyphonic_ones(demo_db: Database) -> None:
    with demo_db.unit_of_work() as uow:
        names = uow.session.scalars(select(Customer.name)).all()
        initials = dict(uow.session.execute(select(Customer.name, Customer.name_initials)).all())
    surnames = Counter(name[0] for name in names)
    for surname in POLYPHONIC_SURNAMES:
        assert surnames[surname] >= 1, surname
    assert surnames.most_common(1)[0][0] in "王李张刘陈"
    shan = next(name for name in names if name.startswith("单"))
    assert initials[shan].split("|")[0].startswith("s")
    assert any(key.startswith("d") for key in initials[shan].split("|"))


def _fingerprint(path: Path, seed: int) -> list[tuple[str, str, str, int]]:
    database = open_database(f"sqlite:///{path}")
    with database.unit_of_work() as uow:
        generate_demo(uow.session, seed=seed, event_date=date(2026, 11, 28), invitees=60)
        uow.commit()
    with database.unit_of_work() as uow:
        rows = uow.session.execute(
            select(Customer.name, Customer.id_masked, Invitation.code, Customer.points_balance)
            .join(Invitation, Invitation.customer_id == Customer.id)
            .order_by(Customer.customer_no)
        ).all()
    database.dispose()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_deterministic_from_the_seed(tmp_path: Path) -> None:
    first = _fingerprint(tmp_path / "a.sqlite3", seed=7)
    again = _fingerprint(tmp_path / "b.sqlite3", seed=7)
    other = _fingerprint(tmp_path / "c.sqlite3", seed=8)
    assert first == again
    assert first != other
    assert len(first) == 60


def test_id_validity_survives_leap_days() -> None:
    """29 February issue or expiry dates once crashed the 100,000-invitee build."""
    assert add_years(date(2024, 2, 29), -10) == date(2014, 2, 28)
    assert add_years(date(2024, 2, 29), 20) == date(2044, 2, 29)
    rng = random.Random(3)
    for event_day in (date(2028, 2, 29), date(2027, 3, 1), date(2026, 11, 28)):
        for _ in range(3000):
            year = rng.choice([1944, 1952, 1960, 1968, 1976, 1984, 1992, 1961, 1975])
            birth = date(year, 2, 29 if year % 4 == 0 else 28)
            issued, valid_to, long_term = _validity(rng, birth, event_day, rng.random() < 0.5)
            assert issued <= event_day
            assert long_term == (valid_to is None)
