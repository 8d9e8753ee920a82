"""Database passwords in the operating system's credential store, never in a settings file.

A station remembers the event database it joined (``ui.settings``), a booth the one it
pushes to (``kiosk.booth_laptop.online``). The password of that URL lets whoever copies the
laptop's files into the event database, so it is kept in the system's credential store (the
Windows Credential Manager, the macOS Keychain, a Linux desktop's Secret Service; through the
``keyring`` library) under the service ``kiosk`` and the account ``user@host:port/db``; the
settings keep the URL without it, and ``recall`` puts it back when the URL is read.

A laptop with no working credential store (a headless Linux: keyring falls back to its
``fail`` backend) does not remember the password at all: the station asks for it at start
and says why. Only an explicit ``KIOSK_CLEAR_PASSWORDS=1`` (or the app's setting of the same
name, ``security/clear_passwords``) lets the settings keep it in clear, as they did before.
A settings file written before this module still holds the password in clear: ``protect``
moves it into the store the first time it is read (or drops it, when there is no store and
clear passwords are not allowed), with a sentence to show.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass

from sqlalchemy import exc, make_url
from sqlalchemy.engine import URL

from kiosk.i18n import _
from kiosk.logs import get_logger

SERVICE = "kiosk"
ENV_CLEAR = "KIOSK_CLEAR_PASSWORDS"

log = get_logger(__name__)


class Kept(enum.Enum):
    """Where the password of a remembered URL is."""

    NONE = "none"  # the URL has no password (SQLite, trust or certificate log-in)
    STORE = "store"  # in the system's credential store
    CLEAR = "clear"  # in the settings, in clear: allowed explicitly
    FORGOTTEN = "forgotten"  # nowhere: asked for at the next start


@dataclass(frozen=True)
class Remembered:
    """What to write into the settings for a URL, and where its password went."""

    url: str
    kept: Kept


@dataclass(frozen=True)
class Protected:
    """A URL read from the settings: ``stored`` is what the settings should hold from now on
    (changed when a clear password was taken out), ``url`` the one to connect with (with the
    password, this time), ``note`` a sentence for the staff ("" when nothing changed)."""

    stored: str
    url: str
    note: str


def clear_allowed_by_environment() -> bool:
    return os.environ.get(ENV_CLEAR, "").strip().lower() in ("1", "true", "yes", "on")


def _parsed(url: str) -> URL | None:
    try:
        return make_url(url)
    except (exc.ArgumentError, ValueError):
        return None


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def account(url: URL) -> str:
    """The credential store's user name for ``url``: one password per role, server and
    database (a booth and a station of the same laptop share it when they share the URL)."""
    port = url.port or (5432 if url.get_backend_name() == "postgresql" else "")
    return f"{url.username or ''}@{url.host or ''}:{port}/{url.database or ''}"


def store_usable() -> bool:
    """Is there a credential store that keeps a password? Not keyring's ``fail`` or ``null``
    back ends, nor its chainer with no back end behind it (a headless Linux)."""
    try:
        import keyring
        from keyring.backends import chainer, fail, null

        backend = keyring.get_keyring()
    except Exception as error:  # an unusable or broken back end: as if there were none
        log.warning("no credential store: %s", error)
        return False
    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    return not (isinstance(backend, chainer.ChainerBackend) and not backend.backends)


def without_password(url: str) -> str:
    """``url`` with no password in it (unchanged when it has none or is not a URL)."""
    parsed = _parsed(url)
    if parsed is None or parsed.password is None:
        return url
    return _render(parsed._replace(password=None))


def keep(url: str, *, allow_clear: bool = False) -> Remembered:
    """Put ``url``'s password where it may be kept; ``url`` of the result is what the settings
    hold. ``allow_clear`` (or ``KIOSK_CLEAR_PASSWORDS=1``) lets them keep it in clear when no
    credential store works; a working store is used even then."""
    parsed = _parsed(url)
    if parsed is None or parsed.password is None:
        return Remembered(url, Kept.NONE)
    bare = _render(parsed._replace(password=None))
    if store_usable():
        import keyring
        from keyring.errors import KeyringError

        try:
            keyring.set_password(SERVICE, account(parsed), str(parsed.password))
        except KeyringError as error:  # locked, or the user said no: as if there were none
            log.warning("the credential store refused the password for %s: %s", bare, error)
        else:
            return Remembered(bare, Kept.STORE)
    if allow_clear or clear_allowed_by_environment():
        log.warning("the password for %s is kept in clear (%s)", bare, ENV_CLEAR)
        return Remembered(url, Kept.CLEAR)
    return Remembered(bare, Kept.FORGOTTEN)


def remember(url: str, *, allow_clear: bool = False) -> str:
    """What the settings keep for ``url``: the URL without its password, which goes into the
    credential store (or nowhere; see ``keep``)."""
    return keep(url, allow_clear=allow_clear).url


def recall(url: str) -> str:
    """``url`` with the password the credential store holds for it put back; unchanged when
    it has a password already, has no user, or the store has none for it."""
    parsed = _parsed(url)
    if parsed is None or parsed.password is not None or not parsed.username:
        return url
    if not store_usable():
        return url
    import keyring
    from keyring.errors import KeyringError

    try:
        password = keyring.get_password(SERVICE, account(parsed))
    except KeyringError as error:
        log.warning("the credential store did not answer for %s: %s", url, error)
        return url
    if password is None:
        return url
    return _render(parsed.set(password=password))


def protect(stored: str, *, allow_clear: bool = False) -> Protected:
    """A URL as read from a settings file, made safe: a password found there in clear moves
    into the credential store (or, with no store and no permission for clear passwords, out
    of the file: asked for at the next start), and the stored one is recalled."""
    kept = keep(stored, allow_clear=allow_clear)
    if kept.kept is Kept.STORE:
        note = _(
            "The database password was moved from the settings file into this computer's "
            "credential store."
        )
        log.warning("%s", note)
        return Protected(kept.url, stored, note)
    if kept.kept is Kept.FORGOTTEN:
        note = _(
            "The database password was removed from the settings file: this computer has no "
            "credential store to keep it, so it is asked for at the next start (or set "
            "{env}=1 to keep it in the settings file in clear)."
        ).format(env=ENV_CLEAR)
        log.warning("%s", note)
        return Protected(kept.url, stored, note)
    return Protected(stored, recall(stored), "")


def missing_password(url: str) -> bool:
    """A server URL with a user and no password: the password may be needed and is not
    known here (a server with trust or certificate log-in needs none, so this is a hint for
    the connection dialog, never a refusal)."""
    parsed = _parsed(url)
    return (
        parsed is not None
        and parsed.get_backend_name() != "sqlite"
        and bool(parsed.username)
        and parsed.password is None
    )


def with_password(url: str, password: str) -> str:
    """``url`` with ``password`` (typed apart from it) put in; unchanged if it is empty."""
    parsed = _parsed(url)
    if parsed is None or not password:
        return url
    return _render(parsed.set(password=password))


def where_kept_sentence(url: str, *, allow_clear: bool = False) -> str:
    """For the connection dialog: where the password of ``url`` will be kept when it is not
    the credential store ("" when it is, or when the URL is not a server's)."""
    parsed = _parsed(url)
    if parsed is None or parsed.get_backend_name() == "sqlite" or not parsed.username:
        return ""
    if store_usable():
        return ""
    if allow_clear or clear_allowed_by_environment():
        return _(
            "Warning: this computer has no credential store, and {env} allows keeping the "
            "password in the settings file in clear: anyone who can read this laptop's files "
            "can read it."
        ).format(env=ENV_CLEAR)
    return _(
        "The password is not remembered on this computer: it has no credential store, and "
        "the settings file never holds passwords. Type the password at each start (or the "
        "coordinator sets {env}=1 to keep it in clear)."
    ).format(env=ENV_CLEAR)
