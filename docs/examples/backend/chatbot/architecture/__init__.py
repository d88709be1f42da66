"""Architecture building blocks the book's chapter 2 explains.

Each module has one job and no import of the web application, so the pieces can be
read, tested and reused alone: an in-process event bus, Redis Streams workers, task
orchestration, connection-pool sizing, an atomic Redis rate limiter, a circuit breaker,
a Redis cache, a vector-store interface, API versioning and a WebSocket chat endpoint.
"""
