"""Reference chatbot service: FastAPI, SQLAlchemy async and a pluggable LLM provider."""
