"""Invitation tracking: the last answer per invitation, branch targets, the e-catalog URL

Revision ID: 7cb11a378ef1
Revises: 716fef95390d
Create Date: 2026-11-23 18:09:30.761332
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Migrations use plain SQLAlchemy types only, never model code, so they never change later.


revision: str = "7cb11a378ef1"
down_revision: str | None = "716fef95390d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("branch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target", sa.Integer(), nullable=True))

    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("catalog_url", sa.String(length=300), server_default="", nullable=False)
        )

    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answer", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_column("answer")

    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("catalog_url")

    with op.batch_alter_table("branch", schema=None) as batch_op:
        batch_op.drop_column("target")
