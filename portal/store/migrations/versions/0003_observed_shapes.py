"""observed shapes: result shapes learned from upstream calls (key and type names, no values)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 21:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "observed_shapes",
        sa.Column("tool", sa.String(length=200), nullable=False),
        sa.Column("samples", sa.JSON(), nullable=False),
        sa.Column("observations", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tool"),
    )


def downgrade() -> None:
    op.drop_table("observed_shapes")
