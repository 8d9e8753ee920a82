"""Plays a simulated demo day (``kiosk.simulate``) in accelerated real time inside the app.

A QTimer in the main thread advances the simulation to "now" (simulated) a few times a
second; each action is one short service call, so the window stays responsive and no thread
is involved. The window title shows the simulated time, so whoever watches the dashboard
knows the day is being played.
"""

from __future__ import annotations

import time
from datetime import timedelta

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from kiosk.i18n import _
from kiosk.simulate import Simulation


class SimulationDriver(QObject):
    finished = Signal()

    TICK_MS = 200

    def __init__(self, simulation: Simulation, speed: float, window: QWidget) -> None:
        super().__init__(window)
        self.simulation = simulation
        self.speed = speed
        self.window = window
        self.timer = QTimer(self)
        self.timer.setInterval(self.TICK_MS)
        self.timer.timeout.connect(self.tick)
        self._wall0 = 0.0
        self._title = ""

    def start(self) -> None:
        self._wall0 = time.monotonic()
        self._title = self.window.windowTitle()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        if not self.simulation.done:  # stopped mid-day: no days after it
            self.simulation.close(after_event=False)

    def tick(self) -> None:
        elapsed = (time.monotonic() - self._wall0) * self.speed
        self.simulation.run_until(self.simulation.starts_at + timedelta(seconds=elapsed))
        local = self.simulation.clock.now().astimezone(self.simulation.zone)
        if self.simulation.done:
            self.timer.stop()
            self.simulation.close()
            state = _("simulated day over at {time}").format(time=local.strftime("%H:%M"))
            self.finished.emit()
        else:
            state = _("simulated {time}, {speed:g}× real time").format(
                time=local.strftime("%H:%M"), speed=self.speed
            )
        title = self.window.windowTitle().split(" · ")[0] or self._title
        self.window.setWindowTitle(f"{title} · {state}")
