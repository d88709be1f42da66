"""A circuit breaker for calls to an LLM provider (or any dependency that can brown out).

Closed: calls flow and outcomes are recorded in a sliding time window. When at least
``min_calls`` calls in the window fail at ``failure_rate`` or worse, the breaker opens:
calls fail at once for ``open_for_s``, so a struggling provider gets no extra load and
users get a fallback in milliseconds instead of a timeout in 30 s. Then it lets
``half_open_probes`` calls through; if they all succeed it closes, if one fails it opens
again.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from enum import StrEnum


class State(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpen(Exception):
    """Raised instead of calling a dependency that is known to be failing."""

    def __init__(self, name: str, retry_after_s: float) -> None:
        super().__init__(f"circuit {name!r} is open; retry in {retry_after_s:.1f}s")
        self.retry_after_s = retry_after_s


def counts_as_failure(error: BaseException) -> bool:
    """Only errors that say the dependency is unhealthy count.

    A 400 for a malformed request is our bug, not the provider's: it must not open the
    circuit for every user. Provider errors carry ``retryable``; anything else counts.
    """
    return bool(getattr(error, "retryable", True))


# [start:breaker]
class CircuitBreaker:
    """Failure-rate breaker over a sliding window; one instance per provider per process."""

    def __init__(
        self,
        name: str,
        *,
        failure_rate: float = 0.5,
        min_calls: int = 20,
        window_s: float = 30.0,
        open_for_s: float = 15.0,
        half_open_probes: int = 3,
        is_failure: Callable[[BaseException], bool] = counts_as_failure,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._failure_rate = failure_rate
        self._min_calls = min_calls
        self._window_s = window_s
        self._open_for_s = open_for_s
        self._probes = half_open_probes
        self._is_failure = is_failure
        self._clock = clock
        self._outcomes: deque[tuple[float, bool]] = deque()  # (time, failed)
        self._state = State.CLOSED
        self._opened_at = 0.0
        self._probes_started = 0
        self._probes_passed = 0

    @property
    def state(self) -> State:
        if self._state is State.OPEN and self._clock() - self._opened_at >= self._open_for_s:
            self._state, self._probes_started, self._probes_passed = State.HALF_OPEN, 0, 0
        return self._state

    @asynccontextmanager
    async def guard(self) -> AsyncIterator[None]:
        """Wrap one call: ``async with breaker.guard(): await provider(...)``."""
        self._admit()
        try:
            yield
        except BaseException as error:
            # Cancellation (the user closed the tab) says nothing about the provider.
            if isinstance(error, Exception) and self._is_failure(error):
                self._record(failed=True)
            elif self._state is State.HALF_OPEN:
                self._probes_started -= 1  # give the unused probe slot back
            raise
        self._record(failed=False)

    def _admit(self) -> None:
        state = self.state
        if state is State.OPEN:
            remaining = self._open_for_s - (self._clock() - self._opened_at)
            raise CircuitOpen(self.name, remaining)
        if state is State.HALF_OPEN:
            if self._probes_started >= self._probes:
                raise CircuitOpen(self.name, 1.0)  # probes in flight: wait for their verdict
            self._probes_started += 1

    def _record(self, *, failed: bool) -> None:
        now = self._clock()
        if self._state is State.HALF_OPEN:
            if failed:
                self._trip(now)
            else:
                self._probes_passed += 1
                if self._probes_passed >= self._probes:
                    self._state = State.CLOSED
                    self._outcomes.clear()
            return
        self._outcomes.append((now, failed))
        while self._outcomes and self._outcomes[0][0] < now - self._window_s:
            self._outcomes.popleft()
        failures = sum(1 for _, f in self._outcomes if f)
        calls = len(self._outcomes)
        if calls >= self._min_calls and failures / calls >= self._failure_rate:
            self._trip(now)

    def _trip(self, now: float) -> None:
        self._state, self._opened_at = State.OPEN, now
        self._outcomes.clear()


# [end:breaker]
