"""``kiosk demo``: create (or reset) the demo event, play a whole demo day on a simulated
clock (``--simulate``), and open the app on it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cli.common import iso_date, launch, open_database, out, positive, positive_float
from kiosk.demo import DEMO_PIN, DEMO_SEED
from kiosk.errors import KioskError
from kiosk.i18n import _

if TYPE_CHECKING:
    from kiosk.db import Database


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    demo = commands.add_parser("demo", help=_("create (or reset) the demo event and open it"))
    demo.add_argument("--no-gui", action="store_true", help=_("do not open the window"))
    demo.add_argument(
        "--yes", "-y", action="store_true", help=_("replace an existing demo event without asking")
    )
    demo.add_argument("--seed", type=int, default=DEMO_SEED, help=_("random seed"))
    demo.add_argument("--invitees", type=positive, default=240, help=_("number of invitees"))
    demo.add_argument("--date", type=iso_date, help=_("event date (default: today)"))
    demo.add_argument(
        "--simulate",
        action="store_true",
        help=_(
            "play a whole demo day through the stations' services (arrivals, desks, slips, "
            "booth redemptions) on a simulated clock"
        ),
    )
    demo.add_argument(
        "--speed",
        type=positive_float,
        metavar="N",
        help=_(
            "with --simulate: play the day N times faster than real time, so the dashboard "
            "can watch it (default: as fast as possible)"
        ),
    )
    demo.add_argument(
        "--booth-dir",
        type=Path,
        metavar="FOLDER",
        help=_(
            "with --simulate: keep the merchant booths' database files here "
            "(default: a temporary folder)"
        ),
    )
    demo.set_defaults(func=cmd_demo)


def _confirm(question: str) -> bool:
    if not sys.stdin or not sys.stdin.isatty():
        return False
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes", "是", "好")


def cmd_demo(args: argparse.Namespace) -> int:
    from kiosk.demo import create_demo
    from kiosk.services.events import current_event

    database = open_database(args.db)
    create = True
    with database.unit_of_work() as uow:
        try:
            existing = current_event(uow.session)
        except KioskError:
            existing = None
        if existing is not None and not existing.is_demo:
            raise KioskError(
                _(
                    "This database holds the real event “{name}”; the demo never "
                    "replaces it. Use another database: kiosk --db URL demo."
                ).format(name=existing.name)
            )
        if existing is not None and not args.yes:
            create = _confirm(
                _(
                    "This database already holds a demo event. Replace it with a "
                    "fresh one (all its check-ins and slips are deleted)?"
                )
            )
            if not create:
                out(_("Kept the existing demo event."))
    if args.simulate and not create:
        raise KioskError(_("The simulation plays a fresh demo day; run it with --yes."))
    if (args.speed or args.booth_dir) and not args.simulate:
        raise KioskError(_("--speed and --booth-dir go with --simulate."))
    if create:
        summary = create_demo(
            database.unit_of_work(), seed=args.seed, event_date=args.date, invitees=args.invitees
        )
        out(
            _(
                "Demo event created for {date}: {invitees} invitees from {branches} branches, "
                "{merchants} merchants, {offers} offers, {staff} staff."
            ).format(
                date=summary.event_date,
                invitees=summary.invitees,
                branches=summary.branches,
                merchants=summary.merchants,
                offers=summary.offers,
                staff=summary.staff,
            )
        )
        out(
            _(
                "Sign in with staff number S001 (supervisor), R001 (reception), RM001 "
                "(relationship manager), A001 (activation) or M001 (merchant); every PIN is {pin}."
            ).format(pin=DEMO_PIN)
        )
    if args.simulate:
        return _simulate(args, database)
    database.dispose()
    if args.no_gui:
        return 0
    return launch(args)


def _simulate(args: argparse.Namespace, database: Database) -> int:
    """Play the demo day: headless (as fast as possible, or at --speed), or at --speed in the
    app, where the dashboard watches it live."""
    import shutil
    import tempfile
    import time

    from kiosk.simulate import SimClock, Simulation, SimulationSummary

    folder = args.booth_dir or Path(tempfile.mkdtemp(prefix="kiosk-booths-"))

    def tidy() -> None:
        if args.booth_dir is None:  # our temporary booth files
            shutil.rmtree(folder, ignore_errors=True)

    if args.speed and not args.no_gui:
        database.dispose()
        out(
            _(
                "The app opens and plays the day {speed:g} times faster than real time; sign in "
                "as S001 (PIN {pin}) and open the dashboard."
            ).format(speed=args.speed, pin=DEMO_PIN)
        )
        from ui.app import run_app

        def start(db: Database, clock: SimClock) -> Simulation:
            return Simulation(db, folder, seed=args.seed, clock=clock)

        try:
            return run_app(db_url=args.db, language=args.lang, simulation=start, speed=args.speed)
        finally:
            tidy()
    simulation = Simulation(database, folder, seed=args.seed)
    started, hour = time.monotonic(), None
    while not simulation.done:
        moment = simulation.next_at
        assert moment is not None
        if args.speed:
            due = started + (moment - simulation.starts_at).total_seconds() / args.speed
            time.sleep(max(0.0, due - time.monotonic()))
        simulation.run_until(moment)
        local = simulation.clock.now().astimezone(simulation.zone)
        if local.hour != hour:
            hour = local.hour
            out(
                _("{time}: {arrivals} arrivals, {slips} slips, {redeemed} redeemed").format(
                    time=local.strftime("%H:%M"),
                    arrivals=simulation.summary.arrivals,
                    slips=simulation.summary.slips,
                    redeemed=simulation.summary.redeemed,
                )
            )
    simulation.close()
    tidy()
    s: SimulationSummary = simulation.summary
    out(
        _(
            "Simulated day over at {time}: {arrivals} arrivals ({walk_ins} walk-ins), {governed} "
            "governed, {opened} mobile banking opened, {logins} logins, {scan} scan-pays, "
            "{slips} slips ({voided} voided), {redeemed} redeemed at the booths."
        ).format(
            time=simulation.clock.now().astimezone(simulation.zone).strftime("%H:%M"),
            arrivals=s.arrivals,
            walk_ins=s.walk_ins,
            governed=s.governed,
            opened=s.mobile_banking_opened,
            logins=s.logins,
            scan=s.scan_pays,
            slips=s.slips,
            voided=s.voided,
            redeemed=s.redeemed,
        )
    )
    out(
        _(
            "After the event: {deliveries} services delivered, {calls} satisfaction calls, "
            "{complaints} complaints."
        ).format(deliveries=s.deliveries, calls=s.calls, complaints=s.complaints)
    )
    out(
        _(
            "Redemption gate: {overrides} customers let through by a supervisor, {held} left "
            "without slips."
        ).format(overrides=s.overrides, held=s.held_at_gate)
    )
    if s.refused:
        out(
            _("{n} actions were refused by the services, e.g. “{example}”").format(
                n=len(s.refused), example=s.refused[0]
            )
        )
    clock = simulation.clock
    database.dispose()
    if args.no_gui:
        return 0
    from ui.app import run_app

    return run_app(db_url=args.db, language=args.lang, clock=clock)
