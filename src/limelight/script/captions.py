"""LTX-style caption lines, ``(woman, whispering): "Come closer."``, as a shorthand for markup.

Video-prompt tools write dialogue this way; read as plain text, the speaker and the manner were spoken
aloud. A text whose every non-empty line is such a caption becomes a ``<script>`` with one ``<speak>`` per
line: the first part in the parentheses is the speaker (also the voice description), its gender comes from
a gender word in the parts (woman, man, girl, male, …), and the other parts become the line's ``<action>``
(so "whispering" whispers). A caption without a gender word, or captions mixed with other text, are refused
with a message naming the line and the markup to write instead — never read aloud literally.
"""

from __future__ import annotations

import re
from html import escape

from ..errors import ScriptError

CAPTION = re.compile(r"""^\s*\((?P<parts>[^()]+)\)\s*:\s*["\u201c](?P<text>.*?)["\u201d]\s*$""")
_FEMALE = {"woman", "female", "girl", "lady", "mother", "grandmother", "she", "her", "wife", "daughter",
           "sister", "queen", "actress", "mom", "grandma", "aunt"}
_MALE = {"man", "male", "boy", "gentleman", "father", "grandfather", "he", "him", "husband", "son", "brother",
         "king", "actor", "dad", "grandpa", "uncle", "guy"}
_GENDER_ONLY = {"male", "female"}
POINTER = ('write it as markup instead: <speak voice="an old man" gender="male"><action>whispering</action>'
           "Come closer.</speak>")


def _gender(parts: list[str]) -> str | None:
    words = {w for p in parts for w in re.findall(r"[a-z]+", p.lower())}
    female, male = bool(words & _FEMALE), bool(words & _MALE)
    if female == male:
        return None
    return "female" if female else "male"


def expand_captions(source: str) -> str | None:
    """Markup for a caption script, or None when ``source`` has no caption lines (it is parsed as it is)."""
    lines = [(i + 1, line) for i, line in enumerate(source.splitlines()) if line.strip()]
    matches = [(n, CAPTION.match(line)) for n, line in lines]
    if not any(m for _, m in matches):
        return None
    if lines and lines[0][1].lstrip().startswith("<"):
        return None  # markup: parentheses inside it are the markup's business
    stray = next((n for n, m in matches if m is None), None)
    if stray is not None:
        first = next(n for n, m in matches if m)
        raise ScriptError(f"not a caption, but line {first} is one, like (woman, whispering): \"…\"; write every "
                          f"line as a caption, or {POINTER}", line=stray, col=1)
    out = ["" for _ in source.splitlines()]  # each <speak> on its caption's line: error lines stay right
    for n, m in matches:
        assert m is not None
        parts = [p.strip() for p in m.group("parts").split(",") if p.strip()]
        gender = _gender(parts)
        if gender is None:
            raise ScriptError(f"the caption ({m.group('parts').strip()}) names no gender; add one, e.g. "
                              f"({parts[0] if parts else 'narrator'}, male), or {POINTER}", line=n, col=2)
        who = next((p for p in parts if p.lower() not in _GENDER_ONLY), parts[0])
        how = ", ".join(p for p in parts if p is not who and p.lower() not in _GENDER_ONLY)
        action = f"<action>{escape(how)}</action>" if how else ""
        out[n - 1] = f'<speak voice="{escape(who)}" gender="{gender}">{action}{escape(m.group("text"))}</speak>'
    return "<script>" + "\n".join(out) + "</script>"
