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
DECODERS = ("fast", "kokoro")  #: Kokoro's waveform generators on the CPU (see KokoroEngine)


def check_decoder(decoder: str | None) -> None:
    """A clear error for a decoder name that is not one of `DECODERS` (None means the engine's default)."""
    if decoder is not None and decoder not in DECODERS:
        raise LimelightError(f"unknown decoder {decoder!r}; choose one of: {', '.join(DECODERS)}", field="decoder")


def load_engine(name: str = "kokoro", *, model: str | None = None, device: str = "cpu",
                threads: int | None = None, decoder: str | None = None) -> Engine:
    """Build an engine by name. ``model`` overrides the model file (path or URL): a Kokoro ONNX for
    ``kokoro``, any Piper voice (``VOICE.onnx`` with ``VOICE.onnx.json`` beside it) for ``piper``.

    ``device="cuda"`` (or ``"cuda:N"``) gives Kokoro in PyTorch (:mod:`.cuda`), imported only then, so the
    CPU path never loads torch. ``decoder`` picks Kokoro's waveform generator on the CPU: ``"fast"`` (the
    distilled one, :mod:`.fastdec`; the default with the shipped model) or ``"kokoro"`` (the original).
    """
    check_decoder(decoder)
    if name == "kokoro":
        if device.startswith("cuda"):
            try:
                import onnx  # noqa: F401  (the weights are read from the ONNX file)

                from .cuda import TorchKokoroEngine
            except ImportError as exc:
                raise LimelightError(f"device={device!r} needs PyTorch and onnx ({exc.name or exc} is missing): "
                                     "pip install 'limelight[gpu]', or use device='cpu'", field="device") from None
            return TorchKokoroEngine(model=model, device=device)
        from .kokoro import KokoroEngine

        return KokoroEngine(model=model, threads=threads, decoder=decoder)
    if name == "piper":
        from .piper import PiperEngine

        return PiperEngine(threads=threads, model=model)  # model: any Piper voice (path or URL), else joe
    raise LimelightError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}", field="engine")
