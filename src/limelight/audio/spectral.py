"""Spectral helpers shared by training losses and benchmarks."""

from __future__ import annotations

import numpy as np


def mel_filters(n_fft: int = 1024, n_mels: int = 80, sr: int = 24_000) -> np.ndarray:
    """HTK-scale triangular mel filterbank [n_mels, n_fft // 2 + 1] (unnormalised peaks of 1), float64.

    Written out rather than taken from librosa or torchaudio: the GPU machine that trains with it has neither.
    """
    def hz_to_mel(f: float) -> float:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    edges = 700.0 * (10 ** (np.linspace(0.0, hz_to_mel(sr / 2), n_mels + 2) / 2595.0) - 1.0)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    fb = np.zeros((n_mels, len(freqs)))
    for i in range(n_mels):
        lo, mid, hi = edges[i:i + 3]
        fb[i] = np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0.0, None)
    return fb
