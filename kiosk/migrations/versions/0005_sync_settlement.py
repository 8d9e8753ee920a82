"""Journal entries settled by a snapshot pull; released slips

Revision ID: 47a974b7ed38
Revises: 7cb11a378ef1
Create Date: 2026-11-23 18:09:44.749307
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Migrations use plain SQLAlchemy types only, never model code, so they never change later.


revision: str = "47a974b7ed38"
down_revision: str | None = "7cb11a378ef1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True))
    # SQLite rebuilds the table for this; the other constraints are reflected and kept.
    with op.batch_alter_table("slip", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_slip_status"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_slip_status"), "status IN ('issued', 'voided', 'redeemed', 'released')"
        )


def downgrade() -> None:
    with op.batch_alter_table("slip", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_slip_status"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_slip_status"), "status IN ('issued', 'voided', 'redeemed')"
        )
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.drop_column("settled_at")
