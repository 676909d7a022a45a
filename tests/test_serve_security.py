"""The server's defences: reference-URL SSRF refusals, redirects, size/time caps, API keys, body and prompt limits.

No engine is loaded here: every request in this file is refused (or a reference is fetched) before synthesis.
The fetcher is exercised against a real HTTP server on 127.0.0.1; conftest's network guard turns any attempt to
reach a non-loopback address into a test failure, so a refusal here proves nothing left the machine.
"""

from __future__ import annotations

import base64
import io
import ipaddress
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from limelight.errors import AudioInputError
from limelight.serve import Settings, create_app
from limelight.serve.addresses import forbidden_reason, is_disguised_ip
from limelight.serve.reference import (
    FetchPolicy,
    ReferenceFetcher,
    ReferenceFetchFailed,
    ReferenceRefused,
    ReferenceTooLarge,
)

LOOPBACK_ONLY = (ipaddress.ip_network("127.0.0.1/32"),)


def tone_wav(seconds: float, sr: int = 16000, amplitude: float = 0.3) -> bytes:
    t = np.arange(int(seconds * sr)) / sr
    audio = (amplitude * np.sin(2 * np.pi * 180 * t) * (1 + 0.3 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    buf = io.BytesIO()
    sf.write(buf, audio, sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


REF_WAV = tone_wav(4.0)


class _Handler(BaseHTTPRequestHandler):
    """Routes: /ref.wav, /short.wav, /long.wav, /silent.wav, /text, /big, /big-chunked, /slow, /missing,
    /redirect?to=URL (302), /loop?n=K (K more redirects to itself, then the audio)."""

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self.server.hits.append((self.path, self.headers.get("Host")))  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        q = parse_qs(url.query)
        bodies = {"/ref.wav": REF_WAV, "/short.wav": tone_wav(1.0), "/long.wav": tone_wav(31.0),
                  "/silent.wav": tone_wav(4.0, amplitude=0.0), "/text": b"<html>not audio</html>",
                  "/big": b"\0" * 200_000}
        if url.path in bodies:
            self._send(200, bodies[url.path])
        elif url.path == "/big-chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(20):
                piece = b"\0" * 10_000
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif url.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(30):
                try:
                    self.wfile.write(b"\0" * 10)
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.2)
        elif url.path == "/redirect":
            self._send(302, headers={"Location": q["to"][0]})
        elif url.path == "/loop":
            n = int(q["n"][0])
            self._send(302, headers={"Location": f"/loop?n={n - 1}" if n > 0 else "/ref.wav"})
        else:
            self._send(404, b"no")


@pytest.fixture(scope="module")
def origin() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.hits = []  # type: ignore[attr-defined]
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture()
def base(origin: ThreadingHTTPServer) -> str:
    origin.hits.clear()  # type: ignore[attr-defined]
    return f"http://127.0.0.1:{origin.server_address[1]}"


def fetcher(**policy: object) -> ReferenceFetcher:
    return ReferenceFetcher(FetchPolicy(**policy))  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ address rules
REFUSED_URLS = [
    "http://127.0.0.1/ref.wav", "http://127.9.9.9/", "http://[::1]/", "http://localhost/ref.wav",
    "http://10.0.0.1/ref.wav", "http://10.255.1.2:8080/a.wav", "http://172.16.0.1/", "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/", "http://169.254.170.2/v2/credentials", "http://[fd00:ec2::254]/",
    "http://100.100.100.200/", "http://168.63.129.16/", "http://100.64.0.1/", "http://0.0.0.0/", "http://[::]/",
    "http://224.0.0.1/", "http://255.255.255.255/", "http://240.0.0.1/", "http://[fe80::1]/", "http://[ff02::1]/",
    "http://[fc00::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:10.0.0.1]/", "http://[::ffff:a9fe:a9fe]/",
    "http://[2002:7f00:1::]/", "http://[64:ff9b::a9fe:a9fe]/", "http://[::127.0.0.1]/",
    "http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/", "http://127.1/", "http://0/",
    "http://0x7f.0.0.1/", "http://017700000001/", "http://3232235777/", "https://10.0.0.1/ref.wav",
    "http://user:pw@example.com/ref.wav", "http://example.com@127.0.0.1/ref.wav",
    "file:///etc/passwd", "ftp://example.com/ref.wav", "gopher://127.0.0.1:70/", "javascript:alert(1)",
    "//127.0.0.1/ref.wav", "127.0.0.1/ref.wav", "dict://127.0.0.1:11211/", "http:///ref.wav", "",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_untrusted_urls_are_refused_without_connecting(url: str) -> None:
    # Any connect to a non-loopback address would raise NetworkGuardError instead of the refusal.
    with pytest.raises(ReferenceRefused) as info:
        fetcher().fetch(url)
    assert info.value.field == "reference_voice_url"
    assert info.value.code == "reference_url_refused"


def test_loopback_is_refused_before_any_request_reaches_it(base: str, origin: ThreadingHTTPServer) -> None:
    with pytest.raises(ReferenceRefused, match="loopback"):
        fetcher().fetch(f"{base}/ref.wav")
    assert origin.hits == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("host,disguised", [("2130706433", True), ("0x7f000001", True), ("0177.0.0.1", True),
                                            ("127.1", True), ("1.2.3.4", False), ("010.0.0.1", True),
                                            ("example.com", False), ("8.8.8.8", False), ("1e100.net", False)])
def test_disguised_numeric_hosts(host: str, disguised: bool) -> None:
    assert is_disguised_ip(host) is disguised


def test_public_addresses_pass_the_address_rules() -> None:
    for ip in ("93.184.216.34", "2606:4700:4700::1111", "8.8.8.8"):
        assert forbidden_reason(ipaddress.ip_address(ip)) is None, ip
    assert forbidden_reason(ipaddress.ip_address("127.0.0.1"), LOOPBACK_ONLY) is None
    assert forbidden_reason(ipaddress.ip_address("127.0.0.2"), LOOPBACK_ONLY) == "a loopback address"


def test_host_names_resolving_inward_are_refused() -> None:
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        calls.append(host)
        return {"inside.test": [ipaddress.ip_address("10.1.2.3")],
                "mixed.test": [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("169.254.169.254")],
                "v6.test": [ipaddress.ip_address("::ffff:192.168.0.1")]}[host]

    f = ReferenceFetcher(FetchPolicy(), resolve=resolve)
    for host in ("inside.test", "mixed.test", "v6.test"):
        with pytest.raises(ReferenceRefused, match="resolves to"):
            f.fetch(f"http://{host}/ref.wav")
    assert calls == ["inside.test", "mixed.test", "v6.test"]


def test_the_checked_address_is_the_one_connected_to(origin: ThreadingHTTPServer) -> None:
    """DNS rebinding: the name is resolved once; a second answer (inward) is never asked for or used."""
    answers = iter([["127.0.0.1"], ["10.0.0.9"], ["10.0.0.9"]])
    calls = 0

    def resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        nonlocal calls
        calls += 1
        return [ipaddress.ip_address(a) for a in next(answers)]

    origin.hits.clear()  # type: ignore[attr-defined]
    port = origin.server_address[1]
    ref = ReferenceFetcher(FetchPolicy(allow=LOOPBACK_ONLY), resolve=resolve).fetch(f"http://rebind.test:{port}/ref.wav")
    assert calls == 1
    assert abs(ref.duration_s - 4.0) < 0.01
    assert origin.hits == [("/ref.wav", f"rebind.test:{port}")]  # type: ignore[attr-defined]


# -------------------------------------------------------------------------------------- redirects, caps
def test_allowed_origin_is_fetched_and_decoded(base: str) -> None:
    ref = fetcher(allow=LOOPBACK_ONLY).fetch(f"{base}/ref.wav")
    assert ref.sample_rate == 16000 and abs(ref.duration_s - 4.0) < 0.01 and ref.source == "http"
    assert ref.audio.dtype == np.float32 and 0.2 < float(np.abs(ref.audio).max()) < 0.5


@pytest.mark.parametrize("target", [
    "http://10.0.0.7/ref.wav", "http://169.254.169.254/latest/meta-data/", "http://[::1]:{port}/ref.wav",
    "http://127.0.0.2:{port}/ref.wav", "http://2130706433:{port}/ref.wav", "file:///etc/passwd",
    "http://[::ffff:10.0.0.1]/", "http://0x7f000001:{port}/ref.wav",
])
def test_redirects_to_forbidden_targets_are_refused(base: str, origin: ThreadingHTTPServer, target: str) -> None:
    target = target.format(port=origin.server_address[1])
    with pytest.raises(ReferenceRefused):
        fetcher(allow=LOOPBACK_ONLY).fetch(f"{base}/redirect?to={target}")
    assert [h[0].split("?")[0] for h in origin.hits] == ["/redirect"]  # type: ignore[attr-defined]


def test_redirects_are_followed_to_a_bounded_depth(base: str) -> None:
    ref = fetcher(allow=LOOPBACK_ONLY, max_redirects=3).fetch(f"{base}/loop?n=2")
    assert ref.redirects == 3 and abs(ref.duration_s - 4.0) < 0.01
    with pytest.raises(ReferenceRefused, match="redirected more than 3 times"):
        fetcher(allow=LOOPBACK_ONLY, max_redirects=3).fetch(f"{base}/loop?n=3")


@pytest.mark.parametrize("path", ["/big", "/big-chunked"])
def test_size_cap(base: str, path: str) -> None:
    with pytest.raises(ReferenceTooLarge):
        fetcher(allow=LOOPBACK_ONLY, max_bytes=100_000).fetch(base + path)


def test_time_cap(base: str) -> None:
    # /slow trickles 10 bytes every 0.2 s for 6 s: only the fetch's own 1 s clock ends it early, and says so
    with pytest.raises(ReferenceFetchFailed, match="longer than 1 s"):
        fetcher(allow=LOOPBACK_ONLY, timeout_s=1.0).fetch(f"{base}/slow")


@pytest.mark.parametrize("path,error,match", [
    ("/text", AudioInputError, "could not be decoded"), ("/short.wav", AudioInputError, "1.0 s long"),
    ("/long.wav", AudioInputError, "31.0 s long"), ("/silent.wav", AudioInputError, "silent"),
    ("/missing", ReferenceFetchFailed, "HTTP 404"),
])
def test_bodies_that_are_not_a_usable_reference(base: str, path: str, error: type, match: str) -> None:
    with pytest.raises(error, match=match) as info:
        fetcher(allow=LOOPBACK_ONLY).fetch(base + path)
    assert info.value.field == "reference_voice_url"


def test_data_urls() -> None:
    good = "data:audio/wav;base64," + base64.b64encode(REF_WAV).decode()
    ref = fetcher().fetch(good)
    assert ref.source == "data" and abs(ref.duration_s - 4.0) < 0.01
    with pytest.raises(ReferenceRefused, match="base64"):
        fetcher().fetch("data:audio/wav;base64,@@@not-base64@@@")
    with pytest.raises(ReferenceTooLarge):
        fetcher(max_bytes=10_000).fetch(good)
    with pytest.raises(AudioInputError):
        fetcher().fetch("data:text/plain,hello")


# ------------------------------------------------------------------------------------ through the HTTP API
@pytest.fixture(scope="module")
def make_client() -> Iterator:
    """Apps without their lifespan: nothing here reaches synthesis, so no model is loaded."""
    apps = []

    def make(**settings: object) -> TestClient:
        app = create_app(Settings.from_env(env={}, **settings))
        apps.append(app)
        return TestClient(app, raise_server_exceptions=True)

    yield make
    for app in apps:
        app.state.limelight.close()


@pytest.mark.parametrize("url", ["http://127.0.0.1/ref.wav", "http://[::1]/", "http://10.1.2.3/ref.wav",
                                 "http://169.254.169.254/latest/meta-data/", "http://2130706433/",
                                 "file:///etc/passwd"])
def test_generate_refuses_ssrf_urls(make_client, url: str) -> None:
    r = make_client().post("/generate", json={"prompt": "Hello.", "reference_voice_url": url})
    assert r.status_code == 422
    assert r.json() == {"status": "failed", "error": {"code": "reference_url_refused",
                                                      "message": r.json()["error"]["message"],
                                                      "field": "reference_voice_url",
                                                      "type": "invalid_request_error",
                                                      "param": "reference_voice_url"}}


def test_generate_refuses_a_redirect_from_an_allowed_origin_to_a_private_address(make_client, base: str,
                                                                                 origin: ThreadingHTTPServer) -> None:
    client = make_client(reference_allow="127.0.0.1")
    r = client.post("/generate", json={"prompt": "Hello.",
                                       "reference_voice_url": f"{base}/redirect?to=http://10.0.0.7/ref.wav"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "reference_url_refused"
    assert "10.0.0.7" in r.json()["error"]["message"]
    assert len(origin.hits) == 1  # type: ignore[attr-defined]


def test_api_keys(make_client, tmp_path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text("# server keys\nfile-key\n")
    client = make_client(**{"api_keys": "k1, k2"})
    anon = client.post("/generate", json={})
    assert anon.status_code == 401 and anon.json()["error"]["code"] == "unauthorized"
    assert anon.headers["www-authenticate"].startswith("Bearer")
    assert client.post("/generate", json={}, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.post("/generate", json={}, headers={"X-API-Key": "k1x"}).status_code == 401
    # a valid key passes the gate and reaches validation (422: prompt missing)
    assert client.post("/generate", json={}, headers={"Authorization": "Bearer k2"}).status_code == 422
    assert client.post("/generate", json={}, headers={"X-API-Key": "k1"}).status_code == 422
    assert client.get("/openapi.json").status_code == 200  # the description stays public
    from_file = Settings.from_env(env={"LIMELIGHT_API_KEYS_FILE": str(key_file), "LIMELIGHT_API_KEYS": "a"})
    assert from_file.api_keys == frozenset({"file-key", "a"})
    assert make_client().post("/generate", json={}).status_code == 422  # no keys configured: open


def test_body_size_limit(make_client) -> None:
    client = make_client(max_body_bytes=4096)
    big = {"prompt": "x" * 5000}
    r = client.post("/generate", json=big)
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"prompt": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    r = client.post("/generate", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    assert Settings().max_body_bytes == 25 * 1024 * 1024


def test_prompt_length_limit(make_client) -> None:
    assert Settings().max_prompt_chars == 20_000
    client = make_client()
    r = client.post("/generate", json={"prompt": "a" * 20_001})
    assert r.status_code == 422 and r.json()["error"]["field"] == "prompt" and "20001" in r.json()["error"]["message"]
    r = client.post("/v1/audio/speech", json={"model": "tts-1", "voice": "alloy", "input": "a" * 20_001})
    assert r.status_code == 422 and r.json()["error"]["field"] == "input"


def test_settings_from_environment_and_their_errors() -> None:
    from limelight.errors import LimelightError

    s = Settings.from_env(env={"LIMELIGHT_WORKERS": "3", "LIMELIGHT_QUEUE_DEPTH": "2",
                               "LIMELIGHT_REFERENCE_ALLOW": "127.0.0.1, 10.0.0.0/8", "LIMELIGHT_API_KEYS": "a,b"})
    assert (s.workers, s.queue_depth, s.api_keys) == (3, 2, frozenset({"a", "b"}))
    assert [str(n) for n in s.reference_allow] == ["127.0.0.1/32", "10.0.0.0/8"]
    assert Settings.from_env(env={"LIMELIGHT_WORKERS": "3"}, workers=5).workers == 5  # arguments win
    for env, overrides in (({"LIMELIGHT_WORKERS": "many"}, {}), ({"LIMELIGHT_REFERENCE_ALLOW": "intranet"}, {}),
                           ({}, {"workers": 0}), ({}, {"queue_depth": -1}), ({}, {"no_such_option": 1})):
        with pytest.raises(LimelightError):
            Settings.from_env(env=env, **overrides)
