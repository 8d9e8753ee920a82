"""The activation desk's questions to staff (passphrase, void reason, reprint, the gate's
override, leaving with a cart not issued), in one class tests answer."""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox, QWidget

from kiosk.i18n import _
from kiosk.services.gate import Gate
from ui.stations.gate_panel import gate_headline


class Ask:
    """The desk's questions to staff, one place for tests to answer them."""

    @staticmethod
    def passphrase(parent: QWidget, demo: bool) -> str | None:
        hint = _("Demo event: the passphrase is demo-passphrase.") if demo else ""
        text, ok = QInputDialog.getText(
            parent,
            _("Unlock slip signing"),
            _("Event passphrase (asked once per sign-in).") + ("\n" + hint if hint else ""),
            QLineEdit.EchoMode.Password,
        )
        return text if ok else None

    @staticmethod
    def void_reason(parent: QWidget, serial: int) -> str | None:
        text, ok = QInputDialog.getText(
            parent,
            _("Void slip"),
            _("Why is slip No. {serial:06d} voided? Its points go back to the customer.").format(
                serial=serial
            ),
        )
        return text if ok else None

    @staticmethod
    def confirm_reprint(parent: QWidget, serial: int, copies: int) -> bool:
        answer = QMessageBox.question(
            parent,
            _("Print again"),
            _(
                "Print copy {n} of slip No. {serial:06d}? It is the same slip: the merchant "
                "accepts it once."
            ).format(n=copies + 1, serial=serial),
        )
        return answer == QMessageBox.StandardButton.Yes

    @staticmethod
    def confirm_override(parent: QWidget, gate: Gate) -> bool:
        """F9 on a closed gate: what is missing, where the customer goes, and whether to ask a
        supervisor to let them through now. No is the default: Enter does not override."""
        box = QMessageBox(parent)
        box.setObjectName("gate_override")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(_("Not ready for slips"))
        box.setText(gate_headline(gate))
        box.setInformativeText(
            "\n".join("× " + m.sentence for m in gate.missing)
            + "\n\n"
            + _(
                "A supervisor may let the customer through on the spot; it is recorded with "
                "the supervisor's name. Ask a supervisor now?"
            )
        )
        ask = box.addButton(_("Ask a supervisor…"), QMessageBox.ButtonRole.AcceptRole)
        not_now = box.addButton(_("Not now"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(not_now)
        box.setEscapeButton(not_now)
        box.exec()
        return box.clickedButton() is ask

    @staticmethod
    def confirm_leave(parent: QWidget) -> bool:
        answer = QMessageBox.question(
            parent,
            _("Cart not issued"),
            _("The cart has services that were not issued. Finish without them?"),
        )
        return answer == QMessageBox.StandardButton.Yes
