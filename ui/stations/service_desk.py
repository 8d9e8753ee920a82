"""Service desk: call the next customer, govern their KYC data, open mobile banking, route on.

Keyboard first: F5 calls the next customer, Ctrl+S saves the form (after the customer has
confirmed the before / after summary), F8 opens mobile banking, F9 sends the customer on to
activation. ID number, phone and address only ever show masked (the full values are sealed
in the event database); a field left alone keeps the value on record, a new value is typed
from the customer's card or phone. Every invalid value is explained under its own field and
nothing is saved until all are valid. The marks beside the fields follow what is typed
(``kiosk.governance.field_states``); dates are typed as the card prints them, an emptied
date is no date, and ticking 长期 empties and locks the end date.

The desk is this laptop's counter (``ui.counter``) at the service-desk queue; the customer it
has called comes from the event database (``desk.current_call``) whenever the station loads
or the database changes, so a re-layout, a restart, a sign-out or another laptop given the
counter's name shows the same customer.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QListWidget,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kiosk.changeset import Changes
from kiosk.customer_view import CustomerView, changes_shown, desk_view
from kiosk.errors import KioskError
from kiosk.governance import KycForm, field_states, summary, validate
from kiosk.i18n import _
from kiosk.labels import kyc_field_label, step_label
from kiosk.models import Queue
from kiosk.roles import Station
from kiosk.services import desk
from kiosk.services.desk import (
    Called,
    DeskBusy,
    DeskError,
    FormContext,
    GovernanceInvalid,
    RmCounts,
    TimelineStep,
    Waiting,
    counter_label,
)
from ui.context import StationContext
from ui.operations import run, when_idle
from ui.stations.base import StationPage
from ui.stations.kyc_form import ConfirmChanges, DateField, KycFormPanel, MaskedLineEdit
from ui.stations.queue_panel import QueuePanel
from ui.stations.satisfaction_call import SatisfactionCallDialog
from ui.theme import is_large_print
from ui.timing import every
from ui.widgets import ResultBanner, Sounds, Tone

# Where the desk's form widgets were before the form became a panel: importers keep working.
__all__ = ["ConfirmChanges", "DateField", "MaskedLineEdit", "ServiceDeskStation"]


@dataclass(frozen=True)
class DeskScreen:
    """Everything the service desk shows, read in one transaction."""

    waiting: list[Waiting]
    counts: list[RmCounts]
    current: Called | None  # called at this counter's service desk
    form: FormContext | None  # the called customer's, when the form is (re)loaded
    timeline: list[TimelineStep]
    points: int | None = None  # the called customer's points to spend, read with the form


class ServiceDeskStation(StationPage):
    station = Station.SERVICE_DESK
    shows = frozenset({"queues", "visits", "customers", "setup"})

    def __init__(self, context: StationContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.sounds = Sounds(self)
        self.draft_timer = QTimer(self)
        self.draft_timer.setSingleShot(True)
        self.draft_timer.setInterval(1000)
        self.draft_timer.timeout.connect(self._save_draft)
        self.called: Called | None = None  # called at this counter's service desk
        self.no_show: Called | None = None  # just set aside here: "Back in queue" still works
        self.form_context: FormContext | None = None  # the called customer's, for live marks
        self._form_stale = False  # saved: the next refresh reloads the form as stored
        self._errors_shown = False  # after a refused save the sentences follow the typing
        # What the customer screen shows beside the form (``customer_view``).
        self.points: int | None = None  # the called customer's points to spend
        self._confirming = False  # the summary is in front of the customer to confirm
        self._saved: int | None = None  # changes just saved, until the next edit

        self.queue_panel = QueuePanel(context, [_("Ticket"), _("Name"), _("Waiting"), _("For")])
        self.counter = self.queue_panel.counter
        self.counter.changed.connect(lambda _name: self.sync_called())
        self.call_button = self.queue_panel.call_button
        self.display_button = self.queue_panel.display_button
        self.queue = self.queue_panel.queue
        self.banner = ResultBanner()

        self.header = QLabel(_("No customer called"))
        self.header.setObjectName("called_header")
        self.header.setProperty("role", "title")
        self.form_panel = KycFormPanel(self)
        self.form_box = self.form_panel
        self.inputs = self.form_panel.inputs
        self.errors = self.form_panel.errors
        self.statuses = self.form_panel.statuses
        self.form_panel.edited.connect(self._on_form_changed)

        self.save_button = QPushButton(_("Save details (Ctrl+S)"))
        self.save_button.setObjectName("save")
        self.mobile_button = QPushButton(_("Open mobile banking (F8)"))
        self.mobile_button.setObjectName("mobile_banking")
        self.route_button = QPushButton(_("Done: to activation (F9)"))
        self.route_button.setObjectName("route_on")
        self.route_button.setProperty("role", "primary")
        self.skip_button = QPushButton(_("No-show"))
        self.requeue_button = QPushButton(_("Back in queue"))
        self.transfer_button = QPushButton(_("Transfer…"))
        # After the event (issue #21): a satisfaction call's outcome for a redeemed slip.
        self.call_outcome_button = QPushButton(_("Satisfaction call…"))
        self.call_outcome_button.setObjectName("satisfaction_call")
        self.my_counts = QLabel("")
        self.my_counts.setObjectName("my_counts")
        self.my_counts.setProperty("role", "hint")
        self.my_counts.setWordWrap(True)
        self.queue_panel.add_below(self.my_counts)
        self.timeline = QListWidget()
        self.timeline.setObjectName("timeline")
        self.timeline.setWordWrap(True)
        self.timeline.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.waiting_count = QLabel("")
        self.waiting_count.setObjectName("desk_waiting_count")
        self.waiting_count.setProperty("role", "hint")

        # Two faces, one at a time (``_arrange``): with nobody called, the counter and the
        # waiting list take the width; with a customer called, the list folds into a count
        # beside "Call next" and the form takes the width, so large print on a 1366×768
        # laptop shows most fields without scrolling sideways or in a sliver.
        self.header.setWordWrap(True)
        if is_large_print():
            self.header.setProperty("role", "subtitle")  # room for the buttons beside it
        top = QHBoxLayout()
        top.addWidget(self.header, 1)
        top.addWidget(self.waiting_count)
        for button in (self.call_button, self.display_button):
            self.queue_panel.column.removeWidget(button)  # from the list's column to the top
            top.addWidget(button)
        self.form_scroll = QScrollArea()
        self.form_scroll.setObjectName("form_scroll")
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.form_scroll.setWidget(self.form_panel)
        self.form_scroll.viewport().installEventFilter(self)  # one or two columns (``fit_to``)
        for widget in self.inputs.values():  # a field given the keyboard comes into view
            widget.installEventFilter(self)
        self.timeline_box = QWidget()
        steps = QVBoxLayout(self.timeline_box)
        steps.setContentsMargins(0, 0, 0, 0)
        steps.addWidget(QLabel(_("Visit timeline")))
        steps.addWidget(self.timeline, 1)
        self.timeline_box.setFixedWidth(300 if is_large_print() else 260)
        body = QHBoxLayout()
        body.addWidget(self.queue_panel, 1)
        body.addWidget(self.form_scroll, 1)
        body.addWidget(self.timeline_box)
        # The actions in two rows: what every customer needs, then what only some do.
        first = QHBoxLayout()
        for button in (self.save_button, self.mobile_button, self.route_button):
            first.addWidget(button, 1)
        second = QHBoxLayout()
        for button in (
            self.skip_button,
            self.requeue_button,
            self.transfer_button,
            self.call_outcome_button,
        ):
            second.addWidget(button, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.addWidget(self.banner)
        layout.addLayout(top)
        layout.addLayout(body, 1)
        layout.addLayout(first)
        layout.addLayout(second)
        queue_header = self.queue.horizontalHeader()
        queue_header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        queue_header.setStretchLastSection(True)
        self._arrange()

        self.call_button.clicked.connect(self.call_next)
        self.display_button.clicked.connect(self.open_display)
        self.save_button.clicked.connect(self.save)
        self.mobile_button.clicked.connect(self.open_mobile_banking)
        self.route_button.clicked.connect(self.route_on)
        self.skip_button.clicked.connect(self.skip)
        self.requeue_button.clicked.connect(self.requeue)
        self.transfer_button.clicked.connect(self.transfer)
        self.call_outcome_button.clicked.connect(self.satisfaction_call)
        self.bind(Qt.Key.Key_R, self.queue_panel.replay_call, Qt.KeyboardModifier.ControlModifier)
        self.bind(Qt.Key.Key_F5, self.call_next)
        self.bind(Qt.Key.Key_F8, self.open_mobile_banking)
        self.bind(Qt.Key.Key_F9, self.route_on)
        self.bind(Qt.Key.Key_S, self.save, Qt.KeyboardModifier.ControlModifier)
        self.refresh_timer = QTimer(self)
        # Other desks and reception change the queue: ``refresh_live`` follows them at once;
        # this timer only keeps the waiting minutes current.
        self.refresh_timer.setInterval(every(60_000))
        self.refresh_timer.timeout.connect(when_idle(self, self.refresh_queue))
        self._set_enabled(False)

    def _arrange(self) -> None:
        """The waiting list, or the called customer's form and timeline (see ``__init__``)."""
        serving = self.called is not None
        self.queue_panel.setVisible(not serving)
        self.waiting_count.setVisible(serving)
        self.form_scroll.setVisible(serving)
        self.timeline_box.setVisible(serving)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.form_scroll.viewport():
            self.form_panel.fit_to(self.form_scroll.viewport().width())
        elif event.type() == QEvent.Type.FocusIn and watched in self.inputs.values():
            self.reveal(next(f for f, w in self.inputs.items() if w is watched))
        return super().eventFilter(watched, event)

    def reveal(self, field: str) -> None:
        """Scroll the form so ``field`` and the sentence under it show whole: in large print
        on a 768-pixel laptop a field tabbed onto or refused stood half off the bottom edge,
        its explanation out of sight."""
        # A sentence just shown has no place yet: lay the form out first.
        self.form_panel.grid.activate()
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        margin = 12
        error = self.errors[field]
        if not error.isHidden():
            self.form_scroll.ensureWidgetVisible(error, margin, margin)
        self.form_scroll.ensureWidgetVisible(self.inputs[field], margin, margin)
        self.form_scroll.ensureWidgetVisible(self.statuses[field], margin, margin)

    def _set_enabled(self, on: bool) -> None:
        for widget in (
            self.form_panel,
            self.save_button,
            self.mobile_button,
            self.route_button,
            self.skip_button,
            self.transfer_button,
        ):
            widget.setEnabled(on)
        self.requeue_button.setEnabled(self.called is not None or self.no_show is not None)

    # -- the form (``ui.stations.kyc_form``) -------------------------------------------------

    def show_form(self, form: KycForm) -> None:
        self.form_panel.show_form(form)
        self._errors_shown = False

    def show_status(self, status: dict[str, str]) -> None:
        self.form_panel.show_status(status)

    def read_form(self) -> KycForm:
        return self.form_panel.read_form()

    def date_errors(self) -> dict[str, str]:
        return self.form_panel.date_errors()

    def show_errors(self, errors: dict[str, str], *, focus: bool = True) -> None:
        self.form_panel.show_errors(errors, focus=focus)
        first = next((f for f in self.inputs if f in errors), None)
        if first is not None and focus:  # the form scrolls to it on a 768-pixel laptop
            self.reveal(first)

    def _on_form_changed(self) -> None:
        """An edit: the marks (and, after a refused save, the sentences) follow at once,
        judged without the database from what the form was loaded with."""
        if self.form_context is None:
            return
        if self.context.recovery is not None and self.called is not None:
            self.draft_timer.start()  # kept a second after the last key, not on every key
        form = self.read_form()
        context = self.form_context
        date_errors = self.date_errors()
        states = field_states(form, context.today, context.record)
        states.update(dict.fromkeys(date_errors, "invalid"))
        self.show_status(states)
        if self._errors_shown:
            errors = validate(form, context.today, context.record)
            errors.update(date_errors)
            self.show_errors(errors, focus=False)
        self._saved = None
        self.customer_changed()  # the customer screen's summary follows the typing

    def customer_view(self) -> CustomerView | None:
        """The called customer as they may see it: masked name, ticket, points and the
        before / after of what is typed (masked as the confirmation masks it)."""
        called, context = self.called, self.form_context
        if called is None or context is None:
            return None
        return desk_view(
            called.masked_name,
            called.ticket,
            points=self.points,
            changes=changes_shown(context.form, self.read_form(), context.record),
            confirming=self._confirming,
            saved=self._saved,
        )

    # -- a draft of what is typed, for the start after a crash ------------------------------

    def _draft_name(self) -> str:
        return f"governance-{self.counter.name() or self.context.staff.staff_no}"

    def _save_draft(self) -> None:
        """What the form holds for the called customer, kept on this laptop (``ui.recovery``)
        so an unexpected close does not lose it. ID number, phone and address are personal
        data the laptop keeps sealed only: the draft notes that they were retyped, never
        what was typed."""
        recovery = self.context.recovery
        if recovery is None or self.called is None:
            return
        values, retyped = self.form_panel.draft_values()
        recovery.save_draft(
            self._draft_name(),
            {
                "entry_id": self.called.entry_id,
                "ticket": self.called.ticket,
                "values": values,
                "retyped": retyped,
            },
        )

    def _restore_draft(self) -> None:
        """The called customer's form as it was typed before the app closed, if it was."""
        recovery = self.context.recovery
        if recovery is None or self.called is None:
            return
        draft = recovery.load_draft(self._draft_name())
        if not draft:
            return
        if draft.get("entry_id") != self.called.entry_id:  # that customer is gone from here
            recovery.clear_draft(self._draft_name())
            return
        self.form_panel.restore_values(draft.get("values") or {})
        self._on_form_changed()
        words = _(
            "Restored what was typed for {ticket} before the app closed; check it and save "
            "with Ctrl+S."
        ).format(ticket=self.called.ticket)
        retyped = [kyc_field_label(f) for f in draft.get("retyped") or [] if f in self.inputs]
        if retyped:
            words += " " + _("Type again: {fields} (not kept on this laptop).").format(
                fields="、".join(retyped)
            )
        self.banner.show_result(Tone.WARN, words)

    def _drop_draft(self) -> None:
        self.draft_timer.stop()
        if self.context.recovery is not None:
            self.context.recovery.clear_draft(self._draft_name())

    # -- what is on screen, in one read ------------------------------------------------------

    def load(self) -> None:
        self.counter.refresh()  # renamed at the other desk station of this window, maybe
        self.refresh()
        self.call_button.setFocus()
        self.refresh_timer.start()

    def refresh_live(self) -> None:
        self.refresh()

    def after(self, changes: Changes) -> None:
        self.refresh()

    def refresh(self) -> None:
        """The queue, this counter's call, the RM's counts and the called customer's
        timeline (and form, when it is new or was saved), from one transaction. A form
        being typed in stays as it is while it is the same customer."""
        read = self.context.shared_read()
        try:
            with read:
                waiting = desk.waiting(read, clock=self.context.app.clock)
                counts = desk.rm_counts(read)
                current = desk.current_call(
                    read, desk=self.counter.name(), queue=Queue.SERVICE_DESK
                )
                new = current is not None and (
                    self._form_stale
                    or self.called is None
                    or current.entry_id != self.called.entry_id
                )
                form = (
                    desk.form_context(read, current.customer_id, clock=self.context.app.clock)
                    if current is not None and new
                    else None
                )
                steps = desk.timeline(read, current.visit_id) if current is not None else []
                points = (
                    desk.points_to_spend(read, current.customer_id, clock=self.context.app.clock)
                    if current is not None and new
                    else None
                )
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, str(error))
            return
        self.show(DeskScreen(waiting, counts, current, form, steps, points))

    def show(self, screen: DeskScreen) -> None:
        self.show_queue(screen.waiting)
        self.show_counts(screen.counts)
        current = screen.current
        if current is None:
            if self.called is not None:  # finished on another laptop at this counter
                self._finish()
            return
        if screen.form is not None:
            self.points = screen.points
            self._show_called(current, screen.form)
        self.show_timeline(screen.timeline)

    def sync_called(self) -> None:
        """Show the customer this counter's service desk has called, as the database says:
        the same after a re-layout or a restart, and on every laptop given this counter's
        name. Only this counter's call is read; the whole screen only when it changed."""
        try:
            current = desk.current_call(
                self.context.uow(), desk=self.counter.name(), queue=Queue.SERVICE_DESK
            )
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, str(error))
            return
        same = (current is None and self.called is None) or (
            current is not None
            and self.called is not None
            and current.entry_id == self.called.entry_id
        )
        if not same:
            self.refresh()

    def _show_called(self, called: Called, context: FormContext) -> None:
        self._form_stale = False
        another = self.called is None or self.called.entry_id != called.entry_id
        if another:
            self._saved = None  # another customer: nothing was saved for them yet
        self.called = called
        self.no_show = None
        self.header.setText(
            _("{ticket} · {name} · waited {n} min").format(
                ticket=called.ticket, name=called.masked_name, n=called.waited_minutes
            )
        )
        self._set_enabled(True)
        self._arrange()
        self.form_context = context
        self.show_form(context.form)
        self.show_status(field_states(context.form, context.today, context.record))
        self._restore_draft()
        if another:  # a new customer starts at the top: name, gender and phone in sight
            self.form_scroll.verticalScrollBar().setValue(0)
            self.form_scroll.horizontalScrollBar().setValue(0)
        self.customer_changed()

    def _announce(self) -> None:
        """The public display (the window's) shows this counter's calls now."""
        refresh = getattr(self.window(), "refresh_call_display", None)
        if callable(refresh):
            refresh()

    def refresh_queue(self) -> None:
        """The waiting list alone (the minutes, once a minute)."""
        try:
            rows = desk.waiting(self.context.uow(), clock=self.context.app.clock)
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, str(error))
            return
        self.show_queue(rows)

    def show_queue(self, rows: list[Waiting]) -> None:
        self.waiting_count.setText(_("Waiting: {n}").format(n=len(rows)))
        self.queue_panel.show_waiting(
            [
                (
                    item.ticket,
                    item.masked_name,
                    _("{n} min").format(n=item.waited_minutes),
                    item.preferred_rm
                    or "、".join(kyc_field_label(f) for f in item.reason.split(",") if f),
                )
                for item in rows
            ]
        )

    def show_counts(self, counts: list[RmCounts]) -> None:
        """What the bank measures an RM on: customers governed and mobile banking opened."""
        mine = next((c for c in counts if c.staff_no == self.context.staff.staff_no), None)
        self.my_counts.setText(
            _("Today: {governed} governed, {opened} mobile banking opened").format(
                governed=mine.governed if mine else 0,
                opened=mine.mobile_banking_opened if mine else 0,
            )
        )

    def show_timeline(self, steps: list[TimelineStep]) -> None:
        self.timeline.clear()
        if self.called is None:
            return
        for step in steps:
            local = step.at.astimezone(ZoneInfo(self.called.timezone)).strftime("%H:%M")
            self.timeline.addItem(f"{local}  {step_label(step.step)}  · {step.staff_name}")

    # -- actions (``ui.operations.run``) -----------------------------------------------------

    def _refused(self, error: KioskError) -> bool:
        """A refusal of the desk: the sentences under the fields, or where things are now."""
        if isinstance(error, GovernanceInvalid):
            self.show_errors(error.errors)
        self.show_error(error)
        if isinstance(error, DeskError) and not isinstance(error, GovernanceInvalid):
            self.sync_called()  # another laptop acted on this ticket: show where things are
        return True

    def call_next(self) -> None:
        name = self.counter.ensure()
        if name is None:
            return
        self.sync_called()
        if self.called is not None:  # one customer at a time: call them again, not another
            self.sounds.play(Tone.WARN)
            self.banner.show_result(
                Tone.WARN,
                _("{ticket} is still called at {counter}: finish that customer first.").format(
                    ticket=self.called.ticket, counter=counter_label(name)
                ),
            )
            self._announce()
            return

        def busy(error: KioskError) -> bool:
            if not isinstance(error, DeskBusy):
                return False  # the database is away: F5 again once it is back
            self.refresh()  # another laptop at this counter called someone just now
            self.sounds.play(Tone.WARN)
            self.banner.show_result(Tone.WARN, str(error))
            return True

        def called(result: Called | None) -> None:
            if result is None:
                self.sounds.play(Tone.WARN)
                self.banner.show_result(Tone.WARN, _("Nobody is waiting for this desk."))
                return
            self.sounds.play(Tone.OK)
            self.banner.show_result(
                Tone.OK,
                _("Calling {ticket} to {counter}").format(
                    ticket=result.ticket, counter=counter_label(result.desk)
                ),
            )

        run(
            self,
            lambda: desk.call_next(
                self.context.uow(), self.context.staff, desk=name, clock=self.context.app.clock
            ),
            done=called,
            failed=busy,
        )

    def save(self) -> None:
        if self.called is None:
            return
        after = self.read_form()
        read = self.context.shared_read()
        try:
            with read:
                before = desk.current_form(read, self.called.customer_id)
                errors = desk.check_form(
                    read,
                    after,
                    customer_id=self.called.customer_id,
                    clock=self.context.app.clock,
                )
        except KioskError as error:
            # The database is away: what was typed stays in the form; Ctrl+S again later.
            self.show_error(error)
            return
        errors.update(self.date_errors())
        if errors:
            self._errors_shown = True
            self.show_errors(errors)
            self.sounds.play(Tone.ERROR)
            self.banner.show_result(Tone.ERROR, _("Some fields are not valid; nothing was saved."))
            return
        self.show_errors({})
        record = self.form_context.record if self.form_context else None
        rows = summary(before, after, record)
        # The checks passed: the red "nothing was saved" of an attempt before is no longer
        # true, and must not stand behind the summary the customer is asked to confirm.
        self.banner.setVisible(False)
        if rows:
            self.banner.show_result(Tone.INFO, _("The customer is checking the changes."))
            # The customer screen shows the same summary, marked for them to check.
            self._confirming = True
            self.customer_changed()
            try:
                confirmed = ConfirmChanges.ask(self, rows)
            finally:
                self._confirming = False
            if not confirmed:
                self.customer_changed()
                self.banner.show_result(Tone.WARN, _("Not saved: the customer did not confirm."))
                return
        called = self.called
        # The same request until the outcome is known: Ctrl+S again after "not known whether
        # it was saved" records the changes once (kiosk.idempotency).
        subject = ("governance", called.customer_id, called.visit_id)

        def saved(_changed: list[str]) -> None:
            self._drop_draft()
            self._form_stale = True  # only after a save: a refusal keeps what was typed
            self._saved = len(rows)  # the customer screen says so until the next edit
            self.customer_changed()

        run(
            self,
            lambda: desk.save_governance(
                self.context.uow(),
                called.customer_id,
                after,
                self.context.staff,
                visit_id=called.visit_id,
                clock=self.context.app.clock,
                request_id=self.context.requests.id_for(subject),
            ),
            # The count the customer confirmed: lines of the summary, not fields.
            success=_("Details saved ({n} changed).").format(n=len(rows)),
            done=saved,
            failed=self._refused,
            request=subject,
        )

    def open_mobile_banking(self) -> None:
        if self.called is None:
            return
        called = self.called
        run(
            self,
            lambda: desk.open_mobile_banking(
                self.context.uow(),
                called.customer_id,
                self.context.staff,
                visit_id=called.visit_id,
                clock=self.context.app.clock,
            ),
            success=_("Mobile banking opened."),
            failed=self._refused,
        )

    def route_on(self) -> None:
        if self.called is None:
            return
        called = self.called

        def routed(result: desk.RoutedOn) -> None:
            self.sounds.play(Tone.OK)
            self.banner.show_result(
                Tone.OK,
                _("{name}: now ticket {ticket} for activation, {n} ahead.").format(
                    name=called.masked_name, ticket=result.ticket, n=result.waiting_ahead
                ),
            )
            self._finish()

        run(
            self,
            lambda: desk.route_on(
                self.context.uow(),
                called.entry_id,
                self.context.staff,
                clock=self.context.app.clock,
                desk=called.desk,
            ),
            done=routed,
            failed=self._refused,
        )

    def skip(self) -> None:
        if self.called is None:
            return
        called = self.called

        def set_aside(_changes: Changes) -> None:
            self._finish()
            self.no_show = called
            self.header.setText(_("{ticket} set aside as a no-show.").format(ticket=called.ticket))
            self._set_enabled(False)

        run(
            self,
            lambda: desk.skip(
                self.context.uow(),
                called.entry_id,
                self.context.staff,
                clock=self.context.app.clock,
                desk=called.desk,
            ),
            success=_("{ticket} set aside as a no-show.").format(ticket=called.ticket),
            done=set_aside,
            failed=self._refused,
        )

    def requeue(self) -> None:
        called = self.called or self.no_show
        if called is None:
            return
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
            done=lambda _changes: self._finish(),
            failed=self._refused,
        )

    def transfer(self) -> None:
        if self.called is None:
            return
        staff_no, ok = QInputDialog.getText(self, _("Transfer"), _("Staff number of the RM"))
        if not ok or not staff_no.strip():
            return
        called = self.called
        run(
            self,
            lambda: desk.transfer(
                self.context.uow(),
                called.entry_id,
                staff_no,
                self.context.staff,
                clock=self.context.app.clock,
                desk=called.desk,
            ),
            success=_("{ticket} now waits for {no}.").format(
                ticket=called.ticket, no=staff_no.upper()
            ),
            done=lambda _changes: self._finish(),
            failed=self._refused,
        )

    def _finish(self) -> None:
        """The customer left this desk: an empty form (the refresh that follows reads the
        queue; the window tells the public display)."""
        self._drop_draft()
        self.called = None
        self.no_show = None
        self.form_context = None
        self._form_stale = False
        self.header.setText(_("No customer called"))
        self.show_form(
            replace(
                KycForm(**{f.name: None for f in fields(KycForm)}),
                name="",
                id_type="resident_id",
                id_long_term=False,
            )
        )
        self.show_status({})
        self._set_enabled(False)
        self.timeline.clear()
        self.points = None
        self._saved = None
        self._arrange()
        self.customer_changed()  # the customer screen: the welcome

    def satisfaction_call(self) -> None:
        """Record a satisfaction call's outcome (``ui.stations.satisfaction_call``); the
        called customer's redeemed slips are offered first."""
        SatisfactionCallDialog.open(self, self.called.customer_id if self.called else None)

    def open_display(self) -> None:
        """The public display of this counter: the window's, so it outlives a re-layout."""
        if self.counter.ensure() is None:
            return
        opener = getattr(self.window(), "open_call_display", None)
        if callable(opener):
            opener()
