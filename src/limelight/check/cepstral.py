"""A second, classic speaker verifier: MFCC statistics with cepstral mean normalisation (no neural network).

Why it exists: clones are made with Resemblyzer in the loop (the zero-shot encoder maps its embeddings, the
enrollment climbs its gradient), so a Resemblyzer score alone cannot show that a clone moved towards its speaker
rather than into the encoder's blind spots. This verifier shares nothing with it and nothing in limelight
optimises it. Per utterance: 19 MFCCs (c1-c19, 40 mel bands to 7.6 kHz, 16 kHz, 25 ms / 10 ms) and their
deltas on the speech frames; the per-utterance mean is removed (CMN: a static equaliser, i.e. microphone, room
and a clone's colour, drops out), so what is left is how the spectrum *moves*: the log standard deviation of each
coefficient and the correlations of c1-c12. Each dimension is standardised with a mean and spread measured once
on the *fit* half of ``shared/voices/train`` (even positions by speaker id; ``bench/clone_deep.py`` reports on
the other half), then the vector is L2-normalised so cosines compare like Resemblyzer's.

It is a weak verifier (i-vector-era features without the back end); use it through normalised similarity,
which cancels its scale, and for direction, not as an absolute score.
"""

from __future__ import annotations

import importlib.resources as resources
from functools import lru_cache

import numpy as np

RATE = 16_000
N_FFT, HOP = 512, 160
N_MFCC = 20
FMAX = 7600.0
SPEECH_NATS = 6.0  # frames whose loudest mel band is within 6 nats (26 dB) of the clip's loudest: speech
NORM_FILE = "cepstral_norm.npz"


def mfcc_frames(audio: np.ndarray, sr: int) -> np.ndarray:
    """[speech frames, 38]: MFCC c1-c19 and their deltas of the loud (speech) frames."""
    from scipy.fft import dct
    from scipy.signal import resample_poly

    from ..audio import spectral

    x = np.asarray(audio, np.float64).reshape(-1)
    if sr != RATE:
        g = np.gcd(int(sr), RATE)
        x = resample_poly(x, RATE // g, int(sr) // g)
    if len(x) < N_FFT:
        x = np.pad(x, (0, N_FFT - len(x)))
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(1 + (len(x) - N_FFT) // HOP)[:, None]
    spec = np.abs(np.fft.rfft(x[idx] * np.hanning(N_FFT), axis=1)) ** 2
    mel = spectral.mel_filters(N_FFT, 40, RATE)
    mel[:, int(FMAX / RATE * N_FFT):] = 0.0
    mel = mel[mel.sum(1) > 0]
    logmel = np.log(spec @ mel.T + 1e-10)
    energy = logmel.max(1)
    speech = energy > energy.max() - SPEECH_NATS
    c = dct(logmel, type=2, axis=1, norm="ortho")[:, 1:N_MFCC]
    d = np.gradient(c, axis=0)
    return np.concatenate([c, d], axis=1)[speech]


def raw_vector(audio: np.ndarray, sr: int) -> np.ndarray:
    """The unstandardised statistics (log std of 38 dims, 66 correlations of c1-c12) after CMN."""
    f = mfcc_frames(audio, sr)
    f = f - f.mean(0)
    std = f.std(0)
    c = f[:, :12] / (std[:12] + 1e-9)
    corr = (c.T @ c / len(c))[np.triu_indices(12, 1)]
    return np.concatenate([np.log(std + 1e-9), corr])


@lru_cache(maxsize=1)
def norm_stats() -> tuple[np.ndarray, np.ndarray]:
    path = resources.files("limelight.check") / "data" / NORM_FILE
    with path.open("rb") as fh, np.load(fh) as z:
        return z["mean"].astype(np.float64), z["std"].astype(np.float64)


def cepstral_vector(audio: np.ndarray, sr: int) -> np.ndarray:
    """Unit-norm verifier vector of ``audio`` (any rate, ≥ ~1 s of speech)."""
    mean, std = norm_stats()
    v = (raw_vector(audio, sr) - mean) / std
    return v / max(float(np.linalg.norm(v)), 1e-12)
