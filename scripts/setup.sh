#!/usr/bin/env bash
# Set up everything kiosk needs on a fresh machine; safe and quick to run again.
#  1. the system libraries Qt needs to open a real window (Debian/Ubuntu, via apt-get);
#     the CJK font is bundled in assets/fonts, so no font package is needed;
#  2. a virtual environment in .venv with kiosk and its development tools, at the versions
#     locked in requirements/lock.txt (scripts/lock.sh updates the lock). The lock holds the
#     `build` extra too (PyInstaller, for scripts/build.sh): a few MB that install in seconds,
#     so one lock and one set-up serve the tests and the build alike.
set -euo pipefail
cd "$(dirname "$0")/.."

QT_SYSTEM_PACKAGES=(
  libgl1 libegl1 libglib2.0-0 libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-randr0
  libxcb-render-util0 libxcb-image0 libxcb-xinerama0 libxcb-xkb1
  libpulse0  # Qt Multimedia: camera scanning and scan sounds
  poppler-utils  # pdftotext and pdftoppm: the tests read printed PDFs back
)

if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for package in "${QT_SYSTEM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" \
      || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing system libraries for Qt: ${missing[*]}" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  fi
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "setup: kiosk needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$python" -m venv .venv
fi

# Install exactly what requirements/lock.txt says (every version and file hash the tests
# passed on; scripts/lock.sh updates it), then kiosk itself without resolving anything again.
# Reinstall only when the lock or pyproject.toml changed, so the second run takes a second.
stamp=.venv/.kiosk-installed
wanted=$(cat pyproject.toml requirements/lock.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ] \
   || ! .venv/bin/python -c 'import kiosk, ui, cli' 2>/dev/null; then
  echo "setup: installing the locked dependencies and kiosk into .venv" >&2
  .venv/bin/python -m pip install -q --require-hashes --no-deps -r requirements/lock.txt
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
  echo "$wanted" > "$stamp"
fi
