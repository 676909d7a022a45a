"""Generator convolutions on onnxruntime's fast symmetric int8 kernel (QLinearConv) instead of ConvInteger.

Why: the shipped graph quantises each conv input on the fly (DynamicQuantizeLinear, asymmetric u8) and runs
``ConvInteger`` with u8 weights. On AVX2 without VNNI, onnxruntime runs that through its u8·u8 GEMM (im2col +
16-bit multiplies). ``QLinearConv`` with a *constant* input zero point and zero weight zero point instead takes
MLAS's symmetric direct-convolution kernel, which measured 15–40 % less CPU per convolution (128 ch × k 11:
58 vs 86 ms per 5 s of audio; k 3 dilation 5: 24 vs 28 ms; 256 ch × k 7: 23 vs 40 ms). Its u8 input is
treated as s8 (x−128) and weights as s8, so products never saturate the 16-bit pair sums of ``vpmaddubsw``.

What it costs in accuracy, and how we keep that small:

* Weights are unchanged: Kokoro's are 7-bit (``|w − zp| ≤ 79``), so ``w − zp`` is an exact int8 weight.
* The input is quantised symmetrically (``scale = max|x| / 127``, zero point 128) instead of over [min, max];
  for these nearly symmetric activations that is within 0.6 dB of the original per-layer SNR.
* QLinearConv writes u8, so each output channel gets its own range ``K_c·scale_x`` from a calibration table
  (``kokoro_conv_ranges.npz``, measured on the shipped model over voices, speeds, blends and exaggerated styles;
  see ``calibrate``). The per-channel range is passed as a per-channel *weight* scale, which onnxruntime applies
  in its requantisation; ``DequantizeLinear`` along axis 1 undoes it exactly. Values beyond the table's range
  saturate (a soft clip) instead of wrapping.
* The bias is added in float after dequantisation: the symmetric kernel folds only *constant* int32 biases and
  silently ignores a per-call one.

Measured on Kokoro: a requantised layer's SNR against a float conv of the same input is 0.8–2.6 dB below the
original int8 layer's (e.g. 23.4 vs 24.2 dB); the whole output is as close to a float-convolution version of
the model as the original is, and Whisper hears the same words (bench table).
The rewrite only runs when the table's source sha256 matches the model being optimised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .graph import GraphEditor
from .stats import RewriteStats

if TYPE_CHECKING:  # pragma: no cover
    import onnx

RANGES_FILE = Path(__file__).with_name("kokoro_conv_ranges.npz")
#: Calibrated per-channel ranges are widened by this factor: a style or speed beyond the calibration set may
#: push a channel somewhat higher, and clipping costs more than the ~0.3 bit of resolution this gives up.
HEADROOM = 1.25
_SCOPE = "/decoder/decoder/generator/"


@dataclass(frozen=True)
class ConvSite:
    """One ``DynamicQuantizeLinear → ConvInteger → [Add bias] → Cast → Mul(scale)`` chain."""

    name: str
    x: str  # float input of the dynamic quantisation
    y: str  # float output after the scale Mul
    nodes: tuple[Any, ...]
    weights: np.ndarray  # int8, w − zp
    w_scale: float
    bias: np.ndarray | None  # float32 [C]
    attrs: dict[str, Any]


def _float_bias(g: GraphEditor, name: str) -> np.ndarray | None:
    """Follow the per-call bias quantisation (Reshape ← Cast ← Floor/Round/Add ← Div) back to the float bias."""
    node = g.producer.get(name)
    for _ in range(8):
        if node is None or node.op_type not in ("Reshape", "Cast", "Floor", "Round", "Add", "Div"):
            return None
        if node.op_type == "Div":
            value = g.const(node.input[0])
            return None if value is None else value.reshape(-1).astype(np.float32)
        node = g.producer.get(node.input[0])
    return None


def find_conv_sites(g: GraphEditor, scope: str = _SCOPE) -> list[ConvSite]:
    """Every dynamically quantised ConvInteger chain under ``scope`` whose weights fit int8 exactly."""
    sites = []
    for conv in g.model.graph.node:
        if conv.op_type != "ConvInteger" or scope not in conv.name or len(conv.input) < 4:
            continue
        dql = g.producer.get(conv.input[0])
        if dql is None or dql.op_type != "DynamicQuantizeLinear" or list(dql.output)[::2] != [conv.input[0],
                                                                                               conv.input[2]]:
            continue
        w, wz = g.const(conv.input[1]), g.const(conv.input[3])
        if w is None or wz is None or wz.size != 1 or w.ndim != 3:
            continue
        w_int = w.astype(np.int32) - int(wz.reshape(-1)[0])
        if np.abs(w_int).max() > 127:
            continue
        chain = [dql, conv]
        nxt = g.users(conv.output[0])
        bias = None
        if len(nxt) == 1 and nxt[0] is not None and nxt[0].op_type == "Add":
            add = nxt[0]
            bias = _float_bias(g, _other_input(add, conv.output[0]))
            if bias is None:
                continue
            chain.append(add)
            nxt = g.users(add.output[0])
        if len(nxt) != 1 or nxt[0] is None or nxt[0].op_type != "Cast":
            continue
        cast = nxt[0]
        mul = g.only_consumer(cast.output[0], "Mul")
        if mul is None:
            continue
        scale = g.producer.get(_other_input(mul, cast.output[0]))
        if scale is None or scale.op_type != "Mul" or dql.output[1] not in scale.input:
            continue
        w_scale = g.const(_other_input(scale, dql.output[1]))
        if w_scale is None or w_scale.size != 1:
            continue
        # The quantised tensor, its scale and zero point must serve only this conv (the scale Mul also
        # feeds the per-call bias quantisation, which dies with the bias Add).
        if (g.users(dql.output[0]) != [conv] or g.users(dql.output[1]) != [scale]
                or g.users(dql.output[2]) != [conv]):
            continue
        attrs = {a.name: g.attr(conv, a.name) for a in conv.attribute}
        sites.append(ConvSite(conv.name, dql.input[0], mul.output[0], (*chain, cast, mul), w_int.astype(np.int8),
                              float(w_scale.reshape(-1)[0]), bias, attrs))
    return sites


def _other_input(node: Any, name: str) -> str:
    ins = list(node.input)
    return ins[1] if ins[0] == name else ins[0]


def rewrite_convs(g: GraphEditor, stats: RewriteStats, ranges: Mapping[str, np.ndarray],
                  headroom: float = HEADROOM) -> None:
    """Replace each calibrated conv chain by symmetric-quantised QLinearConv with per-channel output ranges."""
    zp = g.add_const("q_zero_point", np.array(128, np.uint8))
    inv127 = g.add_const("q_inv127", np.array(1.0 / 127.0, np.float32))
    tiny = g.add_const("q_tiny", np.array(1e-30, np.float32))
    for site in find_conv_sites(g):
        ratio = ranges.get(site.name)
        c_out = site.weights.shape[0]
        if ratio is None or ratio.shape != (c_out,):
            continue
        k = np.asarray(ratio, np.float64) * headroom / 127.0  # output step per channel, in units of scale_x
        k = np.maximum(k, 1e-6 * max(float(k.max()), 1e-12)).astype(np.float32)
        g.remove(site.nodes)
        hi = g.node("ReduceMax", [site.x], base="q_max", keepdims=0)[0]
        lo = g.node("ReduceMin", [site.x], base="q_min", keepdims=0)[0]
        lo = g.node("Neg", [lo], base="q_neg")[0]
        amax = g.node("Max", [hi, lo, tiny], base="q_absmax")[0]
        x_scale = g.node("Mul", [amax, inv127], base="q_x_scale")[0]
        xq = g.node("QuantizeLinear", [site.x, x_scale, zp], base="q_x")[0]
        ins = [xq, x_scale, zp, g.add_const("q_w", site.weights),
               g.add_const("q_w_scale", (np.float32(site.w_scale) / k).astype(np.float32)),
               g.add_const("q_w_zero_point", np.zeros(c_out, np.int8)), x_scale, zp]
        yq = g.node("QLinearConv", ins, base="q_conv", **site.attrs)[0]
        step = g.node("Mul", [x_scale, g.add_const("q_k", k)], base="q_step")[0]
        zps = g.add_const("q_y_zero_point", np.full(c_out, 128, np.uint8))
        if site.bias is None:
            g.node("DequantizeLinear", [yq, step, zps], [site.y], base="q_deq", axis=1)
        else:
            y = g.node("DequantizeLinear", [yq, step, zps], base="q_deq", axis=1)[0]
            g.node("Add", [y, g.add_const("q_bias", site.bias.reshape(1, -1, 1))], [site.y], base="q_bias_add")
        stats.convs_requantized += 1
    g.commit()


# ---- calibration --------------------------------------------------------------------------------------------
def calibrate(model: onnx.ModelProto, feeds: Iterable[Mapping[str, np.ndarray]], threads: int = 2,
              ) -> dict[str, np.ndarray]:
    """Per conv site and output channel, the largest ``max_t |conv_c(t)| / (max|x| / 127)`` seen over ``feeds``.

    ``model`` is the graph *after* the exact rewrites (the sites are found the same way as when rewriting).
    The conv output is measured without its bias, since the bias is added after dequantisation.
    """
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    g = GraphEditor(probe)
    sites = find_conv_sites(g)
    axes = g.add_const("calib_axes", np.array([0, 2], np.int64))
    outputs: list[str] = []
    for s in sites:
        y = s.y
        if s.bias is not None:
            y = g.node("Sub", [y, g.add_const("calib_bias", s.bias.reshape(1, -1, 1))], base="calib_nobias")[0]
        ya = g.node("Abs", [y], base="calib_abs_y")[0]
        outputs.append(g.node("ReduceMax", [ya, axes], base="calib_max_y", keepdims=0)[0])
        xa = g.node("Abs", [s.x], base="calib_abs_x")[0]
        outputs.append(g.node("ReduceMax", [xa], base="calib_max_x", keepdims=0)[0])
    for name in outputs:
        probe.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    g.commit()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(probe.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    best: dict[str, np.ndarray] = {}
    for feed in feeds:
        got = sess.run(outputs, dict(feed))
        for i, s in enumerate(sites):
            ratio = got[2 * i] / max(float(got[2 * i + 1]) / 127.0, 1e-30)
            best[s.name] = np.maximum(best.get(s.name, ratio), ratio).astype(np.float32)
    return best


def save_ranges(path: Path, source_sha256: str, ranges: Mapping[str, np.ndarray]) -> None:
    np.savez_compressed(path, __source_sha256__=np.array(source_sha256), **dict(sorted(ranges.items())))


def load_ranges(source_sha256: str, path: Path = RANGES_FILE) -> dict[str, np.ndarray] | None:
    """The calibration table for the model with this sha256, or None (another model: no requantisation)."""
    if not path.is_file():
        return None
    with np.load(path) as npz:
        if str(npz["__source_sha256__"]) != source_sha256:
            return None
        return {k: np.asarray(npz[k], np.float32) for k in npz.files if k != "__source_sha256__"}
