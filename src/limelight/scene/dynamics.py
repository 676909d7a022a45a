"""Levels and gain curves for the mix: active level, ducking under speech, an effects-only limiter.

Levels are measured the way listeners judge them: the *active* level of a signal (RMS over the frames
that are not near-silence), so a sentence with long pauses and a continuous bed compare fairly.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d, minimum_filter1d, uniform_filter1d

HOP_S = 0.01


def frame_energy(x: np.ndarray, sr: int, hop_s: float = HOP_S, n_frames: int | None = None) -> np.ndarray:
    """Mean square per hop-sized frame (zero beyond the end of ``x``, up to ``n_frames``)."""
    hop = max(1, int(hop_s * sr))
    frames = n_frames if n_frames is not None else -(-len(x) // hop)
    padded = np.zeros(frames * hop)
    take = min(len(x), len(padded))
    padded[:take] = np.asarray(x[:take], dtype=np.float64)
    return np.mean(padded.reshape(frames, hop) ** 2, axis=1)


def active_level(x: np.ndarray, sr: int, floor_db: float = 30.0) -> float:
    """RMS over the 50 ms frames within ``floor_db`` of the loudest one (0.0 for silence).

    The spirit of ITU-T P.56's active speech level, simplified: pauses do not drag the level down.
    """
    if len(x) == 0:
        return 0.0
    e = frame_energy(x, sr, 0.05)
    top = float(e.max())
    if top <= 0:
        return 0.0
    return float(np.sqrt(np.mean(e[e >= top * 10 ** (-floor_db / 10)])))


def duck_gain(voice: np.ndarray, sr: int, n: int, *, depth_db: float = -12.0, attack_s: float = 0.05,
              release_s: float = 0.45, hold_s: float = 0.2, lookahead_s: float = 0.15,
              threshold_db: float = -30.0) -> np.ndarray:
    """Gain curve (length ``n``) that lowers a bed by ``depth_db`` wherever the voice is speaking.

    Activity ramps from 0 to 1 between ``threshold_db`` and 10 dB above it, relative to the voice's active
    level. It is held ``hold_s`` (so the bed does not pump between words), looked ahead by ``lookahead_s``
    (the bed is pre-rendered, so it is fully down by the first syllable) and smoothed with separate
    attack and release times.
    """
    frames = -(-n // max(1, int(HOP_S * sr)))
    level = active_level(voice, sr)
    if level <= 0 or n == 0:
        return np.ones(n, dtype=np.float32)
    db = 10 * np.log10(frame_energy(voice, sr, HOP_S, frames) + 1e-20) - 20 * np.log10(level)
    activity = np.clip((db - threshold_db) / 10.0, 0.0, 1.0)
    hold = max(1, int(hold_s / HOP_S))
    activity = maximum_filter1d(activity, size=hold, origin=(hold - 1) // 2)  # extend active frames forward
    ahead = max(0, int(lookahead_s / HOP_S))
    activity = np.maximum(activity, np.append(activity[ahead:], np.zeros(ahead)))
    up = 1 - np.exp(-HOP_S / attack_s)
    down = 1 - np.exp(-HOP_S / release_s)
    smooth = np.empty_like(activity)
    state = 0.0
    for i, a in enumerate(activity):
        state += (up if a > state else down) * (a - state)
        smooth[i] = state
    gain_db = depth_db * smooth
    t_frames = (np.arange(frames) + 0.5) * HOP_S * sr
    return (10 ** (np.interp(np.arange(n), t_frames, gain_db) / 20)).astype(np.float32)


def limit_against(x: np.ndarray, bed: np.ndarray, ceiling: float, sr: int) -> np.ndarray:
    """Turn ``x`` down, only where needed, so that ``|bed + x|`` stays within ``ceiling``.

    Used on the effects stem: a gunshot over speech is tamed without changing the voice's level for the
    whole performance (as normalising the mix would). The gain is a minimum filter followed by a shorter
    moving average, which is provably never above the gain each sample needs, so no sample overshoots.
    """
    ax = np.abs(x)
    room_left = np.maximum(ceiling - np.abs(bed), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        need = np.where(ax > room_left, room_left / np.maximum(ax, 1e-12), 1.0)
    if need.min() >= 1.0:
        return x
    w = max(1, int(0.01 * sr))
    gain = uniform_filter1d(minimum_filter1d(need, size=4 * w + 1), size=2 * w + 1)
    gain = np.minimum(gain, need)  # float rounding in the average must not let a sample through
    return x * gain
