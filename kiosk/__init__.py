"""The domain of the event-day kiosk: models, migrations, rules and services. Imports no Qt
and none of ui/, printing/, sync/ or cli/ (checked by tests/unit/test_architecture.py)."""

# What kiosk logs (a file tightened, a password moved: ``kiosk.files``, ``kiosk.credentials``)
# goes where the program that runs it sends logs; the kiosk command and the app say the same
# in their own sentences, so without a configured handler nothing is printed twice. The
# NullHandler that ensures it is set by ``kiosk.logs``, which those modules import: not here,
# where it made every import of the package import ``logging`` (issue #23, ``kiosk --help``).

# The one place the version is written: pyproject.toml reads it (``[tool.setuptools.dynamic]``),
# ``kiosk --version`` prints it, and scripts/build.sh names the archives after it. A constant,
# not package metadata: a frozen build (freeze/) has no dist-info to read it from.
__version__ = "0.1.0"
