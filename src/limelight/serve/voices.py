"""The voices the server can speak with: the engine's shipped voices, saved library voices, OpenAI aliases.

OpenAI clients name voices like ``alloy`` or ``onyx``; each alias plays the shipped voice closest in kind
(the shipped set is four women and one man, so the masculine-sounding aliases share ``jm_kumo``). The voice
library (``limelight.voice.library``) is optional in a build: without it, listing shows shipped voices only
and the endpoints that save or delete voices are not mounted.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from ..errors import LimelightError, VoiceError
from .schemas import VoiceInfo

OPENAI_ALIASES: dict[str, str] = {
    "alloy": "jf_alpha", "marin": "jf_alpha", "nova": "jf_nezumi", "shimmer": "jf_gongitsune",
    "coral": "jf_tebukuro", "sage": "jf_tebukuro",
    "echo": "jm_kumo", "onyx": "jm_kumo", "fable": "jm_kumo", "ash": "jm_kumo", "ballad": "jm_kumo",
    "verse": "jm_kumo", "cedar": "jm_kumo",
}
log = logging.getLogger("limelight.serve")
VOICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,63}")  # used with fullmatch: no trailing newline


def library_class() -> type | None:
    """`VoiceLibrary` when this build has the voice library, else None."""
    try:
        from ..voice.library import VoiceLibrary
    except ImportError:
        return None
    return VoiceLibrary


def clone_function() -> Any | None:
    try:
        from ..voice.clone import clone_voice
    except ImportError:
        return None
    return clone_voice


def info(voice: Any) -> VoiceInfo:
    return VoiceInfo(name=voice.name, gender=voice.gender, language=getattr(voice, "language", "en") or "en",
                     description=getattr(voice, "description", "") or "", source=getattr(voice, "source", "shipped"))


def shipped(performer: Any) -> dict[str, Any]:
    return dict(performer.engine.voices())


def library_entries() -> list[Any]:
    """Every saved name with its voice or its damage (`limelight.voice.library.LibraryEntry`); an unreadable
    library folder is logged and treated as empty, so shipped voices still work."""
    cls = library_class()
    if cls is None:
        return []
    try:
        return list(cls().entries())
    except (OSError, ValueError, LimelightError):
        log.exception("the voice library could not be read")
        return []


def library_voices() -> dict[str, Any]:
    """Readable saved voices by name (a damaged voice file is skipped here and reported by `library_entries`)."""
    return {e.name: e.voice for e in library_entries() if e.voice is not None}


def resolve_openai_voice(name: str, performer: Any) -> str:
    """An OpenAI alias → our voice name; our own names and blends pass through; anything else is a 422."""
    key = name.strip()
    if key.lower() in OPENAI_ALIASES:
        target = OPENAI_ALIASES[key.lower()]
        if target in shipped(performer):
            return target
        return str(performer.engine.default_voice)  # another engine (piper): its own default voice
    if "," in key or ":" in key:
        return key  # a blend; the performer checks each part
    entries = {e.name: e for e in library_entries()}
    if key in entries and entries[key].voice is None:
        raise VoiceError(f"saved voice {key!r} is damaged ({entries[key].error}); delete it and save it again",
                         field="voice")
    known = {**shipped(performer), **{n: e.voice for n, e in entries.items() if e.voice is not None}}
    if key in known:
        return key
    raise VoiceError(f"unknown voice {name!r}; use an OpenAI voice ({', '.join(sorted(OPENAI_ALIASES))}) or one "
                     f"of: {', '.join(sorted(known))}", field="voice")


def check_new_name(name: str, performer: Any) -> str:
    if not isinstance(name, str) or not VOICE_NAME.fullmatch(name):
        raise VoiceError("voice name must be 1–64 letters, digits, '_' or '-', starting with a letter or digit",
                         field="name")
    if name in shipped(performer) or name.lower() in OPENAI_ALIASES:
        raise VoiceError(f"{name!r} is a built-in voice name; choose another", field="name")
    return name
