"""The frozen ``kiosk-booth`` program (freeze/kiosk-booth.spec): the merchant booth alone."""

import sys

from cli.booth_main import main

if __name__ == "__main__":
    sys.exit(main())
