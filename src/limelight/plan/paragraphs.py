"""Paragraph breaks in plain text.

The parser collapses whitespace, so a blank line in plain text would only end a sentence. A listener expects a
longer pause between paragraphs (and after a heading such as "Chapter One: …" on its own line), so before
planning, plain text is re-read paragraph by paragraph and a `ParagraphBreak` (a `PauseSegment` of
``PARAGRAPH_PAUSE_S``) is put between the paragraphs. Markup is left alone: it has ``<pause/>`` for that.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..errors import ScriptError
from ..script import Script, parse
from .chunks import PARAGRAPH_PAUSE_S, ParagraphBreak

_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")


def _position(source: str, index: int) -> tuple[int, int]:
    """1-based line and column of ``source[index]``."""
    return source.count("\n", 0, index) + 1, index - (source.rfind("\n", 0, index) + 1) + 1


def mark_paragraphs(source: str, script: Script, seconds: float = PARAGRAPH_PAUSE_S) -> Script:
    """``script`` (parsed from plain-text ``source``) with a `ParagraphBreak` at every blank line.

    Segments keep the line and column they have in the whole source. Markup, text without blank lines, and
    anything the paragraph-wise reading cannot parse (say a comment spanning a blank line) come back unchanged.
    """
    if script.source_is_markup or not _BREAK.search(source.strip()):
        return script
    segments: list = []
    start = len(source) - len(source.lstrip())
    bounds = [(m.start(), m.end()) for m in _BREAK.finditer(source, start)] + [(len(source), len(source))]
    for end, next_start in bounds:
        text = source[start:end]
        if text.strip():
            try:
                part = parse(text)
            except ScriptError:
                return script
            if part.source_is_markup or [s.id for s in part.speakers] != [s.id for s in script.speakers]:
                return script
            line, col = _position(source, start)
            if segments:
                segments.append(ParagraphBreak(seconds, line, col))
            for seg in part.segments:
                segments.append(replace(seg, line=seg.line + line - 1,
                                        col=seg.col + col - 1 if seg.line == 1 else seg.col))
        start = next_start
    return replace(script, segments=tuple(segments))
