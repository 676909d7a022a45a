"""The engine interface every acoustic model implements."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ..errors import LimelightError
from ..voice import Voice


class Engine(Protocol):
    """One sentence (or shorter piece) of normalised text in, mono float32 audio out.

    Engines split pieces that exceed their context themselves; callers split text into sentences so that a
    streaming listener hears the first one early.
    """

    name: str
    sample_rate: int
    default_voice: str

    def voices(self) -> dict[str, Voice]: ...

    def phonemize(self, text: str, language: str = "en") -> str: ...

    def synthesize(self, text: str, voice: Voice, speed: float = 1.0, language: str = "en") -> np.ndarray: ...


ENGINES = ("kokoro", "piper")


def load_engine(name: str = "kokoro", *, model: str | None = None, device: str = "cpu",
                threads: int | None = None) -> Engine:
    """Build an engine by name. ``model`` overrides the model file (path or URL, Kokoro only)."""
    if name == "kokoro":
        if device.startswith("cuda"):
            raise LimelightError("the CUDA engine is not available in this build; use device='cpu'",
                                 field="device")
        from .kokoro import KokoroEngine

        return KokoroEngine(model=model, threads=threads)
    if name == "piper":
        if model is not None:
            raise LimelightError("--model applies to the kokoro engine only", field="model")
        from .piper import PiperEngine

        return PiperEngine(threads=threads)
    raise LimelightError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}", field="engine")
