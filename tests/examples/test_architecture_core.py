"""Chapter 2's in-process building blocks: event bus, orchestration, circuit breaker, pools."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from chatbot.architecture.circuit import CircuitBreaker, CircuitOpen, State
from chatbot.architecture.events import (
    ConversationDeleted,
    Event,
    EventBus,
    MessageCreated,
    TurnCompleted,
    decode_event,
    encode_event,
)
from chatbot.architecture.orchestration import (
    BackgroundTasks,
    SagaFailed,
    SagaStep,
    prepare_turn,
    run_saga,
)
from chatbot.architecture.pools import PoolBudget, PoolBudgetError, engine_options
from chatbot.providers import ProviderRejected, ProviderUnavailable

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def turn(**overrides: object) -> TurnCompleted:
    fields: dict[str, object] = {
        "conversation_id": "c1",
        "tenant_id": "t1",
        "model": "example-model",
        "input_tokens": 120,
        "output_tokens": 80,
        "time_to_first_token_ms": 450,
        "finish_reason": "stop",
    }
    fields.update(overrides)
    return TurnCompleted(**fields)  # type: ignore[arg-type]


# --- event bus ---------------------------------------------------------------------------


async def test_bus_delivers_to_type_and_base_class_subscribers() -> None:
    bus, seen = EventBus(), []

    async def on_turn(event: TurnCompleted) -> None:
        seen.append(("turn", event.output_tokens))

    async def on_any(event: Event) -> None:
        seen.append(("any", type(event).__name__))

    bus.subscribe(TurnCompleted, on_turn)
    bus.subscribe(Event, on_any)
    assert await bus.publish(turn()) == []
    assert await bus.publish(MessageCreated(conversation_id="c1", message_id=1, role="user")) == []
    assert sorted(seen) == [("any", "MessageCreated"), ("any", "TurnCompleted"), ("turn", 80)]


async def test_failing_and_slow_handlers_never_reach_the_publisher(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus, delivered = EventBus(handler_timeout_s=0.1), []

    async def broken(event: TurnCompleted) -> None:
        raise RuntimeError("analytics is down")

    async def stuck(event: TurnCompleted) -> None:
        await asyncio.sleep(10)

    async def healthy(event: TurnCompleted) -> None:
        delivered.append(event.event_id)

    for handler in (broken, stuck, healthy):
        bus.subscribe(TurnCompleted, handler)
    event = turn()
    started = time.monotonic()
    with caplog.at_level(logging.ERROR):
        errors = await bus.publish(event)
    assert time.monotonic() - started < 1
    assert sorted(type(e).__name__ for e in errors) == ["RuntimeError", "TimeoutError"]
    assert delivered == [event.event_id]
    assert caplog.text.count("event handler failed") == 2


async def test_handlers_run_concurrently() -> None:
    bus = EventBus()

    async def slow(event: TurnCompleted) -> None:
        await asyncio.sleep(0.2)

    for _ in range(5):
        bus.subscribe(TurnCompleted, slow)
    started = time.monotonic()
    await bus.publish(turn())
    assert time.monotonic() - started < 0.6  # 5 x 0.2 s would be 1 s in sequence


def test_events_round_trip_through_stream_fields() -> None:
    original = ConversationDeleted(conversation_id="c9", tenant_id="t3")
    fields = encode_event(original)
    assert fields["type"] == "ConversationDeleted"
    assert all(isinstance(v, str) for v in fields.values())
    restored = decode_event(fields)
    assert restored == original
    assert restored.occurred_at.tzinfo is not None
    with pytest.raises(KeyError):
        decode_event({"type": "Unknown", "data": "{}"})


# --- orchestration -----------------------------------------------------------------------


def after(delay: float, value: object):  # type: ignore[no-untyped-def]
    async def step():  # type: ignore[no-untyped-def]
        await asyncio.sleep(delay)
        return value

    return step


async def test_prepare_turn_runs_steps_concurrently() -> None:
    started = time.monotonic()
    inputs = await prepare_turn(after(0.2, ["h"]), after(0.2, ["d"]), after(0.2, True))
    assert (inputs.history, inputs.documents, inputs.allowed) == (["h"], ["d"], True)
    assert time.monotonic() - started < 0.5


async def test_slow_or_broken_retrieval_degrades_to_no_documents() -> None:
    inputs = await prepare_turn(
        after(0, ["h"]), after(5, ["late"]), after(0, True), retrieval_timeout_s=0.1
    )
    assert inputs.documents == []

    async def broken() -> list[str]:
        raise ConnectionError("vector store down")

    assert (await prepare_turn(after(0, ["h"]), broken, after(0, True))).documents == []


async def test_a_required_step_failure_cancels_the_others() -> None:
    cancelled = asyncio.Event()

    async def slow_moderation() -> bool:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return True

    async def broken_history() -> list[str]:
        raise ConnectionError("database down")

    with pytest.raises(ExceptionGroup) as caught:
        await prepare_turn(broken_history, after(0, []), slow_moderation)
    assert caught.group_contains(ConnectionError)
    assert cancelled.is_set()


async def test_the_whole_fan_out_shares_one_deadline() -> None:
    with pytest.raises(TimeoutError):
        await prepare_turn(after(1, []), after(0, []), after(0, True), deadline_s=0.1)


async def test_background_tasks_log_failures_and_drain_on_shutdown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tasks, finished = BackgroundTasks(), []

    async def quick(name: str) -> None:
        await asyncio.sleep(0.01)
        finished.append(name)

    async def broken() -> None:
        raise ValueError("title generation failed")

    with caplog.at_level(logging.ERROR):
        tasks.spawn(quick("title"), name="title")
        tasks.spawn(broken(), name="usage")
        tasks.spawn(asyncio.sleep(10), name="stuck")
        assert tasks.pending == 3
        cancelled = await tasks.drain(timeout_s=0.3)
    assert finished == ["title"]
    assert cancelled == 1
    assert tasks.pending == 0
    assert "background task failed: usage" in caplog.text


async def test_background_concurrency_is_bounded() -> None:
    tasks, running, peak = BackgroundTasks(max_concurrent=2), [0], [0]

    async def job() -> None:
        running[0] += 1
        peak[0] = max(peak[0], running[0])
        await asyncio.sleep(0.02)
        running[0] -= 1

    for n in range(6):
        tasks.spawn(job(), name=f"job{n}")
    assert await tasks.drain(timeout_s=2) == 0
    assert peak[0] == 2


async def test_saga_compensates_completed_steps_in_reverse() -> None:
    log: list[str] = []

    def step(name: str, *, fail: bool = False) -> SagaStep:
        async def action() -> str:
            if fail:
                raise RuntimeError(f"{name} failed")
            log.append(f"do {name}")
            return f"{name}-id"

        async def undo(result: str) -> None:
            log.append(f"undo {result}")

        return SagaStep(name, action, undo)

    assert await run_saga([step("hold_slot"), step("invite")]) == ["hold_slot-id", "invite-id"]
    log.clear()
    with pytest.raises(SagaFailed) as caught:
        await run_saga([step("hold_slot"), step("invite"), step("ticket", fail=True)])
    assert caught.value.failed_step == "ticket"
    assert caught.value.uncompensated == []
    assert log == ["do hold_slot", "do invite", "undo invite-id", "undo hold_slot-id"]


async def test_saga_reports_compensations_that_keep_failing() -> None:
    attempts = []

    async def hold() -> str:
        return "slot-7"

    async def release(result: str) -> None:
        attempts.append(result)
        raise ConnectionError("calendar API down")

    async def fail() -> None:
        raise RuntimeError("email bounced")

    with pytest.raises(SagaFailed) as caught:
        await run_saga([SagaStep("hold", hold, release), SagaStep("email", fail)])
    assert caught.value.uncompensated == ["hold"]
    assert attempts == ["slot-7"] * 3
    assert isinstance(caught.value.cause, RuntimeError)


# --- circuit breaker ---------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def outcome(breaker: CircuitBreaker, error: Exception | None = None) -> None:
    async with breaker.guard():
        if error is not None:
            raise error


def unavailable() -> ProviderUnavailable:
    return ProviderUnavailable("503", provider="openai", status_code=503)


async def test_breaker_opens_at_the_failure_rate_then_fails_fast() -> None:
    clock = Clock()
    breaker = CircuitBreaker("openai", min_calls=10, failure_rate=0.5, clock=clock)
    for n in range(10):
        with pytest.raises(ProviderUnavailable if n % 2 else ZeroDivisionError):
            await outcome(breaker, unavailable() if n % 2 else ZeroDivisionError())
        if n < 9:
            assert breaker.state is State.CLOSED  # too few calls to judge yet
    assert breaker.state is State.OPEN
    called = []
    with pytest.raises(CircuitOpen) as caught:
        async with breaker.guard():
            called.append(True)
    assert called == []
    assert caught.value.retry_after_s == pytest.approx(15.0)


async def test_client_errors_and_cancellation_do_not_count() -> None:
    breaker = CircuitBreaker("anthropic", min_calls=5, clock=Clock())
    for _ in range(10):
        with pytest.raises(ProviderRejected):
            await outcome(breaker, ProviderRejected("400", provider="anthropic", status_code=400))
        with pytest.raises(asyncio.CancelledError):
            async with breaker.guard():
                raise asyncio.CancelledError
    assert breaker.state is State.CLOSED


async def test_half_open_probes_close_or_reopen_the_circuit() -> None:
    clock = Clock()
    breaker = CircuitBreaker("openai", min_calls=2, open_for_s=15, half_open_probes=2, clock=clock)
    for _ in range(2):
        with pytest.raises(ProviderUnavailable):
            await outcome(breaker, unavailable())
    assert breaker.state is State.OPEN
    clock.now += 15
    assert breaker.state is State.HALF_OPEN
    with pytest.raises(ProviderUnavailable):
        await outcome(breaker, unavailable())
    assert breaker.state is State.OPEN  # one failed probe re-opens at once
    clock.now += 15
    await outcome(breaker)
    assert breaker.state is State.HALF_OPEN
    await outcome(breaker)
    assert breaker.state is State.CLOSED


async def test_half_open_admits_only_the_probe_budget() -> None:
    clock = Clock()
    breaker = CircuitBreaker("openai", min_calls=1, half_open_probes=1, clock=clock)
    with pytest.raises(ProviderUnavailable):
        await outcome(breaker, unavailable())
    clock.now += 15
    release = asyncio.Event()

    async def probe() -> None:
        async with breaker.guard():
            await release.wait()

    task = asyncio.create_task(probe())
    await asyncio.sleep(0)
    with pytest.raises(CircuitOpen):
        await outcome(breaker)  # a second caller while the probe is in flight
    release.set()
    await task
    assert breaker.state is State.CLOSED


async def test_old_failures_slide_out_of_the_window() -> None:
    clock = Clock()
    breaker = CircuitBreaker("openai", min_calls=4, window_s=30, clock=clock)
    for _ in range(3):
        with pytest.raises(ProviderUnavailable):
            await outcome(breaker, unavailable())
    clock.now += 31
    for _ in range(4):
        await outcome(breaker)
    assert breaker.state is State.CLOSED


# --- connection-pool arithmetic ----------------------------------------------------------


def test_pool_budget_for_the_reference_fleet() -> None:
    budget = PoolBudget(
        server_max_connections=500,
        reserved=10,
        max_pods=30,
        surge_pods=8,
        workers_per_pod=2,
        other_clients=40,
    )
    assert budget.processes == 76
    assert budget.available == 450
    assert budget.per_process() == (4, 1)  # 450 // 76 = 5 connections each
    pool_size, max_overflow = budget.per_process()
    assert budget.processes * (pool_size + max_overflow) <= budget.available


def test_pool_budget_splits_overflow_and_rejects_an_impossible_fleet() -> None:
    small_fleet = PoolBudget(
        server_max_connections=200, reserved=8, max_pods=6, surge_pods=2, workers_per_pod=2
    )
    assert small_fleet.per_process() == (9, 3)  # 12 each; 16 processes x 12 = 192
    too_many = PoolBudget(
        server_max_connections=100, reserved=8, max_pods=60, surge_pods=15, workers_per_pod=4
    )
    with pytest.raises(PoolBudgetError, match="PgBouncer"):
        too_many.per_process()


def test_engine_options_carry_the_budget_and_fail_fast() -> None:
    budget = PoolBudget(
        server_max_connections=200, reserved=8, max_pods=6, surge_pods=2, workers_per_pod=2
    )
    options = engine_options(budget, application_name="chat-api")
    assert (options["pool_size"], options["max_overflow"]) == (9, 3)
    assert options["pool_timeout"] <= 5
    assert options["connect_args"]["server_settings"]["application_name"] == "chat-api"
