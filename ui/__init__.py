"""The PySide6 desktop app: main window, sign-in and one module per station. Thin: every
rule is in ``kiosk``."""
