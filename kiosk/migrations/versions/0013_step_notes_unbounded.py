"""Visit-step notes as TEXT: a cart of 17 slips lists more than 200 characters (#16, 12)

The note of a "slips_issued" step lists every slip number ("No. 000001, No. 000002, ...");
PostgreSQL refused it past VARCHAR(200) and nothing was issued, while SQLite kept it, so such
an event could not be copied to PostgreSQL either. Notes are derived summaries: kept whole.

Revision ID: 5d7e2c41b913
Revises: a2738090c06c
Create Date: 2026-12-06 07:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Migrations use plain SQLAlchemy types only, never model code, so they never change later.


revision: str = "5d7e2c41b913"
down_revision: str | None = "a2738090c06c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visit_step", schema=None) as batch_op:
        batch_op.alter_column(
            "note",
            existing_type=sa.String(length=200),
            type_=sa.Text(),
            existing_nullable=False,
        )


def downgrade() -> None:
    # A note longer than 200 characters is cut to fit (the slip numbers are in the slip table).
    op.execute("UPDATE visit_step SET note = substr(note, 1, 200) WHERE length(note) > 200")
    with op.batch_alter_table("visit_step", schema=None) as batch_op:
        batch_op.alter_column(
            "note",
            existing_type=sa.Text(),
            type_=sa.String(length=200),
            existing_nullable=False,
        )
