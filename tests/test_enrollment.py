"""Gradient enrollment (``limelight.train.enrollment``): its torch parts agree with the runtime they stand for,
and a few real gradient steps through the synthesiser move a voice towards a real speaker.

Needs torch (the optional extra 'gpu'); skipped without it. The GPU run itself and its results are in
``voice/data/MODEL_CARD.md``; here everything runs on the CPU at toy sizes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (optional extra 'gpu')")
pytest.importorskip("onnx", reason="onnx is not installed")

SR = 24_000


def test_student_rebuilt_from_the_shipped_onnx_matches_the_runtime() -> None:
    import onnxruntime as ort

    from limelight.engine.fastdec.decoder import shipped_student
    from limelight.train.fastdec.train import load_student

    student, step, _ = load_student(None)
    assert step > 0
    rng = np.random.default_rng(0)
    frames = 150
    x = rng.standard_normal((1, 512, frames)).astype(np.float32)
    f0 = np.where(np.arange(frames) < 30, 0.0, 110.0 + 40 * np.sin(np.arange(frames) / 20)).astype(np.float32)[None]
    style = (0.2 * rng.standard_normal((1, 128))).astype(np.float32)
    ref = ort.InferenceSession(str(shipped_student())).run(None, {"x": x, "f0": f0, "style": style})[0]
    with torch.no_grad():
        got = student.net(torch.from_numpy(x), torch.from_numpy(f0), torch.from_numpy(style)).numpy()
    # The runtime re-quantises activations to uint8 on the fly; torch computes in float.
    assert np.abs(got - ref).mean() < 0.05
    assert np.corrcoef(got.ravel(), ref.ravel())[0, 1] > 0.999


def test_torch_speaker_encoder_matches_the_numpy_port(tts) -> None:
    from limelight.check.speaker import cosine, embed_speaker
    from limelight.train.speaker_torch import SpeakerEncoder

    enc = SpeakerEncoder()
    for name in ("jm_kumo", "jf_alpha"):
        audio = tts.engine.synthesize("She opened the old wooden door slowly, listening for a sound.",
                                      tts.voices()[name])
        ref = embed_speaker(audio, SR)
        with torch.no_grad():
            got = enc(torch.from_numpy(audio)[None]).numpy()[0]
        assert cosine(got, ref) > 0.99, name


def test_a_few_gradient_steps_move_a_voice_towards_a_real_speaker(tmp_path: Path, shared_dir: Path) -> None:
    from limelight.engine.model_file import shipped_kokoro
    from limelight.train.enrollment import FitOptions, fit, prepare

    ref = sorted((shared_dir / "voices" / "dev" / "533").glob("*.flac"))[0]
    prepare([ref], tmp_path / "refs.npz", ["dev/533"])
    data = np.load(tmp_path / "refs.npz")
    assert data["colours"].shape == (1, 20) and np.abs(data["colours"]).max() > 1.0
    log: list[str] = []
    summary = fit(tmp_path / "refs.npz", tmp_path / "out.npz", str(shipped_kokoro()), None, "cpu",
                  FitOptions(steps=12, sentences_per_step=2, lr=0.15), log=log.append)
    out = np.load(tmp_path / "out.npz")
    assert out["vectors"].shape == (1, 256) and np.isfinite(out["vectors"]).all()
    assert not np.allclose(out["vectors"], data["starts"])
    # Scored on all six sentences, not only the ones the steps used.
    assert summary["cos_end"] > summary["cos_start"] + 0.01, log
