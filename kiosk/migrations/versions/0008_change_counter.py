"""Change counter for stations on several laptops (#10)

Revision ID: 7d6b66c3d611
Revises: 5f1d0c9a7e21
Create Date: 2026-11-23 19:17:22.174321
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Migrations use plain SQLAlchemy types only, never model code, so they never change later.


revision: str = "7d6b66c3d611"
down_revision: str | None = "5f1d0c9a7e21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_counter")),
    )
    # The one row every committed write bumps (kiosk.changes); it exists from the start so a
    # write never has to insert it (two first writers would race).
    op.bulk_insert(table, [{"id": 1, "value": 0}])


def downgrade() -> None:
    op.drop_table("change_counter")
