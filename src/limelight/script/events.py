"""The vocabulary of inline events (``[laugh]``, ``[clears throat]`` …) and how bracket text maps onto it.

People write the same event many ways (``[laughter]``, ``[laughs]``, ``[Laughing.]``), so each
canonical event lists the spellings it accepts. A spelling may also carry a few modifiers, as in
``[laughs nervously]`` or ``[long sigh]``; those are kept as the event's *manner* for the direction
stage instead of being rejected. Anything else is an error that lists the known events: silently
speaking or dropping ``[something]`` would surprise the user more than a clear message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

# Canonical name -> accepted spellings (lowercase, words separated by single spaces). The canonical
# name with "_" read as a space is always accepted too.
KNOWN_EVENTS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "laugh": ("laugh", "laughs", "laughing", "laughter", "haha", "ha ha", "lol"),
    "chuckle": ("chuckle", "chuckles", "chuckling"),
    "giggle": ("giggle", "giggles", "giggling", "titter", "titters"),
    "sigh": ("sigh", "sighs", "sighing"),
    "gasp": ("gasp", "gasps", "gasping"),
    "cough": ("cough", "coughs", "coughing"),
    "sniff": ("sniff", "sniffs", "sniffing", "sniffle", "sniffles", "sniffling"),
    "groan": ("groan", "groans", "groaning"),
    "moan": ("moan", "moans", "moaning"),
    "breath": ("breath", "breathe", "breathes", "breathing", "deep breath", "takes a breath",
               "takes a deep breath"),
    "inhale": ("inhale", "inhales", "inhaling", "breath in", "breathe in", "breathes in"),
    "exhale": ("exhale", "exhales", "exhaling", "breath out", "breathe out", "breathes out"),
    "pant": ("pant", "pants", "panting", "out of breath"),
    "scream": ("scream", "screams", "screaming", "shriek", "shrieks", "shrieking"),
    "cry": ("cry", "cries", "crying", "weep", "weeps", "weeping"),
    "sob": ("sob", "sobs", "sobbing"),
    "yawn": ("yawn", "yawns", "yawning"),
    "hum": ("hum", "hums", "humming"),
    "clear_throat": ("clear throat", "clears throat", "clearing throat", "clears his throat",
                     "clears her throat", "clears their throat", "throat clear", "ahem"),
    "pause": ("pause", "short pause", "beat", "a beat"),
    "long_pause": ("long pause", "long beat"),
    "hiccup": ("hiccup", "hiccups", "hiccuping", "hiccupping"),
    "sneeze": ("sneeze", "sneezes", "sneezing", "achoo"),
    "snort": ("snort", "snorts", "snorting"),
    "scoff": ("scoff", "scoffs", "scoffing", "huff", "huffs", "huffing"),
    "grunt": ("grunt", "grunts", "grunting"),
    "gulp": ("gulp", "gulps", "gulping", "swallow", "swallows"),
    "whistle": ("whistle", "whistles", "whistling"),
    "shush": ("shush", "shushes", "shh", "shhh"),
    "tsk": ("tsk", "tsks", "tut", "tuts", "clicks tongue", "click tongue"),
    "kiss": ("kiss", "kisses"),
    "clap": ("clap", "claps", "clapping", "applause"),
})

_SPELLINGS: dict[str, str] = {}
for _name, _spellings in KNOWN_EVENTS.items():
    for _spelling in (_name.replace("_", " "), *_spellings):
        _SPELLINGS[_spelling] = _name

# At most this many modifier words before the event ("long", "nervous little") are accepted.
_MAX_PREFIX_WORDS = 2
_STRIP = " \t\n.,!?:;*~\"'“”‘’"


def normalise_event_text(content: str) -> str:
    """Lower-case, read ``_``/``-`` as spaces, drop surrounding punctuation, collapse whitespace."""
    words = re.sub(r"[_\-]+", " ", content.lower()).split()
    return " ".join(words).strip(_STRIP)


def canonical_event(content: str) -> tuple[str, str | None] | None:
    """Map the text between brackets to ``(canonical event, manner)``, or None if it is not an event.

    ``manner`` collects modifier words: up to two before the event (``[long sigh]``) and any number of
    ``-ly`` adverbs after it (``[laughs softly]``).
    """
    text = normalise_event_text(content)
    if text in _SPELLINGS:
        return _SPELLINGS[text], None
    words = text.split()
    best: tuple[int, str, str | None] | None = None
    for start in range(min(_MAX_PREFIX_WORDS, len(words) - 1) + 1):
        for end in range(len(words), start, -1):
            spelling = " ".join(words[start:end])
            tail = words[end:]
            if spelling not in _SPELLINGS or not all(w.endswith("ly") and len(w) > 3 for w in tail):
                continue
            manner = " ".join(words[:start] + tail) or None
            if best is None or end - start > best[0]:
                best = (end - start, _SPELLINGS[spelling], manner)
    return None if best is None else (best[1], best[2])


def describe_known_events() -> str:
    """The known events as users would write them, for error messages."""
    return " ".join(f"[{name.replace('_', ' ')}]" for name in KNOWN_EVENTS)
