"""``kiosk windows …`` and ``kiosk reminders …``: the arrival windows (settings, the plan, a
branch moved) and the reminders sent (an RM's ticks, the per-RM shares), issue #20."""

from __future__ import annotations

import argparse
from pathlib import Path
from zoneinfo import ZoneInfo

from cli.common import open_database, out, positive, writable
from cli.staff import add_staff, signed_in
from kiosk.errors import KioskError
from kiosk.i18n import _


def _throughput(text: str) -> int | None:
    """A positive number of customers, or "none" to plan no windows."""
    if text.strip().lower() in ("none", "-", "无"):
        return None
    return positive(text)


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    windows = commands.add_parser(
        "windows", help=_("arrival windows: show the plan, set the throughput, plan, move")
    )
    group = windows.add_subparsers(dest="windows_command", metavar="WINDOWS_COMMAND")
    windows.set_defaults(func=cmd_windows_show)
    show = group.add_parser("show", help=_("the plan per slot: windows × branches"))
    show.set_defaults(func=cmd_windows_show)
    settings = group.add_parser(
        "set", help=_("set the window length and the customers the desks handle per window")
    )
    settings.add_argument("--minutes", type=positive, help=_("minutes per window (30)"))
    settings.add_argument(
        "--throughput",
        type=_throughput,
        default=argparse.SUPPRESS,
        metavar="N|none",
        help=_("customers the desks handle per window; none: no plan"),
    )
    add_staff(settings, required=True, help=_("the supervisor who sets them"))
    settings.set_defaults(func=cmd_windows_set)
    plan = group.add_parser(
        "plan", help=_("give every confirmed customer a window (keeps the windows given)")
    )
    plan.add_argument(
        "--fresh", action="store_true", help=_("plan afresh instead of keeping windows")
    )
    add_staff(plan, required=True, help=_("the supervisor who plans"))
    plan.set_defaults(func=cmd_windows_plan)
    move = group.add_parser("move", help=_("move a branch of a slot to another window"))
    move.add_argument("slot", metavar="SLOT")
    move.add_argument("branch", metavar="BRANCH")
    move.add_argument("starts", metavar="HH:MM", help=_("the window's start, e.g. 9:30"))
    add_staff(move, required=True, help=_("the supervisor who moves it"))
    move.set_defaults(func=cmd_windows_move)

    reminders = commands.add_parser(
        "reminders", help=_("reminders sent: tick customers reminded, the share per RM")
    )
    rgroup = reminders.add_subparsers(dest="reminders_command", metavar="REMINDERS_COMMAND")
    reminders.set_defaults(func=cmd_reminders_status)
    mark = rgroup.add_parser(
        "mark", help=_("record that you reminded these customers today (your own customers)")
    )
    mark.add_argument(
        "customers", nargs="+", metavar="CUSTOMER", help=_("customer numbers or invitation codes")
    )
    mark.add_argument(
        "--channel",
        default="sms",
        choices=["sms", "phone", "wechat", "branch", "online"],
        help=_("how they were reminded (sms)"),
    )
    add_staff(mark, required=True, help=_("the RM who reminded them"))
    mark.set_defaults(func=cmd_reminders_mark)
    status = rgroup.add_parser(
        "status", help=_("per RM: the share reminded and the share arriving in their window")
    )
    status.add_argument("--out", metavar="FILE.xlsx", type=Path, help=_("also write an .xlsx"))
    status.set_defaults(func=cmd_reminders_status)


def _print_plan(plan) -> None:  # type: ignore[no-untyped-def]
    from kiosk.services.arrival import window_text

    zone = ZoneInfo(plan.timezone)
    for slot in plan.slots:
        out(
            _("{slot}: {n} confirmed customers, {planned} with a window").format(
                slot=slot.label, n=slot.confirmed, planned=slot.planned
            )
        )
        for w in slot.windows:
            branches = "、".join(f"{b} {n}" for b, n in sorted(w.branches.items())) or "—"
            limit = f"/{plan.throughput}" if plan.throughput else ""
            out(f"  {window_text(w.starts_at, w.ends_at, zone)}  {w.total}{limit}  {branches}")
        if slot.unplanned:
            out(
                _("  no window yet: {branches}").format(
                    branches="、".join(f"{b} {n}" for b, n in sorted(slot.unplanned.items()))
                )
            )
        if slot.overflow:
            out("  " + slot.overflow)


def cmd_windows_show(args: argparse.Namespace) -> int:
    from kiosk.services.arrival import WindowSettings, arrival_plan, describe_settings

    database = open_database(args.db)
    try:
        plan = arrival_plan(database.unit_of_work())
    finally:
        database.dispose()
    out(describe_settings(WindowSettings(plan.minutes, plan.throughput)))
    _print_plan(plan)
    return 0


def cmd_windows_set(args: argparse.Namespace) -> int:
    from kiosk.services.arrival import describe_settings, set_window_settings
    from kiosk.services.figure_settings import KEEP

    throughput = getattr(args, "throughput", KEEP)
    if args.minutes is None and throughput is KEEP:
        raise KioskError(_("Give --minutes and/or --throughput."))
    database = open_database(args.db)
    try:
        settings = set_window_settings(
            database.unit_of_work(),
            signed_in(database, args.staff),
            minutes=args.minutes,
            throughput=throughput,
            station="cli",
        )
    finally:
        database.dispose()
    out(describe_settings(settings))
    if settings.cleared:
        out(
            _("{n} planned windows cleared (the length changed): plan again.").format(
                n=settings.cleared
            )
        )
    return 0


def cmd_windows_plan(args: argparse.Namespace) -> int:
    from kiosk.services.arrival import arrival_plan, plan_windows

    database = open_database(args.db)
    try:
        result = plan_windows(
            database.unit_of_work(),
            signed_in(database, args.staff),
            fresh=args.fresh,
            station="cli",
        )
        plan = arrival_plan(database.unit_of_work())
    finally:
        database.dispose()
    out(result.summary())
    _print_plan(plan)
    return 0


def cmd_windows_move(args: argparse.Namespace) -> int:
    from kiosk.services.arrival import move_branch

    database = open_database(args.db)
    try:
        moved = move_branch(
            database.unit_of_work(),
            signed_in(database, args.staff),
            slot=args.slot,
            branch=args.branch,
            starts_at=args.starts,
            station="cli",
        )
    finally:
        database.dispose()
    out(
        _("{n} customers of {branch} now come at {window}.").format(
            n=moved.customers, branch=args.branch.upper(), window=moved.window
        )
    )
    return 0


def cmd_reminders_mark(args: argparse.Namespace) -> int:
    from kiosk.services.reminding import mark_reminded

    database = open_database(args.db)
    try:
        marked = mark_reminded(
            database.unit_of_work(),
            signed_in(database, args.staff),
            args.customers,
            channel=args.channel,
            station="cli",
        )
    finally:
        database.dispose()
    out(marked.summary())
    return 0


def cmd_reminders_status(args: argparse.Namespace) -> int:
    from kiosk.services.reminding import percent_text, rm_reminder_figures

    path = getattr(args, "out", None)
    if path is not None:
        writable(path)
    database = open_database(args.db)
    try:
        figures = rm_reminder_figures(database.unit_of_work())
    finally:
        database.dispose()
    for r in [*figures.rms, figures.total]:
        who = (
            f"{r.rm_no} {r.rm_name}"
            if r.rm_no
            else (_("Total") if r is figures.total else _("(no RM)"))
        )
        out(
            _(
                "{who}: {reminded} of {confirmed} reminded ({share}); {in_window} of "
                "{with_window} arrived in their window ({window_share})"
            ).format(
                who=who,
                reminded=r.reminded,
                confirmed=r.confirmed,
                share=percent_text(r.reminded_share),
                in_window=r.in_window,
                with_window=r.with_window,
                window_share=percent_text(r.in_window_share),
            )
        )
    if path is not None:
        from printing.invitations import write_reminder_figures

        out(_("Written to {path}.").format(path=write_reminder_figures(figures, path)))
    return 0
