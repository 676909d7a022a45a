"""Exact rewrites of Kokoro's decoder: AdaIN → InstanceNormalization, AdaIN+Snake fusion, bias before a
norm, Pow(x, 2) → x·x, STFT → strided convolutions. Outputs change only by float rounding (see the package
docstring for the one deliberate exception: the STFT's DC/Nyquist phase follows PyTorch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .graph import GraphEditor
from .stats import RewriteStats


@dataclass(frozen=True)
class _AdaIN:
    """A matched instance norm, written out op by op, and the AdaIN affine branches that read it.

    ORT's common-subexpression pass merges the normalisation of one input shared by several resblocks, so one
    normalisation can feed several ``(1+γ)·n + β`` branches; each becomes its own InstanceNormalization.
    """

    core: tuple[Any, ...]
    x: str
    eps: float
    branches: tuple[tuple[Any, Any, str, str], ...]  # (Mul node, Add node, 1+γ tensor, β tensor)


def _other(node: Any, name: str) -> str | None:
    ins = list(node.input)
    if len(ins) != 2 or name not in ins:
        return None
    return ins[1] if ins[0] == name else ins[0]


def _is_last_axis_mean(g: GraphEditor, node: Any) -> bool:
    if g.attr(node, "keepdims", 1) != 1:
        return False
    axes = g.attr(node, "axes")
    if axes is None and len(node.input) > 1:
        val = g.const(node.input[1])
        axes = None if val is None else val.reshape(-1).tolist()
    return axes in ([2], [-1])


def _match_adain(g: GraphEditor, mean1: Any) -> _AdaIN | None:
    """Match ReduceMean→Sub→Mul(d,d)|Pow→ReduceMean→Add ε→Sqrt→Div, then Mul(1+γ)→Add β per branch."""
    if mean1.op_type != "ReduceMean" or not _is_last_axis_mean(g, mean1):
        return None
    x = mean1.input[0]
    sub = g.only_consumer(mean1.output[0], "Sub")
    if sub is None or list(sub.input) != [x, mean1.output[0]]:
        return None
    d = sub.output[0]
    d_users = g.users(d)
    if len(d_users) != 2 or None in d_users:
        return None
    sq = next((u for u in d_users if u.op_type in ("Mul", "Pow")), None)
    div = next((u for u in d_users if u.op_type == "Div"), None)
    if sq is None or div is None:
        return None
    if sq.op_type == "Mul" and list(sq.input) != [d, d]:
        return None
    if sq.op_type == "Pow":
        e = g.const(sq.input[1])
        if sq.input[0] != d or e is None or e.size != 1 or float(e.reshape(-1)[0]) != 2.0:
            return None
    mean2 = g.only_consumer(sq.output[0], "ReduceMean")
    if mean2 is None or not _is_last_axis_mean(g, mean2):
        return None
    add_eps = g.only_consumer(mean2.output[0], "Add")
    if add_eps is None:
        return None
    eps_name = _other(add_eps, mean2.output[0])
    eps = None if eps_name is None else g.const(eps_name)
    if eps is None or eps.size != 1:
        return None
    sqrt = g.only_consumer(add_eps.output[0], "Sqrt")
    if sqrt is None or list(div.input) != [d, sqrt.output[0]] or len(g.users(sqrt.output[0])) != 1:
        return None
    branches = []
    for mul in g.users(div.output[0]):
        if mul is None or mul.op_type != "Mul":
            return None
        gamma1 = _other(mul, div.output[0])
        add = g.only_consumer(mul.output[0], "Add")
        beta = None if add is None else _other(add, mul.output[0])
        if gamma1 is None or add is None or beta is None:
            return None
        branches.append((mul, add, gamma1, beta))
    core = (mean1, sub, sq, mean2, add_eps, sqrt, div)
    if not branches or any(g.gone(n) for n in core):
        return None
    return _AdaIN(core, x, float(eps.reshape(-1)[0]), tuple(branches))


@dataclass(frozen=True)
class _Snake:
    """Snake ``y + (1/α)·sin²(αy)`` applied to an AdaIN output ``y``."""

    nodes: tuple[Any, ...]
    alpha: np.ndarray
    inv_alpha: str
    out: str


def _match_snake(g: GraphEditor, y: str) -> _Snake | None:
    users = g.users(y)
    if len(users) != 2 or None in users:
        return None
    mul_a = next((u for u in users if u.op_type == "Mul"), None)
    add = next((u for u in users if u.op_type == "Add"), None)
    if mul_a is None or add is None:
        return None
    alpha_name = _other(mul_a, y)
    alpha = None if alpha_name is None else g.const(alpha_name)
    if alpha is None or alpha.ndim != 3 or alpha.shape[0] != 1 or alpha.shape[2] != 1 or np.any(np.abs(alpha) < 1e-12):
        return None
    sin = g.only_consumer(mul_a.output[0], "Sin")
    if sin is None:
        return None
    s_users = g.users(sin.output[0])
    if len(s_users) != 1 or s_users[0] is None:
        return None
    sq = s_users[0]
    if sq.op_type == "Pow":
        e = g.const(sq.input[1])
        if sq.input[0] != sin.output[0] or e is None or e.size != 1 or float(e.reshape(-1)[0]) != 2.0:
            return None
    elif not (sq.op_type == "Mul" and list(sq.input) == [sin.output[0], sin.output[0]]):
        return None
    mul_inv = g.only_consumer(sq.output[0], "Mul")
    if mul_inv is None:
        return None
    inv_name = _other(mul_inv, sq.output[0])
    inv = None if inv_name is None else g.const(inv_name)
    if inv is None or inv.shape != alpha.shape or not np.allclose(inv * alpha, 1.0, rtol=1e-5, atol=0):
        return None
    if g.only_consumer(mul_inv.output[0], "Add") is not add or _other(add, mul_inv.output[0]) != y:
        return None
    return _Snake((mul_a, sin, sq, mul_inv, add), alpha.astype(np.float32), inv_name, add.output[0])


def _bias_before_norm(g: GraphEditor, x: str, norm: tuple[Any, ...]) -> tuple[Any, str] | None:
    """If ``x`` is ``Mul(Cast(Add(ConvInteger, bias)), s)`` read only by ``norm``, return (Add node, conv out)."""
    mul = g.producer.get(x)
    if mul is None or mul.op_type != "Mul" or {id(u) for u in g.users(x)} - {id(n) for n in norm}:
        return None
    cast = next((g.producer.get(i) for i in mul.input if g.producer.get(i) is not None
                 and g.producer[i].op_type == "Cast"), None)
    if cast is None or len(g.users(cast.output[0])) != 1:
        return None
    add = g.producer.get(cast.input[0])
    if add is None or add.op_type != "Add" or len(g.users(add.output[0])) != 1:
        return None
    conv = next((g.producer.get(i) for i in add.input if g.producer.get(i) is not None
                 and g.producer[i].op_type == "ConvInteger"), None)
    if conv is None or len(g.users(conv.output[0])) != 1:
        return None
    return add, conv.output[0]


def _rewrite_norms(g: GraphEditor, stats: RewriteStats) -> None:
    shape_c = g.add_const("shape_minus1", np.array([-1], np.int64))
    for mean1 in [n for n in g.model.graph.node if n.op_type == "ReduceMean"]:
        m = _match_adain(g, mean1)
        if m is None:
            continue
        biased = _bias_before_norm(g, m.x, m.core)
        if biased is not None:
            add, conv_out = biased
            cast = g.users(add.output[0])[0]
            g.remove([add, cast])
            g.node("Cast", [conv_out], list(cast.output), base="cast_nobias", to=g.attr(cast, "to"))
            stats.biases_dropped += 1
        g.remove(m.core)
        for mul, add, gamma1, beta in m.branches:
            g.remove([mul, add])
            snake = _match_snake(g, add.output[0])
            if snake is None:
                scale = g.node("Reshape", [gamma1, shape_c], base="in_scale")[0]
                bias = g.node("Reshape", [beta, shape_c], base="in_bias")[0]
                g.node("InstanceNormalization", [m.x, scale, bias], list(add.output), base="adain",
                       epsilon=m.eps)
                stats.instance_norms += 1
                continue
            g.remove(snake.nodes)
            alpha = g.add_const("snake_alpha", snake.alpha)
            scale = g.node("Mul", [gamma1, alpha], base="in_scale_alpha")[0]
            bias = g.node("Mul", [beta, alpha], base="in_bias_alpha")[0]
            scale = g.node("Reshape", [scale, shape_c], base="in_scale")[0]
            bias = g.node("Reshape", [bias, shape_c], base="in_bias")[0]
            u = g.node("InstanceNormalization", [m.x, scale, bias], base="adain_snake", epsilon=m.eps)[0]
            s = g.node("Sin", [u], base="snake_sin")[0]
            s2 = g.node("Mul", [s, s], base="snake_sq")[0]
            v = g.node("Add", [u, s2], base="snake_add")[0]
            g.node("Mul", [v, snake.inv_alpha], [snake.out], base="snake_inv_alpha")
            stats.instance_norms += 1
            stats.snakes_fused += 1
    g.commit()


def _rewrite_pows(g: GraphEditor, stats: RewriteStats) -> None:
    for node in list(g.model.graph.node):
        if node.op_type != "Pow":
            continue
        e = g.const(node.input[1])
        if e is None or e.size != 1 or float(e.reshape(-1)[0]) != 2.0:
            continue
        g.remove([node])
        g.node("Mul", [node.input[0], node.input[0]], list(node.output), base="square")
        stats.pows += 1
    g.commit()


_STFT_EDGE_BIAS = True


def _dft_kernels(window: np.ndarray, n_fft: int) -> dict[int, np.ndarray]:
    """Windowed one-sided DFT basis as Conv kernels [bins, 1, n_fft]: 0 → real part, 1 → imaginary part.

    The twiddles come from an exact table indexed by ``k·n mod N`` so that the DC and Nyquist rows of the
    imaginary kernel are exactly zero (``np.sin(np.pi * n)`` is not).
    """
    bins = n_fft // 2 + 1
    j = np.arange(n_fft)
    cos_t, sin_t = np.cos(2.0 * np.pi * j / n_fft), np.sin(2.0 * np.pi * j / n_fft)
    for table in (cos_t, sin_t):
        table[np.abs(table) < 1e-12] = 0.0
    idx = (np.arange(bins)[:, None] * j[None, :]) % n_fft
    return {0: (window * cos_t[idx])[:, None, :].astype(np.float32),
            1: (-window * sin_t[idx])[:, None, :].astype(np.float32)}  # X[k] = Σ x[n] w[n] e^{-2πikn/N}


def _edge_bias(n_fft: int) -> np.ndarray:
    """Bias for the imaginary part: a tiny positive value on the DC and Nyquist bins, zero elsewhere.

    Those bins are real, so their phase is atan2(+0, re) ∈ {0, π} in the PyTorch model Kokoro was trained with.
    The exported graph computes atan2 with Div/Atan/Where, which maps an exact +0 to −π, so we add 1e-30
    (far below anything audible) to land on +π as PyTorch does.
    """
    bias = np.zeros(n_fft // 2 + 1, np.float32)
    bias[0] = bias[-1] = np.float32(1e-30)
    return bias


def _rewrite_stft(g: GraphEditor, stats: RewriteStats) -> None:
    """One-sided STFT of a [1, L] signal, consumed as Transpose(0,2,1,3)→Gather(real|imag) → strided Conv1d."""
    for stft in [n for n in g.model.graph.node if n.op_type == "STFT"]:
        if g.attr(stft, "onesided", 1) != 1 or len(stft.input) < 4:
            continue
        step, window, length = (g.const(stft.input[i]) for i in (1, 2, 3))
        if step is None or window is None or length is None:
            continue
        n_fft, hop = int(length.reshape(-1)[0]), int(step.reshape(-1)[0])
        if window.shape != (n_fft,):
            continue
        tr = g.only_consumer(stft.output[0], "Transpose")
        if tr is None or list(g.attr(tr, "perm", [])) != [0, 2, 1, 3]:
            continue
        gathers = g.users(tr.output[0])
        parts: dict[int, Any] = {}
        for ga in gathers:
            idx = None if ga is None or ga.op_type != "Gather" else g.const(ga.input[1])
            if idx is None or g.attr(ga, "axis", 0) not in (3, -1) or idx.size != 1 or idx.ndim != 0:
                parts = {}
                break
            parts[int(idx)] = ga
        if set(parts) != {0, 1} or len(gathers) != 2:
            continue
        kernels = _dft_kernels(window.astype(np.float64), n_fft)
        # As a 2-D convolution over [1, 1, 1, L]: onnxruntime's NCHWc layout pass picks up 1-D convolutions
        # with a constant kernel and then fails at run time ("input and filter must be rank 4").
        axes = g.add_const("stft_axes", np.array([1, 2], np.int64))
        sig = g.node("Unsqueeze", [stft.input[0], axes], base="stft_signal")[0]
        squeeze = g.add_const("stft_squeeze", np.array([2], np.int64))
        g.remove([stft, tr, *parts.values()])
        for idx, ga in parts.items():
            ins = [sig, g.add_const(f"stft_kernel{idx}", kernels[idx][:, :, None, :])]
            if idx == 1 and _STFT_EDGE_BIAS:
                ins.append(g.add_const("stft_imag_bias", _edge_bias(n_fft)))
            y = g.node("Conv", ins, base=f"stft_conv{idx}", kernel_shape=[1, n_fft], strides=[1, hop],
                       pads=[0, 0, 0, 0], dilations=[1, 1], group=1)[0]
            g.node("Squeeze", [y, squeeze], list(ga.output), base=f"stft_squeeze{idx}")
        stats.stfts += 1
    g.commit()


def apply_fusions(g: GraphEditor, stats: RewriteStats) -> None:
    """All exact rewrites, in the order they depend on each other (norms first: they free the Pow nodes)."""
    _rewrite_norms(g, stats)
    _rewrite_pows(g, stats)
    _rewrite_stft(g, stats)
