"""Word-level annotations carried *inside* the text: emphasis and fixed pronunciations.

Why inside the text: a segment's words are normalised, split into sentences and clauses and cut to fit
Kokoro's context before they reach the engine, and every one of those steps works on strings. Character
offsets kept beside the text would not survive them; a few Unicode private-use characters do (no rule of
:mod:`.normalize` or :mod:`.sentences` touches them, and they are not letters, so word boundaries stay put).

Two annotations exist:

- **emphasis**: ``EMPH_OPEN[level] … EMPH_CLOSE`` around words (``reduced``, ``moderate``, ``strong``). The
  phonemiser keeps the markers in the IPA it returns, so the engine can find the tokens of the stressed
  word and lengthen, raise and strengthen them inside the model (:mod:`limelight.engine.fastdec.prosody`).
- **pronunciation**: ``PRON_OPEN written PRON_IPA ipa PRON_CLOSE`` (a fixed IPA string) or
  ``PRON_OPEN written PRON_SAY respelling PRON_CLOSE`` (words phonemised instead of the written ones). The
  written form is what reports show and what Whisper's transcript is compared against; the IPA is
  spliced into the phoneme string as is.

:func:`strip` gives the written text back (for reports, captions and validation); engines that phonemise by
themselves (Piper) get the stripped text too.
"""

from __future__ import annotations

import re
from collections.abc import Callable

EMPHASIS_LEVELS: tuple[str, ...] = ("reduced", "moderate", "strong")
EMPH_OPEN: dict[str, str] = {"reduced": "\ue010", "moderate": "\ue011", "strong": "\ue012"}
EMPH_CLOSE = "\ue01f"
PRON_OPEN = "\ue020"
PRON_IPA = "\ue021"
PRON_SAY = "\ue022"
PRON_CLOSE = "\ue023"
SPACE = "\ue024"  # a space inside an annotation: keeps it one "word" for sentence/word splitters
CONTOUR_OPEN = "\ue030"  # then the points (two characters each), CONTOUR_BODY, the words, CONTOUR_CLOSE
CONTOUR_BODY = "\ue031"
CONTOUR_CLOSE = "\ue032"
_POS0, _ST0 = 0xE100, 0xE200  # a point: chr(_POS0 + percent), chr(_ST0 + quarter-semitones + 48)

_LEVEL_OF = {v: k for k, v in EMPH_OPEN.items()}
_ANY = re.compile("[\ue010-\ue032\ue100-\ue2ff]")
_PRON = re.compile(f"{PRON_OPEN}([^{PRON_OPEN}{PRON_CLOSE}]*?)([{PRON_IPA}{PRON_SAY}])([^{PRON_CLOSE}]*){PRON_CLOSE}")
_EMPH = re.compile(f"[{''.join(EMPH_OPEN.values())}{EMPH_CLOSE}\ue030-\ue032\ue100-\ue2ff]+")


def has_marks(text: str) -> bool:
    return bool(_ANY.search(text))


def emphasize(text: str, level: str = "moderate") -> str:
    """``text`` marked as emphasised at ``level`` (one of :data:`EMPHASIS_LEVELS`)."""
    return f"{EMPH_OPEN[level]}{text}{EMPH_CLOSE}"


def contour(text: str, points: tuple[tuple[float, float], ...]) -> str:
    """``text`` spoken on a pitch contour: ``(position 0..1, semitones)`` points, interpolated over its frames
    (SSML ``<prosody contour>``); semitones are kept to ±12 in quarter steps."""
    head = "".join(chr(_POS0 + round(max(0.0, min(1.0, p)) * 100)) +
                   chr(_ST0 + round(max(-12.0, min(12.0, st)) * 4) + 48) for p, st in points)
    return f"{CONTOUR_OPEN}{head}{CONTOUR_BODY}{text}{CONTOUR_CLOSE}"


def contour_marks(phonemes: str) -> tuple[list[bool], tuple[tuple[float, float], ...]]:
    """For a phoneme string: which clean characters (as :func:`emphasis_levels` returns them) lie inside a
    contour, and its points (the first contour of the string; a sentence holds at most one)."""
    inside: list[bool] = []
    points: list[tuple[float, float]] = []
    state = ""  # "", "head", "body"
    pending: int | None = None
    for ch in phonemes:
        if ch == CONTOUR_OPEN:
            state = "head" if not points else "skip"
        elif ch == CONTOUR_BODY:
            state = "body" if state == "head" else state
        elif ch == CONTOUR_CLOSE:
            state = ""
        elif state in ("head", "skip") and _POS0 <= ord(ch) < _POS0 + 0x100:
            pending = ord(ch) - _POS0
        elif state in ("head", "skip") and _ST0 <= ord(ch) < _ST0 + 0x100:
            if state == "head" and pending is not None:
                points.append((pending / 100.0, (ord(ch) - _ST0 - 48) / 4.0))
        elif not _ANY.match(ch):
            inside.append(state in ("body", "skip"))
    return inside, tuple(points)


def pronounce(written: str, *, ipa: str | None = None, say: str | None = None) -> str:
    """``written`` to be spoken as the IPA string ``ipa`` or as the words ``say`` (exactly one of them)."""
    if (ipa is None) == (say is None):
        raise ValueError("give exactly one of ipa= and say=")
    kind, body = (PRON_IPA, ipa) if ipa is not None else (PRON_SAY, say)
    return f"{PRON_OPEN}{_pack(written)}{kind}{_pack(body or '')}{PRON_CLOSE}"


def _pack(text: str) -> str:
    return " ".join(text.split()).replace(" ", SPACE)


def strip(text: str) -> str:
    """The written text: pronunciations replaced by their written words, emphasis markers removed."""
    if not has_marks(text):
        return text
    text = _PRON.sub(lambda m: m.group(1), text)
    return _ANY.sub(lambda m: " " if m.group(0) == SPACE else "", text)


def spoken(text: str) -> str:
    """The words that will be heard: respellings instead of the written words (IPA ones keep the written)."""
    if not has_marks(text):
        return text
    text = _PRON.sub(lambda m: m.group(3) if m.group(2) == PRON_SAY else m.group(1), text)
    return _ANY.sub(lambda m: " " if m.group(0) == SPACE else "", text)


def outside_pronunciations(text: str, fn: Callable[[str], str]) -> str:
    """``fn`` applied to the stretches of ``text`` between pronunciation annotations, which are kept as they
    are (normalising the written digits inside one would put spaces in it, and a splitter could then cut it)."""
    if PRON_OPEN not in text:
        return fn(text)
    parts = re.split(f"({PRON_OPEN}[^{PRON_CLOSE}]*{PRON_CLOSE})", text)
    out = [p if p.startswith(PRON_OPEN) else fn(p) for p in parts]
    # fn may strip the spaces at a stretch's ends: keep one between words and an annotation.
    for i, p in enumerate(parts):
        if not p.startswith(PRON_OPEN) and out[i]:
            if p[:1].isspace() and i > 0:
                out[i] = " " + out[i]
            if p[-1:].isspace() and i < len(parts) - 1:
                out[i] = out[i] + " "
    return "".join(out)


def phonemize_marked(text: str, language: str, phonemize: Callable[[str, str], str]) -> str:
    """IPA for annotated text: plain stretches through ``phonemize``, pronunciations spliced in, emphasis
    markers kept in place (the engine reads them; a tokenizer that does not know them drops them)."""
    out: list[str] = []
    pos = 0

    def plain(stretch: str) -> None:
        # Emphasis markers split the stretch; each piece is phonemised on its own and the markers kept.
        for piece in re.split(f"({_EMPH.pattern})", stretch):
            if not piece:
                continue
            if _EMPH.fullmatch(piece):
                out.append(piece)
            elif piece.strip():
                if piece[0].isspace():
                    out.append(" ")
                lead = re.match(r"\s*([.,!?;:…—]+)\s*", piece)
                if lead:  # punctuation right after an annotation: espeak drops it when it starts a text
                    out.append(lead.group(1) + " ")
                    piece = piece[lead.end():]
                    if not piece:
                        continue
                # A stray marker (an annotation cut in two by a splitter) is dropped, never phonemised.
                ipa = phonemize(_ANY.sub(" ", piece.replace(SPACE, " ")), language)
                if ipa:
                    out.append(ipa)
                if piece[-1:].isspace() or piece[-1:] == SPACE:
                    out.append(" ")
            else:
                out.append(" ")

    for m in _PRON.finditer(text):
        plain(text[pos:m.start()])
        if out and not out[-1].endswith(" ") and text[pos:m.start()][-1:].isspace():
            out.append(" ")
        body = m.group(3).replace(SPACE, " ")
        out.append(body if m.group(2) == PRON_IPA else phonemize(body, language))
        pos = m.end()
    plain(text[pos:])
    joined = "".join(out)
    # One space between words, none just inside the emphasis markers.
    joined = re.sub(r"\s+", " ", joined)
    joined = re.sub(f"([{''.join(EMPH_OPEN.values())}]) ", r"\1", joined)
    joined = re.sub(f" ({EMPH_CLOSE})", r"\1", joined)
    joined = re.sub(r" ([.,!?;:…])", r"\1", joined)
    return joined.strip()


def emphasis_levels(phonemes: str) -> tuple[str, list[str | None]]:
    """Split the markers out of a phoneme string: (clean string, each clean character's emphasis level).

    An unclosed emphasis runs to the end (a sentence split may have cut it); a stray close is ignored."""
    chars: list[str] = []
    levels: list[str | None] = []
    level: str | None = None
    for ch in phonemes:
        if ch in _LEVEL_OF:
            level = _LEVEL_OF[ch]
        elif ch == EMPH_CLOSE:
            level = None
        elif _ANY.match(ch):
            continue
        else:
            chars.append(ch)
            levels.append(level)
    return "".join(chars), levels
