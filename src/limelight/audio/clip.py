"""Recorded clips placed in a performance (SSML ``<audio>``): decoded, mono, at the output rate, levelled."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from ..errors import LimelightError
from .loudness import match_loudness

MAX_CLIP_S = 60.0


def load_clip(path: str, sr: int) -> np.ndarray:
    """``path`` as float32 mono at ``sr`` Hz, at speech loudness (a clip recorded hot or quiet sits with the
    voice); at most ``MAX_CLIP_S`` seconds."""
    try:
        audio, rate = sf.read(path, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise LimelightError(f"<audio> file {path} is not readable audio (wav, flac, ogg or mp3): {exc}",
                             field="audio") from None
    mono = audio.mean(axis=1)
    if mono.size == 0 or not np.isfinite(mono).all():
        raise LimelightError(f"<audio> file {path} decodes to no usable samples", field="audio")
    if mono.size > MAX_CLIP_S * rate:
        raise LimelightError(f"<audio> file {path} is longer than {MAX_CLIP_S:g} s", field="audio")
    if rate != sr:
        g = int(np.gcd(int(rate), int(sr)))
        from scipy.signal import resample_poly  # on use: a plain say never loads scipy.signal

        mono = resample_poly(mono, sr // g, int(rate) // g)
    return match_loudness(np.asarray(mono, np.float32), sr)
