"""``kiosk event theme``: themed sessions (专场, issue #20). Define a theme of the event or of
one slot (its services and its audience rule), see its candidates per branch and RM, and
invite them once confirmed."""

from __future__ import annotations

import argparse
import sys

from cli.common import open_database, out
from cli.staff import add_staff, signed_in
from kiosk.errors import KioskError
from kiosk.i18n import _, listing


def _listed(values: list[str] | None) -> tuple[str, ...]:
    """Repeated options, each possibly a comma-separated list."""
    found: list[str] = []
    for value in values or ():
        found += [part.strip() for part in value.replace("，", ",").split(",") if part.strip()]
    return tuple(found)


def _yes_no(text: str) -> bool:
    answer = text.strip().lower()
    if answer in ("yes", "y", "是"):
        return True
    if answer in ("no", "n", "否"):
        return False
    raise argparse.ArgumentTypeError(_("“{text}” is not yes or no.").format(text=text))


def _points(text: str) -> int:
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not cleaned.isdigit():
        raise argparse.ArgumentTypeError(
            _("“{text}” is not a whole number of points.").format(text=text)
        )
    return int(cleaned)


def add_parsers(event_commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``theme`` under ``kiosk event`` (cli/main.py hands over the event's subcommands)."""
    theme = event_commands.add_parser(
        "theme", help=_("themed sessions (专场): services, audience, invitations")
    )
    commands = theme.add_subparsers(dest="theme_command", metavar="THEME_COMMAND", required=True)
    show = commands.add_parser("show", help=_("list the themes, or show one"))
    show.add_argument("code", nargs="?")
    show.set_defaults(func=cmd_theme_show)

    set_ = commands.add_parser("set", help=_("define a theme, or replace it"))
    set_.add_argument("code")
    set_.add_argument("--name", required=True, help=_("what customers read, e.g. 洗车观影专场"))
    set_.add_argument("--slot", help=_("slot code (default: the whole event)"))
    for option, what in (
        ("--category", _("service category, e.g. car (repeat, or a, b)")),
        ("--merchant", _("merchant code (repeat, or a, b)")),
        ("--offer", _("service code (repeat, or a, b)")),
        ("--tier", _("event tier code or name (repeat, or a, b)")),
        ("--employer", _("payroll employer (代发薪单位) (repeat)")),
        ("--product", _("product held, e.g. 外汇 (repeat, or a, b)")),
    ):
        set_.add_argument(option, action="append", help=what)
    set_.add_argument("--points-min", type=_points, metavar="POINTS")
    set_.add_argument("--points-max", type=_points, metavar="POINTS")
    set_.add_argument(
        "--affordable",
        action="store_true",
        help=_("only customers whose points buy at least one of its services"),
    )
    set_.add_argument("--dormant", type=_yes_no, metavar="yes|no")
    add_staff(set_, required=True, help=_("supervisor who sets it"))
    set_.set_defaults(func=cmd_theme_set)

    remove = commands.add_parser("remove", help=_("remove a theme (its invitations stay)"))
    remove.add_argument("code")
    add_staff(remove, required=True, help=_("supervisor who removes it"))
    remove.set_defaults(func=cmd_theme_remove)

    audience = commands.add_parser(
        "audience", help=_("the theme's candidates per branch and RM (nothing is written)")
    )
    audience.add_argument("code")
    audience.set_defaults(func=cmd_theme_audience)

    invite = commands.add_parser(
        "invite", help=_("invite the candidates not yet invited, after the counts")
    )
    invite.add_argument("code")
    invite.add_argument("--slot", help=_("slot of the invitations (a whole-event theme)"))
    invite.add_argument("--yes", action="store_true", help=_("do not ask; invite the counts shown"))
    add_staff(invite, required=True, help=_("supervisor who invites"))
    invite.set_defaults(func=cmd_theme_invite)


def _describe(view) -> list[str]:  # type: ignore[no-untyped-def]
    spec = view.spec
    lines = [
        _("{code}  {name}  ({scope})").format(
            code=spec.code,
            name=spec.name,
            scope=_("slot {slot}").format(slot=view.slot_label or spec.slot)
            if spec.slot
            else _("the whole event"),
        ),
        "  " + _("Services: {codes}").format(codes=" ".join(view.offer_codes)),
    ]
    rule = []
    if spec.points_min is not None or spec.points_max is not None:
        rule.append(
            _("points {low} to {high}").format(
                low=f"{spec.points_min:,}" if spec.points_min is not None else "0",
                high=f"{spec.points_max:,}" if spec.points_max is not None else "∞",
            )
        )
    if spec.affordable:
        rule.append(_("can afford one of its services"))
    if spec.tiers:
        rule.append(_("tiers {tiers}").format(tiers=", ".join(spec.tiers)))
    if spec.dormant is not None:
        rule.append(_("dormant") if spec.dormant else _("not dormant"))
    if spec.employers:
        rule.append(_("employers {names}").format(names="、".join(spec.employers)))
    if spec.products:
        rule.append(_("holding {products}").format(products="、".join(spec.products)))
    lines.append("  " + _("Audience: {rule}").format(rule=listing(rule) or _("everyone")))
    return lines


def _counts(audience) -> None:  # type: ignore[no-untyped-def]
    out(
        _(
            "Theme {theme}: {candidates:,} candidates, {invited:,} already invited,"
            " {new:,} to invite."
        ).format(
            theme=audience.theme,
            candidates=audience.candidates,
            invited=audience.invited,
            new=audience.new,
        )
    )
    if audience.nobody():
        out(audience.nobody())
        return
    out(_("Per branch (candidates / already invited / to invite):"))
    for row in audience.branches:
        out(f"  {row.code}  {row.name}  {row.candidates:,} / {row.invited:,} / {row.new:,}")
    out(_("Per RM (candidates / already invited / to invite):"))
    for row in audience.rms:
        who = f"{row.code}  {row.name}" if row.code else row.name
        out(f"  {row.branch or '-'}  {who}  {row.candidates:,} / {row.invited:,} / {row.new:,}")


def cmd_theme_show(args: argparse.Namespace) -> int:
    from kiosk.services import themes

    database = open_database(args.db)
    try:
        views = (
            [themes.theme(database.unit_of_work(), args.code)]
            if args.code
            else themes.themes(database.unit_of_work())
        )
    finally:
        database.dispose()
    if not views:
        out(_("The event has no theme: every slot offers the whole catalog."))
    for view in views:
        for line in _describe(view):
            out(line)
    return 0


def cmd_theme_set(args: argparse.Namespace) -> int:
    from kiosk.services import themes

    spec = themes.ThemeSpec(
        code=args.code,
        name=args.name,
        slot=args.slot,
        categories=_listed(args.category),
        merchants=_listed(args.merchant),
        offers=_listed(args.offer),
        points_min=args.points_min,
        points_max=args.points_max,
        affordable=args.affordable,
        tiers=_listed(args.tier),
        dormant=args.dormant,
        employers=tuple(args.employer or ()),
        products=_listed(args.product),
    )
    database = open_database(args.db)
    try:
        view = themes.set_theme(
            database.unit_of_work(), spec, signed_in(database, args.staff), station="cli"
        )
    finally:
        database.dispose()
    for line in _describe(view):
        out(line)
    return 0


def cmd_theme_remove(args: argparse.Namespace) -> int:
    from kiosk.services import themes

    database = open_database(args.db)
    try:
        themes.remove_theme(
            database.unit_of_work(), args.code, signed_in(database, args.staff), station="cli"
        )
    finally:
        database.dispose()
    out(_("Theme {code} removed.").format(code=args.code.upper()))
    return 0


def cmd_theme_audience(args: argparse.Namespace) -> int:
    from kiosk.services import themes

    database = open_database(args.db)
    try:
        audience = themes.audience(database.unit_of_work(), args.code)
    finally:
        database.dispose()
    _counts(audience)
    return 0


def cmd_theme_invite(args: argparse.Namespace) -> int:
    from kiosk.services import themes

    database = open_database(args.db)
    try:
        staff = signed_in(database, args.staff)
        audience = themes.audience(database.unit_of_work(), args.code)
        _counts(audience)
        if audience.nobody():
            raise themes.EmptyAudience(audience.nobody())
        if not args.yes:
            if not sys.stdin.isatty():
                raise KioskError(_("Add --yes to invite them (no terminal to ask on)."))
            answer = input(_("Invite {n:,} customers? [y/N] ").format(n=audience.new))
            if answer.strip().lower() not in ("y", "yes", "是"):
                out(_("Nothing was done."))
                return 1
        done = themes.invite(
            database.unit_of_work(),
            args.code,
            staff,
            slot=args.slot,
            expect=audience.new,
            station="cli",
        )
    finally:
        database.dispose()
    out(
        _("{created:,} invited to slot {slot}; {already:,} were invited already.").format(
            created=done.created, slot=done.slot, already=done.already
        )
    )
    return 0
