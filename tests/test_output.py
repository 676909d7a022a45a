"""What leaves limelight: never clipping (true peak) on every path, and files in the format the user named.

Real synthesis throughout; peaks are measured on a 4× oversampled copy, formats by their magic bytes and by
libsndfile reading the rate and channel count back.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from limelight.audio.master import CEILING_DBTP, limit_true_peak, true_peak
from limelight.audio.output import output_spec
from limelight.cli import main
from limelight.errors import LimelightError

CEILING = 10 ** (CEILING_DBTP / 20) + 1e-3
MAGIC = {"wav": (0, b"RIFF"), "flac": (0, b"fLaC"), "ogg": (0, b"OggS"), "opus": (0, b"OggS"), "mp3": None}


def _is_mp3(data: bytes) -> bool:
    return data[:3] == b"ID3" or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


def _check_magic(data: bytes, fmt: str) -> None:
    if fmt == "mp3":
        assert _is_mp3(data), data[:8]
    else:
        offset, magic = MAGIC[fmt]  # type: ignore[misc]
        assert data[offset:offset + len(magic)] == magic, (fmt, data[:8])
    if fmt == "opus":
        assert b"OpusHead" in data[:200]
    if fmt == "ogg":
        assert b"vorbis" in data[:200]


@pytest.fixture(scope="module")
def performer():
    from limelight.serve.state import shared_performer

    return shared_performer("kokoro")  # the same instance the serve tests use


def test_limiter_holds_the_true_peak_and_leaves_quiet_audio_alone() -> None:
    sr = 24000
    t = np.arange(sr) / sr
    quiet = (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    np.testing.assert_array_equal(limit_true_peak(quiet, sr), quiet)
    loud = quiet.copy()
    loud[12000:12050] *= 4.5  # a 1.35 transient
    out = limit_true_peak(loud, sr)
    assert true_peak(loud) > 1.3 and true_peak(out) <= CEILING
    assert np.abs(out[:11000] - loud[:11000]).max() == 0.0  # the gain only dips around the transient


def test_api_infer_never_clips(tts, en_sentences) -> None:
    """Limelight.infer peaked at 1.3–1.44 with jm_kumo before the shared finishing stage."""
    for voice in ("jm_kumo", "jf_alpha"):
        for text in en_sentences[:2]:
            raw = tts.engine.synthesize(text, tts.voice(voice))
            out = tts.infer(text, voice=voice)
            assert true_peak(out) <= CEILING, (voice, text, true_peak(raw), true_peak(out))
    assert true_peak(tts.engine.synthesize(en_sentences[0], tts.voice("jm_kumo"))) > 1.0  # the test can fail


def test_performer_and_shout_never_clip(performer) -> None:
    script = ('<speak voice="jm_kumo" gender="male"><action>Shouting, furious.</action> Get out of my house now!'
              ' [laugh] <action>Quietly.</action> Fine.</speak>')
    perf = performer.perform(script, validate=False, seed=3)
    assert true_peak(perf.audio) <= CEILING


def test_performer_stream_and_scene_mix_never_clip(performer) -> None:
    script = ('<speak voice="jf_alpha" gender="female" scene="A busy train station at rush hour">'
              'The train is late again. <sound>A loud door slam</sound> Of course it is.</speak>')
    perf = performer.perform(script, validate=False, seed=1, background_sfx=True)
    assert perf.stems is not None and np.any(perf.stems["ambience"])
    assert true_peak(perf.audio) <= CEILING
    streamed = np.concatenate(list(performer.stream("Get out! Right now!", validate=False, seed=1,
                                                    voice="jm_kumo")))
    assert true_peak(streamed) <= CEILING


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "opus", "mp3"])
def test_cli_format_by_extension_rate_and_channels(fmt, tmp_path, capsys) -> None:
    out = tmp_path / f"take.{fmt}"
    code = main(["say", "Hello, this is a format test.", "-o", str(out), "--sample-rate", "48000",
                 "--channels", "2", "--voice", "jm_kumo"])
    err = capsys.readouterr().err
    assert code == 0, err
    data = out.read_bytes()
    _check_magic(data, fmt)
    info = sf.info(str(out))
    assert (info.samplerate, info.channels) == (48000, 2), info
    audio, _ = sf.read(str(out), dtype="float32")
    assert 1.0 < len(audio) / 48000 < 5.0
    assert np.abs(audio).max() <= 1.0
    if fmt in ("wav", "flac"):  # lossless: the limiter's ceiling survives the resampler
        assert true_peak(audio[:, 0]) <= CEILING


def test_cli_refuses_an_unknown_extension_before_work(tmp_path, capsys) -> None:
    code = main(["say", "Hi.", "-o", str(tmp_path / "x.aac")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "'.aac'" in err[0] and ".mp3" in err[0], err
    assert not (tmp_path / "x.aac").exists()
    code = main(["say", "Hi.", "-o", str(tmp_path / "x.opus"), "--sample-rate", "44100"])
    assert code == 2 and "opus cannot be written at 44100 Hz" in capsys.readouterr().err


def test_api_writes_the_extensions_format(tts, tmp_path) -> None:
    audio = tts.infer("Format from the API.", path=tmp_path / "a.flac", sample_rate=48000, channels=2)
    info = sf.info(str(tmp_path / "a.flac"))
    assert (info.format, info.samplerate, info.channels) == ("FLAC", 48000, 2)
    assert abs(info.duration - len(audio) / tts.sample_rate) < 0.01
    with pytest.raises(LimelightError, match="channels must be 1 or 2"):
        output_spec("x.wav", channels=3)


def test_generate_returns_the_asked_format(performer) -> None:
    from limelight.serve import Settings, create_app

    app = create_app(Settings.from_env(env={}), performer=performer)
    with TestClient(app) as client:
        r = client.post("/generate", json={"prompt": "Forty-eight kilohertz, in stereo.", "validate": False,
                                           "output_format": "mp3", "sample_rate": 48000, "channels": 2})
        assert r.status_code == 200, r.text
        body = r.json()
        data = base64.b64decode(body["audio"])
        _check_magic(data, "mp3")
        assert body["content_type"] == "audio/mpeg"
        info = sf.info(io.BytesIO(data))
        assert (info.samplerate, info.channels) == (48000, 2)
        audio, _ = sf.read(io.BytesIO(data), dtype="float32")
        assert np.abs(audio).max() <= 1.0
        bad = client.post("/generate", json={"prompt": "Hi.", "output_format": "aac"})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "output_format"
