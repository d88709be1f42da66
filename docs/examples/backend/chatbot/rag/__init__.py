"""Retrieval-augmented generation: ingestion, chunking, embeddings, vector stores, retrieval.

The interfaces live in :mod:`chatbot.rag.models` (data) and :mod:`chatbot.rag.vectorstore`
(storage); everything else depends on those two and never on a vendor SDK directly, so the
in-memory store used in tests and the Pinecone or pgvector stores used in production are
interchangeable.
"""
