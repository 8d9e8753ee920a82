"""The ``kiosk`` command line."""
