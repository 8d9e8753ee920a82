"""Administration -> Merchants (商户评估), after the event (issue #21): each merchant's scorecard
with its review flags (a ⚠ and the word, as well as the colour), the thresholds that flag
it, a supervisor's keep / warn / exit with a reason, and the approved-merchant register's
export and import.

The fingerprint the register is signed with is shown here and printed by ``kiosk merchants
register export``: the coordinator notes it apart from the file; the next event's import
shows the file's fingerprint and trusts its signer only when the coordinator confirms it is
the one noted. Everything is written through ``kiosk.services.merchant_review``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.boundedjson import naming
from kiosk.errors import KioskError
from kiosk.files import write_atomic
from kiosk.i18n import _, listing
from kiosk.register_file import Register, RegisterError, read_file
from kiosk.services import merchant_review as review
from ui.context import StationContext
from ui.language import FILE_DIALOG
from ui.stations.admin.common import SCROLLS_ITSELF, make_table
from ui.theme import is_large_print
from ui.widgets import ResultBanner, Tone

FLAGGED = QColor("#b00020")
DECISIONS = ("keep", "warn", "exit")


class RegisterFiles:
    """The register's file dialogs and the trust question, in one place tests replace."""

    @staticmethod
    def save_file(parent: QWidget, name: str) -> Path | None:
        chosen, _filter = QFileDialog.getSaveFileName(
            parent,
            _("Export the approved-merchant register"),
            name,
            _("Merchant registers (*.json)"),
            options=FILE_DIALOG,
        )
        return Path(chosen) if chosen else None

    @staticmethod
    def open_file(parent: QWidget) -> Path | None:
        chosen, _filter = QFileDialog.getOpenFileName(
            parent,
            _("Import an earlier event's register"),
            "",
            _("Merchant registers (*.json)"),
            options=FILE_DIALOG,
        )
        return Path(chosen) if chosen else None

    @staticmethod
    def confirm_trust(parent: QWidget, register: Register) -> bool:
        answer = QMessageBox.question(
            parent,
            _("Trust this register's signer?"),
            _(
                "This register was signed by event {event} with the key fingerprint\n\n"
                "{fingerprint}\n\nTrust it only if it is the fingerprint the coordinator "
                "noted when event {event} exported its register."
            ).format(event=register.event_code, fingerprint=register.fingerprint),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes


class DecisionDialog(QDialog):
    """Keep / warn / exit for one merchant, with the reason (required) and its flags."""

    def __init__(self, card: review.Scorecard, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.card = card
        self.setObjectName("merchant_decision")
        self.setWindowTitle(
            _("Decision on {code} {name}").format(code=card.merchant_code, name=card.merchant_name)
        )
        layout = QVBoxLayout(self)
        # The merchant in the body too: a title bar is not always shown (or read).
        heading = QLabel(self.windowTitle())
        heading.setObjectName("decision_heading")
        heading.setProperty("role", "subtitle")
        layout.addWidget(heading)
        flags = QLabel(
            "\n".join("⚠ " + f for f in card.flags) if card.flags else _("No threshold crossed.")
        )
        flags.setWordWrap(True)
        layout.addWidget(flags)
        form = QFormLayout()
        self.decision = QComboBox()
        self.decision.setObjectName("decision")
        for value in DECISIONS:
            self.decision.addItem(review.decision_label(value), value)
        form.addRow(_("Decision"), self.decision)
        self.reason = QLineEdit()
        self.reason.setObjectName("reason")
        self.reason.setMaxLength(300)
        self.reason.setPlaceholderText(_("Required: why (kept in the register)"))
        form.addRow(_("Reason"), self.reason)
        layout.addLayout(form)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(_("Record the decision"))
        ok.setEnabled(False)
        self.reason.textChanged.connect(lambda text: ok.setEnabled(bool(text.strip())))
        layout.addWidget(self.buttons)

    def chosen(self) -> tuple[str, str]:
        return str(self.decision.currentData()), self.reason.text()


class MerchantsPanel(QWidget):
    def __init__(self, context: StationContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.files = RegisterFiles
        self.cards: list[review.Scorecard] = []
        self.decision_dialog: DecisionDialog | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        # Everything but the result scrolls: in large print on a 1366×768 laptop the table
        # keeps room for several merchants instead of shrinking to one row under the banner.
        page = QWidget()
        layout = QVBoxLayout(page)
        scroll = QScrollArea()
        scroll.setWidget(page)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(scroll, 1)
        self.setProperty(SCROLLS_ITSELF, True)  # not wrapped in a second scroll area
        intro = QLabel(
            _(
                "After the event: each merchant's slips, delivery, complaints and score. A "
                "merchant crossing a threshold is flagged for review; a supervisor records "
                "keep, warn or exit with the reason. The register carries the decisions to "
                "the next event, whose catalog import refuses a merchant that exited."
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        form = QHBoxLayout()
        self.score_floor = QLineEdit()
        self.score_floor.setObjectName("review_score_floor")
        self.score_floor.setPlaceholderText(_("e.g. 3.5"))
        self.complaints = QLineEdit()
        self.complaints.setObjectName("review_complaints")
        self.complaints.setPlaceholderText(_("e.g. 3"))
        self.delivery_days = QLineEdit()
        self.delivery_days.setObjectName("review_delivery_days")
        self.delivery_days.setPlaceholderText(_("e.g. 7"))
        for label, field in (
            (_("Average score below"), self.score_floor),
            (_("Complaints from"), self.complaints),
            (_("Average days to delivery above"), self.delivery_days),
        ):
            if field is self.delivery_days and is_large_print():  # two lines: 1,014 px
                form.addStretch(1)
                layout.addLayout(form)
                form = QHBoxLayout()
            form.addWidget(QLabel(label))
            field.setMaximumWidth(80 if not is_large_print() else 110)
            form.addWidget(field)
        self.save_thresholds = QPushButton(_("Save thresholds"))
        self.save_thresholds.setObjectName("save_review_thresholds")
        self.save_thresholds.clicked.connect(self.set_thresholds)
        form.addWidget(self.save_thresholds)
        form.addStretch(1)
        layout.addLayout(form)

        self.table = make_table(
            [
                _("Merchant code"),
                _("Merchant"),
                _("Review"),  # next to the name: seen without scrolling, even in large print
                _("Decision"),
                _("Issued"),
                _("Redeemed"),
                _("Delivered"),
                _("Median days"),
                _("Average days"),
                _("Complaints"),
                _("Average score"),
            ]
        )
        self.table.setObjectName("scorecard")
        self.table.itemSelectionChanged.connect(self._selected)
        rows = self.table.verticalHeader().defaultSectionSize()
        self.table.setMinimumHeight(self.table.horizontalHeader().sizeHint().height() + 6 * rows)
        layout.addWidget(self.table, 1)
        self.flags = QLabel("")
        self.flags.setObjectName("merchant_flags")
        self.flags.setWordWrap(True)
        layout.addWidget(self.flags)

        buttons = QHBoxLayout()
        self.decide_button = QPushButton(_("Decision…"))
        self.decide_button.setObjectName("decide_merchant")
        self.decide_button.setProperty("role", "primary")
        self.decide_button.setEnabled(False)
        self.decide_button.clicked.connect(self.open_decision)
        buttons.addWidget(self.decide_button)
        buttons.addStretch(1)
        if is_large_print():  # the register's keys on a line of their own: 1,014 px
            layout.addLayout(buttons)
            buttons = QHBoxLayout()
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("register_passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setPlaceholderText(_("Event passphrase"))
        buttons.addWidget(self.passphrase)
        self.export_button = QPushButton(_("Export register…"))
        self.export_button.setObjectName("export_register")
        self.export_button.clicked.connect(self.export_register)
        buttons.addWidget(self.export_button)
        self.import_button = QPushButton(_("Import register…"))
        self.import_button.setObjectName("import_register")
        self.import_button.clicked.connect(self.import_register)
        buttons.addWidget(self.import_button)
        layout.addLayout(buttons)
        self.fingerprint = QLabel("")
        self.fingerprint.setObjectName("register_fingerprint")
        self.fingerprint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fingerprint.setWordWrap(True)
        layout.addWidget(self.fingerprint)
        self.register_summary = QLabel("")
        self.register_summary.setObjectName("register_summary")
        self.register_summary.setWordWrap(True)
        layout.addWidget(self.register_summary)
        self.banner = ResultBanner()
        outer.addWidget(self.banner)

    # -- reading ---------------------------------------------------------------------------

    def refresh(self) -> None:
        try:
            cards = review.scorecards(self.context.uow())
            limits = review.thresholds(self.context.uow())
            fingerprint = review.register_fingerprint(self.context.uow())
            entries = review.register_entries(self.context.uow())
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, str(error))
            return
        self.cards = cards
        self.score_floor.setText(
            "" if limits.score_floor is None else review.number(limits.score_floor / 10)
        )
        self.complaints.setText("" if limits.complaints is None else str(limits.complaints))
        self.delivery_days.setText(
            "" if limits.delivery_days is None else str(limits.delivery_days)
        )
        self._fill(cards)
        self.fingerprint.setText(
            _("This event's register key fingerprint: {fingerprint}").format(
                fingerprint=fingerprint
            )
            if fingerprint
            else _("This event has no signing key yet: no register can be exported.")
        )
        exits = [e for e in entries if e.status == "exit"]
        self.register_summary.setText(
            _("Register from earlier events: {n} merchant(s), exited: {exits}.").format(
                n=len(entries),
                exits=", ".join(f"{e.merchant_code} {e.merchant_name}" for e in exits) or "—",
            )
            if entries
            else _("No register from an earlier event imported.")
        )

    def _fill(self, cards: list[review.Scorecard]) -> None:
        self.table.setRowCount(len(cards))
        for row, c in enumerate(cards):
            decision = c.decision
            complaints = str(c.complaint_total)
            score = (
                ""
                if c.average_score is None
                else f"{review.number(round(c.average_score, 2))} ({c.scores})"
            )
            values = [
                c.merchant_code,
                c.merchant_name,
                ("⚠ " + _("Review")) if c.flagged else _("no flag"),
                review.decision_label(decision.decision) if decision else "",
                str(c.issued),
                str(c.redeemed),
                str(c.delivered),
                "" if c.median_days is None else review.number(round(c.median_days, 1)),
                "" if c.average_days is None else review.number(round(c.average_days, 1)),
                complaints,
                score,
            ]
            for column, text in enumerate(values):
                item = QTableWidgetItem(text)
                if column >= 4:  # figures, right-aligned so digits line up
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if column == 9 and c.complaint_total:
                    item.setToolTip(
                        listing(
                            f"{review.category_label(k)} {n}" for k, n in c.complaints.items() if n
                        )
                    )
                if column == 2 and c.flagged:
                    item.setForeground(FLAGGED)
                    item.setToolTip("\n".join(c.flags))
                if column == 3 and decision:
                    item.setToolTip(decision.reason)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self._selected()

    def selected_card(self) -> review.Scorecard | None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        return self.cards[rows.pop()] if len(rows) == 1 else None

    def _selected(self) -> None:
        card = self.selected_card()
        self.decide_button.setEnabled(card is not None)
        if card is None:
            self.flags.setText("")
            return
        lines = [f"⚠ {f}" for f in card.flags]
        if card.register_status is not None:
            lines.append(
                _("Register from {event}: {status} ({reason})").format(
                    event=card.register_event,
                    status=review.decision_label(card.register_status),
                    reason=card.register_reason or "—",
                )
            )
        if card.decision is not None:
            lines.append(
                _("Decided {decision} by {staff}: {reason}").format(
                    decision=review.decision_label(card.decision.decision),
                    staff=card.decision.decided_by,
                    reason=card.decision.reason,
                )
            )
        self.flags.setText("\n".join(lines))

    # -- writing ---------------------------------------------------------------------------

    def set_thresholds(self) -> None:
        try:
            floor_text = self.score_floor.text().strip()
            floor = review.score_floor_tenths(floor_text) if floor_text else None
            complaints = self._whole(self.complaints.text())
            days = self._whole(self.delivery_days.text())
            limits = review.set_thresholds(
                self.context.uow(),
                self.context.staff,
                score_floor=floor,
                complaints=complaints,
                delivery_days=days,
                clock=self.context.app.clock,
                station="admin",
            )
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, _("Not saved"), str(error))
            return
        self.refresh()
        self.banner.show_result(Tone.OK, _("Saved."), listing(review.describe_thresholds(limits)))

    @staticmethod
    def _whole(text: str) -> int | None:
        text = text.strip()
        if not text:
            return None
        if not text.isdigit():
            raise KioskError(_("“{text}” is not a whole number.").format(text=text))
        return int(text)

    def open_decision(self) -> None:
        card = self.selected_card()
        if card is None:
            return
        dialog = DecisionDialog(card, self)
        self.decision_dialog = dialog
        dialog.accepted.connect(lambda: self._record(dialog))
        dialog.open()

    def _record(self, dialog: DecisionDialog) -> None:
        decision, reason = dialog.chosen()
        try:
            result = review.decide(
                self.context.uow(),
                dialog.card.merchant_code,
                decision,
                reason,
                self.context.staff,
                clock=self.context.app.clock,
                station="admin",
            )
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, _("Not recorded"), str(error))
            return
        self.refresh()
        self.banner.show_result(
            Tone.OK,
            _("{code} {name}: {decision} recorded.").format(
                code=result.merchant_code,
                name=result.scorecard.merchant_name,
                decision=review.decision_label(result.decision),
            ),
            result.reason,
        )

    def export_register(self) -> None:
        passphrase = self.passphrase.text()
        if not passphrase:
            self.banner.show_result(
                Tone.ERROR,
                _("Not exported"),
                _("Type the event passphrase: the register is signed with the event's key."),
            )
            return
        path = self.files.save_file(self, "merchant-register.json")
        if path is None:
            return
        self.passphrase.clear()  # typed for one export, never kept
        try:
            exported = review.export_register(
                self.context.uow(),
                passphrase,
                self.context.staff,
                clock=self.context.app.clock,
                station="admin",
            )
            write_atomic(path, exported.data)
        except (KioskError, OSError) as error:
            self.banner.show_result(Tone.ERROR, _("Not exported"), str(error))
            return
        self.banner.show_result(
            Tone.OK,
            _("Register written to {path}: {n} merchant(s).").format(
                path=path, n=len(exported.register.entries)
            ),
            _(
                "Key fingerprint: {fingerprint}. Note it apart from the file: the next "
                "event's coordinator confirms it when importing."
            ).format(fingerprint=exported.fingerprint),
        )

    def import_register(self) -> None:
        path = self.files.open_file(self)
        if path is None:
            return
        try:
            data = read_file(path)
            with naming(path.name, RegisterError):
                register = review.peek_register(data)
                try:
                    result = review.import_register(
                        self.context.uow(),
                        data,
                        self.context.staff,
                        clock=self.context.app.clock,
                        station="admin",
                    )
                except review.UntrustedSigner:
                    if not self.files.confirm_trust(self, register):
                        self.banner.show_result(
                            Tone.WARN,
                            _("Not imported"),
                            _("The signer of {file} was not trusted.").format(file=path.name),
                        )
                        return
                    result = review.import_register(
                        self.context.uow(),
                        data,
                        self.context.staff,
                        trust=register.fingerprint,
                        clock=self.context.app.clock,
                        station="admin",
                    )
        except (KioskError, OSError) as error:
            self.banner.show_result(Tone.ERROR, _("Not imported"), str(error))
            return
        self.refresh()
        self.banner.show_result(
            Tone.OK,
            _("Register of {event} imported: {new} new, {replaced} replaced.").format(
                event=result.event_code, new=result.new, replaced=result.replaced
            ),
            _("Exited, refused in this event's catalog: {codes}.").format(
                codes=", ".join(result.exits)
            )
            if result.exits
            else "",
        )
