"""The fast decoder's signal side, in numpy: F0 → harmonic excitation, envelopes × spectra → waveform.

Kokoro's generator spends ~75 % of the CPU time turning 80 frames per second into 24 000 samples with
convolutions at upsampled rates. The student (:mod:`limelight.train.fastdec`) instead predicts, per frame,
two spectral envelopes, and this module does the rest with FFTs, which cost almost nothing:

* a **band-limited pulse train** at the predicted F0 (every harmonic up to Nyquist, unit power, its phase
  integrated from F0, so pitch is exactly the teacher's and stays coherent across frames), faded in and out
  with a soft voicing weight;
* its STFT times the **harmonic envelope**, plus complex Gaussian noise times the **noise envelope**;
* an inverse STFT (Hann window, hop 300 = one F0 frame, n_fft 1200), as :func:`torch.istft` does it.

The network never has to invent phase, which is what a frame-rate vocoder trained without an adversary gets
wrong first. The torch twin used in training lives in :mod:`limelight.train.fastdec.model` and is tested to
give the same samples as these functions.
"""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 24_000
HOP = 300  #: samples per F0 frame (Kokoro's F0 runs at 80 frames per second)
N_FFT = 1200  #: 50 ms window: 20 Hz bins resolve the harmonics of any speaking voice
N_BINS = N_FFT // 2 + 1
MAX_HARMONICS = 200.0
VOICED_LO, VOICED_HI = 10.0, 40.0  #: Hz; Kokoro calls F0 < 10 Hz unvoiced; the weight ramps up to 40 Hz


def voicing(f0: np.ndarray) -> np.ndarray:
    """Soft voicing weight in [0, 1] per F0 value (a hard switch clicks at voicing edges)."""
    return np.clip((f0 - VOICED_LO) / (VOICED_HI - VOICED_LO), 0.0, 1.0)


def frames_to_samples(values: np.ndarray, hop: int = HOP) -> np.ndarray:
    """Linear interpolation of a per-frame curve [..., L] to samples [..., L * hop], frame centres at
    (i + 0.5) * hop - 0.5 (edges held). Written out so that the torch twin is the same arithmetic."""
    n_frames = values.shape[-1]
    pos = (np.arange(n_frames * hop) + 0.5) / hop - 0.5
    i0 = np.clip(np.floor(pos), 0, n_frames - 1).astype(np.int64)
    i1 = np.minimum(i0 + 1, n_frames - 1)
    w = np.clip(pos - i0, 0.0, 1.0)
    return values[..., i0] * (1.0 - w) + values[..., i1] * w


def harmonic_excitation(f0: np.ndarray, phase0: float = 0.0) -> np.ndarray:
    """Band-limited pulse train [L * HOP] for F0 [L] in Hz (per frame), float64 phase, unit mean power.

    Sum of cos(h·φ) for every harmonic below Nyquist, by the Dirichlet kernel's closed form (two sines per
    sample instead of ~100). The count of harmonics is continuous: the top one fades in with the fractional
    part, so a glide across a harmonic boundary does not click.
    """
    f0 = np.asarray(f0, np.float64)
    f = np.maximum(frames_to_samples(f0), 1.0)
    phase = 2 * np.pi * np.mod(np.cumsum(f / SAMPLE_RATE) + phase0, 1.0)
    count = np.clip(0.5 * SAMPLE_RATE / np.maximum(f, 20.0), 1.0, MAX_HARMONICS)
    n = np.floor(count)
    half = np.sin(0.5 * phase)
    safe = np.where(np.abs(half) < 1e-6, 1.0, half)
    kernel = np.where(np.abs(half) < 1e-6, n, np.sin((n + 0.5) * phase) / (2 * safe) - 0.5)
    pulse = (kernel + (count - n) * np.cos((n + 1) * phase)) / np.sqrt(0.5 * count)
    return pulse * frames_to_samples(voicing(f0))


WINDOW = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)  #: periodic Hann, as torch.hann_window
WINDOW.setflags(write=False)


def stft(x: np.ndarray) -> np.ndarray:
    """Complex STFT [N_BINS, len(x) // HOP + 1] of a 1-D signal: centred, reflect-padded, like torch.stft."""
    pad = N_FFT // 2
    padded = np.pad(x, (pad, pad), mode="reflect")
    n_frames = 1 + (len(padded) - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n_frames)[:, None]
    return np.fft.rfft(padded[idx] * WINDOW, axis=-1).T


def istft(spec: np.ndarray, length: int) -> np.ndarray:
    """Inverse of :func:`stft` by windowed overlap-add normalised by the summed squared window (torch.istft)."""
    frames = np.fft.irfft(spec.T, n=N_FFT, axis=-1) * WINDOW
    n_frames = frames.shape[0]
    total = N_FFT + HOP * (n_frames - 1)
    out = np.zeros(total)
    norm = np.zeros(total)
    w2 = WINDOW**2
    for i in range(n_frames):  # n_frames ≈ 80 per second: a Python loop of numpy adds is cheap enough
        out[i * HOP: i * HOP + N_FFT] += frames[i]
        norm[i * HOP: i * HOP + N_FFT] += w2
    pad = N_FFT // 2
    out, norm = out[pad: pad + length], norm[pad: pad + length]
    return out / np.where(norm > 1e-11, norm, 1.0)


def noise_spectrum(n_frames: int, rng: np.random.Generator) -> np.ndarray:
    """Complex white Gaussian noise in the STFT domain, scaled like the STFT of unit-variance white noise."""
    scale = np.sqrt(0.5 * np.sum(WINDOW**2))
    return (rng.standard_normal((N_BINS, n_frames)) + 1j * rng.standard_normal((N_BINS, n_frames))) * scale


def render(harmonic_env: np.ndarray, noise_env: np.ndarray, f0: np.ndarray, seed: int = 0,
           phase0: float = 0.0) -> np.ndarray:
    """Waveform [L * HOP] float32 from envelopes [N_BINS, L + 1] (one per STFT frame) and F0 [L] (Hz)."""
    n = f0.shape[-1] * HOP
    spec = stft(harmonic_excitation(f0, phase0)) * harmonic_env
    spec = spec + noise_spectrum(spec.shape[-1], np.random.default_rng(seed)) * noise_env
    return istft(spec, n).astype(np.float32)
