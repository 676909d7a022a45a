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
