"""`POST /generate` and the rest of the app through FastAPI's TestClient, on the real engine.

Every field of DESIGN.md §4 is checked three ways: its default is the documented one, a value is applied (or
reported in ``metadata.not_applied``), and an out-of-range value is a 422 naming the field. Synthesis is real
(short prompts, one app and one loaded performer for the whole module); the schema fuzz sends ~50 invalid
bodies per endpoint (cheap: refused at validation) and a handful of valid ones that really synthesize.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import schemathesis
import soundfile as sf
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode

from limelight.serve import Settings, create_app
from limelight.serve.routes.voices import library_available

REFERENCE = Path("voices/dev/1688/1688-142285-0003.flac")  # 5.1 s of a LibriSpeech speaker
DEFAULTS = {"mode": "generate", "reference_voice_url": None, "background_sfx": False, "validate": True,
            "seed": -1, "pace": 1.5, "min_match_ratio": 0.9, "skip_vc": False, "vc_steps": 25, "vc_cfg_rate": 0.5}


# Building the app is cheap (models load in its lifespan, or on first use), so the fuzzer can read its schema
# at import time; the performer is cached per process and shared by every app in the test session.
APP = create_app(Settings.from_env(env={}))


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(APP) as c:  # runs the lifespan: the performer loads once, here
        yield c


@pytest.fixture(scope="module")
def reference_data_url(shared_dir: Path) -> str:
    data = (shared_dir / REFERENCE).read_bytes()
    return "data:audio/flac;base64," + base64.b64encode(data).decode()


def decode(body: dict[str, Any]) -> tuple[np.ndarray, int]:
    assert body["content_type"] == "audio/wav"
    audio, sr = sf.read(io.BytesIO(base64.b64decode(body["audio"])), dtype="float32")
    return audio, sr


def not_applied(metadata: dict[str, Any]) -> dict[str, str]:
    return {e["field"]: e["reason"] for e in metadata["not_applied"]}


def assert_error(r, status: int, code: str | None = None, field: str | None = None) -> dict[str, Any]:
    body = r.json()
    assert r.status_code == status, body
    assert body["status"] == "failed" and set(body["error"]) == {"code", "message", "field", "type", "param"}, body
    assert body["error"]["param"] == body["error"]["field"]  # OpenAI's name for it
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    if field is not None:
        assert body["error"]["field"] == field, body
    return body["error"]


# --------------------------------------------------------------------------------------------- contract
def test_schema_has_every_field_with_its_documented_default(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    body = schema["components"]["schemas"]["GenerateRequest"]
    assert body["required"] == ["prompt"]
    for name, default in DEFAULTS.items():
        assert body["properties"][name].get("default") == default, name
    assert set(schema["paths"]) >= {"/generate", "/v1/audio/speech", "/voices", "/health"}
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/docs-static/swagger-ui-bundle.js" in docs.text  # no CDN: works offline
    assert client.get("/docs-static/swagger-ui-bundle.js").status_code == 200
    assert "/docs-static/redoc.standalone.js" in client.get("/redoc").text


def test_generate_with_defaults_validates_and_reports(client: TestClient) -> None:
    r = client.post("/generate", json={"prompt": "Hello there, my friend."})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"status", "audio", "content_type", "metadata"} and body["status"] == "succeeded"
    audio, sr = decode(body)
    meta = body["metadata"]
    assert sr == meta["sample_rate"] == 24000
    assert abs(len(audio) / sr - meta["duration_s"]) < 0.01 and meta["duration_s"] > 0.8
    assert 0 <= meta["seed"] <= 2**31 - 1 and meta["processing_ms"] > 0
    (chunk,) = meta["chunks"]
    # validate=true by default: Whisper heard the words, and the ratio is measured, not assumed
    assert chunk["attempts"] >= 1 and chunk["match_ratio"] >= 0.9, chunk
    assert "validate" not in not_applied(meta)


def test_options_are_applied_or_reported(client: TestClient, reference_data_url: str) -> None:
    common = {"prompt": "Good morning to you.", "validate": False, "voice": "jm_kumo", "seed": 1234}
    slow = client.post("/generate", json={**common, "pace": 3.0, "min_match_ratio": 0.5, "vc_steps": 10,
                                          "vc_cfg_rate": 1.0, "skip_vc": True,
                                          "reference_voice_url": reference_data_url})
    fast = client.post("/generate", json={**common, "pace": 0.75})
    assert slow.status_code == 200 and fast.status_code == 200, (slow.text, fast.text)
    meta, fast_meta = slow.json()["metadata"], fast.json()["metadata"]
    assert meta["seed"] == fast_meta["seed"] == 1234
    assert meta["min_match_ratio"] == 0.5
    assert meta["voices"]["speaker1"]["name"] == "jm_kumo"
    # pace is a duration multiplier: 3.0 (slow) vs 0.75 (fast) — measured on the audio itself
    slow_s, fast_s = len(decode(slow.json())[0]), len(decode(fast.json())[0])
    assert slow_s > 2.0 * fast_s, (slow_s, fast_s)
    assert all(c["match_ratio"] is None and c["attempts"] == 1 for c in meta["chunks"])  # validate=false: no ASR
    skipped = not_applied(meta)
    assert "vc_steps" in skipped and "vc_cfg_rate" in skipped
    assert "skip_vc" in skipped["reference_voice_url"]  # reference checked, identity deliberately not used
    assert meta["reference"]["source"] == "data" and 5.0 < meta["reference"]["duration_s"] < 5.2
    assert "vc_steps" not in not_applied(fast_meta)  # nothing to report when the fields were not used


def test_reference_voice_is_cloned_or_reported(client: TestClient, reference_data_url: str) -> None:
    r = client.post("/generate", json={"prompt": "Nice to meet you.", "validate": False,
                                       "reference_voice_url": reference_data_url})
    assert r.status_code == 200, r.text
    meta = r.json()["metadata"]
    cloned = meta["voices"]["speaker1"]["source"] == "cloned"
    assert cloned or "reference_voice_url" in not_applied(meta), meta


def test_voice_design_mode_speaks_a_preview(client: TestClient) -> None:
    r = client.post("/generate", json={"prompt": '<speak voice="An old sailor, gravelly and slow" gender="male">'
                                                 "Ahoy.</speak>", "mode": "voice_design", "validate": False})
    assert r.status_code == 200, r.text
    meta = r.json()["metadata"]
    assert meta["mode"] == "voice_design"
    assert "preview" in " ".join(c["text"] for c in meta["chunks"])  # the preview text, not the script's words
    assert meta["duration_s"] > 5.0


def test_background_sfx_is_applied_or_reported(client: TestClient) -> None:
    prompt = '<speak voice="A calm man" gender="male" scene="light rain on a window">Good night.</speak>'
    r = client.post("/generate", json={"prompt": prompt, "background_sfx": True, "validate": False})
    assert r.status_code == 200, r.text
    meta = r.json()["metadata"]
    assert meta["scene"] is not None or "background_sfx" in not_applied(meta), meta


# -------------------------------------------------------------------------------------------------- errors
BAD_VALUES = [
    ("prompt", ""), ("prompt", "   \n"), ("prompt", "Hi\x00there"), ("prompt", "\x1b[31m"), ("prompt", 5),
    ("prompt", None), ("mode", "sing"), ("mode", 1),
    ("reference_voice_url", 5), ("background_sfx", "maybe"), ("background_sfx", []), ("validate", "x"),
    ("seed", -2), ("seed", 2**31), ("seed", 1.5), ("seed", "abc"), ("pace", 0.49), ("pace", 3.01), ("pace", "fast"),
    ("min_match_ratio", -0.01), ("min_match_ratio", 1.01), ("skip_vc", {}), ("vc_steps", 0), ("vc_steps", 201),
    ("vc_steps", 2.5), ("vc_cfg_rate", -0.1), ("vc_cfg_rate", 5.01), ("voice", 3), ("language", ["en"]),
]


@pytest.mark.parametrize("field,value", BAD_VALUES)
def test_invalid_field_values_are_422_naming_the_field(client: TestClient, field: str, value: Any) -> None:
    body = {"prompt": "Hello.", field: value}
    assert_error(client.post("/generate", json=body), 422, "validation_error", field)


def test_missing_prompt_and_unknown_fields(client: TestClient) -> None:
    err = assert_error(client.post("/generate", json={"pace": 1.0}), 422, "validation_error", "prompt")
    assert "required" in err["message"]
    err = assert_error(client.post("/generate", json={"prompt": "Hi.", "backgroundSfx": True}), 422,
                       field="backgroundSfx")
    assert "unknown field" in err["message"]


@pytest.mark.parametrize("content,ctype,status,code", [
    (b'{"prompt": "Hi.",', "application/json", 400, "invalid_json"),
    (b"[1, 2]", "application/json", 400, "invalid_json"),
    (b'"just a string"', "application/json", 400, "invalid_json"),
    (b"", "application/json", 400, "invalid_json"),
    (b"\xff\xfe\x00garbage", "application/json", 400, "invalid_json"),
    (b'{"prompt": "Hi."}', "text/plain", 415, "unsupported_media_type"),
    (b"prompt=Hi", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
])
def test_malformed_bodies(client: TestClient, content: bytes, ctype: str, status: int, code: str) -> None:
    assert_error(client.post("/generate", content=content, headers={"content-type": ctype}), status, code)


def test_user_errors_from_the_performer_are_4xx_with_position(client: TestClient) -> None:
    err = assert_error(client.post("/generate", json={"prompt": '<speak voice="a man">Hi.</speak>'}), 422,
                       "invalid_script", "prompt")
    assert "line 1, col 1" in err["message"] and "gender" in err["message"]
    err = assert_error(client.post("/generate", json={"prompt": "Hi.", "voice": "nobody"}), 422, "invalid_voice",
                       "voice")
    assert "jf_alpha" in err["message"]  # says what exists
    assert_error(client.post("/generate", json={"prompt": "Hi.", "language": "xx-nope"}), 422, field="language")


def test_ssml_prompt_lexicon_field_and_their_errors(client: TestClient) -> None:
    ssml = ('<speak version="1.1" xmlns="http://www.w3.org/2001/10/synthesis">I ate an apple. '
            '<audio src="/etc/hostname">ding</audio></speak>')
    r = client.post("/generate", json={"prompt": ssml, "validate": False, "lexicon": {"apple": "/bəˈnænə/"}})
    assert r.status_code == 200, r.text
    meta = r.json()["metadata"]
    assert meta["chunks"][0]["text"].startswith("I ate an apple.")
    assert "audio" in not_applied(meta)  # a request never reads the server's files
    err = assert_error(client.post("/generate", json={"prompt": "Hi.", "lexicon": "ok\t/oʊ/\nbad\t/b☃d/"}), 422,
                       "invalid_lexicon", "lexicon")
    assert "line 2" in err["message"] and "☃" in err["message"]
    err = assert_error(client.post("/generate", json={"prompt": '<speak version="1.1">\n<break time="soon"/></speak>'}),
                       422, "invalid_script", "prompt")
    assert "line 2" in err["message"] and 'time="soon"' in err["message"]


def test_routing_errors_keep_the_shape(client: TestClient) -> None:
    assert_error(client.get("/nowhere"), 404, "not_found")
    r = client.get("/generate")
    assert_error(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "POST"
    assert "GET" in client.put("/voices").headers["allow"]


def test_an_unexpected_exception_is_still_the_json_shape() -> None:
    class Broken:  # stands in for a bug: the real performer does not fail this way on valid input
        sample_rate = 24000

        def perform(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("boom")

    app = create_app(Settings.from_env(env={}), performer=Broken())
    with TestClient(app, raise_server_exceptions=False) as c:
        err = assert_error(c.post("/generate", json={"prompt": "Hi."}), 500, "internal_error")
    assert "RuntimeError" in err["message"] and "boom" not in err["message"]  # no internals leak


def test_health_and_voices(client: TestClient) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["engine"] == "kokoro" and health["sample_rate"] == 24000
    assert health["workers"] >= 1 and health["in_flight"] == 0
    voices = client.get("/voices").json()
    names = {v["name"] for v in voices["voices"]}
    assert {"jf_alpha", "jm_kumo"} <= names and voices["default"] in names
    assert set(voices["openai_aliases"]) >= {"alloy", "echo", "fable", "onyx", "nova", "shimmer"}
    assert set(voices["openai_aliases"].values()) <= names


# ----------------------------------------------------------------------------------------------- fuzzing
invalid_bodies = schemathesis.openapi.from_asgi("/openapi.json", APP)
invalid_bodies.config.generation.update(modes=[GenerationMode.NEGATIVE])
valid_bodies = schemathesis.openapi.from_asgi("/openapi.json", APP)
valid_bodies.config.generation.update(modes=[GenerationMode.POSITIVE])


@invalid_bodies.include(method="POST").parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_fuzz_invalid_requests_never_5xx(client: TestClient, case) -> None:
    r = case.call_and_validate()  # default checks include not_a_server_error and negative_data_rejection
    assert r.status_code < 500, r.text


@valid_bodies.parametrize()
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
          phases=[Phase.generate])  # generated bodies only: each valid one is a real synthesis
def test_fuzz_valid_requests_never_5xx(client: TestClient, case) -> None:
    if isinstance(case.body, dict):
        # Keep each real synthesis short: a few characters of the generated text, no Whisper pass and no
        # 15-second voice_design preview (both are covered by the contract tests above). Every other
        # generated field value goes through unchanged.
        for key in ("prompt", "input"):
            if isinstance(case.body.get(key), str):
                case.body[key] = case.body[key][:24]
        if "prompt" in case.body:
            case.body.update(validate=False, mode="generate")
        if "input" in case.body:
            case.body["validate"] = False
    r = case.call(timeout=120)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert r.json()["status"] == "failed"


# ------------------------------------------------------------------------------------------- voice library
needs_library = pytest.mark.skipif(not library_available(),
                                   reason="limelight.voice.library or limelight.voice.clone is not in this build yet, "
                                          "so POST/DELETE /voices are not mounted")


@needs_library
def test_save_use_and_delete_a_cloned_voice(client: TestClient, shared_dir: Path, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LIMELIGHT_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    name = "test_speaker_1688"
    files = {"file": ("ref.flac", (shared_dir / REFERENCE).read_bytes(), "audio/flac")}
    r = client.post("/voices", data={"name": name, "force": "true"}, files=files)
    assert r.status_code == 201, r.text
    assert r.json()["voice"]["name"] == name and r.json()["reference"]["source"] == "upload"
    assert name in {v["name"] for v in client.get("/voices").json()["voices"]}
    assert_error(client.post("/voices", data={"name": name}, files=files), 409, "voice_exists", "name")
    spoken = client.post("/generate", json={"prompt": "Hello.", "voice": name, "validate": False})
    assert spoken.status_code == 200 and spoken.json()["metadata"]["voices"]["speaker1"]["name"] == name
    assert client.delete(f"/voices/{name}").status_code == 200
    assert_error(client.delete(f"/voices/{name}"), 404, "voice_not_found")
    assert_error(client.delete("/voices/jf_alpha"), 409, "voice_builtin")


@needs_library
def test_save_voice_errors(client: TestClient) -> None:
    tone = io.BytesIO()
    sf.write(tone, np.zeros(16000, np.float32), 16000, format="WAV")
    assert_error(client.post("/voices", data={"name": "../etc"}, files={"file": ("a.wav", b"x")}), 422, field="name")
    assert_error(client.post("/voices", data={"name": "alloy"}, files={"file": ("a.wav", b"x")}), 422, field="name")
    assert_error(client.post("/voices", data={"name": "ok_name"}), 422, field="file")
    assert_error(client.post("/voices", data={"name": "ok_name"}, files={"file": ("a.wav", tone.getvalue())}), 422,
                 "invalid_audio")
