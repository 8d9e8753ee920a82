#!/usr/bin/env bash
# Re-resolve requirements/lock.txt from pyproject.toml and requirements/tools.in: every
# package at an exact version with the hashes of all its files, for every platform (Linux
# laptops and the Windows installers alike). Run it after changing a dependency, then run
# the whole test suite (bash scripts/test.sh) before committing the new lock: a fresh machine
# installs exactly what the lock says, so the lock must be what the tests passed on.
#   bash scripts/lock.sh                      # keep what is locked where the ranges allow
#   bash scripts/lock.sh --upgrade            # newest versions the ranges allow
#   bash scripts/lock.sh --upgrade-package X  # just X
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
exec .venv/bin/uv pip compile pyproject.toml requirements/tools.in \
  --extra dev --extra build --universal --python-version 3.11 --generate-hashes \
  --no-header --annotation-style line --output-file requirements/lock.txt "$@"
