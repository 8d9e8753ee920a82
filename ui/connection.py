"""Choosing the event database: this laptop's own file, or the venue's PostgreSQL.

The URL is remembered in this laptop's settings, so a station joins the same event after a
restart; its password goes to the system's credential store, never into the settings
(``kiosk.credentials``). So the address field shows the URL without its password and the
password has a field of its own, hidden as it is typed; where no credential store works, a
sentence under it says the password is not remembered (or, when clear passwords are allowed
explicitly, that the settings file keeps it in clear). Off this laptop a station connects only
over TLS against the event's CA (``kiosk.lan_tls``): the CA file chosen here is kept as the
station's ``event-ca.crt``. Connecting is tried right here and any failure is said in one
sentence, with the set-up steps (``kiosk.lan``) at hand for whoever prepares the server.

A merchant booth (``for_booth``) never gets a database address: it types the booth gateway's
https address and chooses the event's CA file (``kiosk booth serve``, issue #29), and the
booth window's ``try_gateway`` asks the gateway before the dialog closes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk import credentials, netwait
from kiosk.db import Database, default_data_dir, open_database
from kiosk.errors import KioskError
from kiosk.files import private_folder, write_atomic
from kiosk.i18n import _
from kiosk.lan import plan, serve_help
from kiosk.lan_tls import STATION_CA_FILE
from ui.language import FILE_DIALOG


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
        ca_file: str = "",
        try_gateway: Callable[[str, str], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Event database"))
        self.setMinimumWidth(720)
        self.database: Database | None = None
        self.for_booth = for_booth
        self.try_gateway = try_gateway
        self.gateway: tuple[str, str] | None = None  # (address, CA file) once accepted
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
                "through the booth gateway before serving, and sends each redemption at once. "
                "Type the booth gateway's address the coordinator gives you (https://…) and "
                "choose the event's CA file, or work offline (bundles on a USB stick)."
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.allow_clear = allow_clear
        self.url = QLineEdit(
            current_url if for_booth else credentials.without_password(current_url)
        )
        self.url.setObjectName("database_url")
        self.url.setPlaceholderText(
            "https://192.168.1.10:8443"
            if for_booth
            else "postgresql://kiosk_event_station@192.168.1.10/kiosk_event"
        )
        layout.addWidget(self.url)
        # The password apart, never shown: a known one (the credential store's, or the one
        # just tried) is filled in so that "Connect" again just works. A booth has none.
        self.password = QLineEdit("" if for_booth else _password_of(current_url))
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
        if for_booth:
            self.password.setVisible(False)
            self.password_note.setVisible(False)
        # The event's CA: the booth's for the gateway; a station's for a server off this laptop
        # (kept as its event-ca.crt, where kiosk.lan_tls looks).
        kept_ca = default_data_dir() / STATION_CA_FILE
        self.ca = QLineEdit(ca_file or ("" if for_booth or not kept_ca.exists() else str(kept_ca)))
        self.ca.setObjectName("gateway_ca")
        self.ca.setPlaceholderText(_("The event's CA file (event-ca.crt)"))
        ca_row = QHBoxLayout()
        ca_row.addWidget(QLabel(_("CA file:")))
        ca_row.addWidget(self.ca, 1)
        choose = QPushButton(_("Choose…"))
        choose.setObjectName("choose_ca")
        choose.clicked.connect(self._choose_ca)
        ca_row.addWidget(choose)
        layout.addLayout(ca_row)
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

    def _say(self, sentence: str) -> None:
        self.error.setText(sentence)
        self._fit()

    def _say_where_kept(self) -> None:
        note = credentials.where_kept_sentence(
            self.url.text().strip(), allow_clear=self.allow_clear
        )
        self.password_note.setText(note)
        self.password_note.setVisible(bool(note) and not self.for_booth)
        self._fit()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit()  # in large print the intro wraps to more lines than the first guess

    def _fit(self) -> None:
        """Grow to what the dialog says now (the password note, a long refusal): Qt does not
        resize a shown window for a wrapped label's new height, and squeezes the lines into
        each other instead (tried by hand at 1366×768)."""
        layout = self.layout()
        if layout is None or not self.isVisible():
            return
        height = layout.totalHeightForWidth(self.width())
        if height > self.height():
            self.resize(self.width(), height)

    def _choose_ca(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self,
            _("The event's CA file"),
            self.ca.text(),
            _("Certificates (*.crt *.pem);;All (*)"),
            options=FILE_DIALOG,
        )
        if path:
            self.ca.setText(path)

    def _keep_station_ca(self) -> str:
        """Copy the chosen CA file to this station's event-ca.crt (where ``kiosk.lan_tls``
        looks for it); "" when done or nothing to do, else the sentence why not."""
        chosen = self.ca.text().strip()
        if not chosen:
            return ""
        source, kept = Path(chosen).expanduser(), default_data_dir() / STATION_CA_FILE
        try:
            if source.resolve() == kept.resolve():
                return ""
            data = source.read_bytes()
        except OSError as error:
            return _("Cannot read the CA file {path}: {reason}.").format(
                path=source, reason=error.strerror or error
            )
        if b"-----BEGIN CERTIFICATE-----" not in data:
            return _("{path} is not a certificate file (the event's ca.crt).").format(path=source)
        try:
            write_atomic(private_folder(kept.parent) / kept.name, data)
        except OSError as error:  # a fresh station has no data folder yet: made above
            return _("Cannot keep the CA file in {path}: {reason}.").format(
                path=kept, reason=error.strerror or error
            )
        self.ca.setText(str(kept))
        return ""

    def try_connect(self) -> bool:
        """Open (and migrate) the database at the typed URL, or for a booth ask the gateway;
        say why not, keep the text."""
        url = self.url.text().strip()
        if not self.for_booth and self.password.text() and credentials.missing_password(url):
            url = credentials.with_password(url, self.password.text())
        if not url:
            self._say(
                _("Type the booth gateway's address.")
                if self.for_booth
                else _("Type the event database address.")
            )
            return False
        self.error.setText(_("Connecting…"))
        self.error.repaint()  # show it now: reaching a server can take a few seconds
        if self.for_booth:
            ca = self.ca.text().strip()
            try:
                if self.try_gateway is not None:
                    self.try_gateway(url, ca)
            except KioskError as error:
                self._say(str(error))
                return False
            self.gateway = (url, ca)
            self.error.clear()
            self.accept()
            return True
        problem = self._keep_station_ca()
        if problem:
            self._say(problem)
            return False
        try:
            self.database = open_database(url, bound=netwait.STATION_BOUND)
        except KioskError as error:
            self._say(str(error))
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
