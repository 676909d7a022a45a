"""Fill :class:`TorchKokoro` from a Kokoro ONNX export, dequantising int8 weights on the way.

The shipped graph (onnxruntime dynamic quantisation) keeps weights in three forms:

* ``MatMulInteger`` / ``ConvInteger`` / ``Gather`` + ``DequantizeLinear``: an int8 (or uint8) initializer with a
  ``<name>_scale`` beside it and a zero point on the node's input (zero points are shared between layers, so
  we read them from the node, never by name). Float weight = (q - zero_point) * scale.
* ``DynamicQuantizeLSTM``: W [dirs, in, 4H] and R [dirs, H, 4H] int8 with per-direction scale and zero point,
  gates in ONNX order (i, o, f, c), bias [dirs, 8H] = input bias ++ recurrent bias.
* float initializers: biases, norms and Snake alphas under their PyTorch names; weight-normed convolutions
  folded to plain weights under generated names (``/decoder/.../Mul_output_0``).

A weight's PyTorch name comes from the name of the node that consumes it (``/encoder/F0.1/conv1/Conv_quant``
→ ``predictor.F0.1.conv1.weight``). The result must match the model's state dict exactly, both ways.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from ...errors import ModelFileError

if TYPE_CHECKING:
    import onnx

    from .model import TorchKokoro

# reference name → TorchKokoro name, where this implementation flattens a wrapper module
_RENAMES = (
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.", "bert.layer."),
    ("bert.encoder.embedding_hidden_mapping_in.", "bert.embedding_hidden_mapping_in."),
    ("predictor.duration_proj.linear_layer.", "predictor.duration_proj."),
    ("decoder.asr_res.0.", "decoder.asr_res."),
    ("decoder.generator.stft.istft.stft.", "decoder.generator.istft."),
)
_TOP_LEVEL = {"bert", "bert_encoder", "predictor", "text_encoder", "decoder"}
_ONNX_GATES_TO_TORCH = (0, 2, 3, 1)  # ONNX i, o, f, c  →  PyTorch i, f, g(c), o


def _rename(name: str) -> str:
    """Reference-style dotted name (``encoder.…`` / ``decoder.decoder.…`` prefixes allowed) → our name."""
    if name.startswith("decoder.decoder."):
        name = name[len("decoder."):]
    elif name.startswith("encoder."):
        name = name[len("encoder."):]
    if name.split(".")[0] not in _TOP_LEVEL:  # the export hoists predictor.F0/N/shared to the encoder's scope
        name = "predictor." + name
    for old, new in _RENAMES:
        if name.startswith(old):
            name = new + name[len(old):]
    return name


def _param_of(node_name: str, param: str) -> str:
    """Our name for ``param`` of the module an ONNX node runs.

    ``/encoder/text_encoder/cnn.0/cnn.0.0/Conv_quant``, ``weight`` → ``text_encoder.cnn.0.0.weight``.

    Drops the op name, collapses nn.Sequential scopes (``cnn.0`` then ``cnn.0.0``) and the ``_3`` suffixes of
    repeated calls (ALBERT's shared layer).
    """
    parts: list[str] = []
    for part in node_name.strip("/").split("/")[:-1]:
        part = re.sub(r"_\d+$", "", part)
        if parts and part.startswith(parts[-1] + "."):
            parts[-1] = part
        else:
            parts.append(part)
    return _rename(".".join([*parts, param]))


class _Graph:
    def __init__(self, source: str | os.PathLike[str] | onnx.ModelProto) -> None:
        import onnx
        from onnx import numpy_helper

        model = source if isinstance(source, onnx.ModelProto) else onnx.load(str(source))
        self.nodes = list(model.graph.node)
        self.inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
        self.consumers: dict[str, list] = {}
        for node in self.nodes:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)

    def dequantized(self, name: str, zero_point_name: str) -> np.ndarray:
        q = self.inits[name].astype(np.float32)
        scale = self.inits[name[: -len("_quantized")] + "_scale"].astype(np.float32)
        return (q - self.inits[zero_point_name].astype(np.float32)) * scale


def _lstm_weights(g: _Graph, node) -> dict[str, np.ndarray]:
    """PyTorch LSTM parameters from a ``DynamicQuantizeLSTM`` node (both directions)."""
    _x, w, r, b, _seq, _h0, _c0, _p, w_scale, w_zp, r_scale, r_zp = node.input
    w_q, r_q = g.inits[w].astype(np.float32), g.inits[r].astype(np.float32)
    w_f = (w_q - g.inits[w_zp][:, None, None]) * g.inits[w_scale][:, None, None]  # [dirs, in, 4H]
    r_f = (r_q - g.inits[r_zp][:, None, None]) * g.inits[r_scale][:, None, None]  # [dirs, H, 4H]
    bias = g.inits[b]  # [dirs, 8H]

    def reorder(m: np.ndarray) -> np.ndarray:  # gate blocks along axis 0
        return np.concatenate([np.split(m, 4, axis=0)[i] for i in _ONNX_GATES_TO_TORCH], axis=0)

    out = {}
    for d, suffix in enumerate(("", "_reverse")):
        b_ih, b_hh = np.split(bias[d], 2)
        out[f"weight_ih_l0{suffix}"] = reorder(w_f[d].T)
        out[f"weight_hh_l0{suffix}"] = reorder(r_f[d].T)
        out[f"bias_ih_l0{suffix}"] = reorder(b_ih)
        out[f"bias_hh_l0{suffix}"] = reorder(b_hh)
    return out


def state_dict_from_onnx(source: str | os.PathLike[str] | onnx.ModelProto) -> dict[str, torch.Tensor]:
    """TorchKokoro state dict (float32) read from a Kokoro ONNX export (a path or a loaded ModelProto)."""
    if isinstance(source, (str, os.PathLike)) and not Path(source).is_file():
        raise ModelFileError(f"Kokoro ONNX not found: {source}", field="model")
    g = _Graph(source)
    weights: dict[str, np.ndarray] = {}
    used: set[str] = set()

    def put(name: str, value: np.ndarray, origin: str) -> None:
        used.add(origin)
        weights.setdefault(name, np.array(value, dtype=np.float32))

    for node in g.nodes:
        op, ins = node.op_type, list(node.input)
        if op in ("MatMulInteger", "ConvInteger") and ins[1] in g.inits:
            w = g.dequantized(ins[1], ins[3])
            put(_param_of(node.name, "weight"), w.T if op == "MatMulInteger" else w, ins[1])
        elif op == "Gather" and ins[0] in g.inits and ins[0].endswith("_quantized"):
            dq = next(n for n in g.consumers[node.output[0]] if n.op_type == "DequantizeLinear")
            put(_param_of(node.name, "weight"), g.dequantized(ins[0], dq.input[2]), ins[0])
        elif op == "DynamicQuantizeLSTM":
            for key, value in _lstm_weights(g, node).items():
                put(_param_of(node.name, key), value, ins[1])
            used.update(ins[2:4])
        elif op in ("Conv", "ConvTranspose") and ins[1] in g.inits and not ins[1].startswith("decoder."):
            # folded weight-normed convs; the iSTFT's named basis is picked up with the named tensors below
            put(_param_of(node.name, "weight"), g.inits[ins[1]], ins[1])
        elif op == "MatMul" and ins[1] in g.inits:  # the sine source's 9 → 1 merge
            put(_param_of(node.name, "weight"), g.inits[ins[1]].T, ins[1])

    for name, value in g.inits.items():  # biases, norms, Snake alphas and iSTFT buffers keep PyTorch names
        if name.startswith(("encoder.", "decoder.")) and value.dtype == np.float32 and not name.endswith("_scale"):
            put(_rename(name), value, name)

    unused = sorted(n for n in g.inits if n.endswith("_quantized") and n not in used)
    if unused:
        raise ModelFileError(f"quantized weights with no place in TorchKokoro: {unused[:5]}", field="model")
    return {k: torch.from_numpy(v) for k, v in weights.items()}


def load_onnx_weights(model: TorchKokoro, source: str | os.PathLike[str] | onnx.ModelProto) -> None:
    """Copy the weights of a Kokoro ONNX export into ``model``; every tensor must find its place."""
    load_checked(model, state_dict_from_onnx(source),
                 str(source) if isinstance(source, (str, os.PathLike)) else "the given ONNX model")


def load_checked(model: TorchKokoro, state: dict[str, torch.Tensor], name: str) -> None:
    """``model.load_state_dict(state)``, with a user-facing error when the two do not match exactly."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(state) & set(expected) if state[k].shape != expected[k].shape)
    if missing or unexpected or wrong:
        raise ModelFileError(
            f"{name} does not look like a Kokoro-82M export: missing {missing[:5]}, unexpected {unexpected[:5]}, "
            f"wrong shape {[(k, tuple(state[k].shape), tuple(expected[k].shape)) for k in wrong[:5]]}",
            field="model")
    model.load_state_dict(state, strict=True)
