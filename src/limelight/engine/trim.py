"""Edge-silence trimming shared by the engines.

Models pad their output with different amounts of near-silence; trimming to a fixed short margin makes
sentence gaps (added by the caller) the only pauses, so timing is predictable and chunks join cleanly.
"""

from __future__ import annotations

import numpy as np


def trim_silence(audio: np.ndarray, sr: int, threshold_db: float = -42.0, margin_s: float = 0.04) -> np.ndarray:
    """Cut leading/trailing audio quieter than ``threshold_db`` relative to the peak, keeping a margin."""
    if audio.size == 0:
        return audio
    peak = float(np.max(np.abs(audio)))
    if peak <= 0:
        return audio[:0]
    hop = max(1, sr // 100)
    n = audio.size // hop
    if n == 0:
        return audio
    frames = audio[: n * hop].reshape(n, hop)
    level = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1)) / peak
    loud = np.nonzero(level > 10 ** (threshold_db / 20))[0]
    if loud.size == 0:
        return audio[:0]
    margin = int(margin_s * sr)
    start = max(0, loud[0] * hop - margin)
    end = min(audio.size, (loud[-1] + 1) * hop + margin)
    return audio[start:end]
