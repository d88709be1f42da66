"""The Celery application: broker, reliability settings, queues, schedule and task events.

``celery -A chatbot.tasks.worker worker -Q llm,default`` runs a worker; the API process
only publishes (it never imports a worker to enqueue, see :mod:`chatbot.tasks.queue`).
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.schedules import crontab

from chatbot.settings import Settings


class ChatbotCelery(Celery):
    """A Celery app that carries the service settings its tasks need."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__("chatbot", **kwargs)
        self.settings = settings


# [start:celery-config]
def make_celery(settings: Settings) -> ChatbotCelery:
    """Build the app from the same ``Settings`` as the API, and register the tasks."""
    app = ChatbotCelery(settings)
    broker = settings.celery_broker_url or "memory://"
    app.conf.update(
        broker_url=broker,
        result_backend=settings.celery_result_backend,  # None: results are not stored
        result_expires=3600,
        task_serializer="json",
        accept_content=["json"],  # never pickle: a broker write must not become code
        timezone="UTC",
        # At-least-once: ack after the task ran, requeue if the worker dies mid-task.
        # Tasks must therefore be idempotent.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One message per worker process at a time: a slow LLM task must not hold
        # three more messages hostage in its prefetch buffer.
        worker_prefetch_multiplier=1,
        task_soft_time_limit=60,  # raises SoftTimeLimitExceeded inside the task
        task_time_limit=90,  # then the worker process is killed
        # Redis redelivers an unacked message after the visibility timeout: keep it far
        # above task_time_limit, or long tasks run twice.
        broker_transport_options={"visibility_timeout": 3600},
        broker_connection_retry_on_startup=True,
        task_default_queue="default",
        task_routes={"chatbot.summarize": {"queue": "llm"}},  # LLM calls scale separately
        # Task monitoring: events for Flower/exporters, STARTED state for dashboards.
        worker_send_task_events=True,
        task_send_sent_event=True,
        task_track_started=True,
        beat_schedule={
            "purge-expired-conversations": {
                "task": "chatbot.purge_expired_conversations",
                "schedule": crontab(hour=3, minute=17),  # off the hour: other crons run at :00
                "kwargs": {"retention_days": 365, "batch": 500},
                "options": {"expires": 3600},  # a run missed by an hour is skipped
            },
        },
    )
    from chatbot.tasks import jobs  # here, not at the top: jobs imports this module

    jobs.register(app)
    return app


# [end:celery-config]
