"""Markup prosody (SSML ``<prosody>``) as a :class:`Direction`, so it reaches the engine the way actions do.

Rate becomes the engine's ``speed`` (Kokoro's duration predictor scales every token: in the model); pitch
becomes ``pitch_shift``, which the fast decoder applies to its F0 input (in the model; the DSP shifts it
only for engines without an F0 input); range is ``pitch_range``; volume is ``energy_db`` (a gain). The
values compose with the action's direction like any two directions do (ratios multiply, dB and semitones
add) and are clamped to the same sane bounds.
"""

from __future__ import annotations

from typing import Any

from ..script.model import Prosody
from .direction import Direction


def apply_prosody(direction: Any, prosody: Prosody | None) -> Any:
    """``direction`` (a Direction or None) with ``prosody`` on top; None stays None when there is none."""
    if prosody is None or prosody.is_neutral:
        return direction
    base = direction if isinstance(direction, Direction) else Direction()
    labels = ("ssml prosody",)
    return base.combine(Direction(speed=prosody.rate, pitch_shift=prosody.pitch, pitch_range=prosody.pitch_range,
                                  energy_db=prosody.volume_db, labels=labels))
