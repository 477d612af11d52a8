"""Single-flight: one computation per key however many callers wait for it."""

from __future__ import annotations

import asyncio
from functools import partial

import pytest

from shared.singleflight import SingleFlight

pytestmark = pytest.mark.anyio


async def test_concurrent_callers_share_one_computation() -> None:
    flights: SingleFlight[str] = SingleFlight()
    calls = 0

    async def compute() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return "done"

    results = await asyncio.gather(*(flights.run("k", compute) for _ in range(20)))
    assert results == ["done"] * 20
    assert calls == 1
    assert not flights.in_flight("k")


async def test_different_keys_run_separately_and_at_once() -> None:
    flights: SingleFlight[str] = SingleFlight()
    running = 0
    most = 0

    async def compute(key: str) -> str:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.05)
        running -= 1
        return key

    keys = ["a", "b", "c"]
    results = await asyncio.gather(*(flights.run(k, partial(compute, k)) for k in keys))
    assert results == keys
    assert most == 3


async def test_a_finished_key_computes_again() -> None:
    flights: SingleFlight[int] = SingleFlight()
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        return calls

    assert await flights.run("k", compute) == 1
    assert await flights.run("k", compute) == 2


async def test_every_waiter_gets_the_error_and_the_key_is_freed() -> None:
    flights: SingleFlight[str] = SingleFlight()
    calls = 0

    async def fail() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.02)
        raise RuntimeError("upstream broke")

    results = await asyncio.gather(
        *(flights.run("k", fail) for _ in range(5)), return_exceptions=True
    )
    assert calls == 1
    assert all(isinstance(r, RuntimeError) for r in results)
    assert not flights.in_flight("k")


async def test_a_cancelled_caller_does_not_cancel_the_others() -> None:
    flights: SingleFlight[str] = SingleFlight()
    finished = asyncio.Event()

    async def compute() -> str:
        await asyncio.sleep(0.05)
        finished.set()
        return "value"

    first = asyncio.create_task(flights.run("k", compute))
    second = asyncio.create_task(flights.run("k", compute))
    await asyncio.sleep(0.01)
    first.cancel()
    assert await second == "value"
    assert finished.is_set()
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_the_computation_finishes_even_if_every_caller_gives_up() -> None:
    flights: SingleFlight[str] = SingleFlight()
    finished = asyncio.Event()

    async def compute() -> str:
        await asyncio.sleep(0.05)
        finished.set()
        return "cached elsewhere"

    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await flights.run("k", compute)
    await asyncio.wait_for(finished.wait(), timeout=1)
