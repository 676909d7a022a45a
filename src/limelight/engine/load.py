"""`load_engine`: an engine by name and device, each imported only as far as it is needed.

The torch engine is imported only when a CUDA device is asked for (torch is a heavy, optional dependency), so
the CPU path never loads it.
"""

from __future__ import annotations

from ..errors import LimelightError
from .base import Engine, check_decoder
from .kokoro import KokoroEngine
from .piper import PiperEngine

ENGINES = ("kokoro", "piper")


def load_engine(name: str = "kokoro", *, model: str | None = None, device: str = "cpu",
                threads: int | None = None, decoder: str | None = None) -> Engine:
    """Build an engine by name. ``model`` overrides the model file (path or URL, Kokoro only).

    ``device="cuda"`` (or ``"cuda:N"``) gives Kokoro in PyTorch (:mod:`.torch_engine`), imported only then.
    ``decoder`` picks Kokoro's waveform generator on the CPU: ``"fast"`` (the distilled one, :mod:`.fastdec`;
    the default with the shipped model) or ``"kokoro"`` (the original).
    """
    check_decoder(decoder)
    if name == "kokoro":
        if device.startswith("cuda"):
            try:
                import onnx  # noqa: F401  (the weights are read from the ONNX file)

                from .torch_engine import TorchKokoroEngine
            except ImportError as exc:
                raise LimelightError(f"device={device!r} needs PyTorch and onnx ({exc.name or exc} is missing): "
                                     "pip install 'limelight[gpu]', or use device='cpu'", field="device") from None
            return TorchKokoroEngine(model=model, device=device)
        return KokoroEngine(model=model, threads=threads, decoder=decoder)
    if name == "piper":
        if model is not None:
            raise LimelightError("--model applies to the kokoro engine only", field="model")
        return PiperEngine(threads=threads)
    raise LimelightError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}", field="engine")
