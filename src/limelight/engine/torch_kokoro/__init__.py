"""Kokoro-82M in PyTorch, for GPUs (and for checking ourselves against the ONNX engine on CPU).

Needs the optional ``gpu`` extra (torch, onnx). Nothing outside this package imports it eagerly, so the CPU
path never loads torch. Usage::

    model = TorchKokoro.from_onnx(path_to_kokoro_onnx).to("cuda")
    with torch.inference_mode():
        audio = model(tokens, style, speed=1.0)   # [B, T] ids (0-padded ends), [B, 256] → [B, samples] @ 24 kHz

Many utterances of different lengths: :class:`BatchSynthesizer` (length buckets, exact padding masks, fp16/bf16
autocast). The first audio before the whole utterance is decoded: :class:`Streamer`.
"""

from __future__ import annotations

from .batch import BatchOptions, BatchSynthesizer, Utterance
from .load import load_onnx_weights, state_dict_from_onnx
from .model import KokoroConfig, Synthesis, TorchKokoro
from .stream import Streamer, StreamOptions

__all__ = ["BatchOptions", "BatchSynthesizer", "KokoroConfig", "StreamOptions", "Streamer", "Synthesis",
           "TorchKokoro", "Utterance", "load_onnx_weights", "state_dict_from_onnx"]
