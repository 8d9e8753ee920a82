"""The ``kiosk`` command: opens the app, and scripts everything an operator repeats.

Exit codes: 0 the action was done (a warning line on stderr for what only partly worked,
e.g. a ticket that could not be written), 1 nothing was done (one plain sentence on stderr,
never a traceback unless ``KIOSK_DEBUG=1``), 2 usage error, 3 not known whether it was done
(repeat with the printed ``--request-id``: it acts at most once). The database is chosen
with ``--db URL`` or ``KIOSK_DB``, else the per-user SQLite file. Qt is imported only to
open the window, so the other commands run on a headless machine and start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from cli import (
    audit_commands,
    backup_commands,
    booth_commands,
    checkin_commands,
    database_commands,
    demo_commands,
    event_commands,
    export_commands,
    import_commands,
    merchant_commands,
    report_commands,
    rm_commands,
    slip_commands,
    statement_commands,
    sync_commands,
    theme_commands,
    windows_commands,
)
from cli.common import launch, out
from kiosk import db as dbmod
from kiosk import storage
from kiosk.errors import KioskError, OutcomeUnknown
from kiosk.files import take_notes
from kiosk.i18n import LANGUAGES, _, set_language
from kiosk.storage import file_error

ENV_LANG = "KIOSK_LANG"
# The action may or may not have been done (the COMMIT was cut off and the database could not
# be asked): run it again with the printed --request-id, which acts at most once.
EXIT_UNKNOWN = 3

# Each adds its commands to the parser, in the order ``kiosk --help`` lists them.
GROUPS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (  # type: ignore[type-arg]
    demo_commands.add_parsers,  # demo
    database_commands.add_parsers,  # init, db
    event_commands.add_info,  # info
    checkin_commands.add_parsers,  # checkin
    slip_commands.add_parsers,  # slip
    statement_commands.add_parsers,  # statement
    event_commands.add_parsers,  # event
    import_commands.add_parsers,  # templates, import
    export_commands.add_parsers,  # export, booklet
    windows_commands.add_parsers,  # windows, reminders
    sync_commands.add_parsers,  # ledger, sync
    report_commands.add_parsers,  # report
    rm_commands.add_parsers,  # rm
    backup_commands.add_parsers,  # backup, restore
    audit_commands.add_parsers,  # audit
    booth_commands.add_parsers,  # merchant-pack, booth, bundle
    merchant_commands.add_parsers,  # merchants (after the event: review and register)
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk",
        description=_(
            "Event-day kiosk for the loyalty-points redemption event. "
            "Without a command it opens the app."
        ),
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        # Set: the variable is the default (its value may hold a password: not printed).
        help=_("event database URL (default: $KIOSK_DB)")
        if os.environ.get(dbmod.ENV_DB)
        else _("event database URL (default: $KIOSK_DB or {path})").format(
            path=dbmod.default_url()
        ),
    )
    parser.add_argument(
        "--lang",
        choices=sorted(LANGUAGES),
        help=_("language of messages (default: $KIOSK_LANG or zh_CN)"),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in GROUPS:
        add(commands)
    # ``kiosk event theme …``: a group of its own under ``event``.
    theme_commands.add_parsers(_subcommands(commands.choices["event"]))
    app = commands.add_parser("app", help=_("open the app (the default)"))
    app.set_defaults(func=launch)
    return parser


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:  # type: ignore[type-arg]
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    language = os.environ.get(ENV_LANG, "")
    for i, arg in enumerate(argv):  # the parser's own texts need the language first
        if arg == "--lang" and i + 1 < len(argv):
            language = argv[i + 1]
        elif arg.startswith("--lang="):
            language = arg.split("=", 1)[1]
    set_language(language)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.lang:
        set_language(args.lang)
    func: Callable[[argparse.Namespace], int] = getattr(args, "func", launch)
    before = dbmod.open_engines()
    take_notes()  # a command says only what it tightened itself (tests run many in one process)
    try:
        return _run(func, args)
    finally:
        # What the command opened is closed, also when it stopped with an error half-way.
        for engine in dbmod.open_engines() - before:
            engine.dispose()
        # Files it found readable by other accounts and tightened (issue #29): said once.
        for note in take_notes():
            out(_("kiosk: {message}").format(message=note), sys.stderr)


def _run(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    try:
        return func(args)
    except OutcomeUnknown as error:
        # Neither done nor not done for sure: its own status, and how to settle it.
        out(_("kiosk: {message}").format(message=error), sys.stderr)
        if error.request_id:
            out(
                _("Run the same command again with --request-id {id}.").format(id=error.request_id),
                sys.stderr,
            )
        return EXIT_UNKNOWN
    except KioskError as error:
        out(_("kiosk: {message}").format(message=error), sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `kiosk … | head` closed the pipe: the reader has what it wanted, so no message; the
        # devnull swap stops Python complaining again while it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:  # a file the command writes: the cause in words, nothing done
        if storage.cause_of(error) is None:
            return _unexpected(error)
        path = error.filename or Path.cwd()
        out(_("kiosk: {message}").format(message=file_error(error, path)), sys.stderr)
        return 1
    except Exception as error:
        return _unexpected(error)


def _unexpected(error: BaseException) -> int:
    """The last resort: a plain sentence, details only on request."""
    if os.environ.get("KIOSK_DEBUG"):
        traceback.print_exception(error)
    out(
        _("kiosk: unexpected error: {message}. Run again with KIOSK_DEBUG=1 for details.").format(
            message=error
        ),
        sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
