"""Resemblyzer's speaker encoder as a differentiable PyTorch module, for gradient enrollment on a GPU.

The runtime embeds speech with the numpy port in :mod:`limelight.check.speaker`; this is the same network
and the same preprocessing written in torch so a loss on the embedding can reach the voice vector through
the synthesiser. Differences from the numpy path, on purpose: Kokoro's 24 kHz output is resampled to 16 kHz
with a fixed polyphase FIR (the same design as ``scipy.signal.resample_poly``), the volume gain is computed
without gradient (it only rescales), and long-silence trimming is left out (synthesised sentences have
their edge silence cut by the caller and no long pauses inside). ``tests/test_enrollment.py`` checks the
embeddings against the numpy port.
"""

from __future__ import annotations

import importlib.resources as resources
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..check import speaker as ref

RESAMPLE_UP, RESAMPLE_DOWN = 2, 3  # 24 kHz → 16 kHz
RESAMPLE_HALF = 10  # filter half-length in input periods (scipy's default)


def resample_filter(up: int = RESAMPLE_UP, down: int = RESAMPLE_DOWN) -> np.ndarray:
    """``resample_poly``'s default anti-alias filter: Kaiser(5.0) windowed sinc, gain ``up``."""
    cutoff = 1.0 / max(up, down)
    n = 2 * RESAMPLE_HALF * max(up, down) + 1
    t = np.arange(n) - (n - 1) / 2
    h = cutoff * np.sinc(cutoff * t) * np.kaiser(n, 5.0)
    return (h / h.sum() * up).astype(np.float32)


class SpeakerEncoder(nn.Module):
    """Audio [B, S] at 24 kHz (+ valid lengths) → unit-norm Resemblyzer embeddings [B, 256]."""

    def __init__(self) -> None:
        super().__init__()
        with (resources.files("limelight.check") / "data" / "resemblyzer.npz").open("rb") as fh:
            npz = {k: np.asarray(v) for k, v in np.load(fh).items()}
        layers = int(npz["num_layers"])
        self.lstm = nn.LSTM(40, 256, num_layers=layers, batch_first=True)
        self.linear = nn.Linear(256, 256)
        state = {k: torch.from_numpy(npz[k].astype(np.float32)) for k in npz
                 if k.startswith(("weight_", "bias_"))}
        self.lstm.load_state_dict(state)
        self.linear.load_state_dict({"weight": torch.from_numpy(npz["linear_weight"]),
                                     "bias": torch.from_numpy(npz["linear_bias"])})
        self.register_buffer("mel_basis", torch.from_numpy(npz["mel_basis"].astype(np.float32)))
        self.register_buffer("fir", torch.from_numpy(resample_filter()))
        self.register_buffer("window", torch.from_numpy(ref.get_window()))
        self.requires_grad_(False)

    def resample(self, audio: torch.Tensor) -> torch.Tensor:
        """[B, S] at 24 kHz → [B, ⌈2S/3⌉] at 16 kHz, aligned like ``resample_poly``."""
        b, s = audio.shape
        up = torch.zeros(b, s * RESAMPLE_UP, device=audio.device, dtype=audio.dtype)
        up[:, ::RESAMPLE_UP] = audio
        half = (len(self.fir) - 1) // 2
        y = F.conv1d(F.pad(up[:, None], (half, half)), self.fir.flip(0)[None, None], stride=RESAMPLE_DOWN)
        return y[:, 0, : math.ceil(s * RESAMPLE_UP / RESAMPLE_DOWN)]

    def mel(self, wav: torch.Tensor) -> torch.Tensor:
        """[B, S16] → [B, frames, 40] mel power, as ``check.speaker.mel_frames``."""
        spec = torch.stft(wav, ref.N_FFT, ref.HOP, window=self.window, center=True, pad_mode="constant",
                          return_complex=True)
        power = spec.real**2 + spec.imag**2  # [B, 201, frames]
        return torch.einsum("mf,bft->btm", self.mel_basis, power)

    def forward(self, audio: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        wav16 = self.resample(audio)
        n16 = (torch.full((audio.shape[0],), audio.shape[1], device=audio.device) if lengths is None
               else lengths.to(audio.device)) * RESAMPLE_UP // RESAMPLE_DOWN
        embeddings = []
        partials: list[torch.Tensor] = []
        owners: list[int] = []
        mels = []
        for row in range(audio.shape[0]):
            n = int(n16[row])
            w = wav16[row, :n]
            with torch.no_grad():  # Resemblyzer raises quiet audio to −30 dBFS (never lowers): a constant gain
                rms = torch.sqrt(torch.mean((w * ref.INT16_MAX) ** 2)).clamp(min=1e-9)
                change = ref.TARGET_DBFS - 20 * torch.log10(rms / ref.INT16_MAX)
                gain = torch.where(change > 0, 10 ** (change / 20), torch.ones_like(change))
            slices = ref.partial_slices(n)
            end = slices[-1].stop * ref.HOP
            w = F.pad(w * gain, (0, max(0, end - n)))
            m = self.mel(w[None])[0]
            mels.append(m)
            for sl in slices:
                partials.append(m[sl])
                owners.append(row)
        x = torch.stack(partials)  # [P, 160, 40]
        out, _ = self.lstm(x)
        e = F.relu(self.linear(out[:, -1]))
        e = e / e.norm(dim=1, keepdim=True).clamp(min=1e-12)
        owner = torch.tensor(owners, device=e.device)
        summed = torch.zeros(audio.shape[0], e.shape[1], device=e.device, dtype=e.dtype).index_add(0, owner, e)
        embeddings = summed / summed.norm(dim=1, keepdim=True).clamp(min=1e-12)
        return embeddings
