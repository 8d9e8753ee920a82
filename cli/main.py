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
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from cli.common import launch, out
from kiosk import __version__, datadir
from kiosk.errors import KioskError, OutcomeUnknown
from kiosk.i18n import LANGUAGES, _, set_language

# Not ``typing``'s: importing typing costs ``kiosk --help`` 5 ms of its budget (issue #23).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ENV_LANG = "KIOSK_LANG"
# The action may or may not have been done (the COMMIT was cut off and the database could not
# be asked): run it again with the printed --request-id, which acts at most once.
EXIT_UNKNOWN = 3


class Group:
    """A module of commands: ``function`` of ``module`` adds the parsers of ``commands`` (name,
    help as ``kiosk --help`` lists it). The module is imported only when one of its commands is
    the one given, so ``kiosk --help`` lists every command without importing any of them
    (issue #23: the help as fast as argparse alone, not a second of SQLAlchemy and services;
    for the same reason this module imports only what ``--help`` uses, the rest where needed).
    ``nested``: a module whose ``add_parsers`` fills the subcommands of this group's command."""

    __slots__ = ("commands", "function", "module", "nested")

    def __init__(
        self,
        module: str,
        commands: tuple[tuple[str, str], ...],
        function: str = "add_parsers",
        nested: str | None = None,
    ) -> None:
        # A plain class, not a NamedTuple: that would import ``typing`` for ``kiosk --help``.
        self.module = module
        self.commands = commands
        self.function = function
        self.nested = nested

    def add(self, commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
        getattr(importlib.import_module(self.module), self.function)(commands)
        if self.nested is not None:
            (name,) = (command for command, _help in self.commands)
            importlib.import_module(self.nested).add_parsers(_subcommands(commands.choices[name]))


def groups() -> tuple[Group, ...]:
    """Every command, in the order ``kiosk --help`` lists them; the help texts are the ones the
    modules give their parsers (tests/unit/cli/test_cli_start.py compares them)."""
    return (
        Group("cli.demo_commands", (("demo", _("create (or reset) the demo event and open it")),)),
        Group(
            "cli.database_commands",
            (
                ("init", _("create or upgrade the event database")),
                ("db", _("the event database on the venue LAN")),
            ),
        ),
        Group(
            "cli.event_commands",
            (("info", _("print the event summary with counts")),),
            function="add_info",
        ),
        Group(
            "cli.checkin_commands",
            (("checkin", _("check a customer in by invitation code or customer number")),),
        ),
        Group("cli.slip_commands", (("slip", _("redemption slips")),)),
        Group(
            "cli.statement_commands",
            (("statement", _("write a customer's personal points statement as a PDF")),),
        ),
        Group(
            "cli.event_commands",
            (("event", _("create the event before it, close it after it")),),
            nested="cli.theme_commands",  # kiosk event theme …
        ),
        Group(
            "cli.import_commands",
            (
                ("templates", _("write one .xlsx template per import into a folder")),
                ("import", _("import a filled-in template (.xlsx or .csv); all rows or none")),
            ),
        ),
        Group(
            "cli.export_commands",
            (
                ("export", _("export invitation progress or the slot reminders for the RMs")),
                (
                    "booklet",
                    _("write the printable catalog booklet (PDF) and the HTML e-catalog"),
                ),
            ),
        ),
        Group(
            "cli.windows_commands",
            (
                ("windows", _("arrival windows: show the plan, set the throughput, plan, move")),
                ("reminders", _("reminders sent: tick customers reminded, the share per RM")),
            ),
        ),
        Group(
            "cli.sync_commands",
            (
                ("ledger", _("the reference central points ledger")),
                ("sync", _("pull a snapshot from / push the outbox to the ledger")),
            ),
        ),
        Group(
            "cli.report_commands",
            (("report", _("event reports, settlement and reconciliation (.xlsx or .pdf)")),),
        ),
        Group(
            "cli.rm_commands",
            (("rm", _("the RMs' invitation codes and posters, and the call rule")),),
        ),
        Group(
            "cli.backup_commands",
            (
                ("backup", _("back the event database up to a folder (e.g. a USB stick)")),
                (
                    "restore",
                    _("restore a backup into a new SQLite file or an empty PostgreSQL database"),
                ),
            ),
        ),
        Group("cli.audit_commands", (("audit", _("check and read the audit chain")),)),
        Group(
            "cli.booth_commands",
            (
                ("merchant-pack", _("merchant packs for the booths")),
                (
                    "booth",
                    _("the merchant booth (offline); without a command it opens the booth window"),
                ),
                ("bundle", _("redemption bundles from the booths")),
            ),
        ),
        Group(
            "cli.merchant_commands",  # after the event: review and register
            (
                (
                    "merchants",
                    _("after the event: merchant scorecards, review decisions and the register"),
                ),
            ),
        ),
    )


class LazyCommands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """The subparsers of ``kiosk``: each command starts as its line in the listing and a name
    argparse accepts, and its group's module builds the real parser when argparse reaches that
    name. So ``parse_args`` works on any command line as before, and only the given command's
    module (with what it imports) is loaded; ``full_parser`` builds them all, to walk the tree.
    Not even an empty parser is made per command: each costs argparse a few gettext file
    searches, most of the time 26 of them took to build."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pending: dict[str, Group] = {}

    def add_group(self, group: Group) -> None:
        for name, help_text in group.commands:
            self._choices_actions.append(self._ChoicesPseudoAction(name, (), help_text))
            self._name_parser_map[name] = None  # a valid choice; its parser comes with ``load``
            self.pending[name] = group

    def load(self, name: str) -> None:
        """The real parsers of ``name``'s group in place of the stand-ins; the listing of
        ``kiosk --help`` (the registry's help lines) stays as it was."""
        group = self.pending.get(name)
        if group is None:  # built already, or built eagerly (``app``)
            return
        listed, order = list(self._choices_actions), list(self._name_parser_map)
        names = [command for command, _help in group.commands]
        for command in names:
            del self.pending[command]
            del self._name_parser_map[command]
        before = set(self._name_parser_map)
        group.add(self)
        self._choices_actions[:] = listed
        added = set(self._name_parser_map) - before
        if added != set(names):  # a command missing from groups() would be hidden from --help
            raise RuntimeError(f"{group.module} adds {sorted(added)}, registered {sorted(names)}")
        # Back in the listed order, which argparse's "invalid choice" prints.
        parsers = dict(self._name_parser_map)
        self._name_parser_map.clear()
        self._name_parser_map.update((command, parsers[command]) for command in order)

    def load_all(self) -> None:
        for name in list(self.pending):
            self.load(name)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        self.load(values[0])
        super().__call__(parser, namespace, values, option_string)


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
        if os.environ.get(datadir.ENV_DB)
        else _("event database URL (default: $KIOSK_DB or {path})").format(
            path=datadir.default_url()
        ),
    )
    add_common_options(parser, "kiosk")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", action=LazyCommands)
    for group in groups():
        commands.add_group(group)
    app = commands.add_parser("app", help=_("open the app (the default)"))
    app.set_defaults(func=launch)
    return parser


def add_common_options(parser: argparse.ArgumentParser, program: str) -> None:
    """``--lang`` and ``--version``, shared with the booth build's ``kiosk-booth``."""
    parser.add_argument(
        "--lang",
        choices=sorted(LANGUAGES),
        help=_("language of messages (default: $KIOSK_LANG or zh_CN)"),
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"{program} {__version__}",
        help=_("print the version and stop"),
    )


def full_parser() -> argparse.ArgumentParser:
    """The parser with every command's module imported and built (the tests walk it)."""
    parser = build_parser()
    commands = _subcommands(parser)
    assert isinstance(commands, LazyCommands)
    commands.load_all()
    return parser


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:  # type: ignore[type-arg]
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def set_language_of(argv: Sequence[str]) -> None:
    """The language of ``--lang`` in ``argv``, else ``$KIOSK_LANG``: before the parser is
    built, whose own texts need it."""
    language = os.environ.get(ENV_LANG, "")
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            language = argv[i + 1]
        elif arg.startswith("--lang="):
            language = arg.split("=", 1)[1]
    set_language(language)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    set_language_of(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.lang:
        set_language(args.lang)
    return run_command(getattr(args, "func", launch), args)


def run_command(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a parsed command (``kiosk`` and the booth build's ``kiosk-booth``): its exit code,
    every error as one sentence, and what it opened closed."""
    before = _open_engines()
    _take_notes()  # a command says only what it tightened itself (tests run many in one process)
    try:
        return _run(func, args)
    finally:
        # What the command opened is closed, also when it stopped with an error half-way.
        for engine in _open_engines() - before:
            engine.dispose()
        # Files it found readable by other accounts and tightened (issue #29): said once.
        for note in _take_notes():
            out(_("kiosk: {message}").format(message=note), sys.stderr)


def _open_engines() -> set[Any]:
    """The engines ``kiosk.db`` made, if a command imported it (``kiosk --help`` does not)."""
    database = sys.modules.get("kiosk.db")
    return database.open_engines() if database is not None else set()


def _take_notes() -> list[str]:
    """The files ``kiosk.files`` tightened (issue #29), if a command imported it."""
    files = sys.modules.get("kiosk.files")
    return files.take_notes() if files is not None else []  # type: ignore[no-any-return]


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
        from kiosk.storage import cause_of, file_error

        if cause_of(error) is None:
            return _unexpected(error)
        path = error.filename or Path.cwd()
        out(_("kiosk: {message}").format(message=file_error(error, path)), sys.stderr)
        return 1
    except Exception as error:
        return _unexpected(error)


def _unexpected(error: BaseException) -> int:
    """The last resort: a plain sentence, details only on request."""
    if os.environ.get("KIOSK_DEBUG"):
        import traceback

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
