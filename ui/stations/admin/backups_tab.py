"""The Backups tab: where the automatic backups go, how many are kept, and a backup now.

A mixin of ``AdminStation``: the tab's widgets are the station's attributes, as before the
split, so the station reads the same from outside.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kiosk.backup import backups as backup_files
from kiosk.i18n import _
from kiosk.services.events import event_header
from ui.stations.admin.common import (
    fill_table,
    make_table,
)
from ui.theme import is_large_print
from ui.widgets import ResultBanner, Tone


class BackupsTab:
    """The Backups tab: where the automatic backups go, how many are kept, and a backup now."""

    # -- backups ----------------------------------------------------------------------------

    def _backups_tab(self) -> QWidget:
        tab = self.backups_tab = QWidget()
        layout = QVBoxLayout(tab)
        intro = QLabel(
            _(
                "Every few minutes the app copies the event database to this folder, "
                "a USB stick best, and keeps the newest. The copies hold personal data "
                "sealed and masked, as the database does. To restore one: "
                "kiosk restore FILE --db URL."
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        row = QHBoxLayout()
        row.addWidget(QLabel(_("Backup folder")))
        self.backup_folder = QLineEdit()
        self.backup_folder.setObjectName("backup_folder")
        self.backup_folder.setPlaceholderText(_("No folder: no automatic backups"))
        row.addWidget(self.backup_folder, 1)
        self.backup_choose = QPushButton(_("Choose…"))
        self.backup_choose.clicked.connect(self.choose_backup_folder)
        row.addWidget(self.backup_choose)
        layout.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(QLabel(_("Every (minutes)")))
        self.backup_minutes = QSpinBox()
        self.backup_minutes.setRange(1, 24 * 60)
        row.addWidget(self.backup_minutes)
        row.addWidget(QLabel(_("Keep the newest")))
        self.backup_keep = QSpinBox()
        self.backup_keep.setRange(1, 10_000)
        row.addWidget(self.backup_keep)
        row.addStretch(1)
        if is_large_print():  # the keys on a line of their own: the page is 1,014 px
            layout.addLayout(row)
            row = QHBoxLayout()
            row.addStretch(1)
        self.backup_save = QPushButton(_("Save"))
        self.backup_save.clicked.connect(self.save_backup_settings)
        row.addWidget(self.backup_save)
        self.backup_button = QPushButton(_("Back up now"))
        self.backup_button.setProperty("role", "primary")
        self.backup_button.clicked.connect(self.backup_now)
        row.addWidget(self.backup_button)
        layout.addLayout(row)
        # Not a backup setting as such, but the backup folder's disk is one it watches; saved
        # with the same button.
        row = QHBoxLayout()
        row.addWidget(QLabel(_("Warn below (MB free)")))
        self.low_space = QSpinBox()
        self.low_space.setObjectName("low_space_mb")
        self.low_space.setRange(0, 1_000_000)
        self.low_space.setToolTip(
            _(
                "Every station warns when a disk it writes to (event database, print spool, "
                "backups) has less free space than this; 0 = never."
            )
        )
        row.addWidget(self.low_space)
        row.addStretch(1)
        layout.addLayout(row)
        self.backup_banner = ResultBanner()
        layout.addWidget(self.backup_banner)
        self.backup_list = make_table([_("Backup"), _("Size")])
        self.backup_list.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.backup_list, 1)
        return tab

    def _backup_widgets(self):  # type: ignore[no-untyped-def]
        """The window's settings and header indicator, which run the automatic backups."""
        window = self.window()
        return getattr(window, "settings", None), getattr(window, "backup_status", None)

    def refresh_backups(self) -> None:
        settings, _status = self._backup_widgets()
        if settings is None:
            return
        self.backup_folder.setText(settings.backup_folder)
        self.backup_minutes.setValue(settings.backup_minutes)
        self.backup_keep.setValue(settings.backup_keep)
        self.low_space.setValue(settings.low_space_mb)
        self._list_backups()

    def _list_backups(self) -> None:
        folder = self.backup_folder.text().strip()
        code = event_header(self.context.uow())
        found = backup_files(Path(folder), code.code if code else "event") if folder else []
        fill_table(
            self.backup_list,
            [[p.name, f"{p.stat().st_size / 1024:,.0f} KB"] for p in reversed(found)],
        )

    def choose_backup_folder(self) -> None:
        path = self.chooser.directory(self, _("Choose the backup folder"))
        if path is not None:
            self.backup_folder.setText(str(path))
            self.save_backup_settings()

    def save_backup_settings(self) -> None:
        settings, status = self._backup_widgets()
        if settings is None:
            return
        settings.backup_folder = self.backup_folder.text().strip()
        settings.backup_minutes = self.backup_minutes.value()
        settings.backup_keep = self.backup_keep.value()
        settings.low_space_mb = self.low_space.value()
        if status is not None:
            status.configure()
        watch = getattr(self.window(), "disk_watch", None)
        if watch is not None:
            watch.check()  # the banner follows the new limit at once
        self.backup_banner.show_result(
            Tone.OK,
            _("Backups every {n} minutes to {folder}.").format(
                n=settings.backup_minutes, folder=settings.backup_folder
            )
            if settings.backup_folder
            else _("Automatic backups are off."),
        )
        self._list_backups()

    def backup_now(self) -> None:
        self.save_backup_settings()
        settings, status = self._backup_widgets()
        if settings is None or status is None or not settings.backup_folder:
            self.backup_banner.show_result(Tone.WARN, _("Choose a backup folder first."))
            return
        result = status.backup_now()
        if result is None:
            self.backup_banner.show_result(Tone.ERROR, _("Backup failed"), status.toolTip())
            return
        self.backup_banner.show_result(
            Tone.OK,
            _("Backed up in {ms} ms.").format(ms=round(result.seconds * 1000)),
            _("{path} ({size:,} bytes)").format(path=result.path, size=result.size),
        )
        self._list_backups()
