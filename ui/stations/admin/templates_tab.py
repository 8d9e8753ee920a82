"""The Templates tab: the workbooks to fill in, one per import kind.

A mixin of ``AdminStation``: the tab's widgets are the station's attributes, as before the
split, so the station reads the same from outside.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.imports.templates import write_templates
from kiosk.services import imports
from ui.widgets import ResultBanner, Tone


class TemplatesTab:
    """The Templates tab: the workbooks to fill in, one per import kind."""

    # -- templates --------------------------------------------------------------------------

    def _templates_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        intro = QLabel(
            _(
                "One Excel template per import, numbered in the order to import them. Row 1 "
                "names the columns, row 2 says what goes in them; fill in from row 3. Columns "
                "in any order, headers in Chinese or English."
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.templates_button = QPushButton(_("Write templates to a folder…"))
        self.templates_button.setProperty("role", "primary")
        self.templates_button.clicked.connect(self.write_templates)
        row = QHBoxLayout()
        row.addWidget(self.templates_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.templates_banner = ResultBanner()
        layout.addWidget(self.templates_banner)
        layout.addStretch(1)
        return tab

    def write_templates(self) -> None:
        directory = self.chooser.directory(self, _("Folder for the templates"))
        if directory is None:
            return
        try:
            branches, slots = imports.template_choices(self.context.uow())
            paths = write_templates(directory, branches=branches, slots=slots)
        except (KioskError, OSError) as error:
            self.templates_banner.show_result(Tone.ERROR, _("Templates not written"), str(error))
            return
        self.templates_banner.show_result(
            Tone.OK,
            _("{n} templates written to {folder}").format(n=len(paths), folder=directory),
            "\n".join(p.name for p in paths),
        )
