"""Where SSML ``<mark>``s fall in the rendered audio, from the chunk reports.

A mark is kept on the :class:`~limelight.script.Script` as (segment, character offset of the written text).
The chunks of a segment are found by its line and column. With word timings (``metadata["words"]``) a mark
falls at the start of the first word after it (at the end of the last word when nothing follows); without them
at the mark's share of the segment's characters over the segment's rendered span.
"""

from __future__ import annotations

from typing import Any

from ..script.model import Script, TextSegment


def mark_times(script: Script, chunks: list[dict[str, Any]], words: list[Any] | None = None) -> list[dict[str, Any]]:
    """``[{"name", "at_s", "line", "col"}]`` for the script's marks, in order (``at_s`` None when the segment
    produced no audio). ``words`` are the performance's word timings (objects with ``chunk``, ``start``,
    ``end``), when there are any."""
    out: list[dict[str, Any]] = []
    for mark in script.marks:
        seg = script.segments[mark.segment] if 0 <= mark.segment < len(script.segments) else None
        at: float | None = None
        if isinstance(seg, TextSegment):
            mine = [c for c in chunks if (c.get("line"), c.get("col"), c.get("speaker")) ==
                    (seg.line, seg.col, seg.speaker_id) and c.get("start_s") is not None]
            indices = {c.get("index") for c in mine}
            timed = [w for w in words or [] if w.chunk in indices]
            before = len(seg.written[: mark.offset].split())
            if timed:
                at = round(float(timed[before].start if before < len(timed) else timed[-1].end), 3)
            elif mine:
                start = float(mine[0]["start_s"])
                end = float(mine[-1]["start_s"]) + float(mine[-1]["duration_s"])
                share = mark.offset / max(len(seg.written), 1)
                at = round(start + min(max(share, 0.0), 1.0) * (end - start), 3)
        out.append({"name": mark.name, "at_s": at, "line": mark.line, "col": mark.col})
    return out
