"""The `Voice` type and name resolution.

A Kokoro voice is a 510×256 style table: row *n* conditions an utterance of *n* phoneme tokens (Kokoro's
voice packs vary the style slightly with length). Dims 0–127 drive the decoder (timbre), 128–255 the prosody
predictor (durations, F0, energy). Everything that makes a voice — shipped packs, blends, designs, clones —
ends up as one of these tables, so the engine needs to know nothing about where a voice came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import VoiceError

if TYPE_CHECKING:
    from ..engine.fastdec.adapter import Adapter

STYLE_ROWS = 510
STYLE_DIM = 256


@dataclass(frozen=True)
class Voice:
    """A speaker identity the engine can render.

    ``style`` is float32 (510, 256). ``source`` says how it was made (shipped, blend, designed, cloned) and
    ``meta`` carries provenance (reference file, blend weights, description) for the library and reports.
    ``colour`` is the equaliser a clone carries to match its reference's long-term spectrum (dB per band of
    :data:`limelight.voice.colour.BANDS_HZ`; empty: none); the engine applies it to all the voice says.
    ``pitch`` (semitones) moves a clone's F0 to its reference's median; the engine applies it where it can
    shift pitch natively (Kokoro with the fast decoder, whose F0 is an input), and only there.
    ``adapter`` is a deep clone's per-voice change of the fast decoder (:mod:`limelight.voice.deep`); only
    Kokoro with the fast decoder can apply it (other decoders speak the voice without it).
    """

    name: str
    style: np.ndarray
    gender: str | None = None
    language: str = "en"
    description: str = ""
    source: str = "shipped"
    meta: dict[str, object] = field(default_factory=dict, compare=False)
    colour: tuple[float, ...] = ()
    pitch: float = 0.0
    adapter: Adapter | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        style = np.asarray(self.style, dtype=np.float32).reshape(-1, STYLE_DIM)
        if style.shape[0] != STYLE_ROWS:
            raise VoiceError(f"voice {self.name!r}: style table must be {STYLE_ROWS}×{STYLE_DIM}, "
                             f"got {style.shape[0]}×{STYLE_DIM}")
        object.__setattr__(self, "style", style)
        if self.colour:
            from .colour import BANDS_HZ

            colour = tuple(float(c) for c in self.colour)
            if len(colour) != len(BANDS_HZ) or not np.all(np.isfinite(colour)):
                raise VoiceError(f"voice {self.name!r}: colour must be {len(BANDS_HZ)} finite band gains (dB), "
                                 f"got {len(colour)}")
            object.__setattr__(self, "colour", colour)
        if not (np.isfinite(self.pitch) and abs(self.pitch) <= 12.0):
            raise VoiceError(f"voice {self.name!r}: pitch must be within ±12 semitones, got {self.pitch}")
        object.__setattr__(self, "pitch", float(self.pitch))

    def row(self, n_tokens: int) -> np.ndarray:
        """The (1, 256) style row for an utterance of ``n_tokens`` phoneme tokens."""
        i = min(max(n_tokens, 0), STYLE_ROWS - 1)
        return self.style[i : i + 1]


def parse_blend(spec: str) -> list[tuple[str, float]]:
    """Parse ``"a:0.7,b:0.3"`` into normalised (name, weight) pairs; a bare name has weight 1."""
    parts: list[tuple[str, float]] = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, weight = item.partition(":")
        try:
            w = float(weight) if sep else 1.0
        except ValueError:
            raise VoiceError(f"bad blend weight {weight!r} in {spec!r}; write it as name:0.7,other:0.3",
                             field="voice") from None
        if w < 0:
            raise VoiceError(f"blend weight for {name!r} must not be negative", field="voice")
        parts.append((name.strip(), w))
    total = sum(w for _, w in parts)
    if not parts or total <= 0:
        raise VoiceError(f"empty voice blend {spec!r}", field="voice")
    return [(n, w / total) for n, w in parts]


def blend(voices: list[tuple[Voice, float]], name: str | None = None) -> Voice:
    """A weighted average of style tables; the gender is kept when all parts agree."""
    style = sum(w * v.style for v, w in voices)
    genders = {v.gender for v, _ in voices}
    label = name or ",".join(f"{v.name}:{w:.2f}" for v, w in voices)
    from .colour import blend_colours

    return Voice(name=label, style=np.asarray(style, np.float32),
                 gender=genders.pop() if len(genders) == 1 else None, source="blend",
                 meta={"parts": [(v.name, w) for v, w in voices]},
                 colour=blend_colours([(v.colour, w) for v, w in voices]),
                 pitch=round(float(sum(w * v.pitch for v, w in voices)), 2))


def resolve_voice(spec: str | Voice | None, available: dict[str, Voice], default: str) -> Voice:
    """Turn a user's voice argument (None, a name, or a blend spec) into a `Voice`, or explain what exists."""
    if isinstance(spec, Voice):
        return spec
    if spec is None or not spec.strip():
        return available[default]
    spec = spec.strip()
    parts = parse_blend(spec) if ("," in spec or ":" in spec) else [(spec, 1.0)]
    missing = [n for n, _ in parts if n not in available]
    if missing:
        raise VoiceError(f"unknown voice {missing[0]!r}; available: {', '.join(sorted(available))}",
                         field="voice")
    if len(parts) == 1:
        return available[parts[0][0]]
    return blend([(available[n], w) for n, w in parts])
