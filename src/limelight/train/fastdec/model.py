"""The student decoder in PyTorch: a small frame-rate network that predicts two spectral envelopes, and the
torch twin of :mod:`limelight.engine.fastdec.dsp` that turns them into audio inside the training graph.

Inputs are those of Kokoro's generator: the decoder's frame features ``x`` [B, 512, L] (80 frames per second,
already carrying the text, energy and timbre), the F0 curve [B, L] in Hz and the 128-d timbre half of the
style row. Only :class:`StudentNet` is exported to ONNX; the signal side runs in numpy at inference.

Why this shape (the model card says it too): a Vocos-style network that predicts STFT magnitude *and phase*
needs an adversary and long training to get phase right; here phase comes from the F0-driven pulse train,
so multi-resolution spectral losses alone train it, in minutes on one GPU, and pitch is the teacher's by
construction. ConvNeXt blocks at 80 frames per second cost ~0.4 GFLOP per second of audio, ~100× less than
Kokoro's generator.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...engine.fastdec import dsp


@dataclass(frozen=True)
class StudentConfig:
    in_channels: int = 512
    style_dim: int = 128
    channels: int = 256
    layers: int = 8
    kernel: int = 7
    expand: int = 3
    n_bins: int = dsp.N_BINS

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class ChannelNorm(nn.Module):
    """LayerNorm over channels at each frame ([B, C, L]): local, so a crop normalises like the whole."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.transpose(1, 2)).transpose(1, 2)


class ConvNeXtBlock(nn.Module):
    def __init__(self, channels: int, kernel: int, expand: int) -> None:
        super().__init__()
        self.dw = nn.Conv1d(channels, channels, kernel, padding=kernel // 2, groups=channels)
        self.norm = nn.LayerNorm(channels)
        self.pw1 = nn.Linear(channels, expand * channels)
        self.pw2 = nn.Linear(expand * channels, channels)
        self.gamma = nn.Parameter(torch.full((channels,), 0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm(self.dw(x).transpose(1, 2))
        y = self.pw2(F.gelu(self.pw1(y))) * self.gamma
        return x + y.transpose(1, 2)


def f0_features(f0: torch.Tensor) -> torch.Tensor:
    """[B, 2, L]: centred log F0 where voiced, and the soft voicing weight."""
    v = ((f0 - dsp.VOICED_LO) / (dsp.VOICED_HI - dsp.VOICED_LO)).clamp(0.0, 1.0)
    logf = (torch.log(f0.clamp(min=dsp.VOICED_LO)) - math.log(150.0)) * v
    return torch.stack([logf, v], dim=1)


class StudentNet(nn.Module):
    """(x [B, 512, L], f0 [B, L], style [B, 128]) → log envelopes [B, 2, N_BINS, L + 1] (harmonic, noise)."""

    def __init__(self, cfg: StudentConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or StudentConfig()
        self.norm_in = ChannelNorm(cfg.in_channels)
        self.conv_in = nn.Conv1d(cfg.in_channels + 2, cfg.channels, 3, padding=1)
        self.film = nn.Linear(cfg.style_dim, 2 * cfg.channels)
        self.blocks = nn.ModuleList([ConvNeXtBlock(cfg.channels, cfg.kernel, cfg.expand) for _ in range(cfg.layers)])
        self.norm_out = nn.LayerNorm(cfg.channels)
        self.head = nn.Linear(cfg.channels, 2 * cfg.n_bins)
        nn.init.normal_(self.head.weight, std=1e-3)
        nn.init.constant_(self.head.bias, -3.0)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)

    def forward(self, x: torch.Tensor, f0: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(torch.cat([self.norm_in(x), f0_features(f0)], dim=1))
        scale, shift = self.film(style).chunk(2, dim=-1)
        h = h * (1 + scale[:, :, None]) + shift[:, :, None]
        for block in self.blocks:
            h = block(h)
        y = self.head(self.norm_out(h.transpose(1, 2)))  # [B, L, 2 * N_BINS]
        y = y.reshape(y.shape[0], y.shape[1], 2, self.cfg.n_bins).permute(0, 2, 3, 1)  # [B, 2, N_BINS, L]
        y = torch.cat([y[..., :1], y, y[..., -1:]], dim=-1)
        return (0.5 * (y[..., :-1] + y[..., 1:])).clamp(-12.0, 6.0)  # STFT frames sit between F0 frames


# ----------------------------------------------------------------------------------------------------------
# The signal side, as differentiable torch (same arithmetic as engine.fastdec.dsp)


def frames_to_samples(values: torch.Tensor, hop: int = dsp.HOP) -> torch.Tensor:
    n_frames = values.shape[-1]
    pos = (torch.arange(n_frames * hop, device=values.device, dtype=torch.float64) + 0.5) / hop - 0.5
    i0 = pos.floor().clamp(0, n_frames - 1).long()
    i1 = (i0 + 1).clamp(max=n_frames - 1)
    w = (pos - i0).clamp(0.0, 1.0).to(values.dtype)
    return values[..., i0] * (1.0 - w) + values[..., i1] * w


def harmonic_excitation(f0: torch.Tensor, phase0: torch.Tensor | None = None) -> torch.Tensor:
    """[B, L * HOP] band-limited pulse train for F0 [B, L]; float64 inside (the phase needs it)."""
    f0 = f0.double()
    f = frames_to_samples(f0).clamp(min=1.0)
    cycles = torch.cumsum(f / dsp.SAMPLE_RATE, dim=-1)
    if phase0 is not None:
        cycles = cycles + phase0.double()[:, None]
    phase = 2 * math.pi * torch.remainder(cycles, 1.0)
    count = (0.5 * dsp.SAMPLE_RATE / f.clamp(min=20.0)).clamp(1.0, dsp.MAX_HARMONICS)
    n = count.floor()
    half = torch.sin(0.5 * phase)
    small = half.abs() < 1e-6
    kernel = torch.where(small, n, torch.sin((n + 0.5) * phase) / (2 * torch.where(small, 1.0, half)) - 0.5)
    pulse = (kernel + (count - n) * torch.cos((n + 1) * phase)) / torch.sqrt(0.5 * count)
    v = ((f0 - dsp.VOICED_LO) / (dsp.VOICED_HI - dsp.VOICED_LO)).clamp(0.0, 1.0)
    return (pulse * frames_to_samples(v)).float()


def _window(device: torch.device) -> torch.Tensor:
    return torch.hann_window(dsp.N_FFT, periodic=True, device=device)


def stft(x: torch.Tensor) -> torch.Tensor:
    return torch.stft(x, dsp.N_FFT, dsp.HOP, window=_window(x.device), center=True, pad_mode="reflect",
                      return_complex=True)


def istft(spec: torch.Tensor, length: int) -> torch.Tensor:
    return torch.istft(spec, dsp.N_FFT, dsp.HOP, window=_window(spec.device), center=True, length=length)


def noise_spectrum(shape: tuple[int, ...], device: torch.device, generator: torch.Generator | None = None
                   ) -> torch.Tensor:
    scale = math.sqrt(0.5 * float((_window(device) ** 2).sum()))
    re = torch.randn(shape, device=device, generator=generator)
    im = torch.randn(shape, device=device, generator=generator)
    return torch.complex(re, im) * scale


def render(log_env: torch.Tensor, f0: torch.Tensor, phase0: torch.Tensor | None = None,
           noise: torch.Tensor | None = None) -> torch.Tensor:
    """Audio [B, L * HOP] from log envelopes [B, 2, N_BINS, L + 1] and F0 [B, L]."""
    length = f0.shape[-1] * dsp.HOP
    env = torch.exp(log_env.float())
    spec = stft(harmonic_excitation(f0, phase0)) * env[:, 0]
    if noise is None:
        noise = noise_spectrum(tuple(spec.shape), spec.device)
    return istft(spec + noise * env[:, 1], length)


class Student(nn.Module):
    """StudentNet + render: what training optimises end to end."""

    def __init__(self, cfg: StudentConfig | None = None) -> None:
        super().__init__()
        self.net = StudentNet(cfg)

    def forward(self, x: torch.Tensor, f0: torch.Tensor, style: torch.Tensor,
                phase0: torch.Tensor | None = None) -> torch.Tensor:
        return render(self.net(x, f0, style), f0, phase0)
