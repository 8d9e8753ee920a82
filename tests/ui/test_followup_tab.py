"""Administration -> Follow-up after a simulated day: per RM the customers in each group and
the coverage, as the service counts them; the workbooks exported into the chosen folder with
the real widget; the Progress tab shows the follow-up per RM; the Import tab offers the
filled workbooks back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from pytestqt.qtbot import QtBot

from kiosk.clock import FixedClock
from kiosk.services import followup
from printing.followup import file_name
from ui.main_window import MainWindow
from ui.stations.admin import FileChooser
from ui.widgets import Tone

from .test_admin import open_admin

pytestmark = pytest.mark.ui


def test_followup_tab_counts_and_exports(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.simulate_support import simulate

    path = tmp_path / "sim" / "event.sqlite3"
    path.parent.mkdir()
    _summary, end = simulate(path, invitees=40, seed=5)
    clock.at = end.now()
    folder = tmp_path / "out"
    monkeypatch.setattr(FileChooser, "directory", classmethod(lambda cls, parent, t: folder))
    window = make_window(f"sqlite:///{path}")
    station = open_admin(qtbot, window)
    titles = [station.tabs.tabText(i) for i in range(station.tabs.count())]
    station.tabs.setCurrentIndex(titles.index("Follow-up"))
    lists = followup.followup_lists(window.app.database.unit_of_work())
    table = station.followup.table
    assert table.rowCount() == len(lists.rms) + 1  # and the total
    stages = list(followup.STAGES)
    for r, rm in enumerate(lists.rms):
        assert table.item(r, 0).text() == (rm.rm_no or "(no RM)")
        assert [table.item(r, 3 + i).text() for i in range(len(stages))] == [
            str(rm.count(s)) for s in stages
        ]
        assert table.item(r, 3 + len(stages)).text() == str(rm.customers)
        assert table.item(r, 4 + len(stages)).text() == "0"  # nobody followed up yet
    total = table.rowCount() - 1
    assert table.item(total, 0).text() == "Total"
    assert table.item(total, 3 + len(stages)).text() == str(lists.coverage.total.customers)
    station.followup.export_button.click()
    assert station.followup.banner.tone == Tone.OK
    assert f"{len(lists.rms)} follow-up workbooks written" in (
        station.followup.banner.headline.text()
    )
    assert sorted(p.name for p in folder.iterdir()) == sorted(file_name(r) for r in lists.rms)
    one = folder / file_name(lists.rms[0])
    sheet = openpyxl.load_workbook(one)["Follow-up list"]
    assert [c.value for c in sheet[1]][-4:] == ["Contacted on", "Channel", "Outcome", "Note"]
    # The Progress tab: the follow-up per RM below the invitation figures.
    station.tabs.setCurrentIndex(titles.index("Progress"))
    coverage = station.followup_table
    assert not coverage.isHidden()
    assert coverage.rowCount() == len(lists.coverage.rms) + 1
    assert coverage.item(coverage.rowCount() - 1, 0).text() == "Total"
    # The Import tab takes the filled workbooks back.
    kinds = [station.kind.itemData(i) for i in range(station.kind.count())]
    assert "followup" in kinds
