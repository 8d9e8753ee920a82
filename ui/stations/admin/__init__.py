"""Administration (the coordinator, before the event): imports with a preview and every
problem in one table, the templates to fill in, invitation progress, slot reminders (and
who was reminded), the arrival windows, the catalog booklet, themed sessions (专场) and their
audience, what customers must do before slips, what the figures need that no import carries
(the bank's points stock, the next event's day), the RMs' follow-up after the event, and
where the automatic backups go.

Progress and reminders are read when their tab is opened (and on Refresh), not when the
station opens, so the import tab stays instant at any event size. Reminders show masked
phones; an export carries full numbers only when the supervisor types the event passphrase.

An import is checked as soon as a file is chosen; the Import button is enabled only when the
check found no problem, and the service checks again inside its transaction. ID numbers and
phones are masked in the preview; the problem table names the row and column, never an ID.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QTabBar,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import _
from kiosk.imports import ImportCheck
from kiosk.roles import Station
from ui.audit_panel import AuditPanel
from ui.context import StationContext
from ui.figure_settings_panel import FigureSettingsPanel
from ui.reports_panel import ReportsPanel
from ui.requirements_panel import RequirementsPanel
from ui.stations.admin.backups_tab import BackupsTab
from ui.stations.admin.booklet_tab import BookletTab
from ui.stations.admin.common import FileChooser, fit_columns_always, scroll_when_tall
from ui.stations.admin.followup_tab import FollowupPanel
from ui.stations.admin.import_tab import ImportTab
from ui.stations.admin.merchants_tab import MerchantsPanel
from ui.stations.admin.progress_tab import ProgressTab
from ui.stations.admin.reminders_tab import RemindersTab
from ui.stations.admin.templates_tab import TemplatesTab
from ui.stations.admin.themes_tab import ThemesPanel
from ui.stations.admin.windows_tab import ArrivalWindowsPanel
from ui.stations.base import StationPage
from ui.theme import is_large_print

__all__ = ["AdminStation", "FileChooser"]


class AdminStation(
    ImportTab, TemplatesTab, ProgressTab, RemindersTab, BookletTab, BackupsTab, StationPage
):
    """Each tab is a module of this package; the station puts them together."""

    station = Station.ADMIN
    patient = True  # the coordinator's exports and reviews read the whole event
    chooser = FileChooser

    def __init__(self, context: StationContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.path: Path | None = None
        self.check: ImportCheck | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._import_tab(), _("Import"))
        self.tabs.addTab(self._templates_tab(), _("Templates"))
        self.tabs.addTab(self._progress_tab(), _("Progress"))
        self.tabs.addTab(self._reminders_tab(), _("Reminders"))
        self.windows = ArrivalWindowsPanel(context)
        self.tabs.addTab(self.windows, _("Arrival windows"))
        self.tabs.addTab(self._booklet_tab(), _("Booklet"))
        self.themes = ThemesPanel(context)
        self.tabs.addTab(self.themes, _("Themes"))
        self.requirements = RequirementsPanel(context)
        self.tabs.addTab(self.requirements, _("Before slips"))
        self.figure_settings = FigureSettingsPanel(context)
        self.tabs.addTab(self.figure_settings, _("Figures"))
        self.reports = ReportsPanel(
            context, lambda parent, title: self.chooser.directory(parent, title)
        )
        self.tabs.addTab(self.reports, _("Reports"))
        self.followup = FollowupPanel(
            context, lambda parent, title: self.chooser.directory(parent, title)
        )
        self.tabs.addTab(self.followup, _("Follow-up"))
        self.merchants = MerchantsPanel(context)
        self.tabs.addTab(self.merchants, _("Merchant review"))
        self.tabs.addTab(self._backups_tab(), _("Backups"))
        self.audit_panel = AuditPanel(context)
        self.tabs.addTab(self.audit_panel, _("Audit"))
        self.tabs.currentChanged.connect(self._tab_opened)
        for index in range(self.tabs.count()):
            scroll_when_tall(self.tabs.widget(index))
        # Fourteen tabs in one row need 1,400 px (2,100 in large print, English): a bar that
        # scrolls hides half of them. They are grouped: a row of five groups, under it the
        # tabs of the chosen group. The tab widget keeps every page in its order (its own
        # bar hidden), so code and Ctrl+Tab address the pages as before.
        self.tabs.tabBar().hide()
        self.tabs.setDocumentMode(True)
        self._group_of: list[int] = []
        self.groups = QTabBar()
        self.groups.setObjectName("admin_groups")
        self.groups.setExpanding(False)
        for group, (label, count) in enumerate(self._group_sizes()):
            self.groups.addTab(label)
            self._group_of += [group] * count
        assert len(self._group_of) == self.tabs.count(), "every tab in one group"
        self.sections = QTabBar()
        self.sections.setObjectName("admin_sections")
        self.sections.setExpanding(False)
        self._showing = -1  # the group whose tabs ``sections`` holds
        self._show_group_of(self.tabs.currentIndex())
        self.groups.currentChanged.connect(self._group_chosen)
        self.sections.currentChanged.connect(self._section_chosen)
        self.tabs.currentChanged.connect(self._show_group_of)
        # Normal print: the groups and the group's tabs in one row (the title's room: the
        # switcher names the station); large print: two rows, each as wide as the page.
        top = QHBoxLayout()
        top.addWidget(self.groups)
        if is_large_print():
            top.addStretch(1)
            layout.addLayout(top)
            layout.addWidget(self.sections)
        else:
            top.addSpacing(12)
            top.addWidget(QLabel("›"))  # the group, then its tabs
            top.addSpacing(12)
            top.addWidget(self.sections, 1)
            layout.addLayout(top)
        for table in self.tabs.findChildren(QTableView):  # never sideways: lesser columns go
            fit_columns_always(table)
        for index in range(self.tabs.count()):
            # Tables sharing a tab are never squeezed to a row each (five on the progress
            # tab in large print): at least the titles and three rows, the tab scrolling when
            # they need more. A tab's only table takes what is left, as it did.
            tables = self.tabs.widget(index).findChildren(QTableView)
            for table in tables if len(tables) > 1 else []:
                rows = table.verticalHeader().defaultSectionSize()
                least = table.horizontalHeader().sizeHint().height() + 3 * rows + 4
                table.setMinimumHeight(max(table.minimumHeight(), least))
        for combo in self.tabs.findChildren(QComboBox):  # a choice is never cut ("The wh…")
            if combo.sizeAdjustPolicy() not in (
                QComboBox.SizeAdjustPolicy.AdjustToContentsOnFirstShow,
                QComboBox.SizeAdjustPolicy.AdjustToContents,
            ):
                continue  # sized on purpose (the import's kinds)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.setSizePolicy(QSizePolicy.Policy.Minimum, combo.sizePolicy().verticalPolicy())
        layout.addWidget(self.tabs, 1)

    @staticmethod
    def _group_sizes() -> list[tuple[str, int]]:
        """The groups in tab order, each with how many tabs it takes."""
        return [
            (_("Import"), 2),  # import, templates
            (_("Invitations"), 3),  # progress, reminders, arrival windows
            (_("Event set-up"), 4),  # booklet, themes, before slips, figures
            (_("After the event"), 3),  # reports, follow-up, merchant review
            (_("Backups and audit"), 2),
        ]

    def _group_chosen(self, group: int) -> None:
        """A group clicked: its first tab, unless the current tab is in it already."""
        if group >= 0 and self._group_of[self.tabs.currentIndex()] != group:
            self.tabs.setCurrentIndex(self._group_of.index(group))

    def _section_chosen(self, section: int) -> None:
        if section >= 0 and self._showing >= 0:
            self.tabs.setCurrentIndex(self._group_of.index(self._showing) + section)

    def _show_group_of(self, index: int) -> None:
        """The two bars show the current tab (opened from code too): its group, and the
        group's tabs with it chosen."""
        if index < 0:
            return
        group = self._group_of[index]
        first = self._group_of.index(group)
        self.sections.blockSignals(True)
        if group != self._showing:
            while self.sections.count():
                self.sections.removeTab(0)
            for tab, in_group in enumerate(self._group_of):
                if in_group == group:
                    self.sections.addTab(self.tabs.tabText(tab))
            self._showing = group
        self.sections.setCurrentIndex(index - first)
        self.sections.blockSignals(False)
        self.groups.blockSignals(True)
        self.groups.setCurrentIndex(group)
        self.groups.blockSignals(False)

    def _tab_opened(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if widget is self.progress_tab:
            self.refresh_progress()
        elif widget is self.reminders_tab:
            self.refresh_reminders()
        elif widget is self.windows:
            self.windows.refresh()
        elif widget is self.booklet_tab:
            self.refresh_booklet()
        elif widget is self.themes:
            self.themes.refresh()
        elif widget is self.requirements:
            self.requirements.refresh()
        elif widget is self.figure_settings:
            self.figure_settings.refresh()
        elif widget is self.followup:
            self.followup.refresh()
        elif widget is self.merchants:
            self.merchants.refresh()
        elif widget is self.backups_tab:
            self.refresh_backups()
        elif widget is self.audit_panel:
            self.audit_panel.refresh()
