"""The packaged-app tests run only when asked: ``pytest -m packaged tests/packaged`` (they build
both archives first when dist/ holds none of the current sources, 2.5 to 3.5 minutes on
two cores; README, docs/install.md). The default test run leaves them out unseen
rather than skipped: building is not part of every run."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "packaged" in (config.getoption("markexpr") or ""):
        return
    packaged = [item for item in items if item.get_closest_marker("packaged")]
    if packaged:
        config.hook.pytest_deselected(items=packaged)
        items[:] = [item for item in items if not item.get_closest_marker("packaged")]
