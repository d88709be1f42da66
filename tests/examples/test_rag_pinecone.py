"""PineconeVectorStore and PineconeReranker against the real ``pinecone`` v10 SDK.

Only the socket layer is fake: ``httpx.HTTPTransport.handle_request``, the transport the SDK
wraps in its own retrying transport, is replaced by an in-memory Pinecone that speaks the
2026-07 wire format. The SDK's request building, validation, retries, msgspec decoding and
response models all run for real.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from chatbot.rag.models import Chunk, EmbeddedChunk, ScoredChunk
from chatbot.rag.pinecone_store import PineconeVectorStore, ensure_index, index_schema
from chatbot.rag.rerank import PineconeReranker, RerankingRetriever
from chatbot.rag.vectorstore import Filter
from pinecone import Pinecone

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _matches(doc: dict[str, Any], expr: dict[str, Any] | None) -> bool:
    if not expr:
        return True
    if "$and" in expr:
        return all(_matches(doc, sub) for sub in expr["$and"])
    for key, cond in expr.items():
        value = doc.get(key)
        if "$eq" in cond and value != cond["$eq"]:
            return False
        if "$in" in cond:
            values = value if isinstance(value, list) else [value]
            if not set(values) & set(cond["$in"]):
                return False
    return True


@dataclass
class FakePinecone:
    """Control plane, data plane and inference of one project, in memory."""

    indexes: dict[str, dict[str, Any]] = field(default_factory=dict)
    namespaces: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.requests.append((request.method, request.url.path, body))
        assert request.headers["Api-Key"] == "test-key"
        assert request.headers["X-Pinecone-Api-Version"] == "2026-07"
        if self.fail_next:
            return httpx.Response(self.fail_next.pop(0), json={"error": {"message": "busy"}})
        path = request.url.path
        if request.url.host == "api.pinecone.io":
            return self._control(request.method, path, body)
        match = re.fullmatch(r"/namespaces/([^/]+)/documents/(\w+)", path)
        assert match, path
        return self._data(match.group(1), match.group(2), body or {})

    def _control(self, method: str, path: str, body: dict[str, Any] | None) -> httpx.Response:
        if method == "POST" and path == "/indexes":
            assert body is not None
            model = {
                "name": body["name"],
                "status": {"ready": True, "state": "Ready"},
                "schema": body["schema"],
                "deployment": body["deployment"],
                "deletion_protection": body.get("deletion_protection", "disabled"),
                "host": f"{body['name']}-abc123.svc.aped-4627-b74a.pinecone.io",
            }
            self.indexes[body["name"]] = model
            return httpx.Response(201, json=model)
        if method == "GET" and path.startswith("/indexes/"):
            name = path.rsplit("/", 1)[1]
            if name not in self.indexes:
                error = {"code": "NOT_FOUND", "message": f"Resource {name} not found"}
                return httpx.Response(404, json={"error": error, "status": 404})
            return httpx.Response(200, json=self.indexes[name])
        if method == "POST" and path == "/rerank":
            assert body is not None
            query = set(re.findall(r"\w+", body["query"].lower()))
            scored = []
            for i, doc in enumerate(body["documents"]):
                words = set(re.findall(r"\w+", doc["text"].lower()))
                scored.append({"index": i, "score": len(query & words) / (len(query) or 1)})
            scored.sort(key=lambda row: -row["score"])
            data = scored[: body.get("top_n") or len(scored)]
            usage = {"rerank_units": 1}
            return httpx.Response(200, json={"model": body["model"], "data": data, "usage": usage})
        return httpx.Response(404, json={"error": {"message": f"no route {method} {path}"}})

    def _data(self, namespace: str, op: str, body: dict[str, Any]) -> httpx.Response:
        docs = self.namespaces.setdefault(namespace, {})
        if op == "upsert":
            for doc in body["documents"]:
                docs[doc["_id"]] = doc
            return httpx.Response(200, json={"upserted_count": len(body["documents"])})
        if op == "delete":
            gone = [i for i, d in docs.items() if _matches(d, body.get("filter"))]
            for doc_id in gone:
                del docs[doc_id]
            return httpx.Response(200, json={"matched_records": len(gone)})
        if op == "search":
            [clause] = body["score_by"]
            assert clause["type"] == "dense_vector"
            query = clause["values"]
            hits = []
            for doc in docs.values():
                if not _matches(doc, body.get("filter")):
                    continue
                vec = doc[clause["field"]]
                norm = math.hypot(*vec) * math.hypot(*query)
                score = sum(a * b for a, b in zip(vec, query, strict=True)) / norm
                fields = doc if body.get("include_fields") == ["*"] else {"_id": doc["_id"]}
                hits.append({**fields, "_score": score})
            hits.sort(key=lambda h: -h["_score"])
            usage = {"read_units": 1}
            top = hits[: body["top_k"]]
            return httpx.Response(
                200, json={"matches": top, "namespace": namespace, "usage": usage}
            )
        return httpx.Response(400, json={"error": {"message": op}})


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakePinecone:
    server = FakePinecone()

    def handle_request(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        return server.handle(request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle_request)
    monkeypatch.setattr("pinecone._internal.http_client._retry_sleep", lambda _delay: None)
    return server


def _item(doc_id: str, ordinal: int, text: str, vector: list[float], **meta: Any) -> EmbeddedChunk:
    chunk = Chunk(doc_id, "acme", ordinal, text, 0, len(text), dict(meta))
    return EmbeddedChunk(chunk, vector, "test-model")


async def test_ensure_index_creates_once_with_a_v10_schema(fake: FakePinecone) -> None:
    pc = Pinecone(api_key="test-key")
    host = ensure_index(pc, "kb-chunks", dimension=3, cloud="aws", region="us-east-1")
    assert host == "https://kb-chunks-abc123.svc.aped-4627-b74a.pinecone.io"
    created = [r for r in fake.requests if r[:2] == ("POST", "/indexes")]
    assert len(created) == 1
    body = created[0][2]
    assert body is not None
    assert body["schema"] == index_schema(3)
    assert body["deployment"] == {
        "deployment_type": "managed",
        "cloud": "aws",
        "region": "us-east-1",
    }
    assert body["deletion_protection"] == "enabled"
    ensure_index(pc, "kb-chunks", dimension=3, cloud="aws", region="us-east-1")
    assert len([r for r in fake.requests if r[:2] == ("POST", "/indexes")]) == 1


async def test_upsert_query_filter_and_delete_round_trip(fake: FakePinecone) -> None:
    pc = Pinecone(api_key="test-key")
    store = PineconeVectorStore.connect(pc, "kb-abc123.svc.aped-4627-b74a.pinecone.io")
    written = await store.upsert(
        "acme",
        [
            _item("refunds.md", 0, "Refunds within 30 days", [1.0, 0.0, 0.0], lang="en"),
            _item("refunds.md", 1, "Remboursements", [0.9, 0.1, 0.0], lang="fr"),
            _item("sso.md", 0, "Configure SAML", [0.0, 1.0, 0.0], lang="en"),
        ],
    )
    assert written == 3
    hits = await store.query("acme", [1.0, 0.0, 0.0], top_k=2)
    assert [h.chunk.text for h in hits] == ["Refunds within 30 days", "Remboursements"]
    assert hits[0].score == pytest.approx(1.0)
    assert hits[0].chunk.metadata == {"lang": "en"}  # vector and model stripped from metadata
    only_fr: Filter = {"lang": "fr"}
    hits = await store.query("acme", [1.0, 0.0, 0.0], top_k=5, filter=only_fr)
    assert [h.chunk.text for h in hits] == ["Remboursements"]
    search = next(r for r in fake.requests if r[1].endswith("/search"))
    assert search[2] is not None
    assert search[2]["score_by"] == [
        {"type": "dense_vector", "field": "embedding", "values": [1.0, 0.0, 0.0]}
    ]
    await store.delete_document("acme", "refunds.md")
    hits = await store.query("acme", [1.0, 0.0, 0.0], top_k=5)
    assert [h.chunk.doc_id for h in hits] == ["sso.md"]


async def test_tenants_are_namespaces(fake: FakePinecone) -> None:
    store = PineconeVectorStore.connect(Pinecone(api_key="test-key"), "kb.svc.pinecone.io")
    await store.upsert("acme", [_item("a.md", 0, "acme secret", [1.0, 0.0])])
    assert await store.query("globex", [1.0, 0.0]) == []
    assert [doc["tenant_id"] for doc in fake.namespaces["acme"].values()] == ["acme"]
    assert fake.namespaces["globex"] == {}


async def test_upserts_are_batched(fake: FakePinecone) -> None:
    store = PineconeVectorStore(
        Pinecone(api_key="test-key").index(host="kb.svc.pinecone.io"), upsert_batch=2
    )
    items = [_item("a.md", i, f"chunk {i}", [1.0, float(i)]) for i in range(5)]
    assert await store.upsert("acme", items) == 5
    upserts = [r for r in fake.requests if r[1].endswith("/upsert")]
    assert [len(r[2]["documents"]) for r in upserts if r[2]] == [2, 2, 1]


async def test_sdk_retries_a_503_before_the_store_sees_it(fake: FakePinecone) -> None:
    store = PineconeVectorStore.connect(Pinecone(api_key="test-key"), "kb.svc.pinecone.io")
    fake.fail_next = [503]
    assert await store.upsert("acme", [_item("a.md", 0, "x", [1.0, 0.0])]) == 1
    assert [r[1] for r in fake.requests].count("/namespaces/acme/documents/upsert") == 2


class _Base:
    def __init__(self, hits: list[ScoredChunk]) -> None:
        self.hits = hits

    async def retrieve(
        self, tenant_id: str, query: str, *, top_k: int = 10, filter: Filter | None = None
    ) -> list[ScoredChunk]:
        return self.hits[:top_k]


def _hit(text: str, score: float) -> ScoredChunk:
    return ScoredChunk(Chunk("d.md", "acme", int(score * 100), text, 0, len(text)), score)


async def test_pinecone_reranker_reorders_by_the_model_score(fake: FakePinecone) -> None:
    reranker = PineconeReranker(Pinecone(api_key="test-key"), model="reranker-from-settings")
    base = _Base([_hit("billing overview", 0.9), _hit("refund policy for annual plans", 0.5)])
    retriever = RerankingRetriever(base, reranker, candidates=10, timeout_s=5)
    hits = await retriever.retrieve("acme", "annual refund policy", top_k=1)
    assert [h.chunk.text for h in hits] == ["refund policy for annual plans"]
    assert hits[0].source == "rerank"
    rerank = next(r for r in fake.requests if r[1] == "/rerank")
    assert rerank[2] is not None
    assert rerank[2]["model"] == "reranker-from-settings"
    assert rerank[2]["return_documents"] is False
    assert retriever.fallbacks == 0


async def test_reranker_failure_falls_back_to_first_stage_order(fake: FakePinecone) -> None:
    reranker = PineconeReranker(Pinecone(api_key="test-key"), model="m")
    base = _Base([_hit("first", 0.9), _hit("second", 0.5)])
    retriever = RerankingRetriever(base, reranker, timeout_s=5)
    fake.fail_next = [400]
    hits = await retriever.retrieve("acme", "q", top_k=2)
    assert [h.chunk.text for h in hits] == ["first", "second"]
    assert retriever.fallbacks == 1
