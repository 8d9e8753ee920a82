"""The redemption gate above the activation desk's steps: green when slips may be issued,
amber with each missing step and where to send the customer when not (``kiosk.services.gate``).
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from kiosk.i18n import _
from kiosk.services.gate import Gate, listing, requirement_label
from ui.theme import is_large_print
from ui.widgets import ResultBanner, Tone


def gate_headline(gate: Gate) -> str:
    if gate.open:
        if not gate.required:
            return _("Ready for slips (the event requires no steps before them).")
        return _("Ready for slips: {steps}.").format(
            steps=listing(requirement_label(r) for r in gate.required)
        )
    return _("Not ready for slips: {missing}.").format(
        missing=listing(m.what for m in gate.missing)
    )


class GatePanel(ResultBanner):
    """The redemption gate for the customer at the desk: green when slips may be issued,
    amber with each missing step and where to send the customer when not."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gate")
        self.layout().setContentsMargins(12, 2, 12, 2)  # type: ignore[union-attr]
        self.layout().setSpacing(0)  # type: ignore[union-attr]
        # A little above the text in normal print; the text's own size in large print.
        self.headline_pt = max(15, self.font().pointSize())

    def _style(self, tone: Tone) -> None:
        background, foreground = self.COLOURS[tone]
        self.setStyleSheet(
            f"QFrame#gate {{ background: {background}; border: 2px solid {foreground};"
            f" border-radius: 6px; }} QLabel {{ color: {foreground}; }}"
            f" QLabel#banner_headline {{ font-size: {self.headline_pt}pt; font-weight: bold; }}"
            # Large print: where to send the customer on one line at 1366 px (English), so
            # the catalog below keeps three services in sight; 18 pt is MIIT's floor.
            + (" QLabel#banner_detail { font-size: 18pt; }" if is_large_print() else "")
        )

    def show_gate(self, gate: Gate) -> None:
        """One headline and one line per missing step: it must leave the catalog and the
        cart their room at 1366x768 even with every field missing."""
        if gate.open:
            self.show_result(Tone.OK, "✓ " + gate_headline(gate))
            return
        # Large print has no room for a list of fields: one line per place the customer
        # goes, the fields counted (the service desk has the list).
        lines = gate.compact() if is_large_print() else [m.sentence for m in gate.missing]
        lines = ["× " + line for line in lines]
        # Large print: the lines below name what is missing; said in the headline too, it
        # took a second line of the catalog's room (English, 1366 px).
        headline = _("{headline} F9: a supervisor may let them through.").format(
            headline=_("Not ready for slips.") if is_large_print() else gate_headline(gate)
        )
        self.show_result(Tone.WARN, headline, "\n".join(lines))
