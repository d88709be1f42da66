"""Async task orchestration for a chat turn: fan-out with deadlines, background work, sagas."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


# [start:prepare-turn]
@dataclass(frozen=True, slots=True)
class TurnInputs:
    """Everything the model call needs, gathered concurrently before it starts."""

    history: list[str]
    documents: list[str]
    allowed: bool


async def optional(
    step: Callable[[], Awaitable[T]], *, default: T, timeout_s: float, name: str
) -> T:
    """Run a step that may fail: on error or timeout, log and fall back to ``default``."""
    try:
        async with asyncio.timeout(timeout_s):
            return await step()
    except Exception:  # TimeoutError included: a slow vector store must not fail the turn
        logger.warning("optional step degraded", extra={"step": name}, exc_info=True)
        return default


async def prepare_turn(
    load_history: Callable[[], Coroutine[Any, Any, list[str]]],
    retrieve: Callable[[], Coroutine[Any, Any, list[str]]],
    moderate: Callable[[], Coroutine[Any, Any, bool]],
    *,
    retrieval_timeout_s: float = 0.8,
    deadline_s: float = 2.0,
) -> TurnInputs:
    """Load history, retrieve documents and moderate the prompt at the same time.

    History and moderation are required: if either fails, the TaskGroup cancels the
    others and the error reaches the caller. Retrieval is optional and degrades to no
    documents. The whole fan-out shares one deadline, so the user waits for the
    slowest step once, not for the sum of the steps.
    """
    no_documents: list[str] = []
    async with asyncio.timeout(deadline_s), asyncio.TaskGroup() as group:
        history = group.create_task(load_history())
        documents = group.create_task(
            optional(retrieve, default=no_documents, timeout_s=retrieval_timeout_s, name="retrieve")
        )
        allowed = group.create_task(moderate())
    return TurnInputs(history.result(), documents.result(), allowed.result())


# [end:prepare-turn]


# [start:background]
class BackgroundTasks:
    """Fire-and-forget work after a reply (titles, usage rows) that shutdown drains.

    The event loop keeps only weak references to tasks, so a task nobody holds can be
    garbage-collected mid-flight; this set holds them until they finish.
    """

    def __init__(self, *, max_concurrent: int = 64) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._slots = asyncio.Semaphore(max_concurrent)

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Start ``coro`` now; its exception is logged, never lost silently."""
        task = asyncio.create_task(self._limited(coro), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout_s: float) -> int:
        """Wait up to ``timeout_s`` for running tasks, cancel the rest; return how many."""
        if not self._tasks:
            return 0
        _done, still_running = await asyncio.wait(self._tasks, timeout=timeout_s)
        for task in still_running:
            task.cancel()
        await asyncio.gather(*still_running, return_exceptions=True)
        return len(still_running)

    async def _limited(self, coro: Coroutine[Any, Any, Any]) -> Any:
        async with self._slots:
            return await coro

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("background task failed: %s", task.get_name(), exc_info=error)


# [end:background]


# [start:saga]
@dataclass(frozen=True, slots=True)
class SagaStep:
    """An action and the compensation that undoes it, given the action's result."""

    name: str
    action: Callable[[], Awaitable[Any]]
    compensate: Callable[[Any], Awaitable[None]] | None = None


@dataclass
class SagaFailed(Exception):
    """The saga stopped at ``failed_step``; ``uncompensated`` lists undo steps that failed."""

    failed_step: str
    cause: BaseException
    uncompensated: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"saga failed at {self.failed_step!r}; uncompensated: {self.uncompensated}"


async def run_saga(steps: Sequence[SagaStep], *, compensation_attempts: int = 3) -> list[Any]:
    """Run steps in order; on a failure, undo the completed ones in reverse order.

    A compensation is retried, because giving up leaves the outside world half-changed
    (a calendar slot held, a ticket open). Undo steps that still fail are reported in
    :class:`SagaFailed` for a person or a reconciliation job to finish.
    """
    done: list[tuple[SagaStep, Any]] = []
    for step in steps:
        try:
            done.append((step, await step.action()))
        except Exception as error:
            failed = SagaFailed(step.name, error)
            for completed, result in reversed(done):
                if completed.compensate and not await _retry(
                    completed.compensate, result, compensation_attempts
                ):
                    failed.uncompensated.append(completed.name)
            raise failed from error
    return [result for _, result in done]


async def _retry(undo: Callable[[Any], Awaitable[None]], result: Any, attempts: int) -> bool:
    for attempt in range(attempts):
        try:
            await undo(result)
            return True
        except Exception:
            logger.warning("compensation failed", extra={"attempt": attempt}, exc_info=True)
            await asyncio.sleep(0.05 * 2**attempt)
    return False


# [end:saga]
