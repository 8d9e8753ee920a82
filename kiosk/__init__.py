"""The domain of the event-day kiosk: models, migrations, rules and services. Imports no Qt
and none of ui/, printing/, sync/ or cli/ (checked by tests/unit/test_architecture.py)."""

# What kiosk logs (a file tightened, a password moved: ``kiosk.files``, ``kiosk.credentials``)
# goes where the program that runs it sends logs; the kiosk command and the app say the same
# in their own sentences, so without a configured handler nothing is printed twice. The
# NullHandler that ensures it is set by ``kiosk.logs``, which those modules import: not here,
# where it made every import of the package import ``logging`` (issue #23, ``kiosk --help``).
