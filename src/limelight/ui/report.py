"""The per-chunk report as table rows, and the take's one-line summary and notes."""

from __future__ import annotations

import math
from typing import Any

HEADERS = ["#", "where", "voice", "text", "duration s", "estimated s", "match ratio", "attempts", "direction"]


def _ratio(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not checked"
    return f"{float(value):.2f}"


def _direction(d: dict[str, Any] | None) -> str:
    if not d:
        return ""
    labels = [str(x) for x in d.get("labels") or []]
    return ", ".join(labels) or str(d.get("register") or "")


def chunk_rows(metadata: dict[str, Any]) -> list[list[Any]]:
    """One row per speech chunk: text, duration, match ratio and attempts, as the issue's report asks."""
    return [[c.get("index", i), f"{c.get('line', '?')}:{c.get('col', '?')}", c.get("voice", ""), c.get("text", ""),
             round(float(c.get("duration_s") or 0.0), 2), round(float(c.get("est_duration_s") or 0.0), 2),
             _ratio(c.get("match_ratio")), int(c.get("attempts") or 0), _direction(c.get("direction"))]
            for i, c in enumerate(metadata.get("chunks") or [])]


def summary_markdown(metadata: dict[str, Any]) -> str:
    """Duration, speed, seed and the average match; then every requested feature this build did not apply."""
    seconds = float(metadata.get("duration_s") or 0.0)
    ms = float(metadata.get("processing_ms") or 0.0)
    rtf = f" (real-time factor {ms / 1000 / seconds:.2f})" if seconds > 0 else ""
    match = metadata.get("match_ratio")
    text = (f"**{seconds:.2f} s** of audio in {ms / 1000:.1f} s{rtf} · seed `{metadata.get('seed')}` · "
            f"match {'not checked' if match is None else f'{match:.2f}'}")
    notes = metadata.get("not_applied") or []
    if notes:
        text += "\n\n" + "\n".join(f"- *{n.get('field')}* not applied: {n.get('reason')}" for n in notes)
    return text
