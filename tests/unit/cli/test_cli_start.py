"""``kiosk --help`` starts as fast as argparse alone (issue #23): it lists every command
without importing any command's module, and a command's own parser (and what it imports) is
built only when that command is the one given (``cli.main.LazyCommands``).

What is checked, and why so: the imports of ``kiosk --help`` in a fresh process (a process
that ran other tests has everything imported already); the listing against the commands the
modules really add, found the slow way, so a command added to a module but not to
``cli.main.groups()`` fails here; and every parser's ``--help`` through ``main`` against the
parser built eagerly, so the lazy build changes nothing a user sees. No timings: those are
measured by ``python -m benchmarks cli_start``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.main import Group, LazyCommands, build_parser, full_parser, groups, main
from kiosk.i18n import _, get_language, set_language

ROOT = Path(__file__).resolve().parents[3]
# Nothing ``kiosk --help`` needs: the database layer, the services, Qt, the file formats.
HEAVY = (
    "sqlalchemy",
    "alembic",
    "psycopg",
    "PySide6",
    "shiboken6",
    "openpyxl",
    "reportlab",
    "cryptography",
    "kiosk.db",
    "kiosk.models",
    "kiosk.services",
    "ui",
    "printing",
    "sync",
)
# ``main(argv)`` in a fresh interpreter: its exit code, what it printed, every module loaded.
RUNNER = """
import contextlib, io, json, sys
from cli.main import main
printed = io.StringIO()
with contextlib.redirect_stdout(printed):
    try:
        code = main(json.loads(sys.argv[1]))
    except SystemExit as stop:
        code = stop.code
print(json.dumps({"code": code, "help": printed.getvalue(), "modules": sorted(sys.modules)}))
"""


@pytest.fixture(autouse=True)
def _language_kept() -> Iterator[None]:
    """``main`` sets the process's language; the tests after these keep theirs."""
    before = get_language()
    yield
    set_language(before)


def fresh_run(*argv: str) -> dict:  # type: ignore[type-arg]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KIOSK_LANG": "en"}
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, json.dumps(list(argv))],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


def command_modules(modules: list[str]) -> list[str]:
    return [m for m in modules if m.startswith("cli.") and m.endswith("_commands")]


def listing(parser: argparse.ArgumentParser) -> list[tuple[str, str | None]]:
    """The commands ``--help`` lists, in order, with their help lines."""
    commands = _subparsers(parser)
    return [(action.dest, action.help) for action in commands._choices_actions]


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:  # type: ignore[type-arg]
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def slow_commands() -> dict[str, str | None]:
    """The top-level commands the modules add, with the help they give them, found without
    the registry: every ``add_*`` function of every ``cli/*_commands.py`` that takes the
    top-level ``commands``."""
    parser = argparse.ArgumentParser(prog="kiosk")
    commands = parser.add_subparsers(dest="command")
    for path in sorted((ROOT / "cli").glob("*_commands.py")):
        module = importlib.import_module(f"cli.{path.stem}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__ or not name.startswith("add_"):
                continue
            if list(inspect.signature(function).parameters)[:1] == ["commands"]:
                function(commands)
    return {action.dest: action.help for action in commands._choices_actions}


def all_paths(parser: argparse.ArgumentParser) -> list[list[str]]:
    """Every parser of the tree, as the command words that reach it."""
    found: list[list[str]] = []

    def walk(at: argparse.ArgumentParser, words: list[str]) -> None:
        found.append(words)
        for action in at._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, [*words, name])

    walk(parser, [])
    return found


def test_help_imports_no_command_module_and_nothing_heavy() -> None:
    ran = fresh_run("--help")
    assert ran["code"] == 0
    assert heavy(ran["modules"]) == []
    assert command_modules(ran["modules"]) == []
    set_language("en")
    assert ran["help"] == full_parser().format_help()


def test_the_detector_sees_what_a_command_imports() -> None:
    """The same run, for a command: its own module is loaded, and only its own."""
    ran = fresh_run("slip", "--help")
    assert ran["code"] == 0
    assert command_modules(ran["modules"]) == ["cli.slip_commands"]
    assert ran["help"].startswith("usage: kiosk slip ")


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_the_listing_is_the_full_parsers_in_order(language: str) -> None:
    set_language(language)
    lazy, full = build_parser(), full_parser()
    assert listing(lazy) == listing(full)
    assert lazy.format_help() == full.format_help()
    assert list(_subparsers(lazy).choices) == list(_subparsers(full).choices)


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_every_command_a_module_adds_is_registered_with_its_help(language: str) -> None:
    """A command added to a module but not to ``cli.main.groups()`` would be missing from
    ``kiosk --help``, and a help changed in one place only would differ: the slow way finds
    both."""
    set_language(language)
    registered = dict(listing(build_parser()))
    assert registered.pop("app") == _("open the app (the default)")
    assert registered == slow_commands()
    assert len(registered) == sum(len(g.commands) for g in groups())


def test_a_group_adding_an_unregistered_command_is_refused() -> None:
    """The registry's own check: the real parsers replace exactly the stand-ins."""
    parser = argparse.ArgumentParser(prog="kiosk")
    commands = parser.add_subparsers(dest="command", action=LazyCommands)
    commands.add_group(Group("cli.slip_commands", (("slips", "misspelt in the registry"),)))
    with pytest.raises(RuntimeError, match=r"cli.slip_commands adds \['slip'\]"):
        parser.parse_args(["slips", "verify", "ABC"])


def test_loading_a_command_keeps_the_order_argparse_prints() -> None:
    parser = build_parser()
    before = list(_subparsers(parser).choices)
    parser.parse_args(["slip", "verify", "ABC"])
    assert list(_subparsers(parser).choices) == before
    assert listing(parser) == listing(build_parser())


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_every_commands_help_is_the_eager_parsers(language: str) -> None:
    """``kiosk <command …> --help`` through ``main``, for every parser of the tree: exit 0 and
    the help the eagerly built parser gives."""
    set_language(language)
    full = full_parser()
    paths = all_paths(full)
    assert len(paths) > len(groups())
    for words in paths:
        expected = full
        for word in words:
            expected = _subparsers(expected).choices[word]
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed), pytest.raises(SystemExit) as stop:
            main(["--lang", language, *words, "--help"])
        assert stop.value.code == 0, words
        set_language(language)  # main set it from --lang already; the eager help is in it too
        assert printed.getvalue() == expected.format_help(), words


def test_an_unknown_command_lists_the_commands_in_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--lang", "en", "nosuch"])
    assert stop.value.code == 2
    names = ", ".join(repr(name) for name, _help in listing(build_parser()))
    assert f"invalid choice: 'nosuch' (choose from {names})" in capsys.readouterr().err
