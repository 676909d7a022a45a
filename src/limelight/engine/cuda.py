"""Kokoro-82M on PyTorch, for GPUs: the same engine interface as the ONNX one, plus batches and streaming.

``load_engine("kokoro", device="cuda")`` builds this. It reads the same shipped int8 ONNX (weights
dequantised to float, see :mod:`.torch_kokoro`), speaks the same token ids and style rows, and trims edge
silence the same way, so it can stand in for :class:`~.kokoro.KokoroEngine` anywhere. What it adds:

* :meth:`TorchKokoroEngine.synthesize_batch`: many texts at once, bucketed by length and padded with exact
  masks (:mod:`.torch_kokoro.batch`) — the throughput path;
* :meth:`TorchKokoroEngine.stream`: audio chunks of one text, the first after a short window of the
  generator (:mod:`.torch_kokoro.stream`) — the latency path.

This module imports torch at import time; :func:`.base.load_engine` imports it only when a CUDA device is
asked for, so the CPU path never loads torch. ``device="cpu"`` works too (tests, debugging), slowly.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import numpy as np
import torch

from ..errors import LimelightError
from ..text.sentences import split_long
from ..voice import Voice
from ..voice.colour import ColourStream, apply_colour
from .kokoro import MAX_TOKENS, SAMPLE_RATE, KokoroFrontEnd, kokoro_vocab
from .model_file import resolve_model
from .torch_kokoro import TorchKokoro, ops
from .torch_kokoro.batch import DTYPES, BatchOptions, BatchSynthesizer, Utterance
from .torch_kokoro.stream import Streamer, StreamOptions
from .trim import trim_silence

_GAP_S = 0.12  # silence between the pieces of an over-long sentence, as in the ONNX engine


def cuda_device(device: str) -> torch.device:
    """``"cuda"``/``"cuda:N"`` (or ``"cpu"``) as a torch device, with a clear error when it cannot work."""
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise LimelightError(f"unknown device {device!r}; use 'cpu', 'cuda' or 'cuda:N'", field="device") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise LimelightError(f"device={device!r} but PyTorch {torch.__version__} sees no CUDA GPU "
                                 "(a CPU-only build, or no driver/GPU visible); use device='cpu'", field="device")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise LimelightError(f"device={device!r} but only {torch.cuda.device_count()} CUDA GPU(s) are visible",
                                 field="device")
    elif dev.type != "cpu":
        raise LimelightError(f"unsupported device {device!r}; use 'cpu', 'cuda' or 'cuda:N'", field="device")
    return dev


class TorchKokoroEngine(KokoroFrontEnd):
    """Kokoro-82M in PyTorch. Not thread-safe: serve one call at a time per engine (batch them instead).

    ``dtype`` sets the decoder's precision (``"fp32"``, ``"bf16"``, ``"fp16"``; default fp16 on a GPU, fp32
    on the CPU). ``compile`` routes the decoder's element-wise chains through
    ``torch.compile``; ``cuda_graphs`` replays the streaming first window from a CUDA graph. Both are off by
    default: they cost start-up time and pay only on a GPU.
    """

    def __init__(self, model: str | os.PathLike[str] | None = None, device: str = "cuda", dtype: str | None = None,
                 batch: BatchOptions | None = None, stream: StreamOptions | None = None, compile: bool = False,
                 cuda_graphs: bool = False) -> None:
        self.device = cuda_device(device)
        if dtype is None:  # fp16 is closer to fp32 than bf16 here (see .torch_kokoro.batch), with a fallback
            dtype = "fp16" if self.device.type == "cuda" else "fp32"
        if dtype not in DTYPES:
            raise LimelightError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}", field="dtype")
        self.dtype = dtype
        self.model_path = resolve_model(model)
        self.model = TorchKokoro.from_onnx(self.model_path).to(self.device)
        if compile:
            ops.set_compiled(True)
        batch = batch or BatchOptions()
        stream = stream or StreamOptions()
        self._batch = BatchSynthesizer(self.model, BatchOptions(**{**batch.__dict__, "dtype": dtype}))
        self._streamer = Streamer(self.model, StreamOptions(**{**stream.__dict__, "dtype": dtype,
                                                              "cuda_graphs": cuda_graphs}))
        self._vocab = kokoro_vocab()

    # -- the Engine interface ------------------------------------------------------------------------------

    def synthesize(self, text: str, voice: Voice, speed: float = 1.0, language: str = "en") -> np.ndarray:
        """Audio for one sentence. Over-long sentences are cut into pieces and joined with a short gap."""
        return self.synthesize_batch([text], voice, speed, language)[0]

    def synthesize_phonemes(self, phonemes: str, voice: Voice, speed: float = 1.0) -> np.ndarray:
        """Run the model on an IPA string of at most 510 tokens; silence at both ends is trimmed."""
        ids = self._checked_ids(self.tokens(phonemes), speed)
        if not ids:
            return np.zeros(0, np.float32)
        audio = self._batch.run([Utterance(ids, voice.row(len(ids))[0], speed)])[0]
        return apply_colour(trim_silence(audio, SAMPLE_RATE), SAMPLE_RATE, voice.colour)

    # -- what the GPU adds ---------------------------------------------------------------------------------

    def synthesize_batch(self, texts: Sequence[str], voices: Voice | Sequence[Voice],
                         speed: float | Sequence[float] = 1.0, language: str = "en") -> list[np.ndarray]:
        """Audio for each text (same as :meth:`synthesize` of each), computed in length-bucketed batches.

        ``voices`` and ``speed`` are one for all texts or one per text.
        """
        voices_ = self._per_text(voices, len(texts), "voices")
        speeds = self._per_text(speed, len(texts), "speed")
        utterances: list[Utterance] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            for ids in self._pieces(text, language):
                ids = self._checked_ids(ids, float(speeds[i]))
                if ids:
                    utterances.append(Utterance(ids, voices_[i].row(len(ids))[0], float(speeds[i])))
                    owner.append(i)
        pieces: list[list[np.ndarray]] = [[] for _ in texts]
        for i, audio in zip(owner, self._batch.run(utterances), strict=True):
            pieces[i].append(apply_colour(trim_silence(audio, SAMPLE_RATE), SAMPLE_RATE, voices_[i].colour))
        return [_join(p) for p in pieces]

    def stream(self, text: str, voice: Voice, speed: float = 1.0, language: str = "en") -> Iterator[np.ndarray]:
        """Float32 audio chunks of one text; the first comes after a short window of the generator.

        Chunk boundaries are crossfaded, and edge silence is cut from the durations of Kokoro's pad tokens
        (not by level, as :meth:`synthesize` does), so the stream's ends can differ from it by a few tens of
        milliseconds. See :mod:`.torch_kokoro.stream` for how close the chunks are to the full decode.
        """
        first = True
        for ids in self._pieces(text, language):
            ids = self._checked_ids(ids, speed)
            if not ids:
                continue
            if not first:
                yield np.zeros(int(_GAP_S * SAMPLE_RATE), np.float32)
            first = False
            style = torch.from_numpy(np.ascontiguousarray(voice.row(len(ids))[0]))
            colour = ColourStream(voice.colour, SAMPLE_RATE)
            for chunk in self._streamer.stream(ids, style, speed):
                yield colour(chunk.cpu().numpy())
            yield colour.flush()

    # -- helpers -------------------------------------------------------------------------------------------

    def _pieces(self, text: str, language: str) -> list[list[int]]:
        """Token ids of ``text``, cut at clause, then word boundaries into pieces of at most 510 tokens."""
        phonemes = self.phonemize(text, language)
        ids = self.tokens(phonemes)
        if len(ids) <= MAX_TOKENS:
            return [ids]
        # characters per token ≈ 1 for IPA; cut the text with a margin and check each piece again
        out: list[list[int]] = []
        for piece in split_long(text, max(40, int(len(text) * MAX_TOKENS * 0.8 / len(phonemes)))):
            out.extend(self._pieces(piece, language))
        return out

    @staticmethod
    def _checked_ids(ids: list[int], speed: float) -> list[int]:
        if len(ids) > MAX_TOKENS:
            raise LimelightError(f"phoneme string of {len(ids)} tokens exceeds Kokoro's {MAX_TOKENS}")
        if not 0.25 <= speed <= 4.0:
            raise LimelightError(f"speed must be between 0.25 and 4, got {speed}", field="speed")
        return ids

    @staticmethod
    def _per_text(value: object, n: int, name: str) -> list:
        """``value`` (a Voice or a speed) for each of ``n`` texts: one for all, or a sequence of n."""
        if isinstance(value, (Voice, int, float)):
            return [value] * n
        values = list(value)  # type: ignore[call-overload]
        if len(values) != n:
            raise LimelightError(f"{name}: got {len(values)} for {n} texts; give one, or one per text", field=name)
        return values


def _join(pieces: list[np.ndarray]) -> np.ndarray:
    if not pieces:
        return np.zeros(0, np.float32)
    gap = np.zeros(int(_GAP_S * SAMPLE_RATE), np.float32)
    out: list[np.ndarray] = []
    for p in pieces:
        out.extend([p, gap])
    return np.concatenate(out[:-1])
