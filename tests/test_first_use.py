"""First-use and start-up costs: cache builds say so once, phrases are remembered on disk, a plain `say` does
not import the heavy stages, and the numpy loudness meter is pyloudnorm's to float precision.
(Speed itself is measured by bench/startup.py, never asserted here.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import limelight.text.embed as embed_module
from limelight.audio.loudness import integrated_lufs

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture()
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LIMELIGHT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("LIMELIGHT_QUIET", raising=False)
    monkeypatch.setattr(embed_module, "_PHRASE_MEMORY", {})
    from limelight import notice

    monkeypatch.setattr(notice, "_seen", set())
    return tmp_path / "cache"


def test_phrases_are_remembered_on_disk_and_read_back_without_the_model(fresh_cache, monkeypatch) -> None:
    texts = ["A deep old man, slow and gravelly", "whispering", "A deep old man, slow and gravelly"]
    first = embed_module.embed_phrases(texts)
    np.testing.assert_allclose(first, embed_module.embed(texts), atol=1e-5)
    assert len(list((fresh_cache / "embeddings" / "phrases").glob("*.npy"))) == 2  # the repeat is stored once
    # a new process: empty memory, and loading the model would fail — the vectors must come from disk
    monkeypatch.setattr(embed_module, "_PHRASE_MEMORY", {})
    monkeypatch.setattr(embed_module, "default_embedder", lambda: (_ for _ in ()).throw(AssertionError("loaded")))
    np.testing.assert_array_equal(embed_module.embed_phrases(texts), first)


def test_a_cache_build_is_announced_once(fresh_cache, capsys) -> None:
    vocab = ["rain on a tin roof", "a busy street", "wind in the trees"]
    a = embed_module.embed_cached(vocab, "test-vocab")
    err = capsys.readouterr().err
    assert err.count("limelight: building the test-vocab embedding cache (3 phrases; once per machine)") == 1
    b = embed_module.embed_cached(vocab, "test-vocab")  # a hit: silent, same vectors
    assert capsys.readouterr().err == "" and np.array_equal(a, b)


def test_numpy_loudness_meter_matches_pyloudnorm(tts) -> None:
    pyloudnorm = pytest.importorskip("pyloudnorm")
    audio = tts.infer("The harbour lights came on one by one, and nobody said a word.", voice="jm_kumo")
    for clip in (audio, audio[: tts.sample_rate], np.concatenate([audio, np.zeros(tts.sample_rate, np.float32)])):
        ref = pyloudnorm.Meter(tts.sample_rate).integrated_loudness(clip.astype(np.float64))
        assert abs(integrated_lufs(clip, tts.sample_rate) - ref) < 1e-3


def test_plain_say_does_not_import_the_heavy_stages(tmp_path) -> None:
    """scipy.signal alone cost 2 s of each `limelight say` on a busy 2-core box; the DSP stages load on use."""
    env = {**os.environ, "PYTHONPATH": str(SRC), "LIMELIGHT_QUIET": "1"}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "limelight", "say", "Hello there.", "-o",
                           str(tmp_path / "x.wav"), "-q"], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "limelight.perform" in imported  # the measure is real
    heavy = {"scipy.signal", "scipy.ndimage", "scipy.stats", "pyloudnorm", "limelight.direct.dsp",
             "limelight.direct.events", "limelight.text.embed"}
    assert not heavy & imported, sorted(heavy & imported)
