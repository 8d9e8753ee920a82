"""The frozen ``kiosk`` program (freeze/kiosk.spec): the event app, GUI and commands. Not
named kiosk.py, which would hide the ``kiosk`` package from PyInstaller's analysis."""

import sys

from cli.main import main

if __name__ == "__main__":
    sys.exit(main())
