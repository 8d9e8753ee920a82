#!/usr/bin/env bash
# Set up, then run the whole test suite (Qt offscreen). Extra arguments go to pytest.
# KIOSK_TEST_WORKERS=auto runs the suite in one process per core (pytest-xdist; tests marked
# xdist_group run on one worker, one after another). One process is still the default: the
# parallel run has not yet had a full green run on a quiet machine (tests/conftest.py).
# PostgreSQL tests use postgresql://postgres@127.0.0.1:5432/test (KIOSK_TEST_PG overrides) and
# skip with the reason when it is not reachable, unless KIOSK_REQUIRE_PG=1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
exec .venv/bin/python -m pytest -n "${KIOSK_TEST_WORKERS:-0}" --dist loadgroup "$@"
