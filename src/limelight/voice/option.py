"""What a user's ``--voice`` means: a voice name, a blend, or — when it is words — a description to design.

``--voice jm_kumo`` and ``--voice "jf_alpha:0.7,jm_kumo:0.3"`` name voices; ``--voice "A deep old man, slow
and gravelly"`` used to fail with "unknown voice". A value that has spaces between words and is not a known
name is now designed (:func:`limelight.voice.design.design_voice`), with ``gender`` when given (else read from
the words, else female). A single unknown word is still an unknown name: a typo must not become a voice.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from .voice import Voice

_BLEND = re.compile(r"^\s*[\w.\-]+\s*(:\s*[\d.]+\s*)?(,\s*[\w.\-]+\s*(:\s*[\d.]+\s*)?)*$")


def is_description(spec: str | None, names: Collection[str]) -> bool:
    """True when ``spec`` reads as words describing a voice rather than a name or blend of names."""
    if spec is None or not spec.strip() or spec.strip() in names:
        return False
    text = spec.strip()
    # words with spaces between them; a colon means blend syntax ("jf_alpha:x" is a bad weight, not a voice)
    return " " in text and ":" not in text and _BLEND.match(text) is None


def voice_option(spec: str | None, gender: str | None, names: Collection[str]) -> str | Voice | None:
    """``spec`` unchanged when it names voices (resolved later, with its errors), else the designed `Voice`."""
    if not is_description(spec, names):
        return spec
    from .design import design_voice

    assert spec is not None
    return design_voice(spec, gender, name="designed")
