"""Edge-silence trimming shared by the engines.

Models pad their output with different amounts of near-silence; trimming to a fixed short margin makes
sentence gaps (added by the caller) the only pauses, so timing is predictable and chunks join cleanly.
"""

from __future__ import annotations

import numpy as np


def silence_bounds(audio: np.ndarray, sr: int, threshold_db: float = -42.0,
                   margin_s: float = 0.04) -> tuple[int, int]:
    """``(start, end)`` of what :func:`trim_silence` keeps; ``(0, 0)`` when nothing is loud enough."""
    if audio.size == 0:
        return 0, 0
    peak = float(np.max(np.abs(audio)))
    if peak <= 0:
        return 0, 0
    hop = max(1, sr // 100)
    n = audio.size // hop
    if n == 0:
        return 0, audio.size
    frames = audio[: n * hop].reshape(n, hop)
    level = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1)) / peak
    loud = np.nonzero(level > 10 ** (threshold_db / 20))[0]
    if loud.size == 0:
        return 0, 0
    margin = int(margin_s * sr)
    return max(0, int(loud[0]) * hop - margin), min(audio.size, (int(loud[-1]) + 1) * hop + margin)


def trim_silence(audio: np.ndarray, sr: int, threshold_db: float = -42.0, margin_s: float = 0.04) -> np.ndarray:
    """Cut leading/trailing audio quieter than ``threshold_db`` relative to the peak, keeping a margin."""
    start, end = silence_bounds(audio, sr, threshold_db, margin_s)
    return audio[start:end]
