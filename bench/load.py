"""Load test of `limelight serve` on loopback: many concurrent clients, every request must be answered.

Starts the server in a subprocess on 127.0.0.1 (a random free port), warms it up, then runs ``--clients``
concurrent clients that each send ``--requests`` requests (alternating ``POST /generate`` and
``POST /v1/audio/speech``, short prompts). A 429 is an answer (the pool is full): the client waits for
``Retry-After`` (capped at ``--max-wait``) before its next request. Anything other than 200 or 429, or a
request that gets no answer (error, timeout), counts as lost. Prints p50/p95 latency per status, throughput
and the server's memory (RSS) before, during and after, then stops the server. Bounded in count and time.

    python bench/load.py [--clients 100] [--requests 3] [--workers 1] [--queue-depth 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import numpy as np

PROMPTS = ("Hello there.", "Good morning.", "Thank you.", "See you soon.", "It is raining.")


@dataclass
class Tally:
    latencies: dict[int, list[float]] = field(default_factory=dict)
    lost: Counter[str] = field(default_factory=Counter)
    rss_mib: list[tuple[float, float]] = field(default_factory=list)

    def add(self, status: int, seconds: float) -> None:
        self.latencies.setdefault(status, []).append(seconds)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def start_server(port: int, workers: int, queue_depth: int) -> subprocess.Popen[bytes]:
    code = (f"from limelight.serve import run_server; run_server('127.0.0.1', {port}, {workers}, "
            f"queue_depth={queue_depth}, log_level='warning')")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIMELIGHT_API_KEYS")}
    return subprocess.Popen([sys.executable, "-c", code], env=env)


async def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"server exited with code {proc.returncode}")
            try:
                if (await client.get(f"{base}/health", timeout=2)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.25)
    raise SystemExit("server did not become ready")


def request_for(i: int) -> tuple[str, dict[str, object]]:
    text = PROMPTS[i % len(PROMPTS)]
    if i % 2:
        return "/v1/audio/speech", {"model": "tts-1", "voice": "alloy", "input": text, "response_format": "pcm"}
    return "/generate", {"prompt": text, "validate": False}


async def one_client(cid: int, base: str, n: int, max_wait: float, tally: Tally, client: httpx.AsyncClient,
                     start: asyncio.Event) -> None:
    await start.wait()
    for k in range(n):
        path, body = request_for(cid * n + k)
        t0 = time.perf_counter()
        try:
            r = await client.post(base + path, json=body)
        except httpx.HTTPError as exc:
            tally.lost[type(exc).__name__] += 1
            continue
        elapsed = time.perf_counter() - t0
        tally.add(r.status_code, elapsed)
        if r.status_code == 429:
            await asyncio.sleep(min(float(r.headers.get("retry-after", 1)), max_wait))
        elif r.status_code != 200:
            tally.lost[f"HTTP {r.status_code}"] += 1


async def sample_memory(pid: int, tally: Tally, t0: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        tally.rss_mib.append((time.monotonic() - t0, rss_mib(pid)))
        try:
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        except asyncio.TimeoutError:
            pass


async def run(args: argparse.Namespace) -> int:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(port, args.workers, args.queue_depth)
    try:
        await wait_ready(base, proc)
        limits = httpx.Limits(max_connections=args.clients + 10, max_keepalive_connections=args.clients + 10)
        async with httpx.AsyncClient(timeout=args.timeout, limits=limits) as client:
            for i in range(2):  # warm-up: first calls pay for lazy initialisation
                path, body = request_for(i)
                (await client.post(base + path, json=body)).raise_for_status()
            rss_warm = rss_mib(proc.pid)
            tally = Tally()
            start, stop = asyncio.Event(), asyncio.Event()
            t0 = time.monotonic()
            sampler = asyncio.create_task(sample_memory(proc.pid, tally, t0, stop))
            clients = [asyncio.create_task(one_client(c, base, args.requests, args.max_wait, tally, client, start))
                       for c in range(args.clients)]
            start.set()
            await asyncio.wait_for(asyncio.gather(*clients), timeout=args.deadline)
            wall = time.monotonic() - t0
            stop.set()
            await sampler
            health = (await client.get(f"{base}/health")).json()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()

    sent = args.clients * args.requests
    answered = sum(len(v) for v in tally.latencies.values())
    ok = len(tally.latencies.get(200, []))
    print(f"clients {args.clients} × {args.requests} requests = {sent}; server workers {args.workers}, "
          f"queue depth {args.queue_depth}; wall {wall:.1f} s")
    for status, values in sorted(tally.latencies.items()):
        p50, p95 = np.percentile(values, [50, 95])
        print(f"  HTTP {status}: {len(values):4d}  latency p50 {p50 * 1000:8.1f} ms  p95 {p95 * 1000:8.1f} ms  "
              f"max {max(values) * 1000:8.1f} ms")
    print(f"  answered {answered}/{sent}; lost {sum(tally.lost.values())} {dict(tally.lost) or ''}")
    print(f"  throughput: {ok / wall:.2f} syntheses/s, {answered / wall:.1f} answers/s")
    rss = [m for _, m in tally.rss_mib]
    print(f"  server RSS: warm {rss_warm:.0f} MiB, during min {min(rss):.0f} / max {max(rss):.0f} MiB, "
          f"end {rss[-1]:.0f} MiB")
    print(f"  server health after: completed {health['completed']}, rejected {health['rejected']}, "
          f"in_flight {health['in_flight']}")
    bad = {s for s in tally.latencies if s not in (200, 429)}
    return 1 if tally.lost or bad or answered != sent else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--requests", type=int, default=3, help="requests per client")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--queue-depth", type=int, default=8)
    ap.add_argument("--max-wait", type=float, default=2.0, help="cap on honoring Retry-After (s)")
    ap.add_argument("--timeout", type=float, default=300.0, help="per-request timeout (s)")
    ap.add_argument("--deadline", type=float, default=900.0, help="whole-run limit (s)")
    raise SystemExit(asyncio.run(run(ap.parse_args())))


if __name__ == "__main__":
    main()
