"""The merchant station in the event app: packs out to the booths, bundles back in.

Booths run offline in booth mode (``kiosk booth``, ``ui.booth_window``), on their own
database; the event app is where the coordinator exports each merchant's pack and imports
the bundles the booths bring back on a USB stick. This page says so and does both.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.boundedjson import naming, read_head
from kiosk.changeset import Changes
from kiosk.errors import KioskError
from kiosk.files import write_atomic
from kiosk.i18n import _
from kiosk.merchant_pack import Pack
from kiosk.permissions import Action
from kiosk.redemption_bundle import MAX_BYTES as BUNDLE_BYTES
from kiosk.redemption_bundle import BundleError
from kiosk.roles import Station
from kiosk.services.booths import (
    BundleImport,
    conflict_label,
    export_pack,
    import_bundle,
    merchants,
)
from kiosk.storage import file_error
from ui.approval import approval_for
from ui.context import StationContext
from ui.language import FILE_DIALOG
from ui.operations import Ran, run
from ui.stations.base import StationPage
from ui.theme import is_large_print
from ui.widgets import ResultBanner, Tone


class Files:
    """File dialogs, replaced in tests."""

    @staticmethod
    def save_pack(parent: QWidget, suggested: str) -> str | None:
        path, _filter = QFileDialog.getSaveFileName(
            parent,
            _("Export the merchant pack"),
            suggested,
            _("Merchant packs (*.pack)"),
            options=FILE_DIALOG,
        )
        return path or None

    @staticmethod
    def open_bundle(parent: QWidget) -> str | None:
        path, _filter = QFileDialog.getOpenFileName(
            parent,
            _("Import a redemption bundle"),
            "",
            _("Bundles (*.json);;All (*)"),
            options=FILE_DIALOG,
        )
        return path or None


class MerchantStation(StationPage):
    station = Station.MERCHANT

    def __init__(self, context: StationContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 18)
        title = QLabel(self.title())
        title.setProperty("role", "title")
        layout.addWidget(title)
        text = QLabel(
            _(
                "Merchant booths work offline in booth mode: on the booth laptop run "
                "“kiosk booth”, install the merchant's pack, type your name, and scan. "
                "Here the coordinator exports each merchant's pack (with the event "
                "passphrase) and imports the redemption bundles the booths bring back."
            )
        )
        text.setWordWrap(True)
        layout.addWidget(text)
        self.banner = ResultBanner()
        layout.addWidget(self.banner)

        row = QHBoxLayout()
        row.addWidget(QLabel(_("Merchant")))
        self.merchant = QComboBox()
        self.merchant.setObjectName("pack_merchant")
        # Its choice whole ("M01 康宁体检中心"), never squeezed by the row.
        self.merchant.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.merchant.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
        row.addWidget(self.merchant)
        if is_large_print():  # the passphrase and the key on a line of their own
            row.addStretch(1)
            layout.addLayout(row)
            row = QHBoxLayout()
        row.addWidget(QLabel(_("Event passphrase")))
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("pack_passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        row.addWidget(self.passphrase)
        self.export_button = QPushButton(_("Export merchant pack…"))
        self.export_button.setObjectName("export_pack")
        self.export_button.setProperty("role", "primary")
        self.export_button.clicked.connect(self.export_pack)
        row.addWidget(self.export_button)
        row.addStretch(1)
        layout.addLayout(row)

        self.import_button = QPushButton(_("Import redemption bundle…"))
        self.import_button.setObjectName("import_bundle")
        self.import_button.clicked.connect(self.import_bundle)
        layout.addWidget(self.import_button)
        layout.addStretch(1)

    def load(self) -> None:
        current = self.merchant.currentData()
        self.merchant.clear()
        for code, name in merchants(self.context.uow()):
            self.merchant.addItem(f"{code} {name}", code)
        if current:
            self.merchant.setCurrentIndex(max(0, self.merchant.findData(current)))

    def export_pack(self) -> None:
        code = self.merchant.currentData()
        if not code:
            return
        path = Files.save_pack(self, f"{code}.pack")
        if not path:
            return

        def refused(error: KioskError) -> bool:
            self.banner.show_result(Tone.ERROR, _("Pack not exported"), str(error))
            return True

        passphrase = self.passphrase.text()  # read here: the call runs off the GUI thread

        def exported(ran: Ran[tuple[bytes, Pack]]) -> None:
            if ran.ok and ran.value is not None:
                self._write_pack(path, *ran.value)

        run(
            self,
            lambda: export_pack(
                self.context.uow(),
                code,
                passphrase,
                self.context.staff,
                clock=self.context.app.clock,
            ),
            failed=refused,
            then=exported,
        )

    def _write_pack(self, path: str, data: bytes, pack: Pack) -> None:
        try:
            write_atomic(Path(path), data)
        except OSError as error:
            self.banner.show_result(
                Tone.ERROR, _("Pack not exported"), str(file_error(error, path))
            )
            return
        self.passphrase.clear()
        self.banner.show_result(
            Tone.OK,
            _("Pack exported"),
            _("{merchant}: {offers} offers, {revoked} voided slips, written to {path}.").format(
                merchant=pack.merchant_name,
                offers=len(pack.offers),
                revoked=len(pack.revoked),
                path=path,
            ),
        )

    def import_bundle(self) -> None:
        path = Files.open_bundle(self)
        if not path:
            return
        go, approval = approval_for(
            self, self.context, Action.IMPORT_BUNDLE, station=Station.MERCHANT
        )
        if not go:
            return
        try:
            bundle = read_head(Path(path), BUNDLE_BYTES)
        except OSError as error:
            self.banner.show_result(Tone.ERROR, _("Bundle not imported"), str(error))
            return

        def refused(error: KioskError) -> bool:
            self.banner.show_result(Tone.ERROR, _("Bundle not imported"), str(error))
            return True

        def imported() -> BundleImport:
            with naming(Path(path).name, BundleError):
                return import_bundle(
                    self.context.uow(),
                    bundle,
                    self.context.staff,
                    approval=approval,
                    clock=self.context.app.clock,
                    station=Station.MERCHANT,
                )

        run(
            self,
            imported,
            failed=refused,
            changes=Changes(setup=True),
            then=lambda ran: self._imported(ran.value) if ran.ok and ran.value else None,
        )

    def _imported(self, result: BundleImport) -> None:
        conflicts = "; ".join(
            _("slip {serial}: {reason}").format(serial=c.serial, reason=conflict_label(c.conflict))
            for c in result.conflicts
        )
        self.banner.show_result(
            Tone.WARN if result.conflicts else Tone.OK,
            _("Bundle imported"),
            result.counts() + (" " + conflicts if conflicts else ""),
        )
