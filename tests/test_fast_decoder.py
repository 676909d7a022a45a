"""The fast decoder's signal side and the cut Kokoro graph (limelight.engine.fastdec).

The numpy synthesis that runs at inference must be the same arithmetic as the torch twin the student was
trained through, the pulse train must carry exactly the F0 it is given, and the cut graph must hand the
student what Kokoro's generator would have received.
"""

from __future__ import annotations

import numpy as np
import pytest

from limelight.engine.fastdec import dsp
from limelight.errors import LimelightError


def _f0_track() -> np.ndarray:
    return np.concatenate([np.zeros(6), np.linspace(95, 260, 40), np.full(8, 4.0), np.full(10, 180.0)])


def test_pulse_train_has_the_given_pitch_and_every_harmonic_to_nyquist():
    f0 = np.full(160, 200.0)  # 2 s
    pulse = dsp.harmonic_excitation(f0)
    assert pulse.shape == (160 * dsp.HOP,)
    assert np.mean(pulse**2) == pytest.approx(1.0, rel=0.05)  # unit power, whatever the pitch
    spec = np.abs(np.fft.rfft(pulse[:24_000] * np.hanning(24_000)))  # 1 Hz bins
    harmonics = spec[200:12_000:200]
    between = spec[300:11_900:200]  # half-way between harmonics
    assert harmonics.min() > 100 * between.max()
    assert np.ptp(np.log(harmonics[:-1])) < 0.1  # flat: the student's envelope shapes it


def test_pulse_train_is_silent_where_unvoiced_and_glides_without_clicks():
    f0 = _f0_track()
    pulse = dsp.harmonic_excitation(f0)
    assert np.abs(pulse[: 5 * dsp.HOP]).max() == 0.0
    assert np.abs(pulse[47 * dsp.HOP: 53 * dsp.HOP]).max() == 0.0
    glide = pulse[8 * dsp.HOP: 44 * dsp.HOP]
    # the harmonic count changes ~80 times along the glide; the top harmonic fades, so no sample jumps
    assert np.abs(np.diff(glide)).max() < 2.5 * np.abs(np.diff(dsp.harmonic_excitation(np.full(40, 260.0)))).max()


def test_stft_istft_round_trip():
    x = np.random.default_rng(1).standard_normal(50 * dsp.HOP)
    spec = dsp.stft(x)
    assert spec.shape == (dsp.N_BINS, 51)
    np.testing.assert_allclose(dsp.istft(spec, len(x)), x, atol=1e-9)


def test_numpy_synthesis_matches_the_torch_twin_used_in_training():
    torch = pytest.importorskip("torch")
    from limelight.train.fastdec import model as twin

    f0 = _f0_track()
    np.testing.assert_allclose(twin.harmonic_excitation(torch.tensor(f0)[None], torch.tensor([0.25]))[0].numpy(),
                               dsp.harmonic_excitation(f0, 0.25), atol=2e-4)
    rng = np.random.default_rng(2)
    x = rng.standard_normal(len(f0) * dsp.HOP)
    spec = dsp.stft(x)
    np.testing.assert_allclose(twin.stft(torch.tensor(x)[None])[0].numpy(), spec, atol=1e-4)  # float32 window
    np.testing.assert_allclose(twin.istft(torch.tensor(spec)[None], len(x))[0].numpy(), dsp.istft(spec, len(x)),
                               atol=1e-5)
    # the whole render with the noise spectrum given: the same waveform
    env = rng.normal(-3, 0.5, (2, dsp.N_BINS, len(f0) + 1))
    noise = dsp.noise_spectrum(len(f0) + 1, np.random.default_rng(3))
    ours = dsp.istft(dsp.stft(dsp.harmonic_excitation(f0)) * np.exp(env[0]) + noise * np.exp(env[1]), len(x))
    theirs = twin.render(torch.tensor(env)[None], torch.tensor(f0)[None], None, torch.tensor(noise)[None])
    np.testing.assert_allclose(theirs[0].numpy(), ours, atol=1e-4)


def test_cut_graph_gives_the_generators_inputs():
    import onnxruntime as ort

    from limelight.engine.fastdec.front import F0, FEATURES, front_path
    from limelight.engine.kokoro import KokoroEngine

    engine = KokoroEngine(threads=1)
    ids = engine.tokens(engine.phonemize("Good morning, how are you today?"))
    feeds = {"tokens": np.array([[0, *ids, 0]], np.int64),
             "style": engine.voices()["jm_kumo"].row(len(ids)).astype(np.float32),
             "speed": np.ones(1, np.float32)}
    front = ort.InferenceSession(str(front_path(engine.run_path)), providers=["CPUExecutionProvider"])
    x, f0 = front.run([FEATURES, F0], feeds)
    audio = engine._session.run(None, feeds)[0].reshape(-1)
    assert x.shape[:2] == (1, 512) and f0.shape == (1, x.shape[2])
    assert x.shape[2] * dsp.HOP == audio.size  # one F0 frame per 300 samples of Kokoro's output
    voiced = f0[0][f0[0] > 10]
    assert voiced.size > 0.4 * f0.size and 60 < np.median(voiced) < 300  # a plausible speaking pitch
    assert front_path(engine.run_path) == front_path(engine.run_path)  # cached, not rebuilt


def test_unknown_decoder_is_a_clear_error():
    from limelight.engine import load_engine

    with pytest.raises(LimelightError, match="unknown decoder 'fastest'.*fast, kokoro"):
        load_engine("kokoro", decoder="fastest")
    with pytest.raises(LimelightError, match="unknown decoder 'hifigan'"):
        load_engine("piper", decoder="hifigan")


@pytest.fixture(scope="module")
def fast_engine():
    from limelight.engine.fastdec.decoder import shipped_student
    from limelight.engine.kokoro import KokoroEngine

    if shipped_student() is None:
        pytest.skip("this build ships no student model")
    return KokoroEngine()  # the default decoder is the fast one


def test_fast_decoder_speaks_the_words_in_the_teachers_voice_and_pitch(fast_engine, transcriber, en_sentences):
    """Same cut graph, two decoders: the student must keep the words, the speaker and the F0 contour."""
    from limelight.check.speaker import cosine, embed_speaker
    from limelight.check.wer import word_errors
    from limelight.text.normalize import normalize

    voice = fast_engine.voices()["jf_alpha"]  # a female voice: its harmonics are the sparsest to get right
    teacher_all, student_all, errors, words = [], [], 0, 0
    for text in en_sentences[:4]:
        ids = fast_engine.tokens(fast_engine.phonemize(normalize(text)))
        feeds = {"tokens": np.array([[0, *ids, 0]], np.int64), "style": voice.row(len(ids)).astype(np.float32),
                 "speed": np.ones(1, np.float32)}
        teacher = fast_engine._session.run(None, feeds)[0].reshape(-1)
        student = fast_engine._fast(feeds)
        assert student.shape == teacher.shape and student.dtype == np.float32
        e, n = word_errors(text, transcriber.transcribe(student, dsp.SAMPLE_RATE))
        errors, words = errors + e, words + n
        teacher_all.append(teacher)
        student_all.append(student)
    a, b = np.concatenate(teacher_all), np.concatenate(student_all)
    assert errors / words <= 0.06, f"student WER {errors}/{words}"
    assert cosine(embed_speaker(a, dsp.SAMPLE_RATE), embed_speaker(b, dsp.SAMPLE_RATE)) >= 0.95
    assert abs(10 * np.log10(np.mean(b**2) / np.mean(a**2))) < 1.5  # same loudness
    parselmouth = pytest.importorskip("parselmouth")

    def f0(x):
        pitch = parselmouth.Sound(x.astype(np.float64), dsp.SAMPLE_RATE).to_pitch(0.01, 60, 500)
        return pitch.selected_array["frequency"]

    fa, fb = f0(a), f0(b)
    n = min(len(fa), len(fb))
    both = (fa[:n] > 0) & (fb[:n] > 0)
    assert both.sum() > 200
    assert np.corrcoef(fa[:n][both], fb[:n][both])[0, 1] >= 0.9


def test_fast_decoder_through_the_api_is_deterministic():
    from limelight import Limelight
    from limelight.engine.fastdec.decoder import shipped_student

    if shipped_student() is None:
        pytest.skip("this build ships no student model")
    tts = Limelight(decoder="fast")
    a = tts.infer("Twenty-one ships sailed at dawn.")
    b = tts.infer("Twenty-one ships sailed at dawn.")
    assert a.dtype == np.float32 and a.size > tts.sample_rate  # over a second of audio
    np.testing.assert_array_equal(a, b)  # the noise is seeded


def test_default_falls_back_to_kokoros_generator_when_the_cut_graph_cannot_be_built(monkeypatch):
    """A runtime without the onnx package cannot cut the graph: the default still speaks, a named decoder fails."""
    import limelight.engine.fastdec.decoder as fd
    from limelight.engine.kokoro import KokoroEngine

    def no_onnx(model):
        raise LimelightError("the fast decoder needs the onnx package", field="decoder")

    monkeypatch.setattr(fd, "front_path", no_onnx)
    engine = KokoroEngine(threads=1)
    assert engine.decoder == "kokoro" and not engine.native_pitch
    assert engine.synthesize("Hello there.", engine.voices()["jm_kumo"]).size > 12_000
    with pytest.raises(LimelightError, match="needs the onnx package"):
        KokoroEngine(threads=1, decoder="fast")
