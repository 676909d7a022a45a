"""The validation verdict of a whole performance, in the three forms its readers need.

A take whose chunks fail the Whisper check is still written (the user's minutes of work are never thrown
away), but it must not look like a success: the CLI prints which chunks failed and exits with
``EXIT_VALIDATION_FAILED``, the server sends ``X-Limelight-Validation`` and ``metadata["validation"]``, and the
studio shows a warning instead of "Done.". All three read :func:`validation_summary`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

EXIT_VALIDATION_FAILED = 3
"""CLI exit status when the output was written but at least one chunk failed the Whisper check."""


def validation_summary(chunks: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """``{"passed", "checked", "failed": [...]}`` over the checked chunks; None when nothing was validated."""
    checked = [c for c in chunks if c.get("passed") is not None]
    if not checked:
        return None
    failed = [{"index": c.get("index"), "line": c.get("line"), "col": c.get("col"), "text": c.get("text", ""),
               "match_ratio": c.get("match_ratio"), "attempts": c.get("attempts"),
               "transcript": c.get("transcript", "")} for c in checked if not c["passed"]]
    return {"passed": not failed, "checked": len(checked), "failed": failed}


def _short(text: str, n: int = 48) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def failure_lines(summary: Mapping[str, Any] | None, min_match_ratio: float | None = None) -> list[str]:
    """Human-readable lines: a headline, then one line per failed chunk (where, match, what was heard)."""
    if not summary or summary["passed"]:
        return []
    failed = summary["failed"]
    bar = f" (needed {min_match_ratio:.2f})" if min_match_ratio is not None else ""
    lines = [f"validation failed for {len(failed)} of {summary['checked']} chunk"
             f"{'s' if summary['checked'] != 1 else ''}{bar}; the audio was written anyway:"]
    for f in failed:
        where = f"line {f['line']}, col {f['col']}" if f.get("line") else f"chunk {f['index']}"
        ratio = f["match_ratio"] if f["match_ratio"] is not None else float("nan")
        lines.append(f"  chunk {f['index']} ({where}): match {ratio:.2f} after {f['attempts']} attempt"
                     f"{'s' if f['attempts'] != 1 else ''}: {_short(f['text'])!r} heard as "
                     f"{_short(f['transcript'])!r}")
    return lines


def header_value(summary: Mapping[str, Any] | None) -> str:
    """``X-Limelight-Validation``: ``off``, ``passed``, or ``failed; chunks=0,2; match=0.12,0.40``."""
    if not summary:
        return "off"
    if summary["passed"]:
        return "passed"
    failed = summary["failed"]
    chunks = ",".join(str(f["index"]) for f in failed)
    ratios = ",".join("nan" if f["match_ratio"] is None else f"{f['match_ratio']:.2f}" for f in failed)
    return f"failed; chunks={chunks}; match={ratios}"
