"""Test setup for balances: the demo's customers hold lots (``kiosk.demo``), and a test that
sets ``points_balance`` means that balance and nothing else."""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from kiosk.models import Customer, EventTier, OfferTier, PointsLot


def drop_lots(session: Session, *where: ColumnElement[bool]) -> None:
    """The customers matching ``where`` (every customer without it) lose their lots, so their
    ``points_balance`` is their one implicit lot without a date, as before lots."""
    customers = select(Customer.id).where(*where)
    session.execute(delete(PointsLot).where(PointsLot.customer_id.in_(customers)))


def drop_tiers(session: Session) -> None:
    """No tiers (and so no tier prices or quotas): a test that sets its own starts clean."""
    session.execute(delete(OfferTier))
    session.execute(delete(EventTier))
