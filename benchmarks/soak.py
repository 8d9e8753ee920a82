"""A compressed event day: every station signed in, live, while another process works the event.

A station runs eight hours at the venue. Whatever it does on a timer, a repaint or a live
refresh must leave memory, open descriptors, threads, database connections and the
interpreter's reference counts flat: PySide6 6.12.0 lost a reference to ``None`` on every call
from Qt into Python, and a signed-in dashboard aborted after about ten minutes
(``Fatal Python error: none_dealloc``). No ordinary test runs long enough to see that.

The soak starts, each in its own process, as on separate laptops:

- ``activity``: the simulated demo day (``kiosk.simulate``), played through the real
  services at ``speed`` times real time: check-ins, desks calling, governance, slips, booth
  redemptions and bundle imports;
- one window per station, signed in and live on the same event database: reception
  (R001), service desk (RM001), activation desk (A001), dashboard (S001), and a merchant
  booth of M01 online on the event database, which scans every slip issued for any merchant
  as it appears (valid ones redeemed at once, the others refused as another merchant's).

Every periodic timer of the app runs ``1 / scale`` times as often (``KIOSK_TIMER_SCALE``,
``ui.timing``), so two minutes at scale 0.1 are twenty minutes of timer work. Each station
samples itself once a second: resident memory, open descriptors, threads, descriptors or
sockets that are connections to the event database, and ``sys.getrefcount`` of ``None``,
``True`` and ``False`` (after a full garbage collection, so the count is what live objects
hold); and a 100 ms precise timer records how late each tick came (the
event loop's responsiveness). ``analyse`` turns the samples into growth per hour after a
warm-up, and ``problems`` names what is not flat.

``python -m benchmarks --only soak`` runs 20 minutes at scale 1/24 (an 8-hour day of timers;
``--quick``: 3 minutes); ``tests/soak/test_soak.py`` runs 2 minutes in CI and fails on a
crash, a downward reference-count trend, or growth in descriptors or connections.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import ROOT, BenchmarkError, Row, progress
from kiosk.clock import Clock
from ui.health import sample

STATIONS: dict[str, str] = {  # station -> the staff member signed in at it
    "reception": "R001",
    "service_desk": "RM001",
    "activation": "A001",
    "dashboard": "S001",
    "booth": "M01",  # the booth is a merchant's own window; no event staff signs in
}
PIN = "1234"
PASSPHRASE = "demo-passphrase"
LATENESS_TICK_MS = 100
SAMPLE_EVERY_S = 1.0
ENV_CENSUS = "KIOSK_SOAK_CENSUS"


# -- the shared simulated clock ---------------------------------------------------------------


class ScaledClock(Clock):
    """The simulated time every process of the soak agrees on: ``sim0`` at wall ``wall0``,
    then ``speed`` simulated seconds per real second."""

    def __init__(self, sim0: datetime, wall0: float, speed: float) -> None:
        super().__init__()
        self.sim0, self.wall0, self.speed = sim0, wall0, speed

    def now(self) -> datetime:
        return self.sim0 + timedelta(seconds=(time.time() - self.wall0) * self.speed)


# -- the child processes ----------------------------------------------------------------------


def run_activity(url: str, booth_dir: str, clock: ScaledClock, seconds: float) -> int:
    """The rest of the event, in this process: the simulated day at the soak's speed."""
    from kiosk.db import open_database
    from kiosk.simulate import SimClock, Simulation

    database = open_database(url)
    sim_clock = SimClock(clock.now())
    simulation = Simulation(database, Path(booth_dir), clock=sim_clock, seed=7)
    ends = time.monotonic() + seconds
    actions = 0
    while time.monotonic() < ends and not simulation.done:
        actions += simulation.run_until(clock.now())
        time.sleep(0.05)
    simulation.close()
    database.dispose()
    print(json.dumps({"actions": actions, "refused": len(simulation.summary.refused)}))
    return 0


def run_station(
    station: str, url: str, booth_path: str | None, clock: ScaledClock, seconds: float, out: str
) -> int:
    """One station's window, signed in, live; samples itself into ``out`` (JSON lines)."""
    from PySide6.QtCore import QElapsedTimer, QSettings, Qt, QTimer

    from kiosk.db import open_database
    from kiosk.i18n import set_language
    from ui.app import ensure_application
    from ui.settings import Settings
    from ui.theme import apply_theme

    app = ensure_application()
    ini = Path(out).with_suffix(".ini")
    settings = Settings(QSettings(str(ini), QSettings.Format.IniFormat))
    settings.language = "zh_CN"
    settings.idle_lock_seconds = 0  # the soak watches a station in use, not a locked one
    set_language("zh_CN")
    apply_theme(app, False)
    keep: list[Any] = []  # what must live as long as the event loop
    if station == "booth":
        assert booth_path is not None
        from kiosk.booth_laptop.booth import Booth
        from kiosk.booth_laptop.store import open_booth_database
        from ui.booth_window import BoothWindow

        settings.booth_staff = "店员甲"
        settings.booth_auto_redeem = True
        booth_db = open_booth_database(booth_path)
        window: Any = BoothWindow(Booth(booth_db, clock), settings)
        window.go_online(url)
        window.show()
        keep += [booth_db, _BoothScanner(window, url)]
    else:
        from kiosk import netwait
        from ui.context import AppContext
        from ui.main_window import MainWindow

        database = open_database(url, bound=netwait.STATION_BOUND)  # as ui.app opens it
        window = MainWindow(AppContext(database, clock), settings)
        window.show()
        page = window.signin
        page.staff_no.setText(STATIONS[station])
        page.pin.setText(PIN)
        page.submit()
        if window.staff is None:
            print(f"soak: {station}: sign-in failed: {page.error.text()}", file=sys.stderr)
            return 1
        for row in range(window.switcher.count()):
            if window.switcher.item(row).data(Qt.ItemDataRole.UserRole) == station:
                window.switcher.setCurrentRow(row)
        current = window.current_station()
        if current is None or current.station.value != station:
            print(f"soak: {station}: the station did not open", file=sys.stderr)
            return 1
        keep.append(database)

    lateness: list[float] = []
    tick = QElapsedTimer()
    tick.start()
    beat = QTimer()
    beat.setTimerType(Qt.TimerType.PreciseTimer)
    beat.setInterval(LATENESS_TICK_MS)

    def on_beat() -> None:
        lateness.append(max(0.0, tick.restart() - LATENESS_TICK_MS))

    beat.timeout.connect(on_beat)
    beat.start()

    samples = open(out, "w", encoding="utf-8")  # noqa: SIM115 - closed when the loop ends

    def write_sample() -> None:
        # Count only references that live objects hold: cyclic garbage not yet collected
        # holds None and False too, and when the collector happens to run moves the count
        # by hundreds either way (a change in allocations elsewhere tipped the check). A
        # reference truly lost (a C extension's extra decref) still shows as a fall.
        gc.collect()
        row = sample(url)
        row["lateness_ms"] = lateness[:]
        lateness.clear()
        samples.write(json.dumps(row) + "\n")
        samples.flush()

    sampler = QTimer()
    sampler.setInterval(round(SAMPLE_EVERY_S * 1000))
    sampler.timeout.connect(write_sample)
    sampler.start()
    write_sample()
    census: dict[str, Counter[str]] = {}

    def take_census(name: str) -> None:
        gc.collect()
        census[name] = Counter(type(o).__name__ for o in gc.get_objects())

    if os.environ.get(ENV_CENSUS):  # which kinds of objects grow: for finding a leak
        QTimer.singleShot(round(min(30.0, seconds / 5) * 1000), lambda: take_census("early"))
    QTimer.singleShot(round(seconds * 1000), app.quit)
    app.exec()
    write_sample()
    if census:
        take_census("late")
        grown = (census["late"] - census["early"]).most_common(15)
        print(f"soak: {station}: objects grown: {grown}", file=sys.stderr)
    samples.close()
    beat.stop()
    sampler.stop()
    window.close()
    for item in keep:
        if hasattr(item, "dispose"):
            item.dispose()
    return 0


class _BoothScanner:
    """Scans, at the booth, every slip the activation desks issue (any merchant's), as a
    queue of customers would bring them: the valid ones are redeemed at once, the others are
    refused as another merchant's. Reads the event database on its own connection."""

    def __init__(self, window: Any, url: str) -> None:
        from PySide6.QtCore import QTimer
        from sqlalchemy import create_engine

        from ui.timing import every

        self.window = window
        self.engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        self.last_id = 0
        self.scanned = 0
        self.timer = QTimer()
        self.timer.setInterval(every(3000))
        self.timer.timeout.connect(self.scan_next)
        self.timer.start()

    def scan_next(self) -> None:
        from sqlalchemy import text

        with self.engine.connect() as connection:
            row = connection.execute(
                text("SELECT id, code FROM slip WHERE id > :last ORDER BY id LIMIT 1"),
                {"last": self.last_id},
            ).first()
        if row is None or self.window.panel is None:
            return
        self.last_id = row.id
        self.window.panel.on_code(row.code)
        self.scanned += 1

    def dispose(self) -> None:
        self.timer.stop()
        self.engine.dispose()


# -- the orchestra ----------------------------------------------------------------------------


@dataclass
class StationResult:
    station: str
    exit_code: int
    stderr: str
    samples: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Trend:
    """One quantity over the measured part of the soak (after the warm-up)."""

    first: float  # median of the first quarter
    last: float  # median of the last quarter
    per_hour: float  # least-squares slope, per hour of soak


@dataclass
class StationAnalysis:
    station: str
    trends: dict[str, Trend]
    lateness_ms: list[float]
    maxima: dict[str, tuple[int, int]]  # quantity -> (max of first quarter, max of last)


@dataclass
class SoakReport:
    seconds: float
    scale: float
    speed: float
    backend: str
    activity: str
    stations: list[StationResult]
    analyses: list[StationAnalysis]

    def problems(self) -> list[str]:
        """What is not flat, in words; empty when the day would hold."""
        found = []
        for result in self.stations:
            if result.exit_code != 0:
                found.append(
                    f"{result.station}: the process ended with exit {result.exit_code}: "
                    f"{result.stderr.strip()[-1500:]}"
                )
        for analysis in self.analyses:
            for name in ("none", "true", "false"):
                trend = analysis.trends[name]
                allowed = max(50.0, 0.01 * trend.first)
                if trend.last < trend.first - allowed and trend.per_hour < 0:
                    found.append(
                        f"{analysis.station}: references to {name.title()} fall "
                        f"({trend.first:.0f} -> {trend.last:.0f}, {trend.per_hour:+.0f}/h)"
                    )
            for name, slack in (("fds", 3), ("connections", 0)):
                early, late = analysis.maxima[name]
                if late > early + slack:
                    found.append(
                        f"{analysis.station}: {name} grow (at most {early} early in the soak, "
                        f"{late} at its end)"
                    )
        return found


def _trend(points: list[tuple[float, float]]) -> Trend:
    quarter = max(1, len(points) // 4)
    first = statistics.median(v for _, v in points[:quarter])
    last = statistics.median(v for _, v in points[-quarter:])
    mean_t = statistics.fmean(t for t, _ in points)
    mean_v = statistics.fmean(v for _, v in points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    slope = sum((t - mean_t) * (v - mean_v) for t, v in points) / spread if spread > 0 else 0.0
    return Trend(first, last, slope * 3600)


def analyse(result: StationResult, warm_up_s: float) -> StationAnalysis | None:
    if not result.samples:
        return None
    t0 = result.samples[0]["t"]
    measured = [s for s in result.samples if s["t"] - t0 >= warm_up_s]
    if len(measured) < 8:
        return None
    trends = {
        name: _trend([(s["t"] - t0, float(s[name])) for s in measured])
        for name in ("rss_kib", "fds", "threads", "connections", "none", "true", "false")
    }
    quarter = max(1, len(measured) // 4)
    maxima = {
        name: (
            max(int(s[name]) for s in measured[:quarter]),
            max(int(s[name]) for s in measured[-quarter:]),
        )
        for name in ("fds", "connections", "threads")
    }
    lateness = [v for s in measured for v in s.get("lateness_ms", [])]
    return StationAnalysis(result.station, trends, lateness, maxima)


def _sim_start(url: str) -> datetime:
    """When the simulated day starts: what ``kiosk.simulate.Simulation`` computes."""
    from kiosk.db import open_database
    from kiosk.services.events import current_event

    database = open_database(url)
    try:
        with database.unit_of_work() as uow:
            slots = list(current_event(uow.session).slots)
            return min(t.starts_at for t in slots) - timedelta(minutes=90)
    finally:
        database.dispose()


def _install_booth(url: str, path: Path) -> None:
    """The booth's own file with merchant M01's pack, exported by the supervisor."""
    from kiosk.booth_laptop.booth import Booth
    from kiosk.booth_laptop.store import open_booth_database
    from kiosk.clock import Clock
    from kiosk.db import open_database
    from kiosk.services.auth import staff_session
    from kiosk.services.booths import export_pack

    database = open_database(url)
    try:
        supervisor = staff_session(database.unit_of_work(), "S001")
        data, _pack = export_pack(database.unit_of_work(), "M01", PASSPHRASE, supervisor)
    finally:
        database.dispose()
    booth_db = open_booth_database(path)
    try:
        Booth(booth_db, Clock()).install(data)
    finally:
        booth_db.dispose()


@contextmanager
def _event_database(backend: str, folder: Path) -> Iterator[str]:
    from benchmarks.demo_db import demo_database, sqlite_url

    path = folder / "event.sqlite3"
    shutil.copyfile(demo_database(240), path)
    if backend == "sqlite":
        yield sqlite_url(path)
        return
    import uuid

    import psycopg

    from kiosk.eventcopy import copy_event

    admin_url = os.environ.get("KIOSK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
    name = f"kiosk_soak_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        url = f"{admin_url.rsplit('/', 1)[0]}/{name}"
        try:
            copy_event(sqlite_url(path), url)
            yield url
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def soak(
    seconds: float = 120.0,
    *,
    scale: float = 0.1,
    speed: float | None = None,
    backend: str = "sqlite",
    stations: list[str] | None = None,
    warm_up_s: float | None = None,
    python: str = sys.executable,
) -> SoakReport:
    """Run the soak for ``seconds`` of wall time and return what every station measured.

    ``speed`` defaults to playing the whole simulated day (twelve hours from the first
    desk opening) over the soak: more activity than a real day, so every station refreshes
    often, which is what the soak is for.
    """
    chosen = stations or list(STATIONS)
    speed = speed or 12 * 3600 / seconds
    warm_up_s = warm_up_s if warm_up_s is not None else min(30.0, seconds / 5)
    with tempfile.TemporaryDirectory(prefix="kiosk-soak-") as tmp:
        folder = Path(tmp)
        with _event_database(backend, folder) as url:
            booth_path = folder / "booth-soak.sqlite3"
            if "booth" in chosen:
                _install_booth(url, booth_path)
            sim0 = _sim_start(url)
            wall0 = time.time() + 5  # the day starts once every window is up
            env = {
                **os.environ,
                "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                "KIOSK_TIMER_SCALE": str(scale),
                "XDG_CONFIG_HOME": str(folder / "config"),
                "XDG_DATA_HOME": str(folder / "data"),
                "KIOSK_SPOOL_DIR": str(folder / "spool"),
            }
            env.pop("KIOSK_AUDIT_STRICT", None)
            common = [url, sim0.isoformat(), str(wall0), str(speed), str(seconds)]
            children: dict[str, subprocess.Popen[str]] = {}
            outs: dict[str, Path] = {}
            logs: dict[str, Path] = {}

            def start(name: str, args: list[str]) -> None:
                logs[name] = folder / f"{name}.log"
                with logs[name].open("w", encoding="utf-8") as log:
                    children[name] = subprocess.Popen(
                        [python, "-X", "faulthandler", "-m", "benchmarks.soak", *args],
                        cwd=ROOT,
                        env=env,
                        stdout=subprocess.PIPE if name == "activity" else subprocess.DEVNULL,
                        stderr=log,
                        text=True,
                    )

            start("activity", ["activity", *common, str(folder / "booths")])
            for name in chosen:
                outs[name] = folder / f"{name}.jsonl"
                start(name, ["station", name, *common, str(booth_path), str(outs[name])])
            progress(
                f"soak: {len(chosen)} stations and the activity for {seconds:.0f} s, timers "
                f"x{1 / scale:g}, day x{speed:g} ({backend})"
            )
            deadline = time.monotonic() + seconds + 120
            results = []
            for name in chosen:
                child = children[name]
                try:
                    child.wait(timeout=max(1.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.send_signal(signal.SIGABRT)  # faulthandler prints where it hung
                    child.wait()
                samples = []
                if outs[name].exists():
                    for line in outs[name].read_text(encoding="utf-8").splitlines():
                        with suppress(json.JSONDecodeError):
                            samples.append(json.loads(line))
                results.append(
                    StationResult(
                        name,
                        child.returncode,
                        logs[name].read_text(encoding="utf-8", errors="replace"),
                        samples,
                    )
                )
            activity = children["activity"]
            try:
                out, _ = activity.communicate(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                activity.kill()
                out, _ = activity.communicate()
            summary = out.strip() or logs["activity"].read_text(encoding="utf-8")[-500:]
            if activity.returncode != 0:
                results.append(
                    StationResult(
                        "activity",
                        activity.returncode,
                        logs["activity"].read_text(encoding="utf-8", errors="replace"),
                    )
                )
    analyses = [a for a in (analyse(r, warm_up_s) for r in results) if a is not None]
    return SoakReport(seconds, scale, speed, backend, summary, results, analyses)


def describe(report: SoakReport) -> str:
    """The report as a table for people: growth per hour of soak and timer lateness."""
    lines = [
        f"soak {report.seconds:.0f} s ({report.backend}), timers x{1 / report.scale:g}, "
        f"day x{report.speed:g}; activity: {report.activity}",
        f"{'station':<13} {'RSS MiB/h':>10} {'fds/h':>7} {'thr/h':>6} {'conn/h':>7} "
        f"{'None/h':>8} {'None first->last':>17} {'late p99 ms':>11} {'fds':>4} {'conn':>4}",
    ]
    for a in report.analyses:
        t = a.trends
        p99 = _p99(a.lateness_ms)
        none = f"{t['none'].first:.0f}->{t['none'].last:.0f}"
        lines.append(
            f"{a.station:<13} {t['rss_kib'].per_hour / 1024:>10.1f} {t['fds'].per_hour:>7.1f} "
            f"{t['threads'].per_hour:>6.1f} {t['connections'].per_hour:>7.1f} "
            f"{t['none'].per_hour:>8.0f} "
            f"{none:>17} {p99:>11.1f} {a.maxima['fds'][1]:>4} {a.maxima['connections'][1]:>4}"
        )
    return "\n".join(lines)


def _p99(values: list[float]) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def run(quick: bool) -> list[Row]:
    """The benchmark: an 8-hour day of timers in 20 minutes (3 with --quick)."""
    seconds = 180.0 if quick else 1200.0
    report = soak(seconds, scale=seconds / (8 * 3600))
    progress(describe(report))
    problems = report.problems()
    for problem in problems:
        progress(f"soak: NOT FLAT: {problem}")
    if any(r.exit_code != 0 for r in report.stations):
        raise BenchmarkError("; ".join(problems))
    rows = []
    hours = f"MiB per hour of a day ({1 / report.scale:g}x timers)"
    for a in report.analyses:
        t = a.trends
        rows += [
            Row(f"soak {a.station}: RSS growth", hours, [t["rss_kib"].per_hour / 1024]),
            Row(f"soak {a.station}: descriptors growth", "per hour", [t["fds"].per_hour]),
            Row(f"soak {a.station}: connections growth", "per hour", [t["connections"].per_hour]),
            Row(f"soak {a.station}: refcount(None) trend", "per hour", [t["none"].per_hour]),
            Row(f"soak {a.station}: 100 ms timer lateness", "ms", a.lateness_ms),
        ]
    return rows


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak")
    sub = parser.add_subparsers(dest="role", required=True)
    for role in ("activity", "station"):
        p = sub.add_parser(role)
        if role == "station":
            p.add_argument("station", choices=list(STATIONS))
        p.add_argument("url")
        p.add_argument("sim0")
        p.add_argument("wall0", type=float)
        p.add_argument("speed", type=float)
        p.add_argument("seconds", type=float)
        if role == "activity":
            p.add_argument("booth_dir")
        else:
            p.add_argument("booth_path")
            p.add_argument("out")
    run_p = sub.add_parser("run", help="run the soak and print the table")
    run_p.add_argument("--seconds", type=float, default=120.0)
    run_p.add_argument("--scale", type=float, default=0.1)
    run_p.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    run_p.add_argument("--speed", type=float, help="the simulated day's pace (1 / scale)")
    run_p.add_argument("--stations", help="comma-separated; default: all")
    args = parser.parse_args(argv)
    if args.role == "run":
        report = soak(
            args.seconds,
            scale=args.scale,
            speed=args.speed,
            backend=args.backend,
            stations=args.stations.split(",") if args.stations else None,
        )
        print(describe(report))
        for result in report.stations:
            for line in result.stderr.splitlines():
                if "objects grown" in line:
                    print(line)
        for problem in report.problems():
            print(f"NOT FLAT: {problem}")
        return 1 if report.problems() else 0
    clock = ScaledClock(datetime.fromisoformat(args.sim0), args.wall0, args.speed)
    if args.role == "activity":
        return run_activity(args.url, args.booth_dir, clock, args.seconds)
    return run_station(args.station, args.url, args.booth_path, clock, args.seconds, args.out)


if __name__ == "__main__":
    code = _main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # no interpreter teardown of Qt objects: the samples are written
