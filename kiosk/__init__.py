"""The domain of the event-day kiosk: models, migrations, rules and services. Imports no Qt
and none of ui/, printing/, sync/ or cli/ (checked by tests/unit/test_architecture.py)."""

import logging

# What kiosk logs (a file tightened, a password moved: ``kiosk.files``, ``kiosk.credentials``)
# goes where the program that runs it sends logs; the kiosk command and the app say the same
# in their own sentences, so without a configured handler nothing is printed twice.
logging.getLogger(__name__).addHandler(logging.NullHandler())
