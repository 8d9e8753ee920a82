"""What every command group of ``kiosk`` shares: the output lines, argument types, the event
passphrase, request ids, and opening the window.

The groups (``cli/*_commands.py``) import this module and ``cli.staff``, never each other and
never ``cli.main``, so the package has no import circle (``tests/unit/cli/test_cli_layout.py``).
Everything here is light: ``kiosk --help`` imports it whole.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kiosk.errors import KioskError
from kiosk.i18n import _

# Not ``typing``'s, and ``datetime`` only where a date is parsed: ``kiosk --help`` imports this
# module whole and each import is milliseconds of its budget (issue #23).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import date
    from typing import TextIO

    from kiosk.db import Database


def out(text: str = "", stream: TextIO | None = None) -> None:
    """One line of the command's answer (stdout), or of what went wrong (``sys.stderr``)."""
    print(text, file=stream or sys.stdout)


def warn(text: str) -> None:
    """What only partly worked, after the action itself was done (exit status stays 0)."""
    out(_("kiosk: warning: {message}").format(message=text), sys.stderr)


def open_database(url: str | None, *, migrate_schema: bool = True) -> Database:
    """The event database (``kiosk.db.open_database``), imported here when a command runs: the
    commands' modules stay free of SQLAlchemy, so their ``--help`` starts fast (issue #23)."""
    from kiosk import netwait
    from kiosk.db import open_database as open_event_database

    # Every wait on the event database bounded (kiosk.netwait): a server gone silent ends
    # the command with a sentence instead of hanging it.
    return open_event_database(
        url,
        migrate_schema=migrate_schema,
        bound=netwait.command_bound(),
        server_timeouts=False,
    )


def open_as_owner(url: str | None, action: str) -> Database:
    """The event database for a command only its owner account may run (``action``: what
    it does, in words); a station's URL is refused in one sentence (``kiosk.dbroles``)."""
    from kiosk.dbroles import require_owner

    database = open_database(url)
    try:
        require_owner(database, action)
    except KioskError:
        database.dispose()
        raise
    return database


def iso_date(text: str) -> date:
    """An argument type: a date like 2026-11-28."""
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("“{text}” is not a date like 2026-11-28.").format(text=text)
        ) from None


def points_or_none(text: str) -> int | None:
    """An argument type: points above zero, thousands separators allowed, or none."""
    cleaned = text.strip().replace(",", "").replace("，", "").replace("_", "")
    if cleaned.lower() in ("none", ""):
        return None
    if not cleaned.isdigit() or int(cleaned) <= 0:
        raise argparse.ArgumentTypeError(
            _("“{text}” is not a number of points like 1500000000, or none.").format(text=text)
        )
    return int(cleaned)


def date_or_none(text: str) -> date | None:
    """An argument type: a date like 2026-11-28, or none."""
    return None if text.strip().lower() in ("none", "") else iso_date(text.strip())


def positive(text: str) -> int:
    """An argument type: a whole number above zero."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(
            _("“{text}” is not a positive whole number.").format(text=text)
        )
    return value


def positive_float(text: str) -> float:
    """An argument type: a number above zero."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(_("“{text}” is not a positive number.").format(text=text))
    return value


def secret(variable: str, prompt: str, refusal: str) -> str:
    """A passphrase or PIN: from the environment ``variable`` for scripts, else typed on the
    terminal without echo after ``prompt``; never an argument (it would sit in the shell
    history and in the process list). Without either, ``refusal`` says what to do."""
    value = os.environ.get(variable)
    if value:
        return value
    if not sys.stdin or not sys.stdin.isatty():
        raise KioskError(refusal)
    import getpass

    return getpass.getpass(prompt)


def passphrase() -> str:
    """The event passphrase: $KIOSK_PASSPHRASE, else typed."""
    return secret(
        "KIOSK_PASSPHRASE",
        _("Event passphrase: "),
        _("Set KIOSK_PASSPHRASE or run on a terminal to type the event passphrase."),
    )


def add_request_id(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--request-id",
        metavar="ID",
        help=_(
            "repeat an earlier try of this same command: it is done at most once, and a try "
            "that went through is answered as it was (default: a new id, printed first)"
        ),
    )


def request_id_of(args: argparse.Namespace) -> str:
    """The command's request id, printed before it acts: whatever happens next, running the
    same command again with it cannot do the action twice."""
    from kiosk import idempotency  # SQLAlchemy: not for ``kiosk --help``

    found = (
        idempotency.checked(args.request_id) if args.request_id else idempotency.new_request_id()
    )
    out(
        _("Request {id} (to repeat this command safely: --request-id {id})").format(id=found),
        sys.stderr,
    )
    return found


def read_bytes(path: str, *, limit: int = -1) -> bytes:
    """A file the command reads (a pack, a bundle); one sentence when it cannot. With
    ``limit``, no more than ``limit + 1`` bytes: enough for the parser to refuse a file too
    large to be what it claims, without holding all of it."""
    try:
        with open(path, "rb") as file:
            return file.read(limit + 1 if limit >= 0 else -1)
    except OSError as error:
        raise KioskError(
            _("Cannot read {path}: {reason}.").format(path=path, reason=error.strerror or error)
        ) from None


def writable(path: Path) -> None:
    """One sentence instead of a traceback when the file cannot be written."""
    if not path.parent.is_dir():
        raise KioskError(_("The folder {folder} does not exist.").format(folder=path.parent))


def launch(args: argparse.Namespace) -> int:
    """Open the app's window (``kiosk``, ``kiosk app``, ``kiosk demo``); Qt is imported only
    here, so every other command runs on a headless machine."""
    from ui.app import run_app

    return run_app(db_url=args.db, language=args.lang)


ENV_LEDGER = "KIOSK_LEDGER"


def ledger_url(args: argparse.Namespace) -> str:
    """Where the points ledger is: ``--ledger`` / ``--url``, else ``KIOSK_LEDGER``."""
    url = args.ledger or os.environ.get(ENV_LEDGER)
    if not url:
        raise KioskError(_("Say where the points ledger is: --ledger URL or KIOSK_LEDGER."))
    return url


def passphrase_at_hand() -> bool:
    """The event passphrase can be had without stopping: $KIOSK_PASSPHRASE, or a terminal."""
    return bool(os.environ.get("KIOSK_PASSPHRASE")) or bool(sys.stdin and sys.stdin.isatty())


def checkpoint_key(database: Database, *, required: bool = False):  # type: ignore[no-untyped-def]
    """The event's signing key for checkpoints of the audit chain (issue #26), unlocked with
    the passphrase when it is at hand; else None and a warning that no checkpoint is signed
    (a backup or a push still goes on: it is worth more than its checkpoint). ``required``:
    ask for the passphrase anyway (a sentence when it cannot be had)."""
    from kiosk.services import checkpoints

    if not required and not passphrase_at_hand():
        warn(
            _(
                "no checkpoint of the audit chain was signed: it needs the event passphrase "
                "(KIOSK_PASSPHRASE or typed on a terminal)."
            )
        )
        return None
    return checkpoints.unlock(database.unit_of_work(), passphrase())


def sign_checkpoint(database: Database, key, reason: str, staff=None):  # type: ignore[no-untyped-def]
    """Sign a checkpoint with ``key`` (None: nothing) and say so; the checkpoint or None.
    ``staff`` signs as themselves when a supervisor; otherwise the passphrase is the
    authority (``kiosk.services.checkpoints``)."""
    from kiosk.models import Role
    from kiosk.services import checkpoints

    if key is None:
        return None
    signer = staff if staff is not None and Role.SUPERVISOR in staff.roles else None
    signed = checkpoints.sign_checkpoint(
        database.unit_of_work(), key, reason=reason, staff=signer, station="cli"
    )
    out(
        _("Checkpoint signed: the audit chain's {n} records, head {head}.").format(
            n=signed.count, head=signed.head[:16]
        )
    )
    return signed
