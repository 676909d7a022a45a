"""Performing a :class:`Direction` on the engine's audio: pitch, range, level, tilt, breath, tremble, register.

Why our own DSP rather than a vocoder library: WORLD (pyworld) ships no wheel for this platform, and its
analysis alone runs near real time, far over our budget of 0.15× real time on one core; librosa's pitch
shift moves the formants with the pitch (chipmunk voices). Kokoro's output is clean, single-speaker,
studio-like speech, which is exactly where the classic methods work well:

* **F0** by YIN (cumulative mean normalised difference), vectorised over frames at 8 kHz.
* **Pitch and pitch range** by TD-PSOLA: two-period grains cut around pitch marks are laid down at the
  new period. Each grain keeps its vocal-tract ringing, so formants (and the speaker) stay put. With a
  ratio of 1 everywhere PSOLA reconstructs its input exactly, so modest changes cost little quality.
* **Whisper and breath** from noise with the speech's short-time spectral envelope (power smoothed
  across frequency over more than one harmonic, so no pitch survives): the envelope carries the words.
* **Tilt** by a first-order shelf, **dynamics** by a compressor and a look-ahead limiter that can never
  let a sample past its ceiling.

Every stage keeps the clip's length, so segment boundaries stay where the planner put them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import gcd

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import bilinear, butter, istft, lfilter, resample_poly, sosfilt, sosfiltfilt, stft

from .direction import Direction
from .registers import profile, resolve

PEAK_CEILING = 0.97
"""Highest absolute sample value any directed clip may have (a little headroom under full scale)."""

_F0_RATE = 8000  # F0 analysis rate: plenty for 60–700 Hz and 9× cheaper than 24 kHz
_F0_HOP_S = 0.005
_UNVOICED_STEP_S = 1 / 150  # PSOLA grain spacing where there is no pitch


# --------------------------------------------------------------------------------------------- F0 ---
@dataclass(frozen=True)
class F0Track:
    """F0 every ``hop_s`` seconds from t = 0 (0 where unvoiced); ``aperiodicity`` is YIN's d' (0 = periodic)."""

    f0: np.ndarray
    aperiodicity: np.ndarray
    hop_s: float

    @property
    def voiced(self) -> np.ndarray:
        return self.f0 > 0

    def at(self, seconds: np.ndarray) -> np.ndarray:
        """F0 at the given times (nearest frame; 0 where unvoiced or outside the track)."""
        idx = np.rint(np.asarray(seconds) / self.hop_s).astype(np.int64)
        ok = (idx >= 0) & (idx < self.f0.size)
        out = np.zeros(idx.shape, np.float64)
        out[ok] = self.f0[idx[ok]]
        return out


def track_f0(audio: np.ndarray, sr: int, *, fmin: float = 60.0, fmax: float = 700.0, threshold: float = 0.2,
             voicing: float = 0.4, silence_db: float = -50.0) -> F0Track:
    """YIN F0 track of ``audio``.

    A frame is voiced when its best period has d' < ``voicing`` and it is no more than ``silence_db``
    below the loudest frame. ``threshold`` picks the first dip (YIN's guard against octave errors).
    """
    x = np.asarray(audio, np.float64).reshape(-1)
    g = gcd(int(sr), _F0_RATE)
    if sr != _F0_RATE:
        x = resample_poly(x, _F0_RATE // g, int(sr) // g)
    rate = _F0_RATE
    hop = int(round(_F0_HOP_S * rate))
    win = int(0.025 * rate)
    max_lag = min(int(np.ceil(rate / fmin)) + 2, 4 * win)
    min_lag = max(2, int(np.floor(rate / fmax)))
    length = win + max_lag
    n_frames = int(np.ceil(x.size / hop)) + 1
    padded = np.zeros(n_frames * hop + length, np.float64)
    start = length // 2
    padded[start : start + x.size] = x
    frames = np.lib.stride_tricks.sliding_window_view(padded, length)[: n_frames * hop : hop][:n_frames]
    nfft = 1 << int(np.ceil(np.log2(length)))
    spec_all = np.fft.rfft(frames, nfft, axis=1)
    spec_head = np.fft.rfft(frames[:, :win], nfft, axis=1)
    r = np.fft.irfft(np.conj(spec_head) * spec_all, nfft, axis=1)[:, : max_lag + 1]
    csum = np.concatenate([np.zeros((n_frames, 1)), np.cumsum(frames**2, axis=1)], axis=1)
    e0 = csum[:, win]
    lags = np.arange(max_lag + 1)
    e_tau = csum[:, lags + win] - csum[:, lags]
    d = np.maximum(e0[:, None] + e_tau - 2 * r, 0.0)
    cum = np.cumsum(d[:, 1:], axis=1)
    dn = np.ones_like(d)
    dn[:, 1:] = d[:, 1:] * lags[1:] / np.maximum(cum, 1e-12)
    search = dn[:, min_lag : max_lag]
    below = search < threshold
    has_dip = below.any(axis=1)
    tau = np.where(has_dip, below.argmax(axis=1), search.argmin(axis=1)) + min_lag
    rows = np.arange(n_frames)
    for _ in range(max_lag):  # walk down to the bottom of the first dip
        step = (tau + 1 < max_lag) & (dn[rows, np.minimum(tau + 1, max_lag)] < dn[rows, tau])
        if not step.any():
            break
        tau = tau + step
    # Parabolic interpolation for a fractional period.
    a, b, c = dn[rows, tau - 1], dn[rows, tau], dn[rows, np.minimum(tau + 1, max_lag)]
    denom = a - 2 * b + c
    shift = np.where(np.abs(denom) > 1e-12, 0.5 * (a - c) / np.where(denom == 0, 1, denom), 0.0)
    period = tau + np.clip(shift, -0.5, 0.5)
    aper = np.clip(b, 0.0, 1.0)
    level = 10 * np.log10(e0 + 1e-20)
    voiced = (aper < voicing) & (level > level.max() - abs(silence_db)) & (e0 > 1e-10)
    f0 = np.where(voiced, rate / period, 0.0)
    f0 = _clean_track(f0)
    return F0Track(f0=f0, aperiodicity=aper, hop_s=hop / rate)


def _clean_track(f0: np.ndarray, min_run: int = 4) -> np.ndarray:
    """Drop voiced blips shorter than ``min_run`` frames and median-smooth log F0 inside voiced runs."""
    out = f0.copy()
    voiced = out > 0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], voiced.astype(np.int8), [0]])))
    for s, e in zip(edges[::2], edges[1::2], strict=True):
        if e - s < min_run:
            out[s:e] = 0.0
            continue
        seg = np.log(out[s:e])
        if e - s >= 5:
            windows = np.lib.stride_tricks.sliding_window_view(np.pad(seg, 2, mode="edge"), 5)
            seg = np.median(windows, axis=1)
        out[s:e] = np.exp(seg)
    return out


# ------------------------------------------------------------------------------------------ PSOLA ---
def pitch_marks(audio: np.ndarray, sr: int, track: F0Track) -> tuple[np.ndarray, np.ndarray]:
    """Analysis marks: one per period at a consistent phase (the peak of the low-passed wave) where voiced,
    every ``_UNVOICED_STEP_S`` elsewhere. Returns ``(marks, f0 at each mark or 0)``."""
    n = audio.size
    sos = butter(2, min(900.0, 0.45 * sr), fs=sr, output="sos")
    lp = sosfiltfilt(sos, audio.astype(np.float64)) if n > 64 else audio.astype(np.float64)
    step_uv = max(1, int(round(_UNVOICED_STEP_S * sr)))
    hop = track.hop_s * sr
    f0 = track.f0
    marks: list[int] = []
    freqs: list[float] = []
    t = 0
    prev_voiced = False
    while t < n:
        i = int(round(t / hop))
        f = float(f0[i]) if i < f0.size else 0.0
        if f > 0:
            period = sr / f
            if prev_voiced:
                lo, hi = int(t - 0.2 * period), int(t + 0.2 * period) + 1
            else:
                lo, hi = int(t), int(t + period) + 1
            lo, hi = max(lo, marks[-1] + int(0.5 * period) if marks else 0), min(hi, n)
            m = lo + int(np.argmax(lp[lo:hi])) if hi > lo else min(int(t), n - 1)
            marks.append(m)
            freqs.append(f)
            t = m + period
            prev_voiced = True
        else:
            m = int(t)
            marks.append(m)
            freqs.append(0.0)
            t = m + step_uv
            prev_voiced = False
    if marks[-1] != n - 1:
        marks.append(n - 1)
        freqs.append(0.0)
    return np.asarray(marks, np.int64), np.asarray(freqs, np.float64)


def psola(audio: np.ndarray, sr: int, marks: np.ndarray, mark_f0: np.ndarray, ratio: np.ndarray,
          gain: np.ndarray | None = None) -> np.ndarray:
    """Resynthesise ``audio`` with F0 multiplied by ``ratio`` (one value per analysis mark), same length.

    Grains span from the previous to the next mark with half-Hann slopes, so at ratio 1 the windows sum
    to one and the input comes back unchanged. Voiced grains are scaled by ratio^-½ to keep the power
    (PSOLA otherwise adds power with every extra period). ``gain`` (per mark) adds amplitude modulation.
    """
    x = audio.astype(np.float64)
    n = x.size
    out = np.zeros(n, np.float64)
    k_count = marks.size
    left = np.diff(marks, prepend=marks[0])
    right = np.diff(marks, append=marks[-1])
    left[0] = right[0]
    right[-1] = left[-1]
    ts = float(marks[0])
    g_all = np.ones(k_count) if gain is None else gain
    windows: dict[int, np.ndarray] = {}

    def ramp(length: int) -> np.ndarray:
        w = windows.get(length)
        if w is None:
            w = 0.5 - 0.5 * np.cos(np.pi * np.arange(length) / max(length, 1))
            windows[length] = w
        return w

    while ts < n:
        k = int(np.searchsorted(marks, ts))
        if k >= k_count or (k > 0 and ts - marks[k - 1] < marks[k] - ts):
            k -= 1
        ta = int(marks[k])
        lft, rgt = int(left[k]), int(right[k])
        if lft <= 0 or rgt <= 0:
            ts += max(1, lft, rgt)
            continue
        voiced = mark_f0[k] > 0
        r = float(ratio[k]) if voiced else 1.0
        amp = g_all[k] * (r**-0.5 if voiced else 1.0)
        centre = int(round(ts))
        grain = np.empty(lft + rgt)
        grain[:lft] = ramp(lft)
        grain[lft:] = 1.0 - ramp(rgt)
        # Clip the grain to both the source and the destination.
        lo = max(-lft, -ta, -centre)
        hi = min(rgt, n - ta, n - centre)
        if hi > lo:
            out[centre + lo : centre + hi] += x[ta + lo : ta + hi] * grain[lft + lo : lft + hi] * amp
        ts += rgt / r
    return out


# ---------------------------------------------------------------------------------- spectral shape ---
def tilt(audio: np.ndarray, sr: int, db: float, pivot_hz: float = 1000.0) -> np.ndarray:
    """First-order tilt: high frequencies +db/2, low −db/2 around ``pivot_hz`` (RMS kept by the caller)."""
    if db == 0:
        return audio.astype(np.float64)
    big_g = 10 ** (db / 20)
    w = 2 * np.pi * pivot_hz
    sg = np.sqrt(big_g)
    # High shelf H(s) = (√G·s + ω) / (s/√G + ω): 1 at DC, G at high frequencies, √G at the pivot.
    b, a = bilinear([sg, w], [1 / sg, w], fs=sr)
    return lfilter(b, a, audio.astype(np.float64)) / sg


_NFFT = 512


def shaped_noise(audio: np.ndarray, sr: int, rng: np.random.Generator, smooth_hz: float = 420.0) -> np.ndarray:
    """White noise given the short-time spectral envelope of ``audio`` (same power per band and frame).

    The power spectrum is averaged across ``smooth_hz`` (more than one harmonic spacing for F0 up to
    ~400 Hz), which removes the harmonic comb: the result carries formants and level, not pitch.
    """
    nfft = _NFFT if sr <= 24_000 else 1 << int(np.ceil(np.log2(_NFFT * sr / 24_000)))
    size = audio.size
    x = np.zeros(max(size, 2 * nfft))
    x[:size] = audio
    _, _, spec = stft(x, fs=sr, nperseg=nfft, noverlap=nfft * 3 // 4, boundary="even", padded=True)
    power = np.abs(spec) ** 2
    bins = max(1, int(round(smooth_hz / (sr / nfft))))
    power = uniform_filter1d(uniform_filter1d(power, bins, axis=0, mode="nearest"), bins, axis=0, mode="nearest")
    power = np.maximum(power, 0.0)  # the running sums can round a hair below zero
    noise = rng.standard_normal(x.size + nfft)
    _, _, nspec = stft(noise, fs=sr, nperseg=nfft, noverlap=nfft * 3 // 4, boundary="even", padded=True)
    nspec = nspec[:, : power.shape[1]]
    if nspec.shape[1] < power.shape[1]:
        power = power[:, : nspec.shape[1]]
    ref = np.mean(np.abs(nspec) ** 2)
    _, y = istft(nspec * np.sqrt(power / ref), fs=sr, nperseg=nfft, noverlap=nfft * 3 // 4, boundary=True)
    out = np.zeros(size)
    out[: min(size, y.size)] = y[:size]
    return out


def voicing_gate(track: F0Track, n: int, sr: int, ramp_s: float = 0.02) -> np.ndarray:
    """0..1 per sample: 1 inside voiced stretches, with ``ramp_s`` smooth edges."""
    times = np.arange(n) / sr
    gate = (track.at(times) > 0).astype(np.float64)
    width = max(1, int(ramp_s * sr))
    return uniform_filter1d(gate, width, mode="nearest")


# ---------------------------------------------------------------------------------------- dynamics ---
def compress(audio: np.ndarray, sr: int, ratio: float, window_s: float = 0.01, knee_db: float = -10.0) -> np.ndarray:
    """Downward compression of the short-time level above ``knee_db`` re. the loud frames (RMS kept).

    Projected speech is dense: vowels reach their level quickly and stay there. Compressing the envelope
    (10 ms RMS, gain smoothed over 20 ms) reproduces that without pumping at syllable rate.
    """
    x = audio.astype(np.float64)
    if ratio <= 1 or x.size == 0:
        return x
    env = np.sqrt(np.maximum(uniform_filter1d(x**2, max(1, int(window_s * sr)), mode="nearest"), 0.0) + 1e-12)
    env_db = 20 * np.log10(env)
    ref = np.percentile(env_db, 95)
    over = np.maximum(env_db - (ref + knee_db), 0.0)
    gain_db = -over * (1 - 1 / ratio)
    gain = 10 ** (uniform_filter1d(gain_db, max(1, int(0.02 * sr)), mode="nearest") / 20)
    y = x * gain
    return y * (_rms(x) / max(_rms(y), 1e-12))


def limit(audio: np.ndarray, sr: int, ceiling: float = PEAK_CEILING, lookahead_s: float = 0.004) -> np.ndarray:
    """Look-ahead peak limiter: a smooth gain that keeps every sample within ±``ceiling``.

    The required gain is min-filtered over ±L samples and then averaged over ±L: every value averaged
    at a peak is at most that peak's own gain, so the smooth gain never lets it through (no clipping),
    and it ramps over 2L samples instead of distorting.
    """
    x = audio.astype(np.float64)
    peak = np.abs(x)
    if x.size == 0 or peak.max() <= ceiling:
        return x
    need = np.minimum(1.0, ceiling / np.maximum(peak, 1e-12))
    half = max(1, int(lookahead_s * sr))
    held = minimum_filter1d(need, 2 * half + 1, mode="nearest")
    gain = uniform_filter1d(held, 2 * half + 1, mode="nearest")
    # gain <= need by construction; the clip only absorbs float rounding (x * ceiling/|x| may land 1 ulp over)
    return np.clip(x * np.minimum(gain, need), -ceiling, ceiling)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) if x.size else 0.0


# ----------------------------------------------------------------------------------------- direction ---
def needs_dsp(direction: Direction) -> bool:
    """False when the Direction asks nothing of the DSP (speed and pauses belong to engine and planner)."""
    d = direction
    return not (d.pitch_shift == 0 and d.pitch_range == 1 and d.energy_db == 0 and d.tilt_db == 0
                and d.register == "normal" and d.breathiness == 0 and d.tremble == 0 and not d.laughing)


def _modulation(n_marks: int, times: np.ndarray, rate_hz: float, rng: np.random.Generator) -> np.ndarray:
    """A wobble in −1..1 at about ``rate_hz`` with a slowly drifting rate and depth (a shaking voice is
    not a metronome)."""
    if n_marks == 0:
        return np.zeros(0)
    span = float(times[-1]) + 1.0
    knots = np.arange(0.0, span + 0.25, 0.25)
    rate = rate_hz * (1 + 0.15 * rng.standard_normal(knots.size))
    depth = np.clip(1 + 0.25 * rng.standard_normal(knots.size), 0.4, 1.6)
    inst_rate = np.interp(times, knots, rate)
    phase = 2 * np.pi * np.concatenate([[0.0], np.cumsum(np.diff(times) * inst_rate[1:])]) + rng.uniform(0, 2 * np.pi)
    return np.sin(phase) * np.interp(times, knots, depth)


def apply_direction(audio: np.ndarray, sr: int, direction: Direction,
                    rng: np.random.Generator | None = None) -> np.ndarray:
    """Perform ``direction`` on engine output (mono float); returns float32 audio of the same length.

    Order: pitch (PSOLA: shift, range, tremble) → voice source (whisper noise, or breath mixed in) →
    tilt → compression → level → limiter. A Direction that asks nothing of the DSP returns ``audio``
    itself, untouched. ``rng`` drives the noise and wobble (default: a fixed seed, so the same input
    gives the same output, like the engine).
    """
    if not needs_dsp(direction):
        return audio
    x = np.asarray(audio, np.float64).reshape(-1)
    if x.size == 0:
        return np.zeros(0, np.float32)
    rng = rng if rng is not None else np.random.default_rng(0)
    d = resolve(direction.clamped())
    prof = profile(d.register)
    level_in = _rms(x)

    if x.size < int(0.05 * sr):  # too short to hold a pitch period or a spectral frame: level only
        return _level(x, sr, level_in * 10 ** (d.energy_db / 20)).astype(np.float32)
    track = track_f0(x, sr)
    breath_amount = d.breathiness + (0.25 if d.laughing else 0.0)
    modulates = d.tremble > 0 or d.laughing
    if prof.unvoiced:
        y = x  # pitch is meaningless without voicing; the whisper source below has none
    elif d.pitch_shift != 0 or d.pitch_range != 1 or modulates:
        y = _repitch(x, sr, track, d, rng)
    else:
        y = x
    if prof.unvoiced:
        y = whisper(y, sr, rng)
    elif breath_amount > 0:
        y = add_breathiness(y, sr, min(breath_amount, 1.0), rng, track)
    if d.tilt_db != 0:
        y = tilt(y, sr, d.tilt_db)
        y *= _rms(x) / max(_rms(y), 1e-12)
    y = compress(y, sr, prof.compression_ratio)
    return _level(y, sr, level_in * 10 ** (d.energy_db / 20)).astype(np.float32)


def _level(y: np.ndarray, sr: int, target_rms: float, tries: int = 3) -> np.ndarray:
    """Scale to ``target_rms`` and limit peaks; the limiter shaves a little level off peaky speech, so the
    gain is topped up (and the result limited again) until the level is within 0.1 dB of the target."""
    gain = target_rms / max(_rms(y), 1e-12)
    out = limit(y * gain, sr)
    for _ in range(tries):
        short = target_rms / max(_rms(out), 1e-12)
        if short < 10 ** (0.1 / 20):
            break
        gain *= short
        out = limit(y * gain, sr)
    return out


def reshape_pitch(audio: np.ndarray, sr: int, semitones: float | Callable[[np.ndarray], np.ndarray],
                  keep_range: float = 1.0) -> np.ndarray:
    """Move F0 by ``semitones``: a constant, or a function of time in seconds (an intonation contour for
    vocalisations: a sigh's fall, a hum's tune). ``keep_range`` scales the audio's own F0 excursion first
    (0 = flatten it, so the contour alone is heard). Formants stay; unvoiced sounds pass unchanged."""
    x = np.asarray(audio, np.float64).reshape(-1)
    if x.size == 0:
        return x
    track = track_f0(x, sr)
    marks, mark_f0 = pitch_marks(x, sr, track)
    voiced = mark_f0 > 0
    times = marks / sr
    semis = np.array(np.broadcast_to(semitones(times) if callable(semitones) else np.float64(semitones), times.shape))
    if keep_range != 1.0 and voiced.any():
        own = 12 * np.log2(np.where(voiced, mark_f0, 1.0))
        semis += np.where(voiced, (keep_range - 1.0) * (own - np.median(own[voiced])), 0.0)
    return psola(x, sr, marks, mark_f0, np.where(voiced, 2 ** (semis / 12), 1.0))


def _repitch(x: np.ndarray, sr: int, track: F0Track, d: Direction, rng: np.random.Generator) -> np.ndarray:
    marks, mark_f0 = pitch_marks(x, sr, track)
    voiced = mark_f0 > 0
    if not voiced.any():
        return x
    log_f0 = np.zeros(marks.size)
    log_f0[voiced] = np.log(mark_f0[voiced])
    centre = float(np.median(log_f0[voiced]))
    semis = np.full(marks.size, d.pitch_shift)
    semis += 12 / np.log(2) * (d.pitch_range - 1) * (log_f0 - centre)
    gain = np.ones(marks.size)
    times = marks / sr
    if d.tremble > 0:
        wobble = _modulation(marks.size, times, 5.5, rng)
        semis += 1.2 * d.tremble * wobble
        gain *= 10 ** (4.0 * d.tremble * wobble / 20)
    if d.laughing:
        bursts = _modulation(marks.size, times, 4.8, rng)
        semis += 0.8 * np.maximum(bursts, 0)
        gain *= 10 ** (4.0 * bursts / 20)
    ratio = np.where(voiced, 2 ** (semis / 12), 1.0)
    return psola(x, sr, marks, mark_f0, ratio, gain)


def whisper(x: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Unvoiced excitation with the speech envelope; below ~300 Hz a whisper has almost nothing (no F0, no
    chest resonance), so that band is removed."""
    noise = shaped_noise(x, sr, rng)
    return sosfilt(butter(2, 300.0, btype="highpass", fs=sr, output="sos"), noise)


def add_breathiness(x: np.ndarray, sr: int, amount: float, rng: np.random.Generator,
                    track: F0Track | None = None) -> np.ndarray:
    """Mix aspiration noise into voiced stretches. Breath is turbulence at the glottis: strongest above
    ~1 kHz, present only while the folds vibrate (unvoiced sounds are noise already), and it comes with
    weaker high harmonics, so the harmonic part is darkened too. At ``amount`` 0.6 Praat's harmonicity
    drops by about 5 dB."""
    track = track if track is not None else track_f0(x, sr)
    aspiration = sosfilt(butter(2, 800.0, btype="highpass", fs=sr, output="sos"), shaped_noise(x, sr, rng))
    gate = voicing_gate(track, x.size, sr)
    harmonic = tilt(x, sr, -5.0 * amount) if amount > 0 else x
    return harmonic * (1 - 0.2 * amount * gate) + 1.4 * amount * gate * aspiration


# ------------------------------------------------------------------------------ segments in one clip ---
@dataclass(frozen=True)
class Span:
    """A stretch of one clip (samples ``start``..``end``) to perform with ``direction``."""

    start: int
    end: int
    direction: Direction


def apply_directions(audio: np.ndarray, sr: int, spans: Sequence[Span], rng: np.random.Generator | None = None,
                     crossfade_s: float = 0.03) -> np.ndarray:
    """Perform different Directions on stretches of one clip (normal → whisper → loud …); float32 out.

    Each span is processed with ``crossfade_s`` of context on both sides and faded in and out with
    raised-cosine ramps centred on its edges; the weights of neighbouring spans (and of the untouched
    audio outside every span) add up to one, so register changes land mid-clip without clicks or gaps.
    """
    x = np.asarray(audio, np.float32).reshape(-1)
    rng = rng if rng is not None else np.random.default_rng(0)
    fade = max(1, int(crossfade_s * sr))
    t = np.arange(x.size, dtype=np.float64)
    acc = np.zeros(x.size)
    total = np.zeros(x.size)
    for span in sorted(spans, key=lambda s: s.start):
        start, end = max(0, span.start), min(x.size, span.end)
        if end <= start:
            continue
        lo, hi = max(0, start - fade), min(x.size, end + fade)
        done = apply_direction(x[lo:hi], sr, span.direction, rng).astype(np.float64)
        tt = t[lo:hi]
        rise = np.ones(hi - lo) if start == 0 else _raised_cosine((tt - (start - fade)) / (2 * fade))
        fall = np.ones(hi - lo) if end == x.size else _raised_cosine(((end + fade) - tt) / (2 * fade))
        w = rise * fall
        acc[lo:hi] += done * w
        total[lo:hi] += w
    scale = np.maximum(total, 1.0)
    return ((acc + x * np.clip(1.0 - total, 0.0, 1.0)) / scale).astype(np.float32)


def _raised_cosine(u: np.ndarray) -> np.ndarray:
    """0 → 1 over u in [0, 1] with zero slope at both ends (sin² ramp)."""
    return np.sin(0.5 * np.pi * np.clip(u, 0.0, 1.0)) ** 2
