"""Sentence and clause splitting.

Synthesis runs one sentence at a time: Kokoro has a 510-token context, prosody is planned per sentence, and a
sentence is the unit a streaming listener hears first. Long sentences are further cut at clause punctuation,
then at word boundaries, never inside a word.
"""

from __future__ import annotations

import re

# A sentence ends at . ! ? … (optionally followed by closing quotes/brackets) before whitespace, or at a blank line.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=\S)|(?<=[。！？])[」』”）]*\s*(?=\S)|\n\s*\n")
_CLAUSE_END = re.compile(r"(?<=[,;:—])\s+|(?<=[、，；：])")
# Tokens that end with a period but do not end a sentence (most are expanded by normalisation first).
_NO_BREAK = re.compile(r"(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|Prof|St|vs|etc|e\.g|i\.e|No|Jr|Sr))\.$")


def split_sentences(text: str) -> list[str]:
    """Split text into sentences, keeping their punctuation; whitespace inside a sentence is collapsed."""
    pieces: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        candidate = text[start:m.start()].strip()
        if _NO_BREAK.search(candidate) and "\n" not in m.group(0):
            continue
        pieces.append(text[start:m.end()])
        start = m.end()
    pieces.append(text[start:])
    return [re.sub(r"\s+", " ", p).strip() for p in pieces if p.strip()]


def split_clauses(sentence: str) -> list[str]:
    """The clauses of a sentence (cut after , ; : and dashes), punctuation kept, empty pieces dropped."""
    return [c.strip() for c in _CLAUSE_END.split(sentence) if c.strip(" —")]


def split_long(sentence: str, max_chars: int) -> list[str]:
    """Cut a sentence into pieces of at most ``max_chars`` characters: at clauses first, then between words."""
    if len(sentence) <= max_chars:
        return [sentence]
    out: list[str] = []
    cur = ""
    for clause in _CLAUSE_END.split(sentence):
        for word_group in _by_words(clause, max_chars):
            if cur and len(cur) + 1 + len(word_group) > max_chars:
                out.append(cur)
                cur = word_group
            else:
                cur = f"{cur} {word_group}".strip()
    if cur:
        out.append(cur)
    return out


def _by_words(clause: str, max_chars: int) -> list[str]:
    if len(clause) <= max_chars:
        return [clause]
    out, cur = [], ""
    for word in clause.split():
        if cur and len(cur) + 1 + len(word) > max_chars:
            out.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}".strip()
    return out + ([cur] if cur else [])
