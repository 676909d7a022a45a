"""The engine contract: what every acoustic model offers the rest of limelight.

Callers (the Performer, event rendering, cloning, the server) use exactly the members of `Engine` and read
its capabilities (`Engine.style_voices`, `Engine.native_pitch`) instead of testing engine names. This module
imports no engine, so every engine module can import it without a cycle; :mod:`.load` builds engines by name.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ..errors import LimelightError
from ..timing.words import SpokenWord
from ..voice import Voice

DECODERS = ("fast", "kokoro")  #: Kokoro's waveform generators on the CPU (see KokoroEngine)


@runtime_checkable
class Engine(Protocol):
    """One sentence (or shorter piece) of normalised text in, mono float32 audio out.

    Engines split pieces that exceed their context themselves; callers split text into sentences so that a
    streaming listener hears the first one early. Output is trimmed of edge silence, so the caller's gaps are
    the only pauses.
    """

    name: str
    sample_rate: int
    default_voice: str

    @property
    def style_voices(self) -> bool:
        """True when voices are style tables the engine speaks with: designed, cloned, blended and library
        voices then work, and so do non-verbal events (rendered from phonemes with a voice's style)."""
        ...

    @property
    def native_pitch(self) -> bool:
        """True when ``synthesize(pitch=...)`` shifts F0 inside the model (no DSP pitch shift needed)."""
        ...

    def voices(self) -> dict[str, Voice]: ...

    def phonemize(self, text: str, language: str = "en") -> str: ...

    def tokens(self, phonemes: str) -> list[int]:
        """The model's input ids for a phoneme string; their count is what the planner budgets."""
        ...

    def synthesize(self, text: str, voice: Voice, speed: float = 1.0, language: str = "en",
                   pitch: float = 0.0) -> np.ndarray:
        """Audio for one sentence; ``pitch`` (semitones) needs `native_pitch`."""
        ...

    def synthesize_timed(self, text: str, voice: Voice, speed: float = 1.0, language: str = "en",
                         pitch: float = 0.0) -> tuple[np.ndarray, list[SpokenWord]]:
        """`synthesize` plus each spoken word's time in that audio: from the model's durations where it reports
        them, else a proportional estimate (marked ``estimated``)."""
        ...

    def synthesize_phonemes(self, phonemes: str, voice: Voice, speed: float = 1.0,
                            pitch: float = 0.0) -> np.ndarray:
        """Audio for a phoneme string that fits the model's context (no text front end)."""
        ...


def check_decoder(decoder: str | None) -> None:
    """A clear error for a decoder name that is not one of `DECODERS` (None means the engine's default)."""
    if decoder is not None and decoder not in DECODERS:
        raise LimelightError(f"unknown decoder {decoder!r}; choose one of: {', '.join(DECODERS)}", field="decoder")


def check_pitch(engine: Engine, pitch: float) -> None:
    """Refuse a pitch shift that the engine cannot make itself (the caller should shift with DSP instead)."""
    if pitch and not engine.native_pitch:
        raise LimelightError(f"a native pitch shift needs an engine that takes F0 (the {engine.name} engine as "
                             "loaded does not; with Kokoro use decoder='fast')", field="decoder")
