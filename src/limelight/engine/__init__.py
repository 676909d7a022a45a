"""Acoustic engines: phonemes + voice + speed → audio. Kokoro (ONNX, CPU) is the default; Piper is the peer.

GPU code (``torch_kokoro``) is imported lazily so the CPU path never pays for torch.
"""

from .base import Engine, load_engine

__all__ = ["Engine", "load_engine"]
