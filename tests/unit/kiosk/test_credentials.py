"""Database passwords: in the credential store, never in a settings file (issue #29).

Against the real ``keyring`` API: an in-memory back end stands for a desktop's store, the
``fail`` back end (what keyring falls back to on a headless Linux) for none.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import make_url

from kiosk import credentials
from kiosk.booth_laptop.booth import Booth
from kiosk.booth_laptop.online import OLD_EVENT_URL, gateway_url, set_gateway
from kiosk.booth_laptop.store import open_booth_database
from kiosk.clock import Clock
from kiosk.db import connect_lazily, describe_url, open_database
from tests.keyring_support import MemoryKeyring

URL = "postgresql://kiosk:s3cret-pw@192.168.1.10:5432/kiosk_event"
BARE = "postgresql://kiosk@192.168.1.10:5432/kiosk_event"


def test_remember_keeps_the_password_in_the_store(memory_keyring: MemoryKeyring) -> None:
    assert credentials.store_usable()
    assert credentials.remember(URL) == BARE
    assert memory_keyring.passwords == {
        ("kiosk", "kiosk@192.168.1.10:5432/kiosk_event"): "s3cret-pw"
    }
    assert credentials.recall(BARE) == URL
    # Another server or role has no password here: unchanged.
    assert credentials.recall("postgresql://kiosk@10.0.0.9/kiosk_event") == (
        "postgresql://kiosk@10.0.0.9/kiosk_event"
    )
    # SQLite has nothing to keep.
    assert credentials.remember("sqlite:///tmp/event.sqlite3") == "sqlite:///tmp/event.sqlite3"


def test_a_password_with_url_characters_comes_back_whole(memory_keyring: MemoryKeyring) -> None:
    url = "postgresql://kiosk:p%40ss%2Fw%3Ard@db.local/kiosk_event"
    bare = credentials.remember(url)
    assert "p%40ss" not in bare and "@db.local" in bare
    assert memory_keyring.passwords[("kiosk", "kiosk@db.local:5432/kiosk_event")] == "p@ss/w:rd"
    assert credentials.recall(bare) == url


def test_without_a_store_the_password_is_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fail back end (tests/conftest.py), as on a headless Linux laptop."""
    monkeypatch.delenv(credentials.ENV_CLEAR, raising=False)
    assert not credentials.store_usable()
    kept = credentials.keep(URL)
    assert (kept.url, kept.kept) == (BARE, credentials.Kept.FORGOTTEN)
    assert credentials.recall(BARE) == BARE
    assert "not remembered" in credentials.where_kept_sentence(BARE)
    # Explicitly allowed: kept in clear, with a warning to show.
    assert credentials.keep(URL, allow_clear=True) == credentials.Remembered(
        URL, credentials.Kept.CLEAR
    )
    monkeypatch.setenv(credentials.ENV_CLEAR, "1")
    assert credentials.remember(URL) == URL
    assert "in clear" in credentials.where_kept_sentence(BARE)


def test_a_clear_password_left_in_a_settings_file_moves_to_the_store(
    memory_keyring: MemoryKeyring,
) -> None:
    protected = credentials.protect(URL)
    assert (protected.stored, protected.url) == (BARE, URL)
    assert "moved from the settings file" in protected.note
    assert credentials.recall(BARE) == URL
    # Read again: nothing left to move, nothing to say.
    assert credentials.protect(BARE) == credentials.Protected(BARE, URL, "")


def test_a_clear_password_without_a_store_leaves_the_file_but_works_this_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(credentials.ENV_CLEAR, raising=False)
    protected = credentials.protect(URL)
    assert (protected.stored, protected.url) == (BARE, URL)
    assert "KIOSK_CLEAR_PASSWORDS=1" in protected.note
    monkeypatch.setenv(credentials.ENV_CLEAR, "1")
    assert credentials.protect(URL) == credentials.Protected(URL, URL, "")


def test_the_booth_file_keeps_no_password(memory_keyring: MemoryKeyring, tmp_path: Path) -> None:
    """A booth holds no database URL at all (it asks the booth gateway): one an older kiosk
    kept in the booth file, password and all, is erased on the first read."""
    path = tmp_path / "booth.sqlite3"
    database = open_booth_database(path)
    booth = Booth(database, Clock())
    try:
        booth.set_setting(OLD_EVENT_URL, URL.replace("s3cret-pw", "older-pw"))
        set_gateway(booth, "https://192.168.1.10:8443", "")
        assert gateway_url(booth) == "https://192.168.1.10:8443"
        assert booth.setting(OLD_EVENT_URL) == ""
        database.engine.dispose()
        with sqlite3.connect(path) as raw_db:  # what was overwritten is gone from the pages
            raw_db.execute("VACUUM")
    finally:
        database.dispose()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert b"booth_id" in raw  # the file's text is readable as bytes: the check means something
    assert b"older-pw" not in raw and b"s3cret-pw" not in raw


def test_describe_url_hides_a_password_even_in_a_mistyped_url() -> None:
    assert describe_url(URL) == "postgresql://kiosk:***@192.168.1.10:5432/kiosk_event"
    # A port with a typo, a space in the scheme: not URLs to SQLAlchemy, still no password.
    assert describe_url("postgresql://kiosk:s3cret-pw@host:54x2/db") == (
        "postgresql://kiosk:***@host:54x2/db"
    )
    assert "s3cret-pw" not in describe_url("postgres ql://kiosk:s3cret-pw@host/db")
    assert describe_url("not a url") == "not a url"


@pytest.mark.pg
def test_a_command_finds_the_password_the_station_kept(
    memory_keyring: MemoryKeyring, pg_url: str
) -> None:
    """``kiosk … --db URL`` without the password: the credential store's is used, as libpq
    would take it from a password file (trust log-in here: the point is what is sent)."""
    bare = credentials.without_password(pg_url)
    assert credentials.remember(credentials.with_password(bare, "kept-pw")) == bare
    database = open_database(bare)
    try:
        assert make_url(database.url).password == "kept-pw"
        assert "kept-pw" not in describe_url(database.url)
    finally:
        database.dispose()
    lazy = connect_lazily(bare)
    try:
        assert make_url(lazy.url).password == "kept-pw"
    finally:
        lazy.dispose()
