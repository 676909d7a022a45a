"""Voice colour: the long-term spectral shape of a reference speaker, matched by a gentle equaliser.

Kokoro's style vector moves formants, pitch and voice quality, but the space it was trained in holds few
speakers, and a recording's long-term average spectrum (vocal tract length, nasality, breathiness, and the
microphone and room it was made in) is mostly outside its reach. Two recordings of the same speaker share
that spectrum; a clone that misses it sounds like a relative. So a cloned voice also carries a *colour*:
per third-octave band, how many dB the reference's long-term spectrum sits above or below the clone's own
speech, measured once at clone time on a calibration sentence, smoothed, clipped and centred so that it
reshapes the spectrum without changing the level. The engine applies it to everything the voice says with
one linear-phase FIR filter (:func:`apply_colour`), so it works the same with either decoder and in
streams, batches and performances.

Measured with ``bench/clone.py`` (dev speakers, other clips than the reference): see the model card in
``voice/data/MODEL_CARD.md``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# Third-octave band centres, 100 Hz to 8 kHz: the range every reference of ≥ 16 kHz holds.
BANDS_HZ = tuple(float(100.0 * 2 ** (k / 3)) for k in range(20))
MAX_DB = 12.0  # per band: a correction, not a new voice
STRENGTH = 1.0  # fraction of the measured difference applied
ACTIVE_DB = 30.0  # frames within this of the loudest count as speech
N_FFT = 1024
TAPS = 1023  # 43 ms at 24 kHz: resolves third-octave steps down to ~150 Hz (a 100 Hz band is 23 Hz wide)


def _band_levels(audio: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """(band dB, band power weight) of the active frames' mean power spectrum, per third-octave band."""
    x = np.asarray(audio, np.float64).reshape(-1)
    hop = N_FFT // 4
    if len(x) < N_FFT:
        x = np.pad(x, (0, N_FFT - len(x)))
    n = 1 + (len(x) - N_FFT) // hop
    frames = x[np.arange(N_FFT)[None, :] + hop * np.arange(n)[:, None]] * np.hanning(N_FFT)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    level = 10 * np.log10(power.sum(axis=1) + 1e-20)
    mean = power[level > level.max() - ACTIVE_DB].mean(axis=0)
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / sr)
    out = np.empty(len(BANDS_HZ))
    weight = np.empty(len(BANDS_HZ))
    for i, fc in enumerate(BANDS_HZ):
        band = (freqs >= fc * 2 ** (-1 / 6)) & (freqs < fc * 2 ** (1 / 6))
        p = mean[band].mean() if band.any() else mean[np.argmin(np.abs(freqs - fc))]
        out[i], weight[i] = 10 * np.log10(p + 1e-20), p
    return out, weight


def measure_colour(reference: np.ndarray, ref_sr: int, rendered: np.ndarray, sr: int,
                   strength: float = STRENGTH) -> tuple[float, ...]:
    """Band gains in dB that move ``rendered`` (the clone's own speech) towards ``reference``'s spectrum.

    Bands above 90 % of the reference's Nyquist frequency hold no information and get 0 dB. The gains are
    centred on the rendered speech's power so the equaliser keeps the overall level (within ~0.5 dB: the
    filter interpolates between band centres).
    """
    ref = np.asarray(reference, np.float64).reshape(-1)
    if ref_sr != sr:
        from scipy.signal import resample_poly

        ref = resample_poly(ref, sr, ref_sr)
    ref_db, _ = _band_levels(ref, sr)
    syn_db, weight = _band_levels(rendered, sr)
    valid = np.array(BANDS_HZ) * 2 ** (1 / 6) < 0.45 * ref_sr
    target = np.where(valid, strength * (ref_db - syn_db), 0.0)
    # Centre so the rendered speech's power is unchanged: the power-weighted mean gain is 0 dB. Clipping a
    # band moves that mean, so centre, clip and measure again until it holds (three rounds reach < 0.05 dB).
    w = weight[valid] / weight[valid].sum()
    offset = 0.0
    for _ in range(4):
        diff = np.clip(target[valid] - offset, -MAX_DB, MAX_DB)
        offset += 10 * np.log10(float(w @ 10 ** (diff / 10)))
    out = np.zeros(len(BANDS_HZ))
    out[valid] = np.clip(target[valid] - offset, -MAX_DB, MAX_DB)
    return tuple(round(float(d), 2) for d in out)


@lru_cache(maxsize=64)
def colour_filter(gains_db: tuple[float, ...], sr: int) -> np.ndarray:
    """The linear-phase FIR for band gains (interpolated in log frequency; 0 dB beyond the last band)."""
    if len(gains_db) != len(BANDS_HZ):
        raise ValueError(f"a colour has {len(BANDS_HZ)} band gains, got {len(gains_db)}")
    nyq = sr / 2
    freqs = np.linspace(0.0, nyq, 2049)
    logf = np.log(np.maximum(freqs, 1.0))
    bands = np.log(np.array(BANDS_HZ))
    g = np.interp(logf, bands, np.asarray(gains_db, np.float64))
    top = BANDS_HZ[-1] * 2 ** (1 / 6)  # fade to 0 dB over one octave above the last band
    fade = np.clip(1.0 - (freqs - top) / top, 0.0, 1.0)
    g = np.where(freqs > top, g * fade, g)
    from scipy.signal import firwin2  # imported on use: scipy.signal costs seconds of start-up

    return firwin2(TAPS, freqs / nyq, 10 ** (g / 20), nfreqs=4097).astype(np.float32)


def apply_colour(audio: np.ndarray, sr: int, gains_db: tuple[float, ...] | None) -> np.ndarray:
    """``audio`` through the colour's equaliser; unchanged when the voice has no colour."""
    if not gains_db or not any(gains_db) or len(audio) == 0:
        return audio
    h = colour_filter(tuple(float(g) for g in gains_db), sr)
    from scipy.signal import fftconvolve

    return fftconvolve(np.asarray(audio, np.float32), h, mode="same").astype(np.float32)


def blend_colours(parts: list[tuple[tuple[float, ...], float]]) -> tuple[float, ...]:
    """Weighted mean of colours (a voice without one counts as flat)."""
    if not any(c for c, _ in parts):
        return ()
    total = np.zeros(len(BANDS_HZ))
    for c, w in parts:
        if c:
            total += w * np.asarray(c, np.float64)
    return tuple(round(float(d), 2) for d in total)


class ColourStream:
    """The same equaliser over a stream of chunks: overlap-add with the filter's tail carried over.

    The output is the offline :func:`apply_colour` result, delayed by nothing: each chunk's last
    ``TAPS // 2`` samples are held back until the next chunk (or :meth:`flush`) completes them, so the
    concatenated chunks equal the filtered whole.
    """

    def __init__(self, gains_db: tuple[float, ...] | None, sr: int) -> None:
        self.h = colour_filter(tuple(float(g) for g in gains_db), sr) if gains_db and any(gains_db) else None
        self._tail = np.zeros(0, np.float32)  # convolution output not yet complete
        self._skip = TAPS // 2  # 'same' alignment: drop the first half-filter of the full convolution
        self._fed = 0
        self._given = 0

    def __call__(self, chunk: np.ndarray) -> np.ndarray:
        if self.h is None:
            return chunk
        chunk = np.asarray(chunk, np.float32)
        from scipy.signal import fftconvolve

        full = fftconvolve(chunk, self.h).astype(np.float32)  # len(chunk) + TAPS - 1
        n = max(len(self._tail), len(full))
        acc = np.zeros(n, np.float32)
        acc[: len(self._tail)] += self._tail
        acc[: len(full)] += full
        ready = len(chunk)  # samples complete: no later chunk reaches them
        out, self._tail = acc[:ready], acc[ready:]
        self._fed += len(chunk)
        if self._skip:
            cut = min(self._skip, len(out))
            out, self._skip = out[cut:], self._skip - cut
        self._given += len(out)
        return out

    def flush(self) -> np.ndarray:
        """The last samples (as many as the delay held back), so the total length equals the input's."""
        if self.h is None:
            return np.zeros(0, np.float32)
        rest = self._tail[self._skip:] if self._skip else self._tail
        out = rest[: max(0, self._fed - self._given)]
        self._tail = np.zeros(0, np.float32)
        self._given += len(out)
        return out.astype(np.float32)
