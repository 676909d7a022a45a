"""Load and abuse test of `limelight serve` on loopback: every request must be answered, never with a 5xx.

Starts ``limelight serve`` in a subprocess on 127.0.0.1 (a random free port, exactly as a user runs it), waits
for ``/ready``, runs the chosen scenarios, prints one table each, and stops the server. Bounded in count and
time; the defaults are short (a few minutes on 2 cores). Scenarios (``--scenario``, repeatable; default all):

* ``load``: ``--clients`` concurrent clients × ``--requests`` short requests (alternating ``/generate`` and
  ``/v1/audio/speech``). A 429 is honoured: the client sleeps ``Retry-After`` (capped at ``--max-wait``) and
  sends the same request again, up to ``--retries`` times. Reports the served share, p50/p95 latency of the
  final answers, and the server's RSS before/during/after.
* ``burst``: ``--burst`` clients at once, each with a long text (~``--long-chars`` characters, near the prompt
  cap): every answer must be 200, 413 (the server runs with ``--max-audio-s``, 60 s here so a burst takes
  minutes, not hours) or 429 — and RSS must stay bounded.
* ``slow``: ``--slow`` stalled connections (idle, one header byte every 0.5 s, a body that stops, an endless
  chunked body) while a client measures ``/health`` latency; reports how many the server closed and how fast.
* ``disconnect``: clients that send long jobs and hang up after a moment; the server must cancel them
  (``limelight_jobs_cancelled_total`` in /metrics) and stay responsive.
* ``listing``: ``--voices`` saved voices, 10 clients listing them without pause while another polls
  ``/health``: listing latency and what it does to the probe (the library keeps an index, not a reload).
* ``faults``: voices saved in the server's library folder are truncated, corrupted and deleted while clients
  list voices and speak with the intact ones: never a 5xx, damaged voices listed with their error.
* ``sigterm`` (last): load, then SIGTERM; every client must get a complete answer (200, or a JSON 503 with
  Retry-After), and the process must exit within ``drain_timeout_s`` + 10 s.

    python bench/load.py [--scenario load --scenario burst …] [--clients 100] [--requests 3] [--workers 1]
                         [--queue-depth 8] [--slow 200] [--burst 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import numpy as np

PROMPTS = ("Hello there.", "Good morning.", "Thank you.", "See you soon.", "It is raining.")
LONG = ("The lighthouse keeper climbed the stairs every evening at dusk, trimmed the wick and wound the clock. "
        "Ships passed far out on the water, and none of them ever knew his name. ")
SCENARIOS = ("load", "burst", "slow", "disconnect", "listing", "faults", "sigterm")


@dataclass
class Tally:
    latencies: dict[int, list[float]] = field(default_factory=dict)
    lost: Counter[str] = field(default_factory=Counter)
    rss_mib: list[tuple[float, float]] = field(default_factory=list)
    served: int = 0
    retries: int = 0
    bad_shape: int = 0

    def add(self, status: int, seconds: float) -> None:
        self.latencies.setdefault(status, []).append(seconds)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def start_server(port: int, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "limelight", "serve", "--port", str(port), "--workers", str(args.workers),
           "--queue-depth", str(args.queue_depth), "--header-timeout-s", str(args.header_timeout),
           "--body-timeout-s", str(args.body_timeout), "--drain-timeout-s", str(args.drain_timeout),
           "--max-connections", str(args.max_connections), "--max-audio-s", str(args.max_audio_s),
           "--log-level", "warning"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIMELIGHT_API_KEYS")}
    env["LIMELIGHT_HOME"] = args.home
    return subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)


async def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"server exited with code {proc.returncode}")
            try:
                if (await client.get(f"{base}/ready", timeout=2)).status_code == 200:
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


def check_shape(r: httpx.Response, tally: Tally) -> None:
    """Every refusal must be the JSON error shape; a 429 or 503 must say when to come back."""
    if r.status_code >= 400:
        try:
            body = r.json()
            ok = body.get("status") == "failed" and set(body.get("error", {})) == {"code", "message", "field"}
        except ValueError:
            ok = False
        if r.status_code in (429, 503) and "retry-after" not in r.headers:
            ok = False
        tally.bad_shape += int(not ok)


def percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    p50, p95 = np.percentile(values, [50, 95])
    return f"p50 {p50 * 1000:8.1f} ms  p95 {p95 * 1000:8.1f} ms  max {max(values) * 1000:8.1f} ms"


async def sample_memory(pid: int, tally: Tally, t0: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        tally.rss_mib.append((time.monotonic() - t0, rss_mib(pid)))
        try:
            await asyncio.wait_for(stop.wait(), timeout=0.5)
        except asyncio.TimeoutError:
            pass


async def metrics(client: httpx.AsyncClient, base: str) -> dict[str, float]:
    text = (await client.get(f"{base}/metrics")).text
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = out.get(name, 0.0) + float(value)
    return out


def metric_sum(values: dict[str, float], prefix: str) -> float:
    return sum(v for k, v in values.items() if k.startswith(prefix))


# ------------------------------------------------------------------------------------------------ scenarios
async def honouring_client(cid: int, base: str, n: int, args: argparse.Namespace, tally: Tally,
                           client: httpx.AsyncClient, start: asyncio.Event, bodies: list[tuple[str, dict]] | None = None
                           ) -> None:
    await start.wait()
    for k in range(n):
        path, body = bodies[(cid * n + k) % len(bodies)] if bodies else request_for(cid * n + k)
        t0 = time.perf_counter()
        for attempt in range(args.retries + 1):
            try:
                r = await client.post(base + path, json=body)
            except httpx.HTTPError as exc:
                tally.lost[type(exc).__name__] += 1
                break
            check_shape(r, tally)
            if r.status_code == 429 and attempt < args.retries:
                tally.retries += 1
                await asyncio.sleep(min(float(r.headers.get("retry-after", 1)), args.max_wait))
                continue
            tally.add(r.status_code, time.perf_counter() - t0)
            tally.served += int(r.status_code == 200)
            if r.status_code >= 500:
                tally.lost[f"HTTP {r.status_code}"] += 1
            break


async def run_clients(base: str, pid: int, args: argparse.Namespace, clients: int, requests: int,
                      bodies: list[tuple[str, dict]] | None = None) -> tuple[Tally, float]:
    tally = Tally()
    limits = httpx.Limits(max_connections=clients + 10, max_keepalive_connections=clients + 10)
    async with httpx.AsyncClient(timeout=args.timeout, limits=limits) as client:
        start, stop = asyncio.Event(), asyncio.Event()
        t0 = time.monotonic()
        sampler = asyncio.create_task(sample_memory(pid, tally, t0, stop))
        tasks = [asyncio.create_task(honouring_client(c, base, requests, args, tally, client, start, bodies))
                 for c in range(clients)]
        start.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=args.deadline)
        wall = time.monotonic() - t0
        stop.set()
        await sampler
    return tally, wall


def report(name: str, tally: Tally, sent: int, wall: float, rss_before: float) -> bool:
    answered = sum(len(v) for v in tally.latencies.values())
    print(f"[{name}] sent {sent}, answered {answered}, served (200) {tally.served} = "
          f"{100 * tally.served / max(sent, 1):.0f} %, 429 retries honoured {tally.retries}, wall {wall:.1f} s")
    for status, values in sorted(tally.latencies.items()):
        print(f"  HTTP {status}: {len(values):4d}  {percentiles(values)}")
    rss = [m for _, m in tally.rss_mib if m == m]
    if rss:
        print(f"  server RSS: before {rss_before:.0f} MiB, during max {max(rss):.0f} MiB, end {rss[-1]:.0f} MiB")
    print(f"  lost {sum(tally.lost.values())} {dict(tally.lost) or ''}; refusals not in the JSON shape "
          f"{tally.bad_shape}")
    return not tally.lost and not tally.bad_shape and answered == sent and \
        all(s < 500 for s in tally.latencies)


async def scenario_load(base: str, proc: subprocess.Popen[bytes], args: argparse.Namespace) -> bool:
    before = rss_mib(proc.pid)
    tally, wall = await run_clients(base, proc.pid, args, args.clients, args.requests)
    return report("load", tally, args.clients * args.requests, wall, before)


async def scenario_burst(base: str, proc: subprocess.Popen[bytes], args: argparse.Namespace) -> bool:
    text = (LONG * (args.long_chars // len(LONG) + 1))[: args.long_chars]
    bodies = [("/v1/audio/speech", {"model": "tts-1", "voice": "alloy", "input": text, "response_format": "wav"}),
              ("/generate", {"prompt": text, "validate": False})]
    before = rss_mib(proc.pid)
    saved = args.retries
    args.retries = 0  # a burst: one try each
    tally, wall = await run_clients(base, proc.pid, args, args.burst, 1, bodies)
    args.retries = saved
    ok = report(f"burst of {args.burst} × {len(text)}-char texts", tally, args.burst, wall, before)
    return ok and set(tally.latencies) <= {200, 413, 429}


async def _stall(kind: str, port: int, closed: list[float], t0: float, hold_s: float) -> None:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        closed.append(-1.0)
        return
    try:
        if kind == "drip":
            writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        elif kind == "body":
            writer.write(b"POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000\r\n\r\n{\"prompt\": ")
        elif kind == "chunked":
            writer.write(b"POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
        await writer.drain()
        i = 0
        while time.monotonic() - t0 < hold_s:
            if kind == "drip":
                writer.write(f"X-{i}: y\r\n".encode())
            elif kind == "chunked":
                writer.write(b"1\r\n \r\n")
            try:
                await writer.drain()
                data = await asyncio.wait_for(reader.read(65536), timeout=0.5)
                if not data or reader.at_eof():
                    closed.append(time.monotonic() - t0)
                    return
            except asyncio.TimeoutError:
                pass
            except OSError:
                closed.append(time.monotonic() - t0)
                return
            i += 1
    finally:
        writer.close()


async def scenario_slow(base: str, proc: subprocess.Popen[bytes], args: argparse.Namespace) -> bool:
    port = int(base.rsplit(":", 1)[1])
    kinds = ("idle", "drip", "body", "chunked")
    closed: dict[str, list[float]] = {k: [] for k in kinds}
    t0 = time.monotonic()
    hold = max(args.header_timeout, args.body_timeout) + 10.0
    stalls = [asyncio.create_task(_stall(kinds[i % 4], port, closed[kinds[i % 4]], t0, hold))
              for i in range(args.slow)]
    health: list[float] = []
    async with httpx.AsyncClient(timeout=30) as client:
        while not all(t.done() for t in stalls) and time.monotonic() - t0 < hold + 5:
            h0 = time.perf_counter()
            try:
                r = await client.get(f"{base}/health")
                health.append(time.perf_counter() - h0)
                assert r.status_code == 200
            except (httpx.HTTPError, AssertionError):
                health.append(float("inf"))
            await asyncio.sleep(0.25)
    await asyncio.gather(*stalls)
    print(f"[slow] {args.slow} stalled connections held up to {hold:.0f} s (header timeout {args.header_timeout} s, "
          f"body timeout {args.body_timeout} s, max connections {args.max_connections})")
    ok = True
    for kind in kinds:
        times = [t for t in closed[kind] if t >= 0]
        refused = sum(1 for t in closed[kind] if t < 0)
        n = sum(1 for i in range(args.slow) if kinds[i % 4] == kind)
        limit = args.header_timeout if kind in ("idle", "drip") else args.body_timeout
        median, worst = (float(np.median(times)), max(times)) if times else (0.0, 0.0)
        note = f"; {refused} refused at connect" if refused else ""
        print(f"  {kind:8s}: {len(times):4d}/{n} closed by the server, median after {median:.1f} s, max {worst:.1f} s "
              f"(limit {limit:g} s){note}")
        ok &= len(times) + refused == n and (not times or max(times) <= limit + 3.0)
    finite = [h for h in health if h != float("inf")]
    print(f"  /health during the stall: {len(finite)}/{len(health)} answered, {percentiles(finite)}")
    return ok and len(finite) == len(health)


async def scenario_disconnect(base: str, proc: subprocess.Popen[bytes], args: argparse.Namespace) -> bool:
    port = int(base.rsplit(":", 1)[1])
    async with httpx.AsyncClient(timeout=60) as client:
        before = metric_sum(await metrics(client, base), "limelight_jobs_cancelled_total")
        body = json.dumps({"model": "tts-1", "voice": "alloy", "input": LONG * 3, "response_format": "wav",
                           "stream": False}).encode()
        n = min(args.queue_depth + args.workers, 6)
        for streamed in (False, True):
            payload = body.replace(b'"stream": false', b'"stream": true') if streamed else body
            for _ in range(n):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             + f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
                await writer.drain()
                await asyncio.sleep(0.3)
                writer.close()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 120:
            if (await client.get(f"{base}/health")).json()["in_flight"] == 0:
                break
            await asyncio.sleep(0.2)
        drained = time.monotonic() - t0
        after = metric_sum(await metrics(client, base), "limelight_jobs_cancelled_total")
        health = (await client.get(f"{base}/health")).json()
    print(f"[disconnect] {2 * n} clients hung up after 0.3 s ({n} plain, {n} streamed): jobs cancelled "
          f"{after - before:.0f}, pool empty {drained:.1f} s after the last hang-up, in_flight {health['in_flight']}")
    return health["in_flight"] == 0 and after - before >= n


async def scenario_listing(base: str, proc: subprocess.Popen[bytes], args: argparse.Namespace) -> bool:
    from pathlib import Path

    from limelight.voice.library import VoiceLibrary
    from limelight.voice.shipped import shipped_voices

    lib = VoiceLibrary(Path(args.home) / "voices")
    base_voice = shipped_voices()["jf_alpha"]
    for i in range(args.voices):
        lib.save(type(base_voice)(name=f"listed{i}", style=base_voice.style, gender="female", source="cloned"),
                 force=True)
    listing: list[float] = []
    health: list[float] = []
    stop = asyncio.Event()

    async def poll(client: httpx.AsyncClient, path: str, out: list[float]) -> None:
        while not stop.is_set():
            t0 = time.perf_counter()
            r = await client.get(base + path)
            out.append(time.perf_counter() - t0 if r.status_code == 200 else float("inf"))
            if path == "/health":
                await asyncio.sleep(0.1)

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=20)) as client:
        tasks = [asyncio.create_task(poll(client, "/voices", listing)) for _ in range(10)]
        tasks.append(asyncio.create_task(poll(client, "/health", health)))
        await asyncio.sleep(args.listing_s)
        stop.set()
        await asyncio.gather(*tasks)
    print(f"[listing] {args.voices} saved voices, 10 clients listing for {args.listing_s:g} s: {len(listing)} "
          f"listings, {percentiles(listing)}; /health {percentiles(health)}")
    return all(x != float("inf") for x in listing + health)


async def scenario_faults(base: str, proc: subprocess.Popen[bytes], args: argparse.Namespace) -> bool:
    from pathlib import Path

    from limelight.voice.library import VoiceLibrary
    from limelight.voice.shipped import shipped_voices

    lib = VoiceLibrary(Path(args.home) / "voices")
    base_voice = shipped_voices()["jm_kumo"]
    names = [f"fault{i}" for i in range(args.fault_voices)]
    for name in names + ["intact"]:
        lib.save(type(base_voice)(name=name, style=base_voice.style, gender="male", source="cloned"), force=True)
    statuses: Counter[int] = Counter()
    rng = np.random.default_rng(0)
    stop = asyncio.Event()

    async def client_loop(client: httpx.AsyncClient, speak: bool) -> None:
        while not stop.is_set():
            if speak:
                body = {"model": "tts-1", "voice": "intact", "input": "Still here.", "response_format": "pcm"}
                r = await client.post(f"{base}/v1/audio/speech", json=body)
            else:
                r = await client.get(f"{base}/voices")
                if r.status_code == 200 and "intact" not in {v["name"] for v in r.json()["voices"]}:
                    statuses[-1] += 1  # the intact voice vanished: a failure
            statuses[r.status_code] += 1
            await asyncio.sleep(0.05)

    async with httpx.AsyncClient(timeout=120) as client:
        tasks = [asyncio.create_task(client_loop(client, speak=i == 0)) for i in range(4)]
        damaged = 0
        for i, name in enumerate(names):
            path = lib.root / f"{name}.voice"
            action = ("truncate", "corrupt", "empty", "delete")[i % 4]
            if action == "truncate":
                path.write_bytes(path.read_bytes()[: int(rng.integers(1, 4000))])
            elif action == "corrupt":
                data = bytearray(path.read_bytes())
                data[64:1064] = os.urandom(1000)
                path.write_bytes(bytes(data))
            elif action == "empty":
                path.write_bytes(b"")
            else:
                path.unlink()
            damaged += action != "delete"
            await asyncio.sleep(0.2)
        listing = (await client.get(f"{base}/voices")).json()
        stop.set()
        await asyncio.gather(*tasks)
    listed = {d["name"] for d in listing.get("damaged", [])}
    print(f"[faults] {len(names)} library files truncated/corrupted/emptied/deleted while 4 clients listed and "
          f"spoke: statuses {dict(sorted(statuses.items()))}; damaged voices listed {len(listed)}/{damaged}")
    return all(s < 500 for s in statuses if s > 0) and statuses[-1] == 0 and len(listed) == damaged


async def scenario_sigterm(base: str, proc: subprocess.Popen[bytes], args: argparse.Namespace) -> bool:
    tally = Tally()
    stream_ok: list[bool] = []
    stream_s: list[float] = []

    async def streamer(client: httpx.AsyncClient) -> None:
        body = {"model": "tts-1", "voice": "alloy", "input": LONG * 8, "response_format": "pcm", "stream": True}
        try:
            async with client.stream("POST", f"{base}/v1/audio/speech", json=body) as r:
                data = b"".join([piece async for piece in r.aiter_bytes()])
                tally.add(r.status_code, 0.0)
                stream_ok.append(r.status_code != 200 or len(data) % 2 == 0)
                stream_s.append(len(data) / 2 / 24000)
        except httpx.HTTPError as exc:
            tally.lost[f"stream {type(exc).__name__}"] += 1

    async def asker(client: httpx.AsyncClient, i: int) -> None:
        path, body = request_for(i)
        try:
            r = await client.post(base + path, json=body)
        except httpx.HTTPError as exc:
            tally.lost[type(exc).__name__] += 1
            return
        check_shape(r, tally)
        tally.add(r.status_code, 0.0)

    async with httpx.AsyncClient(timeout=args.timeout) as client:
        tasks = [asyncio.create_task(streamer(client))]
        await asyncio.sleep(0.5)
        tasks += [asyncio.create_task(asker(client, i)) for i in range(args.clients // 4 or 1)]
        await asyncio.sleep(2.0)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        await asyncio.gather(*tasks)
        while proc.poll() is None and time.monotonic() - t0 < args.drain_timeout + 30:
            await asyncio.sleep(0.1)
        exit_s = time.monotonic() - t0
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr and proc.poll() is not None else ""
    tracebacks = len(re.findall("Traceback", stderr))
    if tracebacks:
        print(stderr[max(stderr.index("Traceback") - 600, 0):][:6000])
    sent = 1 + (args.clients // 4 or 1)
    answered = sum(len(v) for v in tally.latencies.values())
    print(f"[sigterm] {sent} requests in flight or queued at SIGTERM: answered {answered}, statuses "
          f"{ {s: len(v) for s, v in sorted(tally.latencies.items())} }, lost {dict(tally.lost) or 0}, "
          f"stream complete {all(stream_ok)} ({sum(stream_s):.1f} s audio), "
          f"exit after {exit_s:.1f} s (code {proc.returncode}), "
          f"tracebacks in log {tracebacks}")
    return (answered == sent and not tally.lost and not tally.bad_shape and all(stream_ok) and tracebacks == 0
            and set(tally.latencies) <= {200, 429, 503} and exit_s <= args.drain_timeout + 10)


async def run(args: argparse.Namespace) -> int:
    import tempfile

    args.home = args.home or tempfile.mkdtemp(prefix="limelight-load-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(port, args)
    chosen = [s for s in SCENARIOS if s in (args.scenario or SCENARIOS)]
    results: dict[str, bool] = {}
    try:
        await wait_ready(base, proc)
        async with httpx.AsyncClient(timeout=120) as client:
            for i in range(2):  # warm-up: first calls pay for lazy initialisation
                path, body = request_for(i)
                (await client.post(base + path, json=body)).raise_for_status()
        for name in chosen:
            results[name] = await globals()[f"scenario_{name}"](base, proc, args)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    print("result: " + ", ".join(f"{k} {'ok' if v else 'FAILED'}" for k, v in results.items()))
    return 0 if all(results.values()) else 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", action="append", choices=SCENARIOS, help="run only these (repeatable)")
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--requests", type=int, default=3, help="requests per client")
    ap.add_argument("--retries", type=int, default=20, help="times a client retries after a 429")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--queue-depth", type=int, default=8)
    ap.add_argument("--burst", type=int, default=10, help="clients in the long-text burst")
    ap.add_argument("--long-chars", type=int, default=2_000, help="characters per burst text")
    ap.add_argument("--max-audio-s", type=float, default=60.0, help="the server's cap on audio per request")
    ap.add_argument("--slow", type=int, default=200, help="stalled connections in the slow scenario")
    ap.add_argument("--header-timeout", type=float, default=5.0)
    ap.add_argument("--body-timeout", type=float, default=10.0)
    ap.add_argument("--max-connections", type=int, default=512)
    ap.add_argument("--drain-timeout", type=float, default=10.0)
    ap.add_argument("--voices", type=int, default=300, help="saved voices in the listing scenario")
    ap.add_argument("--listing-s", type=float, default=10.0, help="seconds of listing")
    ap.add_argument("--fault-voices", type=int, default=40, help="library files damaged in the faults scenario")
    ap.add_argument("--home", help="LIMELIGHT_HOME for the server (default: a fresh temp folder)")
    ap.add_argument("--max-wait", type=float, default=30.0, help="cap on honouring Retry-After (s)")
    ap.add_argument("--timeout", type=float, default=600.0, help="per-request timeout (s)")
    ap.add_argument("--deadline", type=float, default=1800.0, help="limit per scenario (s)")
    raise SystemExit(asyncio.run(run(ap.parse_args())))


if __name__ == "__main__":
    main()
