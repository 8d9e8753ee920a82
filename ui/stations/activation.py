"""Activation desk: mobile-banking login, charity scan-pay and prize, the catalog, printed slips.

Keyboard first: F5 calls the next customer (or scan an invitation / customer number), F6, F7
and F8 record the three activation steps, Enter on a catalog row puts it in the cart (the
catalog opens on the customer's short list at their tier's prices; F3 shows all), F9
issues and prints the slips, F10 finishes the customer. Above the steps the redemption gate
says, in words, whether the customer may have slips and, if not, what is missing and where
to send them; F9 on a closed gate explains again and offers a supervisor's override. The
catalog says at every moment what is left and what the customer can still afford; issuing
checks both again in one transaction.
Printing comes after the issue: a missing printer never loses a slip, it is reprinted from the
list, and a reprint is the same slip (the booth redeems it once), counted as another copy.

The desk is this laptop's counter (``ui.counter``) at the activation queue; the customer it
has called comes from the event database (``desk.current_call``) whenever the station loads
or the database changes. Scanning a customer who waits for activation (or was set aside as a
no-show) calls them to this desk, so F10 finishes them as after F5.

The issue and the printing each have their own message (``banner``, ``print_banner``): a
printer failure is amber, in words, and F4 prints every slip of the customer that never came
out (a first copy, so nobody approves it).

The desk is composed of panels: the queue (``ui.stations.queue_panel``, shared with the
service desk), the catalog (``catalog_panel``), the cart (``cart_panel``) and the gate
(``gate_panel``); its actions run through ``ui.operations.run`` and what is on screen is read
in one transaction after each (``refresh``).
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QTabWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.cart import Cart
from kiosk.changeset import Changes
from kiosk.customer_view import CustomerView, activation_view
from kiosk.errors import KioskError, OutcomeUnknown
from kiosk.i18n import _, n_
from kiosk.idempotency import RequestMismatch
from kiosk.labels import step_label, tier_label
from kiosk.models import MobileBanking, Queue, SlipStatus
from kiosk.permissions import Action, Approval
from kiosk.roles import Station
from kiosk.services import activation, desk, keys, reception, slips
from kiosk.services.activation import CatalogOffer, DeskCustomer, Step
from kiosk.services.customer_offers import CustomerOffers, offers_for
from kiosk.services.desk import Called, DeskBusy, DeskError, TimelineStep, counter_label
from kiosk.services.events import event_header
from kiosk.uow import UnitOfWork
from printing import flow
from printing.printer import (
    Printer,
    PrintOutcome,
)
from ui.approval import approval_for
from ui.context import StationContext
from ui.operations import Ran, run, when_idle
from ui.statement_dialog import open_statement
from ui.stations.activation_ask import Ask
from ui.stations.base import StationPage
from ui.stations.cart_panel import CartPanel
from ui.stations.catalog_panel import CatalogPanel
from ui.stations.gate_panel import GatePanel, gate_headline
from ui.stations.queue_panel import QueuePanel
from ui.stations.slips_panel import SlipsPanel
from ui.theme import is_large_print
from ui.timing import every
from ui.widgets import PrintBanner, ResultBanner, ScanField, Sounds, Tone, side_by_side

__all__ = ["ActivationStation", "Ask", "GatePanel", "gate_headline"]

STEP_KEYS = {
    Step.MOBILE_BANKING_LOGIN: Qt.Key.Key_F6,
    Step.CHARITY_PAID: Qt.Key.Key_F7,
    Step.PRIZE_GIVEN: Qt.Key.Key_F8,
}


def step_button_label(step: Step) -> str:
    return {
        Step.MOBILE_BANKING_LOGIN: _("Mobile banking login (F6)"),
        Step.CHARITY_PAID: _("Charity scan-pay (F7)"),
        Step.PRIZE_GIVEN: _("Prize handed out (F8)"),
    }[step]


@dataclass(frozen=True)
class Opened:
    """A customer at the desk as read in one transaction: details, slips and timeline, and
    the invitation's choices when the cart starts from them."""

    customer: DeskCustomer
    slips: list[slips.SlipRow]
    timeline: list[TimelineStep]
    preselected: list[slips.CartLine] | None
    offers: CustomerOffers  # the catalog as they see it: their prices, short list, reasons


class ActivationStation(StationPage):
    station = Station.ACTIVATION
    shows = frozenset({"queues", "visits", "customers", "offers", "slips", "setup"})

    def __init__(self, context: StationContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.sounds = Sounds(self)
        self.printer = Printer.from_environment()
        self.called: Called | None = None
        self.customer: DeskCustomer | None = None
        self.cart = Cart()
        self._signing_key = None
        self._slip_rows: list[slips.SlipRow] = []
        self._steps: list[TimelineStep] = []
        self._uncounted: list[str] = []  # copies printed whose count could not be saved
        self._prefill_next = False  # called here just now: the cart starts afresh

        self.banner = ResultBanner()
        self.queue_panel = QueuePanel(
            context,
            [_("Ticket"), _("Name"), _("Waiting")],
            count_in_label=True,
            display_name="public_display",
        )
        self.counter = self.queue_panel.counter
        self.counter.changed.connect(lambda _name: self.sync_called())
        self.print_banner = PrintBanner(_("Print again (F4)"))
        self.call_button = self.queue_panel.call_button
        self.display_button = self.queue_panel.display_button
        self.scan = ScanField()
        # Short enough for the queue column at 1366 px in English; the tooltip says it all.
        self.scan.setPlaceholderText(_("Scan, or type customer no."))
        self.scan.setToolTip(_("Scan invitation or type customer number"))
        self.queue_panel.add_above(self.scan)
        self.queue = self.queue_panel.queue
        self.waiting_label = self.queue_panel.waiting_label

        self.header = QLabel(_("No customer called"))
        self.header.setObjectName("customer_header")
        self.header.setProperty("role", "title")
        self.header.setWordWrap(True)
        self.gate_panel = GatePanel()
        self.step_buttons: dict[Step, QPushButton] = {}
        steps = QHBoxLayout()
        for step in Step:
            button = QPushButton(step_button_label(step))
            button.setObjectName(f"step_{step.value}")
            button.clicked.connect(lambda _checked=False, s=step: self.record_step(s))
            self.step_buttons[step] = button
            steps.addWidget(button)

        self.catalog_panel = CatalogPanel()
        self.catalog = self.catalog_panel.tree
        self.add_button = self.catalog_panel.add_button
        self.view_button = self.catalog_panel.view_button
        self.cart_panel = CartPanel(self.set_quantity)
        self.cart_table = self.cart_panel.table
        self.cart_total = self.cart_panel.total
        self.issue_button = self.cart_panel.issue_button
        self.clear_button = self.cart_panel.clear_button

        self.slips_panel = SlipsPanel()
        self.slip_table = self.slips_panel.table
        self.reprint_button = self.slips_panel.reprint_button
        self.void_button = self.slips_panel.void_button
        self.timeline = QListWidget()
        self.timeline.setObjectName("timeline")
        self.finish_button = QPushButton(_("Done (F10)"))
        self.finish_button.setObjectName("finish")
        self.requeue_button = QPushButton(_("Back in queue"))
        self.statement_button = QPushButton(_("Points statement"))
        self.statement_button.setObjectName("statement")

        if is_large_print():
            self._lay_out_large(steps)
        else:
            self._lay_out_normal(steps)

        self.call_button.clicked.connect(self.call_next)
        self.display_button.clicked.connect(self.open_display)
        self.scan.scanned.connect(self.open_code)
        self.scan.submitted.connect(self.open_code)
        self.catalog.itemActivated.connect(lambda item, _column: self.add_item(item))
        self.add_button.clicked.connect(self.add_selected)
        self.view_button.clicked.connect(self.toggle_view)
        self.clear_button.clicked.connect(self.empty_cart)
        self.issue_button.clicked.connect(self.issue)
        self.reprint_button.clicked.connect(self.reprint)
        self.print_banner.retry.connect(self.retry_print)
        self.void_button.clicked.connect(self.void)
        self.finish_button.clicked.connect(self.finish)
        self.requeue_button.clicked.connect(self.requeue)
        self.statement_button.clicked.connect(self.show_statement)
        self.bind(Qt.Key.Key_R, self.queue_panel.replay_call, Qt.KeyboardModifier.ControlModifier)
        self.bind(Qt.Key.Key_F3, self.toggle_view)
        self.bind(Qt.Key.Key_F5, self.call_next)
        for step, key in STEP_KEYS.items():
            self.bind(key, lambda s=step: self.record_step(s))
        self.bind(Qt.Key.Key_F9, self.issue)
        self.bind(Qt.Key.Key_F10, self.finish)
        self.bind(Qt.Key.Key_P, self.reprint, Qt.KeyboardModifier.ControlModifier)
        self.bind(Qt.Key.Key_F4, self.retry_print)
        self.refresh_timer = QTimer(self)
        # Service desks and reception fill the queue and other desks take capacity:
        # ``refresh_live`` follows them at once; this timer keeps the waiting minutes current.
        self.refresh_timer.setInterval(every(60_000))
        self.refresh_timer.timeout.connect(when_idle(self, self.refresh_queue))
        self._show_customer()
        self._fold_to(customer=False)

    def _lay_out_normal(self, steps: QHBoxLayout) -> None:
        """Queue | catalog | cart, with slips and timeline under the cart."""
        self.lists = None
        keys = QHBoxLayout()  # side by side: the column is full at 768 px under two banners
        keys.addWidget(self.requeue_button)
        keys.addWidget(self.finish_button)
        self.queue_panel.column.addLayout(keys)
        right = QVBoxLayout()
        right.addWidget(self.cart_panel, 2)
        # The slips' list holds its titles and two slips: squeezed under two banners at
        # 1366×768 it showed one and a third, beside an empty cart that kept its room.
        rows = self.slip_table.verticalHeader().defaultSectionSize()
        self.slip_table.setMinimumHeight(
            self.slip_table.horizontalHeader().sizeHint().height() + 2 * rows + 4
        )
        self.tabs = QTabWidget()
        self.tabs.addTab(self.slips_panel, _("Slips"))
        self.tabs.addTab(self.timeline, _("Visit timeline"))
        right.addWidget(self.tabs, 3)
        body = QHBoxLayout()
        body.addWidget(self.queue_panel, 3)
        # The catalog gets the room for the customer's price and what is left after.
        body.addWidget(self.catalog_panel, 6)
        body.addLayout(right, 5)
        # Two banners of two lines each at 1366 px left the waiting list and the slips under
        # three rows: the dashboard's 18-pt headline and narrower margins give them 28 px.
        for banner in (self.banner, self.print_banner):
            banner.headline_pt = 18
            banner.row.setContentsMargins(12, 6, 12, 6)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 10, 18, 10)
        layout.addLayout(side_by_side(self.banner, self.print_banner))
        # Beside the customer's name, whose title line is taller than the button: the step
        # row is full at 1366 px in English, and in the slips' tab corner the button was
        # squeezed to 31 of its 38 px.
        top = QHBoxLayout()
        top.addWidget(self.header, 1)
        top.addWidget(self.statement_button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addLayout(top)
        layout.addWidget(self.gate_panel)
        layout.addLayout(steps)
        layout.addLayout(body, 1)

    def _lay_out_large(self, steps: QHBoxLayout) -> None:
        """Large print: 60-px controls leave a 1366x768 laptop no room for three columns
        under the customer, so the desk folds. Beside the customer's name: "Call next" and
        "Done"; the catalog shares its column with the waiting list (tabs: the list, with
        the counter, the scan field and "Back in queue", when nobody is at the desk; the
        catalog while a customer is), the cart its column with the slips and the visit
        timeline. Nothing is hidden for good: each tab says what it holds (the waiting count
        in its title) and every key works whichever tab is open."""
        # The text's own 20 pt, bold: the title's 36 pt takes three lines beside the keys.
        self.header.setProperty("role", "")
        self.header.setStyleSheet("QLabel { font-weight: bold; }")
        for button in self.step_buttons.values():  # three 20-pt labels fit 1,046 px so
            button.setStyleSheet("QPushButton { padding: 8px 8px; }")
        self.scan.setPlaceholderText(_("Scan or number"))
        self.queue_panel.take_out(self.call_button)
        self.queue_panel.take_out(self.scan)
        self.queue_panel.take_out(self.counter)
        self.queue_panel.take_out(self.display_button)
        self.waiting_label.hide()  # the tab's title says it
        # The counter and the display, then the scan field and "Back in queue", then the
        # list: two rows of keys, so the list keeps its room under a gate and two banners.
        desk_row = QHBoxLayout()
        desk_row.addWidget(self.counter, 1)
        desk_row.addWidget(self.display_button)
        scan_row = QHBoxLayout()
        scan_row.addWidget(self.scan, 1)
        scan_row.addWidget(self.requeue_button)
        self.queue_panel.column.insertLayout(0, desk_row)
        self.queue_panel.column.insertLayout(1, scan_row)
        self.lists = QTabWidget()
        self.lists.setObjectName("desk_lists")
        self.lists.addTab(self.catalog_panel, _("Catalog"))
        self.catalog_panel.fold_title(self._catalog_count)
        self.lists.addTab(self.queue_panel, self.waiting_label.text())
        self.tabs = QTabWidget()
        self.tabs.setObjectName("customer_tabs")
        self.tabs.addTab(self.cart_panel, _("Cart"))
        self.tabs.addTab(self.slips_panel, _("Slips"))
        self.tabs.addTab(self.timeline, _("Timeline"))  # "Visit timeline" is 70 px wider
        self.cart_panel.fold_title()
        top = QHBoxLayout()
        top.addWidget(self.header, 1)
        for button in (self.statement_button, self.call_button, self.finish_button):
            top.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        body = QHBoxLayout()
        body.addWidget(self.lists, 1)
        body.addWidget(self.tabs, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(6)
        for banner in (self.banner, self.print_banner):  # 16 px more for the catalog
            banner.row.setContentsMargins(14, 2, 14, 2)
        layout.addLayout(side_by_side(self.banner, self.print_banner))
        layout.addLayout(top)
        layout.addWidget(self.gate_panel)
        layout.addLayout(steps)
        layout.addLayout(body, 1)

    def _catalog_count(self, count: str) -> None:
        """Large print: the catalog's tab says how many services it shows ("5 of 15")."""
        assert self.lists is not None
        text = _("Catalog · {count}").format(count=count) if count else _("Catalog")
        index = self.lists.indexOf(self.catalog_panel)
        if self.lists.tabText(index) != text:
            self.lists.setTabText(index, text)

    def _fold_to(self, customer: bool) -> None:
        """Large print: the catalog and the cart while a customer is at the desk, the
        waiting list when nobody is."""
        if self.lists is None:
            return
        self.lists.setCurrentWidget(self.catalog_panel if customer else self.queue_panel)
        self.tabs.setCurrentWidget(self.cart_panel)

    @property
    def offers(self) -> dict[str, CatalogOffer]:
        """The catalog as shown last, by offer code."""
        return self.catalog_panel.offers

    # -- loading: what is on screen, in one read ---------------------------------------------

    def load(self) -> None:
        self.counter.refresh()  # renamed at the other desk station of this window, maybe
        self.refresh()
        if self.customer is None:
            self.call_button.setFocus()
        self.refresh_timer.start()

    def refresh_live(self) -> None:
        self.refresh()

    def after(self, changes: Changes) -> None:
        """This desk acted: the queue, the catalog and the customer again, in one read."""
        self.refresh(customer=True)

    def refresh(self, *, customer: bool = False) -> None:
        """The queue, the catalog and this counter's call from one transaction; the customer
        too when the call changed (another laptop at this counter, a restart) or ``customer``
        (after this desk's own action). The customer on screen otherwise stays as they are."""
        read = self.context.shared_read()
        opened: Opened | None = None
        reopen = prefill = False
        try:
            with read:
                waiting = desk.waiting(read, queue=Queue.ACTIVATION, clock=self.context.app.clock)
                current = desk.current_call(read, desk=self.counter.name(), queue=Queue.ACTIVATION)
                moved = not _same_call(current, self.called)
                if current is not None and moved:
                    same = self.customer is not None and (
                        self.customer.customer_id == current.customer_id
                    )
                    reopen, prefill = True, self._prefill_next or not same
                    opened = self._read_customer(read, current.customer_id, prefill=prefill)
                elif customer and self.customer is not None and not (current is None and moved):
                    opened = self._read_customer(read, self.customer.customer_id, prefill=False)
                # The catalog as the customer who stays on screen sees it, else the plain one.
                staying = self.customer is not None and not (current is None and moved)
                mine = None
                offers: list[CatalogOffer] = []
                if opened is not None:
                    mine = opened.offers
                elif staying and self.customer is not None:
                    mine = offers_for(read, self.customer.customer_id, clock=self.context.app.clock)
                else:
                    offers = activation.catalog(read)
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, str(error))
            return
        self._prefill_next = False
        self.show_queue(waiting)
        if mine is not None:
            self.catalog_panel.take_customer(mine)
        else:
            self.catalog_panel.take_catalog(offers)
        if current is None and moved:  # finished on another laptop at this counter
            self._clear()
        elif opened is not None and reopen:
            self.called = current
            self._open(opened, prefill=prefill)
        elif opened is not None:
            self._reloaded(opened)
        else:
            self.show_catalog()

    def sync_called(self) -> None:
        """Show the customer this counter's activation desk has called, as the database
        says: the same after a re-layout or a restart, and on every laptop given this
        counter's name. Only the call is read; the whole desk when it changed."""
        try:
            current = desk.current_call(
                self.context.uow(), desk=self.counter.name(), queue=Queue.ACTIVATION
            )
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, str(error))
            return
        if not _same_call(current, self.called):
            self.refresh()

    def _announce(self) -> None:
        """The public display (the window's) shows this counter's calls now."""
        refresh = getattr(self.window(), "refresh_call_display", None)
        if callable(refresh):
            refresh()

    def open_display(self) -> None:
        """The public display of this counter: the window's, so it outlives a re-layout."""
        if self.counter.ensure() is None:
            return
        opener = getattr(self.window(), "open_call_display", None)
        if callable(opener):
            opener()

    def refresh_queue(self) -> None:
        """The waiting list alone (the minutes, once a minute)."""
        try:
            rows = desk.waiting(
                self.context.uow(), queue=Queue.ACTIVATION, clock=self.context.app.clock
            )
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, str(error))
            return
        self.show_queue(rows)

    def show_queue(self, rows: list[desk.Waiting]) -> None:
        self.queue_panel.show_waiting(
            [
                (item.ticket, item.masked_name, _("{n} min").format(n=item.waited_minutes))
                for item in rows
            ]
        )
        if self.lists is not None:
            self.lists.setTabText(
                self.lists.indexOf(self.queue_panel), _("Waiting: {n}").format(n=len(rows))
            )

    def refresh_catalog(self) -> None:
        """The catalog read again and shown for the customer and cart on screen."""
        if self.customer is None:
            self.catalog_panel.show_offers(activation.catalog(self.context.uow()), None, self.cart)
            return
        self.catalog_panel.take_customer(
            offers_for(self.context.uow(), self.customer.customer_id, clock=self.context.app.clock)
        )
        self.show_catalog()

    def show_catalog(self) -> None:
        """The catalog as read last, for the customer's balance and the cart as they are."""
        self.catalog_panel.show_offers(None, self._balance(), self.cart)

    def _balance(self) -> int | None:
        return self.customer.balance if self.customer else None

    def toggle_view(self) -> None:
        """F3: the customer's short list or every service, and back (kept across a rebuild)."""
        if self.customer is None:
            return
        self.catalog_panel.toggle_view()
        short = self.catalog_panel.short_view
        self.context.app.activation_all_services = None if short else self.customer.customer_id
        self.show_catalog()
        self.catalog.setFocus()

    # -- the customer --------------------------------------------------------------------------

    def call_next(self) -> None:
        name = self.counter.ensure()
        if name is None:
            return
        self.sync_called()
        if self.called is not None:  # one customer at a time: call them again, not another
            self.sounds.play(Tone.WARN)
            self.banner.show_result(
                Tone.WARN, _("Finish {ticket} first (F10).").format(ticket=self.called.ticket)
            )
            self._announce()
            return

        def busy(error: KioskError) -> bool:
            if not isinstance(error, DeskBusy):
                return False  # the database is away: F5 again once it is back
            self.sync_called()  # another laptop at this counter called someone just now
            self.sounds.play(Tone.WARN)
            self.banner.show_result(Tone.WARN, str(error))
            return True

        def called(result: Called | None) -> None:
            if result is None:
                self.sounds.play(Tone.WARN)
                self.banner.show_result(Tone.WARN, _("Nobody is waiting for activation."))
                return
            self._calling(result)

        run(
            self,
            lambda: desk.call_next(
                self.context.uow(),
                self.context.staff,
                desk=name,
                queue=Queue.ACTIVATION,
                clock=self.context.app.clock,
            ),
            done=called,
            failed=busy,
        )

    def _calling(self, called: Called) -> None:
        """Called to this desk: said now; the refresh that follows opens the customer."""
        self._prefill_next = True
        self.sounds.play(Tone.OK)
        self.banner.show_result(
            Tone.OK,
            _("Calling {ticket} to {counter}: {name}").format(
                ticket=called.ticket, counter=counter_label(called.desk), name=called.masked_name
            ),
        )

    def open_code(self, text: str) -> None:
        """A scanned invitation or typed customer number opens that customer. One who waits
        for activation (or was a no-show) is called to this desk and served as after F5;
        anyone else opens for reprints and voids, and the banner says where they are."""
        if not text.strip():
            return
        self.scan.clear()
        try:
            customer_id = reception.resolve_code(self.context.uow(), text)
        except KioskError as error:
            self.show_error(error)
            return
        self.sync_called()
        if self.called is not None and self.called.customer_id != customer_id:
            self.banner.show_result(
                Tone.WARN, _("Finish {ticket} first (F10).").format(ticket=self.called.ticket)
            )
            return
        if self.called is not None:  # the customer called here: opened again, as they are
            if self.open_customer(customer_id, prefill=self.customer is None):
                self.banner.show_result(
                    Tone.OK, _("Opened {name}.").format(name=self.header_name())
                )
            return
        where = ""
        name = self.counter.ensure()
        if name is not None:

            def not_here(error: KioskError) -> bool:
                nonlocal where
                if isinstance(error, DeskError):  # not theirs to serve here: say where
                    where = str(error)
                    return True
                return False

            def called(result: Called) -> None:
                self._calling(result)
                if not result.changes:  # called here already (another laptop, just now)
                    self.called = result
                    self.open_customer(customer_id, prefill=True)

            def refused_here(ran: Ran[Called]) -> None:
                if not ran.ok and where:
                    self._open_elsewhere(customer_id, where)

            run(
                self,
                lambda: desk.call_customer(
                    self.context.uow(),
                    self.context.staff,
                    customer_id,
                    desk=name,
                    queue=Queue.ACTIVATION,
                    clock=self.context.app.clock,
                ),
                done=called,
                failed=not_here,
                then=refused_here,
            )
            return
        self._open_elsewhere(customer_id, where)

    def _open_elsewhere(self, customer_id: int, where: str) -> None:
        """Open the customer without calling them here: for reprints and voids only when
        ``where`` says at which desk they are to be served (no counter named: plainly)."""
        if self.open_customer(customer_id, prefill=self.customer is None):
            if where:
                self.banner.show_result(
                    Tone.WARN,
                    _("Opened {name} for reprints and voids only.").format(name=self.header_name()),
                    where,
                )
            else:
                self.banner.show_result(
                    Tone.OK, _("Opened {name}.").format(name=self.header_name())
                )

    def header_name(self) -> str:
        return self.customer.masked_name if self.customer else ""

    def _read_customer(self, read: UnitOfWork, customer_id: int, *, prefill: bool) -> Opened:
        """The customer's details, slips and timeline (and the invitation's choices when the
        cart starts from them), inside the caller's read."""
        customer = activation.desk_customer(read, customer_id, clock=self.context.app.clock)
        rows = slips.slips_of(read, customer_id)
        steps = desk.timeline(read, customer.visit_id)
        kept = self.context.app.activation_cart
        fresh_cart = prefill and not (kept is not None and kept[0] == customer_id)
        # Slips issued already: the invitation's choices were the first cart, not this one
        # (a restart or a re-layout after the issue must not offer them again).
        issued = any(row.status != SlipStatus.VOIDED for row in rows)
        preselected = (
            activation.preselected_cart(read, customer_id) if fresh_cart and not issued else None
        )
        offers = offers_for(read, customer_id, clock=self.context.app.clock)
        return Opened(customer, rows, steps, preselected, offers)

    def open_customer(self, customer_id: int, *, prefill: bool) -> bool:
        read = self.context.shared_read()
        try:
            with read:
                opened = self._read_customer(read, customer_id, prefill=prefill)
        except KioskError as error:
            self.show_error(error)
            return False
        self._open(opened, prefill=prefill)
        return True

    def _open(self, opened: Opened, *, prefill: bool) -> None:
        customer_id = opened.customer.customer_id
        if self.customer is None or self.customer.customer_id != customer_id:
            self.print_banner.clear()  # it spoke of the last customer's slips
        if prefill:
            self.cart = self._cart_for(customer_id, opened.preselected)
        # A customer opens on their short list, unless staff opened all of it for them here.
        self.catalog_panel.short_view = self.context.app.activation_all_services != customer_id
        self._reloaded(opened)
        self._note_unprinted()
        self._fold_to(customer=True)
        self.catalog.setFocus()

    def _reloaded(self, opened: Opened) -> None:
        self.customer = opened.customer
        self.catalog_panel.take_customer(opened.offers)
        self._slip_rows = opened.slips
        self._steps = opened.timeline
        self._show_customer()

    def _cart_for(self, customer_id: int, preselected: list[slips.CartLine] | None) -> Cart:
        """The cart of the customer opened at this desk: the one put together here before the
        window was rebuilt (large print, a language switch), else the invitation's choices
        (nothing once slips were issued). The app keeps it, so both stay one object."""
        kept = self.context.app.activation_cart
        if kept is not None and kept[0] == customer_id:
            return kept[1]
        cart = Cart.of((line.offer_code, line.quantity) for line in preselected or [])
        self.context.app.activation_cart = (customer_id, cart)
        return cart

    def _note_unprinted(self) -> None:
        """Slips issued earlier that never came out (the printer failed, then the window was
        rebuilt, or the customer came back): the database knows, so the desk says so."""
        unprinted = [
            slip
            for slip in self._slip_rows
            if slip.status == SlipStatus.ISSUED and slip.copies_printed == 0
        ]
        if unprinted and self.customer is not None:
            self.print_banner.outcome(
                Tone.WARN,
                n_(
                    len(unprinted),
                    "{n} slip of {name} was never printed.",
                    "{n} slips of {name} were never printed.",
                ).format(n=len(unprinted), name=self.customer.masked_name),
                _("They are issued and saved: press F4 to print them now."),
                retry=True,
            )

    def reload_customer(self) -> None:
        """The customer on screen read again (details, slips, timeline), in one read."""
        if self.customer is None:
            self._show_customer()
            return
        read = self.context.shared_read()
        with read:
            opened = self._read_customer(read, self.customer.customer_id, prefill=False)
        self._reloaded(opened)

    def _show_customer(self) -> None:
        customer = self.customer
        on = customer is not None
        for widget in (
            self.catalog,
            self.add_button,
            self.cart_table,
            self.issue_button,
            self.clear_button,
            self.slip_table,
            self.reprint_button,
            self.void_button,
        ):
            widget.setEnabled(on)
        self.finish_button.setEnabled(self.called is not None)
        self.requeue_button.setEnabled(self.called is not None)
        self.statement_button.setEnabled(on)
        if customer is None:
            self.gate_panel.clear()
            self.header.setText(_("No customer called"))
            for step, button in self.step_buttons.items():
                button.setText(step_button_label(step))
                button.setEnabled(False)
                button.setVisible(True)
            self.cart = Cart()
            self.refresh_cart()
            self._slip_rows, self._steps = [], []
            self.slip_table.setRowCount(0)
            self.timeline.clear()
            self.show_catalog()
            return
        ticket = self.called.ticket + " · " if self.called else ""
        self.header.setText(
            _("{ticket}{name} · {tier} · {points:,} points to spend").format(
                ticket=ticket,
                name=customer.masked_name,
                tier=self._tier_name(customer),
                points=customer.balance,
            )
        )
        self.gate_panel.show_gate(customer.gate)
        zone = ZoneInfo(customer.timezone)
        for step, button in self.step_buttons.items():
            done = customer.steps.get(step)
            if done:
                at = f"{done.at.astimezone(zone):%H:%M}"
                if is_large_print():  # one line, no wider than the key's own label: the
                    # steps' row is one of six at 768 px; when and who are in the timeline
                    button.setText(f"✓ {step_label(step)}")
                    button.setToolTip(f"{at} · {done.staff_name}")
                else:  # one line with the time: the desk has no 20 px to spare at 768
                    button.setText(f"✓ {step_label(step)} {at}")
                    button.setToolTip(done.staff_name)
                button.setEnabled(False)
            elif step == Step.MOBILE_BANKING_LOGIN and customer.mobile_banking == (
                MobileBanking.NONE
            ):
                # Large print: the gate above says where to go; the key's row is full.
                button.setText(
                    _("No mobile banking")
                    if is_large_print()
                    else _("No mobile banking: service desk first")
                )
                button.setEnabled(False)
            else:
                button.setText(step_button_label(step))
                button.setEnabled(True)
        # Large print: three done steps give their 66 px to the catalog (the visit timeline
        # keeps when and who); the row is back for the next customer.
        all_done = all(customer.steps.get(step) for step in self.step_buttons)
        for button in self.step_buttons.values():
            button.setVisible(not (all_done and is_large_print()))
        self.refresh_cart()
        self.show_slips()
        self.show_timeline()
        self.show_catalog()

    def _tier_name(self, customer: DeskCustomer) -> str:
        """The event tier that sets their prices (金卡), else the ledger's label."""
        mine = self.catalog_panel.mine
        if mine is not None and mine.customer_id == customer.customer_id and mine.tier:
            return mine.tier.name
        return tier_label(customer.tier)

    def record_step(self, step: Step) -> None:
        if self.customer is None:
            return
        customer = self.customer
        run(
            self,
            lambda: activation.record_step(
                self.context.uow(),
                customer.customer_id,
                step,
                self.context.staff,
                clock=self.context.app.clock,
            ),
            success=_("{step}: recorded.").format(step=step_label(step)),
        )

    # -- cart (``ui.stations.catalog_panel``, ``ui.stations.cart_panel``) ----------------------

    def add_selected(self) -> None:
        item = self.catalog.currentItem()
        if item is not None:
            self.add_item(item)

    def add_item(self, item: QTreeWidgetItem) -> None:
        code = item.data(0, Qt.ItemDataRole.UserRole)
        if self.customer is None or code is None:
            return
        offer = self.offers[code]
        reason = self.catalog_panel.why_not(code, self.cart, self.customer.balance)
        if reason:
            self.sounds.play(Tone.WARN)
            left = self.customer.balance - self.cart.total(self.offers)
            self.banner.show_result(
                Tone.WARN,
                _("{offer} is sold out.").format(offer=offer.name)
                if offer.remaining <= self.cart.lines.get(code, 0)
                else _("Not enough points for {offer}: {price:,} needed, {left:,} left.").format(
                    offer=offer.name, price=offer.points_price, left=left
                )
                if offer.points_price > left
                else _("{offer} cannot be added: {reason}.").format(
                    offer=offer.name, reason=reason
                ),
                reason,
            )
            return
        self.cart.add(code)
        self.refresh_cart()
        self.show_catalog()

    def empty_cart(self) -> None:
        self.cart.clear()
        self.refresh_cart()
        self.show_catalog()

    def refresh_cart(self) -> None:
        self.cart_panel.show_cart(
            self.cart, self.offers, self._balance(), self.catalog_panel.quota_problems(self.cart)
        )
        self.customer_changed()  # the customer screen lists what was chosen for them

    def customer_view(self) -> CustomerView | None:
        """The customer at the desk as they may see it: masked name, ticket, points to
        spend, the services chosen and the slips issued, each with its points."""
        customer = self.customer
        if customer is None:
            return None
        return activation_view(
            customer.masked_name,
            self.called.ticket if self.called else "",
            customer.balance,
            self._slip_rows,
            self.cart.lines,
            self.offers,
        )

    def set_quantity(self, code: str, quantity: int) -> None:
        if self.cart_panel.updating:
            return
        self.cart.set(code, quantity)
        # Rebuilding the table from inside the spin box's own signal would delete it mid-call.
        QTimer.singleShot(0, self, self._after_quantity)

    def _after_quantity(self) -> None:
        self.refresh_cart()
        self.show_catalog()

    # -- slips ---------------------------------------------------------------------------------

    @property
    def signing_key(self):  # type: ignore[no-untyped-def]
        """The key as unlocked at this sign-in, or None (never asks): the window's backups
        sign a checkpoint of the audit chain with it (``ui.backup_status``)."""
        return self._signing_key

    def _key(self):  # type: ignore[no-untyped-def]
        """The event's signing key, unlocked once per sign-in with the passphrase."""
        if self._signing_key is None:
            header = event_header(self.context.uow())
            passphrase = Ask.passphrase(self, bool(header and header.is_demo))
            if passphrase is None:
                return None
            self._signing_key = keys.unlock(self.context.uow(), passphrase)
        return self._signing_key

    def issue(self) -> None:
        if self.customer is None or not self.cart:
            return
        # The gate as it is now: the service desk or another desk may have changed it.
        try:
            self.reload_customer()
        except KioskError as error:
            self.show_error(error)
            return
        customer = self.customer
        assert customer is not None
        override, approval = False, None
        if not customer.gate.open:
            self.sounds.play(Tone.WARN)
            if not Ask.confirm_override(self, customer.gate):
                self.banner.show_result(
                    Tone.WARN,
                    _("No slips issued: the customer has not done every required step."),
                    _("Below: what is missing and where to send the customer. F9 again asks a "
                      "supervisor to let them through."),
                )  # fmt: skip
                return
            override, approval = approval_for(
                self, self.context, Action.OVERRIDE_GATE, station=Station.ACTIVATION
            )
            if not override:
                return
        try:
            key = self._key()
        except KioskError as error:
            self.show_error(error)
            return
        if key is None:
            return
        # One request per customer until its outcome is known: F9 again after "not known
        # whether it was saved" returns the slips of the first try instead of issuing twice.
        subject = ("issue_slips", customer.customer_id)

        def refused(error: KioskError) -> bool:
            if isinstance(error, OutcomeUnknown):
                return False  # said; the cart stays: F9 repeats the same request
            if isinstance(error, RequestMismatch):
                # The cart changed since a try whose outcome was unknown, and that try went
                # through: its slips are in the list; this cart was not issued.
                self.sounds.play(Tone.WARN)
                self.reload_customer()
                self.banner.show_result(
                    Tone.WARN,
                    _(
                        "The earlier try went through: its slips are in the list. The cart was "
                        "not issued again; check it and press F9 if more are wanted."
                    ),
                )
                return True
            self.show_error(error)
            self.reload_customer()  # the banner says why; capacity and balance are fresh
            return True

        def issued(slips_issued: list[slips.IssuedSlip]) -> None:
            if self.lists is not None:  # large print: the cart is empty now, the slips not
                self.tabs.setCurrentWidget(self.slips_panel)
            self.cart.clear()
            self.sounds.play(Tone.OK)
            self.banner.show_result(
                Tone.OK,
                n_(
                    len(slips_issued),
                    "{n} slip issued for {name}: {numbers}.",
                    "{n} slips issued for {name}: {numbers}.",
                ).format(
                    n=len(slips_issued),
                    name=customer.masked_name,
                    numbers=", ".join(f"No. {slip.serial:06d}" for slip in slips_issued),
                ),
                _("Their points are reserved."),
            )

        lines = [slips.CartLine(code, qty) for code, qty in self.cart.lines.items()]

        def print_issued(ran: Ran[list[slips.IssuedSlip]]) -> None:
            if not ran.ok or ran.value is None:
                return
            # The slips are issued whatever the printer does; print after the screen is
            # updated. Slips a repeated request found already printed are not printed again.
            waiting = [s.serial for s in ran.value if not s.copies_printed]
            if waiting:
                self.print_later(waiting)

        run(
            self,
            lambda: slips.issue_slips(
                self.context.uow(),
                customer.customer_id,
                lines,
                self.context.staff,
                key,
                clock=self.context.app.clock,
                request_id=self.context.requests.id_for(subject),
                override=override,
                approval=approval,
            ),
            done=issued,
            failed=refused,
            request=subject,
            then=print_issued,
        )

    def print_later(self, serials: list[int], approval: Approval | None = None) -> None:
        """The screen first, then the printer (a slow printer never holds up the desk)."""
        self.print_banner.printing(
            n_(len(serials), "Printing {n} slip…", "Printing {n} slips…").format(n=len(serials))
        )
        QTimer.singleShot(0, self, lambda: self._print_all(serials, approval))

    def _print_all(self, serials: list[int], approval: Approval | None = None) -> None:
        self._uncounted = []
        outcomes = {serial: self.print_slip(serial, approval) for serial in serials}
        self.refresh_slips()
        self.show_printing(outcomes)
        if self._uncounted:
            self.print_banner.outcome(
                Tone.WARN,
                _("Printed, but the copy could not be counted"),
                self._uncounted[0],
                retry=False,
            )

    def show_printing(self, outcomes: dict[int, PrintOutcome]) -> None:
        """What became of the printouts (by slip number), on the print banner: printed, saved
        only (no printer set up), or amber with the reason in words and the retry key."""
        failures = [o for o in outcomes.values() if o.failed]
        n = len(outcomes)
        if failures:
            self.sounds.play(Tone.WARN)
            self.print_banner.outcome(
                Tone.WARN,
                failures[0].title,
                (
                    _(
                        "{reason} Printing not finished: the slips are saved, print them again "
                        "from the list (F4)."
                    )
                    if len(failures) == n
                    else _(
                        "{reason} {failed} of {n} slips not printed; they are saved: print "
                        "them again from the list (F4)."
                    )
                ).format(reason=failures[0].sentence, failed=len(failures), n=n),
                retry=True,
            )
        elif all(o.printed for o in outcomes.values()):
            self.print_banner.outcome(
                Tone.OK,
                _("{n} slips printed.").format(n=n)
                if n > 1
                else _("Slip No. {serial:06d} printed.").format(serial=next(iter(outcomes))),
                retry=False,
            )
        else:  # no printer set up on purpose (demo, rehearsal): the PDFs are the slips
            self.print_banner.outcome(
                Tone.INFO,
                n_(
                    n,
                    "{n} slip saved as PDF: no printer is set up.",
                    "{n} slips saved as PDF: no printer is set up.",
                ).format(n=n),
                retry=False,
            )
            self.print_banner.setToolTip(str(next(iter(outcomes.values())).path.parent))

    def print_slip(self, serial: int, approval: Approval | None = None) -> PrintOutcome:
        """Render and send one slip; what became of it. A copy after the first carries the
        supervisor's ``approval`` to the service."""
        copy = flow.print_slip(
            self.context.uow,
            serial,
            self.context.staff,
            self.printer,
            approval=approval,
            clock=self.context.app.clock,
        )
        if copy.uncounted:  # out of the printer, but the count of copies is not saved
            self._uncounted.append(copy.uncounted)
        return copy.outcome

    def retry_print(self) -> None:
        """F4: every slip of this customer that never came out, printed now (first copies)."""
        unprinted = [
            slip.serial
            for slip in self._slip_rows
            if slip.status == SlipStatus.ISSUED and slip.copies_printed == 0
        ]
        if not unprinted:
            if self.customer is not None:
                self.print_banner.outcome(
                    Tone.INFO,
                    _("Every slip of {name} has been printed.").format(
                        name=self.customer.masked_name
                    ),
                    retry=False,
                )
            return
        self.print_later(unprinted)

    def selected_slip(self) -> slips.SlipRow | None:
        row = self.slip_table.currentRow()
        if row < 0 or row >= len(self._slip_rows):
            return None
        return self._slip_rows[row]

    def reprint(self) -> None:
        slip = self.selected_slip()
        if slip is None:
            self.banner.show_result(Tone.WARN, _("Select a slip in the list first."))
            return
        if slip.status == SlipStatus.VOIDED:
            self.sounds.play(Tone.ERROR)
            self.banner.show_result(
                Tone.ERROR, _("Slip No. {serial:06d} is voided.").format(serial=slip.serial)
            )
            return
        if not Ask.confirm_reprint(self, slip.serial, slip.copies_printed):
            return
        approval = None
        if slip.copies_printed >= 1:  # the first copy (after a failed print) needs nobody
            go, approval = approval_for(
                self, self.context, Action.REPRINT_SLIP, station=Station.ACTIVATION
            )
            if not go:
                return
        outcome = self.print_slip(slip.serial, approval)
        self.refresh_slips()
        self.show_printing({slip.serial: outcome})

    def void(self) -> None:
        slip = self.selected_slip()
        if slip is None:
            self.banner.show_result(Tone.WARN, _("Select a slip in the list first."))
            return
        reason = Ask.void_reason(self, slip.serial)
        if reason is None:
            return
        go, approval = approval_for(
            self, self.context, Action.VOID_SLIP, station=Station.ACTIVATION
        )
        if not go:
            return
        run(
            self,
            lambda: slips.void_slip(
                self.context.uow(),
                slip.serial,
                self.context.staff,
                reason=reason,
                approval=approval,
                clock=self.context.app.clock,
            ),
            success=_("Slip No. {serial:06d} voided: {points:,} points are back.").format(
                serial=slip.serial, points=slip.points
            ),
        )

    def refresh_slips(self) -> None:
        """The customer's slips read again (after printing, which counts the copies)."""
        if self.customer is not None:
            self._slip_rows = slips.slips_of(self.context.uow(), self.customer.customer_id)
        self.show_slips()

    def show_slips(self) -> None:
        if self.customer is None:
            self._slip_rows = []
        self.slips_panel.show_rows(self._slip_rows)
        self.customer_changed()  # each slip on the customer screen as it is issued

    def show_timeline(self) -> None:
        self.timeline.clear()
        if self.customer is None:
            return
        zone = ZoneInfo(self.customer.timezone)
        for step in self._steps:
            note = f"  {step.note}" if step.step == "slips_issued" else ""
            self.timeline.addItem(
                f"{step.at.astimezone(zone):%H:%M}  {step_label(step.step)}{note}"
                f"  · {step.staff_name}"
            )

    # -- leaving -------------------------------------------------------------------------------

    def _gone_elsewhere(self, error: KioskError) -> bool:
        self.show_error(error)
        self.sync_called()  # finished or taken over on another laptop: show where
        return True

    def finish(self) -> None:
        if self.called is None:
            if self.customer is not None:  # opened by scan for a reprint: just close it
                self._clear()
            return
        called = self.called
        if self.cart and not Ask.confirm_leave(self):
            return
        run(
            self,
            lambda: activation.finish(
                self.context.uow(),
                called.entry_id,
                self.context.staff,
                clock=self.context.app.clock,
                desk=called.desk,
            ),
            success=_("{ticket} done.").format(ticket=called.ticket),
            done=lambda _changes: self._clear(),
            failed=self._gone_elsewhere,
        )

    def requeue(self) -> None:
        if self.called is None:
            return
        called = self.called
        run(
            self,
            lambda: desk.requeue(
                self.context.uow(),
                called.entry_id,
                self.context.staff,
                clock=self.context.app.clock,
                desk=called.desk,
            ),
            success=_("{ticket} is back in the queue.").format(ticket=called.ticket),
            done=lambda _changes: self._clear(),
            failed=self._gone_elsewhere,
        )

    def show_statement(self) -> None:
        """The customer's points statement, on screen with its Print button."""
        if self.customer is not None:
            try:
                open_statement(
                    self, self.context, self.customer.customer_id, self.printer, self.station
                )
            except KioskError as error:
                self.show_error(error)

    def _clear(self) -> None:
        """The customer left the desk (the refresh that follows an action reads the queue;
        the window tells the public display)."""
        self.called = None
        self.customer = None
        self.context.app.activation_cart = None  # the customer left the desk: so did the cart
        self.context.app.activation_all_services = None
        self.print_banner.clear()
        self._show_customer()
        self._fold_to(customer=False)
        self.call_button.setFocus()


def _same_call(current: Called | None, shown: Called | None) -> bool:
    if current is None or shown is None:
        return current is None and shown is None
    return current.entry_id == shown.entry_id
