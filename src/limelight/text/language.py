"""Which language each piece of a script is in: the script's word first, then the caller's, then detection.

Resolution order for every :class:`~limelight.script.model.TextSegment`:

1. a ``language="…"`` attribute in the markup (``language_source == "script"``) always wins; an explicit
   option that contradicts it is an error (:func:`resolve_languages`), never a silent override;
2. else the caller's explicit language (``--language``, the API's ``language=``) — ``"option"``;
3. else detection (``"detected"``): the Unicode blocks of the text decide every script that belongs to one of
   our languages (kana → ja, Han without kana → zh, hangul → ko, Devanagari → hi, Arabic → ar, Cyrillic → ru);
   Latin text goes to a small function-word vote and, when that is not decisive, to py3langid (langid.py's
   naive-Bayes model, which ships inside its wheel, restricted to the Latin-script languages we speak).
   Short or ambiguous Latin segments take the language of the script's Latin text as a whole, then English.

Detection is per segment, so a mixed-language script is spoken in each of its languages. It is cheap: the
Unicode pass and the word vote are microseconds; the identifier (≈ 0.9 s to load) is loaded only when a Latin
segment is not decided by the vote.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING

from ..errors import LimelightError

if TYPE_CHECKING:  # text/ does not import script/ at run time
    from ..script.model import Script

#: Latin-script languages detection chooses between (those some engine here can speak).
LATIN_CANDIDATES = ("en", "es", "fr", "it", "pt", "de", "sw")
#: Minimum letters for a Latin segment to be judged on its own rather than by the script's overall language.
MIN_LETTERS = 10
#: py3langid's normalised probability below which a segment falls back to the script's overall language.
MIN_CONFIDENCE = 0.5

# Unicode script → language. Kana and Han are handled together (see _script_language).
_SCRIPT_LANGUAGE = {"hangul": "ko", "devanagari": "hi", "arabic": "ar", "cyrillic": "ru", "greek": "el",
                    "hebrew": "he", "thai": "th", "bengali": "bn", "tamil": "ta", "georgian": "ka",
                    "armenian": "hy"}
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x3040, 0x30FF, "kana"), (0x31F0, 0x31FF, "kana"), (0xFF66, 0xFF9F, "kana"),
    (0x4E00, 0x9FFF, "han"), (0x3400, 0x4DBF, "han"), (0xF900, 0xFAFF, "han"), (0x20000, 0x2FFFF, "han"),
    (0xAC00, 0xD7AF, "hangul"), (0x1100, 0x11FF, "hangul"), (0x3130, 0x318F, "hangul"),
    (0x0900, 0x097F, "devanagari"), (0x0980, 0x09FF, "bengali"), (0x0B80, 0x0BFF, "tamil"),
    (0x0600, 0x06FF, "arabic"), (0x0750, 0x077F, "arabic"), (0xFB50, 0xFDFF, "arabic"), (0xFE70, 0xFEFF, "arabic"),
    (0x0400, 0x04FF, "cyrillic"), (0x0370, 0x03FF, "greek"), (0x0590, 0x05FF, "hebrew"), (0x0E00, 0x0E7F, "thai"),
    (0x10A0, 0x10FF, "georgian"), (0x0530, 0x058F, "armenian"),
)

# The most frequent function words of each Latin candidate that are not also frequent in another one.
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the and of to is it that was for with you this have are not be on what they we his her "
                    "she he would there their will from at an by were which can my your me".split()),
    "es": frozenset("el los las del y que es por una con para no se lo su al como más pero sus le ya muy "
                    "también fue está hay esta este porque cuando yo".split()),
    "fr": frozenset("le les des et est une du que qui dans pour pas sur au avec il elle ce nous vous ils sont "
                    "mais ou je tu ne cette aux être fait très".split()),
    "it": frozenset("il della che è per una sono non gli le con del alla nel anche ma come più questo hanno "
                    "ho sul dei delle io molto".split()),
    "pt": frozenset("os uma com não é do da das dos em para mas como mais ao ele ela você são também isso "
                    "está muito eu foi meu minha".split()),
    "de": frozenset("der die und ist nicht das den mit sich des auf dem ein eine zu im auch es sie ich wir "
                    "sind war hat aber wie noch".split()),
    "sw": frozenset("na ya wa kwa ni katika za la cha kwamba hii huo yake sana kama lakini pia hakuna "
                    "wao sisi mimi yeye kila".split()),
}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def primary(language: str) -> str:
    """The primary subtag: ``pt-BR`` → ``pt``."""
    return language.replace("_", "-").split("-")[0].lower()


def _block(ch: str) -> str | None:
    cp = ord(ch)
    for lo, hi, name in _RANGES:
        if lo <= cp <= hi:
            return name
    if ch.isalpha() and (cp < 0x0250 or 0x1E00 <= cp <= 0x1EFF):
        return "latin"
    return None


def script_counts(text: str) -> Counter[str]:
    """Letters of ``text`` by writing system (``latin``, ``kana``, ``han``, ``hangul`` …)."""
    counts: Counter[str] = Counter()
    for ch in text:
        name = _block(ch)
        if name:
            counts[name] += 1
    return counts


def _script_language(counts: Counter[str], japanese_context: bool) -> str | None:
    """The language a non-Latin writing system decides, or None (Latin, or no letters)."""
    if not counts:
        return None
    cjk = counts["kana"] + counts["han"]
    top, n = counts.most_common(1)[0]
    if cjk and cjk >= n:
        # A few kanji with no kana ("東京。") in a Japanese script are Japanese; a whole sentence is Chinese.
        return "ja" if counts["kana"] or (japanese_context and counts["han"] <= 4) else "zh"
    if top in _SCRIPT_LANGUAGE:
        return _SCRIPT_LANGUAGE[top]
    return None


def _vote(text: str) -> str | None:
    """The language whose function words clearly dominate (≥ 2 hits and twice the runner-up), else None."""
    words = [w.lower() for w in _WORD.findall(text)]
    scores = Counter({lang: sum(w in vocab for w in words) for lang, vocab in _FUNCTION_WORDS.items()})
    (best, a), (_, b) = scores.most_common(2)
    return best if a >= 2 and a >= 2 * b else None


@lru_cache(maxsize=1)
def _identifier():  # -> py3langid.langid.LanguageIdentifier
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(LATIN_CANDIDATES))
    return ident


def identify_latin(text: str) -> tuple[str, float]:
    """(language, confidence) for Latin-script text among :data:`LATIN_CANDIDATES`: the function-word vote
    when it is decisive (confidence 1.0), else py3langid's normalised probability."""
    voted = _vote(text)
    if voted is not None:
        return voted, 1.0
    lang, prob = _identifier().classify(text)
    return str(lang), float(prob)


def detect_language(text: str, context: str | None = None, japanese_context: bool = False) -> str:
    """The language of one piece of text. ``context`` is the language of the surrounding text, used when this
    piece is too short or too ambiguous to judge alone (default English)."""
    counts = script_counts(text)
    decided = _script_language(counts, japanese_context)
    if decided:
        return decided
    fallback = context or "en"
    voted = _vote(text)  # decisive function words settle even a short segment ("Je ne sais pas.")
    if voted is not None:
        return voted
    if counts["latin"] < MIN_LETTERS:
        return fallback
    lang, confidence = identify_latin(text)
    return lang if confidence >= MIN_CONFIDENCE else fallback


def detect_languages(texts: Iterable[str]) -> list[str]:
    """The language of each text, judged with the others as context (see the module docstring)."""
    texts = list(texts)
    whole = " ".join(texts)
    counts = script_counts(whole)
    japanese = counts["kana"] > 0
    latin_text = " ".join(t for t in texts if not _script_language(script_counts(t), japanese))
    context = None
    if script_counts(latin_text)["latin"] >= MIN_LETTERS:
        lang, confidence = identify_latin(latin_text)
        context = lang if confidence >= MIN_CONFIDENCE else None
    return [detect_language(t, context, japanese) for t in texts]


def resolve_languages(script: Script, language: str | None = None) -> Script:
    """``script`` with every text segment's language settled (see the module docstring for the order).

    Raises :class:`LimelightError` (field ``language``) when ``language`` contradicts a ``language="…"`` the
    script sets itself: the script is the author's word, and a silent override would speak it wrongly.
    """
    from ..script.model import TextSegment  # local: text/ must not import script/ at module load

    segments = list(script.segments)
    todo = [i for i, s in enumerate(segments) if isinstance(s, TextSegment) and s.language_source == "default"]
    if language:
        for s in segments:
            if isinstance(s, TextSegment) and s.language_source == "script" and primary(s.language) != primary(
                    language):
                raise LimelightError(
                    f"the script sets language \"{s.language}\" (line {s.line}, col {s.col}) but language "
                    f"\"{language}\" was also given; drop the option to follow the script, or change the "
                    "script", field="language")
        for i in todo:
            segments[i] = replace(segments[i], language=language, language_source="option")
    elif todo:
        found = detect_languages(segments[i].text for i in todo)
        for i, lang in zip(todo, found, strict=True):
            segments[i] = replace(segments[i], language=lang, language_source="detected")
    if not todo:
        return script
    first = next((s for s in segments if isinstance(s, TextSegment)), None)
    main = first.language if first is not None and script.language == "en" else script.language
    return replace(script, segments=tuple(segments), language=main)


def engine_languages(engine: object) -> tuple[str, ...]:
    """The language codes an engine speaks (its ``languages`` attribute; Kokoro: every espeak code we map)."""
    langs = getattr(engine, "languages", None)
    if langs is None:
        from .phonemes import ESPEAK_VOICES

        langs = tuple(ESPEAK_VOICES)
    return tuple(langs)


def speaks(engine: object, language: str) -> bool:
    langs = {lang.lower() for lang in engine_languages(engine)}
    key = language.lower().replace("_", "-")
    return key in langs or primary(key) in langs


def unsupported_message(language: str, engine: object, where: str = "") -> str:
    """"unsupported language 'xx'; supported: …" naming the engine and the engines that can speak it."""
    from .phonemes import ESPEAK_VOICES, KOKORO_TRAINED

    name = getattr(engine, "name", "this")
    codes = ", ".join(sorted(engine_languages(engine)))
    others = []
    if name != "kokoro" and primary(language) in ESPEAK_VOICES:
        quality = "trained" if primary(language) in KOKORO_TRAINED else "espeak fallback, lower quality"
        others.append(f"kokoro ({quality})")
    if name != "piper" or primary(language) not in {primary(x) for x in engine_languages(engine)}:
        others.append("piper with a voice for that language (--engine piper --model VOICE.onnx)")
    can = f"; engines that can: {', '.join(others)}" if others else ""
    return f"unsupported language {language!r}; supported: {codes} ({name} engine){can}{where}"


def check_speakable(script: Script, engine: object) -> None:
    """A clear error (field ``language``) for the first segment whose language ``engine`` cannot speak."""
    for seg in script.text_segments():
        if not speaks(engine, seg.language):
            how = {"detected": "detected ", "option": "given "}.get(seg.language_source, "")
            where = f" (language {how}at line {seg.line}, col {seg.col})"
            raise LimelightError(unsupported_message(seg.language, engine, where), field="language")
