"""Audit records name the approving supervisor and digest the rows before / after (#11)

Revision ID: f1ae2c4db6f6
Revises: 7d6b66c3d611
Create Date: 2026-12-02 16:52:40.587892
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Migrations use plain SQLAlchemy types only, never model code, so they never change later.


revision: str = "f1ae2c4db6f6"
down_revision: str | None = "7d6b66c3d611"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing records get "" digests; the chain leaves empty fields out of the hash, so the
    # records written before this migration still verify.
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approved_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("before_digest", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("after_digest", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_record_approved_by_staff"), "staff", ["approved_by"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_audit_record_approved_by_staff"), type_="foreignkey"
        )
        batch_op.drop_column("after_digest")
        batch_op.drop_column("before_digest")
        batch_op.drop_column("approved_by")
