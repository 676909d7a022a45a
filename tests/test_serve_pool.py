"""The worker pool's admission rules, on plain blocking jobs (no synthesis needed to show them).

A full pool refuses at once with 429 and Retry-After; a slot is freed when its *job* ends — also when the
client that asked for it has gone away — so abandoned requests cannot push the pool past its bound.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from limelight.serve.errors import ApiError
from limelight.serve.pool import WorkerPool


def test_full_pool_refuses_at_once_and_frees_slots_when_jobs_end() -> None:
    async def scenario() -> None:
        pool = WorkerPool(workers=1, queue_depth=1)
        gate = threading.Event()
        running = asyncio.ensure_future(pool.run(gate.wait, 30))
        queued = asyncio.ensure_future(pool.run(lambda: "second"))
        await asyncio.sleep(0.05)
        assert pool.stats().in_flight == 2
        with pytest.raises(ApiError) as info:
            await pool.run(lambda: "third")
        # refused while both slots were still taken (the gate never opened), so it never waited for one
        assert not gate.is_set() and pool.stats().in_flight == 2
        assert info.value.status == 429 and int(info.value.headers["Retry-After"]) >= 1
        gate.set()
        assert await running is True and await queued == "second"
        stats = pool.stats()
        assert (stats.in_flight, stats.completed, stats.rejected) == (0, 2, 1)
        assert await pool.run(lambda: 42) == 42
        pool.shutdown()

    asyncio.run(scenario())


def test_a_cancelled_request_keeps_its_slot_until_the_job_finishes() -> None:
    async def scenario() -> None:
        pool = WorkerPool(workers=1, queue_depth=0)
        gate = threading.Event()
        task = asyncio.ensure_future(pool.run(gate.wait, 30))
        await asyncio.sleep(0.05)
        task.cancel()  # the client went away; the worker is still busy with its job
        await asyncio.sleep(0.05)
        with pytest.raises(ApiError):
            await pool.run(lambda: None)
        gate.set()
        for _ in range(100):
            if pool.stats().in_flight == 0:
                break
            await asyncio.sleep(0.01)
        assert await pool.run(lambda: "free again") == "free again"
        pool.shutdown()

    asyncio.run(scenario())


def test_stream_hands_over_items_and_stops_when_the_consumer_leaves() -> None:
    produced: list[int] = []

    def numbers():
        for i in range(1000):
            produced.append(i)
            time.sleep(0.005)
            yield i

    async def scenario() -> None:
        pool = WorkerPool(workers=1, queue_depth=0)
        got = []
        stream = pool.stream(numbers)
        async for item in stream:
            got.append(item)
            if len(got) == 3:
                break
        await stream.aclose()
        assert got == [0, 1, 2]
        for _ in range(200):
            if pool.stats().in_flight == 0:
                break
            await asyncio.sleep(0.01)
        assert pool.stats().in_flight == 0 and len(produced) < 50  # the worker stopped early
        pool.shutdown()

    asyncio.run(scenario())


def test_errors_in_a_stream_reach_the_consumer() -> None:
    def failing():
        yield 1
        raise ValueError("bad piece")

    async def scenario() -> None:
        pool = WorkerPool(workers=1, queue_depth=0)
        got = []
        with pytest.raises(ValueError, match="bad piece"):
            async for item in pool.stream(failing):
                got.append(item)
        assert got == [1]
        pool.shutdown()

    asyncio.run(scenario())


def _checkpointed_job(stop: threading.Event) -> str:
    """A job that, like a performance, passes a checkpoint between pieces until told to end."""
    from limelight.limits import checkpoint

    while not stop.wait(0.01):
        checkpoint(0.0)
    return "finished"


def test_drain_answers_queued_jobs_503_and_stops_running_ones_at_the_deadline() -> None:
    async def scenario() -> None:
        pool = WorkerPool(workers=1, queue_depth=2)
        stop = threading.Event()
        running = asyncio.ensure_future(pool.run(_checkpointed_job, stop))
        queued = asyncio.ensure_future(pool.run(lambda: "never"))
        await asyncio.sleep(0.05)
        assert pool.begin_drain() == 1
        with pytest.raises(ApiError) as info:
            await queued
        assert info.value.status == 503 and info.value.code == "shutting_down" and "Retry-After" in info.value.headers
        with pytest.raises(ApiError) as info:
            await pool.run(lambda: "new")  # no new work while draining
        assert info.value.status == 503
        assert not running.done()  # the running job may finish within the drain time …
        pool.cancel_running()  # … and is stopped at its next checkpoint when that runs out
        with pytest.raises(ApiError) as info:
            await running
        assert info.value.status == 503
        stats = pool.stats()
        assert stats.in_flight == 0 and stats.cancelled == 2
        pool.shutdown()

    asyncio.run(scenario())


def test_a_queued_job_whose_client_left_frees_its_slot_at_once() -> None:
    async def scenario() -> None:
        from limelight.limits import JobCancelled

        pool = WorkerPool(workers=1, queue_depth=1)
        stop = threading.Event()
        running = asyncio.ensure_future(pool.run(_checkpointed_job, stop))
        gone = asyncio.Event()
        queued = asyncio.ensure_future(pool.run(lambda: "never", disconnected=gone.wait))
        await asyncio.sleep(0.05)
        assert pool.stats().in_flight == 2
        gone.set()  # the queued request's client hangs up
        with pytest.raises(JobCancelled):
            await queued
        assert pool.stats().in_flight == 1  # its slot is free before the running job ends
        assert not running.done()
        stop.set()
        assert await running == "finished"
        pool.shutdown()

    asyncio.run(scenario())
