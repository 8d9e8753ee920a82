"""``kiosk templates`` and ``kiosk import``: the event's lists, from the .xlsx templates into
the database, all rows or none."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cli.common import open_database, out
from cli.staff import acting, add_staff, add_supervisor, approval
from kiosk.errors import KioskError
from kiosk.i18n import _


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from kiosk.imports import IMPORTABLE

    templates = commands.add_parser(
        "templates", help=_("write one .xlsx template per import into a folder")
    )
    templates.add_argument("directory", metavar="DIR", type=Path)
    templates.set_defaults(func=cmd_templates)

    imp = commands.add_parser(
        "import", help=_("import a filled-in template (.xlsx or .csv); all rows or none")
    )
    imp.add_argument("kind", choices=IMPORTABLE)
    imp.add_argument("file", metavar="FILE", type=Path)
    imp.add_argument(
        "--check", action="store_true", help=_("only check the file and list its problems")
    )
    imp.add_argument(
        "--sheet", metavar="NAME", help=_("the sheet to import when several hold data")
    )
    imp.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="HEADER=FIELD",
        help=_('use a column for a field, e.g. --map "电话号码=phone"; "HEADER=-" leaves it out'),
    )
    add_staff(
        imp,
        required=False,
        help=_("who imports (not needed before the staff list is imported)"),
    )
    add_supervisor(imp)
    imp.set_defaults(func=cmd_import)


def cmd_templates(args: argparse.Namespace) -> int:
    from kiosk.imports.templates import write_templates
    from kiosk.services.imports import template_choices

    database = open_database(args.db)
    branches, slots = template_choices(database.unit_of_work())
    database.dispose()
    for path in write_templates(args.directory, branches=branches, slots=slots):
        out(str(path))
    return 0


def _column_map(pairs: list[str]) -> dict[str, str]:
    """``--map "电话号码=phone"`` pairs as header -> field."""
    found: dict[str, str] = {}
    for pair in pairs:
        header, sep, name = pair.rpartition("=")
        if not sep or not header.strip() or not name.strip():
            raise KioskError(
                _('“{pair}” is not HEADER=FIELD, e.g. --map "电话号码=phone".').format(pair=pair)
            )
        found[header.strip()] = name.strip()
    return found


def _describe_check(check: Any) -> None:
    """The sheet, the mapping used, the columns left out and what was normalised: nothing
    about the file is decided silently."""
    if check.sheet:
        out(_("Sheet: “{sheet}”.").format(sheet=check.sheet))
    for hidden in check.skipped_sheets:
        out(_("Hidden sheet “{sheet}” skipped.").format(sheet=hidden))
    if check.header_row:
        out(_("Header row: {row}.").format(row=check.header_row))
    for header, name in check.mapping:
        out(_("  column “{header}” → {field}").format(header=header, field=name))
    for header in check.unused:
        out(_("  column “{header}” is not imported").format(header=header))
    for sentence in check.normalised_sentences():
        out(sentence)


def cmd_import(args: argparse.Namespace) -> int:
    """Exit 1 with every problem (row, column, what) on stderr when anything is wrong."""
    from kiosk.permissions import Action
    from kiosk.services.imports import Choices, ImportRefused, check_file, import_file

    choices = Choices(args.sheet, _column_map(args.map))
    database = open_database(args.db)
    try:
        if args.check:
            check = check_file(database.unit_of_work(), args.kind, args.file, choices)
            _describe_check(check)
            if check.issues:
                raise ImportRefused(check)
            out(_("{n} rows are ready to import.").format(n=check.rows))
            return 0
        result = import_file(
            database.unit_of_work(),
            args.kind,
            args.file,
            acting(database, args.staff),
            approval=approval(database, args, Action.IMPORT_FILE),
            station="cli",
            choices=choices,
        )
        _describe_check(result.check)
    except ImportRefused as refused:
        _describe_check(refused.check)
        for issue in refused.check.issues:
            out(
                _("row {row}, column “{column}”: {message}").format(
                    row=issue.row, column=issue.column, message=issue.message
                ),
                sys.stderr,
            )
        out(_("kiosk: {message}").format(message=refused), sys.stderr)
        return 1
    finally:
        database.dispose()
    out(result.summary(args.file.name))
    return 0
