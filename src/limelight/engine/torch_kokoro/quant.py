"""Optional emulation of the shipped graph's *dynamic* int8 activation quantisation.

The shipped ``kokoro-v1.0.int8.onnx`` stores weights as int8/uint8 (we dequantise them exactly at load time),
but it also quantises every activation that enters a ``MatMulInteger``/``ConvInteger``/``DynamicQuantizeLSTM``
on the fly: per tensor, asymmetric uint8, with the scale taken from that tensor's own min/max
(ONNX ``DynamicQuantizeLinear``). A float model therefore never reproduces the ONNX output bit for bit. With
``quantize_activations`` switched on, the layers below round their inputs the same way, which brings the
torch output close to onnxruntime's; it exists for parity checks, not for speed (it is slower, and on a GPU
you want it off).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def fake_quantize_uint8(x: torch.Tensor) -> torch.Tensor:
    """``x`` rounded onto the uint8 grid that ``DynamicQuantizeLinear`` would pick for it, back in float.

    scale = (max(x, 0) - min(x, 0)) / 255, zero point = round(-min / scale); both roundings are half-to-even
    (``torch.round``), as in ONNX. An all-zero tensor passes through unchanged.
    """
    lo = torch.clamp(x.min(), max=0.0)
    hi = torch.clamp(x.max(), min=0.0)
    scale = (hi - lo) / 255.0
    if float(scale) == 0.0:
        return x
    zero_point = torch.clamp(torch.round(-lo / scale), 0, 255)
    q = torch.clamp(torch.round(x / scale) + zero_point, 0, 255)
    return (q - zero_point) * scale


class QLinear(nn.Linear):
    """``nn.Linear`` that can quantise its input like the graph's ``MatMulInteger`` (bias stays float there)."""

    quantize_activations: bool = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.quantize_activations:
            x = fake_quantize_uint8(x)
        return super().forward(x)


class QConv1d(nn.Conv1d):
    """``nn.Conv1d`` that can quantise its input like the graph's ``ConvInteger``.

    onnxruntime also rounds the bias down onto the int32 accumulator grid (``floor(b / (s_x * s_w))``); that
    shift is ~1e-5 and is not emulated.
    """

    quantize_activations: bool = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.quantize_activations:
            x = fake_quantize_uint8(x)
        return super().forward(x)


def lstm_direction_quantized(x: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor, b_ih: torch.Tensor,
                             b_hh: torch.Tensor) -> torch.Tensor:
    """One LSTM direction over ``x`` [B, T, C] the way onnxruntime's ``DynamicQuantizeLSTM`` computes it.

    The input projection quantises the whole sequence once; the recurrent projection quantises the previous
    hidden state at every step. Gates are in PyTorch order (i, f, g, o). Returns [B, T, H].
    """
    gates_x = F.linear(fake_quantize_uint8(x), w_ih, b_ih + b_hh)
    hidden = w_hh.shape[1]
    h = x.new_zeros(x.shape[0], hidden)
    c = x.new_zeros(x.shape[0], hidden)
    out = []
    for t in range(x.shape[1]):
        gates = gates_x[:, t] + F.linear(fake_quantize_uint8(h), w_hh)
        i, f, g, o = gates.chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        out.append(h)
    return torch.stack(out, dim=1)
