"""The documentation search tool: chapter 6's retriever behind chapter 5's ``search_docs``."""

from __future__ import annotations

from typing import ClassVar

from chatbot.agents.tools import Tool, ToolContext, ToolError
from chatbot.llm.tools import SearchDocs
from chatbot.rag.retrieval import Retriever
from chatbot.security.guardrails import ContextChunk, InjectionDetector, spotlight


# [start:search]
class SearchTool(Tool[SearchDocs]):
    """Searches the caller's tenant only; passages come back fenced as data.

    The tenant comes from :class:`ToolContext`, never from the arguments: a model that
    was talked into asking for another tenant's documents has no parameter to do it with.
    Retrieved text is the main route for indirect prompt injection into an agent, so it
    goes through the same spotlighting as the chat path (chapter 10): flagged passages
    are dropped, the rest are fenced and labelled as material to quote.
    """

    name = "search_docs"
    Args = SearchDocs
    timeout_s: ClassVar[float] = 5.0
    max_output_chars: ClassVar[int] = 6_000
    passage_chars: ClassVar[int] = 1_200

    def __init__(self, retriever: Retriever, detector: InjectionDetector | None = None) -> None:
        self.retriever = retriever
        self.detector = detector or InjectionDetector()

    async def run(self, args: SearchDocs, ctx: ToolContext) -> str:
        query = args.query.strip()
        if len(query) < 2:
            raise ToolError("The query is empty; say what to look for.")
        filter_ = {"product": args.product} if args.product else None
        hits = await self.retriever.retrieve(ctx.tenant_id, query, top_k=args.top_k, filter=filter_)
        if not hits:
            scope = f" for product {args.product!r}" if args.product else ""
            return f"No passages match {query!r}{scope}. Try other words or a broader query."
        chunks = [
            ContextChunk(hit.chunk.chunk_id, hit.chunk.text[: self.passage_chars]) for hit in hits
        ]
        fenced, dropped = spotlight(chunks, self.detector)
        note = f"\n\n({len(dropped)} passage(s) withheld by the content filter.)" if dropped else ""
        return (fenced or "No usable passages.") + note


# [end:search]
