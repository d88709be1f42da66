"""Index for the conversation list: newest message per conversation, from the index alone.

Built with CREATE INDEX CONCURRENTLY on PostgreSQL, so writes to ``messages`` continue
while it builds (a plain CREATE INDEX blocks them for the whole build). CONCURRENTLY
cannot run inside a transaction, hence the autocommit block. A concurrent build that
fails leaves an INVALID index behind: drop it before running the migration again.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels: str | None = None
depends_on: str | None = None


# [start:online-index]
def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_messages_conversation_id_id",
            "messages",
            ["conversation_id", "id"],
            postgresql_concurrently=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_messages_conversation_id_id", table_name="messages", postgresql_concurrently=True
        )


# [end:online-index]
