"""Acoustic engines: phonemes + voice + speed → audio. Kokoro (ONNX, CPU) is the default; Piper is the peer.

`Engine` (base.py) is the contract every engine meets; `load_engine` (load.py) builds one by name. The torch
engine (``torch_engine``, for GPUs) is imported lazily so the CPU path never pays for torch.
"""

from .base import Engine
from .load import ENGINES, load_engine

__all__ = ["ENGINES", "Engine", "load_engine"]
