"""Streaming: the first audio of an utterance before the whole of it is decoded.

Everything up to the generator is cheap (~10 % of the FLOPs) and has whole-utterance dependencies (BiLSTMs,
instance norms over time), so it runs once for the whole utterance: text side, durations, F0/energy, the
frame-rate decoder blocks, and the sine source with its STFT (its phase is integrated from the start). The
generator, ~90 % of the work, then runs in windows of frames:

    kept frames     [a, b)                  decoded frames [a - context, b + context] (clipped)
    output samples  [600a - h, 600b + h)    h = crossfade / 2; neighbours overlap by 2h and are crossfaded

The generator's convolutions see ~0.1 s each side, and ``context`` (0.2 s) covers that exactly: with the
whole utterance's normalisation statistics a window reproduces the full decode bit for bit. But its AdaIN
layers normalise over *time*, and a window can only normalise over itself. No exact streaming exists for this
architecture (the last layer's statistics need every position of the layer before it, and so on down), so
the schedule is chosen by measurement (``bench/GPU_NOTES.md``):

* default (``frames=None``): a first window of ``first_frames`` decoded with ``lookahead`` frames of right
  context, which brings its local statistics close to the utterance's, then the generator over the whole
  utterance, from which the rest is kept: exact after the first window, at most ~1.5× the work (less for
  long utterances; short ones, up to ~2.5 s, are decoded whole and exactly). On a GPU a batch-1 window is
  launch-bound, so the long first window still comes early.
* ``frames=N``: windows of N frames after the first, each normalised over itself: steady chunks (CPU
  real-time streaming), audibly further from the full decode.

With ``cuda_graphs`` the first window's generator (a fixed shape) is captured once and replayed: at batch 1
the generator is hundreds of small kernels, and replay removes their launch cost from the first chunk.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from .batch import DTYPES
from .model import TorchKokoro, expand_to_frames


@dataclass(frozen=True)
class StreamOptions:
    """Window sizes in frames (40 per second) and the crossfade in samples (24 kHz)."""

    first_frames: int = 10  # kept frames in the first window: 0.25 s of audio
    lookahead: int = 80  # right context of the first window (2 s): its statistics cover this much
    frames: int | None = None  # kept frames per later window; None: the rest from one whole-utterance pass
    context: int = 8  # frames decoded and dropped on each side of a window
    crossfade: int = 240  # samples shared by neighbouring windows (10 ms), even
    dtype: str = "fp32"  # generator precision: fp32 | bf16 | fp16
    cuda_graphs: bool = False  # replay captured CUDA graphs for fixed-shape windows
    trim_db: float | None = -42.0  # cut edge audio quieter than this re the peak, as trim_silence does

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if (self.first_frames < 1 or (self.frames is not None and self.frames < 1) or self.context < 0
                or self.lookahead < self.context or self.crossfade < 0 or self.crossfade % 2):
            raise ValueError("window sizes must be positive and the crossfade even")
        if self.crossfade // 2 > 600 * min(1, self.context):
            raise ValueError("half the crossfade must fit in one frame (600 samples) of context")


def windows(total: int, head: int, opts: StreamOptions) -> list[tuple[int, int, int, int]]:
    """(a, b, lo, hi) per window: kept frames [a, b) and decoded frames [lo, hi) of an utterance of ``total``.

    The first window keeps the ``head`` frames of leading silence (Kokoro's pad token, trimmed by level
    later) plus ``first_frames``, and decodes the utterance's first context + first_frames + lookahead
    frames: a fixed shape wherever the utterance allows, so one CUDA graph fits every utterance. An
    utterance not much longer than that is decoded whole, exactly.
    """
    span = opts.context + opts.first_frames + opts.lookahead
    b = min(total, head + opts.first_frames)
    if total <= span + opts.first_frames or b == total:
        return [(0, total, 0, total)]
    out = [(0, b, 0, min(total, max(span, b + opts.context)))]
    if opts.frames is None:
        return [*out, (b, total, 0, total)]
    while b < total:
        a, b = b, min(total, b + opts.frames)
        out.append((a, b, max(0, a - opts.context), min(total, b + opts.context)))
    return out


class _GraphedGenerator:
    """The generator replayed from CUDA graphs, one per input shape (captured on first use)."""

    def __init__(self, model: TorchKokoro, autocast_dtype: torch.dtype | None, max_graphs: int = 4) -> None:
        self.generator = model.decoder.generator
        self.autocast_dtype = autocast_dtype
        self.max_graphs = max_graphs
        self.graphs: dict[tuple, tuple[torch.cuda.CUDAGraph, tuple[torch.Tensor, ...], torch.Tensor]] = {}

    def _run(self, x: torch.Tensor, s: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        with _precision(x, self.autocast_dtype, cache=False):
            return self.generator(x, s, source)

    def __call__(self, x: torch.Tensor, s: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        key = (tuple(x.shape), tuple(source.shape), x.dtype)
        if key not in self.graphs:
            if len(self.graphs) >= self.max_graphs:  # short utterances give odd shapes: not worth more graphs
                return self._run(x, s, source)
            static = (x.clone(), s.clone(), source.clone())
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                for _ in range(2):  # warm-up outside the graph (cuDNN algorithm choice, allocator)
                    self._run(*static)
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                out = self._run(*static)
            self.graphs[key] = (graph, static, out)
        graph, static, out = self.graphs[key]
        for dst, src in zip(static, (x, s, source), strict=True):
            dst.copy_(src)
        graph.replay()
        return out.clone()


def _precision(x: torch.Tensor, dtype: torch.dtype | None, cache: bool = True):  # -> a context manager
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=x.device.type, dtype=dtype, cache_enabled=cache)


class Streamer:
    """Audio chunks for one utterance at a time: ``Streamer(model, options).stream(ids, style, speed)``."""

    def __init__(self, model: TorchKokoro, options: StreamOptions | None = None) -> None:
        self.model = model
        self.options = options = options or StreamOptions()
        self.device = next(model.parameters()).device
        self.autocast_dtype = DTYPES[options.dtype]
        self._graphed: _GraphedGenerator | None = None
        if options.cuda_graphs:
            if self.device.type != "cuda":
                raise ValueError("cuda_graphs needs the model on a CUDA device")
            self._graphed = _GraphedGenerator(model, self.autocast_dtype)

    def _generator(self, x: torch.Tensor, s: torch.Tensor, source: torch.Tensor, graph: bool) -> torch.Tensor:
        if self._graphed is not None and graph:
            wav = self._graphed(x, s, source)
        else:
            with _precision(x, self.autocast_dtype):
                wav = self.model.decoder.generator(x, s, source)
        if self.autocast_dtype is torch.float16 and not bool(torch.isfinite(wav).all()):  # overflow: fp32
            wav = self.model.decoder.generator(x.float(), s, source)
        return wav

    @torch.inference_mode()
    def stream(self, ids: list[int] | torch.Tensor, style: torch.Tensor, speed: float = 1.0) -> Iterator[torch.Tensor]:
        """Float32 waveform pieces [n] (on the model's device) whose concatenation is the utterance.

        ``ids`` are phoneme ids without the 0 pads; ``style`` is the [256] (or [1, 256]) style row. Edge
        silence is cut by level (``trim_db``); the pad tokens' frames are decoded all the same, because the
        first sound begins a little before its token's first frame.
        """
        model, opts, cfg = self.model, self.options, self.model.cfg
        tokens = torch.zeros(1, len(ids) + 2, dtype=torch.long)
        tokens[0, 1:-1] = torch.as_tensor(ids, dtype=torch.long)
        tokens, style = tokens.to(self.device), style.reshape(1, -1).to(self.device, torch.float32)
        s_timbre, s_prosody = style[:, : cfg.style_dim], style[:, cfg.style_dim:]

        d, t_en, durations = model.text_side(tokens, style, speed)
        en, asr, _ = expand_to_frames(d, t_en, durations)
        f0, energy = model.predictor.f0_energy(en, s_prosody)
        with _precision(asr, self.autocast_dtype):
            features = model.decoder.features(asr, f0, energy, s_timbre)  # [1, 512, 2F]
        if not bool(torch.isfinite(features).all()):  # fp16 overflow: the frame decoder again in fp32
            features = model.decoder.features(asr, f0, energy, s_timbre)
        source = model.decoder.generator.excitation(f0)  # [1, 22, 120F + 1]

        n_frames = int(en.shape[-1])
        spf = 2 * cfg.samples_per_f0  # samples per frame (600)
        up = spf // cfg.hop  # STFT frames per frame (120)
        half = opts.crossfade // 2
        ramp = torch.linspace(0.0, 1.0, 2 * half + 2, device=self.device)[1:-1]
        pending: torch.Tensor | None = None
        spans = windows(n_frames, int(durations[0, 0]), opts)
        trim = _EdgeTrim(opts.trim_db, cfg.sample_rate) if opts.trim_db is not None else None
        for k, (a, b, lo, hi) in enumerate(spans):
            wav = self._generator(features[:, :, 2 * lo: 2 * hi], s_timbre, source[:, :, up * lo: up * hi + 1],
                                  graph=k == 0)[0].float()
            last = k == len(spans) - 1
            piece = wav[spf * (a - lo) - (half if k else 0): spf * (b - lo) + (0 if last else half)]
            if pending is not None:
                piece = torch.cat([pending * (1 - ramp) + piece[: 2 * half] * ramp, piece[2 * half:]])
            if not last:
                pending = piece[piece.shape[0] - 2 * half:]
                piece = piece[: piece.shape[0] - 2 * half]
            if trim is not None:
                piece = trim(piece, last)
            if piece.numel():
                yield piece


class _EdgeTrim:
    """:func:`~limelight.engine.trim.trim_silence`'s rule (10 ms frames quieter than ``db`` re the peak, a
    40 ms margin kept) applied to a stream: the head against the first audible chunk's own peak (the
    utterance's is not known yet, so it never cuts more than the offline trim), the tail against the peak
    of the whole stream (known by the last chunk)."""

    def __init__(self, db: float, sample_rate: int, margin_s: float = 0.04, silent: float = 1e-3) -> None:
        self.ratio = 10 ** (db / 20)
        self.hop = sample_rate // 100
        self.margin = int(margin_s * sample_rate)
        self.silent = silent  # a chunk whose peak is below this (-60 dBFS) before any audio is dropped
        self.peak = 0.0
        self.started = False

    def _loud(self, x: torch.Tensor, peak: float) -> torch.Tensor:
        """Indices of the 10 ms frames of ``x`` louder than the threshold for ``peak``."""
        n = x.shape[0] // self.hop
        rms = x[: n * self.hop].reshape(n, self.hop).double().pow(2).mean(dim=1).sqrt()
        return torch.nonzero(rms > self.ratio * peak).flatten()

    def __call__(self, x: torch.Tensor, last: bool) -> torch.Tensor:
        peak = float(x.abs().max()) if x.numel() else 0.0
        self.peak = max(self.peak, peak)
        if not self.started:
            if peak < self.silent and not last:
                return x[:0]
            loud = self._loud(x, peak)
            if loud.numel() == 0:
                return x[:0] if not last else x
            self.started = True
            x = x[max(0, int(loud[0]) * self.hop - self.margin):]
        if last:
            loud = self._loud(x, self.peak)
            end = (int(loud[-1]) + 1) * self.hop if loud.numel() else 0  # all quiet: the margin only
            x = x[: min(x.shape[0], end + self.margin)]
        return x
