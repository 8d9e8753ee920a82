#!/usr/bin/env bash
# Build the installable one-folder apps and their archives (docs/install.md):
#   dist/kiosk-<version>-linux-x86_64.tar.gz        the event app (GUI and every command)
#   dist/kiosk-booth-<version>-linux-x86_64.tar.gz  the merchant booth alone
#   dist/SHA256SUMS, dist/BUILD-INFO.json
# Sets up .venv first (scripts/setup.sh: the locked dependencies, PyInstaller among them).
#   bash scripts/build.sh                  # both
#   bash scripts/build.sh --only kiosk-booth
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python freeze/build.py "$@"
