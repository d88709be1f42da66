"""How the API hands work to the background: a broker in production, a thread in development."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

import anyio.to_thread
import redis.asyncio as redis
from celery.canvas import Signature

from chatbot.architecture.orchestration import BackgroundTasks


# [start:queue]
class TaskQueue(Protocol):
    async def submit(self, job: Signature) -> str:
        """Hand *job* (a task or a chain) to the background; return its id."""
        ...


class CeleryQueue:
    """Publish to the broker; a worker fleet that scales on queue depth runs the job."""

    async def submit(self, job: Signature) -> str:
        # Publishing is a blocking socket write in kombu: keep it off the event loop.
        result = await anyio.to_thread.run_sync(job.apply_async)
        return str(result.id)


class InProcessQueue:
    """No broker: run the job on a thread of this process, drained at shutdown.

    For development and single-replica installs only: a job in flight when the process
    dies is lost, which the broker (``task_acks_late``) would have redelivered.
    """

    def __init__(self, background: BackgroundTasks) -> None:
        self._background = background

    async def submit(self, job: Signature) -> str:
        job_id = uuid.uuid4().hex
        self._background.spawn(anyio.to_thread.run_sync(job.apply), name=f"job-{job_id}")
        return job_id


# [end:queue]


# [start:depth]
async def queue_depths(client: redis.Redis, queues: Sequence[str]) -> dict[str, int]:
    """Messages waiting per queue: the number to alert and autoscale workers on.

    The Redis transport keeps each queue as a list named after it (tasks sent with a
    priority go to sibling lists, which this ignores). Messages a worker has taken
    but not acknowledged are not in the list: they sit in ``unacked``.
    """
    async with client.pipeline(transaction=False) as pipe:
        for queue in queues:
            pipe.llen(queue)
        lengths = await pipe.execute()
    return dict(zip(queues, (int(n) for n in lengths), strict=True))


# [end:depth]
