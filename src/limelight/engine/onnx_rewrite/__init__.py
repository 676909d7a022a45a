"""Graph rewrites that make the shipped Kokoro-82M int8 ONNX cheaper on a small CPU, keeping its sound.

Why: a profile of the shipped graph (2 threads, AVX2 without VNNI; ``bench/ort_variants.py``) puts ~55 % of
the time in the decoder's int8 convolutions and most of the rest in long chains of elementwise nodes over
tensors of 128 channels × 4 800 steps per second of audio: every AdaIN is spelled out as nine nodes (seven
passes over a tensor of 12 MB per 5 s of audio), every Snake activation as five, and the harmonic source's
STFT runs through onnxruntime's generic STFT kernel, which costs as much as several convolutions.

``fusions`` (exact up to float rounding):

* AdaIN ``(1+γ)·(x−μ)/√(σ²+ε) + β`` → InstanceNormalization with scale ``1+γ`` and bias ``β``.
* AdaIN + Snake ``y + sin²(αy)/α`` → InstanceNormalization with ``α(1+γ)``, ``αβ``, then ``(u + sin²u)/α``.
* A conv bias right before an instance norm is cancelled by its mean subtraction → dropped.
* ``Pow(x, 2)`` → ``x·x``; STFT → two strided convolutions with the windowed DFT basis.

The STFT's DC and Nyquist bins are real; the exported graph's Div/Atan/Where version of atan2 turns their
rounding-noise imaginary part into a phase of ±π at random. Our convolution makes that imaginary part exactly
zero, and adds 1e-30 so that the phase is +π as in PyTorch's ``atan2(+0, re<0)``, which is what the model was
trained with and what the original output mostly does (measured: closer to the original than −π).

``requant`` (changes rounding, measured to keep the output as close to a float version as the original is):
the generator's ConvInteger chains → QLinearConv on onnxruntime's symmetric kernel with calibrated per-channel
output ranges.

A note on "close": this network is chaotic at the level of float rounding. Perturbing the style vector by one
part in 10⁷ changes the waveform by ~13 dB SNR, because phase wraps and quantisation-bin flips propagate. So we
judge rewrites by their spectral distance to the original, next to that floor and to a float-convolution
version of the model, and by Whisper, not by waveform SNR alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .fusions import apply_fusions
from .graph import GraphEditor
from .requant import load_ranges, rewrite_convs
from .stats import RewriteStats

if TYPE_CHECKING:  # pragma: no cover
    import onnx

__all__ = ["RewriteStats", "rewrite_graph"]


def rewrite_graph(model: onnx.ModelProto, source_sha256: str | None = None, requantize: bool = True,
                  ) -> RewriteStats:
    """Apply the rewrites to ``model`` in place and say what changed. Safe on graphs that do not match.

    The conv requantisation runs only when ``requantize`` and a calibration table exists for
    ``source_sha256`` (the shipped model's).
    """
    stats = RewriteStats(nodes_before=len(model.graph.node))
    g = GraphEditor(model)
    apply_fusions(g, stats)
    ranges = load_ranges(source_sha256) if (requantize and source_sha256) else None
    if ranges:
        rewrite_convs(g, stats, ranges)
    stats.nodes_after = len(model.graph.node)
    return stats
