"""Kokoro-82M on PyTorch (a GPU, or the CPU): a back end of `KokoroFrontEnd`, plus batches and streaming.

``load_engine("kokoro", device="cuda")`` builds this. It reads the same shipped int8 ONNX (weights
dequantised to float, see :mod:`.torch_kokoro`) and shares the whole front end with the ONNX engine (phonemes,
ids, the ≤ 510-token split, trim, colour: :class:`~.kokoro.KokoroFrontEnd`), implementing only ids → audio,
so it can stand in for :class:`~.kokoro.KokoroEngine` anywhere. What it adds:

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
from ..voice import Voice
from ..voice.colour import ColourStream
from .kokoro import PIECE_GAP_S, SAMPLE_RATE, KokoroFrontEnd, check_ids, finish, join_pieces, kokoro_vocab
from .model_file import resolve_model
from .torch_kokoro import TorchKokoro, ops
from .torch_kokoro.batch import DTYPES, BatchOptions, BatchSynthesizer, Utterance
from .torch_kokoro.stream import Streamer, StreamOptions


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

    # -- the back end ---------------------------------------------------------------------------------------

    def _ids_to_audio(self, ids: list[int], voice: Voice, speed: float, pitch: float,
                      durations: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """No durations from the batch path: word timings are then estimated (see `KokoroFrontEnd`)."""
        return self._batch.run([Utterance(ids, voice.row(len(ids))[0], speed)])[0], None

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
            for _piece, phonemes in self.pieces(text, language):
                ids = self.tokens(phonemes)
                check_ids(ids, float(speeds[i]))
                if ids:
                    utterances.append(Utterance(ids, voices_[i].row(len(ids))[0], float(speeds[i])))
                    owner.append(i)
        pieces: list[list[np.ndarray]] = [[] for _ in texts]
        for i, audio in zip(owner, self._batch.run(utterances), strict=True):
            pieces[i].append(finish(audio, voices_[i])[0])
        return [join_pieces(p) for p in pieces]

    def stream(self, text: str, voice: Voice, speed: float = 1.0, language: str = "en") -> Iterator[np.ndarray]:
        """Float32 audio chunks of one text; the first comes after a short window of the generator.

        Chunk boundaries are crossfaded, and edge silence is cut from the durations of Kokoro's pad tokens
        (not by level, as :meth:`synthesize` does), so the stream's ends can differ from it by a few tens of
        milliseconds. See :mod:`.torch_kokoro.stream` for how close the chunks are to the full decode.
        """
        first = True
        for _piece, phonemes in self.pieces(text, language):
            ids = self.tokens(phonemes)
            check_ids(ids, speed)
            if not ids:
                continue
            if not first:
                yield np.zeros(int(PIECE_GAP_S * SAMPLE_RATE), np.float32)
            first = False
            style = torch.from_numpy(np.ascontiguousarray(voice.row(len(ids))[0]))
            colour = ColourStream(voice.colour, SAMPLE_RATE)
            for chunk in self._streamer.stream(ids, style, speed):
                yield colour(chunk.cpu().numpy())
            yield colour.flush()

    # -- helpers -------------------------------------------------------------------------------------------

    @staticmethod
    def _per_text(value: object, n: int, name: str) -> list:
        """``value`` (a Voice or a speed) for each of ``n`` texts: one for all, or a sequence of n."""
        if isinstance(value, (Voice, int, float)):
            return [value] * n
        values = list(value)  # type: ignore[call-overload]
        if len(values) != n:
            raise LimelightError(f"{name}: got {len(values)} for {n} texts; give one, or one per text", field=name)
        return values

