"""The merchant booth window (``kiosk booth``): scan a slip, see at once whether to serve.

A booth has no sign-in: staff type their name once per shift (the day's; no redemption is
recorded without it, and a new day asks again), and the booth's own file
(``kiosk.booth_laptop``) holds the pack and the redemptions. On the venue LAN ("Booth gateway…",
``kiosk.booth_laptop.online``) each slip is also checked and recorded in the event database
through the booth gateway before serving (the booth holds no database address); a banner says
whether the booth is online, or offline and catching up later. The
verdict fills the top of the screen in colour, words and sound; the scan field is ready again
at once. A valid slip waits for Enter (or the Redeem button) unless "redeem at once" is on;
waiting is blue with a dashed border and no sound, served is green with "✓" and a tone, so the
two never look alike.
F11 toggles full screen, so a tablet on a stand shows nothing else. All rules are in
``kiosk.booth_laptop.booth``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtNetwork import QTcpSocket
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.booth_laptop.booth import Booth, ScanResult, describe, slip_number
from kiosk.booth_laptop.online import OnlineBooth, gateway_ca, gateway_url, set_gateway
from kiosk.booth_laptop.store import open_booth_database
from kiosk.boundedjson import naming, read_head
from kiosk.clock import Clock
from kiosk.db import default_data_dir
from kiosk.errors import KioskError, OutcomeUnknown
from kiosk.i18n import LANGUAGES, _
from kiosk.labels import feedback_category_label
from kiosk.merchant_pack import MAX_BYTES as PACK_BYTES
from kiosk.merchant_pack import PackError
from kiosk.models import FeedbackCategory
from kiosk.slipcode import Verdict
from ui.camera import CameraScanner
from ui.connection import ConnectionDialog
from ui.disk_space import DiskBanner, DiskWatch
from ui.language import FILE_DIALOG, apply_language
from ui.requests import PendingRequests
from ui.settings import Settings
from ui.theme import apply_theme, fit_rows, is_large_print
from ui.widgets import ResultBanner, ScanField, Sounds, Tone

LIST_ROWS = 100  # the latest redemptions on screen; the totals count the whole day
CONFIRM_GUARD_S = 0.3  # an Enter this soon after a scan is the scanner's CR LF, not a person
GATEWAY_POLL_MS = 2_000  # online: is the gateway still there, and is anything left to send
GATEWAY_RETRY_MS = 3_000  # offline: knock again (a TCP connection, without waiting)
GATEWAY_KNOCK_MS = 2_000  # as the booth's own connect timeout
LAN_STYLE = (
    "QLabel#lan_status {{ background: {bg}; color: {fg}; border-bottom: 2px solid {line}; "
    "padding: 8px 16px; font-weight: bold; }}"
)


class VerdictBanner(ResultBanner):
    """The verdict, read from 3 m in either print size: a big sign, the words at 40 pt and
    the colour, so serve, wait and refuse never differ by colour alone."""

    headline_pt = 40
    detail_pt = 20
    sign_pt = 60
    # Served, waiting for Enter, scan again, do not serve: one sign each.
    SIGNS: ClassVar[dict[Tone, str]] = {
        Tone.OK: "✓",
        Tone.INFO: "⏎",
        Tone.WARN: "⚠",
        Tone.ERROR: "×",
    }

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.symbol = QLabel("")
        self.symbol.setObjectName("banner_sign")
        self.symbol.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.row.insertWidget(0, self.symbol, 0, Qt.AlignmentFlag.AlignVCenter)
        self.row.setSpacing(16)

    def show_result(self, tone: Tone, headline: str, detail: str = "") -> None:
        sign = self.SIGNS[tone]
        self.symbol.setText(sign)
        # The sign once, big: "✓ Redeemed" (the command line's words) shows as ✓ + "Redeemed".
        super().show_result(tone, headline.removeprefix(sign).lstrip(), detail)

    def _style(self, tone: Tone) -> None:
        super()._style(tone)
        self.setStyleSheet(
            self.styleSheet()
            + f" QLabel#banner_sign {{ font-size: {self.sign_pt}pt; font-weight: bold; }}"
        )

    def _fit_height(self) -> None:
        """The words sit beside the sign: wrapped at what is left of the width, and never
        lower than the sign."""
        margins = self.row.contentsMargins()
        inner = self.width() - margins.left() - margins.right() - 2 * self.frameWidth()
        words = inner - self.symbol.sizeHint().width() - self.row.spacing()
        if words <= 0:
            return
        height = self.headline.heightForWidth(words)
        if self.detail.isVisibleTo(self):
            height += self.words.spacing() + self.detail.heightForWidth(words)
        height = max(height, self.symbol.sizeHint().height())
        self._grow_to(height + margins.top() + margins.bottom() + 2 * self.frameWidth())


def tone_for(result: ScanResult) -> Tone:
    if result.verdict == Verdict.VALID:
        return Tone.OK if result.redeemed else Tone.INFO  # served vs. waiting for Enter
    if result.verdict == Verdict.UNREADABLE:
        return Tone.WARN  # scan again; nothing wrong with the customer
    return Tone.ERROR


class ManualEntryDialog(QDialog):
    """Typing a code by hand when the QR is damaged."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Type a slip code"))
        layout = QVBoxLayout(self)
        hint = QLabel(
            _(
                "Type the code starting with KX (spaces and lower case are fine). A slip "
                "number alone cannot be checked offline."
            )
        )
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.text = QPlainTextEdit()
        self.text.setObjectName("manual_code")
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    @classmethod
    def ask(cls, parent: QWidget) -> str | None:
        """The typed code, or None when cancelled. Tests replace this."""
        dialog = cls(parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.text.toPlainText()


class ComplaintDialog(QDialog):
    """A customer's complaint on the spot (issue #21): what it is about, in their words."""

    def __init__(self, slip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Complaint about slip {number}").format(number=slip))
        layout = QVBoxLayout(self)
        heading = QLabel(self.windowTitle())  # in the body too: a title bar is not always shown
        heading.setProperty("role", "subtitle")
        layout.addWidget(heading)
        hint = QLabel(
            _(
                "What does the customer complain of? It goes to the event with the bundle; "
                "the bank reviews its merchants on it."
            )
        )
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.category = QComboBox()
        self.category.setObjectName("complaint_category")
        # No category chosen in advance: a complaint filed as "refused" because nobody changed
        # the first entry would count against the merchant for the wrong thing.
        self.category.addItem(_("Choose what it is about…"), None)
        for category in FeedbackCategory:
            self.category.addItem(feedback_category_label(category), category.value)
        layout.addWidget(self.category)
        self.text = QPlainTextEdit()
        self.text.setObjectName("complaint_text")
        self.text.setPlaceholderText(_("The customer's words"))
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setEnabled(False)
        self.category.currentIndexChanged.connect(
            lambda _index: self.ok.setEnabled(self.category.currentData() is not None)
        )

    @classmethod
    def ask(cls, parent: QWidget, slip: str) -> tuple[str, str] | None:
        """(category, complaint), or None when cancelled. Tests replace this."""
        dialog = cls(slip, parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return str(dialog.category.currentData()), dialog.text.toPlainText()


class FileChooser:
    """File dialogs, replaced in tests."""

    @staticmethod
    def pack(parent: QWidget) -> str | None:
        path, _filter = QFileDialog.getOpenFileName(
            parent,
            _("Install a merchant pack"),
            "",
            _("Merchant packs (*.pack *.json);;All (*)"),
            options=FILE_DIALOG,
        )
        return path or None

    @staticmethod
    def bundle(parent: QWidget, suggested: str) -> str | None:
        path, _filter = QFileDialog.getSaveFileName(
            parent,
            _("Export the redemption bundle"),
            suggested,
            _("Bundles (*.json)"),
            options=FILE_DIALOG,
        )
        return path or None


class _EscapeCancels(QObject):
    def __init__(self, panel: BoothPanel) -> None:
        super().__init__(panel)
        self.panel = panel

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            self.panel.cancel()
        return False


class BoothPanel(QWidget):
    """Verdict banner, scan field, confirmation, today's list with totals, export."""

    scanned = Signal()  # after every scan or confirmation: the LAN state may have changed

    def __init__(
        self,
        booth: Booth,
        settings: Settings,
        parent: QWidget | None = None,
        lan: OnlineBooth | None = None,
        requests: PendingRequests | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.booth = booth
        self.lan = lan  # online on the venue LAN: every slip checked in the event database
        # A redemption's request id, per slip code, until its outcome is known: kept by the
        # window, so a language switch does not forget it (kiosk.idempotency).
        self.requests = requests if requests is not None else PendingRequests()
        self.settings = settings
        self.sounds = Sounds(self)
        self.pending: ScanResult | None = None
        self._scanned_at = 0.0
        info = booth.info
        assert info is not None
        self.zone = ZoneInfo(info.timezone)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 14, 20, 14)
        self.clock_warning = QLabel("")
        self.clock_warning.setObjectName("clock_warning")
        self.clock_warning.setProperty("role", "error")
        self.clock_warning.setWordWrap(True)
        layout.addWidget(self.clock_warning)

        duty = QHBoxLayout()
        duty.addWidget(QLabel(_("Staff on duty:")))
        # A ScanField, so a slip scanned while this field has the keys is taken as a scan,
        # not as a name.
        self.staff = ScanField()
        self.staff.setObjectName("booth_staff")
        self.staff.setClearButtonEnabled(False)  # no length limit: a whole code may arrive
        self.staff.setText(self._shift_name())
        self.staff.setPlaceholderText(_("your name, once per shift"))
        # Wide enough for its hint in either language and print size (it was cut: "custo…").
        hint = self.staff.fontMetrics().horizontalAdvance(self.staff.placeholderText())
        self.staff.setMinimumWidth(hint + 2 * 8 + 4 + 12)
        self.staff.setMaximumWidth(max(360, self.staff.minimumWidth()))
        # Enter saves the name and hands the keys to the scan field; leaving the field
        # otherwise only saves it. A window losing activation (a notification, the input
        # method's window) ends the editing too: moving the keys then sent the rest of the
        # name into the scan field and kept the first character as the name.
        self.staff.editingFinished.connect(self._keep_staff)
        self.staff.submitted.connect(lambda _text: self._save_staff())
        self.staff.scanned.connect(self._scanned_into_name)
        duty.addWidget(self.staff)
        large = is_large_print()
        self.auto = QCheckBox(_("Redeem at once (no confirmation)"))
        self.auto.setObjectName("auto_redeem")
        self.auto.setChecked(settings.booth_auto_redeem)
        self.auto.toggled.connect(self._save_auto)
        duty.addWidget(self.auto)
        # An immediate service (a meal, a ticket handed over) is delivered at the redemption.
        self.deliver_at_once = QCheckBox(_("Service delivered at redemption"))
        self.deliver_at_once.setObjectName("deliver_on_redeem")
        self.deliver_at_once.setChecked(booth.delivers_on_redeem)
        self.deliver_at_once.toggled.connect(self._save_deliver_at_once)
        if not large:  # large print: beside the tab of today's list, where it has room
            duty.addWidget(self.deliver_at_once)
        duty.addStretch(1)
        layout.addLayout(duty)

        scan_row = QHBoxLayout()
        self.field = ScanField()
        self.field.setPlaceholderText(_("Scan the slip's QR code"))
        self.field.setMinimumHeight(48)
        self.field.scanned.connect(self.on_code)
        self.field.submitted.connect(self.on_code)
        self.field.installEventFilter(_EscapeCancels(self))
        scan_row.addWidget(self.field, 1)
        self.camera = CameraScanner(self)
        self.camera.decoded.connect(self.on_code)
        self.camera.failed.connect(lambda text: self._show(Tone.WARN, _("Camera"), text))
        self.camera_button = QPushButton(_("Camera"))
        self.camera_button.setObjectName("camera")
        self.camera_button.setCheckable(True)
        self.camera_button.setVisible(CameraScanner.available())
        self.camera_button.toggled.connect(self.toggle_camera)
        scan_row.addWidget(self.camera_button)
        self.manual_button = QPushButton(_("Type a code"))
        self.manual_button.setObjectName("manual")
        self.manual_button.clicked.connect(self.manual_entry)
        scan_row.addWidget(self.manual_button)
        layout.addLayout(scan_row)

        # The verdict (or the idle hint) and the redeem buttons.
        verdict_page = QWidget()
        verdict = QVBoxLayout(verdict_page)
        verdict.setContentsMargins(0, 0, 0, 0)
        self.banner = VerdictBanner()
        self.banner.setMinimumHeight(170)
        verdict.addWidget(self.banner)
        self.idle = QLabel("")
        self.idle.setObjectName("idle")
        self.idle.setProperty("role", "subtitle")
        self.idle.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.idle.setMinimumHeight(170)
        verdict.addWidget(self.idle)

        confirm = QHBoxLayout()
        self.redeem_button = QPushButton(_("Redeem (Enter)"))
        self.redeem_button.setObjectName("redeem")
        self.redeem_button.setProperty("role", "primary")
        self.redeem_button.setMinimumHeight(56)
        self.redeem_button.clicked.connect(self.confirm)
        self.cancel_button = QPushButton(_("Do not redeem (Esc)"))
        self.cancel_button.setObjectName("cancel")
        self.cancel_button.setMinimumHeight(56)
        self.cancel_button.clicked.connect(self.cancel)
        confirm.addWidget(self.redeem_button, 2)
        confirm.addWidget(self.cancel_button, 1)
        verdict.addLayout(confirm)
        verdict.addStretch(1)

        # Today's list, its totals and what is done with a chosen slip.
        day_page = QWidget()
        day = QVBoxLayout(day_page)
        day.setContentsMargins(0, 0, 0, 0)
        list_head = QHBoxLayout()
        self.summary = QLabel("")
        self.summary.setObjectName("day_summary")
        self.summary.setProperty("role", "subtitle")
        self.summary.setWordWrap(True)  # large print: never wider than the screen
        list_head.addWidget(self.summary, 1)
        self.export_button = QPushButton(_("Export bundle…"))
        self.export_button.setObjectName("export_bundle")
        self.export_button.clicked.connect(self.export_bundle)
        list_head.addWidget(self.export_button)
        self.install_button = QPushButton(_("Install pack update…"))
        self.install_button.setObjectName("install_update")
        self.install_button.clicked.connect(self.install_update)
        list_head.addWidget(self.install_button)
        day.addLayout(list_head)
        after = QHBoxLayout()
        chosen = QLabel(_("For the slip chosen in the list:"))
        chosen.setWordWrap(True)  # large print: two lines, so four buttons fit beside it
        after.addWidget(chosen)
        self.delivered_button = QPushButton(_("Service delivered"))
        self.delivered_button.setObjectName("service_delivered")
        self.delivered_button.clicked.connect(self.service_delivered)
        after.addWidget(self.delivered_button)
        self.complaint_button = QPushButton(_("Complaint…"))
        self.complaint_button.setObjectName("complaint")
        self.complaint_button.clicked.connect(self.complaint)
        after.addWidget(self.complaint_button)
        after.addStretch(1)
        if large:  # one row fewer: the summary has the line to itself
            after.addWidget(self.export_button)
            after.addWidget(self.install_button)
        day.addLayout(after)
        self.totals = QLabel("")
        self.totals.setObjectName("day_totals")
        self.totals.setWordWrap(True)
        day.addWidget(self.totals)
        self.table = QTableWidget(0, 7)
        self.table.setObjectName("day_list")
        self.table.setHorizontalHeaderLabels(
            [
                _("Time"),
                _("Slip"),
                _("Service"),
                _("Customer"),
                _("Staff"),
                _("Delivered"),
                _("Complaints"),
            ]
        )
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        fit_rows(self.table)
        # A row is chosen with the mouse or a finger for "Service delivered" or "Complaint…";
        # the keys stay in the scan field.
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.table.horizontalHeader()
        # Sized once per refresh, not per cell: ResizeToContents re-measured every row on
        # every cell set, which took seconds for a busy day's list.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        day.addWidget(self.table, 1)
        # Large print has no room for the verdict and the list at once on a laptop: each has
        # its tab, a scan shows the verdict's; the scan field above keeps the keys.
        self.tabs: QTabWidget | None = None
        if large:
            self.tabs = QTabWidget()
            self.tabs.setObjectName("booth_tabs")
            self.tabs.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.tabs.tabBar().setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.tabs.addTab(verdict_page, _("Verdict"))
            self.tabs.addTab(day_page, _("Today's list"))
            self.tabs.setCornerWidget(self.deliver_at_once, Qt.Corner.TopRightCorner)
            self.tabs.currentChanged.connect(lambda _index: self.field.setFocus())
            layout.addWidget(self.tabs, 1)
        else:
            layout.addWidget(verdict_page)
            layout.addWidget(day_page, 1)
        # The verdict is painted first, the list right after; a timer owned by the panel dies
        # with it, so a refresh never reaches a closed window.
        self.refresh_timer = QTimer(self)
        self.refresh_timer.setSingleShot(True)
        self.refresh_timer.setInterval(0)
        self.refresh_timer.timeout.connect(self.refresh)
        self._set_pending(None)
        self._show_idle_hint()
        self.refresh()
        self.focus_start()

    def focus_start(self) -> None:
        """The keys go to the scan field, or to the name field at the start of a shift."""
        if self._staff_name():
            self.field.setFocus()
        else:
            self.staff.setFocus()

    # -- settings ----------------------------------------------------------------------------

    def _today(self) -> str:
        return self.booth.clock.now().astimezone(self.zone).date().isoformat()

    def _shift_name(self) -> str:
        """The name typed for today's shift; "" on a new day (the next shift types theirs)."""
        if self.settings.booth_staff_day != self._today():
            return ""
        return self.settings.booth_staff

    def _keep_staff(self) -> None:
        """The name as typed so far, kept for the shift; the keys stay where they are."""
        name = self.staff.text().strip()[:32]
        if self.staff.text() != name:
            self.staff.setText(name)
        self.settings.booth_staff = name
        self.settings.booth_staff_day = self._today() if name else ""
        self._show_idle_hint()

    def _save_staff(self) -> None:
        """Enter in the name field: the name is kept and the scan field has the keys."""
        self._keep_staff()
        self.field.setFocus()

    def _scanned_into_name(self, text: str) -> None:
        """A slip scanned while the name field had the keys: a scan, never a name."""
        saved = self._shift_name()
        code = text[len(saved) :] if saved and text.startswith(saved) else text
        self.staff.setText(saved)
        self.staff.detector.reset()
        self.field.setFocus()
        self.on_code(code)

    def _show_idle_hint(self) -> None:
        self.idle.setText(
            _("Ready: scan a slip.")
            if self._staff_name()
            else _("Start of the shift: type your name above, then scan.")
        )

    def _ask_name(self) -> None:
        """No name for this shift yet: say so and put the keys in the name field."""
        self.staff.setFocus()
        self.staff.selectAll()

    def _save_auto(self, on: bool) -> None:
        self.settings.booth_auto_redeem = on
        self.field.setFocus()

    # -- scanning ----------------------------------------------------------------------------

    def on_code(self, text: str) -> None:
        """A scan, typed code or camera decode; Enter on an empty field confirms."""
        self.field.clear()
        self.field.detector.reset()
        if not text.strip():
            if self.pending is not None and time.monotonic() - self._scanned_at > CONFIRM_GUARD_S:
                self.confirm()
            return
        self._scanned_at = time.monotonic()
        self.handle(text)

    def handle(self, text: str) -> ScanResult:
        if text.strip().isdigit():
            self._set_pending(None)
            self._show(
                Tone.WARN,
                _("A slip number alone cannot be checked"),
                _(
                    "Scan the QR or type the whole code. If the QR is damaged, the activation "
                    "desk reprints the slip."
                ),
            )
            return ScanResult(Verdict.UNREADABLE, code=text)
        named = bool(self._staff_name())
        redeem = self.auto.isChecked() and named
        try:
            result = (self.lan or self.booth).scan(
                text,
                self._staff_name(),
                redeem=redeem,
                request_id=self.requests.id_for(text.strip()) if redeem else None,
            )
        except KioskError as error:
            self._not_recorded(text.strip(), error)
            return ScanResult(Verdict.UNREADABLE, code=text)
        if redeem:
            self.requests.settle(text.strip())
        self.show_result(result)
        if self.pending is not None and not named:
            self._show(
                Tone.INFO,
                self.banner.headline.text(),
                "\n".join(
                    (
                        self.banner.detail.text(),
                        _("Type your name first (once per shift), then press Enter to redeem."),
                    )
                ),
            )
            self._ask_name()
        self.scanned.emit()
        return result

    def show_result(self, result: ScanResult) -> None:
        headline, detail = describe(result, str(self.zone))
        self._show(tone_for(result), headline, detail)
        waiting = result.verdict == Verdict.VALID and not result.redeemed
        self._set_pending(result if waiting else None)
        if result.redeemed:
            self.refresh_timer.start()

    def confirm(self) -> None:
        pending = self.pending
        if pending is None:
            return
        if not self._staff_name():  # the service would refuse: ask here, keep the slip waiting
            self._show(
                Tone.WARN,
                _("Type your name first"),
                _(
                    "Every redemption records who served the customer. Type your name once "
                    "per shift, then press Enter to redeem."
                ),
            )
            self._ask_name()
            return
        self._set_pending(None)
        code = pending.code.strip()
        try:
            result = (self.lan or self.booth).redeem(
                pending.code, self._staff_name(), request_id=self.requests.id_for(code)
            )
        except KioskError as error:
            self._not_recorded(code, error, pending)
            return
        self.requests.settle(code)
        self.show_result(result)
        self.scanned.emit()

    def _not_recorded(
        self, code: str, error: KioskError, pending: ScanResult | None = None
    ) -> None:
        """Nothing was stored (a full disk, said in words): do not serve. The slip stays ready
        to redeem, so Enter tries the same request again once there is room."""
        if not isinstance(error, OutcomeUnknown):
            self.requests.settle(code)
        self._show(Tone.ERROR, _("Not redeemed: do not serve yet"), str(error))
        self._set_pending(pending)

    def cancel(self) -> None:
        if self.pending is not None:
            self._set_pending(None)
            self.banner.clear()
            self.idle.setVisible(True)
        self.field.setFocus()

    def _set_pending(self, result: ScanResult | None) -> None:
        self.pending = result
        self.redeem_button.setVisible(result is not None)
        self.cancel_button.setVisible(result is not None)
        self.field.setFocus()

    def _staff_name(self) -> str:
        return self.staff.text().strip()

    def _show(self, tone: Tone, headline: str, detail: str) -> None:
        if self.tabs is not None:
            self.tabs.setCurrentIndex(0)
        self.idle.setVisible(False)
        self.banner.show_result(tone, headline, detail)
        self.sounds.play(tone)

    def manual_entry(self) -> None:
        text = ManualEntryDialog.ask(self)
        self.field.setFocus()
        if text is not None and text.strip():
            self.handle(text)

    def toggle_camera(self, on: bool) -> None:
        if on and not self.camera.running:
            self.camera.start()
        elif not on:
            self.camera.stop()
        self.field.setFocus()

    # -- the day -----------------------------------------------------------------------------

    def refresh(self) -> None:
        warning = self.booth.clock_warning()
        self.clock_warning.setText(warning or "")
        self.clock_warning.setVisible(bool(warning))
        day = self.booth.day_list(limit=LIST_ROWS)
        count = sum(t.redemptions for t in day.totals)
        self.summary.setText(
            _("Today ({day}): {n} redeemed · {pending} not yet sent to the event").format(
                day=day.day.isoformat(), n=count, pending=day.pending
            )
        )
        self.totals.setText(
            "   ".join(
                _("{offer}: {n} ({quantity} pcs, {points:,} points)").format(
                    offer=t.offer_name, n=t.redemptions, quantity=t.quantity, points=t.points
                )
                for t in day.totals
            )
            or _("No redemptions yet today.")
        )
        delivered, complaints = self.booth.after(
            [row.serial for row in day.rows if row.serial is not None]
        )
        chosen = self.chosen_serial()
        self.table.setUpdatesEnabled(False)
        self.table.setRowCount(len(day.rows))
        for r, row in enumerate(day.rows):
            at = row.redeemed_at.astimezone(self.zone).strftime("%H:%M") if row.redeemed_at else ""
            done = delivered.get(row.serial) if row.serial is not None else None
            values = [
                at,
                slip_number(row.serial),
                f"{row.offer_name} × {row.quantity}",
                row.masked_name,
                row.redeemed_by,
                done.astimezone(self.zone).strftime("%H:%M") if done else "",
                str(complaints.get(row.serial or 0, "")),
            ]
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, row.serial)
                self.table.setItem(r, c, item)
            if row.serial == chosen:
                self.table.selectRow(r)
        self.table.resizeColumnsToContents()
        self.table.setUpdatesEnabled(True)

    # -- after the redemption (issue #21) ----------------------------------------------------

    def _save_deliver_at_once(self, on: bool) -> None:
        self.booth.set_delivers_on_redeem(on)
        self.field.setFocus()

    def chosen_serial(self) -> int | None:
        """The slip of the row chosen in today's list, if any."""
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        serial = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return int(serial) if serial is not None else None

    def _chosen_or_say(self) -> int | None:
        serial = self.chosen_serial()
        if serial is None:
            self._show(
                Tone.WARN,
                _("Choose a slip"),
                _("Choose the customer's slip in today's list first."),
            )
        return serial

    def service_delivered(self) -> None:
        """The chosen slip's service was delivered now."""
        serial = self._chosen_or_say()
        self.field.setFocus()
        if serial is None:
            return
        try:
            at = (self.lan or self.booth).deliver(serial, self._staff_name())
        except KioskError as error:
            self._show(Tone.ERROR, _("Not recorded"), str(error))
            return
        self._show(
            Tone.OK,
            _("Service delivered"),
            _("Slip {number}: service delivered at {time}.").format(
                number=slip_number(serial), time=at.astimezone(self.zone).strftime("%H:%M")
            ),
        )
        self.scanned.emit()
        self.refresh()

    def complaint(self) -> None:
        """The customer complains on the spot about the chosen slip's service."""
        serial = self._chosen_or_say()
        if serial is None:
            self.field.setFocus()
            return
        said = ComplaintDialog.ask(self, slip_number(serial))
        self.field.setFocus()
        if said is None:
            return
        category, text = said
        try:
            (self.lan or self.booth).complain(serial, category, text, self._staff_name())
        except KioskError as error:
            self._show(Tone.ERROR, _("Not recorded"), str(error))
            return
        self._show(
            Tone.OK,
            _("Complaint recorded"),
            _("Slip {number}: {category}. It goes to the event with the bundle.").format(
                number=slip_number(serial), category=feedback_category_label(category)
            ),
        )
        self.scanned.emit()
        self.refresh()

    def export_bundle(self) -> None:
        info = self.booth.info
        assert info is not None
        stamp = self.booth.clock.now().astimezone(self.zone).strftime("%Y%m%d-%H%M")
        path = FileChooser.bundle(self, f"redemptions-{info.merchant_code}-{stamp}.json")
        self.field.setFocus()
        if not path:
            return
        try:
            count = self.booth.export(path)
        except KioskError as error:
            self._show(Tone.ERROR, _("Export failed"), str(error))
            return
        self._show(
            Tone.OK,
            _("Bundle exported"),
            _("{n} redemptions written to {path}.").format(n=count, path=path),
        )

    def install_update(self) -> None:
        path = FileChooser.pack(self)
        self.field.setFocus()
        if not path:
            return
        try:
            with naming(Path(path).name, PackError):
                result = self.booth.install(read_head(Path(path), PACK_BYTES))
        except (KioskError, OSError) as error:
            self._show(Tone.ERROR, _("Pack not installed"), str(error))
            return
        self._show(
            Tone.OK,
            _("Pack installed"),
            _("{new} more voided slips ({revoked} in all).").format(
                new=result.new_revocations, revoked=result.info.revoked
            ),
        )
        self.refresh()


class NoPackPage(QWidget):
    """A new booth: explains what to do and installs the pack file."""

    def __init__(self, on_install: object, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(60, 60, 60, 60)
        title = QLabel(_("This booth has no merchant pack yet"))
        title.setProperty("role", "title")
        layout.addWidget(title)
        text = QLabel(
            _(
                "The event coordinator gives each merchant a pack file (kiosk merchant-pack "
                "export). Install it once; the booth then verifies slips without a network."
            )
        )
        text.setWordWrap(True)
        layout.addWidget(text)
        self.button = QPushButton(_("Install a merchant pack…"))
        self.button.setObjectName("install_pack")
        self.button.setProperty("role", "primary")
        self.button.clicked.connect(on_install)  # type: ignore[arg-type]
        layout.addWidget(self.button, alignment=Qt.AlignmentFlag.AlignLeft)
        self.error = QLabel("")
        self.error.setObjectName("install_error")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        layout.addStretch(1)


class BoothWindow(QMainWindow):
    """Just the merchant station, on the booth's own database."""

    def __init__(self, booth: Booth, settings: Settings) -> None:
        super().__init__()
        self.booth = booth
        self.settings = settings
        self.panel: BoothPanel | None = None
        self.no_pack: NoPackPage | None = None
        self.lan: OnlineBooth | None = None
        self.poll = QTimer(self)
        self.poll.setSingleShot(True)
        self.poll.timeout.connect(self._poll_gateway)
        self._socket: QTcpSocket | None = None
        self.requests = PendingRequests()
        self.resize(1366, 800)  # run_app/run_booth then fit it to the screen
        # A booth's own disk: the booth file's folder and the app's data folder.
        self.disk_watch = DiskWatch(
            lambda: [self.booth.database.path, default_data_dir()],
            lambda: self.settings.low_space_mb * 1024 * 1024,
            self,
        )
        self.disk_watch.warning.connect(lambda text: self.disk_banner.show_warning(text))
        self.rebuild()
        self.go_online(gateway_url(booth))
        self.disk_watch.start()

    # -- online on the venue LAN --------------------------------------------------------------

    def go_online(self, url: str) -> None:
        """Work online through the booth gateway at ``url`` ("" = offline only)."""
        self.poll.stop()
        self._socket = None  # a knock still under way settles into nothing
        if self.lan is not None:
            self.lan.close()
            self.lan = None
        if url and self.booth.info is not None:
            try:
                self.lan = OnlineBooth(self.booth, url)
            except KioskError as error:  # an unreadable CA file: offline, said in the banner
                self.lan = None
                self.lan_banner.setToolTip(str(error))
            else:
                self.poll.start(0)
        if self.panel is not None:
            self.panel.lan = self.lan
        self.show_lan_state()

    def _poll_gateway(self) -> None:
        """Ask the gateway whether it answers, send what waits when it does, and ask again
        later. Offline (or at the start), a TCP connection is tried first without waiting
        (Qt's socket, in the event loop): a gateway laptop that is gone costs the scanning
        staff no frozen screen; only a gateway that accepts the connection is asked over
        HTTPS."""
        if self.lan is None:
            return
        if self.lan.online is not True:  # offline, or not tried yet
            self._knock()
            return
        self._ask_gateway()

    def _ask_gateway(self) -> None:
        if self.lan is None:
            return
        was = self.lan.online
        if self.lan.probe():
            self.catch_up()
        if self.lan.online != was:
            self.show_lan_state()
        self.poll.start(GATEWAY_POLL_MS if self.lan.online else GATEWAY_RETRY_MS)

    def _knock(self) -> None:
        assert self.lan is not None
        parts = urlsplit(self.lan.url)
        socket = QTcpSocket(self)
        self._socket = socket
        socket.connected.connect(lambda: self._knocked(socket, True))
        socket.errorOccurred.connect(lambda _error: self._knocked(socket, False))
        # The socket as the timer's context: once it is deleted (settled), no call comes.
        QTimer.singleShot(GATEWAY_KNOCK_MS, socket, lambda: self._knocked(socket, False))
        socket.connectToHost(
            parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
        )

    def _knocked(self, socket: QTcpSocket, answered: bool) -> None:
        if socket is not self._socket:  # settled already (connected, failed or timed out)
            return
        self._socket = None
        socket.abort()
        socket.deleteLater()
        if answered and self.lan is not None:
            self._ask_gateway()
        elif self.lan is not None:
            self.poll.start(GATEWAY_RETRY_MS)

    def catch_up(self) -> None:
        """Send what the event database has not got (the LAN is back, or was briefly away)."""
        if self.lan is None or self.lan.online is False:
            return
        try:
            result = self.lan.catch_up()
        except KioskError as error:  # another event's gateway: say so, stay offline
            self.lan.went_offline(error)
            result = None
        if result is not None and self.panel is not None:
            self.panel.refresh()
        self.show_lan_state()

    def show_lan_state(self) -> None:
        banner = self.lan_banner
        if self.lan is None:
            banner.setVisible(False)
            return
        where = self.lan.url
        if self.lan.online is False:
            banner.setStyleSheet(LAN_STYLE.format(bg="#fff3cd", fg="#5c3d00", line="#e0a800"))
            banner.setText(
                _(
                    "OFFLINE: the booth gateway ({url}) cannot be reached. Slips are judged "
                    "from the pack alone and kept on this laptop; they are sent when the LAN "
                    "is back."
                ).format(url=where)
            )
            banner.setToolTip(self.lan.error)
        else:
            banner.setStyleSheet(LAN_STYLE.format(bg="#e3f4e8", fg="#14532d", line="#2e8b57"))
            banner.setText(
                _(
                    "Online: every slip is checked with the event database through the booth "
                    "gateway ({url})."
                ).format(url=where)
            )
            banner.setToolTip("")
        banner.setVisible(True)

    def _try_gateway(self, url: str, ca_file: str) -> None:
        """The dialog's check: the gateway answers this booth's seal over TLS with that CA."""
        online = OnlineBooth(self.booth, url, ca_file=ca_file)
        try:
            online.ping()
        finally:
            online.close()

    def choose_event_database(self) -> None:
        current = self.lan.url if self.lan is not None else gateway_url(self.booth)
        dialog = ConnectionDialog(
            current,
            parent=self,
            for_booth=True,
            ca_file=gateway_ca(self.booth),
            try_gateway=self._try_gateway,
        )
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        url, ca_file = dialog.gateway or ("", gateway_ca(self.booth))
        set_gateway(self.booth, url, ca_file)
        self.go_online(url)

    def rebuild(self) -> None:
        root = QWidget()
        root.setObjectName("page")
        layout = QVBoxLayout(root)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        header = QFrame()
        header.setObjectName("header")
        row = QHBoxLayout(header)
        row.setContentsMargins(16, 8, 16, 8)
        info = self.booth.info
        title = _("Merchant booth")
        if info is not None:
            title = _("Merchant booth: {merchant} · {event}").format(
                merchant=info.merchant_name, event=info.event_name
            )
        self.setWindowTitle(title)
        name = QLabel(title)
        name.setObjectName("booth_title")
        name.setProperty("role", "subtitle")
        # A long merchant and event name wraps rather than widening the window past the
        # laptop's screen (the language switch and large print were cut off at 1366).
        name.setWordWrap(True)
        row.addWidget(name, 1)
        row.addWidget(QLabel(_("F11 full screen")))
        database = QPushButton(_("Booth gateway…"))
        database.setObjectName("booth_database")
        database.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        database.clicked.connect(self.choose_event_database)
        database.setVisible(info is not None)
        row.addWidget(database)
        self.language = QComboBox()
        self.language.setObjectName("language")
        for code, label in LANGUAGES.items():
            self.language.addItem(label, code)
        self.language.setCurrentIndex(list(LANGUAGES).index(self.settings.language))
        self.language.currentIndexChanged.connect(self._on_language)
        self.language.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the scan field keeps the keys
        row.addWidget(self.language)
        # Large print, as in the event app: for staff who read the verdict from a step away.
        self.large = QCheckBox(_("Large print"))
        self.large.setObjectName("large_print")
        self.large.setChecked(self.settings.large_print)
        self.large.toggled.connect(self._on_large_print)
        self.large.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        row.addWidget(self.large)
        layout.addWidget(header)
        self.lan_banner = QLabel("")
        self.lan_banner.setObjectName("lan_status")
        self.lan_banner.setWordWrap(True)
        self.lan_banner.setVisible(False)
        layout.addWidget(self.lan_banner)
        self.disk_banner = DiskBanner()
        self.disk_banner.show_warning(self.disk_watch.text)
        layout.addWidget(self.disk_banner)
        if info is None:
            self.panel = None
            self.no_pack = NoPackPage(self.install_first)
            layout.addWidget(self.no_pack, 1)
        else:
            self.no_pack = None
            self.panel = BoothPanel(self.booth, self.settings, lan=self.lan, requests=self.requests)
            self.panel.scanned.connect(self.show_lan_state)
            layout.addWidget(self.panel, 1)
        self.setCentralWidget(root)
        if self.lan is not None:
            self.show_lan_state()
        if self.panel is not None:
            self.panel.focus_start()

    def install_first(self) -> None:
        path = FileChooser.pack(self)
        if not path:
            return
        try:
            with naming(Path(path).name, PackError):
                self.booth.install(read_head(Path(path), PACK_BYTES))
        except (KioskError, OSError) as error:
            assert self.no_pack is not None
            self.no_pack.error.setText(str(error))
            return
        self.rebuild()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_F11:
            if self.isFullScreen():
                self.showMaximized()
            else:
                self.showFullScreen()
            event.accept()
            return
        super().keyPressEvent(event)

    def _on_language(self, index: int) -> None:
        code = self.language.itemData(index)
        self.settings.language = code
        apply_language(code)
        self.rebuild()

    def _on_large_print(self, on: bool) -> None:
        self.settings.large_print = on
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, on)
        self.rebuild()

    def closeEvent(self, event: QEvent) -> None:  # type: ignore[override]
        self.disk_watch.stop()
        self._socket = None
        if self.panel is not None:
            self.panel.camera.stop()
        self.poll.stop()
        if self.lan is not None:
            self.lan.close()
        super().closeEvent(event)  # type: ignore[arg-type]


def run_booth(path: str | Path, language: str | None = None) -> int:
    from ui.app import (
        ENV_EXIT_WHEN_READY,
        _report_ready,
        close_on_terminate,
        ensure_application,
        fit_to_screen,
    )

    app = ensure_application()
    settings = Settings()
    apply_language(language or settings.language)
    if language:
        settings.language = language
    apply_theme(app, settings.large_print)
    try:
        database = open_booth_database(path)
    except KioskError as error:
        print(_("kiosk: {message}").format(message=error), file=sys.stderr)
        if not os.environ.get(ENV_EXIT_WHEN_READY):
            QMessageBox.critical(None, _("Merchant booth"), str(error))
        return 1
    from ui.recovery import Recovery

    recovery = Recovery(kind="booth")
    previous = recovery.begin(f"sqlite:///{path}")
    recovery.watch_faults()
    window = BoothWindow(Booth(database, Clock()), settings)
    fit_to_screen(window)
    close_on_terminate(window)
    window.showMaximized()
    if previous is not None and window.panel is not None:
        # Every redemption the booth showed as done is in its file: say so, without a modal
        # box that the next scan's Enter would dismiss unread.
        window.panel.banner.show_result(
            Tone.WARN,
            _("The booth closed unexpectedly at about {time}").format(
                time=previous.last_seen.strftime("%H:%M")
            ),
            _("Every redemption it showed as done is kept; go on scanning.")
            + (f" {previous.crash_log}" if previous.crash_log else ""),
        )
    if os.environ.get(ENV_EXIT_WHEN_READY):
        QTimer.singleShot(0, _report_ready)
    code = app.exec()
    database.dispose()
    recovery.end()
    return code
