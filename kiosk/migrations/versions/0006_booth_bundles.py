"""Merchant bundle secret and redemption conflicts (merchant booths, #7)

Revision ID: 834a53fecced
Revises: 47a974b7ed38
Create Date: 2026-11-23 17:56:57.333890
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Migrations use plain SQLAlchemy types only, never model code, so they never change later.


revision: str = "834a53fecced"
down_revision: str | None = "47a974b7ed38"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Adding a nullable column needs no table rebuild on SQLite.
    op.add_column("merchant", sa.Column("bundle_secret", sa.String(length=64), nullable=True))
    op.add_column("redemption", sa.Column("conflict", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("redemption") as batch_op:
        batch_op.drop_column("conflict")
    with op.batch_alter_table("merchant") as batch_op:
        batch_op.drop_column("bundle_secret")
