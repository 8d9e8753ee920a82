"""Autogenerate a migration from the models: ``python scripts/new_migration.py "message"``.

Builds a scratch SQLite database at the current head, compares it with ``kiosk.models`` and
writes the difference as a new file in ``kiosk/migrations/versions``. Review it before
committing: autogenerate misses renames and data moves.
"""

import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from kiosk import db


def main() -> None:
    message = sys.argv[1] if len(sys.argv) > 1 else "change"
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'scratch.sqlite3'}")
        if db.current_revision(engine) is None and list(
            (Path(db.__file__).parent / "migrations" / "versions").glob("*.py")
        ):
            db.migrate(engine)
        config = db._alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.revision(config, message=message, autogenerate=True)
        engine.dispose()


if __name__ == "__main__":
    main()
