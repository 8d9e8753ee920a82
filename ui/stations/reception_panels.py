"""Reception's panels: the customer card (slot and arrival, points, pending steps, RM,
companions, the visit) and the slot counts (expected, arrived, the slot on now). They read
nothing; the station hands them what it read."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import _, listing
from kiosk.labels import duration_words, gap_label, kyc_field_label, queue_label, tier_label
from kiosk.services import reception
from kiosk.services.reception import Arrival, CustomerCard
from ui.theme import is_large_print


class CustomerCardView(QFrame):
    """The selected customer: slot and arrival, points, pending steps, RM, companions."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        layout = QVBoxLayout(self)
        if is_large_print():  # every line counts on a 768-pixel laptop
            layout.setContentsMargins(14, 6, 14, 6)
            layout.setSpacing(2)
        else:
            layout.setContentsMargins(18, 14, 18, 14)
        self.name = QLabel("")
        self.name.setObjectName("card_name")
        # Large print: the name a size smaller than a title, so the whole card fits beside
        # the list on a 768-pixel laptop (it is still the largest line of the card).
        self.name.setProperty("role", "subtitle" if is_large_print() else "title")
        self.identity = QLabel("")
        self.identity.setProperty("role", "hint")
        self.slot = QLabel("")
        self.slot.setObjectName("card_slot")
        self.points = QLabel("")
        self.points.setObjectName("card_points")
        self.pending = QLabel("")
        self.pending.setObjectName("card_pending")
        self.pending.setWordWrap(True)
        self.rm = QLabel("")
        self.rm.setObjectName("card_rm")
        self.visit = QLabel("")
        self.visit.setObjectName("card_visit")
        self.visit.setProperty("role", "subtitle")
        self.labels = (
            self.name,
            self.identity,
            self.slot,
            self.points,
            self.pending,
            self.rm,
            self.visit,
        )
        for label in self.labels:
            label.setWordWrap(True)
            layout.addWidget(label)
        layout.addStretch(1)

    def show_card(self, card: CustomerCard | None) -> None:
        if card is None:
            for label in self.labels:
                label.clear()
            self.name.setText(_("No customer selected"))
            return
        zone = ZoneInfo(card.timezone)
        hit = card.hit
        self.name.setText(hit.name + (_(" (walk-in)") if hit.walk_in else ""))
        self.identity.setText(
            " · ".join(
                x
                for x in (
                    hit.customer_no,
                    hit.masked_phone,
                    hit.masked_id,
                    hit.branch,
                    tier_label(card.tier),
                )
                if x
            )
        )
        if card.slot_start and card.slot_end:
            times = (
                f"{card.slot_start.astimezone(zone):%H:%M}–{card.slot_end.astimezone(zone):%H:%M}"
            )
            # A sign before the words, so early, late and on time differ at a glance for
            # staff and the customer reading along (never words or colour alone): ✓ on time,
            # ◀ before the time (ask them to wait), ⚠ after it.
            arrival = {
                Arrival.ON_TIME: "✓ " + _("on time"),
                Arrival.IN_WINDOW: "✓ " + _("in window"),
                Arrival.EARLY: "◀ "
                + _("{time} early").format(time=duration_words(card.minutes_off)),
                Arrival.LATE: "⚠ " + _("{time} late").format(time=duration_words(card.minutes_off)),
            }[card.arrival]
            if card.window_start and card.window_end:  # told against the window, in words
                window = (
                    f"{card.window_start.astimezone(zone):%H:%M}–"
                    f"{card.window_end.astimezone(zone):%H:%M}"
                )
                self.slot.setText(
                    _("Window: {window} ({label} {times}) · {arrival}").format(
                        window=window, label=card.slot_label, times=times, arrival=arrival
                    )
                )
            else:
                self.slot.setText(
                    _("Slot: {label} {times} · {arrival}").format(
                        label=card.slot_label, times=times, arrival=arrival
                    )
                )
        else:
            self.slot.setText(_("Slot: none (not invited)"))
        as_of = (
            card.balance_as_of.astimezone(zone).strftime("%m-%d %H:%M")
            if (card.balance_as_of)
            else "—"
        )
        points = _("Points: {points:,} (ledger as of {as_of})").format(
            points=card.points, as_of=as_of
        )
        if card.expiring_soon:
            if is_large_print():  # one line, as before: what the customer reads comes first
                points = _("Points: {points:,}").format(points=card.points)
            points += " · " + _("{points:,} expire within 3 months").format(
                points=card.expiring_soon
            )
        self.points.setText(points)
        steps = []
        if card.gaps:
            fields = "、".join(
                _("{field} {problem}").format(field=kyc_field_label(f), problem=gap_label(p))
                for f, p in card.gaps.items()
            )
            steps.append(_("information governance ({fields})").format(fields=fields))
        if card.needs_mobile_banking:
            steps.append(_("open mobile banking"))
        steps.append(_("activation and redemption"))
        extra = [_("dormant customer")] if card.dormant else []
        self.pending.setText(_("To do: {steps}").format(steps=listing(steps + extra)))
        if hit.rm_name:
            here = _("at the event") if card.rm_signed_in else _("not signed in")
            rm_text = _("RM: {name} ({here})").format(name=hit.rm_name, here=here)
        else:
            rm_text = _("RM: none")
        if card.companions:
            rm_text += " · " + _("{n} companions").format(n=card.companions)
        self.rm.setText(rm_text)
        if card.visit:
            self.visit.setText(
                _("Checked in at {time}: ticket {ticket}, {place}").format(
                    time=card.visit.checked_in_at.astimezone(zone).strftime("%H:%M"),
                    ticket=card.visit.ticket,
                    place=queue_label(card.visit.route),
                )
            )
        else:
            self.visit.setText(
                _("Suggested: {place}").format(place=queue_label(card.suggested_route))
            )
        self.layout().activate()  # wrapped lines re-flow now, not on a later pass


class SlotPanel(QFrame):
    """Arrivals against expectation per slot, with a warning when the current one is full."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(14, 8, 14, 8)
        self.rows: dict[str, tuple[QLabel, QProgressBar]] = {}
        self.stacked = is_large_print()
        self.warning = QLabel("")
        self.warning.setObjectName("slot_warning")
        self.warning.setProperty("role", "error")
        self.warning.setVisible(False)

    def show_slots(self, slots: list[reception.SlotArrivals]) -> None:
        warnings = []
        for row, slot in enumerate(slots):
            if slot.code not in self.rows:
                label, bar = QLabel(""), QProgressBar()
                bar.setTextVisible(False)
                if self.stacked:  # large print, a narrow column: the words wrap, bar below
                    label.setWordWrap(True)
                    bar.setMaximumHeight(16)
                    self.grid.addWidget(label, 2 * row, 0, 1, 2)
                    self.grid.addWidget(bar, 2 * row + 1, 0, 1, 2)
                else:
                    self.grid.addWidget(label, row, 0)
                    self.grid.addWidget(bar, row, 1)
                self.rows[slot.code] = (label, bar)
            label, bar = self.rows[slot.code]
            text = _("{label}: {arrived} arrived of {expected} expected (capacity {capacity})")
            text = text.format(
                label=slot.label,
                arrived=slot.arrived,
                expected=slot.expected,
                capacity=slot.capacity,
            )
            label.setText(("▶ " + text) if slot.is_current else text)
            if self.stacked:  # the slot on now in bold, not larger: the column is narrow
                font = label.font()
                font.setBold(slot.is_current)
                label.setFont(font)
            else:
                label.setProperty("role", "subtitle" if slot.is_current else "")
                label.style().polish(label)
            bar.setRange(0, max(slot.capacity, slot.arrived, 1))
            bar.setValue(slot.arrived)
            if slot.is_current and slot.over_capacity:
                warnings.append(
                    _(
                        "{label} is over capacity: {arrived} arrived, capacity "
                        "{capacity}. Ask early arrivals to wait."
                    ).format(label=slot.label, arrived=slot.arrived, capacity=slot.capacity)
                )
        self.warning.setWordWrap(True)
        self.grid.addWidget(self.warning, (2 if self.stacked else 1) * len(slots), 0, 1, 2)
        self.warning.setText(" ".join(warnings))
        self.warning.setVisible(bool(warnings))
        self.grid.setColumnStretch(1, 1)
