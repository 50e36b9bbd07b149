"""shared limits: per-user token buckets and in-flight leases every replica enforces together

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 21:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admission_buckets",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "admission_leases",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("replica", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("admission_leases", schema=None) as batch_op:
        batch_op.create_index("ix_admission_leases_user_expires", ["user_id", "expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_admission_leases_replica"), ["replica"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("admission_leases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admission_leases_replica"))
        batch_op.drop_index("ix_admission_leases_user_expires")
    op.drop_table("admission_leases")
    op.drop_table("admission_buckets")
