"""Action requests for exactly-once actions, station free-space heartbeats (#31)

Revision ID: 4e1150de5781
Revises: 6e934b57736c
Create Date: 2026-12-06 04:13:16.641601
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Migrations use plain SQLAlchemy types only, never model code, so they never change later.


revision: str = "4e1150de5781"
down_revision: str | None = "6e934b57736c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "station_status",
        sa.Column("host", sa.String(length=64), nullable=False),
        sa.Column("station", sa.String(length=32), nullable=False),
        sa.Column("staff_no", sa.String(length=32), nullable=False),
        sa.Column("free_bytes", sa.BigInteger(), nullable=False),
        sa.Column("place", sa.String(length=255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("host", name=op.f("pk_station_status")),
    )
    op.create_table(
        "action_request",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_action_request_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_request")),
    )


def downgrade() -> None:
    op.drop_table("action_request")
    op.drop_table("station_status")
