"""The ``kiosk-booth`` command of the booth-only build (freeze/, docs/install.md): the
merchant booth window and its commands, as ``kiosk booth …`` offers them, and nothing of the
event desks. A booth laptop holds its own SQLite file and never the event database, so the
build leaves out the event database's drivers and migrations; ``kiosk booth serve`` (the
gateway, which does open the event database) is not offered here.

``kiosk-booth`` opens the booth window; ``kiosk-booth install FILE``, ``scan CODE``, ``list``,
``export FILE``, ``connect URL`` and ``push`` are ``kiosk booth``'s commands of those names.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from cli.booth_commands import add_booth_commands
from cli.main import add_common_options, run_command, set_language_of
from kiosk.i18n import _, set_language


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk-booth",
        description=_("the merchant booth (offline); without a command it opens the booth window"),
    )
    add_common_options(parser, "kiosk-booth")
    add_booth_commands(parser, serve=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    set_language_of(argv)
    args = build_parser().parse_args(argv)
    if args.lang:
        set_language(args.lang)
    args.db = None  # the booth never names an event database
    func: Callable[[argparse.Namespace], int] = args.func
    return run_command(func, args)


if __name__ == "__main__":
    sys.exit(main())
