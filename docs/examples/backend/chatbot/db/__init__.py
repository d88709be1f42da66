"""Persistence: typed SQLAlchemy 2 models on an async engine."""
