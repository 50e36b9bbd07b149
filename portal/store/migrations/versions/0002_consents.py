"""consents: a user's approval of an OAuth client and redirect URI

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 21:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oauth_consents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("redirect_uri_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "client_id", "redirect_uri_hash", name="uq_oauth_consents_grant"),
    )
    with op.batch_alter_table("oauth_consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oauth_consents_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_oauth_consents_user_id"), ["user_id"], unique=False)
    # A consent revoke revokes the client's refresh families for the user: find them by user too.
    with op.batch_alter_table("oauth_refresh_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_oauth_refresh_tokens_user_client", ["user_id", "client_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("oauth_refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_oauth_refresh_tokens_user_client")
    with op.batch_alter_table("oauth_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_consents_user_id"))
        batch_op.drop_index(batch_op.f("ix_oauth_consents_client_id"))
    op.drop_table("oauth_consents")
