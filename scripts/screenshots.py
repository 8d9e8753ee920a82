"""Render the README screenshots offscreen: ``python scripts/screenshots.py [OUT_DIR]``.

Creates a throw-away demo database, signs in as the supervisor and saves the sign-in page, the
event overview (also in large print), reception after a search and a check-in, the desks (the
activation desk also with a customer the redemption gate stops), the
booth, the audit tab, the idle lock screen, and the dashboard during a simulated demo day (also
in large print), in Simplified Chinese, so the images in docs/ can be regenerated after any UI
change and looked at before committing. Tickets go to a temporary spool folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.demo import create_demo
from kiosk.roles import Station
from ui.app import ensure_application
from ui.context import AppContext
from ui.language import apply_language
from ui.main_window import MainWindow
from ui.settings import Settings
from ui.theme import apply_theme

if TYPE_CHECKING:
    from PySide6.QtWidgets import QTreeWidgetItem

    from ui.stations.activation import ActivationStation
    from ui.stations.admin import AdminStation

MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)  # 09:10 on the demo day, in Shanghai


def reception_screenshot(app: QApplication, window: MainWindow, out: Path) -> None:
    """Reception after a search and a check-in, as a new user would see it."""
    from ui.stations.reception import ReceptionStation

    for row in range(window.switcher.count()):
        if window.switcher.item(row).data(Qt.ItemDataRole.UserRole) == Station.RECEPTION:
            window.switcher.setCurrentRow(row)
    station = window.current_station()
    assert isinstance(station, ReceptionStation)
    station.field.setText("wj")
    station.run_search()
    app.processEvents()
    window.grab().save(str(out / "reception-search.png"))
    station.check_in_selected()
    app.processEvents()
    window.grab().save(str(out / "reception.png"))


def supervisor_dialog_screenshot(app: QApplication, database: Database, out: Path) -> None:
    """The approval a reception clerk asks for to undo a check-in, after a wrong PIN."""
    from kiosk.permissions import Action
    from kiosk.services.auth import staff_session
    from ui.approval import SupervisorDialog
    from ui.context import StationContext

    clock = FixedClock(MORNING)
    context = StationContext(
        AppContext(database, clock), staff_session(database.unit_of_work(), "R001")
    )
    dialog = SupervisorDialog(context, Action.UNDO_CHECK_IN)
    dialog.show()
    dialog.staff_no.setText("S001")
    dialog.pin.setText("0000")
    dialog.submit()  # wrong: the sentence says so and how long the next try waits
    dialog.pin.setText("1234")
    app.processEvents()
    dialog.grab().save(str(out / "supervisor-approval.png"))
    dialog.close()
    clock.advance(seconds=1)
    dialog.submit()  # and the right PIN, so S001 is not left throttled for the next shots


def service_desk_screenshot(
    app: QApplication, database: Database, settings: Settings, out: Path
) -> None:
    """The service desk with a called customer whose ID has expired."""
    from sqlalchemy import select

    from kiosk.models import Customer, MobileBanking, Queue
    from kiosk.services import reception
    from kiosk.services.auth import staff_session

    with database.unit_of_work() as uow:
        customer = next(
            c
            for c in uow.session.scalars(select(Customer).order_by(Customer.id))
            if c.id_valid_to
            and c.id_valid_to < MORNING.date()
            and c.mobile_banking == MobileBanking.NONE
            and c.rm is not None
        )
        customer_id, rm_no = customer.id, customer.rm.staff_no  # type: ignore[union-attr]
    staff = staff_session(database.unit_of_work(), "R001")
    reception.check_in(
        database.unit_of_work(),
        customer_id,
        staff,
        clock=FixedClock(MORNING),
        route=Queue.SERVICE_DESK,
    )
    window = MainWindow(AppContext(database, FixedClock(MORNING)), settings)
    window.resize(1366, 860)
    window.show()
    app.processEvents()
    window.signin.staff_no.setText(rm_no)
    window.signin.pin.setText("1234")
    window.signin.submit()
    station = window.current_station()
    station.call_next()  # type: ignore[union-attr]
    app.processEvents()
    window.grab().save(str(out / "service-desk.png"))
    window.close()


def _service(station: ActivationStation, n: int) -> QTreeWidgetItem:
    """The ``n``-th service the catalog shows (the customer's short list or every service),
    counted over its groups, the last one if it shows fewer."""
    services = [
        group.child(i)
        for group in map(station.catalog.topLevelItem, range(station.catalog.topLevelItemCount()))
        for i in range(group.childCount())
    ]
    return services[min(n, len(services) - 1)]


def activation_screenshot(
    app: QApplication, database: Database, settings: Settings, out: Path, suffix: str = ""
) -> None:
    """The activation desk after two steps and issued slips, and the printed slip itself."""
    import subprocess

    from sqlalchemy import select, update

    from kiosk.demo import DEMO_PASSPHRASE
    from kiosk.kyc import governance_gaps
    from kiosk.models import Customer, Invitation, MobileBanking, Preselection, Queue
    from kiosk.services import reception
    from kiosk.services.auth import staff_session
    from ui.stations.activation import ActivationStation, Ask

    with database.unit_of_work() as uow:
        # Customers whose data is complete: the redemption gate lets them have slips once
        # mobile banking is logged in (F6).
        customer_id = [
            c.id
            for c in uow.session.scalars(
                select(Customer)
                .join(Invitation, Invitation.customer_id == Customer.id)
                .join(Preselection, Preselection.invitation_id == Invitation.id)
                .order_by(Customer.id)
                .distinct()
            )
            if not governance_gaps(c, MORNING.date())
        ][1 if suffix else 0]
        uow.session.execute(
            update(Customer)
            .where(Customer.id == customer_id)
            .values(mobile_banking=MobileBanking.OPENED)
        )
        uow.commit()
    staff = staff_session(database.unit_of_work(), "R001")
    reception.check_in(
        database.unit_of_work(),
        customer_id,
        staff,
        clock=FixedClock(MORNING),
        route=Queue.ACTIVATION,
    )
    Ask.passphrase = staticmethod(lambda parent, demo: DEMO_PASSPHRASE)  # type: ignore[method-assign]
    window = MainWindow(AppContext(database, FixedClock(MORNING)), settings)
    window.resize(1366, 768)
    window.show()
    app.processEvents()
    window.signin.staff_no.setText("A001")
    window.signin.pin.setText("1234")
    window.signin.submit()
    station = window.current_station()
    assert isinstance(station, ActivationStation)
    station.call_next()
    while station.customer is not None and station.customer.customer_id != customer_id:
        station.finish()  # reception's screenshot sent someone else here first
        station.call_next()
    from kiosk.services.activation import Step

    station.record_step(Step.MOBILE_BANKING_LOGIN)
    station.record_step(Step.CHARITY_PAID)
    station.issue()
    for _ in range(3):
        app.processEvents()
    station.catalog.setCurrentItem(_service(station, 1))
    station.add_selected()
    app.processEvents()
    window.grab().save(str(out / f"activation{suffix}.png"))
    if not suffix:
        spool = Path(os.environ["KIOSK_SPOOL_DIR"])
        pdf = sorted(spool.glob("slip-*.pdf"))[0]
        subprocess.run(
            ["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf), str(out / "slip")],
            check=True,
        )
    window.close()


def activation_gate_screenshot(
    app: QApplication, database: Database, settings: Settings, out: Path
) -> None:
    """The activation desk with a customer the redemption gate stops: what is missing and
    where to send them, before anyone presses F9."""
    from sqlalchemy import select

    from kiosk.kyc import governance_gaps
    from kiosk.models import Customer, Invitation, MobileBanking, Queue
    from kiosk.services import reception
    from kiosk.services.auth import staff_session
    from ui.stations.activation import ActivationStation

    with database.unit_of_work() as uow:
        customer_id = max(
            (
                c
                for c in uow.session.scalars(
                    select(Customer).join(Invitation, Invitation.customer_id == Customer.id)
                )
                if governance_gaps(c, MORNING.date()).get("id_valid_to") == "expired"
                and c.mobile_banking == MobileBanking.NONE
            ),
            key=lambda c: (len(governance_gaps(c, MORNING.date())), -c.id),
        ).id
    reception.check_in(
        database.unit_of_work(),
        customer_id,
        staff_session(database.unit_of_work(), "R001"),
        clock=FixedClock(MORNING),
        route=Queue.ACTIVATION,
    )
    window = MainWindow(AppContext(database, FixedClock(MORNING)), settings)
    window.resize(1366, 768)
    window.show()
    app.processEvents()
    window.signin.staff_no.setText("A002")
    window.signin.pin.setText("1234")
    window.signin.submit()
    station = window.current_station()
    assert isinstance(station, ActivationStation)
    station.call_next()
    while station.customer is not None and station.customer.customer_id != customer_id:
        station.finish()
        station.call_next()
    station.catalog.setCurrentItem(_service(station, 4))
    station.add_selected()
    app.processEvents()
    window.grab().save(str(out / "activation-gate.png"))
    window.close()


def booth_screenshots(app: QApplication, database: Database, settings: Settings, out: Path) -> None:
    """The booth window: a slip redeemed (valid), then the same slip scanned again."""
    from sqlalchemy import select

    from kiosk.booth_laptop.booth import Booth
    from kiosk.booth_laptop.store import open_booth_database
    from kiosk.demo import DEMO_PASSPHRASE
    from kiosk.models import Customer
    from kiosk.points import set_lots, simple_balance
    from kiosk.services import keys, reception
    from kiosk.services.auth import staff_session
    from kiosk.services.booths import export_pack
    from kiosk.services.slips import CartLine, issue_slips
    from ui.booth_window import BoothWindow

    clock = FixedClock(MORNING)
    codes = []
    for customer_no in ("6200000030", "6200000031"):
        with database.unit_of_work() as uow:
            customer = uow.session.scalars(
                select(Customer).where(Customer.customer_no == customer_no)
            ).one()
            set_lots(uow.session, customer, simple_balance(100_000))  # enough for the slip
            customer_id = customer.id
            uow.commit()
        staff = staff_session(database.unit_of_work(), "R001")
        reception.check_in(database.unit_of_work(), customer_id, staff, clock=clock)
        key = keys.unlock(database.unit_of_work(), DEMO_PASSPHRASE)
        # The supervisor issues them, letting the customers past the redemption gate (their
        # data has gaps): the booth only needs slips.
        desk = staff_session(database.unit_of_work(), "S001")
        codes += [
            slip.code
            for slip in issue_slips(
                database.unit_of_work(),
                customer_id,
                [CartLine("O101")],
                desk,
                key,
                clock=clock,
                override=True,
            )
        ]
    merchant = staff_session(database.unit_of_work(), "M001")
    pack, _content = export_pack(
        database.unit_of_work(), "M01", DEMO_PASSPHRASE, merchant, clock=clock
    )
    booth_db = open_booth_database(
        Path(str(database.url).removeprefix("sqlite:///")).with_name("booth.sqlite3")
    )
    booth = Booth(booth_db, FixedClock(MORNING + timedelta(minutes=25)))
    booth.install(pack)
    settings.booth_staff = "李店员"
    settings.booth_staff_day = booth.today().isoformat()  # typed for today's shift
    booth.redeem(codes[1], "李店员")
    window = BoothWindow(booth, settings)
    window.resize(1366, 800)
    window.show()
    app.processEvents()
    panel = window.panel
    assert panel is not None
    panel.auto.setChecked(True)
    panel.on_code(codes[0])
    app.processEvents()
    window.grab().save(str(out / "booth-valid.png"))
    booth.clock = FixedClock(MORNING + timedelta(minutes=40))
    panel.on_code(codes[0])
    app.processEvents()
    window.grab().save(str(out / "booth-refused.png"))
    window.close()
    booth_db.dispose()


def dashboard_screenshots(app: QApplication, settings: Settings, folder: Path, out: Path) -> None:
    """The dashboard at 10:20 on a simulated demo day, in normal and large print."""
    from kiosk.simulate import Simulation

    database = open_database(f"sqlite:///{folder / 'simulated.sqlite3'}")
    create_demo(database.unit_of_work(), event_date=date(2026, 11, 28))
    simulation = Simulation(database, folder / "booths", seed=3)
    simulation.run_until(datetime(2026, 11, 28, 2, 20, tzinfo=UTC))  # 10:20 in Shanghai
    simulation.close()
    clock = FixedClock(simulation.clock.now())
    for large in (False, True):
        settings.large_print = large
        apply_theme(app, large)
        window = MainWindow(AppContext(database, clock), settings)
        window.resize(1366, 768)
        window.show()
        app.processEvents()
        window.signin.staff_no.setText("S001")
        window.signin.pin.setText("1234")
        window.signin.submit()
        for row in range(window.switcher.count()):
            if window.switcher.item(row).data(Qt.ItemDataRole.UserRole) == Station.DASHBOARD:
                window.switcher.setCurrentRow(row)
        app.processEvents()
        window.grab().save(str(out / f"dashboard{'-large' if large else ''}.png"))
        window.close()
    settings.large_print = False
    apply_theme(app, False)
    database.dispose()


def _administration(
    app: QApplication, database: Database, settings: Settings
) -> tuple[MainWindow, AdminStation]:
    """A window signed in as the supervisor S001, on the Administration station."""
    from ui.stations.admin import AdminStation

    apply_language("zh_CN")
    window = MainWindow(AppContext(database, FixedClock(MORNING)), settings)
    window.resize(1366, 800)
    window.show()
    window.signin.staff_no.setText("S001")
    window.signin.pin.setText("1234")
    window.signin.submit()
    app.processEvents()
    for row in range(window.switcher.count()):
        if window.switcher.item(row).data(Qt.ItemDataRole.UserRole) == Station.ADMIN:
            window.switcher.setCurrentRow(row)
    station = window.current_station()
    assert isinstance(station, AdminStation)
    return window, station


def admin_backups_screenshot(
    app: QApplication, database: Database, settings: Settings, out: Path, usb: Path
) -> None:
    """The Administration station's Backups tab after two backups to a "USB stick"."""
    window, station = _administration(app, database, settings)
    station.tabs.setCurrentWidget(station.backups_tab)
    station.backup_folder.setText(str(usb))
    station.backup_keep.setValue(12)
    station.backup_button.click()
    station.backup_button.click()
    app.processEvents()
    window.grab().save(str(out / "admin-backups.png"))
    window.close()


def audit_and_lock_screenshots(
    app: QApplication, database: Database, settings: Settings, out: Path
) -> None:
    """The Administration station's Audit tab after a verify, then the idle lock screen."""
    window, station = _administration(app, database, settings)
    station.tabs.setCurrentWidget(station.audit_panel)
    station.audit_panel.verify_button.click()
    app.processEvents()
    window.grab().save(str(out / "admin-audit.png"))
    window.lock()
    app.processEvents()
    window.grab().save(str(out / "idle-lock.png"))
    window.close()


def lan_screenshots(app: QApplication, database: Database, settings: Settings, out: Path) -> None:
    """Several laptops: the banner while the event database is away, the connection dialog
    with the set-up steps, and a booth fallen back to offline mode."""
    from kiosk.booth_laptop.booth import Booth
    from kiosk.booth_laptop.online import set_gateway
    from kiosk.booth_laptop.store import open_booth_database
    from kiosk.demo import DEMO_PASSPHRASE
    from kiosk.services.booths import export_pack
    from ui.booth_window import BoothWindow
    from ui.connection import ConnectionDialog

    window = MainWindow(AppContext(database, FixedClock(MORNING)), settings)
    window.resize(1366, 800)
    window.show()
    window.signin.staff_no.setText("R001")
    window.signin.pin.setText("1234")
    window.signin.submit()
    for row in range(window.switcher.count()):
        if window.switcher.item(row).data(Qt.ItemDataRole.UserRole) == Station.RECEPTION:
            window.switcher.setCurrentRow(row)
    app.processEvents()
    # What the LiveLink shows when the server stops answering (the tests cut a real one).
    window.connection_banner.show_state(False, "connection refused")
    app.processEvents()
    window.grab().save(str(out / "lan-offline.png"))

    dialog = ConnectionDialog("postgresql://kiosk:PASSWORD@192.168.1.10/kiosk_event", parent=window)
    dialog.findChild(type(dialog.connect_button), "show_serve_help").setChecked(True)
    dialog.resize(1000, 700)
    dialog.show()
    app.processEvents()
    dialog.grab().save(str(out / "connection.png"))
    dialog.close()
    window.close()

    from kiosk.services.auth import staff_session

    merchant = staff_session(database.unit_of_work(), "M001")
    pack, _content = export_pack(database.unit_of_work(), "M01", DEMO_PASSPHRASE, merchant)
    path = Path(str(database.url).removeprefix("sqlite:///")).with_name("booth-lan.sqlite3")
    booth_db = open_booth_database(path)
    booth = Booth(booth_db, FixedClock(MORNING + timedelta(minutes=25)))
    booth.install(pack)
    set_gateway(booth, "https://192.168.1.10:8443")
    booth_window = BoothWindow(booth, settings)
    booth_window.resize(1366, 800)
    booth_window.show()
    assert booth_window.lan is not None
    booth_window.lan.went_offline("connection refused")  # as after a scan with the LAN gone
    booth_window.show_lan_state()
    app.processEvents()
    booth_window.grab().save(str(out / "booth-offline.png"))
    booth_window.close()
    booth_db.dispose()


def main() -> None:
    from ui import operations

    # A station's call runs on a worker thread; the script reads the screen right after each
    # call, so the GUI thread waits for every answer (as the UI tests do).
    operations.QUICK = None
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    app = ensure_application()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["KIOSK_SPOOL_DIR"] = str(Path(tmp) / "spool")
        os.environ.pop("KIOSK_PRINT_COMMAND", None)
        database = open_database(f"sqlite:///{Path(tmp) / 'demo.sqlite3'}")
        create_demo(database.unit_of_work(), event_date=date(2026, 11, 28))
        settings = Settings(QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat))
        settings.language = "zh_CN"
        settings.counter_name = "3"  # the desks call to 3 号柜台, never asking
        for large in (False, True):
            settings.large_print = large
            apply_language("zh_CN")
            apply_theme(app, large)
            window = MainWindow(AppContext(database, FixedClock(MORNING)), settings)
            window.resize(1366, 800)
            window.show()
            app.processEvents()
            suffix = "-large" if large else ""
            if not large:
                window.grab().save(str(out / "signin.png"))
            window.signin.staff_no.setText("S001")
            window.signin.pin.setText("1234")
            window.signin.submit()
            app.processEvents()
            window.grab().save(str(out / f"overview{suffix}.png"))
            if not large:
                reception_screenshot(app, window, out)
                supervisor_dialog_screenshot(app, database, out)
            window.close()
        settings.large_print = False
        apply_theme(app, False)
        service_desk_screenshot(app, database, settings, out)
        activation_screenshot(app, database, settings, out)
        settings.large_print = True
        apply_theme(app, True)
        activation_screenshot(app, database, settings, out, "-large")
        settings.large_print = False
        apply_theme(app, False)
        activation_gate_screenshot(app, database, settings, out)
        booth_screenshots(app, database, settings, out)
        admin_backups_screenshot(app, database, settings, out, Path(tmp) / "usb")
        audit_and_lock_screenshots(app, database, settings, out)
        lan_screenshots(app, database, settings, out)
        database.dispose()
        dashboard_screenshots(app, settings, Path(tmp), out)
    print(f"screenshots written to {out}")


if __name__ == "__main__":
    main()
