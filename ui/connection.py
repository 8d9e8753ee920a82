"""Choosing the event database: this laptop's own file, or the venue's PostgreSQL.

The URL is remembered in this laptop's settings, so a station joins the same event after a
restart; its password goes to the system's credential store, never into the settings
(``kiosk.credentials``). So the address field shows the URL without its password and the
password has a field of its own, hidden as it is typed; where no credential store works, a
sentence under it says the password is not remembered (or, when clear passwords are allowed
explicitly, that the settings file keeps it in clear). Connecting is tried right here and
any failure is said in one sentence, with the set-up steps (``kiosk.lan``) at hand for
whoever prepares the server.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk import credentials
from kiosk.db import Database, default_data_dir, open_database
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.lan import plan, serve_help


def local_url() -> str:
    return f"sqlite:///{default_data_dir() / 'event.sqlite3'}"


class ConnectionDialog(QDialog):
    """Asks for the event database URL; ``database`` is the opened one once accepted."""

    def __init__(
        self,
        current_url: str,
        error: str = "",
        parent: QWidget | None = None,
        *,
        for_booth: bool = False,
        allow_clear: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Event database"))
        self.setMinimumWidth(720)
        self.database: Database | None = None
        layout = QVBoxLayout(self)
        intro = QLabel(
            _(
                "Every station of the event uses the same database. On the venue LAN, type the "
                "PostgreSQL address the coordinator gives you, e.g. "
                "postgresql://kiosk@192.168.1.10/kiosk_event, and its password in the field "
                "below. Alone on this laptop, use this laptop's own file."
            )
            if not for_booth
            else _(
                "Online on the venue LAN, the booth checks every slip with the event database "
                "before serving and sends each redemption at once. Type the PostgreSQL address "
                "the coordinator gives you, or work offline (bundles on a USB stick)."
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.allow_clear = allow_clear
        self.url = QLineEdit(credentials.without_password(current_url))
        self.url.setObjectName("database_url")
        self.url.setPlaceholderText("postgresql://kiosk@192.168.1.10/kiosk_event")
        layout.addWidget(self.url)
        # The password apart, never shown: a known one (the credential store's, or the one
        # just tried) is filled in so that "Connect" again just works.
        self.password = QLineEdit(_password_of(current_url))
        self.password.setObjectName("database_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(_("Password (if the address needs one)"))
        layout.addWidget(self.password)
        self.password_note = QLabel()
        self.password_note.setObjectName("password_note")
        self.password_note.setWordWrap(True)
        layout.addWidget(self.password_note)
        self.url.textChanged.connect(self._say_where_kept)
        self._say_where_kept()
        self.error = QLabel(error)
        self.error.setObjectName("connection_error")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        self.help = QPlainTextEdit(serve_help(plan(), local_url()))
        self.help.setObjectName("serve_help")
        self.help.setReadOnly(True)
        self.help.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.help.setVisible(False)
        layout.addWidget(self.help, 1)
        row = QHBoxLayout()
        show_help = QPushButton(_("How to set up the server…"))
        show_help.setObjectName("show_serve_help")
        show_help.setCheckable(True)
        show_help.toggled.connect(self._toggle_help)
        row.addWidget(show_help)
        if for_booth:
            show_help.setVisible(False)
            offline = QPushButton(_("Work offline"))
            offline.setObjectName("work_offline")
            offline.clicked.connect(self.accept)  # accepted without a database: offline
            row.addWidget(offline)
        else:
            local = QPushButton(_("This laptop's own file"))
            local.setObjectName("use_local")
            local.clicked.connect(lambda: self.url.setText(local_url()))
            row.addWidget(local)
        row.addStretch(1)
        cancel = QPushButton(_("Cancel"))
        cancel.clicked.connect(self.reject)
        row.addWidget(cancel)
        self.connect_button = QPushButton(_("Connect"))
        self.connect_button.setObjectName("connect")
        self.connect_button.setProperty("role", "primary")
        self.connect_button.setDefault(True)
        self.connect_button.clicked.connect(self.try_connect)
        row.addWidget(self.connect_button)
        layout.addLayout(row)
        self.url.setFocus(Qt.FocusReason.OtherFocusReason)

    def _toggle_help(self, on: bool) -> None:
        self.help.setVisible(on)
        self.adjustSize()

    def _say_where_kept(self) -> None:
        note = credentials.where_kept_sentence(
            self.url.text().strip(), allow_clear=self.allow_clear
        )
        self.password_note.setText(note)
        self.password_note.setVisible(bool(note))

    def try_connect(self) -> bool:
        """Open (and migrate) the database at the typed URL; say why not, keep the text."""
        url = self.url.text().strip()
        if self.password.text() and credentials.missing_password(url):
            url = credentials.with_password(url, self.password.text())
        if not url:
            self.error.setText(_("Type the event database address."))
            return False
        self.error.setText(_("Connecting…"))
        self.error.repaint()  # show it now: reaching a server can take a few seconds
        try:
            self.database = open_database(url)
        except KioskError as error:
            self.error.setText(str(error))
            return False
        self.error.clear()
        self.accept()
        return True


def _password_of(url: str) -> str:
    from sqlalchemy import exc, make_url

    try:
        return make_url(url).password or ""
    except (exc.ArgumentError, ValueError):
        return ""
