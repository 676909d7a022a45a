"""Word error rate and match ratio between intended text and a transcript.

Both sides go through the same normalisation (numbers and money to words, case and punctuation folded), so
"$12.50" in the script and "twelve dollars and fifty cents" from Whisper count as a match.
"""

from __future__ import annotations

import re
import unicodedata

from ..text.normalize import normalize

_HYPHEN = re.compile(r"[-‐‑–—]")


_CHARACTER_LANGUAGES = ("ja", "zh")

# Whisper writes American spelling; a British "harbour" in the script is the same spoken word. Stems, so that
# plurals and -ed/-ing forms fold too; both sides fold the same way, so a stem that also starts another word
# ("realis" in "realism") costs nothing. A general -ise → -ize rule is left out ("promise", "wise").
_BRITISH = {
    "colour": "color", "harbour": "harbor", "favour": "favor", "honour": "honor", "labour": "labor",
    "neighbour": "neighbor", "behaviour": "behavior", "flavour": "flavor", "humour": "humor", "rumour": "rumor",
    "odour": "odor", "armour": "armor", "vapour": "vapor", "parlour": "parlor", "rigour": "rigor",
    "savour": "savor", "valour": "valor", "vigour": "vigor", "endeavour": "endeavor", "splendour": "splendor",
    "centre": "center", "theatre": "theater", "metre": "meter", "litre": "liter", "fibre": "fiber",
    "sombre": "somber", "grey": "gray", "travell": "travel", "cancell": "cancel", "jewellery": "jewelry",
    "programme": "program", "catalogue": "catalog", "dialogue": "dialog", "defence": "defense",
    "offence": "offense", "licence": "license", "realis": "realiz", "organis": "organiz", "recognis": "recogniz",
    "apologis": "apologiz", "emphasis": "emphasiz", "moult": "molt", "plough": "plow", "sceptic": "skeptic",
    "tyre": "tire", "kerb": "curb", "storey": "story", "aluminium": "aluminum",
}
_BRITISH_RE = re.compile(r"\b(" + "|".join(sorted(_BRITISH, key=len, reverse=True)) + r")")


def _american(text: str) -> str:
    return _BRITISH_RE.sub(lambda m: _BRITISH[m.group(1)], text)


def words(text: str, language: str = "en") -> list[str]:
    """Comparable words: spoken form, lower case, no punctuation (apostrophes kept inside words).

    Japanese and Chinese are written without spaces, so their units are characters (the ratio is then a
    character error rate)."""
    text = fold_script(text, language)
    if language.split("-")[0].lower() in _CHARACTER_LANGUAGES:
        return [c for c in unicodedata.normalize("NFKC", text) if c.isalnum()]
    text = normalize(text, language)
    text = unicodedata.normalize("NFKC", text).lower()
    text = _HYPHEN.sub(" ", text)
    text = re.sub(r"[^\w' ]+", " ", text)
    if language.split("-")[0].lower() == "en":
        text = _american(text)
    tokens = [w.strip("'") for w in text.split() if w.strip("'")]
    return _join_spelled(tokens)


def fold_script(text: str, language: str = "en") -> str:
    """One script and one way of writing numbers per language, so that Whisper's choices are not counted as
    errors and real ones are not hidden: Chinese → simplified characters (zhconv's MediaWiki table) with
    digits as Chinese numerals (cn2an); Japanese digits → kanji numerals; Hindi written in Urdu script (as
    Whisper base often writes it) → Devanagari, letter by letter (:mod:`limelight.check.fold`); other
    languages' digits → words (num2words), as both the script and a transcript may write either."""
    from .fold import fold_numbers, urdu_to_devanagari

    lang = language.split("-")[0].lower()
    if lang == "zh":
        import zhconv

        text = zhconv.convert(text, "zh-cn")
    elif lang == "hi":
        text = urdu_to_devanagari(text)
    return fold_numbers(text, lang)


def _join_spelled(tokens: list[str]) -> list[str]:
    """Merge runs of single letters ("p m", "u s") so they match the transcript's "pm", "us"."""
    out: list[str] = []
    run: list[str] = []
    for t in [*tokens, ""]:
        if len(t) == 1 and t.isalpha():
            run.append(t)
            continue
        out.extend(["".join(run)] if len(run) > 1 else run)
        run = []
        if t:
            out.append(t)
    return out


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def word_errors(reference: str, hypothesis: str, language: str = "en") -> tuple[int, int]:
    """(edit distance in words, number of reference words)."""
    ref, hyp = words(reference, language), words(hypothesis, language)
    return edit_distance(ref, hyp), len(ref)


def wer(reference: str, hypothesis: str, language: str = "en") -> float:
    errors, n = word_errors(reference, hypothesis, language)
    return errors / max(n, 1)


def match_ratio(reference: str, hypothesis: str, language: str = "en") -> float:
    """1 − WER, floored at 0: the share of intended words that came out right."""
    return max(0.0, 1.0 - wer(reference, hypothesis, language))


def cer(reference: str, hypothesis: str, language: str = "en") -> float:
    """Character error rate over letters and digits (spaces and punctuation ignored), script-agnostic."""
    ref = [c for c in "".join(words(reference, language))]
    hyp = [c for c in "".join(words(hypothesis, language))]
    return edit_distance(ref, hyp) / max(len(ref), 1)
