"""A customer's points at the event: lots from the ledger snapshot, less reserves, plus releases.

The snapshot is what the central ledger said before the event, lot by lot (积分批次): points
earned together expire together. Issuing a slip reserves points in the append-only journal
and takes them from the lots that expire first (``JournalLot`` says which); voiding or
releasing it gives them back to the same lots, so a slip voided after its lot expired gives
back points the customer can no longer spend, as on the ledger. The balance is always
derived, never overwritten.

A customer whose snapshot came without lots (a test, an event from before lots) has one
implicit lot, the balance with no expiry, made real the first time it is spent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, case, func, insert, select, update
from sqlalchemy.orm import Session

from kiosk import audit
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.models import Customer, JournalEntry, JournalKind, JournalLot, PointsLot


class NotEnoughPoints(KioskError):
    """The unexpired lots do not cover what is asked; nothing was taken."""


@dataclass(frozen=True)
class LotBalance:
    """One lot as the event sees it now."""

    lot_id: int | None  # None: the implicit lot of a customer without lots
    ref: str
    expires_on: date | None  # None: does not expire
    left: int  # what is left of the lot after the event's reserves and releases
    expired: bool  # past its date: ``left`` can no longer be spent

    @property
    def spendable(self) -> int:
        return 0 if self.expired else self.left


@dataclass(frozen=True)
class LotInput:
    """A lot as an import or the ledger gives it."""

    ref: str
    points: int
    expires_on: date | None = None


def _order(lot: LotBalance) -> tuple[int, date, str]:
    """Expiring first, then the ones without a date; ``ref`` keeps the order stable."""
    return (lot.expires_on is None, lot.expires_on or date.max, lot.ref)


def _signed() -> object:
    return case(
        (JournalEntry.kind == JournalKind.RELEASE, JournalLot.points), else_=-JournalLot.points
    )


# ``lots_select``'s own columns; a caller's ``extra`` columns come after them.
LOT_COLUMNS = 7


def lots_select(customer_id: int, *extra: Any) -> Select[Any]:
    """The customer's lots with what the event moved on each, the implicit lot's journal
    delta and the count of unsettled entries, in one query (issue #23: two before, each a
    round trip on the venue LAN). One row per lot, or one row of NULL lot columns for a
    customer without lots; ``extra`` columns come after (a caller's own scalar, e.g. the
    slips' highest serial). Read it with ``lots_from``."""
    moved = (
        select(JournalLot.lot_id.label("lot_id"), func.sum(_signed()).label("moved"))
        .join(JournalEntry, JournalEntry.id == JournalLot.journal_entry_id)
        .where(JournalEntry.customer_id == customer_id, JournalEntry.settled_at.is_(None))
        .group_by(JournalLot.lot_id)
        .subquery()
    )
    unsettled = (JournalEntry.customer_id == customer_id) & JournalEntry.settled_at.is_(None)
    delta = (
        select(
            func.coalesce(
                func.sum(
                    case(
                        (JournalEntry.kind == JournalKind.RELEASE, JournalEntry.points),
                        else_=-JournalEntry.points,
                    )
                ),
                0,
            )
        )
        .where(unsettled)
        .scalar_subquery()
    )
    entries = select(func.count(JournalEntry.id)).where(unsettled).scalar_subquery()
    return (
        select(
            PointsLot.id,
            PointsLot.ref,
            PointsLot.expires_on,
            PointsLot.points,
            moved.c.moved,
            delta,
            entries,
            *extra,
        )
        .select_from(Customer)
        .outerjoin(PointsLot, PointsLot.customer_id == Customer.id)
        .outerjoin(moved, moved.c.lot_id == PointsLot.id)
        .where(Customer.id == customer_id)
    )


@dataclass(frozen=True)
class Lots:
    """What ``lots_select`` read: the lots in the order they are spent, and the count of the
    customer's unsettled journal entries (the implicit lot's earlier draws)."""

    lots: list[LotBalance]
    unsettled: int

    @property
    def spendable(self) -> int:
        return sum(lot.spendable for lot in self.lots)


def lots_from(rows: Sequence[Any], customer: Customer, on: date) -> Lots:
    """``lots_select``'s rows as balances on ``on`` (expired lots too, counting nothing)."""
    if not rows:
        raise KioskError(_("This customer no longer exists."))
    unsettled = int(rows[0][6] or 0)
    if rows[0][0] is None:
        left = customer.points_balance + int(rows[0][5] or 0)
        return Lots([LotBalance(None, "", None, left, False)], unsettled)
    balances = [
        LotBalance(
            lot_id,
            ref,
            expires_on,
            points + int(moved or 0),
            expires_on is not None and expires_on < on,
        )
        for lot_id, ref, expires_on, points, moved, *_rest in rows
    ]
    return Lots(sorted(balances, key=_order), unsettled)


def lot_balances(session: Session, customer: Customer, on: date) -> list[LotBalance]:
    """The customer's lots in the order they are spent (expiring first), expired ones too
    (``expired``: they count for nothing on ``on``)."""
    return lots_from(session.execute(lots_select(customer.id)).all(), customer, on).lots


def available_points(session: Session, customer: Customer, on: date) -> int:
    """What the customer can spend on ``on``: the unexpired lots' points left."""
    return sum(lot.spendable for lot in lot_balances(session, customer, on))


def spend(
    session: Session, customer: Customer, entry: JournalEntry, on: date
) -> list[tuple[LotBalance, int]]:
    """Take ``entry.points`` (a reserve, already added to the session) from the lots that
    expire first, recording which in ``JournalLot``. Call with the customer row locked."""
    if entry.id is None:
        session.flush()
    rows = session.execute(lots_select(customer.id)).all()
    held = lots_from(rows, customer, on)
    lots = held.lots
    if lots[0].lot_id is None:
        # ``entry`` is in the journal already: not one of the implicit lot's earlier draws.
        lots = [LotBalance(None, "", None, lots[0].left + entry.points, False)]
    return spend_many(session, customer, [entry], Lots(lots, held.unsettled - 1))[0]


def spend_many(
    session: Session, customer: Customer, entries: Sequence[JournalEntry], held: Lots
) -> list[list[tuple[LotBalance, int]]]:
    """Take each entry's points (reserves, flushed: they have ids) from ``held``, the lots as
    read under the customer's lock before the entries were written, expiring first, one
    entry after the other; the ``JournalLot`` rows are written at once, in one statement,
    and never enter the session. Returns what each entry took.

    The lots are not read again: what the earlier entries took is taken off here. A customer
    without lots has their implicit lot made real, so give-backs have somewhere to go; the
    journal's earlier entries (``held.unsettled``) drew on it and are tied to it too."""
    lots = list(held.lots)
    if lots and lots[0].lot_id is None:
        made = PointsLot(customer_id=customer.id, ref="", points=customer.points_balance)
        session.add(made)
        session.flush()
        if held.unsettled:
            ours = [entry.id for entry in entries]
            for earlier_id, points in session.execute(
                select(JournalEntry.id, JournalEntry.points).where(
                    JournalEntry.customer_id == customer.id,
                    JournalEntry.settled_at.is_(None),
                    JournalEntry.id.not_in(ours),
                    ~JournalEntry.id.in_(select(JournalLot.journal_entry_id)),
                )
            ):
                session.add(JournalLot(journal_entry_id=earlier_id, lot_id=made.id, points=points))
        lots = [LotBalance(made.id, "", None, lots[0].left, False)]
    left = {i: lot.spendable for i, lot in enumerate(lots)}
    taken_all: list[list[tuple[LotBalance, int]]] = []
    ties: list[dict[str, int | None]] = []
    for entry in entries:
        need = entry.points
        taken: list[tuple[LotBalance, int]] = []
        for i, lot in enumerate(lots):
            if need <= 0:
                break
            take = min(left[i], need)
            if take <= 0:
                continue
            taken.append((lot, take))
            left[i] -= take
            need -= take
        if need > 0:
            raise NotEnoughPoints(
                _("Not enough points: {needed:,} are needed, {left:,} can be spent.").format(
                    needed=entry.points, left=entry.points - need
                )
            )
        ties += [
            {"journal_entry_id": entry.id, "lot_id": lot.lot_id, "points": take}
            for lot, take in taken
        ]
        taken_all.append(taken)
    # One Core INSERT noted for the audit as the flush would note it (issue #23: the flush
    # of these rows was a tenth of issuing a cart on the station).
    audit.insert_many_noted(session, JournalLot, ties)
    return taken_all


def give_back(session: Session, reserve: JournalEntry, release: JournalEntry) -> list[str]:
    """Tie ``release`` to the lots ``reserve`` took from, point for point (expired or not);
    returns the lots' refs. A reserve from before lots gives back to the customer's first lot
    without a date, or to a new one."""
    if release.id is None:
        session.flush()
    allocations = session.execute(
        select(JournalLot.lot_id, JournalLot.points, PointsLot.ref)
        .join(PointsLot, PointsLot.id == JournalLot.lot_id)
        .where(JournalLot.journal_entry_id == reserve.id)
        .order_by(JournalLot.id)
    ).all()
    if not allocations:
        lot = session.scalar(
            select(PointsLot)
            .where(PointsLot.customer_id == reserve.customer_id, PointsLot.expires_on.is_(None))
            .order_by(PointsLot.id)
            .limit(1)
        )
        if lot is None:
            customer = session.get(Customer, reserve.customer_id)
            assert customer is not None
            lot = PointsLot(customer_id=customer.id, ref="", points=customer.points_balance)
            session.add(lot)
            session.flush()
        allocations = [(lot.id, reserve.points, lot.ref)]
    for lot_id, points, _ref in allocations:
        session.add(JournalLot(journal_entry_id=release.id, lot_id=lot_id, points=points))
    return [ref for _lot, _points, ref in allocations]


def check_lots(lots: Sequence[LotInput]) -> None:
    """A lot list the snapshot may hold: points not negative, refs unique."""
    refs = [lot.ref for lot in lots]
    if len(set(refs)) != len(refs):
        raise KioskError(_("Two lots have the same reference."))
    if any(lot.points < 0 for lot in lots):
        raise KioskError(_("A lot cannot hold negative points."))


def set_lots(session: Session, customer: Customer, lots: Iterable[LotInput]) -> None:
    """Write a new snapshot of the customer's lots (an import, a ledger pull): lots matched on
    their ref are updated, new ones added, lots no longer reported kept at 0 points (the
    journal may name them); the balance becomes their sum."""
    given = list(lots)
    check_lots(given)
    if customer.id is None:
        session.flush()
    existing = {
        lot.ref: lot
        for lot in session.scalars(select(PointsLot).where(PointsLot.customer_id == customer.id))
    }
    for lot in given:
        row = existing.pop(lot.ref, None)
        if row is None:
            session.add(
                PointsLot(
                    customer_id=customer.id,
                    ref=lot.ref,
                    points=lot.points,
                    expires_on=lot.expires_on,
                )
            )
        else:
            row.points = lot.points
            row.expires_on = lot.expires_on
    if existing:
        session.execute(
            update(PointsLot)
            .where(PointsLot.id.in_([row.id for row in existing.values()]))
            .values(points=0)
            .execution_options(synchronize_session="fetch")
        )
    customer.points_balance = sum(lot.points for lot in given)


def set_lots_many(session: Session, lots: Mapping[int, Sequence[LotInput]]) -> None:
    """``set_lots`` for many customers at once, by customer id (an import's batch of
    thousands): the same rule (upsert by ref, lots no longer reported kept at 0 points,
    balance = their sum) in a handful of statements instead of a query per customer.

    It writes rows, not loaded objects: customers and lots already in the session are not
    refreshed (the import loads none)."""
    for given in lots.values():
        check_lots(given)
    held: dict[int, dict[str, tuple[int, int, date | None]]] = {}
    ids = list(lots)
    for start in range(0, len(ids), 1000):
        for lot_id, customer_id, ref, points, expires_on in session.execute(
            select(
                PointsLot.id,
                PointsLot.customer_id,
                PointsLot.ref,
                PointsLot.points,
                PointsLot.expires_on,
            ).where(PointsLot.customer_id.in_(ids[start : start + 1000]))
        ):
            held.setdefault(customer_id, {})[ref] = (lot_id, points, expires_on)
    added: list[dict[str, object]] = []
    changed: list[dict[str, object]] = []
    emptied: list[int] = []
    for customer_id, given in lots.items():
        before = held.get(customer_id, {})
        for lot in given:
            row = before.pop(lot.ref, None)
            if row is None:
                added.append(
                    {
                        "customer_id": customer_id,
                        "ref": lot.ref,
                        "points": lot.points,
                        "expires_on": lot.expires_on,
                    }
                )
            elif row[1:] != (lot.points, lot.expires_on):
                changed.append({"id": row[0], "points": lot.points, "expires_on": lot.expires_on})
        emptied += [lot_id for lot_id, points, _expires in before.values() if points]
    if added:
        session.execute(insert(PointsLot), added)
    if changed:
        session.execute(update(PointsLot), changed)
    for start in range(0, len(emptied), 1000):
        session.execute(
            update(PointsLot)
            .where(PointsLot.id.in_(emptied[start : start + 1000]))
            .values(points=0)
            .execution_options(synchronize_session=False)
        )
    if lots:
        session.execute(
            update(Customer),
            [
                {"id": customer_id, "points_balance": sum(lot.points for lot in given)}
                for customer_id, given in lots.items()
            ],
        )


def simple_balance(points: int) -> list[LotInput]:
    """A balance without lots: one lot, no expiry."""
    return [LotInput("", points, None)]
