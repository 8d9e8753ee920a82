"""The Booklet tab: the catalog booklet (PDF) and e-catalog (HTML), with the address its QR
codes point at.

A mixin of ``AdminStation``: the tab's widgets are the station's attributes, as before the
split, so the station reads the same from outside.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.changeset import Changes
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.services import rm_codes, themes, tracking
from printing.booklet import BookletPaper, render_booklet, render_html
from printing.posters import render_posters
from ui.operations import run
from ui.theme import is_large_print
from ui.widgets import ResultBanner, Tone


class BookletTab:
    """The Booklet tab: the catalog booklet (PDF) and e-catalog (HTML), with the address its QR"""

    # -- booklet ----------------------------------------------------------------------------

    def _booklet_tab(self) -> QWidget:
        tab = self.booklet_tab = QWidget()
        layout = QVBoxLayout(tab)
        intro = QLabel(
            _(
                "The printable catalog (PDF) goes out with the invitations; the e-catalog is "
                "one HTML file for any web server. Every service has a QR code: its place in "
                "the e-catalog, or its name and price when no address is set."
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        url_row = QHBoxLayout()
        url_row.addWidget(QLabel(_("E-catalog address")))
        self.catalog_url = QLineEdit()
        self.catalog_url.setPlaceholderText("https://…/catalog.html")
        url_row.addWidget(self.catalog_url, 1)
        self.url_button = QPushButton(_("Save address"))
        self.url_button.clicked.connect(self.save_catalog_url)
        url_row.addWidget(self.url_button)
        layout.addLayout(url_row)
        row = QHBoxLayout()
        row.addWidget(QLabel(_("Paper")))
        self.paper = QComboBox()
        self.paper.addItem("A4", BookletPaper.A4.value)
        self.paper.addItem("A5", BookletPaper.A5.value)
        row.addWidget(self.paper)
        # A themed session's own booklet: its services only, its name on the cover (#20).
        row.addWidget(QLabel(_("Theme")))
        self.booklet_theme = QComboBox()
        self.booklet_theme.setObjectName("booklet_theme")
        row.addWidget(self.booklet_theme)
        if is_large_print():  # the choices, then the three keys: the page is 1,014 px
            row.addStretch(1)
            layout.addLayout(row)
            row = QHBoxLayout()
        self.booklet_button = QPushButton(_("Write booklet PDF…"))
        self.booklet_button.setProperty("role", "primary")
        self.booklet_button.clicked.connect(self.write_booklet)
        row.addWidget(self.booklet_button)
        self.html_button = QPushButton(_("Write e-catalog HTML…"))
        self.html_button.clicked.connect(self.write_html)
        row.addWidget(self.html_button)
        # Each RM's A4 poster with their invitation code and WeChat link (issue #20).
        self.posters_button = QPushButton(_("Write RM posters PDF…"))
        self.posters_button.setObjectName("rm_posters")
        self.posters_button.clicked.connect(self.write_rm_posters)
        row.addWidget(self.posters_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.booklet_banner = ResultBanner()
        layout.addWidget(self.booklet_banner)
        layout.addStretch(1)
        return tab

    def refresh_booklet(self) -> None:
        chosen = self.booklet_theme.currentData()
        self.booklet_theme.clear()
        self.booklet_theme.addItem(_("The whole event"), None)
        try:
            for view in themes.themes(self.context.uow()):
                self.booklet_theme.addItem(f"{view.spec.name} ({view.spec.code})", view.spec.code)
        except KioskError:
            pass  # no event yet: said below
        at = self.booklet_theme.findData(chosen)
        self.booklet_theme.setCurrentIndex(max(at, 0))
        try:
            content = tracking.booklet(self.context.uow())
        except KioskError as error:
            self.booklet_banner.show_result(Tone.ERROR, _("No catalog yet"), str(error))
            return
        self.catalog_url.setText(content.catalog_url)
        self.booklet_banner.show_result(
            Tone.OK if content.offers else Tone.ERROR,
            _("{n} services in the catalog").format(n=len(content.offers)),
            "" if content.offers else _("Import the catalog first."),
        )

    def save_catalog_url(self) -> None:
        def refused(error: KioskError) -> bool:
            self.booklet_banner.show_result(Tone.ERROR, _("Address not saved"), str(error))
            return True

        def saved(url: str) -> None:
            self.booklet_banner.show_result(
                Tone.OK,
                _("Address saved") if url else _("Address removed"),
                _("Write the booklet again so its QR codes use it."),
            )

        url = self.catalog_url.text()  # read here: the call runs off the GUI thread
        run(
            self,  # type: ignore[arg-type]
            lambda: tracking.set_catalog_url(
                self.context.uow(),
                url,
                self.context.staff,
                station="admin",
                clock=self.context.app.clock,
            ),
            done=saved,
            failed=refused,
            changes=Changes(setup=True),
        )

    def write_booklet(self) -> None:
        paper = BookletPaper(self.paper.currentData())
        path = self.chooser.save_file(
            self, _("Write the booklet"), f"catalog-{paper.value}.pdf", _("PDF (*.pdf)")
        )
        if path is None:
            return
        self._write(lambda content: render_booklet(content, path, paper))

    def write_html(self) -> None:
        path = self.chooser.save_file(
            self, _("Write the e-catalog"), "catalog.html", _("Web page (*.html)")
        )
        if path is None:
            return
        self._write(lambda content: render_html(content, path))

    def _write(self, render: Callable[[tracking.Booklet], Path]) -> None:
        try:
            content = tracking.booklet(self.context.uow(), self.booklet_theme.currentData())
            if not content.offers:
                raise KioskError(_("The catalog is empty: import the catalog first."))
            path = render(content)
        except (KioskError, OSError) as error:
            self.booklet_banner.show_result(Tone.ERROR, _("Not written"), str(error))
            return
        self.booklet_banner.show_result(
            Tone.OK,
            _("Written to {path}.").format(path=path),
            ""
            if content.catalog_url
            else _("No address is set: the QR codes name each service and its price."),
        )

    def write_rm_posters(self) -> None:
        """Every RM's poster, a page each, in one PDF; an RM still without a code gets one
        first (audited, by the supervisor at this station)."""
        path = self.chooser.save_file(
            self, _("Write the RM posters"), "rm-posters.pdf", _("PDF (*.pdf)")
        )
        if path is None:
            return
        try:
            codes = rm_codes.rm_codes(self.context.uow())
            if codes.missing:
                rm_codes.issue(
                    self.context.uow(),
                    self.context.staff,
                    station="admin",
                    clock=self.context.app.clock,
                )
                codes = rm_codes.rm_codes(self.context.uow())
            written = render_posters(codes, codes.rms, path)
        except (KioskError, OSError) as error:
            self.booklet_banner.show_result(Tone.ERROR, _("Not written"), str(error))
            return
        self.booklet_banner.show_result(
            Tone.OK,
            _("{n} RM posters written to {path}.").format(n=len(codes.rms), path=written),
            ""
            if codes.catalog_url
            else _("No address is set: the QR codes carry the RM's code alone."),
        )
