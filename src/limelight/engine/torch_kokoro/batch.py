"""Many utterances of different lengths through :class:`TorchKokoro` at once: bucketing, padding, precision.

Two passes, because the two halves of the model want different groupings:

1. **Text side** (PL-BERT, text encoder, duration predictor): rows sorted by token count, batched under a
   token budget. Its output fixes every utterance's frame count before any audio is made.
2. **Decoder** (F0/energy, frame decoder, iSTFTNet generator: ~95 % of the FLOPs): rows sorted by frame
   count and cut into batches of similar length (:func:`plan_batches`), so padding wastes little. Each
   batch's frame axis is rounded up to a multiple of ``frame_quantum``: a handful of distinct shapes lets
   cuDNN's autotuner (and CUDA graphs) reuse what they learned.

Padding is exact, not approximate: masks reach every instance norm and convolution (see :mod:`.model`), so a
row decoded in a batch gets the same frame features as when decoded alone (~1e-5 relative; the sine source's
phase makes the final waveform more sensitive than that, see ``tests/test_torch_batch.py``).

Precision: ``dtype="fp16"`` (or ``"bf16"``) autocasts the decoder's convolutions; the text side, durations,
F0/energy, instance-norm statistics, the sine source, the STFT and the iSTFT stay in float32. Measured on one
sentence against fp32: fp16 0.07 dB log-spectral distance (0.7 % relative), bf16 0.47 dB (5 %): fp16's 10-bit
mantissa matters more here than bf16's range. A batch whose fp16 output is not finite is decoded again in fp32.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .model import TorchKokoro

DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class BatchOptions:
    """How :class:`BatchSynthesizer` groups work. The defaults suit an 80 GB GPU in bf16."""

    max_batch: int = 256  # rows per decoder batch
    max_frames: int = 64_000  # rows × padded frames per decoder batch (40 frames = 1 s): bounds memory
    frame_quantum: int = 16  # pad each decoder batch's frame axis to a multiple of this
    max_text_tokens: int = 32_768  # rows × padded tokens per text-side batch (also at most max_batch rows)
    dtype: str = "fp32"  # decoder precision: fp32 | bf16 | fp16

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if min(self.max_batch, self.max_frames, self.frame_quantum, self.max_text_tokens) < 1:
            raise ValueError("batch limits must be positive")


@dataclass(frozen=True)
class Utterance:
    """One request: phoneme ids (without Kokoro's 0 pads), its 256-d style row, and a speed factor."""

    ids: Sequence[int]
    style: np.ndarray  # (256,) float32
    speed: float = 1.0


@dataclass
class TextSide:
    """What the text side leaves for the decoder, per utterance (on the model's device)."""

    prosody: torch.Tensor  # [T, 640] DurationEncoder output (what F0/energy are read from)
    text: torch.Tensor  # [512, T] TextEncoder output (what the decoder reads)
    durations: torch.Tensor  # [T] long, frames per token
    style: torch.Tensor  # [256]
    frames: int  # durations.sum(), known on the host


def plan_batches(lengths: Sequence[int], max_batch: int, max_cost: int, quantum: int = 1) -> list[list[int]]:
    """Indices grouped into batches of similar length, longest first.

    Sorted by length, each batch takes the next rows while it has fewer than ``max_batch`` rows and
    rows × (its longest row rounded up to ``quantum``) stays within ``max_cost``. A row longer than
    ``max_cost`` on its own still gets a batch of one.
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    for i in order:
        if batches:
            batch = batches[-1]
            padded = math.ceil(lengths[batch[0]] / quantum) * quantum
            if len(batch) < max_batch and (len(batch) + 1) * padded <= max_cost:
                batch.append(i)
                continue
        batches.append([i])
    return batches


class BatchSynthesizer:
    """Audio for many utterances: ``BatchSynthesizer(model, options).run(utterances) -> [audio, ...]``.

    The model must already be on its device and in eval mode. Results are float32 numpy arrays in the order
    of the input, untrimmed (the engine trims edge silence as the ONNX engine does).
    """

    def __init__(self, model: TorchKokoro, options: BatchOptions | None = None) -> None:
        self.model = model
        self.options = options or BatchOptions()
        self.device = next(model.parameters()).device

    @torch.inference_mode()
    def run(self, utterances: Sequence[Utterance]) -> list[np.ndarray]:
        text = self.text_side(utterances)
        out: list[np.ndarray] = [np.zeros(0, np.float32)] * len(utterances)
        opts = self.options
        for batch in plan_batches([t.frames for t in text], opts.max_batch, opts.max_frames, opts.frame_quantum):
            audio, lengths = self.decode([text[i] for i in batch])
            audio, lengths = audio.cpu().numpy(), lengths.cpu().numpy()
            for row, i in enumerate(batch):
                out[i] = audio[row, : lengths[row]]
        return out

    @torch.inference_mode()
    def text_side(self, utterances: Sequence[Utterance]) -> list[TextSide]:
        """PL-BERT, text encoder and durations for every utterance, in token-length buckets."""
        lengths = [len(u.ids) + 2 for u in utterances]
        out: list[TextSide | None] = [None] * len(utterances)
        for batch in plan_batches(lengths, self.options.max_batch, self.options.max_text_tokens):
            tokens = torch.zeros(len(batch), lengths[batch[0]], dtype=torch.long)
            for row, i in enumerate(batch):
                tokens[row, 1: lengths[i] - 1] = torch.as_tensor(list(utterances[i].ids), dtype=torch.long)
            tokens = tokens.to(self.device)
            rows = torch.tensor([lengths[i] for i in batch], device=self.device)
            style = torch.as_tensor(np.stack([np.asarray(utterances[i].style, np.float32).reshape(256)
                                              for i in batch]), device=self.device)
            speed = torch.tensor([float(utterances[i].speed) for i in batch], device=self.device)
            prosody, text, durations = self.model.text_side(tokens, style, speed, rows)
            frames = durations.sum(dim=1).tolist()
            for row, i in enumerate(batch):
                n = lengths[i]
                out[i] = TextSide(prosody[row, :n], text[row, :, :n], durations[row, :n], style[row], frames[row])
        return out  # type: ignore[return-value]

    @torch.inference_mode()
    def decode(self, rows: Sequence[TextSide]) -> tuple[torch.Tensor, torch.Tensor]:
        """One decoder batch: padded audio [B, S] and the valid samples per row [B], on the device."""
        n = max(r.durations.shape[0] for r in rows)
        prosody = torch.zeros(len(rows), n, rows[0].prosody.shape[1], device=self.device)
        text = torch.zeros(len(rows), rows[0].text.shape[0], n, device=self.device)
        durations = torch.zeros(len(rows), n, dtype=torch.long, device=self.device)
        for b, r in enumerate(rows):
            t = r.durations.shape[0]
            prosody[b, :t], text[b, :, :t], durations[b, :t] = r.prosody, r.text, r.durations
        style = torch.stack([r.style for r in rows])
        q = self.options.frame_quantum if len(rows) > 1 else 1  # a lone row needs no padding, hence no masks
        total = math.ceil(max(r.frames for r in rows) / q) * q
        precision = DTYPES[self.options.dtype]
        audio, lengths = self.model.decode(prosody, text, durations, style, total_frames=total,
                                           autocast_dtype=precision)
        if precision is torch.float16 and not bool(torch.isfinite(audio).all()):  # fp16 overflowed: redo
            audio, lengths = self.model.decode(prosody, text, durations, style, total_frames=total)
        return audio, lengths
