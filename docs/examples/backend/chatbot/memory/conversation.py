"""Conversations as trees of messages, and the thread manager that edits and branches them.

Every message points at its parent. A linear chat is a tree with one branch; editing a
user message or regenerating an answer adds a *sibling*, and the conversation's
``active_leaf_id`` says which branch the user is looking at. The history sent to the
model is always the path from the root to the active leaf, never "all messages ordered
by time", which is the bug that makes an edited conversation answer the old question.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

Role = Literal["system", "user", "assistant", "tool"]
Status = Literal["complete", "streaming", "failed", "cancelled"]


# [start:models]
@dataclass(frozen=True, slots=True)
class Message:
    """One node of the conversation tree."""

    id: int
    conversation_id: str
    parent_id: int | None
    role: Role
    content: str
    token_count: int
    status: Status = "complete"
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # Model, finish reason, tool-call ids, citations: what an audit or a replay needs.
    metadata: dict[str, str] = field(default_factory=dict)
    pinned: bool = False


@dataclass(slots=True)
class Conversation:
    """Per-conversation metadata; the messages live in the thread manager's store."""

    id: str
    user_id: str
    tenant_id: str
    title: str = ""
    active_leaf_id: int | None = None
    summary: str = ""
    summary_through_id: int | None = None  # last message the summary covers
    total_tokens: int = 0
    version: int = 0  # optimistic concurrency: bumped on every change
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    archived: bool = False


# [end:models]


class ConflictError(Exception):
    """The conversation changed since the caller read it (another tab or device)."""


# [start:thread-manager]
class ThreadManager:
    """Append, edit, regenerate and switch branches; always return the active path.

    The store here is in memory; the PostgreSQL schema in :data:`SCHEMA_SQL` holds the same
    shape, and :data:`ACTIVE_PATH_SQL` loads a branch with one recursive query.
    """

    def __init__(self) -> None:
        self._conversations: dict[str, Conversation] = {}
        self._messages: dict[int, Message] = {}
        self._children: dict[int | None, list[int]] = {}
        self._ids = itertools.count(1)

    def create(self, conversation_id: str, *, user_id: str, tenant_id: str) -> Conversation:
        conversation = Conversation(conversation_id, user_id, tenant_id)
        self._conversations[conversation_id] = conversation
        return conversation

    def get(self, conversation_id: str) -> Conversation:
        return self._conversations[conversation_id]

    def message(self, message_id: int) -> Message:
        return self._messages[message_id]

    def append(
        self,
        conversation_id: str,
        role: Role,
        content: str,
        *,
        token_count: int,
        parent_id: int | None = None,
        expected_version: int | None = None,
        status: Status = "complete",
    ) -> Message:
        """Add a message under ``parent_id`` (default: the active leaf) and make it active.

        ``expected_version`` turns a lost update into an error: two devices that both
        answer "version 7" cannot both append to the same leaf unnoticed.
        """
        conversation = self._conversations[conversation_id]
        if expected_version is not None and expected_version != conversation.version:
            msg = f"{conversation_id} is at version {conversation.version}, not {expected_version}"
            raise ConflictError(msg)
        parent = conversation.active_leaf_id if parent_id is None else parent_id
        if parent is not None and self._messages[parent].conversation_id != conversation_id:
            raise ValueError("parent belongs to another conversation")
        message = Message(
            next(self._ids), conversation_id, parent, role, content, token_count, status
        )
        self._messages[message.id] = message
        self._children.setdefault(parent, []).append(message.id)
        conversation.active_leaf_id = message.id
        conversation.total_tokens += token_count
        conversation.version += 1
        return message

    def update(self, message_id: int, *, content: str, token_count: int, status: Status) -> Message:
        """Finish (or fail) a streaming message in place."""
        updated = replace(
            self._messages[message_id], content=content, token_count=token_count, status=status
        )
        self._messages[message_id] = updated
        self._conversations[updated.conversation_id].version += 1
        return updated

    def edit(self, message_id: int, content: str, *, token_count: int) -> Message:
        """Edit a user message: a new sibling branch; the original stays reachable."""
        original = self._messages[message_id]
        if original.role != "user":
            raise ValueError("only user messages are edited; regenerate assistant ones")
        return self.append(
            original.conversation_id, "user", content,
            token_count=token_count, parent_id=original.parent_id,
        )  # fmt: skip

    def regenerate_parent(self, assistant_id: int) -> int:
        """The message a regenerated answer hangs under (the same user turn)."""
        original = self._messages[assistant_id]
        if original.role != "assistant" or original.parent_id is None:
            raise ValueError("regenerate an assistant message that answers something")
        return original.parent_id

    def siblings(self, message_id: int) -> list[int]:
        """Alternatives at this position, oldest first: the "2 / 3" arrows in the UI."""
        return list(self._children.get(self._messages[message_id].parent_id, []))

    def switch(self, message_id: int) -> Conversation:
        """Show the branch through ``message_id``, down to its most recent descendant."""
        leaf = message_id
        while self._children.get(leaf):
            leaf = self._children[leaf][-1]
        conversation = self._conversations[self._messages[message_id].conversation_id]
        conversation.active_leaf_id = leaf
        conversation.version += 1
        return conversation

    def active_path(self, conversation_id: str) -> list[Message]:
        """Root-to-leaf messages of the active branch: what the model sees."""
        return list(reversed(list(self._ancestors(self._conversations[conversation_id]))))

    def _ancestors(self, conversation: Conversation) -> Iterator[Message]:
        node = conversation.active_leaf_id
        while node is not None:
            message = self._messages[node]
            yield message
            node = message.parent_id


# [end:thread-manager]


# [start:schema]
SCHEMA_SQL = [
    """CREATE TABLE conversations (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        user_id text NOT NULL,
        title text NOT NULL DEFAULT '',
        active_leaf_id bigint,
        summary text NOT NULL DEFAULT '',
        summary_through_id bigint,
        total_tokens integer NOT NULL DEFAULT 0,
        version integer NOT NULL DEFAULT 0,
        archived boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
    """CREATE TABLE messages (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        parent_id bigint REFERENCES messages (id) ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
        content text NOT NULL,
        token_count integer NOT NULL,
        status text NOT NULL DEFAULT 'complete',
        pinned boolean NOT NULL DEFAULT false,
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX messages_conversation ON messages (conversation_id, id)",
    "CREATE INDEX messages_parent ON messages (parent_id)",
    """CREATE INDEX conversations_user_recent ON conversations (tenant_id, user_id, updated_at DESC)
        WHERE NOT archived""",
]

# The active branch in one round trip: walk parent pointers up from the leaf.
ACTIVE_PATH_SQL = """
WITH RECURSIVE path AS (
    SELECT m.* FROM messages m
    JOIN conversations c ON c.active_leaf_id = m.id
    WHERE c.id = %(conversation_id)s AND c.user_id = %(user_id)s
  UNION ALL
    SELECT parent.* FROM messages parent JOIN path ON parent.id = path.parent_id
)
SELECT id, parent_id, role, content, token_count, status, pinned, created_at
FROM path ORDER BY id
"""
# [end:schema]
