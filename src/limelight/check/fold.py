"""Script and number folding for scoring transcripts (see :func:`limelight.check.wer.fold_script`)."""

from __future__ import annotations

import re
from functools import lru_cache

# num2words language codes for ours (None: leave digits as they are).
_NUM2WORDS = {"es": "es", "fr": "fr", "it": "it", "pt": "pt", "de": "de", "ru": "ru", "ar": "ar", "ko": "ko",
              "ja": "ja"}
_DIGITS = re.compile(r"\d+")

# Urdu (Perso-Arabic) letters → Devanagari. Urdu leaves short vowels unwritten, so a transliterated
# transcript lacks some matras the Devanagari script has: that costs characters, never gains them.
_URDU = {
    "ا": "ा", "آ": "आ", "ب": "ब", "پ": "प", "ت": "त", "ٹ": "ट", "ث": "स", "ج": "ज", "چ": "च", "ح": "ह",
    "خ": "ख़", "د": "द", "ڈ": "ड", "ذ": "ज़", "ر": "र", "ڑ": "ड़", "ز": "ज़", "ژ": "झ", "س": "स", "ش": "श",
    "ص": "स", "ض": "ज़", "ط": "त", "ظ": "ज़", "ع": "", "غ": "ग़", "ف": "फ़", "ق": "क़", "ک": "क", "ك": "क",
    "گ": "ग", "ل": "ल", "م": "म", "ن": "न", "ں": "ं", "و": "ो", "ہ": "ह", "ھ": "्ह", "ه": "ह", "ۂ": "ह",
    "ء": "", "ی": "ी", "ي": "ी", "ئ": "", "ے": "े", "ۓ": "े", "ة": "ा", "ؤ": "ो",
    "َ": "", "ُ": "ु", "ِ": "ि", "ّ": "", "ْ": "", "ٰ": "ा",
    "۰": "0", "۱": "1", "۲": "2", "۳": "3", "۴": "4", "۵": "5", "۶": "6", "۷": "7", "۸": "8", "۹": "9",
    "،": ",", "۔": "।", "؟": "?",
}
_URDU_RE = re.compile("|".join(sorted(map(re.escape, _URDU), key=len, reverse=True)))


def urdu_to_devanagari(text: str) -> str:
    """Urdu-script letters transliterated to Devanagari (anything else unchanged)."""
    if not any("\u0600" <= c <= "\u06ff" for c in text):
        return text
    return _URDU_RE.sub(lambda m: _URDU[m.group(0)], text)


@lru_cache(maxsize=1)
def _cn2an():  # -> module | None (cn2an comes with misaki[zh]; without it Chinese digits stay digits)
    try:
        import cn2an
    except ImportError:
        return None
    return cn2an


def fold_numbers(text: str, language: str) -> str:
    """Digits written as the language's number words (Chinese numerals for zh)."""
    if not _DIGITS.search(text):
        return text
    if language == "zh":
        cn2an = _cn2an()
        return str(cn2an.transform(text, "an2cn")) if cn2an is not None else text
    code = _NUM2WORDS.get(language)
    if code is None:
        return text
    from num2words import num2words

    return _DIGITS.sub(lambda m: " " + num2words(int(m.group(0)), lang=code) + " ", text)
