"""The customer's band read in SQL alongside the customer (``kiosk.tiers.tier_id_column``,
issue #23) is the band ``tier_for`` gives in Python, for every AUM and label, on both
backends: by AUM the highest floor reached, without AUM the band named by the ledger's label
in any case, else none."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from kiosk import audit
from kiosk.db import Database
from kiosk.models import Customer, EventTier
from kiosk.services.events import current_event
from kiosk.tiers import as_tier, event_tiers, has_tiers_column, tier_for, tier_id_column

# (AUM in yuan or None, the ledger's label)
CASES = [
    (None, "standard"),
    (None, "gold"),
    (None, "GOLD"),
    (None, "Platinum"),
    (None, ""),
    (0, "gold"),
    (49_999, "platinum"),
    (50_000, "standard"),
    (499_999, ""),
    (500_000, "gold"),
    (3_000_000, "gold"),
    (10_000_000, "standard"),
]


def _read(db: Database, ids: list[int]) -> dict[int, tuple[str | None, str | None, bool]]:
    """Each customer's band as SQL reads it and as Python judges it, and whether any."""
    with db.unit_of_work() as uow:
        s = uow.session
        event = current_event(s)
        tiers = event_tiers(s, event.id)
        found = {}
        for customer, row, any_tier in s.execute(
            select(Customer, EventTier, has_tiers_column(event.id))
            .outerjoin(EventTier, EventTier.id == tier_id_column(event.id))
            .where(Customer.id.in_(ids))
        ):
            sql = as_tier(row)
            python = tier_for(tiers, customer.aum, customer.tier)
            found[customer.id] = (
                sql.code if sql else None,
                python.code if python else None,
                bool(any_tier),
            )
        return found


def test_the_band_read_in_sql_is_the_band_judged_in_python(any_demo_db: Database) -> None:
    db = any_demo_db
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup
        s = uow.session
        event = current_event(s)
        s.execute(delete(EventTier).where(EventTier.event_id == event.id))
        s.add_all(
            [
                EventTier(event_id=event.id, code="GOLD", name="金卡", aum_floor=50_000),
                EventTier(event_id=event.id, code="PLATINUM", name="白金", aum_floor=500_000),
                EventTier(event_id=event.id, code="DIAMOND", name="钻石", aum_floor=3_000_000),
            ]
        )
        ids = list(s.scalars(select(Customer.id).order_by(Customer.id).limit(len(CASES))))
        for customer_id, (aum, label) in zip(ids, CASES, strict=True):
            s.execute(
                update(Customer).where(Customer.id == customer_id).values(aum=aum, tier=label)
            )
        uow.commit()
    found = _read(db, ids)
    assert all(sql == python for sql, python, _any in found.values()), found
    # The cases reach every band and none.
    assert {python for _sql, python, _any in found.values()} == {
        None,
        "GOLD",
        "PLATINUM",
        "DIAMOND",
    }
    assert all(any_tier for _sql, _python, any_tier in found.values())
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup
        uow.session.execute(delete(EventTier))
        uow.commit()
    assert all(found == (None, None, False) for found in _read(db, ids).values())
