"""Reception: scan or search, see the customer card, check in with one key, print a ticket.

The scan field never loses focus: results follow the arrow keys, Enter checks in the selected
customer, a scanner burst checks in at once. Every outcome is a coloured banner with words and
a sound. All rules live in ``kiosk.services.reception``; this module only shows and asks.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from kiosk.changeset import Changes
from kiosk.errors import DatabaseError, KioskError
from kiosk.i18n import _
from kiosk.labels import duration_words, queue_label
from kiosk.models import Queue
from kiosk.permissions import Action
from kiosk.roles import Station
from kiosk.scanning import Enter, Shown, on_enter, query_key
from kiosk.search import SearchError
from kiosk.services import reception
from kiosk.services.events import branches
from kiosk.services.reception import Arrival, CheckInResult, CustomerCard
from printing import flow
from printing.printer import Printer, PrintOutcome, PrintProblem
from ui.approval import approval_for
from ui.camera import CameraScanner
from ui.context import StationContext
from ui.operations import run, when_idle
from ui.statement_dialog import open_statement
from ui.stations.base import StationPage
from ui.stations.reception_panels import CustomerCardView, SlotPanel
from ui.stations.walk_in import WalkInDialog
from ui.table_models import HitModel
from ui.theme import fit_rows, is_large_print
from ui.timing import every
from ui.widgets import (
    KeepFocus,
    PrintBanner,
    ResultBanner,
    ScanField,
    Sounds,
    Tone,
    side_by_side,
)

__all__ = ["ReceptionStation", "WalkInDialog"]

SEARCH_DELAY_MS = 60  # lets a scanner burst finish before searching


class FoldingLabel(QLabel):
    """A line that takes no room while it says nothing (the search's "3 found")."""

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setVisible(bool(text))

    def clear(self) -> None:
        super().clear()
        self.setVisible(False)


class ReceptionStation(StationPage):
    station = Station.RECEPTION
    shows = frozenset({"visits", "customers", "setup"})

    def __init__(self, context: StationContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.sounds = Sounds(self)
        self.printer = Printer.from_environment()
        self.card: CustomerCard | None = None
        self._card_stale = False  # an undo changed the card on screen: the refresh reads it
        self.last_print = ""

        self.field = ScanField()
        self.field.setPlaceholderText(
            _("Scan the invitation, or type a name, initials, phone last 4, customer no.")
        )
        self.field.installEventFilter(KeepFocus(self.field))
        self.hint = FoldingLabel("")
        self.hint.setObjectName("search_hint")
        self.hint.setWordWrap(True)
        self.hint.setProperty("role", "hint")
        self.walk_in_button = QPushButton(_("Walk-in (F2)"))
        self.walk_in_button.setObjectName("walk_in")
        self.camera = CameraScanner(self)
        self.camera_button = QPushButton(_("Camera"))
        self.camera_button.setObjectName("camera")
        self.camera_button.setCheckable(True)
        self.camera_button.setVisible(CameraScanner.available())
        self.banner = ResultBanner()
        self.print_banner = PrintBanner(_("Print again (F4)"))

        self.model = HitModel()
        self._widths: dict[int, int] = {}  # each column's width for its longest sample
        self.table = QTableView()
        self.table.setObjectName("results")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the scan field keeps the keyboard
        self.table.verticalHeader().setVisible(False)
        fit_rows(self.table)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)

        self.card_view = CustomerCardView()
        self.route = QComboBox()
        self.route.setObjectName("route")
        self.route.addItem(_("Route: as suggested"), None)
        self.route.addItem(queue_label(Queue.SERVICE_DESK), Queue.SERVICE_DESK)
        self.route.addItem(queue_label(Queue.ACTIVATION), Queue.ACTIVATION)
        self.route.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.check_in_button = QPushButton(_("Check in (Enter)"))
        self.check_in_button.setObjectName("check_in")
        self.check_in_button.setProperty("role", "primary")
        self.undo_button = QPushButton(_("Undo check-in (Ctrl+Z)"))
        self.undo_button.setObjectName("undo")
        self.reprint_button = QPushButton(_("Print ticket again (Ctrl+P)"))
        self.reprint_button.setObjectName("reprint")
        self.statement_button = QPushButton(_("Points statement"))
        self.statement_button.setObjectName("statement")
        for button in (
            self.check_in_button,
            self.undo_button,
            self.reprint_button,
            self.statement_button,
            self.walk_in_button,
        ):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slots = SlotPanel()

        top = QHBoxLayout()
        top.addWidget(self.field, 1)
        top.addWidget(self.camera_button)
        top.addWidget(self.walk_in_button)
        # The card scrolls inside its place: a walk-in's long to-do list in large print on a
        # 768-pixel laptop would otherwise squeeze its lines over each other.
        card_scroll = QScrollArea()
        card_scroll.setObjectName("card_scroll")
        card_scroll.setWidgetResizable(True)
        card_scroll.setFrameShape(QFrame.Shape.NoFrame)
        card_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the scan field keeps the keyboard
        card_scroll.setWidget(self.card_view)
        right = QVBoxLayout()
        right.addWidget(card_scroll, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.addLayout(top)
        middle = QHBoxLayout()
        if is_large_print():
            # Large print: two columns, what happened on the left (the list while searching,
            # the check-in's and the ticket's banners one above the other, the slots), the
            # card and every action on the right, where the card keeps most of the height.
            # The list is folded away while it is empty, so the banners and slots get it.
            self.field.setPlaceholderText(_("Scan, or type a name, phone or customer no."))
            self.field.setToolTip(
                _("Scan the invitation, or type a name, initials, phone last 4, customer no.")
            )
            self.model.modelReset.connect(self._fold_list)
            left = QVBoxLayout()
            left.addWidget(self.hint)  # "7 found" above the list it counts
            for banner in (self.banner, self.print_banner):
                left.addWidget(banner)
            left.addWidget(self.table, 1)
            left.addStretch(0)
            left.addWidget(self.slots)
            actions = QGridLayout()
            actions.addWidget(self.route, 0, 0)
            actions.addWidget(self.check_in_button, 0, 1)
            # The two longest labels (undo, print again) in different columns, so the card's
            # column asks for less width and the list keeps its key columns.
            actions.addWidget(self.undo_button, 1, 0)
            actions.addWidget(self.statement_button, 1, 1)
            actions.addWidget(self.reprint_button, 2, 0, 1, 2)
            right.addLayout(actions)
            middle.addLayout(left, 5)
            middle.addLayout(right, 7)
            self._fold_list()
        else:
            actions = QHBoxLayout()
            actions.addWidget(self.route, 1)
            actions.addWidget(self.check_in_button, 1)
            more = QHBoxLayout()
            more.addWidget(self.undo_button)
            more.addWidget(self.reprint_button)
            more.addWidget(self.statement_button)
            right.addLayout(actions)
            right.addLayout(more)
            middle.addWidget(self.table, 14)
            middle.addLayout(right, 7)
            layout.addWidget(self.hint)
            layout.addLayout(side_by_side(self.banner, self.print_banner))
        layout.addLayout(middle, 1)
        if not is_large_print():
            layout.addWidget(self.slots)
        # The columns that fit the list's width (``_fit_columns``), as the viewport says it;
        # the last one stretches, and its rounding must not bring a sideways scroll bar.
        self.table.viewport().installEventFilter(self)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.search_timer = QTimer(self)
        self.search_timer.setSingleShot(True)
        self.search_timer.setInterval(SEARCH_DELAY_MS)
        self.search_timer.timeout.connect(when_idle(self, self.run_search, again=self.search_timer))
        # The list on screen: the text it was searched for and the selected customer. Enter
        # checks in only that customer, and only while the field still holds that text.
        self._shown: Shown | None = None
        self._card_customer: int | None = None
        self.card_timer = QTimer(self)
        self.card_timer.setSingleShot(True)
        self.card_timer.setInterval(0)
        self.card_timer.timeout.connect(
            when_idle(
                self,
                lambda: self._show_customer_now(self._card_customer),
                again=self.card_timer,
            )
        )
        self.slot_timer = QTimer(self)
        # Other reception laptops check people in too: ``refresh_live`` follows them at once;
        # this timer moves the current slot along with the clock.
        self.slot_timer.setInterval(every(60_000))
        self.slot_timer.timeout.connect(when_idle(self, self.refresh_slots))
        self.expected: dict[str, int] | None = None  # invitees per slot: changes with imports
        self.expected_timer = QTimer(self)
        self.expected_timer.setInterval(every(300_000))
        self.expected_timer.timeout.connect(
            when_idle(self, lambda: self.refresh_slots(recount_expected=True))
        )

        self.field.textEdited.connect(self.on_edited)
        self.field.scanned.connect(self.on_scanned)
        self.field.submitted.connect(self.on_submitted)
        self.field.moved.connect(self.move_selection)
        self.field.escaped.connect(self.reset_input)
        self.table.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self.show_customer(current.row())
        )
        self.table.clicked.connect(lambda _index: self.field.setFocus())
        self.check_in_button.clicked.connect(self.check_in_selected)
        self.undo_button.clicked.connect(self.undo)
        self.reprint_button.clicked.connect(self.reprint)
        self.statement_button.clicked.connect(self.show_statement)
        self.print_banner.retry.connect(self.retry_print)
        self.walk_in_button.clicked.connect(self.walk_in)
        self.camera_button.toggled.connect(self.toggle_camera)
        self.camera.decoded.connect(self.on_scanned)
        self.camera.failed.connect(self.fail)
        self.bind(Qt.Key.Key_F2, self.walk_in)
        self.bind(Qt.Key.Key_Z, self.undo, Qt.KeyboardModifier.ControlModifier)
        self.bind(Qt.Key.Key_P, self.reprint, Qt.KeyboardModifier.ControlModifier)
        self.bind(Qt.Key.Key_F4, self.retry_print)
        self._update_buttons()

    # -- loading -----------------------------------------------------------------------------

    def _size_columns(self) -> None:
        self._set_widths()
        self._fit_columns()

    def _fold_list(self) -> None:
        """Large print: the list only while it lists someone (the banners and slots below
        it have its room the rest of the time)."""
        self.table.setVisible(self.model.rowCount() > 0)

    # The columns in the order they give way when the list is narrow: name, phone and
    # status always; the card shows the rest of the selected customer.
    COLUMN_ORDER = (
        HitModel.NAME,
        HitModel.PHONE,
        HitModel.STATUS,
        HitModel.BRANCH,
        HitModel.SLOT,
        HitModel.RM,
        HitModel.ID,
    )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        return super().eventFilter(watched, event)

    def _fit_columns(self) -> None:
        """As many columns as the list's width shows without scrolling sideways, in the
        order of ``COLUMN_ORDER`` (name, phone and status always; the card shows the rest
        of the selected customer), in the table's own order on screen."""
        room = self.table.viewport().width() - 2  # rounding
        used = 0
        shown = []
        for index, column in enumerate(self.COLUMN_ORDER):
            width = self._widths.get(column, 100)
            if index < 3 or used + width <= room:
                shown.append(column)
                used += width
        for column in range(self.model.columnCount()):
            self.table.setColumnHidden(column, column not in shown)

    def _set_widths(self) -> None:
        """Column widths from the font once (after the style sheet applied), not measured from
        the rows on every keystroke."""
        self.table.ensurePolished()
        metrics = self.table.fontMetrics()
        samples = (
            "欧阳娜娜",
            "138****0000",
            "440000********000X",
            "珠江新城支行",
            "李梓云",
            "下午场",
            max((_("Checked in"), _("Walk-in"), _("Not invited")), key=metrics.horizontalAdvance),
        )
        bold = self.table.horizontalHeader().font()
        bold.setBold(True)  # the theme's column titles
        titles = QFontMetrics(bold)
        for column, sample in enumerate(samples):
            title = str(self.model.headerData(column, Qt.Orientation.Horizontal))
            width = max(metrics.horizontalAdvance(sample), titles.horizontalAdvance(title) + 8)
            if column != HitModel.STATUS:  # the last column stretches into what is left
                self.table.horizontalHeader().resizeSection(column, width + 14)
            self._widths[column] = width + 14

    def load(self) -> None:
        unprinted = self.context.app.unprinted_ticket
        if unprinted is not None and not self.print_banner.isVisibleTo(self):
            # The window was rebuilt (language, large print) since the ticket failed to print.
            self.print_banner.outcome(
                Tone.WARN,
                _("Ticket {ticket} was not printed.").format(ticket=unprinted.ticket),
                _("The check-in stands: press F4 to print the ticket again."),
                retry=True,
            )
        self._size_columns()
        self.refresh_slots(recount_expected=True)
        self.slot_timer.start()
        self.expected_timer.start()
        self.card_view.show_card(None)
        self.field.setFocus()

    def refresh_live(self) -> None:
        """Slot counts, and the card on screen (checked in elsewhere meanwhile?); the search
        field and its results stay as they are."""
        self.refresh(card=True)

    def after(self, changes: Changes) -> None:
        """After this station's own check-in the card is the service's answer: only the slot
        counts are read; after an undo, the card too. One read either way."""
        self.refresh(card=self._card_stale)

    def refresh(self, *, card: bool) -> None:
        """Slot counts and (with ``card``) the card on screen, from one transaction."""
        self._card_stale = False
        read = self.context.shared_read()
        try:
            with read:
                if self.expected is None:
                    self.expected = reception.slot_expected(read)
                slots = reception.slot_arrivals(
                    read, clock=self.context.app.clock, expected=self.expected
                )
                fresh = (
                    reception.customer_card(
                        read, self.card.hit.customer_id, clock=self.context.app.clock
                    )
                    if card and self.card is not None
                    else None
                )
        except (KioskError, SQLAlchemyError) as error:
            self._slots_failed(error)
            if card and self.card is not None and isinstance(error, KioskError):
                raise  # the window says the database is away
            return
        self.slots.show_slots(slots)
        if fresh is not None:
            self.card = fresh
            self.card_view.show_card(self.card)
            self._update_buttons()

    def refresh_slots(self, *, recount_expected: bool = False) -> None:
        try:
            if recount_expected or self.expected is None:
                self.expected = reception.slot_expected(self.context.uow())
            slots = reception.slot_arrivals(
                self.context.uow(), clock=self.context.app.clock, expected=self.expected
            )
        except (KioskError, SQLAlchemyError) as error:
            self._slots_failed(error)
            return
        self.slots.show_slots(slots)

    def _slots_failed(self, error: Exception) -> None:
        # A periodic refresh must never take the station down; say why and try again.
        self.slots.warning.setText(
            _("Cannot refresh the slots: {reason}").format(reason=str(error).splitlines()[0])
        )
        self.slots.warning.setVisible(True)

    def toggle_camera(self, on: bool) -> None:
        if on and not self.camera.running:
            self.camera.start()
        elif not on:
            self.camera.stop()
        self.field.setFocus()

    def keep(self) -> tuple[str, int | None, bool] | None:
        """The search typed and the customer selected in its list: a language switch with a
        customer at the counter must not make staff search again. And whether the text was
        selected (a bad scan is, to be scanned over)."""
        text = self.field.text()
        if not text.strip():
            return None
        hit = self.model.hit(self.table.currentIndex().row())
        selected = self.field.selectedText() == text
        return text, hit.customer_id if hit is not None else None, selected

    def restore(self, kept: object) -> None:
        """The same search run again, the same customer selected and their card shown."""
        if not isinstance(kept, tuple):
            return
        text, customer_id, selected = kept
        self.field.setText(text)
        if selected:
            self.field.selectAll()
        if not self.run_search():
            return
        for row in range(self.model.rowCount()):
            hit = self.model.hit(row)
            if hit is not None and hit.customer_id == customer_id:
                self.table.selectRow(row)
                break
        self._load_pending_card()  # the card at once, not after the list has painted
        self.field.setFocus()

    # -- searching ---------------------------------------------------------------------------

    def on_edited(self, text: str) -> None:
        """A keystroke: search shortly. A new input starts for the next customer, so the
        banners about the last one go (an error, a warning, a green check-in or "ticket J001
        saved" that would stand over the next customer's card; only a ticket still to be
        printed with F4 stays); an emptied field selects nobody."""
        self.banner.clear()
        if self.context.app.unprinted_ticket is None:
            # The last ticket came out (or was saved): said, and it is not the next
            # customer's. A ticket that did not print stays said, with F4, until it does.
            self.print_banner.clear()
        if not text.strip():
            self.reset_input()
            return
        self.search_timer.start()
        self._update_buttons()  # the list is an older text's until the search has run

    def reset_input(self) -> None:
        """Esc (or an emptied field): nothing typed, nothing listed, nobody selected, no
        card; Enter then does nothing until something new is typed or scanned."""
        self.search_timer.stop()
        self.card_timer.stop()
        self._shown = None
        self.model.set_rows([])
        self.hint.clear()
        self.banner.clear()
        self.card = None
        self.card_view.show_card(None)
        self.route.setCurrentIndex(0)
        self._update_buttons()
        self.field.setFocus()

    def run_search(self) -> bool:
        """Search the text in the field; False when the database could not answer (the
        list on screen is then still an older one's, and Enter will not act on it)."""
        self.search_timer.stop()
        text = self.field.text()
        if not text.strip():
            self._shown = None
            self.model.set_rows([])
            self.hint.clear()
            self.show_customer(-1)
            return True
        try:
            hits = reception.search(self.context.uow(), text)
        except SearchError as error:
            self._shown = Shown(query_key(text), None)
            self.model.set_rows([])
            self.hint.setText(str(error))
            self.show_customer(-1)
            return True
        except KioskError as error:  # the database is away: say so, keep what was typed
            self.hint.setText(str(error))
            self._update_buttons()
            return False
        self.model.set_rows(hits)
        self._shown = Shown(query_key(text), hits[0].customer_id if hits else None)
        self.hint.setText(_("{n} found").format(n=len(hits)) if hits else _("Nobody found."))
        if hits:
            self.table.selectRow(0)
        else:
            self.show_customer(-1)
        return True

    def move_selection(self, step: int) -> None:
        if not self.model.rowCount():
            return
        row = self.table.currentIndex().row()
        row = min(max(row + step, 0), self.model.rowCount() - 1)
        self.table.selectRow(row)

    def show_customer(self, row: int) -> None:
        """Load the card just after the list has painted; Enter loads it at once."""
        hit = self.model.hit(row)
        self._card_customer = hit.customer_id if hit is not None else None
        if self._shown is not None:
            self._shown = Shown(self._shown.query, self._card_customer)
        self.card_timer.start()
        self._update_buttons()

    def _load_pending_card(self) -> None:
        if self.card_timer.isActive():
            self.card_timer.stop()
            self._show_customer_now(self._card_customer)

    def _show_customer_now(self, customer_id: int | None) -> None:
        try:
            self.card = (
                None
                if customer_id is None
                else reception.customer_card(
                    self.context.uow(), customer_id, clock=self.context.app.clock
                )
            )
        except KioskError as error:
            self.card = None
            self.hint.setText(str(error))
        self.card_view.show_card(self.card)
        self._update_buttons()

    def _selected_for_text(self) -> int | None:
        """The customer a check-in would act on now: selected in the list for this text."""
        action, customer_id = on_enter(self.field.text(), self._shown)
        return customer_id if action == Enter.CHECK_IN else None

    def _update_buttons(self) -> None:
        card = self.card
        selected = self._selected_for_text()
        self.check_in_button.setEnabled(
            selected is not None
            and (card is None or card.hit.customer_id != selected or card.visit is None)
        )
        self.undo_button.setEnabled(
            card is not None and card.visit is not None and card.visit.can_undo
        )
        self.reprint_button.setEnabled(card is not None and card.visit is not None)
        self.statement_button.setEnabled(card is not None)

    # -- checking in -------------------------------------------------------------------------

    def on_scanned(self, text: str) -> None:
        self.search_timer.stop()
        self.resolve_and_check_in(text, lambda _error: True)  # the banner says why

    def resolve_and_check_in(self, text: str, unknown: Callable[[KioskError], bool]) -> None:
        """A scanned code: looked up beside the window like any action (``ui.operations``: a
        silent network is waited for with the window answering), then checked in. A code
        that finds nobody goes to ``unknown`` first (True: the red banner says the error);
        a database that does not answer is said at once, the code kept."""

        def refused(error: KioskError) -> bool:
            if isinstance(error, DatabaseError) or unknown(error):
                self.fail(str(error))
            return True

        run(
            self,
            lambda: reception.resolve_code(self.context.uow(), text),
            done=self.check_in,
            failed=refused,
        )

    def on_submitted(self, text: str) -> None:
        """Enter after typing: see ``kiosk.scanning.on_enter`` for what it may do."""
        action, customer_id = on_enter(text, self._shown)
        if action == Enter.NOTHING:
            return
        if action == Enter.CHECK_IN and customer_id is not None:
            self.check_in(customer_id)
            return
        if action == Enter.NOBODY:
            self.fail(self.hint.text() or _("Nobody found."))
            return
        if action == Enter.RESOLVE:
            # Not a code of anyone: maybe a name or a phone's last digits (the list then).
            self.resolve_and_check_in(
                text, lambda _error: not self.run_search() or not self.model.rowCount()
            )
            return
        # The list on screen was for another text: show this one's, check in nobody.
        if not self.run_search():
            self.fail(self.hint.text())
        elif self.model.rowCount():
            self.hint.setText(
                _("{n} found: check the card, then press Enter to check in.").format(
                    n=self.model.rowCount()
                )
            )
        else:
            self.fail(self.hint.text() or _("Nobody found."))

    def check_in_selected(self) -> None:
        """The button: the same as Enter on the text in the field."""
        self.on_submitted(self.field.text())

    def check_in(self, customer_id: int) -> None:
        self.card_timer.stop()  # a card still pending from the last search is stale now
        route = self.route.currentData()
        # The same request until its outcome is known (kiosk.idempotency): the next try
        # after "not known whether it was saved" answers with the first check-in.
        subject = ("check_in", customer_id)
        run(
            self,
            lambda: reception.check_in(
                self.context.uow(),
                customer_id,
                self.context.staff,
                route=route,
                clock=self.context.app.clock,
                request_id=self.context.requests.id_for(subject),
            ),
            done=self._checked_in,
            request=subject,
        )

    def _checked_in(self, result: CheckInResult) -> None:
        self.route.setCurrentIndex(0)
        # The list is done with: the card stays (undo, reprint), the field is ready for the
        # next customer and nobody is selected, so a stray Enter does nothing.
        self._shown = None
        self.field.clear()
        self.model.set_rows([])
        self.hint.clear()
        self.card = result.card
        self.card_view.show_card(result.card)
        self._update_buttons()
        if result.created:
            self.sounds.play(Tone.OK)
            detail = " · ".join(
                x
                for x in (
                    _("please wait at {place}, {n} ahead").format(
                        place=queue_label(result.queue), n=result.waiting_ahead
                    ),
                    self._arrival_note(result.card),
                )
                if x
            )
            self.banner.show_result(
                Tone.OK,
                _("Checked in: {name} · ticket {ticket}").format(
                    name=result.card.hit.name, ticket=result.ticket
                ),
                detail,
            )
            self.print_later(result)
        else:
            assert result.card.visit is not None
            zone = ZoneInfo(result.card.timezone)
            self.sounds.play(Tone.WARN)
            self.banner.show_result(
                Tone.WARN,
                _("Already checked in at {time}: {name} · ticket {ticket}").format(
                    time=result.card.visit.checked_in_at.astimezone(zone).strftime("%H:%M"),
                    name=result.card.hit.name,
                    ticket=result.ticket,
                ),
                _("No new visit was created. Send the customer to {place}.").format(
                    place=queue_label(result.queue)
                ),
            )
        self.field.setFocus()  # the slot counts follow (``after``)

    @staticmethod
    def _arrival_note(card: CustomerCard) -> str:
        if card.window_start and card.window_end:
            zone = ZoneInfo(card.timezone)
            window = (
                f"{card.window_start.astimezone(zone):%H:%M}–"
                f"{card.window_end.astimezone(zone):%H:%M}"
            )
            if card.arrival == Arrival.EARLY:
                return _("{time} before the window {window}").format(
                    time=duration_words(card.minutes_off), window=window
                )
            if card.arrival == Arrival.LATE:
                return _("{time} after the window {window}").format(
                    time=duration_words(card.minutes_off), window=window
                )
            return _("in the window {window}").format(window=window)
        if card.arrival == Arrival.EARLY:
            return _("{time} before the {slot} slot").format(
                time=duration_words(card.minutes_off), slot=card.slot_label
            )
        if card.arrival == Arrival.LATE:
            return _("{time} after the {slot} slot").format(
                time=duration_words(card.minutes_off), slot=card.slot_label
            )
        if card.arrival == Arrival.NO_SLOT:
            return _("no slot")
        return ""

    def print_later(self, result: CheckInResult) -> None:
        """The card first, the printer after: a slow printer never holds up the screen."""
        self.print_banner.printing(_("Printing ticket {ticket}…").format(ticket=result.ticket))
        QTimer.singleShot(0, self, lambda: self.print_ticket(result))

    def print_ticket(self, result: CheckInResult) -> PrintOutcome:
        """Save and send the ticket, and say on the print banner what became of it. The
        check-in stands whatever happens here: a full disk is said in words."""
        outcome = flow.print_ticket(self.context.uow, result, self.printer)
        if outcome.problem != PrintProblem.NOT_SAVED:
            self.last_print = str(outcome.path)
        self.context.app.unprinted_ticket = result if outcome.failed else None
        if outcome.failed:
            self.sounds.play(Tone.WARN)
            what_now = (
                _(
                    "{reason} The check-in stands. Ticket {ticket} is saved: press F4 to print "
                    "it again."
                )
                if outcome.problem != PrintProblem.NOT_SAVED
                else _(
                    "{reason} The check-in stands: tell the customer ticket {ticket}. F4 tries "
                    "again."
                )
            )
            self.print_banner.outcome(
                Tone.WARN,
                outcome.title,
                what_now.format(reason=outcome.sentence, ticket=result.ticket),
                retry=True,
            )
        elif outcome.printed:
            self.print_banner.outcome(
                Tone.OK, _("Ticket {ticket} printed.").format(ticket=result.ticket), retry=False
            )
        else:  # no printer set up on purpose (demo, rehearsal): the PDF is the ticket
            self.print_banner.outcome(
                Tone.INFO,
                _("Ticket {ticket} saved as PDF: no printer is set up.").format(
                    ticket=result.ticket
                ),
                retry=False,
            )
            self.print_banner.setToolTip(str(outcome.path))  # where the PDF is, on hover
        return outcome

    def show_error(self, error: KioskError) -> None:
        self.fail(str(error))

    def fail(self, message: str) -> None:
        self.sounds.play(Tone.ERROR)
        self.banner.show_result(Tone.ERROR, message)
        self.field.selectAll()
        self.field.setFocus()

    def undo(self) -> None:
        card = self.card
        if card is None or card.visit is None:
            return
        go, approval = approval_for(
            self, self.context, Action.UNDO_CHECK_IN, station=Station.RECEPTION
        )
        if not go:
            self.field.setFocus()
            return
        visit_id = card.visit.visit_id
        run(
            self,
            lambda: reception.undo_check_in(
                self.context.uow(),
                visit_id,
                self.context.staff,
                approval=approval,
                clock=self.context.app.clock,
            ),
            done=lambda _changes: self._undone(card),
        )

    def _undone(self, card: CustomerCard) -> None:
        self.sounds.play(Tone.WARN)
        self.banner.show_result(
            Tone.WARN, _("Check-in of {name} undone.").format(name=card.hit.name)
        )
        unprinted = self.context.app.unprinted_ticket
        if unprinted is not None and unprinted.card.hit.customer_id == card.hit.customer_id:
            self.context.app.unprinted_ticket = None  # no ticket to print for a visit now gone
            self.print_banner.clear()
        self._card_stale = True  # the card and the slot counts follow (``after``)
        self.field.setFocus()

    def reprint(self) -> None:
        """Ctrl+P: the shown customer's ticket again (what became of it: the print banner)."""
        card = self.card
        if card is None or card.visit is None:
            return
        result = reception.check_in(
            self.context.uow(),
            card.hit.customer_id,
            self.context.staff,
            clock=self.context.app.clock,
        )
        self.print_ticket(result)
        self.field.setFocus()

    def show_statement(self) -> None:
        """The card's customer's points statement, on screen with its Print button."""
        card = self.card
        if card is None:
            return
        try:
            open_statement(
                self, self.context, card.hit.customer_id, self.printer, Station.RECEPTION
            )
        except KioskError as error:
            self.fail(str(error))
            return
        self.field.setFocus()

    def retry_print(self) -> None:
        """F4: the ticket whose printing failed, again (whoever the card shows now)."""
        if self.context.app.unprinted_ticket is not None:
            self.print_ticket(self.context.app.unprinted_ticket)
        self.field.setFocus()

    def walk_in(self) -> None:
        def register(name: str, phone: str, branch_code: str) -> int:
            return reception.register_walk_in(
                self.context.uow(),
                name=name,
                phone=phone,
                branch_code=branch_code,
                staff=self.context.staff,
                clock=self.context.app.clock,
            )

        customer_id = WalkInDialog(branches(self.context.uow()), register, self).run()
        self.field.setFocus()
        if customer_id is not None:
            self.check_in(customer_id)
