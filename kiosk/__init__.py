"""The domain of the event-day kiosk: models, migrations, rules and services. Imports no Qt
and none of ui/, printing/, sync/ or cli/ (checked by tests/unit/test_architecture.py)."""
