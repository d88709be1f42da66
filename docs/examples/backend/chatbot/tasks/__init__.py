"""Background work: the Celery app, its tasks, and the queue the API publishes through."""
