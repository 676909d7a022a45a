"""Convert Resemblyzer's ``pretrained.pt`` into the numpy ``.npz`` that :mod:`limelight.check.speaker` loads.

Run once by a maintainer (needs torch, librosa and resemblyzer, which the runtime does not):
``python -m limelight.train.speaker_weights [--out src/limelight/check/data/resemblyzer.npz]``.
The mel filterbank is stored beside the weights so the runtime matches librosa's Slaney filters exactly.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "check" / "data" / "resemblyzer.npz"


def convert(out: Path) -> Path:
    import librosa  # maintainer-only dependencies: torch, librosa, resemblyzer
    import resemblyzer
    import torch

    ckpt = torch.load(Path(resemblyzer.__file__).parent / "pretrained.pt", map_location="cpu")
    state = {k.replace("lstm.", "").replace("linear.", "linear_"): v.numpy().astype(np.float32)
             for k, v in ckpt["model_state"].items() if k.startswith(("lstm.", "linear."))}
    mel = librosa.filters.mel(sr=16_000, n_fft=400, n_mels=40).astype(np.float32)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, num_layers=np.int64(3), mel_basis=mel, **state)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    path = convert(ap.parse_args(argv).out)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
