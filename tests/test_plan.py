"""The plan stage: chunk targets, long-sentence splitting, paragraph pauses (no synthesis here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import TEXTS

from limelight.plan import (
    CHUNK_MAX_S,
    CHUNK_TARGET_S,
    PARAGRAPH_PAUSE_S,
    SilenceItem,
    SpeechChunk,
    mark_paragraphs,
    plan_script,
    split_clauses,
)
from limelight.plan.chunks import TOKENS_PER_SECOND, VOICE_TOKENS_PER_SECOND, voice_tokens_per_second
from limelight.script import parse

BENCH_TEXTS = Path(__file__).resolve().parents[1] / "bench" / "texts"


def _chars(text: str, language: str) -> int:
    return len(text)  # one "token" per character: 17.4 characters per second


def _plain(text: str):
    return mark_paragraphs(text, parse(text))


@pytest.fixture(scope="module")
def performer():
    from limelight.perform import Performer

    return Performer()


def test_target_leaves_room_for_the_measured_spread():
    # Long-form measurement: actual/estimated up to 1.14 at 17.4 tokens/s; the target keeps that under 15 s.
    assert TOKENS_PER_SECOND == pytest.approx(17.4)
    assert CHUNK_TARGET_S * 1.14 < CHUNK_MAX_S


def test_plan_of_dev_text_and_chapter_stays_under_target(performer):
    texts = [(TEXTS / "en_dev.txt").read_text(), (BENCH_TEXTS / "chapter_2k.txt").read_text()]
    for text in texts:
        chunks = [i for i in performer.plan(text, validate=False) if isinstance(i, SpeechChunk)]
        assert len(chunks) > 10
        for chunk in chunks:
            assert chunk.est_s <= CHUNK_TARGET_S, (chunk.est_s, chunk.text[:60])
            assert all(s.strip() for s in chunk.sentences)


def test_long_sentence_splits_at_clauses_then_words():
    clause = "the wind pushed at the window frames and somewhere below the rocks the sea kept its count"
    sentence = ", ".join([clause] * 4) + "; " + " ".join(["word"] * 120) + "."
    assert len(sentence) / TOKENS_PER_SECOND > 2 * CHUNK_TARGET_S
    items = plan_script(_plain(sentence), count_tokens=_chars)
    pieces = [s for i in items if isinstance(i, SpeechChunk) for s in i.sentences]
    assert len(pieces) > 2
    assert " ".join(pieces) == sentence  # nothing lost, no word cut
    assert all(len(p) / TOKENS_PER_SECOND <= CHUNK_TARGET_S for p in pieces)
    assert pieces[0].endswith(",")  # the clause boundary is used first
    assert all(i.est_s <= CHUNK_TARGET_S for i in items if isinstance(i, SpeechChunk))


def test_slower_voices_get_shorter_chunks():
    from limelight.voice import Voice

    text = " ".join(["The wind pushed at the window frames, and the sea kept its count."] * 12)
    script = _plain(text)

    def chunks(rate):
        return [i for i in plan_script(script, count_tokens=_chars, rate_for=lambda seg: rate)
                if isinstance(i, SpeechChunk)]

    fast, slow = chunks(VOICE_TOKENS_PER_SECOND["jf_alpha"]), chunks(VOICE_TOKENS_PER_SECOND["jf_gongitsune"])
    assert sum(c.est_s for c in slow) > 1.1 * sum(c.est_s for c in fast)  # a slower voice is planned longer
    assert all(c.est_s <= CHUNK_TARGET_S for c in fast + slow)
    shipped = Voice(name="jf_gongitsune", style=np.zeros((510, 256), np.float32), source="shipped")
    designed = Voice(name="jm_kumo", style=np.zeros((510, 256), np.float32), source="designed")
    assert voice_tokens_per_second(shipped) == VOICE_TOKENS_PER_SECOND["jf_gongitsune"]
    assert voice_tokens_per_second(designed) == min(VOICE_TOKENS_PER_SECOND.values())  # unknown: err long


def test_split_clauses():
    assert split_clauses("One, two; three: four — five.") == ["One,", "two;", "three:", "four —", "five."]
    assert split_clauses("No clauses here.") == ["No clauses here."]


def test_paragraph_break_after_heading_and_between_paragraphs():
    text = "Chapter One: The Ledger at Harrow Point\n\nThe letter arrived. It was wet.\n  \n\nNora read it."
    items = plan_script(_plain(text), count_tokens=_chars)
    kinds = [(type(i).__name__, getattr(i, "reason", None)) for i in items]
    assert kinds == [("SpeechChunk", None), ("SilenceItem", "paragraph"), ("SpeechChunk", None),
                     ("SilenceItem", "paragraph"), ("SpeechChunk", None)]
    assert items[0].sentences == ("Chapter One: The Ledger at Harrow Point",)
    assert items[2].sentences == ("The letter arrived.", "It was wet.")
    assert all(i.seconds == PARAGRAPH_PAUSE_S for i in items if isinstance(i, SilenceItem))
    assert 0.6 <= PARAGRAPH_PAUSE_S <= 0.8
    # Positions still point into the whole source.
    script = _plain(text)
    assert [(s.line, s.col) for s in script.text_segments()] == [(1, 1), (3, 1), (6, 1)]


def test_no_paragraph_breaks_for_single_paragraph_or_markup():
    one = "First line\nsecond line. Another sentence."
    assert _plain(one) == parse(one)
    markup = '<speak voice="calm" gender="female">One.\n\nTwo.</speak>'
    assert mark_paragraphs(markup, parse(markup)) == parse(markup)
