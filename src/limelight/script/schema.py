"""The markup's vocabulary: which tags exist, what they may hold and which attributes they take.

Kept apart from the parser so that the rules a user reads in an error message ("allowed attributes:
…") come from the same table the parser enforces.
"""

from __future__ import annotations

import difflib
import math
import re

from .lexer import Attr, SourceText
from .model import GENDERS, REGISTERS

TAGS: tuple[str, ...] = ("script", "speak", "line", "action", "sound", "pause")

# Allowed attributes per tag. Which are required depends on context (a <line> inherits from its
# <speak>), so parse.py checks that.
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "script": ("scene", "shot", "language"),
    "speak": ("voice", "gender", "scene", "language", "shot", "register", "name"),
    "line": ("voice", "gender", "language", "register", "name"),
    "action": ("register",),
    "sound": (),
    "pause": ("seconds",),
}
ATTRIBUTE_ALIASES: dict[str, str] = {"lang": "language", "xml:lang": "language"}

# What each element may contain ("" is the document itself). Text is allowed in speak, line, action
# and sound; action and sound hold text only.
CHILDREN: dict[str, tuple[str, ...]] = {
    "": ("script", "speak", "line", "sound", "pause"),
    "script": ("speak", "line", "sound", "pause"),
    "speak": ("line", "action", "sound", "pause"),
    "line": ("action", "sound", "pause"),
    "action": (),
    "sound": (),
    "pause": (),
}
HOLDS_SPEECH: tuple[str, ...] = ("speak", "line")
# SSML elements also accepted inside <speak>/<line> (parse.py hands them to ssml.py's readers).
SSML_INLINE: tuple[str, ...] = ("break", "emphasis", "say-as", "sub", "phoneme", "mark")
HOLDS_TEXT_ONLY: tuple[str, ...] = ("action", "sound")

MAX_PAUSE_SECONDS = 30.0

# Hints for tags people bring from SSML or other TTS markup.
_TAG_HINTS: dict[str, str] = {
    "p": "paragraphs need no tag: just leave a blank line",
    "s": "sentences need no tag",
    "prosody": "describe pace and pitch in an <action>, or use register=\"…\" (or write the whole document as "
               "SSML: <speak version=\"1.1\" xmlns=\"http://www.w3.org/2001/10/synthesis\">)",
    "voice": "use <line voice=\"…\" gender=\"…\"> for another speaker",
}


def _suggest(word: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def unknown_tag_message(name: str, closing: bool = False) -> str:
    shown = f"</{name}>" if closing else f"<{name}>"
    allowed = ", ".join(f"<{t}>" for t in TAGS + SSML_INLINE)
    hint = f"; {_TAG_HINTS[name]}" if name in _TAG_HINTS else _suggest(name, TAGS)
    return f"unknown tag {shown}{hint}; allowed tags: {allowed}"


def check_attributes(src: SourceText, tag: str, attrs: tuple[Attr, ...], tag_pos: int) -> dict[str, Attr]:
    """Return the attributes by (canonical) name, rejecting unknown and repeated ones."""
    allowed = ATTRIBUTES[tag]
    found: dict[str, Attr] = {}
    for attr in attrs:
        name = ATTRIBUTE_ALIASES.get(attr.name, attr.name)
        if name not in allowed:
            if allowed:
                listed = ", ".join(allowed)
                raise src.error(attr.pos, f"<{tag}> has no attribute {attr.name}"
                                          f"{_suggest(attr.name, allowed)}; allowed attributes: {listed}")
            raise src.error(attr.pos, f"<{tag}> takes no attributes, but has {attr.name}")
        if name in found:
            raise src.error(attr.pos, f"attribute {name} is given twice in <{tag}> "
                                      f"(first at {src.where(found[name].pos)})")
        found[name] = attr
    return found


def collapse(text: str) -> str:
    """Collapse runs of whitespace (newlines included) to one space and strip the ends."""
    return " ".join(text.split())


def description(src: SourceText, attr: Attr, tag: str) -> str:
    """A free-text attribute (voice, name): whitespace collapsed, must not be empty."""
    value = collapse(attr.value)
    if not value:
        raise src.error(attr.value_pos, f"{attr.name} of <{tag}> is empty")
    return value


def optional_text(attr: Attr | None) -> str | None:
    """A free-text attribute that may be left empty (scene, shot)."""
    if attr is None:
        return None
    return collapse(attr.value) or None


def gender(src: SourceText, attr: Attr) -> str:
    value = collapse(attr.value).lower()
    if value not in GENDERS:
        shown = collapse(attr.value)
        raise src.error(attr.value_pos, f"gender must be \"male\" or \"female\", not \"{shown}\"")
    return value


def register(src: SourceText, attr: Attr) -> str:
    value = collapse(attr.value).lower()
    if value not in REGISTERS:
        raise src.error(attr.value_pos, f"register must be one of {', '.join(REGISTERS)}; "
                                        f"not \"{collapse(attr.value)}\"")
    return value


_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")


def language(src: SourceText, attr: Attr) -> str:
    """A BCP-47-style code: ``en``, ``pt-BR``, ``zh_CN`` → primary subtag lower-cased, ``-`` separated."""
    value = collapse(attr.value)
    if not _LANGUAGE.fullmatch(value):
        raise src.error(attr.value_pos, f"language must be a language code such as \"en\", \"fr\" or "
                                        f"\"pt-BR\", not \"{value}\"")
    primary, *rest = value.replace("_", "-").split("-")
    return "-".join([primary.lower(), *rest])


_SECONDS = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(s|sec|secs|seconds?|ms)?", re.IGNORECASE)


def seconds(src: SourceText, attr: Attr) -> float:
    """Pause length: a number of seconds (``1.2``, ``1.2s``, ``800ms``), 0 < s ≤ 30."""
    raw = collapse(attr.value)
    m = _SECONDS.fullmatch(raw)
    if m is None:
        raise src.error(attr.value_pos, f"seconds must be a number, like seconds=\"1.2\", not \"{raw}\"")
    value = float(m.group(1))
    if (m.group(2) or "").lower() == "ms":
        value /= 1000.0
    if not (math.isfinite(value) and 0.0 < value <= MAX_PAUSE_SECONDS):
        raise src.error(attr.value_pos, f"seconds must be more than 0 and at most {MAX_PAUSE_SECONDS:g}, "
                                        f"not {raw}")
    return value
