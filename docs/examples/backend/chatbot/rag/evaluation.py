"""Retrieval evaluation: recall@k and MRR over questions with known answer passages.

A question is labelled with the *answer span*, a short verbatim passage that answers it,
rather than with a chunk id. A chunk is relevant when it contains the whole span, so the
same labels score every chunking strategy, and a chunker that cuts the answer in half is
rightly penalised.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chatbot.rag.models import ScoredChunk
from chatbot.rag.retrieval import Retriever

EVALSET = Path(__file__).parent / "evalset"


@dataclass(frozen=True, slots=True)
class Question:
    question: str
    answer_span: str
    kind: str  # "paraphrase" (different words) or "exact" (codes, names, settings)


def load_questions(path: Path = EVALSET / "questions.json") -> list[Question]:
    return [Question(**row) for row in json.loads(path.read_text())]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


# [start:metrics]
def first_relevant_rank(hits: Sequence[ScoredChunk], answer_span: str) -> int | None:
    """1-based rank of the first chunk containing the span, or ``None``."""
    span = _norm(answer_span)
    for rank, hit in enumerate(hits, start=1):
        if span in _norm(hit.chunk.text):
            return rank
    return None


@dataclass(frozen=True, slots=True)
class EvalResult:
    name: str
    recall_at_k: dict[int, float]
    mrr: float
    questions: int

    def row(self) -> str:
        recalls = " ".join(f"R@{k}={v:.2f}" for k, v in sorted(self.recall_at_k.items()))
        return f"{self.name:<28} {recalls} MRR={self.mrr:.3f} (n={self.questions})"


async def evaluate(
    name: str,
    retriever: Retriever,
    questions: Sequence[Question],
    *,
    tenant_id: str,
    ks: Sequence[int] = (1, 3, 5),
) -> EvalResult:
    """Recall@k: share of questions with a relevant chunk in the top k. MRR: mean of 1/rank."""
    depth = max(ks)
    ranks: list[int | None] = []
    for q in questions:
        hits = await retriever.retrieve(tenant_id, q.question, top_k=depth)
        ranks.append(first_relevant_rank(hits, q.answer_span))
    n = len(questions)
    recall = {k: sum(1 for r in ranks if r is not None and r <= k) / n for k in ks}
    mrr = sum(1.0 / r for r in ranks if r is not None) / n
    return EvalResult(name, recall, mrr, n)


# [end:metrics]
