"""A server a studio can run unattended: no input-triggered 5xx, bounded work, a crash-safe library, observable.

In-process checks use FastAPI's TestClient; the socket-level ones (header/body timeouts, the connection cap,
header values h11 must send, a client that disconnects) run the real uvicorn server from
`limelight.serve.runner.build_server` on 127.0.0.1 in a thread; the SIGTERM drain runs `limelight serve` in a
subprocess. Synthesis is real and short (the performer is loaded once per test session); every wait is bounded.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from limelight.serve import Settings, create_app
from limelight.serve.pool import WorkerPool
from limelight.serve.routes.voices import library_available
from limelight.voice.library import VoiceLibrary
from limelight.voice.shipped import shipped_voices

LONG_TEXT = ("The lighthouse keeper climbed the stairs every evening at dusk. He trimmed the wick and wound the clock. "
             "Ships passed far out on the water, and none of them ever knew his name. In winter the storms came "
             "in from the north and the whole tower shook. He wrote letters that he never sent.")


def assert_error(r: httpx.Response, status: int, code: str | None = None, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["status"] == "failed" and set(body["error"]) == {"code", "message", "field", "type", "param"}, body
    assert body["error"]["param"] == body["error"]["field"]  # OpenAI's name for it
    if code is not None:
        assert body["error"]["code"] == code, body
    if field is not None:
        assert body["error"]["field"] == field, body
    return body["error"]


@pytest.fixture(scope="module", autouse=True)
def private_library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every app here uses a library folder of its own, never the user's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LIMELIGHT_HOME", str(tmp_path_factory.mktemp("home")))
        yield


@pytest.fixture(scope="module")
def small_app():
    return create_app(Settings.from_env(env={}, max_audio_s=6.0, job_timeout_s=120.0))


@pytest.fixture(scope="module")
def client(small_app) -> Iterator[TestClient]:
    with TestClient(small_app) as c:
        yield c


# ------------------------------------------------------------------------------------------ output bounds
def test_945_long_pauses_are_refused_before_rendering(client: TestClient, small_app) -> None:
    prompt = '<speak voice="A calm man." gender="male">Hi.' + '<pause seconds="30"/>' * 945 + "</speak>"
    before = small_app.state.limelight.pool.stats().completed
    err = assert_error(client.post("/generate", json={"prompt": prompt, "validate": False}), 413, "output_too_long",
                       "prompt")
    assert "max_audio_s" in err["message"] and "6 s" in err["message"]
    err = assert_error(client.post("/v1/audio/speech", json={"model": "tts-1", "voice": "alloy", "input": prompt}),
                       413, "output_too_long", "input")
    assert small_app.state.limelight.pool.stats().completed == before  # nothing was rendered


def test_output_past_the_cap_stops_while_rendering(client: TestClient) -> None:
    # The floor estimate (2 s of pause + the text spoken very fast) is under 6 s; the real audio is not.
    prompt = ('<speak voice="A calm man." gender="male"><pause seconds="2"/>The keeper climbed the stairs at dusk, '
              "trimmed the wick and wound the clock.</speak>")
    assert_error(client.post("/generate", json={"prompt": prompt, "validate": False}), 413, "output_too_long")
    # streamed, the status line goes out with the first audio: the stream then ends at the cap, as a whole file
    r = client.post("/v1/audio/speech", json={"model": "tts-1", "voice": "alloy", "input": prompt,
                                              "response_format": "pcm", "stream": True})
    assert r.status_code == 200 and len(r.content) % 2 == 0 and 1.5 <= len(r.content) / 2 / 24_000 <= 6.0


def test_hostile_words_and_numbers_are_answered(client: TestClient) -> None:
    for text in ("abcdefghij" * 200, "Call " + "9" * 308 + " now.", "1" * 4301):
        r = client.post("/v1/audio/speech", json={"model": "tts-1", "voice": "alloy", "input": text,
                                                  "response_format": "wav"})
        assert r.status_code in (200, 413), r.text  # spoken, or refused for its length; never a 500


def test_booleans_are_not_numbers(client: TestClient) -> None:
    assert_error(client.post("/v1/audio/speech", json={"model": "tts-1", "voice": "alloy", "input": "Hi.",
                                                       "speed": True}), 422, "validation_error", "speed")
    assert_error(client.post("/generate", json={"prompt": "Hi.", "pace": False}), 422, "validation_error", "pace")


# ------------------------------------------------------------------------------------- probes and metrics
def test_probes_head_request_ids_and_metrics(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    for path in ("/health", "/ready", "/voices", "/metrics"):
        head = client.head(path)
        assert head.status_code == 200 and head.content == b"", path
    r = client.get("/ready")
    assert r.json() == {"ready": True, "reason": None}
    assert len(r.headers["x-request-id"]) == 32
    assert client.get("/health", headers={"X-Request-ID": "job-42.a"}).headers["x-request-id"] == "job-42.a"
    assert client.get("/health", headers={"X-Request-ID": "bad id\x7f"}).headers["x-request-id"] != "bad id\x7f"
    with caplog.at_level("INFO", logger="limelight.access"):
        r = client.get("/health?api_key=secret-in-query")
    line = [rec for rec in caplog.records if rec.name == "limelight.access"][-1]
    assert line.request_id == r.headers["x-request-id"] and line.path == "/health"
    from limelight.serve.observe import JsonFormatter

    formatted = json.loads(JsonFormatter().format(line))
    assert formatted["request_id"] == r.headers["x-request-id"] and "secret" not in json.dumps(formatted)
    assert_error(client.post("/health"), 405)
    assert "HEAD" in client.post("/health").headers["allow"]
    text = client.get("/metrics").text
    assert 'limelight_requests_total{method="GET",route="/health",status="200"}' in text
    for name in ("limelight_queue_depth", "limelight_jobs_running", "limelight_job_seconds_bucket",
                 "limelight_rejections_total", "limelight_draining 0.0"):
        assert name in text, name


def test_docs_and_metrics_can_be_private() -> None:
    app = create_app(Settings.from_env(env={}, api_keys="k", private_docs=True))
    with TestClient(app) as c:
        assert c.get("/health").status_code == 200 and c.get("/ready").status_code == 200
        for path in ("/metrics", "/openapi.json", "/docs"):
            assert c.get(path).status_code == 401, path
        assert c.get("/metrics", headers={"X-API-Key": "k"}).status_code == 200


def test_every_setting_is_a_flag_and_an_env_var_with_one_precedence() -> None:
    from dataclasses import fields

    from limelight.cli import build_parser
    from limelight.serve.settings import from_arguments

    env = {"LIMELIGHT_WORKERS": "2", "LIMELIGHT_QUEUE_DEPTH": "5", "LIMELIGHT_MAX_AUDIO_S": "90",
           "LIMELIGHT_PRIVATE_DOCS": "true"}
    s = from_arguments(build_parser().parse_args(["serve", "--queue-depth", "3"]), env=env)
    assert (s.workers, s.queue_depth, s.max_audio_s, s.private_docs) == (2, 3, 90.0, True)  # env, flag, env, env
    s = from_arguments(build_parser().parse_args(["serve", "--no-private-docs", "--api-keys", "key-1,key-2"]), env=env)
    assert s.private_docs is False and s.api_keys == frozenset({"key-1", "key-2"}) and "key-1" not in repr(s)
    help_text = build_parser()._subparsers._group_actions[0].choices["serve"].format_help()  # type: ignore[union-attr]
    for f in fields(Settings):
        assert "--" + f.name.replace("_", "-") in help_text and f"LIMELIGHT_{f.name.upper()}" in help_text


def test_retry_after_counts_the_work_ahead() -> None:
    pool = WorkerPool(workers=1, queue_depth=8)
    pool._durations.extend([6.6] * 10)  # jobs take 6.6 s
    from concurrent.futures import Future

    from limelight.limits import JobLimits

    now = 1000.0
    pool._jobs[Future()] = (JobLimits(), [now - 1.0])  # running for 1 s: ~5.6 s left
    for _ in range(8):
        pool._jobs[Future()] = (JobLimits(), [])  # queued
    wait = pool.retry_after_s(now=now)
    assert 8 * 6.6 + 5 <= wait <= 8 * 6.6 + 7
    pool.shutdown()


# --------------------------------------------------------------------------------------------- voice library
needs_library = pytest.mark.skipif(not library_available(), reason="voice library/clone not in this build")


@needs_library
def test_a_damaged_voice_file_breaks_nothing_else(client: TestClient, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIMELIGHT_HOME", str(tmp_path))
    lib = VoiceLibrary()
    base = shipped_voices()["jm_kumo"]
    for name in ("keeper", "broken", "empty"):
        lib.save(type(base)(name=name, style=base.style, gender="male", source="cloned"))
    (lib.root / "broken.voice").write_bytes((lib.root / "broken.voice").read_bytes()[:3000])
    (lib.root / "empty.voice").write_bytes(b"")
    listing = client.get("/voices")
    assert listing.status_code == 200
    names = {v["name"] for v in listing.json()["voices"]}
    assert "keeper" in names and not {"broken", "empty"} & names
    assert {d["name"] for d in listing.json()["damaged"]} == {"broken", "empty"}
    assert all(d["error"] for d in listing.json()["damaged"])
    ok = client.post("/v1/audio/speech", json={"model": "tts-1", "voice": "keeper", "input": "Hi.",
                                                "response_format": "wav"})
    assert ok.status_code == 200, ok.text
    damaged = client.post("/v1/audio/speech", json={"model": "tts-1", "voice": "broken", "input": "Hi."})
    assert "damaged" in assert_error(damaged, 422, field="voice")["message"]
    for name in ("broken", "empty"):
        assert client.delete(f"/voices/{name}").status_code == 200
    assert client.get("/voices").json()["damaged"] == []
    assert_error(client.post("/voices", data={"name": "dup\n"}, files={"file": ("a.wav", b"x")}), 422, field="name")
    assert_error(client.post("/voices", data={"name": "keeper"}, files={"file": ("a.wav", b"x")}), 409, "voice_exists")
    assert_error(client.post("/voices", data={"name": "fresh"}, files={"file": ("a.wav", b"not audio")}), 422,
                 "invalid_audio", "file")
    # faults while serving: truncate, corrupt and delete files between requests
    rng = np.random.default_rng(0)
    for i in range(6):
        lib.save(type(base)(name=f"v{i}", style=base.style, gender="male", source="cloned"))
    for i in range(6):
        path = lib.root / f"v{i}.voice"
        action = ("truncate", "corrupt", "delete")[i % 3]
        if action == "truncate":
            path.write_bytes(path.read_bytes()[: int(rng.integers(0, 2000))])
        elif action == "corrupt":
            data = bytearray(path.read_bytes())
            data[100:400] = os.urandom(300)
            path.write_bytes(bytes(data))
        else:
            path.unlink()
        r = client.get("/voices")
        assert r.status_code == 200 and "keeper" in {v["name"] for v in r.json()["voices"]}


# ------------------------------------------------------------------------- property: never a 5xx on input
_PIECES = ["Hello there.", "[sigh]", "<action>Whispering.</action>", '<pause seconds="1.5"/>', '<pause seconds="31"/>',
           "12345678901234567890123", "3.14159", "$12.50", "abcdefghij" * 60, "&amp;", "<", ">", "\u202e", "\t",
           '<speak voice="A woman." gender="female">', "</speak>", "<line>", "é" * 40, "<!-- c -->", "]]>", "\ufffd"]
_SPOKEN = ["Hello there.", "[sigh]", "<action>Whispering.</action>", '<pause seconds="1.5"/>', "12345678901234567890",
           "3.14159", "$12.50", "abcdefghij" * 60, "&amp;", "It's 4:30 pm.", "é" * 10, "Dr. No."]
texts = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(_PIECES), min_size=1, max_size=6).map("".join),
    st.lists(st.sampled_from(_SPOKEN), min_size=1, max_size=4).map(
        lambda parts: '<speak voice="A calm woman." gender="female">' + " ".join(parts) + "</speak>"),
    st.lists(st.sampled_from(_SPOKEN[:1] + _SPOKEN[4:]), min_size=1, max_size=3).map(" ".join))
heavy = settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


@heavy
@given(prompt=texts, seed=st.integers(-1, 5), pace=st.one_of(st.floats(0.5, 3.0), st.floats(0.5, 3.0), st.booleans()))
def test_generate_never_answers_5xx(client: TestClient, prompt: str, seed: int, pace: Any) -> None:
    r = client.post("/generate", json={"prompt": prompt, "seed": seed, "pace": pace, "validate": False})
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert r.json()["status"] == "failed"
    SEEN.append(r.status_code)


@heavy
@given(text=texts, fmt=st.sampled_from(["wav", "pcm", "opus", "mp3", "aac"]), stream=st.booleans(),
       extra=st.dictionaries(st.text(max_size=8), st.integers(), max_size=2),
       model=st.one_of(st.just("tts-1"), st.text(min_size=1, max_size=12)))
def test_speech_never_answers_5xx(client: TestClient, text: str, fmt: str, stream: bool, extra: dict[str, int],
                                  model: str) -> None:
    body = {**extra, "model": model, "voice": "alloy", "input": text, "response_format": fmt, "stream": stream}
    r = client.post("/v1/audio/speech", json=body)
    assert r.status_code < 500, r.text
    for value in r.headers.values():
        assert all(32 <= ord(ch) < 127 for ch in value), value
    SEEN.append(r.status_code)


SEEN: list[int] = []


def test_the_properties_reached_synthesis() -> None:
    """The two properties above are only worth something if some of their requests were really spoken."""
    if not SEEN:
        pytest.skip("run with the property tests")
    assert SEEN.count(200) >= 3, SEEN


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(name=st.text(max_size=70), data=st.binary(max_size=2000), force=st.sampled_from(["true", "false", "x"]))
def test_voice_uploads_never_answer_5xx(client: TestClient, name: str, data: bytes, force: str) -> None:
    r = client.post("/voices", data={"name": name, "force": force}, files={"file": ("ref.wav", data, "audio/wav")})
    assert r.status_code < 500 and r.status_code != 201, r.text


# -------------------------------------------------------------------------------------------- real sockets
@dataclass
class Live:
    port: int
    state: Any

    def connect(self) -> socket.socket:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=15)
        return s


def read_all(s: socket.socket) -> bytes:
    out = b""
    while True:
        try:
            piece = s.recv(65536)
        except (TimeoutError, ConnectionResetError):
            return out
        if not piece:
            return out
        out += piece


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    from limelight.serve.runner import build_server

    s = Settings.from_env(env={}, port=0, header_timeout_s=1.0, body_timeout_s=1.5, keep_alive_s=2.5,
                          max_connections=6, max_audio_s=60.0, log_level="warning")
    server = build_server(s)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(600):
        if server.started:
            break
        time.sleep(0.1)
    assert server.started
    port = server.servers[0].sockets[0].getsockname()[1]
    yield Live(port, server.config.app.state.limelight)
    server.should_exit = True
    thread.join(30)


def test_control_characters_in_client_text_reach_headers_encoded(live: Live) -> None:
    body = {"model": "tts-1\r\nX-Evil: 1", "voice": "alloy", "input": "Hi.", "response_format": "wav",
            "a\r\nSet-Cookie: x=y": 1, "é,b": 2}
    r = httpx.post(f"http://127.0.0.1:{live.port}/v1/audio/speech", json=body, timeout=120)
    assert r.status_code == 200
    assert "set-cookie" not in r.headers and "x-evil" not in r.headers
    assert "a%0D%0ASet-Cookie: x=y" in r.headers["x-limelight-not-applied"]
    assert "%C3%A9%2Cb" in r.headers["x-limelight-not-applied"]


def test_an_idle_connection_is_closed(live: Live) -> None:
    with live.connect() as s:
        assert read_all(s) == b""  # closed by the server after header_timeout_s


def test_a_kept_alive_connection_idles_for_keep_alive_s_not_the_head_timeout(live: Live) -> None:
    def answer(s: socket.socket) -> bytes:
        data = b""
        while not data.endswith(b"}"):  # /health's JSON body ends the response
            piece = s.recv(65536)
            assert piece, data
            data += piece
        return data

    with live.connect() as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer(s).startswith(b"HTTP/1.1 200")
        time.sleep(1.5)  # longer than header_timeout_s (1 s), shorter than keep_alive_s (2.5 s)
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer(s).startswith(b"HTTP/1.1 200")
        assert read_all(s) == b""  # then closed once idle for keep_alive_s


def test_a_slow_request_head_gets_408(live: Live) -> None:
    with live.connect() as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        answer = b""
        for i in range(40):  # one header line every 0.2 s: never complete
            try:
                s.sendall(f"X-Drip-{i}: 1\r\n".encode())
            except OSError:
                break
            time.sleep(0.2)
        answer = read_all(s)
    assert answer.startswith(b"HTTP/1.1 408") and b"request_timeout" in answer


def test_a_stalled_body_gets_408(live: Live) -> None:
    with live.connect() as s:
        s.sendall(b"POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100\r\n\r\n{\"prompt\": ")
        answer = read_all(s)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]


def test_connections_beyond_the_cap_get_503_at_once(live: Live) -> None:
    held = [live.connect() for _ in range(6)]
    try:
        time.sleep(0.1)
        with live.connect() as extra:
            answer = read_all(extra)
        assert answer.startswith(b"HTTP/1.1 503") and b"too_many_connections" in answer
        assert b"retry-after: 1" in answer.lower()
    finally:
        for s in held:
            s.close()


def test_a_job_whose_client_left_is_cancelled(live: Live) -> None:
    pool = live.state.pool
    before = pool.stats().cancelled
    body = json.dumps({"model": "tts-1", "voice": "alloy", "input": LONG_TEXT, "response_format": "wav"}).encode()
    with live.connect() as s:
        s.sendall(b"POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        for _ in range(300):
            if pool.stats().running:
                break
            time.sleep(0.05)
        assert pool.stats().running == 1
    for _ in range(1200):  # the job stops at its next piece (bounded by 60 s here)
        if pool.stats().in_flight == 0:
            break
        time.sleep(0.05)
    stats = pool.stats()
    assert stats.in_flight == 0 and stats.cancelled == before + 1


# --------------------------------------------------------------------------------------------- SIGTERM drain
def test_sigterm_drains_with_answers_and_exits(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "LIMELIGHT_HOME": str(tmp_path)}
    env.pop("LIMELIGHT_API_KEYS", None)
    proc = subprocess.Popen([sys.executable, "-m", "limelight", "serve", "--port", str(port), "--workers", "1",
                             "--queue-depth", "3", "--drain-timeout-s", "6"], env=env, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(1200):
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        results: dict[str, Any] = {}

        def ask(key: str, stream: bool) -> None:
            body = {"model": "tts-1", "voice": "alloy", "input": LONG_TEXT, "response_format": "wav",
                    "stream": stream}
            try:
                results[key] = httpx.post(f"{base}/v1/audio/speech", json=body, timeout=120)
            except httpx.HTTPError as exc:
                results[key] = exc

        threads = [threading.Thread(target=ask, args=("stream", True))]
        threads[0].start()
        for _ in range(300):
            if httpx.get(f"{base}/health", timeout=5).json()["in_flight"] == 1:
                break
            time.sleep(0.05)
        for i in range(3):
            threads.append(threading.Thread(target=ask, args=(f"queued{i}", False)))
            threads[-1].start()
        for _ in range(300):
            if httpx.get(f"{base}/health", timeout=5).json()["in_flight"] == 4:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        for t in threads:
            t.join(120)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    # uvicorn re-raises the signal after its clean shutdown, so the exit is "terminated by SIGTERM", as expected
    assert code in (0, -signal.SIGTERM) and "Traceback" not in stderr, stderr[-3000:]
    for key in ("queued0", "queued1", "queued2"):
        r = results[key]
        assert isinstance(r, httpx.Response), r
        assert_error(r, 503, "shutting_down")
        assert int(r.headers["retry-after"]) >= 1
    streamed = results["stream"]
    assert isinstance(streamed, httpx.Response) and streamed.status_code == 200
    audio, sr = sf.read(io.BytesIO(streamed.content[44:]), samplerate=24000, channels=1, format="RAW",
                        subtype="PCM_16")
    assert len(streamed.content[44:]) % 2 == 0 and len(audio) / sr > 1.0  # whole samples, real audio
    logs = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert logs and all("request_id" in e and "level" in e for e in logs)
    assert any(e.get("event") == "drain" for e in logs)
