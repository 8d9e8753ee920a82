"""The event database's password on a station: in the credential store, never in the
settings file (issue #29), through the real ``Settings`` on an INI file and the real
connection dialog. The file's bytes are read back to see what a copy of it would give away.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from kiosk import credentials
from kiosk.db import describe_url
from tests.keyring_support import MemoryKeyring
from ui.connection import ConnectionDialog
from ui.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
URL = "postgresql://kiosk:s3cret-pw@192.168.1.10:5432/kiosk_event"
BARE = "postgresql://kiosk@192.168.1.10:5432/kiosk_event"


def laptop(path: Path) -> Settings:
    """This laptop's settings as the app opens them at each start."""
    return Settings(QSettings(str(path), QSettings.Format.IniFormat))


def file_bytes(path: Path) -> bytes:
    return path.read_bytes()


@pytest.fixture(autouse=True)
def _no_clear_permission(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(credentials.ENV_CLEAR, raising=False)


def test_the_settings_file_never_holds_the_password(
    memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    ini = tmp_path / "settings.ini"
    laptop(ini).database_url = URL
    assert b"192.168.1.10" in file_bytes(ini)  # the file is written and readable as text
    assert b"s3cret-pw" not in file_bytes(ini)
    # A restart: the password comes back from the credential store.
    assert laptop(ini).database_url == URL


def test_without_a_store_the_password_is_asked_for_and_the_dialog_says_why(
    qtbot: QtBot, tmp_path: Path
) -> None:
    ini = tmp_path / "settings.ini"
    laptop(ini).database_url = URL
    assert b"s3cret-pw" not in file_bytes(ini)
    after_restart = laptop(ini).database_url
    assert after_restart == BARE
    dialog = ConnectionDialog(after_restart, "password authentication failed")
    qtbot.addWidget(dialog)
    assert dialog.url.text() == BARE and dialog.password.text() == ""
    note = dialog.password_note
    assert not note.isHidden() and "not remembered on this computer" in note.text()
    assert "no credential store" in note.text()


def test_the_clear_fallback_only_when_allowed(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ini = tmp_path / "settings.ini"
    settings = laptop(ini)
    settings._s.setValue("security/clear_passwords", "true")
    settings.database_url = URL
    assert b"s3cret-pw" in file_bytes(ini)
    assert laptop(ini).database_url == URL
    dialog = ConnectionDialog(URL, allow_clear=laptop(ini).clear_passwords)
    qtbot.addWidget(dialog)
    assert "s3cret-pw" not in dialog.url.text() and dialog.password.text() == "s3cret-pw"
    assert "Warning" in dialog.password_note.text() and "in clear" in dialog.password_note.text()
    # The environment's permission is as explicit; without either, nothing in clear.
    other = tmp_path / "other.ini"
    laptop(other).database_url = URL
    assert b"s3cret-pw" not in file_bytes(other)
    monkeypatch.setenv(credentials.ENV_CLEAR, "1")
    laptop(other).database_url = URL
    assert b"s3cret-pw" in file_bytes(other)


def test_a_store_is_used_even_when_clear_passwords_are_allowed(
    memory_keyring: MemoryKeyring, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(credentials.ENV_CLEAR, "1")
    ini = tmp_path / "settings.ini"
    laptop(ini).database_url = URL
    assert b"s3cret-pw" not in file_bytes(ini)
    dialog = ConnectionDialog(laptop(ini).database_url, allow_clear=True)
    qtbot.addWidget(dialog)
    assert dialog.password_note.isHidden() and dialog.password.text() == "s3cret-pw"


def test_an_old_settings_file_with_a_clear_password_is_moved_to_the_store(
    memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    ini = tmp_path / "settings.ini"
    older = QSettings(str(ini), QSettings.Format.IniFormat)  # as an older kiosk wrote it
    older.setValue("db/url", URL)
    older.sync()
    del older
    assert b"s3cret-pw" in file_bytes(ini)
    remembered = laptop(ini).protect_database_url()
    assert remembered.url == URL
    assert "moved from the settings file" in remembered.note
    assert b"s3cret-pw" not in file_bytes(ini)
    assert memory_keyring.passwords == {
        ("kiosk", "kiosk@192.168.1.10:5432/kiosk_event"): "s3cret-pw"
    }
    again = laptop(ini).protect_database_url()
    assert (again.url, again.note) == (URL, "")


@pytest.mark.pg
def test_connecting_in_the_dialog_keeps_the_typed_password_in_the_store(
    memory_keyring: MemoryKeyring, qtbot: QtBot, tmp_path: Path, pg_url: str
) -> None:
    """The real dialog on the real PostgreSQL (trust log-in in CI: the password typed in its
    own field travels with the URL and is what the laptop must keep)."""
    ini = tmp_path / "settings.ini"
    dialog = ConnectionDialog(pg_url)
    qtbot.addWidget(dialog)
    assert dialog.password_note.isHidden()  # a store works: nothing to warn about
    dialog.password.setText("typed-pw")
    assert dialog.try_connect(), dialog.error.text()
    assert dialog.database is not None
    try:
        assert "typed-pw" in dialog.database.url
        assert "typed-pw" not in describe_url(dialog.database.url)
        laptop(ini).database_url = dialog.database.url
    finally:
        dialog.database.dispose()
    assert b"typed-pw" not in file_bytes(ini)
    assert list(memory_keyring.passwords.values()) == ["typed-pw"]
    restarted = laptop(ini).database_url
    assert "typed-pw" in restarted
    assert credentials.without_password(restarted) == credentials.without_password(
        dialog.database.url
    )


@pytest.mark.pg
def test_the_real_app_moves_an_old_clear_password_and_recalls_it_after_a_restart(
    pg_demo_url: str, tmp_path: Path
) -> None:
    """The app as staff start it (``kiosk`` with no command) on a laptop whose settings an
    older kiosk wrote with the password in clear; a credential store that outlives the
    process (tests/keyring_support.py FileKeyring)."""
    conf = tmp_path / "config" / "kiosk" / "kiosk.conf"  # Qt's own place for these settings
    older = QSettings(str(conf), QSettings.Format.IniFormat)
    older.setValue("db/url", credentials.with_password(pg_demo_url, "old-clear-pw"))
    older.sync()
    del older
    assert b"old-clear-pw" in conf.read_bytes()
    store = tmp_path / "keyring.json"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "KIOSK_EXIT_WHEN_READY": "1",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "KIOSK_LANG": "en",
        "PYTHON_KEYRING_BACKEND": "tests.keyring_support.FileKeyring",
        "KIOSK_TEST_KEYRING_FILE": str(store),
    }
    env.pop("KIOSK_DB", None)

    def start() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", "--lang", "en"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    first = start()
    assert first.returncode == 0, first.stderr
    assert "KIOSK_READY" in first.stdout
    assert "The database password was moved from the settings file" in first.stderr
    assert b"old-clear-pw" not in conf.read_bytes()
    assert b"db" in conf.read_bytes()  # the URL itself is still there
    kept = json.loads(store.read_text())
    assert [p for _s, _u, p in kept["passwords"]] == ["old-clear-pw"]
    assert kept["asked"] == []  # the first start had the password from the file
    second = start()
    assert second.returncode == 0, second.stderr
    assert "moved" not in second.stderr
    account = kept["passwords"][0][1]
    assert account in json.loads(store.read_text())["asked"]  # recalled from the store
    assert b"old-clear-pw" not in conf.read_bytes()


def _clipped(dialog: ConnectionDialog) -> list[str]:
    """The visible wrapped labels shorter than their text needs at their width."""
    from PySide6.QtWidgets import QLabel

    return [
        label.text()[:40]
        for label in dialog.findChildren(QLabel)
        if label.isVisible()
        and label.wordWrap()
        and label.height() < label.heightForWidth(label.width())
    ]


def test_the_dialog_grows_with_what_it_says_and_keeps_the_stations_ca(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tried by hand at 1366×768 in Chinese: typing a server address showed the password note
    and a refusal under it, and the dialog squeezed its lines into each other. It grows now;
    and the CA file chosen for a station becomes its event-ca.crt."""
    import ui.connection
    from kiosk.i18n import set_language

    data = tmp_path / "data"
    monkeypatch.setattr(ui.connection, "default_data_dir", lambda: data)
    set_language("zh_CN")
    dialog = ConnectionDialog("sqlite:///" + str(tmp_path / "event.sqlite3"))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    before = dialog.height()
    dialog.url.clear()
    qtbot.keyClicks(dialog.url, "postgresql://ev1_station@event-db.test:5432/ev1", delay=2)
    qtbot.keyClicks(dialog.password, "pw")
    not_a_certificate = tmp_path / "notes.txt"
    not_a_certificate.write_text("hello")
    dialog.ca.setText(str(not_a_certificate))
    dialog.connect_button.click()
    assert "不是证书文件" in dialog.error.text()
    assert not dialog.password_note.isHidden()
    assert dialog.height() > before
    assert _clipped(dialog) == []
    # The event's CA: copied where kiosk.lan_tls looks for it, before connecting.
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    dialog.ca.setText(str(ca))
    assert dialog._keep_station_ca() == ""
    assert (data / "event-ca.crt").read_bytes() == ca.read_bytes()
    assert dialog.ca.text() == str(data / "event-ca.crt")


def test_the_booth_dialog_in_large_print_shows_its_whole_intro(qtbot: QtBot) -> None:
    """Tried by hand: the booth's 摊位网关… dialog opened in large print cut its intro's
    first and last lines; it fits its text when shown now."""
    from kiosk.i18n import set_language
    from ui.app import ensure_application
    from ui.theme import apply_theme

    set_language("zh_CN")
    apply_theme(ensure_application(), True)
    try:
        dialog = ConnectionDialog("https://192.168.1.10:8443", for_booth=True)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        assert dialog.password.isHidden()  # a booth has no database password
        assert _clipped(dialog) == []
    finally:
        apply_theme(ensure_application(), False)
