"""A picture of a take: waveform over pitch contour, with chunk boundaries, directions and sound effects marked.

Why a picture at all: it is the quickest way to see what a direction did (a whisper has almost no pitch track,
a shout a raised one; a pause is a gap), and where in the take a garbled chunk sits. Drawn with matplotlib's
object API (no pyplot state), so takes from several browser sessions can be drawn at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

_WAVE_POINTS = 2000  # min/max envelope columns: enough for a 1000 px wide image at any take length


def pitch_contour(audio: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(times, F0 in Hz, NaN where unvoiced) from the direction stage's YIN tracker; None if it is absent."""
    try:
        from ..direct.dsp import track_f0
    except ImportError:
        return None
    if audio.size < sr // 10:
        return None
    track = track_f0(audio, sr)
    f0 = np.where(track.f0 > 0, track.f0, np.nan)
    return np.arange(f0.size) * track.hop_s, f0


def _envelope(audio: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = max(1, audio.size // _WAVE_POINTS)
    cols = audio[: audio.size // n * n].reshape(-1, n)
    t = (np.arange(cols.shape[0]) * n + n / 2) / sr
    return t, cols.min(axis=1), cols.max(axis=1)


def _direction_label(chunk: dict[str, Any]) -> str:
    d = chunk.get("direction") or {}
    labels = [str(x) for x in d.get("labels") or [] if not str(x).startswith("voice:")]
    if not labels and d.get("register") not in (None, "normal"):
        labels = [str(d["register"])]
    return ", ".join(labels[:2])


def draw_take(audio: np.ndarray, sr: int, metadata: dict[str, Any], path: str | Path) -> Path:
    """Draw the take to a PNG at ``path`` and return the path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    audio = np.asarray(audio, np.float32).reshape(-1)
    duration = max(audio.size / sr, 1e-3)
    fig = Figure(figsize=(10, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    wave_ax, pitch_ax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1.2, 1]})
    if audio.size:
        t, lo, hi = _envelope(audio, sr)
        wave_ax.fill_between(t, lo, hi, color="#4f46e5", linewidth=0)
    wave_ax.set_ylim(-1, 1)
    wave_ax.set_ylabel("level")
    wave_ax.set_yticks([])
    contour = pitch_contour(audio, sr)
    if contour is not None:
        pitch_ax.plot(contour[0], contour[1], color="#db2777", linewidth=1.2)
        pitch_ax.set_ylabel("pitch (Hz)")
    else:
        pitch_ax.text(0.5, 0.5, "pitch tracker not available in this build", ha="center", va="center",
                      transform=pitch_ax.transAxes, color="#6b7280")
    for i, chunk in enumerate(metadata.get("chunks") or []):
        start = float(chunk.get("start_s") or 0.0)
        end = start + float(chunk.get("duration_s") or 0.0)
        for ax in (wave_ax, pitch_ax):
            ax.axvspan(start, end, color="#e0e7ff" if i % 2 == 0 else "#fce7f3", alpha=0.55, zorder=0)
            ax.axvline(start, color="#6b7280", linewidth=0.8, linestyle="--")
        label = f"#{chunk.get('index', i)}"
        direction = _direction_label(chunk)
        wave_ax.text(start + 0.02 * duration / 10, 0.92, f"{label} {direction}".strip(), va="top", fontsize=8,
                     color="#111827", clip_on=True)
    for sound in metadata.get("sounds") or []:
        at = float(sound.get("at_s") or 0.0)
        wave_ax.axvline(at, color="#059669", linewidth=1.5)
        wave_ax.text(at, -0.95, f"♪ {sound.get('description', '')}"[:40], fontsize=8, color="#059669", clip_on=True)
    pitch_ax.set_xlim(0, duration)
    pitch_ax.set_xlabel("seconds")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, format="png")
    return out
