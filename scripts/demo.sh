#!/usr/bin/env bash
# Set up, create the demo event (asks before replacing an existing one) and open the app.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$(uname -s)" = "Linux" ] && [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] \
   && [ -z "${QT_QPA_PLATFORM:-}" ]; then
  echo "demo: this machine has no screen (DISPLAY is not set)." >&2
  echo "demo: run it on a desktop, or under a virtual screen: xvfb-run -a scripts/demo.sh" >&2
  exit 1
fi
exec .venv/bin/kiosk demo "$@"
