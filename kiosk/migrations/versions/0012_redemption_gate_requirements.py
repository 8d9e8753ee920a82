"""Redemption gate: the steps an event requires before slips are issued (#16)

Existing events get the bank's default (complete data, mobile banking active), the rule the
slip service enforces from now on.

Revision ID: a2738090c06c
Revises: 4e1150de5781
Create Date: 2026-12-06 03:38:31.450443
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Migrations use plain SQLAlchemy types only, never model code, so they never change later.


revision: str = "a2738090c06c"
down_revision: str | None = "4e1150de5781"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "redeem_requires",
                sa.String(length=100),
                server_default="data mobile_banking",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("redeem_requires")
