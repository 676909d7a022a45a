"""Scale-out on a local Ray instance (num_cpus=2, shared by this module): `limelight batch --ray` and the HTTP
app as a Ray Serve deployment. Skipped, naming the extra, where Ray is not installed."""

from __future__ import annotations

import base64
import io
import json
import socket
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ray = pytest.importorskip("ray", reason="the Ray tests need the [cluster] extra: pip install 'limelight[cluster]'")


def _write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def _report(out: Path) -> dict[str, dict]:
    rows = [json.loads(line) for line in (out / "report.jsonl").read_text().splitlines()]
    return {r["id"]: r for r in rows}


@pytest.fixture(scope="module")
def ray_local():
    from limelight.batch.ray_run import local_runtime_env

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": local_runtime_env()})
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def narrator_home(tmp_path_factory) -> Path:
    """A voice library that only the driver's side has: the workers must be given it."""
    from limelight.voice.library import VoiceLibrary
    from limelight.voice.shipped import shipped_voices

    home = tmp_path_factory.mktemp("home")
    VoiceLibrary(home / "voices").save(shipped_voices()["jm_kumo"], name="narrator")
    return home


def test_batch_on_ray_with_library_voices_and_resume(ray_local, narrator_home, tmp_path, monkeypatch):
    from limelight.batch import BatchSettings, EngineConfig, run_batch

    monkeypatch.setenv("LIMELIGHT_HOME", str(narrator_home))
    manifest = _write_jsonl(tmp_path / "m.jsonl", [
        {"id": "one", "text": "The first line, in the library voice.", "voice": "narrator"},
        {"id": "two", "text": "Second."},
        {"id": "bad", "text": "Nobody.", "voice": "nobody"},
    ])
    settings = BatchSettings(out_dir=tmp_path / "out", workers=1, engine=EngineConfig(threads=1))
    summary = run_batch(manifest, settings, quiet=True, use_ray=True)
    assert (summary.ok, summary.failed, summary.exit_code) == (2, 1, 1)
    report = _report(settings.out_dir)
    assert "unknown voice 'nobody'" in report["bad"]["error"] and report["bad"]["line"] == 3
    meta = json.loads((settings.out_dir / "one.json").read_text())
    assert [v["name"] for v in meta["voices"].values()] == ["narrator"]
    audio, sr = sf.read(settings.out_dir / "one.wav", dtype="float32")
    assert len(audio) == meta["batch"]["frames"] and np.sqrt(np.mean(audio ** 2)) > 0.01
    # Resuming works the same through Ray.
    (settings.out_dir / "two.wav").unlink()
    summary = run_batch(manifest, settings, quiet=True, use_ray=True)
    assert (summary.ok, summary.skipped, summary.failed) == (1, 1, 1)
    assert _report(settings.out_dir)["one"]["status"] == "skipped"


def test_serve_deployment_speaks_and_sees_the_shared_library(ray_local, narrator_home):
    import httpx
    from ray import serve

    from limelight.batch.ray_run import local_runtime_env
    from limelight.serve.ray_serve import ServeScale, deployment

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    try:
        app = deployment(ServeScale(replicas=1, num_cpus=1), library=narrator_home / "voices",
                         extra_env=local_runtime_env())
        serve.run(app, name="limelight", route_prefix="/")
        base = f"http://127.0.0.1:{port}"
        voices = httpx.get(f"{base}/voices", timeout=60).json()
        assert "narrator" in [v["name"] for v in voices["voices"]]
        r = httpx.post(f"{base}/generate", json={"prompt": "Hello from a replica.", "voice": "narrator",
                                                 "validate": False}, timeout=120)
        assert r.status_code == 200, r.text
        body = r.json()
        audio, sr = sf.read(io.BytesIO(base64.b64decode(body["audio"])), dtype="float32")
        assert sr == 24000 and len(audio) / sr > 0.8
        assert [v["name"] for v in body["metadata"]["voices"].values()] == ["narrator"]
        bad = httpx.post(f"{base}/generate", json={"prompt": "Hi.", "voice": "nobody"}, timeout=60)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "voice"
    finally:
        serve.shutdown()


def test_serve_scale_settings_are_checked():
    from limelight.errors import LimelightError
    from limelight.serve.ray_serve import ServeScale, app_builder

    assert ServeScale(min_replicas=1, max_replicas=4).deployment_options(9)["autoscaling_config"] == {
        "min_replicas": 1, "max_replicas": 4, "target_ongoing_requests": 2.0}
    assert ServeScale(replicas=3).deployment_options(9) == {"max_ongoing_requests": 9, "num_replicas": 3}
    for bad in ({"replicas": 0}, {"min_replicas": 2}, {"min_replicas": 3, "max_replicas": 2}):
        with pytest.raises(LimelightError):
            ServeScale(**bad)
    with pytest.raises(LimelightError, match="unknown argument 'replica'"):
        app_builder({"replica": "2"})
