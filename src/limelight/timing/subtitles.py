"""Subtitle cues from word timings: SRT and WebVTT.

Cues follow common broadcast guidance (e.g. the BBC's and Netflix's timed-text styles): at most two lines of
about 42 characters, at most ~7 s on screen, at least ~0.8 s where the audio allows, a new cue at a speaker
change, at a sentence end once the cue has some text, and at a pause. Cues never overlap and stay inside the
audio. WebVTT cues carry the speaker in a voice tag (``<v Anna>``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import LimelightError
from .words import WordTiming

MAX_LINE_CHARS = 42
MAX_LINES = 2
MAX_CUE_S = 7.0
MIN_CUE_S = 0.8
PAUSE_BREAK_S = 0.6  # a silence this long between words starts a new cue
SENTENCE_END = (".", "!", "?", "…", "。", "！", "？")


@dataclass(frozen=True)
class Cue:
    """One subtitle: its time span, its text as lines, and who speaks it."""

    start: float
    end: float
    lines: tuple[str, ...]
    speaker: str | None = None

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _wrap(words: Sequence[str], width: int = MAX_LINE_CHARS) -> list[str]:
    """Words into lines of at most ``width`` characters, balanced when two lines are needed."""
    text = " ".join(words)
    if len(text) <= width:
        return [text]
    best: tuple[int, list[str]] | None = None
    for cut in range(1, len(words)):
        a, b = " ".join(words[:cut]), " ".join(words[cut:])
        if len(a) <= width and len(b) <= width:
            score = abs(len(a) - len(b))
            if best is None or score < best[0]:
                best = (score, [a, b])
    return best[1] if best else [text]


def _fits(words: Sequence[str]) -> bool:
    return len(_wrap(words)) <= MAX_LINES and all(len(line) <= MAX_LINE_CHARS for line in _wrap(words)) or (
        len(words) == 1)


def make_cues(words: Sequence[WordTiming], duration_s: float | None = None) -> list[Cue]:
    """Group timed words into readable, non-overlapping cues inside ``[0, duration_s]``."""
    groups: list[list[WordTiming]] = []
    for w in sorted(words, key=lambda x: x.start):
        cur = groups[-1] if groups else None
        if cur is not None:
            last = cur[-1]
            text = [x.word for x in cur] + [w.word]
            new = (w.speaker != last.speaker or w.start - last.end >= PAUSE_BREAK_S
                   or w.end - cur[0].start > MAX_CUE_S or not _fits(text)
                   or (last.word.endswith(SENTENCE_END) and len(" ".join(x.word for x in cur)) >= MAX_LINE_CHARS // 2))
            if not new:
                cur.append(w)
                continue
        groups.append([w])
    cues: list[Cue] = []
    for i, g in enumerate(groups):
        start, end = g[0].start, g[-1].end
        nxt = groups[i + 1][0].start if i + 1 < len(groups) else (duration_s if duration_s is not None else end)
        if end - start < MIN_CUE_S:  # linger for reading, up to the next cue
            end = min(start + MIN_CUE_S, nxt)
        end = min(end, nxt)
        if duration_s is not None:
            start, end = min(start, duration_s), min(end, duration_s)
        if cues and start < cues[-1].end:
            start = cues[-1].end
        end = max(end, start)
        cues.append(Cue(start=start, end=end, lines=tuple(_wrap([x.word for x in g])), speaker=g[0].speaker))
    return cues


def _stamp(seconds: float, sep: str) -> str:
    ms = int(round(max(0.0, seconds) * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(cues: Sequence[Cue]) -> str:
    """SubRip text (1-based cue numbers, ``HH:MM:SS,mmm``)."""
    blocks = [f"{i}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n{c.text}\n" for i, c in enumerate(cues, 1)]
    return "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(cues: Sequence[Cue]) -> str:
    """WebVTT text; each cue's first line opens a voice tag naming its speaker."""
    out = ["WEBVTT", ""]
    for c in cues:
        lines = [_vtt_escape(line) for line in c.lines]
        if c.speaker:
            lines[0] = f"<v {_vtt_escape(c.speaker)}>{lines[0]}"
        out += [f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}", *lines, ""]
    return "\n".join(out)


def check_subtitle_path(path: str | os.PathLike[str]) -> Path:
    """The path, if it names a ``.srt`` or ``.vtt`` file in a writable folder (checked before any rendering)."""
    out = Path(path)
    if out.suffix.lower() not in (".srt", ".vtt"):
        raise LimelightError(f"subtitles must be .srt or .vtt, got {out.name!r}", field="subtitles")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise LimelightError(f"cannot write subtitles to {str(out)!r}: the folder does not exist or is not "
                             "writable", field="subtitles")
    return out


def write_subtitles(path: str | os.PathLike[str], words: Sequence[WordTiming], duration_s: float | None) -> Path:
    """Write ``.srt`` or ``.vtt`` (chosen by the extension) for ``words``."""
    out = check_subtitle_path(path)
    ext = out.suffix.lower()
    cues = make_cues(words, duration_s)
    out.write_text(to_srt(cues) if ext == ".srt" else to_vtt(cues), encoding="utf-8")
    return out
