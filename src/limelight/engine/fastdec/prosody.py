"""Word-level prosody inside Kokoro: per-token durations, F0 and energy edited between predictor and decoder.

Kokoro predicts, per phoneme token, a duration (``/encoder/Div_output_0``: frames at 40 per second, already
divided by ``speed``), then from the aligned features an F0 curve and an energy curve ``N`` (80 per second),
which the decoder turns into the features ``x`` that the generator (or our distilled student) renders. A DSP
pass over the waveform cannot stress one word of a phrase naturally; editing these three predictions can:
the decoder then renders a longer, higher, stronger word with its own coarticulation.

The graph is cut into three pieces at those tensors (``onnx.utils.Extractor``, cached next to the model like
:mod:`.front`'s cut; the pieces reproduce the uncut graph's ``x`` and F0 exactly):

- A: tokens, style, speed → durations, the predictor's per-token features ``d``, the text encoder's ``t_en``
- B: style, durations, ``d`` → F0, N
- C: style, durations, ``t_en``, F0, N → ``x``

:func:`render` runs A, scales the durations of the marked tokens, runs B, raises/lowers F0 and N over the
marked tokens' frames (smoothly, so there is no step), runs C, and hands ``x`` and the edited F0 to the
decoder (the fast decoder, or Kokoro's own generator cut out as a fourth piece for ``decoder="kokoro"``). Only
utterances with an emphasis take this path; everything else runs as before.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import LimelightError
from ..graph_opt import sidecar_path, source_stamp
from .front import F0, FEATURES

DURATIONS = "/encoder/Div_output_0"  # per-token durations in frames (40/s), after ÷ speed, before rounding
PREDICTOR = "/encoder/predictor/text_encoder/Concat_4_output_0"  # d [1, T, 640]
TEXT_ENC = "/encoder/text_encoder/Transpose_2_output_0"  # t_en [1, 512, T]
ENERGY = "/encoder/Squeeze_1_output_0"  # N [1, 2·frames]
PROSODY_VERSION = 1
_CUTS: dict[str, tuple[list[str], list[str]]] = {
    "a": (["tokens", "style", "speed"], [DURATIONS, PREDICTOR, TEXT_ENC]),
    "b": (["style", DURATIONS, PREDICTOR], [F0, ENERGY]),
    "c": (["style", DURATIONS, TEXT_ENC, F0, ENERGY], [FEATURES]),
}
# Kokoro's own generator (x, F0, style → audio), for decoder="kokoro": built only when that decoder is used.
_GENERATOR: dict[str, tuple[list[str], list[str]]] = {"g": (["style", FEATURES, F0], ["audio"])}


@dataclass(frozen=True)
class Stress:
    """What one emphasis level does to its word: duration ×, F0 + semitones (at the word's peak), N +."""

    duration: float
    semitones: float
    energy: float


#: Chosen by ear and checked with ``bench/ssml.py`` (the word's duration, peak F0 and level against the same
#: sentence unmarked). ``energy`` is added to Kokoro's N curve (which spans about −10…9): +4 ≈ +2 dB.
LEVELS: dict[str, Stress] = {
    "strong": Stress(1.40, 4.0, 4.0),
    "moderate": Stress(1.22, 2.5, 2.5),
    "reduced": Stress(0.85, -1.5, -2.0),
}
_SMOOTH_FRAMES = 7  # ≈ 90 ms at 80 frames/s: the F0/energy change ramps in and out instead of stepping


def cut_paths(model: Path, cuts: dict[str, tuple[list[str], list[str]]] = _CUTS) -> dict[str, Path]:
    """The cut graphs for ``model``, built on first use (a few seconds; needs ``onnx``)."""
    model = Path(model)
    paths = {k: model.with_name(f"{model.stem}.limelight-prosody{PROSODY_VERSION}{k}.onnx") for k in cuts}
    meta = sidecar_path(paths[next(iter(cuts))])
    try:
        if all(p.is_file() for p in paths.values()) and \
                json.loads(meta.read_text()).get("source_stamp") == source_stamp(model):
            return paths
    except (OSError, ValueError):
        pass
    try:
        import onnx
        from onnx.utils import Extractor
    except ImportError as exc:
        raise LimelightError("word emphasis needs the onnx package to prepare the model (pip install onnx)",
                             field="decoder") from exc
    graph = onnx.load(str(model))
    produced = {o for node in graph.graph.node for o in node.output}
    missing = [n for n in (DURATIONS, PREDICTOR, TEXT_ENC, F0, ENERGY, FEATURES, "audio") if n not in produced
               and n not in {i.name for i in graph.graph.output}]
    if missing:
        raise LimelightError(f"{model.name} is not a Kokoro v1.0 export whose prosody can be edited "
                             f"(no {missing[0]})", field="decoder")
    extractor = Extractor(graph)
    for key, (inputs, outputs) in cuts.items():
        tmp = paths[key].with_name(f"{paths[key].name}.{os.getpid()}.tmp")
        try:
            onnx.save(extractor.extract_model(inputs, outputs), str(tmp))
            tmp.replace(paths[key])
        finally:
            tmp.unlink(missing_ok=True)
    meta.write_text(json.dumps({"source": model.name, "source_stamp": source_stamp(model)}, indent=1) + "\n")
    return paths


class ProsodyFront:
    """The three cut graphs as sessions, loaded on first use (≈ 60 MB; only emphasis needs them)."""

    def __init__(self, model: Path, session_options) -> None:
        self.model = Path(model)
        self._options = session_options
        self._sessions: dict[str, object] | None = None
        self._lock = threading.Lock()
        self._generator: object | None = None

    def _load(self) -> dict[str, object]:
        if self._sessions is None:
            import onnxruntime as ort

            with self._lock:
                if self._sessions is None:
                    paths = cut_paths(self.model)
                    self._sessions = {k: ort.InferenceSession(str(p), sess_options=self._options,
                                                              providers=["CPUExecutionProvider"])
                                      for k, p in paths.items()}
        return self._sessions

    def generate(self, x: np.ndarray, f0: np.ndarray, style: np.ndarray) -> np.ndarray:
        """Kokoro's own generator on ``x`` and F0 (``decoder="kokoro"``): the graph's last piece, cut alone."""
        if self._generator is None:
            import onnxruntime as ort

            with self._lock:
                if self._generator is None:
                    path = cut_paths(self.model, _GENERATOR)["g"]
                    self._generator = ort.InferenceSession(str(path), sess_options=self._options,
                                                           providers=["CPUExecutionProvider"])
        return self._generator.run(None, {"style": style.astype(np.float32), FEATURES: x,  # type: ignore[attr-defined]
                                          F0: f0})[0]

    def render(self, feeds: dict[str, np.ndarray], levels: list[str | None],
               contour: tuple[list[bool], tuple[tuple[float, float], ...]] | None = None,
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``x`` and F0 for ``feeds`` with each token's emphasis level applied (``levels`` has one entry per
        token *without* the two pad tokens; None = unmarked), and, when given, a pitch ``contour``: which tokens
        it covers and its ``(position 0..1, semitones)`` points, interpolated over those tokens' frames. The
        third value is the duration of every token position (pads included) in the graph's own units (two F0
        frames, 600 samples), as the uncut graph reports them, after the edit."""
        s = self._load()
        style = feeds["style"].astype(np.float32)
        dur, d, t_en = s["a"].run(None, feeds)  # type: ignore[attr-defined]
        n_tok = dur.shape[1]
        scale = np.ones(n_tok, np.float32)
        semis = np.zeros(n_tok, np.float32)
        energy = np.zeros(n_tok, np.float32)
        for i, level in enumerate(levels[: n_tok - 2]):
            if level in LEVELS:
                stress = LEVELS[level]
                scale[i + 1], semis[i + 1], energy[i + 1] = stress.duration, stress.semitones, stress.energy
        dur = _stretch(dur, scale)
        f0, n = s["b"].run(None, {"style": style, DURATIONS: dur, PREDICTOR: d})  # type: ignore[attr-defined]
        frames = np.maximum(np.round(dur[0]), 1.0).astype(np.int64) * 2  # F0/N run at twice the token rate
        per_frame_st = _smooth(np.repeat(semis, frames)[: f0.shape[1]], f0.shape[1])
        if contour is not None and contour[1] and any(contour[0]):
            per_frame_st += _contour_curve(frames, contour[0], contour[1], f0.shape[1])
        per_frame_n = _smooth(np.repeat(energy, frames)[: n.shape[1]], n.shape[1])
        f0 = (f0 * (2.0 ** (per_frame_st / 12.0))[None, :]).astype(np.float32)
        n = (n + per_frame_n[None, :]).astype(np.float32)
        (x,) = s["c"].run(None, {"style": style, DURATIONS: dur, TEXT_ENC: t_en, F0: f0,  # type: ignore[attr-defined]
                                 ENERGY: n})
        return x, f0, (frames // 2).astype(np.int64)


def _stretch(dur: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Durations with each run of scaled tokens stretched as a whole: the graph rounds every token to whole
    frames, and most phonemes last 1–3 frames, so ×1.2 per token would round back to nothing. Over a run,
    the rounded running sum spreads the added frames across its tokens (at least one frame each)."""
    out = dur.copy()
    row, marked = out[0], scale != 1.0
    i = 0
    while i < marked.size:
        if not marked[i]:
            i += 1
            continue
        j = i
        while j < marked.size and marked[j]:
            j += 1
        total = np.round(np.cumsum(row[i:j] * scale[i:j]))
        row[i:j] = np.maximum(np.diff(np.concatenate([[0.0], total])), 1.0)
        i = j
    return out.astype(np.float32)


def _contour_curve(frames: np.ndarray, inside: list[bool], points: tuple[tuple[float, float], ...],
                   length: int) -> np.ndarray:
    """Semitones per F0 frame: the points interpolated linearly over the frames of the covered tokens (from the
    first covered token to the last), held flat outside their positions, 0 elsewhere; smoothed at the ends."""
    covered = [i + 1 for i, flag in enumerate(inside[: frames.size - 2]) if flag]
    curve = np.zeros(length, np.float32)
    if not covered:
        return curve
    start, end = int(frames[: covered[0]].sum()), min(int(frames[: covered[-1] + 1].sum()), length)
    if end <= start:
        return curve
    where = (np.arange(start, end) - start + 0.5) / (end - start)
    curve[start:end] = np.interp(where, [p for p, _ in points], [st for _, st in points])
    return _smooth(curve, length)


def _smooth(curve: np.ndarray, length: int) -> np.ndarray:
    if curve.size < length:
        curve = np.pad(curve, (0, length - curve.size))
    if not np.any(curve):
        return curve.astype(np.float32)
    kernel = np.hanning(_SMOOTH_FRAMES + 2)[1:-1]
    kernel /= kernel.sum()
    return np.convolve(curve, kernel, mode="same").astype(np.float32)


@dataclass(frozen=True)
class TokenProsody:
    """What the markers of one ≤ 510-token piece ask for, per token (pads excluded): each token's emphasis level
    (None = unmarked) and, when the piece has a contour, which tokens it covers and its points."""

    levels: list[str | None]
    contour: tuple[list[bool], tuple[tuple[float, float], ...]] | None

    @staticmethod
    def of(phonemes: str, levels: list[str | None], inside: list[bool],
           points: tuple[tuple[float, float], ...], vocab: dict[str, int]) -> TokenProsody | None:
        """From the marker-free ``phonemes`` and their per-character levels and contour flags (as
        :func:`limelight.text.inline.emphasis_levels` and ``contour_marks`` give them); None when nothing is
        marked (the plain render path)."""
        if not any(levels) and not points:
            return None
        contour = (token_levels(phonemes, inside, vocab), points) if points else None
        return TokenProsody(token_levels(phonemes, levels, vocab), contour)


def token_levels(phonemes: str, levels: list, vocab: dict[str, int]) -> list:
    """Per-token values for the tokens :meth:`KokoroFrontEnd.tokens` keeps (symbols outside ``vocab`` dropped)."""
    return [lvl for ch, lvl in zip(phonemes, levels, strict=True) if ch in vocab]
