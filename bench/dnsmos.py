"""DNSMOS P.835 as a stand-in for a listener: predicted speech quality (SIG), background (BAK) and overall (OVRL).

Nobody on this project can listen, and "it sounds fine" from a spectrogram is a guess. DNSMOS (Reddy et al.,
ICASSP 2022) is Microsoft's non-intrusive MOS predictor, trained on P.835 listening tests; its ONNX weights ship
inside the ``speechmos`` wheel on PyPI. It was built to rate noise suppressors, so it hears buzz, smearing and
noise more than prosody, and its absolute numbers are not a MOS test: compare systems scored in the same run.

Only the raw-waveform P.835 model is used (the P.808 head needs librosa's mel, which is not worth a
dependency here), so install the wheel without its declared dependencies::

    pip install --no-deps speechmos
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

SR = 16_000
SEGMENT = int(9.01 * SR)  #: the model's fixed input length, as in Microsoft's dnsmos_local.py
# dnsmos_local.py's polynomials from raw network outputs to MOS (non-personalised model)
_SIG = np.poly1d([-0.08397278, 1.22083953, 0.0052439])
_BAK = np.poly1d([-0.13166888, 1.60915514, -0.39604546])
_OVRL = np.poly1d([-0.06766283, 1.11546468, 0.04602535])


def available() -> bool:
    return importlib.util.find_spec("speechmos") is not None


@lru_cache(maxsize=1)
def _session():
    import onnxruntime as ort

    spec = importlib.util.find_spec("speechmos")
    if spec is None or spec.origin is None:
        raise RuntimeError("DNSMOS needs the speechmos wheel: pip install --no-deps speechmos")
    path = Path(spec.origin).parent / "dnsmos_models" / "sig_bak_ovr.onnx"
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def score(audio: np.ndarray, sr: int) -> dict[str, float]:
    """Mean SIG/BAK/OVRL over 9.01 s windows hopped by 1 s (shorter clips are repeated to fill one window,
    as the reference script does). ``sr`` must divide into 16 kHz by resample_poly (24 kHz, 16 kHz, 48 kHz)."""
    x = np.asarray(audio, np.float64)
    if sr != SR:
        g = np.gcd(SR, sr)
        x = resample_poly(x, SR // g, sr // g)
    x = np.clip(x, -1.0, 1.0).astype(np.float32)
    if x.size == 0:
        raise ValueError("DNSMOS of an empty clip")
    while x.size < SEGMENT:
        x = np.concatenate([x, x])
    hops = int(x.size // SR - 9.01) + 1
    windows = np.stack([x[i * SR: i * SR + SEGMENT] for i in range(hops) if i * SR + SEGMENT <= x.size])
    raw = _session().run(None, {"input_1": windows})[0]
    return {"sig": float(np.mean(_SIG(raw[:, 0]))), "bak": float(np.mean(_BAK(raw[:, 1]))),
            "ovrl": float(np.mean(_OVRL(raw[:, 2])))}
