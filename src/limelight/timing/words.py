"""Word timings from the engine's own durations, carried to the output file's timeline.

Kokoro predicts a duration for every phoneme token (in units of 600 samples, 25 ms at 24 kHz), so the time of
each word is known exactly once the phoneme string is split back into words. Three mappings get us there:

1. **tokens → IPA words**: the engine's token sequence is the phoneme string's characters that are in the
   vocabulary; a word is a run of letters between spaces and punctuation (`ipa_word_ranges`).
2. **IPA words → spoken words**: espeak-ng reads numbers and joins or splits words on its own ("twenty-one" is
   one IPA word, "2024" three), so the spoken words are matched to the sentence's IPA by aligning each word's
   own phonemes (phonemised alone) against it, letter by letter (`spoken_word_ranges`).
3. **spoken words → written words**: normalisation rewrote the text ("$12.50" → "twelve dollars and fifty
   cents"); a written word that became several spoken words gets one span covering all of them
   (`written_spans`). Both forms are kept: `WordTiming.word` is what the user wrote, `.spoken` what was said.

Every later stage that moves time (trimming, sentence and chunk gaps, pauses, events) adds an offset; none
stretches time inside a chunk (direction DSP keeps the length; tempo is the engine's speed, already inside the
durations), so a word's timing is final when its chunk is rendered.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from difflib import SequenceMatcher

import numpy as np

#: Kokoro's duration unit: one predicted duration step is two 80-per-second frames, 600 samples at 24 kHz.
KOKORO_UNIT_SAMPLES = 600
#: How much earlier a word is heard than its tokens' span says. Kokoro's alignment is learned: voicing follows
#: the predicted F0 exactly, but a phoneme's sound lands ~50-75 ms before its duration span (energy per token:
#: the vowel before a stop closure is already silent, a final consonant's long span is silence), and listeners
#: and Whisper put a word's start where the previous word's sound ends. Fitted as the constant that minimises
#: the median |start error| against Whisper's word timestamps on 27 sentences of bench/texts/chapter_10k.txt
#: (three voices); reported on en_dev and scripts it never saw (bench/timestamps.py). It is a shift in the
#: model's frames, so at engine speed s it is KOKORO_LEAD_S / s seconds.
KOKORO_LEAD_S = 0.1

_WORD = re.compile(r"[\w'’-]+", re.UNICODE)
_STRESS = "ˈˌ"


@dataclass(frozen=True)
class WordTiming:
    """One word of the script with its place in the output audio (seconds from the file's start).

    ``word`` is the written form (what the script says, e.g. ``$12.50``), ``spoken`` the form that was read
    aloud (``twelve dollars and fifty cents``). ``estimated`` marks timings that come from a proportional
    estimate instead of the engine's durations (an engine that reports none, e.g. Piper's raw audio).
    """

    word: str
    start: float
    end: float
    spoken: str = ""
    speaker: str | None = None
    chunk: int | None = None
    estimated: bool = False

    def shifted(self, seconds: float) -> WordTiming:
        return replace(self, start=self.start + seconds, end=self.end + seconds)

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> WordTiming:
        """The inverse of `as_dict` (metadata JSON → WordTiming); unknown keys are ignored."""
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["start"], d["end"] = round(self.start, 3), round(self.end, 3)
        return d


@dataclass(frozen=True)
class SpokenWord:
    """A word as the engine said it, timed relative to the start of the engine's (trimmed) audio."""

    text: str
    start: float
    end: float
    estimated: bool = False

    def shifted(self, seconds: float) -> SpokenWord:
        return replace(self, start=self.start + seconds, end=self.end + seconds)


def words_of(text: str) -> list[str]:
    """The words of a text (letters, digits, apostrophes, hyphens), punctuation dropped."""
    return [w for w in _WORD.findall(text) if any(ch.isalnum() for ch in w)]


def _letters(ipa: str) -> str:
    """IPA without stress marks, length marks kept; what two phonemisations of a word share."""
    return "".join(ch for ch in unicodedata.normalize("NFC", ipa) if ch not in _STRESS)


def ipa_word_ranges(phonemes: str, vocab: dict[str, int] | None = None) -> list[tuple[int, int]]:
    """``(first, last)`` token indices (inclusive) of each word in ``phonemes``.

    Tokens are the characters of ``phonemes`` that are in ``vocab`` (all of them when None), in order — exactly
    the engine's ids. A word is a maximal run of tokens that are neither spaces nor punctuation.
    """
    ranges: list[tuple[int, int]] = []
    start = -1
    index = -1
    for ch in phonemes:
        if vocab is not None and ch not in vocab:
            continue
        index += 1
        if ch.isspace() or unicodedata.category(ch)[0] in "PS":
            if start >= 0:
                ranges.append((start, index - 1))
                start = -1
        elif start < 0:
            start = index
    if start >= 0:
        ranges.append((start, index))
    return ranges


def _token_chars(phonemes: str, vocab: dict[str, int] | None) -> list[str]:
    return [ch for ch in phonemes if vocab is None or ch in vocab]


def spoken_word_ranges(words: Sequence[str], phonemes: str, phonemize_word: Callable[[str], str],
                       vocab: dict[str, int] | None = None) -> list[tuple[int, int] | None]:
    """For each spoken word, the ``(first, last)`` token range it occupies in the sentence's phonemes.

    Each word is phonemised alone and the concatenation is aligned with the sentence's letters (stress marks,
    spaces and punctuation ignored); a word gets the tokens its letters matched, widened to whole IPA words
    where it matched part of one. A word that matched nothing gets None (callers interpolate).
    """
    chars = _token_chars(phonemes, vocab)
    letter_pos = [i for i, ch in enumerate(chars) if not (ch.isspace() or unicodedata.category(ch)[0] in "PS")
                  and ch not in _STRESS]
    sentence = "".join(chars[i] for i in letter_pos)
    owner: list[int] = []
    joined = []
    for w_i, w in enumerate(words):
        letters = "".join(ch for ch in _letters(phonemize_word(w)) if not (ch.isspace() or
                                                                         unicodedata.category(ch)[0] in "PS"))
        if vocab is not None:
            letters = "".join(ch for ch in letters if ch in vocab)
        joined.append(letters)
        owner.extend([w_i] * len(letters))
    concat = "".join(joined)
    first: list[int | None] = [None] * len(words)
    last: list[int | None] = [None] * len(words)
    matcher = SequenceMatcher(None, concat, sentence, autojunk=False)
    for a, b, size in matcher.get_matching_blocks():
        for k in range(size):
            w_i = owner[a + k]
            tok = letter_pos[b + k]
            first[w_i] = tok if first[w_i] is None else min(first[w_i], tok)
            last[w_i] = tok if last[w_i] is None else max(last[w_i], tok)
    # Unmatched stretches of the sentence (espeak read a word differently alone) go to their neighbours: a
    # word's range runs up to the next matched word's start, within its own IPA word.
    ranges: list[tuple[int, int] | None] = []
    for w_i in range(len(words)):
        f, la = first[w_i], last[w_i]
        ranges.append(None if f is None or la is None else (f, la))
    return _fill_gaps(ranges, ipa_word_ranges(phonemes, vocab))


def _fill_gaps(ranges: list[tuple[int, int] | None], ipa_words: list[tuple[int, int]]) -> list[tuple[int, int] | None]:
    """Extend each matched range to the IPA-word boundaries it touches, without overlapping its neighbours."""
    out = list(ranges)
    for i, r in enumerate(out):
        if r is None:
            continue
        f, la = r
        for a, b in ipa_words:
            if a <= f <= b:
                lo = a
                prev_end = max((p[1] for p in out[:i] if p is not None), default=-1)
                f = max(lo, prev_end + 1)
            if a <= la <= b:
                nxt_start = min((p[0] for p in ranges[i + 1:] if p is not None), default=b + 1)
                la = min(b, nxt_start - 1)
        out[i] = (f, max(f, la))
    return out


def token_times(durations: np.ndarray, unit_samples: int, sample_rate: int,
                offset_samples: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (seconds) of each real token from the model's per-position durations.

    ``durations`` includes the two padding positions at either end (Kokoro's 0 ids); they are dropped from
    the result but their length counts. ``offset_samples`` is what trimming cut from the front.
    """
    d = np.asarray(durations, np.float64).reshape(-1)
    edges = np.concatenate([[0.0], np.cumsum(d)]) * unit_samples - offset_samples
    starts, ends = edges[1:-2], edges[2:-1]  # positions 1 .. n (the real tokens)
    return starts / sample_rate, ends / sample_rate


def spoken_words_from_durations(text: str, phonemes: str, durations: np.ndarray, *, vocab: dict[str, int],
                                phonemize_word: Callable[[str], str], sample_rate: int,
                                unit_samples: int = KOKORO_UNIT_SAMPLES, offset_samples: int = 0,
                                length_s: float | None = None, lead_s: float = KOKORO_LEAD_S) -> list[SpokenWord]:
    """The words of ``text`` timed from the model's ``durations`` for the sentence's ``phonemes``, each moved
    ``lead_s`` earlier (see `KOKORO_LEAD_S`) and kept inside ``[0, length_s]``."""
    words = words_of(text)
    if not words:
        return []
    starts, ends = token_times(durations, unit_samples, sample_rate, offset_samples)
    ranges = spoken_word_ranges(words, phonemes, phonemize_word, vocab)
    n = len(starts)
    out: list[SpokenWord] = []
    for i, w in enumerate(words):
        r = ranges[i]
        if r is None or n == 0:
            continue
        f, la = min(r[0], n - 1), min(r[1], n - 1)
        out.append(SpokenWord(w, float(starts[f]) - lead_s, float(ends[la]) - lead_s))
    out = _interpolate_missing(words, out)
    return _clip(out, length_s)


def _interpolate_missing(words: list[str], timed: list[SpokenWord]) -> list[SpokenWord]:
    """Words that matched no phonemes share the gap between their timed neighbours (marked estimated)."""
    if len(timed) == len(words):
        return timed
    by_word: dict[int, SpokenWord] = {}
    j = 0
    for i, w in enumerate(words):
        if j < len(timed) and timed[j].text == w:
            by_word[i] = timed[j]
            j += 1
    out: list[SpokenWord] = []
    i = 0
    while i < len(words):
        if i in by_word:
            out.append(by_word[i])
            i += 1
            continue
        k = i
        while k < len(words) and k not in by_word:
            k += 1
        lo = out[-1].end if out else (by_word[k].start if k in by_word else 0.0)
        hi = by_word[k].start if k in by_word else lo
        step = (hi - lo) / (k - i) if k > i else 0.0
        for m in range(i, k):
            out.append(SpokenWord(words[m], lo + step * (m - i), lo + step * (m - i + 1), estimated=True))
        i = k
    return out


def _clip(words: list[SpokenWord], length_s: float | None) -> list[SpokenWord]:
    """Keep every word inside ``[0, length_s]`` and in order (trimming may have cut a sliver of an edge)."""
    out: list[SpokenWord] = []
    prev = 0.0
    for w in words:
        start = max(prev, w.start, 0.0)
        end = max(start, w.end)
        if length_s is not None:
            start, end = min(start, length_s), min(end, length_s)
        out.append(replace(w, start=start, end=end))
        prev = end
    return out


def estimate_spoken_words(text: str, length_s: float, lead_s: float = 0.0, tail_s: float = 0.0) -> list[SpokenWord]:
    """Proportional timings for an engine that reports no durations: each word gets time in proportion to its
    letters (plus one for the gap after it) inside the audio's voiced part; marked estimated."""
    words = words_of(text)
    if not words:
        return []
    span = max(0.0, length_s - lead_s - tail_s)
    weights = np.array([len(w) + 1.0 for w in words])
    edges = lead_s + np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum() * span
    return [SpokenWord(w, float(edges[i]), float(edges[i + 1] - (edges[i + 1] - edges[i]) / (len(w) + 1.0)),
                       estimated=True) for i, w in enumerate(words)]


def _norm(word: str) -> str:
    return re.sub(r"[^\w]", "", word.lower())


def written_spans(written: str, spoken: Sequence[SpokenWord]) -> list[tuple[str, list[int]]]:
    """Pair the words the user wrote with the spoken words that read them.

    Words equal after case folding pair one to one; a run the normaliser rewrote (``$12.50`` → five spoken
    words) pairs as a run: one written word takes the whole spoken run, several written words share it in
    order. Written words outside this chunk's spoken text are left out. Spoken words that no written word
    claims (a number espeak read on its own) keep their spoken form.
    """
    # Money/percent signs and similar symbols are words to the user: "$12.50" is one written word.
    w_words = _symbol_words(written) if written else []
    s_norm = [_norm(w.text) for w in spoken]
    w_norm = [_norm(w) for w in w_words]
    # ``written`` may hold more than this chunk (a segment split into chunks): keep the written words between
    # the first and last words both sides share, plus at most as many on either edge as the spoken side has.
    equal = [b for b in SequenceMatcher(None, w_norm, s_norm, autojunk=False).get_matching_blocks() if b.size]
    if not equal:
        return [(w.text, [i]) for i, w in enumerate(spoken)]
    lo = max(0, equal[0].a - equal[0].b)
    hi = min(len(w_words), equal[-1].a + equal[-1].size + (len(spoken) - equal[-1].b - equal[-1].size))
    w_words, w_norm = w_words[lo:hi], w_norm[lo:hi]
    out: list[tuple[str, list[int]]] = []
    matcher = SequenceMatcher(None, w_norm, s_norm, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(a1 - a0):
                out.append((w_words[a0 + k], [b0 + k]))
        elif tag == "replace":
            run = list(range(b0, b1))
            n = a1 - a0
            for k in range(n):
                part = run[k * len(run) // n:(k + 1) * len(run) // n] or run[-1:]
                out.append((w_words[a0 + k], part))
        elif tag == "insert":
            for b in range(b0, b1):
                out.append((spoken[b].text, [b]))
    out.sort(key=lambda pair: min(pair[1]))
    return out


def _symbol_words(text: str) -> list[str]:
    """Whitespace-separated words with edge punctuation stripped (currency and percent signs kept)."""
    out = []
    for raw in text.split():
        w = raw.strip(".,;:!?\"'()[]{}«»“”‘’—…")
        if w and any(ch.isalnum() for ch in w):
            out.append(w)
    return out


def written_timings(written: str, spoken: Sequence[SpokenWord], *, offset_s: float = 0.0,
                    speaker: str | None = None, chunk: int | None = None) -> list[WordTiming]:
    """`WordTiming`s for the written words of a chunk whose spoken words are timed (relative to the chunk)."""
    out: list[WordTiming] = []
    for word, idx in written_spans(written, spoken):
        parts = [spoken[i] for i in idx]
        out.append(WordTiming(word=word, start=parts[0].start + offset_s, end=parts[-1].end + offset_s,
                              spoken=" ".join(p.text for p in parts), speaker=speaker, chunk=chunk,
                              estimated=any(p.estimated for p in parts)))
    return out
