#!/usr/bin/env bash
# Set up, then run the whole test suite (Qt offscreen). Extra arguments go to pytest.
# The suite runs in two processes (pytest-xdist; tests marked xdist_group run on one worker,
# one after another): about 15 minutes instead of 40 on a quiet two-core machine (22 while
# other work shared it). KIOSK_TEST_WORKERS=0 runs it in one process,
# KIOSK_TEST_WORKERS=auto in one per core (tests/conftest.py).
# PostgreSQL tests use postgresql://postgres@127.0.0.1:5432/test (KIOSK_TEST_PG overrides) and
# skip with the reason when it is not reachable, unless KIOSK_REQUIRE_PG=1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
exec .venv/bin/python -m pytest -n "${KIOSK_TEST_WORKERS:-2}" --dist loadgroup "$@"
