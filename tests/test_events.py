"""Non-verbal events rendered from the real voice, measured: audible, plausibly long, never read as words.

Pitch is measured with Praat (parselmouth), independently of the YIN tracker the renderer uses.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy.ndimage import uniform_filter1d

from limelight.direct.direction import Direction
from limelight.direct.events import (
    PAUSE_SECONDS,
    SOUNDING_EVENTS,
    VOICE_MADE_EVENTS,
    add_pauses,
    breath,
    parse_manner,
    render_event,
)
from limelight.script.events import KNOWN_EVENTS

parselmouth = pytest.importorskip("parselmouth")

# Plausible lengths in seconds (a cough is a fraction of a second, a cry or a laugh a second or two).
DURATIONS: dict[str, tuple[float, float]] = {
    "laugh": (0.6, 3.0), "chuckle": (0.3, 1.5), "giggle": (0.5, 2.5), "sigh": (0.6, 2.5), "gasp": (0.15, 0.8),
    "cough": (0.2, 1.5), "sniff": (0.15, 0.8), "groan": (0.4, 2.0), "moan": (0.4, 2.5), "breath": (0.3, 1.2),
    "inhale": (0.25, 1.0), "exhale": (0.3, 1.2), "pant": (0.6, 3.0), "scream": (0.4, 2.5), "cry": (0.6, 3.0),
    "sob": (0.6, 3.0), "yawn": (0.8, 3.0), "hum": (0.6, 3.0), "clear_throat": (0.3, 1.2), "hiccup": (0.05, 0.4),
    "sneeze": (0.4, 1.5), "snort": (0.1, 0.6), "scoff": (0.1, 0.6), "grunt": (0.1, 0.6), "gulp": (0.1, 0.6),
    "whistle": (0.4, 2.0), "shush": (0.4, 2.0), "tsk": (0.1, 0.5), "kiss": (0.05, 0.4), "clap": (0.3, 3.0),
}


def loudest_50ms_db(audio: np.ndarray, sr: int) -> float:
    power = uniform_filter1d(np.square(np.asarray(audio, np.float64)), int(0.05 * sr))
    return float(10 * np.log10(power.max() + 1e-20))


def envelope_rate_hz(audio: np.ndarray, sr: int) -> float:
    """Dominant rate (2–10 Hz) of the 25 ms level envelope: the syllable rate of a laugh."""
    env = np.sqrt(np.maximum(uniform_filter1d(np.square(np.asarray(audio, np.float64)), int(0.025 * sr)), 0))
    env = env[:: sr // 100]
    env = env - env.mean()
    spec = np.abs(np.fft.rfft(env * np.hanning(env.size), 2048)) ** 2
    freqs = np.fft.rfftfreq(2048, 0.01)
    band = (freqs >= 2) & (freqs <= 10)
    return float(freqs[band][np.argmax(spec[band])])


def praat_semitones(audio: np.ndarray, sr: int) -> np.ndarray:
    sound = parselmouth.Sound(np.asarray(audio, np.float64), sampling_frequency=sr)
    f0 = sound.to_pitch_ac(time_step=0.01, pitch_floor=50.0, pitch_ceiling=800.0).selected_array["frequency"]
    return 12 * np.log2(f0[f0 > 0] / 100.0)


@pytest.fixture(scope="module")
def voice(tts):
    return tts.voice(None)


@pytest.fixture(scope="module")
def rendered(tts, voice) -> dict[str, np.ndarray]:
    return {event: render_event(event, voice, tts.sample_rate, tts.engine, np.random.default_rng(7))
            for event in KNOWN_EVENTS}


def test_every_known_event_has_a_rendering():
    assert set(SOUNDING_EVENTS) | set(PAUSE_SECONDS) == set(KNOWN_EVENTS)


def test_events_are_audible_with_plausible_length(rendered, tts):
    sr = tts.sample_rate
    for event in SOUNDING_EVENTS:
        audio = rendered[event]
        seconds = audio.size / sr
        level = loudest_50ms_db(audio, sr)
        print(f"{event:13s} {seconds:5.2f} s, loudest 50 ms {level:6.1f} dBFS, peak {np.max(np.abs(audio)):.2f}")
        assert audio.dtype == np.float32
        lo, hi = DURATIONS[event]
        assert lo <= seconds <= hi, (event, seconds)
        assert level > -40.0, (event, level)
        assert np.max(np.abs(audio)) <= 1.0


def test_pauses_are_silence_of_sensible_length(rendered, tts, voice):
    sr = tts.sample_rate
    assert rendered["pause"].size == int(0.6 * sr) and not rendered["pause"].any()
    assert rendered["long_pause"].size == int(1.5 * sr) and not rendered["long_pause"].any()
    longer = render_event("pause", voice, sr, tts.engine, manner="long")
    assert longer.size > rendered["pause"].size


def test_unknown_event_is_an_error(tts, voice):
    with pytest.raises(ValueError, match="unknown event 'applause_track'"):
        render_event("applause_track", voice, tts.sample_rate, tts.engine)


@pytest.fixture(scope="module")
def listen():
    """Whisper base (the shipped model) decoding at temperature 0 only, with a token cap.

    The shared transcriber re-decodes at up to six temperatures when its output looks repetitive, which is
    what Whisper does on non-speech (hallucinated loops), and that makes each event cost tens of seconds
    on a loaded machine; the first, deterministic decode is the one that would read a word, if any.
    """
    from faster_whisper import WhisperModel
    from scipy.signal import resample_poly

    from limelight.check.asr import whisper_dir

    model = WhisperModel(str(whisper_dir()), device="cpu", compute_type="int8")

    def transcribe(audio: np.ndarray, sr: int) -> str:
        pcm = resample_poly(np.asarray(audio, np.float64), 16_000, sr).astype(np.float32)
        segments, _ = model.transcribe(pcm, language="en", beam_size=5, temperature=0.0, max_new_tokens=32,
                                       vad_filter=False, condition_on_previous_text=False)
        return " ".join(s.text.strip() for s in segments).strip()

    return transcribe


def test_events_are_never_transcribed_as_their_names(rendered, tts, listen):
    """Whisper base listens to each event made from the voice's own syllables (with 0.3 s of silence
    around it): no event's name word may appear. What it writes for non-speech is often a hallucination
    ("Thank you.", "I'm sorry, I'm sorry"), which is fine: the point is that "[laugh]" is never *spoken*
    as "laugh". Events are not grouped into one window, because a hallucinated loop on one would hide what
    Whisper makes of the next; the noise-and-click events (breaths, claps …) get no text or phonemes, so
    they have no words to read out and are left out to keep the test fast."""
    sr = tts.sample_rate
    names = {part for event in KNOWN_EVENTS for part in event.split("_")}
    pattern = re.compile(r"\b(" + "|".join(sorted(names)) + r")(s|es|ed|ing)?\b", re.IGNORECASE)
    pad = np.zeros(int(0.3 * sr), np.float32)
    for event in VOICE_MADE_EVENTS:
        heard = listen(np.concatenate([pad, rendered[event], pad]), sr)
        print(f"{event:13s} -> {heard!r}")
        assert not pattern.search(heard), (event, heard)


@pytest.mark.parametrize("voice_name", [None, "jm_kumo"])
def test_laughter_comes_in_bursts_at_syllable_rate(tts, voice_name):
    sr = tts.sample_rate
    audio = render_event("laugh", tts.voice(voice_name), sr, tts.engine, np.random.default_rng(3))
    rate = envelope_rate_hz(audio, sr)
    print(f"laugh ({voice_name or 'default'}): burst rate {rate:.2f} Hz")
    assert 3.8 <= rate <= 6.5


def test_sigh_falls_and_hum_is_voiced(rendered, tts):
    sr = tts.sample_rate
    st = praat_semitones(rendered["sigh"], sr)
    third = max(1, st.size // 3)
    fall = np.median(st[-third:]) - np.median(st[:third])
    hum_st = praat_semitones(rendered["hum"], sr)
    hum_voiced = hum_st.size * 0.01 / (rendered["hum"].size / sr)
    giggle = np.median(praat_semitones(rendered["giggle"], sr))
    laugh = np.median(praat_semitones(rendered["laugh"], sr))
    print(f"sigh falls {fall:+.1f} st; hum voiced {hum_voiced:.0%} of its length; giggle {giggle - laugh:+.1f} st "
          "above the laugh")
    assert fall < -2.0
    assert hum_voiced > 0.6
    assert giggle > laugh + 2.0


def test_manner_changes_the_event(rendered, tts, voice):
    sr = tts.sample_rate
    long_sigh = render_event("sigh", voice, sr, tts.engine, np.random.default_rng(7), manner="long")
    soft_cough = render_event("cough", voice, sr, tts.engine, np.random.default_rng(7), manner="softly")
    assert long_sigh.size > 1.2 * rendered["sigh"].size
    assert loudest_50ms_db(soft_cough, sr) < loudest_50ms_db(rendered["cough"], sr) - 4
    m = parse_manner("long nervous")
    assert m.length == 1.5 and m.pitch == 2.0 and m.shaky > 0
    assert parse_manner("his") == parse_manner(None)


def test_breaths_are_shaped_noise(tts):
    sr = tts.sample_rate
    rng = np.random.default_rng(1)
    inhale, exhale = breath(sr, "inhale", rng, 0.5), breath(sr, "exhale", rng, 0.5)
    assert inhale.size == exhale.size == sr // 2

    def centroid(x: np.ndarray) -> float:
        spec = np.abs(np.fft.rfft(x)) ** 2
        return float(np.sum(np.fft.rfftfreq(x.size, 1 / sr) * spec) / spec.sum())

    def energy_centre(x: np.ndarray) -> float:
        p = np.square(x)
        return float(np.sum(np.arange(x.size) * p) / p.sum() / x.size)

    print(f"inhale: centroid {centroid(inhale):.0f} Hz, energy centre at {energy_centre(inhale):.0%}; "
          f"exhale: {centroid(exhale):.0f} Hz, {energy_centre(exhale):.0%}")
    assert centroid(inhale) > centroid(exhale)  # air rushing in hisses; breathing out is darker
    assert energy_centre(inhale) > 0.5 > energy_centre(exhale)  # an inhale swells, an exhale decays
    assert -40 < 10 * np.log10(np.mean(inhale**2)) < -28
    with pytest.raises(ValueError):
        breath(sr, "sideways")


def test_pauses_and_breath_around_a_segment(tts):
    sr = tts.sample_rate
    speech = np.full(sr, 0.1, np.float32)
    framed = add_pauses(speech, sr, Direction(pause_before=0.8, breath_before=True, pause_after=0.5))
    assert framed.size == int(0.8 * sr) + sr + int(0.5 * sr)
    before = framed[: int(0.8 * sr)]
    assert 10 * np.log10(np.mean(before**2) + 1e-20) > -50  # an audible inhale in the gap
    assert not framed[-int(0.5 * sr) :].any()
    np.testing.assert_array_equal(add_pauses(speech, sr, Direction()), speech)
