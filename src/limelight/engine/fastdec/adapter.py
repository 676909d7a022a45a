"""Per-voice adapters of the fast decoder, applied in numpy (no torch at inference).

A *deep clone* (:mod:`limelight.voice.deep`) fits a small low-rank change of the student decoder to a real
speaker's recording, because the spectral envelope per sound (formants, vocal-tract length, breathiness) lives
in the decoder, not in Kokoro's 256-d style row. The change is LoRA-style: for a few of the student's linear
layers ``W`` it stores ``A`` [r, in] and ``B`` [out, r], and the adapted layer is ``W + B @ A``; beside that it
may replace the 128-d timbre style the student's FiLM reads and add a bias to the envelope head. About 70 000
numbers (~150 KB as float16), saved inside the voice's library file (``NAME.voice``).

Why numpy: the shipped student is an int8 ONNX whose weights cannot take a per-voice delta without a new
graph per voice. :class:`NumpyStudent` runs the same network (LayerNorm → Conv k=3 → FiLM → 8 ConvNeXt
blocks → head) from the ONNX's dequantised weights in float32, merges the adapter once per voice, and costs
~10-20 ms per second of audio on two cores, beside the ~7 ms of the int8 session. Voices without an adapter
keep the ONNX session.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ...errors import VoiceError
from . import dsp

ADAPTER_VERSION = 1
LN_EPS = 1e-5
VOICED_REF_HZ = 150.0  # f0_features' centre (limelight.train.fastdec.model.f0_features)


@dataclass(frozen=True)
class Adapter:
    """A fitted per-voice change of the student: low-rank deltas, an optional style and a head bias.

    ``lora`` maps a Linear's state-dict prefix (``blocks.3.pw1``) to ``(A [r, in], B [out, r])``.
    ``base`` names the student it was fitted to (the first 16 hex digits of the ONNX's SHA-256): an adapter is
    meaningless on another student, so loading checks it.
    """

    lora: dict[str, tuple[np.ndarray, np.ndarray]]
    style: np.ndarray | None = None  # (128,) the timbre style the student's FiLM reads, replacing the row's
    head_bias: np.ndarray | None = None  # (2 * N_BINS,) added to the envelope head's bias
    base: str = ""
    meta: dict[str, object] = field(default_factory=dict, compare=False)

    def n_params(self) -> int:
        n = sum(a.size + b.size for a, b in self.lora.values())
        return n + (0 if self.style is None else self.style.size) + (0 if self.head_bias is None else
                                                                     self.head_bias.size)

    def to_bytes(self) -> bytes:
        arrays: dict[str, np.ndarray] = {}
        for name, (a, b) in self.lora.items():
            arrays[f"lora/{name}/A"] = np.asarray(a, np.float16)
            arrays[f"lora/{name}/B"] = np.asarray(b, np.float16)
        if self.style is not None:
            arrays["style"] = np.asarray(self.style, np.float32)
        if self.head_bias is not None:
            arrays["head_bias"] = np.asarray(self.head_bias, np.float16)
        header = {"version": ADAPTER_VERSION, "base": self.base, "meta": self.meta}
        arrays["header"] = np.frombuffer(json.dumps(header).encode("utf-8"), np.uint8)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, where: str = "adapter") -> Adapter:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                arrays = {k: np.asarray(npz[k]) for k in npz.files}
            header = json.loads(bytes(arrays.pop("header")).decode("utf-8"))
        except (OSError, ValueError, KeyError) as exc:
            raise VoiceError(f"{where} is damaged: {exc}", field="voice") from None
        if header.get("version") != ADAPTER_VERSION:
            raise VoiceError(f"{where} has adapter version {header.get('version')!r}; this limelight reads "
                             f"version {ADAPTER_VERSION} (make the deep clone again)", field="voice")
        lora: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for key in arrays:
            if key.startswith("lora/") and key.endswith("/A"):
                name = key[5:-2]
                lora[name] = (arrays[key].astype(np.float32), arrays[f"lora/{name}/B"].astype(np.float32))
        style = arrays["style"].astype(np.float32) if "style" in arrays else None
        bias = arrays["head_bias"].astype(np.float32) if "head_bias" in arrays else None
        return cls(lora=lora, style=style, head_bias=bias, base=str(header.get("base", "")),
                   meta=dict(header.get("meta") or {}))

    def save(self, path: Path) -> Path:
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(self.to_bytes())
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> Adapter:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise VoiceError(f"cannot read adapter {path}: {exc}", field="voice") from None
        return cls.from_bytes(data, where=f"adapter {path}")


def student_id(path: Path) -> str:
    """First 16 hex digits of the student file's SHA-256 (what an adapter was fitted to)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


@lru_cache(maxsize=2)
def student_weights(path: str) -> dict[str, np.ndarray]:
    """The float32 weights of an exported student ONNX, its int8 MatMul weights dequantised.

    ``quantize_dynamic`` stores each Linear as int8 ``q`` [in, out] with one scale and zero point; the Linear's
    weight is ``((q - zero) * scale).T``. The module is read from the MatMulInteger's output name
    (``/blocks.3/pw1/...``). :func:`limelight.train.fastdec.train.student_state_from_onnx` builds the torch
    student from these.
    """
    import onnx
    from onnx import numpy_helper

    m = onnx.load(path)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    state = {k: np.array(v, np.float32) for k, v in inits.items()
             if v.dtype == np.float32 and v.ndim and not k.startswith("onnx::") and not k.endswith("_scale")}
    for node in m.graph.node:
        if node.op_type != "MatMulInteger":
            continue
        q = node.input[1]
        base = q[: -len("_quantized")]
        w = (inits[q].astype(np.float32) - inits[base + "_zero_point"].astype(np.float32)) * inits[base + "_scale"]
        module = node.output[0].strip("/").split("/")
        state[".".join(module[:-1]) + ".weight"] = np.ascontiguousarray(w.T)
    return state


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """LayerNorm over the last axis (x [L, C])."""
    m = x.mean(-1, keepdims=True)
    d = x - m
    v = (d * d).mean(-1, keepdims=True)
    return d / np.sqrt(v + LN_EPS) * w + b


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


class NumpyStudent:
    """The student network in numpy float32 with an adapter merged in (``adapter=None``: the base student)."""

    def __init__(self, student: Path, adapter: Adapter | None = None) -> None:
        w = dict(student_weights(str(student)))
        self.style: np.ndarray | None = None
        if adapter is not None:
            for name, (a, b) in adapter.lora.items():
                key = f"{name}.weight"
                if key not in w or w[key].shape != (b.shape[0], a.shape[1]):
                    raise VoiceError(f"voice adapter does not fit this fast decoder (layer {name})", field="voice")
                w[key] = w[key] + b @ a
            if adapter.head_bias is not None:
                w["head.bias"] = w["head.bias"] + adapter.head_bias
            self.style = adapter.style
        self.w = {k: np.ascontiguousarray(v, np.float32) for k, v in w.items()}
        self.layers = sum(1 for k in self.w if k.endswith(".gamma"))

    def __call__(self, x: np.ndarray, f0: np.ndarray, style: np.ndarray) -> np.ndarray:
        """log envelopes [1, 2, N_BINS, L + 1] for x [1, 512, L], f0 [1, L] (Hz), style [1, 128]."""
        w = self.w
        L = x.shape[-1]
        h = _layer_norm(x[0].T.astype(np.float32), w["norm_in.norm.weight"], w["norm_in.norm.bias"])
        f = f0[0].astype(np.float32)
        v = np.clip((f - dsp.VOICED_LO) / (dsp.VOICED_HI - dsp.VOICED_LO), 0.0, 1.0)
        logf = (np.log(np.maximum(f, dsp.VOICED_LO)) - math.log(VOICED_REF_HZ)) * v
        z = np.concatenate([h, logf[:, None], v[:, None]], axis=1)  # [L, 514]
        zp = np.pad(z, ((1, 1), (0, 0)))
        k = w["conv_in.weight"]  # [256, 514, 3]
        h = zp[:-2] @ k[:, :, 0].T + zp[1:-1] @ k[:, :, 1].T + zp[2:] @ k[:, :, 2].T + w["conv_in.bias"]
        s = (self.style if self.style is not None else style.reshape(-1)[:128]).astype(np.float32)
        film = s @ w["film.weight"].T + w["film.bias"]
        c = h.shape[1]
        h = h * (1.0 + film[:c]) + film[c:]
        for i in range(self.layers):
            p = f"blocks.{i}."
            dw = w[p + "dw.weight"][:, 0, :]  # [C, 7]
            kk = dw.shape[1]
            hp = np.pad(h, ((kk // 2, kk // 2), (0, 0)))
            y = w[p + "dw.bias"] + sum(hp[j: j + L] * dw[:, j] for j in range(kk))
            y = _layer_norm(y, w[p + "norm.weight"], w[p + "norm.bias"])
            y = _gelu(y @ w[p + "pw1.weight"].T + w[p + "pw1.bias"])
            y = (y @ w[p + "pw2.weight"].T + w[p + "pw2.bias"]) * w[p + "gamma"]
            h = h + y
        y = _layer_norm(h, w["norm_out.weight"], w["norm_out.bias"]) @ w["head.weight"].T + w["head.bias"]
        n_bins = y.shape[1] // 2
        y = y.reshape(L, 2, n_bins).transpose(1, 2, 0)  # [2, N_BINS, L]
        y = np.concatenate([y[..., :1], y, y[..., -1:]], axis=-1)
        return np.clip(0.5 * (y[..., :-1] + y[..., 1:]), -12.0, 6.0)[None]
