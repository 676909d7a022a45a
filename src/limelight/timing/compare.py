"""How far limelight's word timings are from another timer's (Whisper's word timestamps): the measure the
timestamp benchmark and tests share."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

import numpy as np

from .words import WordTiming


@dataclass(frozen=True)
class TimingAgreement:
    """Start-time errors over the words both sides agree on, and the share of our words that were matched."""

    errors_ms: tuple[float, ...]
    total: int

    @classmethod
    def of(cls, errors_s: Sequence[float], total: int) -> TimingAgreement:
        return cls(tuple(float(e) * 1000 for e in errors_s), total)

    @classmethod
    def pooled(cls, parts: Sequence[TimingAgreement]) -> TimingAgreement:
        return cls(tuple(e for p in parts for e in p.errors_ms), sum(p.total for p in parts))

    @property
    def matched(self) -> int:
        return len(self.errors_ms)

    @property
    def median_ms(self) -> float:
        return float(np.median(self.errors_ms)) if self.errors_ms else float("nan")

    @property
    def p90_ms(self) -> float:
        return float(np.percentile(self.errors_ms, 90)) if self.errors_ms else float("nan")

    @property
    def share(self) -> float:
        return self.matched / self.total if self.total else 1.0


def _key(word: str) -> str:
    return re.sub(r"[^\w]", "", word.lower())


def agreement(ours: Sequence[WordTiming], heard: Sequence[tuple[str, float, float]]) -> TimingAgreement:
    """Match our words (by spoken form, word by word) to ``heard`` ``(word, start, end)`` in order and compare
    start times (matched on the written form, which is how Whisper writes numbers too)."""
    ours_keys: list[str] = []
    ours_start: list[float] = []
    for w in ours:  # Whisper writes what was written ("$12", "3rd") more often than what was spoken
        ours_keys.append(_key(w.word))
        ours_start.append(w.start)
    heard_keys = [_key(h[0]) for h in heard]
    errors: list[float] = []
    for tag, a0, a1, b0, b1 in SequenceMatcher(None, ours_keys, heard_keys, autojunk=False).get_opcodes():
        # Equal words pair up; so do same-length runs Whisper misheard in place ("weather" → "whether").
        if tag == "equal" or (tag == "replace" and a1 - a0 == b1 - b0):
            errors.extend(abs(ours_start[a0 + k] - heard[b0 + k][1]) for k in range(a1 - a0))
    return TimingAgreement.of(errors, len(ours_keys))
