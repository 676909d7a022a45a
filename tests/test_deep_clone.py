"""Deep clone (``limelight.voice.deep``): the adapter's storage and numpy inference, the alignment, and a fit.

The fit test needs torch (the optional extra 'gpu', like the enrollment tests) and is skipped without it; the
adapter and alignment tests need none. The fit test keeps to a short reference and a few dozen steps so it stays
around a minute on two busy cores; what it checks is direction (nearer its speaker than a same-gender stranger by
two unrelated verifiers), not the benchmark's numbers (``bench/clone_deep.py``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import dev_clip

from limelight.engine.fastdec.adapter import Adapter, NumpyStudent
from limelight.voice.deep import TranscriptError, align, prepare, transcribe_reference
from limelight.voice.library import VoiceLibrary

# Whisper's words for dev/1688/1688-142285-0000 (checked by ear); given so the alignment test needs no ASR
REF_1688 = ("There's iron, they say, in all our blood, and a grain or two perhaps is good, but his, he makes me "
            "harshly feel, has got a little too much of steel, and on.")


def _fast(tts):
    fast = getattr(tts.engine, "_fast", None)
    if fast is None:
        pytest.skip("the fast decoder is not available")
    return fast


def _random_adapter(rng: np.random.Generator, base: str) -> Adapter:
    lora = {f"blocks.{i}.pw1": (rng.standard_normal((4, 256)).astype(np.float32) * 0.05,
                                rng.standard_normal((768, 4)).astype(np.float32) * 0.05) for i in range(2)}
    lora["head"] = (rng.standard_normal((4, 256)).astype(np.float32) * 0.05,
                    rng.standard_normal((1202, 4)).astype(np.float32) * 0.05)
    return Adapter(lora=lora, style=rng.standard_normal(128).astype(np.float32) * 0.1,
                   head_bias=rng.standard_normal(1202).astype(np.float32) * 0.1, base=base, meta={"fit": {"steps": 3}})


def test_adapter_round_trip_library_and_inference(tts, tmp_path: Path) -> None:
    """Saved and loaded with its voice (float16 factors), refused when damaged or for another decoder, and
    applied: a zero change speaks exactly like the numpy base student, which speaks like the int8 ONNX."""
    from dataclasses import replace

    from limelight.errors import LimelightError, VoiceError

    fast = _fast(tts)
    rng = np.random.default_rng(0)
    ad = _random_adapter(rng, fast.student_id)
    back = Adapter.from_bytes(ad.to_bytes())
    assert set(back.lora) == set(ad.lora) and back.base == ad.base and back.meta == ad.meta
    for k, (a, b) in ad.lora.items():
        np.testing.assert_allclose(back.lora[k][0], a, atol=1e-3)
        np.testing.assert_allclose(back.lora[k][1], b, atol=1e-3)
    np.testing.assert_allclose(back.style, ad.style, atol=1e-6)
    assert 0 < len(ad.to_bytes()) < 200_000

    voice = replace(tts.voices()["jm_kumo"], name="deep_test", source="deep", adapter=back)
    lib = VoiceLibrary(tmp_path)
    lib.save(voice)
    loaded = lib.load("deep_test")
    assert loaded.adapter is not None and set(loaded.adapter.lora) == set(ad.lora)
    lib.save(replace(loaded, adapter=None), force=True)  # replaced by a plain voice: the old adapter goes
    assert lib.load("deep_test").adapter is None
    with pytest.raises(VoiceError, match="damaged"):
        Adapter.from_bytes(b"garbage")
    header_v2 = ad.to_bytes().replace(b'"version": 1', b'"version": 9')
    if header_v2 != ad.to_bytes():  # (the header is compressed inside the npz; only checked when visible)
        with pytest.raises(VoiceError):
            Adapter.from_bytes(header_v2)

    x = rng.standard_normal((1, 512, 160)).astype(np.float32)
    f0 = np.full((1, 160), 120.0, np.float32)
    style = voice.row(50)[:, :128]
    onnx_env = fast.student.run(None, {"x": x, "f0": f0, "style": style})[0]
    base = NumpyStudent(fast.student_path)(x, f0, style)
    assert np.abs(base - onnx_env).mean() < 0.05  # int8 activations vs float: a fraction of a dB
    zero = Adapter(lora={k: (a, np.zeros_like(b)) for k, (a, b) in ad.lora.items()}, base=fast.student_id)
    np.testing.assert_allclose(NumpyStudent(fast.student_path, zero)(x, f0, style), base, atol=1e-5)
    adapted = NumpyStudent(fast.student_path, back)(x, f0, style)
    assert np.abs(adapted - base).mean() > 0.01

    plain = tts.engine.synthesize("A short test.", tts.voices()["jm_kumo"])
    deep = tts.engine.synthesize("A short test.", voice)
    assert abs(len(deep) - len(plain)) < 0.1 * len(plain) and np.isfinite(deep).all()  # silence trim may differ
    n = min(len(deep), len(plain))
    assert not np.allclose(deep[:n], plain[:n], atol=1e-3)
    with pytest.raises(LimelightError, match="another fast decoder"):
        tts.engine.synthesize("A short test.", replace(voice, adapter=replace(back, base="0" * 16)))


def test_alignment_recovers_a_known_warp(tts) -> None:
    """One sentence, two timbres (jf_alpha; jm_kumo's timbre half on jf_alpha's prosody half, so the frame
    timing is the same), and 0.25 s of silence inserted into the second: DTW finds the identity, the pause and
    the shift after it."""
    fast = _fast(tts)
    eng = tts.engine
    ids = eng.tokens(eng.phonemize("The quick brown fox jumps over the lazy dog near the old river bank."))
    alpha, kumo = tts.voices()["jf_alpha"].row(len(ids)), tts.voices()["jm_kumo"].row(len(ids))
    outs = []
    for style in (alpha, np.concatenate([kumo[:, :128], alpha[:, 128:]], axis=1)):
        feeds = {"tokens": np.array([[0, *ids, 0]], np.int64), "style": style, "speed": np.array([1.0], np.float32)}
        x, f0 = fast.features(feeds)
        outs.append(fast.decode(x, f0, style))
    m, gap = (len(outs[1]) // 300) // 2, 20
    b = np.concatenate([outs[1][: m * 300], np.zeros(gap * 300, np.float32), outs[1][m * 300:]])
    al = align(outs[0], b, 7600.0)
    j = np.arange(len(al.index))
    expected = np.where(j < m, j, np.where(j < m + gap, m, j - gap))
    err = np.abs(al.index - expected)
    assert np.median(err) < 2.0 and np.mean(err < 5) > 0.85  # frames of 12.5 ms
    assert np.all(np.diff(al.index) >= 0)


def test_alignment_of_a_real_clip_prefers_its_own_words(tts, shared_dir: Path) -> None:
    """On a real LibriSpeech clip the right transcript aligns better than someone else's words, and the
    reference's F0 and level land on the decoder's frame grid."""
    from limelight.voice.clone import clone_voice

    audio, sr = dev_clip(shared_dir, "1688", 0)
    voice = clone_voice(audio, sr, "t1688", engine=tts.engine, calibrated=False)
    right = prepare(audio, sr, voice, tts.engine, transcript=REF_1688)
    wrong = prepare(audio, sr, voice, tts.engine, transcript=(
        "Please call Stella and ask her to bring these things with her from the store: six spoons of fresh "
        "snow peas, five thick slabs of blue cheese, and maybe a snack for her brother Bob."))
    assert right.align_cost < wrong.align_cost - 0.03
    seg = right.segment
    assert seg.x.shape == (512, seg.f0.shape[0]) and seg.audio.shape[0] == seg.f0.shape[0] * 300
    voiced = seg.f0[seg.f0 > 0]
    assert voiced.size > 0.2 * seg.f0.size and 70 < np.median(voiced) < 200  # a man's voice
    assert 0.7 < right.speed < 1.5


def test_unreliable_transcript_is_refused(shared_dir: Path) -> None:
    rng = np.random.default_rng(1)
    noise = (rng.standard_normal(16000 * 5) * 0.1).astype(np.float32)
    with pytest.raises(TranscriptError, match="--transcript"):
        transcribe_reference(noise, 16000)


def test_deep_clone_is_nearer_its_speaker_than_a_stranger(tts, shared_dir: Path) -> None:
    """A short fit moves the clone towards its speaker by Resemblyzer and by the cepstral verifier."""
    pytest.importorskip("torch", reason="torch is not installed (optional extra 'gpu')")
    from limelight.check.cepstral import cepstral_vector
    from limelight.check.speaker import embed_speaker
    from limelight.train.adapter import FitOptions
    from limelight.voice.deep import deep_clone_voice

    audio, sr = dev_clip(shared_dir, "1688", 0)
    others = [dev_clip(shared_dir, "1688", i) for i in (1, 2, 3)]
    strangers = sorted((shared_dir / "voices" / "train").glob("*.flac"))
    import csv

    with open(shared_dir / "voices" / "manifest.csv") as fh:
        male = {r["file"] for r in csv.DictReader(fh) if r["gender"] == "M"}
    strangers = [p for p in strangers if f"train/{p.name}" in male][:6]
    voice = deep_clone_voice([(audio, sr, REF_1688)], "deep1688", engine=tts.engine,
                             options=FitOptions(steps=40, budget_s=120.0))
    assert voice.adapter is not None and voice.source == "deep" and voice.meta["deep"]["fit"]["steps"] > 0
    speech = np.concatenate([tts.engine.synthesize(s, voice) for s in (
        "Could you tell me how far it is from here to the nearest train station?",
        "We walked along the shore until the lights of the town came into view.")])
    for embed in (embed_speaker, cepstral_vector):
        clone = embed(speech, tts.sample_rate)
        targets = [embed(a, r) for a, r in others]
        s_clone = float(np.mean([clone @ t for t in targets]))
        s_stranger = float(np.mean([[embed(*sf.read(p, dtype="float32")) @ t for t in targets]
                                    for p in strangers]))
        assert s_clone > s_stranger, f"{embed.__name__}: clone {s_clone:.3f} vs stranger {s_stranger:.3f}"


def test_cli_clone_deep_inputs_fail_clearly(tmp_path: Path, capsys, monkeypatch, shared_dir: Path) -> None:
    """Bad deep-clone inputs end with exit 2 and one line naming the problem, before any fitting."""
    from limelight.cli import main

    monkeypatch.setenv("LIMELIGHT_HOME", str(tmp_path / "home"))
    ref = sorted((shared_dir / "voices" / "dev" / "3080").glob("*.flac"))[0]
    cases = [
        (["clone", str(ref), str(ref), "--name", "two"], "several references need --deep"),
        (["clone", "--name", "none"], "give a reference audio file"),
        (["clone", "--deep", "--name", "d", "--dataset", str(tmp_path / "missing.txt")], "cannot read dataset"),
    ]
    empty = tmp_path / "empty.txt"
    empty.write_text("# only a comment\n")
    cases.append((["clone", "--deep", "--name", "d", "--dataset", str(empty)], "lists no audio"))
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{ref}|some words\nnot_there.flac|other words\n")
    cases.append((["clone", "--deep", "--name", "d", "--dataset", str(bad)], "not_there.flac"))
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
