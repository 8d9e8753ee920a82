"""The real app (``ui.app.run_app``) driven from inside, for the crash-recovery tests.

``python -m tests.recovery_script crash URL STAFF STATION``: start the app, sign in by typing,
open the station, press F5 (call the next customer) there, then die as a binding bug would
(``os.abort``: no Python clean-up runs, the faulthandler writes its report).

``python -m tests.recovery_script idle URL``: start the app, print ``IDLE`` and wait on the
sign-in page (for a SIGTERM from the test).

``python -m tests.recovery_script resume URL PIN``: start the app again, report as JSON what
the window shows (the resume page and its words), type the PIN and Enter, report the station
and staff the window then shows, and quit normally.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from ui.app import ensure_application, run_app
from ui.main_window import MainWindow
from ui.settings import Settings


def _window() -> MainWindow:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow):
            return widget
    raise AssertionError("no main window")


def when_open(then: Callable[[], None]) -> None:
    """Run ``then`` once the main window is on screen: it replaces the sign-in window when the
    database is open, a few turns of the event loop after it starts (``ui.app``)."""

    def check() -> None:
        if any(isinstance(w, MainWindow) and w.isVisible() for w in QApplication.topLevelWidgets()):
            then()
        else:
            QTimer.singleShot(10, check)

    QTimer.singleShot(0, check)


def crash(staff: str, station: str) -> None:
    window = _window()
    QTest.keyClicks(window.signin.staff_no, staff)
    QTest.keyClick(window.signin.staff_no, Qt.Key.Key_Return)
    QTest.keyClicks(window.signin.pin, "1234")
    QTest.keyClick(window.signin.pin, Qt.Key.Key_Return)
    for row in range(window.switcher.count()):
        if window.switcher.item(row).data(Qt.ItemDataRole.UserRole) == station:
            window.switcher.setCurrentRow(row)
    page = window.current_station()
    assert page is not None and page.station.value == station, page
    QTest.keyClick(page, Qt.Key.Key_F5)
    called = getattr(page, "called", None)
    print(json.dumps({"station": page.station.value, "called": called and called.ticket}))
    sys.stdout.flush()
    os.abort()


def resume(pin: str) -> None:
    window = _window()
    page = window.stack.currentWidget()
    seen: dict[str, object] = {
        "page": page.objectName(),
        "text": window.lock_page.findChild(object, "lock_text").text()  # type: ignore[union-attr]
        if window.lock_page is not None
        else "",
    }
    if window.lock_page is not None:
        QTest.keyClicks(window.lock_page.pin, pin)
        QTest.keyClick(window.lock_page.pin, Qt.Key.Key_Return)
    station = window.current_station()
    seen["staff"] = window.staff.staff_no if window.staff else None
    seen["station"] = station.station.value if station else None
    called = getattr(station, "called", None)
    seen["called"] = called.ticket if called is not None else None
    seen["error"] = (
        window.lock_page.error.text() if window.staff is None and window.lock_page else ""
    )
    print(json.dumps(seen, ensure_ascii=False), flush=True)
    window.close()  # a normal exit: the next start has nothing to recover
    QApplication.quit()


def main() -> None:
    mode, url = sys.argv[1], sys.argv[2]
    ensure_application()
    Settings().counter_name = "3"  # this laptop's counter, set once (no dialog at F5)
    if mode == "crash":
        # A customer waits at the service desk: reception checked them in on another laptop.
        from sqlalchemy import select

        from kiosk.db import open_database
        from kiosk.models import Customer, Queue, Staff
        from kiosk.services import reception
        from kiosk.services.auth import staff_session

        database = open_database(url)
        with database.unit_of_work() as uow:  # one of RM001's own customers: called first
            customer = uow.session.scalar(
                select(Customer.id)
                .join(Staff, Staff.id == Customer.rm_id)
                .where(Staff.staff_no == sys.argv[3])
                .order_by(Customer.id)
                .limit(1)
            )
        assert customer is not None
        receptionist = staff_session(database.unit_of_work(), "R001")
        reception.check_in(
            database.unit_of_work(), customer, receptionist, route=Queue.SERVICE_DESK
        )
        database.dispose()
        when_open(lambda: crash(sys.argv[3], sys.argv[4]))
    elif mode == "idle":
        when_open(lambda: print("IDLE", flush=True))
    else:
        when_open(lambda: resume(sys.argv[3]))
    code = run_app(url, "en")
    sys.stdout.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
