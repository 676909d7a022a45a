"""Non-verbal events (``[laugh]``, ``[sigh]``, ``[cough]`` …) as sounds, and audible breaths and pauses.

An event token must be *heard*, never read out and never dropped. Sounds made by the voice itself
(laughs, sighs, groans, hums, cries) are built from the speaker's own voice: Kokoro says a short
nonsense syllable string ("hˈɑhɑhɑhɑ" has a natural 5 Hz laugh rhythm), and the DSP bends it (pitch
contour, breath, tremble, envelope) into the event, so the laugh has the speaker's timbre. Sounds that are
mostly air or the body (breaths, gasps, coughs, sniffs, clicks, claps) are shaped noise; where the mouth
shapes the air (a gasp, a cough) the noise takes the speaker's vowel envelope.

Levels are absolute (dBFS RMS), set against Kokoro's speech at about −20 dBFS: a laugh sits a little
under speech, a breath 14 dB under it, a scream above it (peak-limited).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from math import gcd
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.signal import butter, iirpeak, lfilter, resample_poly, sosfilt

from ..script.events import KNOWN_EVENTS
from .direction import Direction
from .dsp import apply_direction, compress, limit, reshape_pitch, shaped_noise, tilt, track_f0

if TYPE_CHECKING:  # typing only: importing the engine package would load onnxruntime for the DSP alone
    from ..engine.base import Engine
    from ..voice import Voice

# --------------------------------------------------------------------------------------- breaths ---
BREATH_KINDS = ("inhale", "exhale")


def breath(sr: int, kind: str = "inhale", rng: np.random.Generator | None = None, duration: float | None = None,
           level_db: float = -34.0) -> np.ndarray:
    """An audible breath: noise through a few broad vocal-tract resonances, under a breath-like envelope.

    An inhale is hissier (air rushing in past the teeth and tongue: resonances ~0.7/1.8/3.2 kHz) and swells
    until it stops; an exhale is darker and decays. ``level_db`` is the RMS in dBFS (speech ≈ −20).
    """
    if kind not in BREATH_KINDS:
        raise ValueError(f"breath kind must be one of {', '.join(BREATH_KINDS)}, got {kind!r}")
    rng = rng if rng is not None else np.random.default_rng(0)
    seconds = duration if duration is not None else (0.45 if kind == "inhale" else 0.55)
    n = max(1, int(seconds * sr))
    jitter = 1 + 0.08 * rng.standard_normal(3)
    if kind == "inhale":
        centres, weights, q = np.array([700.0, 1800.0, 3200.0]) * jitter, (0.6, 1.0, 0.8), 2.0
    else:
        centres, weights, q = np.array([450.0, 1300.0, 2500.0]) * jitter, (1.0, 0.8, 0.4), 1.6
    noise = _resonate(rng.standard_normal(n), sr, centres, weights, q)
    noise = sosfilt(butter(2, 150.0, btype="highpass", fs=sr, output="sos"), noise)
    t = np.linspace(0.0, 1.0, n)
    if kind == "inhale":
        env = np.where(t < 0.75, np.sin(0.5 * np.pi * t / 0.75) ** 1.5, np.cos(0.5 * np.pi * (t - 0.75) / 0.25))
    else:
        env = np.minimum(t / 0.12, 1.0) ** 0.7 * np.exp(-2.2 * t) * np.minimum((1 - t) / 0.1, 1.0)
    flutter = 1 + 0.15 * _smooth_noise(n, sr, 12.0, rng)
    return _at_level(noise * env * flutter, level_db)


def silence(sr: int, seconds: float) -> np.ndarray:
    """``seconds`` of digital silence (float32)."""
    return np.zeros(max(0, int(round(seconds * sr))), np.float32)


def add_pauses(audio: np.ndarray, sr: int, direction: Direction, rng: np.random.Generator | None = None) -> np.ndarray:
    """Frame a directed segment with what its Direction asks around it: ``pause_before`` of silence (with an
    audible inhale at its end when ``breath_before``), then the audio, then ``pause_after``.

    A breath needs time: with ``breath_before`` the gap is at least the inhale plus 0.1 s.
    """
    parts = []
    before = direction.pause_before
    if direction.breath_before:
        inhale = breath(sr, "inhale", rng)
        gap = max(before, inhale.size / sr + 0.1)
        parts += [silence(sr, gap - inhale.size / sr - 0.05), inhale, silence(sr, 0.05)]
    elif before > 0:
        parts.append(silence(sr, before))
    parts.append(np.asarray(audio, np.float32).reshape(-1))
    if direction.pause_after > 0:
        parts.append(silence(sr, direction.pause_after))
    return np.concatenate(parts).astype(np.float32)


# ------------------------------------------------------------------------------------------ manner ---
@dataclass(frozen=True)
class Manner:
    """How an event is done (``[long sigh]``, ``[laughs nervously]``): duration multiplier, level change,
    pitch change in semitones, shakiness 0..1."""

    length: float = 1.0
    gain_db: float = 0.0
    pitch: float = 0.0
    shaky: float = 0.0


_MANNER_WORDS: dict[str, Manner] = {}
for _words, _m in (
    (("long", "prolonged", "extended"), Manner(length=1.5)),
    (("deep", "heavy", "big"), Manner(length=1.35, gain_db=2.0, pitch=-1.0)),
    (("short", "quick", "brief", "sharp", "sharply", "quickly", "briefly", "sudden", "suddenly"), Manner(length=0.65)),
    (("little", "small", "slight", "slightly", "tiny"), Manner(length=0.7, gain_db=-4.0)),
    (("soft", "softly", "quiet", "quietly", "gentle", "gently", "faint", "faintly"), Manner(gain_db=-6.0)),
    (("loud", "loudly", "hearty", "heartily", "big"), Manner(gain_db=5.0, length=1.2)),
    (("nervous", "nervously", "anxious", "anxiously", "shaky", "shakily"), Manner(pitch=2.0, shaky=0.6)),
    (("sad", "sadly", "bitter", "bitterly", "weak", "weakly"), Manner(pitch=-1.5, gain_db=-2.0)),
    (("happy", "happily", "warm", "warmly", "bright", "brightly"), Manner(pitch=1.5)),
    (("tired", "tiredly", "weary", "wearily", "exhausted"), Manner(length=1.3, pitch=-2.0, gain_db=-3.0)),
    (("dry", "dryly", "awkward", "awkwardly"), Manner(length=0.75, gain_db=-3.0)),
    (("hysterical", "hysterically", "uncontrollable", "uncontrollably", "wild", "wildly"),
     Manner(length=1.7, gain_db=4.0, pitch=2.5, shaky=0.3)),
):
    for _w in _words:
        _MANNER_WORDS.setdefault(_w, _m)


def parse_manner(text: str | None) -> Manner:
    """Combine the known modifier words in ``text`` (lengths multiply, dB and semitones add); other words
    ("his", "again") carry no acoustic meaning here and are ignored."""
    out = Manner()
    for word in (text or "").lower().replace("-", " ").split():
        m = _MANNER_WORDS.get(word.strip(".,!?;:"))
        if m is not None:
            out = Manner(out.length * m.length, out.gain_db + m.gain_db, out.pitch + m.pitch, max(out.shaky, m.shaky))
    return replace(out, length=float(np.clip(out.length, 0.4, 2.5)))


# ---------------------------------------------------------------------------------- rendering ---
@dataclass
class _Ctx:
    """What every renderer needs: where to get the voice's sounds, the rate, randomness and manner."""

    voice: Voice
    sr: int
    engine: Engine
    rng: np.random.Generator
    manner: Manner

    def vocal(self, phonemes: str, speed: float = 1.0) -> np.ndarray:
        """The voice saying ``phonemes`` (cached per voice), at ``self.sr``, float64."""
        audio = _vocal_cached(self.engine, self.voice, phonemes, float(np.clip(speed, 0.3, 3.0)))
        rate = int(self.engine.sample_rate)
        if rate != self.sr:
            g = gcd(rate, self.sr)
            audio = resample_poly(audio, self.sr // g, rate // g)
        return np.asarray(audio, np.float64)

    def n(self, seconds: float) -> int:
        return max(1, int(round(seconds * self.sr)))

    def noise(self, seconds: float) -> np.ndarray:
        return self.rng.standard_normal(self.n(seconds))

    def white(self, n: int) -> np.ndarray:
        return self.rng.standard_normal(n)


_CACHE: OrderedDict[tuple[object, ...], np.ndarray] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 96


def _vocal_cached(engine: Engine, voice: Voice, phonemes: str, speed: float) -> np.ndarray:
    """Vocalisations repeat (every [laugh] of a speaker starts from the same syllables): synthesise once."""
    style = np.ascontiguousarray(getattr(voice, "style", np.zeros(1)))
    key = (id(engine), getattr(voice, "name", ""), hashlib.blake2b(style.tobytes(), digest_size=8).hexdigest(),
           phonemes, round(speed, 3))
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    audio = np.asarray(engine.synthesize_phonemes(phonemes, voice, speed), np.float32)
    audio.setflags(write=False)
    with _CACHE_LOCK:
        _CACHE[key] = audio
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return audio


def _voice_it(c: _Ctx, audio: np.ndarray, contour: Callable[[np.ndarray], np.ndarray] | float = 0.0,
              breathiness: float = 0.0, tremble: float = 0.0, tilt_db: float = 0.0,
              keep_range: float = 1.0) -> np.ndarray:
    """Bend a vocal sample: intonation ``contour`` (semitones over time, plus the manner's pitch) on top of
    ``keep_range`` of the sample's own intonation, then breath, tremble (plus the manner's shakiness) and
    tilt through the direction DSP."""
    fn = contour if callable(contour) else (lambda t, k=float(contour): np.full(t.shape, k))

    def shifted(t: np.ndarray) -> np.ndarray:
        return fn(t) + c.manner.pitch

    y = reshape_pitch(audio, c.sr, shifted, keep_range=keep_range)
    d = Direction(breathiness=float(np.clip(breathiness, 0, 1)),
                  tremble=float(np.clip(max(tremble, c.manner.shaky), 0, 1)), tilt_db=tilt_db)
    return apply_direction(y, c.sr, d, c.rng).astype(np.float64)


def _pulse(c: _Ctx, x: np.ndarray, amount: float = 1.0) -> np.ndarray:
    """Deepen the syllable rhythm: expand the 25 ms envelope (dB differences × (1 + amount)), so the
    breathy gaps between laugh syllables drop out and the bursts stand apart."""
    env = np.sqrt(np.maximum(uniform_filter1d(np.square(x), c.n(0.025), mode="nearest"), 0.0)) + 1e-9
    gain = (env / env.max()) ** amount
    return x * gain


def _line(points: list[tuple[float, float]]) -> Callable[[np.ndarray], np.ndarray]:
    """An intonation contour through (seconds, semitones) points, flat outside them."""
    xs, ys = zip(*points, strict=True)
    return lambda t: np.interp(t, xs, ys)


# A few syllables serve many events (and are cached per voice), so a script full of events costs a
# handful of short syntheses: "ha" and "hee" (laughs, hiccups), an open breathy "haah" (sighs, gasps,
# yawns, sneezes), a closed "uhm" (groans, coughs, grunts), a wailing "oo-hoo", a hummed "mm".
_AH, _AH_SPEED = "hˈɑːː", 0.75
_UHM, _UHM_SPEED = "ˈʌːːm", 0.7
_CRY, _CRY_SPEED = "ˈuːhuːhuː", 0.85
_MM, _MM_SPEED = "mːːːː", 0.6


# Voice-made events --------------------------------------------------------------------------------------
def _syllable(c: _Ctx, phonemes: str, vowel_s: float) -> np.ndarray:
    """One laugh syllable: a strong breathy "h" running into ``vowel_s`` of the voice's own vowel.

    Kokoro's /h/ is 25 dB under its vowel, so the vowel starts like a stop ("puh"); in a laugh the air
    comes first. The "h" is therefore rebuilt as a whispered copy of the vowel (noise with its spectral
    envelope) swelling for 60 ms into a soft vowel onset.
    """
    audio = c.vocal(phonemes)
    voiced = np.flatnonzero(track_f0(audio, c.sr).voiced)
    onset = int(voiced[0]) * c.n(0.005) if voiced.size else audio.size // 3
    vowel = _fade(c, audio[onset : onset + c.n(vowel_s)], 0.03, 0.05)
    lead, overlap = c.n(0.06), c.n(0.025)
    air = shaped_noise(vowel, c.sr, c.rng)[: lead + overlap]
    air = _at_level(air, 20 * np.log10(np.sqrt(np.mean(vowel**2)) + 1e-12) - 6.0)
    ramp = np.concatenate([np.sin(0.5 * np.pi * np.linspace(0, 1, lead)) ** 2,
                           np.cos(0.5 * np.pi * np.linspace(0, 1, air.size - lead)) ** 2])
    out = np.zeros(lead + vowel.size)
    out[: air.size] += air * ramp[: air.size]
    out[lead:] += vowel
    return out


def _syllable_train(c: _Ctx, unit: np.ndarray, count: int, rate_hz: float, pitch: tuple[float, float],
                    breathiness: float, decay: float) -> np.ndarray:
    """``count`` copies of a syllable at ``rate_hz`` (laughter runs at 4–6 syllables a second), each a
    little lower (pitch from ``pitch[0]`` to ``pitch[1]`` semitones) and quieter, with small random
    variation in timing, pitch and level so it does not sound looped."""
    period = c.n(1.0 / rate_hz)
    out = np.zeros(period * (count - 1) + unit.size + c.n(0.05))
    for i in range(count):
        frac = i / max(1, count - 1)
        semis = pitch[0] + (pitch[1] - pitch[0]) * frac + 0.4 * c.rng.standard_normal()
        syl = _voice_it(c, unit, semis, keep_range=0.3)
        at = max(0, i * period + int(0.06 * period * c.rng.standard_normal()))
        gain = (1 - decay * frac) * 10 ** (0.08 * c.rng.standard_normal())
        out[at : at + syl.size] += gain * syl[: out.size - at]
    return _voice_it(c, out, 0.0, breathiness=breathiness) if breathiness > 0 else out


def _laugh(c: _Ctx) -> np.ndarray:
    count = int(np.clip(round(5 * c.manner.length), 2, 12))
    train = _syllable_train(c, _syllable(c, "hˈɑ", 0.11), count, 4.8, (3.0, -1.0), 0.55, 0.5)
    return _join(c, [train, breath(c.sr, "inhale", c.rng, 0.35, level_db=-40.0)], gap=0.0)


def _chuckle(c: _Ctx) -> np.ndarray:
    count = int(np.clip(round(3 * c.manner.length), 2, 8))
    train = _syllable_train(c, _syllable(c, "hˈɑ", 0.07), count, 5.5, (-2.0, -3.5), 0.8, 0.4)
    return tilt(train, c.sr, -6.0)


def _giggle(c: _Ctx) -> np.ndarray:
    count = int(np.clip(round(6 * c.manner.length), 3, 14))
    return _syllable_train(c, _syllable(c, "hˈi", 0.07), count, 6.3, (5.0, 3.5), 0.45, 0.3)


def _sigh(c: _Ctx) -> np.ndarray:
    base = c.vocal(_AH, speed=_AH_SPEED / c.manner.length)
    dur = base.size / c.sr
    y = _voice_it(c, base, _line([(0.0, 1.0), (dur, -5.0)]), breathiness=0.9, tilt_db=-3.0, keep_range=0.0)
    y *= np.exp(-2.0 * np.linspace(0, 1, y.size))
    inhale = breath(c.sr, "inhale", c.rng, 0.4 * c.manner.length, level_db=-36.0)
    exhale = breath(c.sr, "exhale", c.rng, 0.5 * c.manner.length, level_db=-40.0)
    return _join(c, [_at_level(inhale, -36.0), _at_level(y, -28.0) + _pad(exhale, y.size)], gap=0.08)


def _groan(c: _Ctx) -> np.ndarray:
    base = c.vocal(_UHM, speed=_UHM_SPEED / c.manner.length)
    dur = base.size / c.sr
    y = _voice_it(c, base, _line([(0.0, -2.0), (dur, -7.0)]), breathiness=0.3, tremble=0.25, keep_range=0.0)
    return _fade(c, y, 0.05, 0.15)


def _moan(c: _Ctx) -> np.ndarray:
    base = c.vocal(_UHM, speed=_UHM_SPEED / c.manner.length)
    dur = base.size / c.sr
    contour = _line([(0.0, 0.0), (0.35 * dur, 2.5), (dur, -3.0)])
    return _fade(c, _voice_it(c, base, contour, breathiness=0.45, keep_range=0.0), 0.08, 0.2)


def _scream(c: _Ctx) -> np.ndarray:
    base = c.vocal("ˈɑːːː", speed=0.75 / c.manner.length)
    dur = base.size / c.sr
    y = _voice_it(c, base, _line([(0.0, 8.0), (0.4 * dur, 10.0), (dur, 7.0)]), breathiness=0.2, tremble=0.2,
                  tilt_db=8.0, keep_range=0.0)
    return _fade(c, compress(y, c.sr, 5.0), 0.03, 0.12)


def _cry(c: _Ctx) -> np.ndarray:
    base = c.vocal(_CRY, speed=_CRY_SPEED / c.manner.length)
    dur = base.size / c.sr
    y = _voice_it(c, base, _line([(0.0, 4.0), (0.3 * dur, 5.5), (dur, 2.0)]), breathiness=0.6, tremble=1.0,
                  keep_range=0.3)
    return _join(c, [_fade(c, y, 0.04, 0.15), breath(c.sr, "inhale", c.rng, 0.25, level_db=-34.0)], gap=0.06)


def _sob(c: _Ctx) -> np.ndarray:
    base = c.vocal(_CRY, speed=_CRY_SPEED)
    y = _voice_it(c, base, 3.0, breathiness=0.7, tremble=0.8)
    count = int(np.clip(round(3 * c.manner.length), 2, 6))
    piece = max(1, y.size // 3)
    parts: list[np.ndarray] = []
    for i in range(count):
        parts.append(breath(c.sr, "inhale", c.rng, 0.14 + 0.04 * c.rng.random(), level_db=-32.0))
        chunk = y[(i % 3) * piece : (i % 3) * piece + c.n(0.24)]
        parts.append(_fade(c, chunk * np.exp(-3 * np.linspace(0, 1, chunk.size)), 0.01, 0.05))
    return _join(c, parts, gap=0.03)


def _yawn(c: _Ctx) -> np.ndarray:
    base = c.vocal(_AH, speed=_AH_SPEED / c.manner.length)
    dur = base.size / c.sr
    y = _voice_it(c, base, _line([(0.0, 1.0), (0.3 * dur, 3.0), (dur, -5.0)]), breathiness=0.6, tilt_db=-2.0,
                  keep_range=0.0)
    inhale = _at_level(shaped_noise(base, c.sr, c.rng)[: c.n(0.6 * c.manner.length)], -34.0)
    return _join(c, [_fade(c, inhale, 0.2, 0.05), _fade(c, y, 0.05, 0.3)], gap=0.0)


def _hum(c: _Ctx) -> np.ndarray:
    base = c.vocal(_MM, speed=_MM_SPEED / c.manner.length)
    dur = base.size / c.sr
    tune = [0.0, 2.0, 4.0, 2.0, 0.0]
    points = [(dur * (i + f) / len(tune), s) for i, s in enumerate(tune) for f in (0.15, 0.85)]
    return _fade(c, _voice_it(c, base, _line(points), breathiness=0.1, keep_range=0.0), 0.05, 0.12)


def _grunt(c: _Ctx) -> np.ndarray:
    base = c.vocal(_UHM, speed=_UHM_SPEED)[: c.n(0.25 * c.manner.length)]
    y = _voice_it(c, base, -5.0, breathiness=0.2) * _rough(c, base.size, 45.0, 0.5)
    return _fade(c, compress(y, c.sr, 4.0) * np.exp(-2.5 * np.linspace(0, 1, y.size)), 0.005, 0.03)


def _clear_throat(c: _Ctx) -> np.ndarray:
    vowel = c.vocal(_UHM, speed=_UHM_SPEED)
    rasp = shaped_noise(vowel, c.sr, c.rng)[: c.n(0.14)]
    rasp = sosfilt(butter(2, 2000.0, fs=c.sr, output="sos"), rasp) * _rough(c, rasp.size, 32.0, 0.9)
    voiced = _voice_it(c, vowel[: c.n(0.32 * c.manner.length)], -4.0, breathiness=0.3)
    voiced = voiced * _rough(c, voiced.size, 40.0, 0.6) * np.exp(-1.5 * np.linspace(0, 1, voiced.size))
    return _join(c, [_fade(c, _at_level(rasp, -24.0), 0.01, 0.03), _fade(c, _at_level(voiced, -24.0), 0.01, 0.06)],
                 gap=0.05)


def _hiccup(c: _Ctx) -> np.ndarray:
    unit = _syllable(c, "hˈi", 0.1)
    blip = _voice_it(c, unit[c.n(0.05) : c.n(0.13)], 5.0)
    click = _band(c.noise(0.012), c.sr, 300.0, 4000.0) * np.exp(-np.linspace(0, 6, c.n(0.012)))
    return _join(c, [_at_level(click, -22.0), _fade(c, _at_level(blip, -24.0), 0.003, 0.02)], gap=0.0)


def _sneeze(c: _Ctx) -> np.ndarray:
    base = c.vocal(_AH, speed=_AH_SPEED)
    dur = base.size / c.sr
    build = _voice_it(c, base, _line([(0.0, 0.0), (dur, 6.0)]), breathiness=0.5, keep_range=0.0)
    burst = _band(c.noise(0.3 * c.manner.length), c.sr, 1200.0, 9000.0)
    burst = burst * np.exp(-np.linspace(0, 5, burst.size)) * np.minimum(np.arange(burst.size) / c.n(0.005), 1.0)
    return _join(c, [_fade(c, _at_level(build, -26.0), 0.05, 0.02), _at_level(burst, -16.0)], gap=0.07)


def _scoff(c: _Ctx) -> np.ndarray:
    puff = _band(c.noise(0.16 * c.manner.length), c.sr, 300.0, 3000.0)
    puff = puff * np.exp(-np.linspace(0, 4, puff.size)) * np.minimum(np.arange(puff.size) / c.n(0.004), 1.0)
    hum = c.vocal(_MM, speed=_MM_SPEED)
    m = _voice_it(c, hum[: c.n(0.15)], -2.0) * np.exp(-np.linspace(0, 3, c.n(0.15)))
    return _at_level(puff, -30.0) + _pad(_at_level(m, -36.0), puff.size)


# Air and body -----------------------------------------------------------------------------------------------
def _gasp(c: _Ctx) -> np.ndarray:
    vowel = c.vocal(_AH, speed=_AH_SPEED)
    air = shaped_noise(vowel, c.sr, c.rng)
    start = air.size // 4
    seg = air[start : start + c.n(0.3 * c.manner.length)]
    seg = seg + 0.5 * breath(c.sr, "inhale", c.rng, seg.size / c.sr, level_db=-20.0)[: seg.size]
    t = np.linspace(0, 1, seg.size)
    env = np.minimum(t / 0.15, 1.0) * np.minimum((1 - t) / 0.05, 1.0)
    return seg * env


def _cough(c: _Ctx) -> np.ndarray:
    vowel = c.vocal(_UHM, speed=_UHM_SPEED)
    rough = shaped_noise(vowel, c.sr, c.rng)
    voiced = _voice_it(c, vowel, -3.0)
    count = int(np.clip(round(2 * c.manner.length), 1, 5))
    parts = []
    for i in range(count):
        n = c.n(0.2)
        start = (i * n // 2) % max(1, rough.size - n)
        burst = rough[start : start + n] + 0.5 * voiced[start : start + n]
        burst = burst * np.exp(-np.linspace(0, 5, burst.size)) * np.minimum(np.arange(burst.size) / c.n(0.004), 1)
        parts.append(compress(burst, c.sr, 3.0))
    return _join(c, parts, gap=0.09)


def _sniff(c: _Ctx) -> np.ndarray:
    count = int(np.clip(round(2 * c.manner.length), 1, 4))
    parts = []
    for i in range(count):
        n = c.n(0.13 - 0.03 * i / count)
        t = np.linspace(0, 1, n)
        parts.append(_band(c.white(n), c.sr, 1500.0, 7000.0) * np.sin(np.pi * t**0.7))
    return _join(c, parts, gap=0.08)


def _pant(c: _Ctx) -> np.ndarray:
    count = int(np.clip(round(3 * c.manner.length), 2, 8))
    parts = []
    for _ in range(count):
        parts += [breath(c.sr, "inhale", c.rng, 0.16 + 0.03 * c.rng.random(), level_db=-30.0),
                  breath(c.sr, "exhale", c.rng, 0.2 + 0.04 * c.rng.random(), level_db=-30.0)]
    return _join(c, parts, gap=0.02)


def _snort(c: _Ctx) -> np.ndarray:
    n = c.n(0.25 * c.manner.length)
    x = _resonate(c.white(n), c.sr, np.array([450.0, 1100.0]), (1.0, 0.5), 2.5)
    t = np.linspace(0, 1, n)
    return x * _rough(c, n, 35.0, 0.85) * np.minimum(t / 0.08, 1.0) * np.exp(-2.5 * t)


def _gulp(c: _Ctx) -> np.ndarray:
    parts = []
    for f1, f2 in ((170.0, 620.0), (210.0, 800.0)):
        n = c.n(0.09)
        t = np.arange(n) / c.sr
        thump = np.sin(2 * np.pi * f1 * t) * np.exp(-t / 0.025) + 0.6 * np.sin(2 * np.pi * f2 * t) * np.exp(-t / 0.012)
        thump += 0.15 * _band(c.white(n), c.sr, 200.0, 1500.0) * np.exp(-t / 0.01)
        parts.append(thump)
    return _join(c, parts, gap=0.06)


def _whistle(c: _Ctx) -> np.ndarray:
    rise, fall = 0.3 * c.manner.length, 0.5 * c.manner.length
    n1, n2 = c.n(rise), c.n(fall)
    freq = np.concatenate([np.linspace(1300.0, 1900.0, n1), np.zeros(c.n(0.08)), np.linspace(1900.0, 1100.0, n2)])
    freq *= 2 ** (c.manner.pitch / 12)
    t = np.arange(freq.size) / c.sr
    freq = freq * (1 + 0.01 * np.sin(2 * np.pi * 5.0 * t))
    phase = 2 * np.pi * np.cumsum(freq) / c.sr
    tone = np.sin(phase) + 0.08 * np.sin(2 * phase)
    env = (freq > 0).astype(np.float64)
    env = np.convolve(env, np.hanning(c.n(0.03)) / np.hanning(c.n(0.03)).sum(), mode="same")
    air = _band(c.white(freq.size), c.sr, 900.0, 3000.0) * 0.1
    return (tone + air) * env


def _shush(c: _Ctx) -> np.ndarray:
    n = c.n(0.8 * c.manner.length)
    x = _resonate(c.white(n), c.sr, np.array([2600.0, 4200.0]), (1.0, 0.6), 1.5)
    x = sosfilt(butter(3, 1700.0, btype="highpass", fs=c.sr, output="sos"), x)
    t = np.linspace(0, 1, n)
    return x * np.minimum(t / 0.1, 1.0) * np.minimum((1 - t) / 0.25, 1.0)


def _clicks(c: _Ctx, freqs: tuple[float, ...], count: int, spacing: float, decay: float) -> np.ndarray:
    parts = []
    for _ in range(count):
        n = c.n(0.03)
        impulse = np.zeros(n)
        impulse[:4] = c.rng.standard_normal(4)
        ring = _resonate(impulse, c.sr, np.array(freqs), (1.0,) * len(freqs), 8.0)
        parts.append(ring * np.exp(-np.arange(n) / (decay * c.sr)))
    return _join(c, parts, gap=spacing)


def _tsk(c: _Ctx) -> np.ndarray:
    return _clicks(c, (2200.0, 3800.0), 2, 0.12, 0.006)


def _kiss(c: _Ctx) -> np.ndarray:
    smack = _clicks(c, (1200.0, 2500.0), 1, 0.0, 0.012)
    tail = _band(c.noise(0.08), c.sr, 800.0, 4000.0) * np.exp(-np.linspace(0, 5, c.n(0.08))) * 0.1
    return np.concatenate([smack, tail])


def _clap(c: _Ctx) -> np.ndarray:
    count = int(np.clip(round(5 * c.manner.length), 1, 14))
    parts = []
    for _ in range(count):
        n = c.n(0.09)
        t = np.arange(n) / c.sr
        x = _resonate(c.white(n), c.sr, np.array([1100.0, 2200.0]), (1.0, 0.5), 2.0)
        parts.append(x * np.exp(-t / 0.014) * np.minimum(t / 0.0006, 1.0) * 10 ** (0.1 * c.rng.standard_normal()))
    return _join(c, parts, gap=0.19, jitter=0.02)


def _breath_event(kind: str, seconds: float, level_db: float) -> Callable[[_Ctx], np.ndarray]:
    def render(c: _Ctx) -> np.ndarray:
        return breath(c.sr, kind, c.rng, seconds * c.manner.length, level_db=level_db)

    return render


PAUSE_SECONDS: MappingProxyType[str, float] = MappingProxyType({"pause": 0.6, "long_pause": 1.5})
"""Silent events: a beat, and a pause long enough to read as deliberate."""


@dataclass(frozen=True)
class _Recipe:
    render: Callable[[_Ctx], np.ndarray]
    level_db: float  # RMS of the sounding part, dBFS
    from_voice: bool = False  # built from the speaker's own synthesised syllables


_RECIPES: MappingProxyType[str, _Recipe] = MappingProxyType({
    "laugh": _Recipe(_laugh, -22.0, from_voice=True),
    "chuckle": _Recipe(_chuckle, -28.0, from_voice=True),
    "giggle": _Recipe(_giggle, -25.0, from_voice=True),
    "sigh": _Recipe(_sigh, -30.0, from_voice=True),
    "gasp": _Recipe(_gasp, -28.0, from_voice=True),
    "cough": _Recipe(_cough, -22.0, from_voice=True),
    "sniff": _Recipe(_sniff, -32.0),
    "groan": _Recipe(_groan, -25.0, from_voice=True),
    "moan": _Recipe(_moan, -26.0, from_voice=True),
    "breath": _Recipe(_breath_event("inhale", 0.55, -32.0), -32.0),
    "inhale": _Recipe(_breath_event("inhale", 0.45, -33.0), -33.0),
    "exhale": _Recipe(_breath_event("exhale", 0.55, -34.0), -34.0),
    "pant": _Recipe(_pant, -30.0),
    "scream": _Recipe(_scream, -13.0, from_voice=True),
    "cry": _Recipe(_cry, -24.0, from_voice=True),
    "sob": _Recipe(_sob, -26.0, from_voice=True),
    "yawn": _Recipe(_yawn, -28.0, from_voice=True),
    "hum": _Recipe(_hum, -25.0, from_voice=True),
    "clear_throat": _Recipe(_clear_throat, -24.0, from_voice=True),
    "hiccup": _Recipe(_hiccup, -24.0, from_voice=True),
    "sneeze": _Recipe(_sneeze, -20.0, from_voice=True),
    "snort": _Recipe(_snort, -28.0),
    "scoff": _Recipe(_scoff, -30.0, from_voice=True),
    "grunt": _Recipe(_grunt, -25.0, from_voice=True),
    "gulp": _Recipe(_gulp, -30.0),
    "whistle": _Recipe(_whistle, -26.0),
    "shush": _Recipe(_shush, -30.0),
    "tsk": _Recipe(_tsk, -30.0),
    "kiss": _Recipe(_kiss, -30.0),
    "clap": _Recipe(_clap, -22.0),
})

SOUNDING_EVENTS: tuple[str, ...] = tuple(_RECIPES)
"""Events rendered as sound (every known event except the silent pauses)."""

VOICE_MADE_EVENTS: tuple[str, ...] = tuple(name for name, r in _RECIPES.items() if r.from_voice)
"""Events built from the speaker's synthesised syllables (the rest are shaped noise and clicks)."""


def render_event(event: str, voice: Voice, sr: int, engine: Engine, rng: np.random.Generator | None = None,
                 manner: str | None = None) -> np.ndarray:
    """Render a canonical event (a key of ``KNOWN_EVENTS``) as float32 audio at ``sr``.

    ``voice`` and ``engine`` (anything with ``synthesize_phonemes(ipa, voice, speed)`` and
    ``sample_rate``) make the voice-made sounds; ``manner`` is the event's modifier text from the script
    (``"long"``, ``"nervously"``). Pauses are silence. Unknown events raise ``ValueError``.
    """
    if event not in KNOWN_EVENTS:
        raise ValueError(f"unknown event {event!r}; known events: {', '.join(KNOWN_EVENTS)}")
    how = parse_manner(manner)
    if event in PAUSE_SECONDS:
        return silence(sr, PAUSE_SECONDS[event] * how.length)
    recipe = _RECIPES.get(event)
    if recipe is None:  # a new event in the script vocabulary that has no sound yet: fail loudly, not silently
        raise ValueError(f"event {event!r} has no renderer")
    ctx = _Ctx(voice=voice, sr=sr, engine=engine, rng=rng if rng is not None else np.random.default_rng(0),
               manner=how)
    audio = recipe.render(ctx)
    return limit(_at_level(audio, recipe.level_db + how.gain_db), sr).astype(np.float32)


# ------------------------------------------------------------------------------------- small tools ---
def _at_level(x: np.ndarray, level_db: float) -> np.ndarray:
    """Scale to an RMS of ``level_db`` dBFS, measured over the sounding part (within 30 dB of its peak),
    so trailing silence does not inflate the gain."""
    x = np.asarray(x, np.float64)
    if x.size == 0:
        return x
    frame = 240
    usable = x[: x.size - x.size % frame] if x.size >= frame else x
    power = np.mean(usable.reshape(-1, min(frame, usable.size)) ** 2, axis=1)
    loud = power[power > power.max() * 1e-3] if power.max() > 0 else power
    rms = float(np.sqrt(np.mean(loud))) if loud.size else 0.0
    return x * (10 ** (level_db / 20) / rms) if rms > 0 else x


def _join(c: _Ctx, parts: list[np.ndarray], gap: float, jitter: float = 0.0) -> np.ndarray:
    out: list[np.ndarray] = []
    for i, p in enumerate(parts):
        if i:
            out.append(np.zeros(c.n(max(0.0, gap + jitter * c.rng.standard_normal()))) if gap > 0 else np.zeros(0))
        out.append(np.asarray(p, np.float64))
    return np.concatenate(out)


def _pad(x: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n)
    out[: min(n, x.size)] = x[:n]
    return out


def _fade(c: _Ctx, x: np.ndarray, fade_in: float, fade_out: float) -> np.ndarray:
    y = np.asarray(x, np.float64).copy()
    a, b = min(c.n(fade_in), y.size), min(c.n(fade_out), y.size)
    y[:a] *= np.sin(0.5 * np.pi * np.linspace(0, 1, a)) ** 2
    y[y.size - b :] *= np.cos(0.5 * np.pi * np.linspace(0, 1, b)) ** 2
    return y


def _band(x: np.ndarray, sr: int, lo: float, hi: float) -> np.ndarray:
    return sosfilt(butter(2, [lo, min(hi, 0.45 * sr)], btype="bandpass", fs=sr, output="sos"), x)


def _resonate(x: np.ndarray, sr: int, centres: np.ndarray, weights: tuple[float, ...], q: float) -> np.ndarray:
    """Sum of band resonances (second-order peaks) at ``centres`` Hz: a crude vocal/nasal tract."""
    out = np.zeros(x.size)
    for f, w in zip(centres, weights, strict=True):
        b, a = iirpeak(min(float(f), 0.45 * sr), q, fs=sr)
        out += w * lfilter(b, a, x)
    return out


def _smooth_noise(n: int, sr: int, cutoff_hz: float, rng: np.random.Generator) -> np.ndarray:
    """Random wobble below ``cutoff_hz`` with unit peak."""
    x = sosfilt(butter(2, cutoff_hz, fs=sr, output="sos"), rng.standard_normal(n))
    peak = np.max(np.abs(x)) if n else 0.0
    return x / peak if peak > 0 else x


def _rough(c: _Ctx, n: int, rate_hz: float, depth: float) -> np.ndarray:
    """Irregular amplitude flutter at about ``rate_hz``: the rattle of a throat clear or a snort."""
    t = np.arange(n) / c.sr
    wobble = np.sin(2 * np.pi * rate_hz * t + 2 * np.pi * c.rng.random()) + 0.5 * _smooth_noise(n, c.sr, rate_hz, c.rng)
    return 1 - depth * 0.5 * (1 + np.clip(wobble, -1, 1))
