"""Kokoro-82M in PyTorch, readable in one sitting.

Kokoro (hexgrad/Kokoro-82M) is StyleTTS2 with an iSTFTNet vocoder. Text goes in as phoneme ids, a 256-d style
row comes in beside it (dims 0-127 steer the decoder's timbre, 128-255 the prosody), and 24 kHz audio comes out:

    tokens ─► PL-BERT (ALBERT, one shared layer ×12) ─► bert_encoder ─► DurationEncoder (LSTM + AdaLayerNorm)
            │                                                              │
            │                                          duration LSTM ─► frames per token (rounded)
            │                                                              │ repeat each token's vectors
            │                                          shared LSTM ─► F0 and energy curves (AdaIN res-blocks)
            └► TextEncoder (CNN + LSTM) ─► repeated to frames ─► Decoder (AdaIN res-blocks) ─► Generator:
               harmonic sine source from F0 + upsampling ConvTranspose + Snake/AdaIN res-blocks ─► iSTFT

Module and parameter names follow the reference implementation's state dict (``bert.*``, ``predictor.*``,
``text_encoder.*``, ``decoder.*``) with weight norm folded into plain weights, so other Kokoro checkpoints map
onto it with a few renames. :mod:`.load` fills it from the shipped int8 ONNX. Where the shipped export deviates
from the reference (no noise in the sine source, its iSTFT normalisation), this code follows the export,
because its job is to be interchangeable with the CPU engine; each place says so.

Shapes: B batch, T tokens, F frames (40 per second, 600 samples each), S samples. Every sequence carries an
explicit length, and the whole model runs batched over rows of different lengths. The frame-level part follows
one rule (see :mod:`.ops`): a tensor handed between layers is zero past its row's valid length, and a
``mask`` (bool [B, 1, L], True on valid positions) travels beside it. Instance-norm statistics are then sums
over the valid positions, every convolution sees the same zeros past a row's end that it would see at the end
of that row run alone, and the few non-local steps (the sine source's phase interpolation, the source STFT's
reflect padding) are done per row. ``mask=None`` means "no padding" and skips all of it.
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from . import ops
from .quant import QConv1d, QLinear, lstm_direction_quantized

if TYPE_CHECKING:
    import onnx


@dataclass(frozen=True)
class KokoroConfig:
    """Kokoro-82M v1.0 hyper-parameters (the reference ``config.json``)."""

    n_token: int = 178
    hidden_dim: int = 512
    style_dim: int = 128  # each half of the 256-d style row
    n_layer: int = 3
    max_dur: int = 50
    text_kernel_size: int = 5
    # PL-BERT (ALBERT)
    bert_embedding_size: int = 128
    bert_hidden_size: int = 768
    bert_heads: int = 12
    bert_intermediate_size: int = 2048
    bert_layers: int = 12
    max_positions: int = 512
    # iSTFTNet decoder
    upsample_rates: tuple[int, ...] = (10, 6)
    upsample_kernel_sizes: tuple[int, ...] = (20, 12)
    upsample_initial_channel: int = 512
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilations: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5))
    n_fft: int = 20
    hop: int = 5
    harmonics: int = 8
    voiced_threshold: float = 10.0  # Hz; F0 below this is unvoiced
    sample_rate: int = 24_000

    @property
    def samples_per_f0(self) -> int:
        """Audio samples per F0 value: the F0 curve runs at twice the frame rate (80 per second)."""
        return math.prod(self.upsample_rates) * self.hop


@dataclass
class Synthesis:
    """What one call produces: padded audio, the real length of each row, and the frames given to each token."""

    audio: torch.Tensor  # [B, S] float, zero after audio_lengths
    audio_lengths: torch.Tensor  # [B] long
    durations: torch.Tensor  # [B, T] long, frames per token (0 on padding)


# ----------------------------------------------------------------------------------------------------------
# Shared building blocks


class BiLSTM(nn.LSTM):
    """A one-layer bidirectional LSTM over [B, T, C] that respects per-row lengths.

    Padded rows are packed so the backward direction starts at each row's last real token. With
    ``quantize_activations`` it reproduces onnxruntime's ``DynamicQuantizeLSTM`` step by step (slow; parity only).
    """

    quantize_activations: bool = False

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size, num_layers=1, batch_first=True, bidirectional=True)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        if self.quantize_activations:
            if x.shape[0] != 1:
                raise NotImplementedError("quantize_activations emulation runs one utterance at a time")
            fwd = lstm_direction_quantized(x, self.weight_ih_l0, self.weight_hh_l0, self.bias_ih_l0, self.bias_hh_l0)
            bwd = lstm_direction_quantized(x.flip(1), self.weight_ih_l0_reverse, self.weight_hh_l0_reverse,
                                           self.bias_ih_l0_reverse, self.bias_hh_l0_reverse).flip(1)
            return torch.cat([fwd, bwd], dim=-1)
        if lengths is not None and bool((lengths < x.shape[1]).any()):
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, _ = super().forward(packed)
            return pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0]
        return super().forward(x)[0]


class AdaLayerNorm(nn.Module):
    """LayerNorm over channels of [B, T, C] whose gain and bias come from the style vector."""

    def __init__(self, style_dim: int, channels: int) -> None:
        super().__init__()
        self.fc = QLinear(style_dim, 2 * channels)

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.fc(s)[:, None, :].chunk(2, dim=-1)
        return (1 + gamma) * F.layer_norm(x, x.shape[-1:], eps=1e-5) + beta


class AdaIN1d(nn.Module):
    """Instance norm over time of [B, C, T] whose gain and bias come from the style vector.

    With a ``mask`` the statistics cover each row's valid positions only (``x`` must be zero past them) and
    the output is zeroed there again. ``alpha`` fuses the Snake activation that follows in the generator.
    """

    def __init__(self, style_dim: int, channels: int) -> None:
        super().__init__()
        self.fc = QLinear(style_dim, 2 * channels)

    def forward(self, x: torch.Tensor, s: torch.Tensor, mask: torch.Tensor | None = None,
                alpha: torch.Tensor | None = None) -> torch.Tensor:
        gamma, beta = self.fc(s)[:, :, None].chunk(2, dim=1)
        mean, rstd = ops.instance_stats(x, None if mask is None else mask.sum(dim=-1, keepdim=True))
        if alpha is None:
            return ops.adain(x, mean, rstd, gamma, beta, mask)
        return ops.adain_snake(x, mean, rstd, gamma, beta, alpha, mask)


def zero_pad(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """``x`` with the positions past each row's valid length set to zero (a no-op without a mask)."""
    return x if mask is None else x.masked_fill(~mask, 0.0)


def upsample_mask(mask: torch.Tensor | None, factor: int) -> torch.Tensor | None:
    """The mask of a tensor upsampled ``factor``× in time from one with ``mask``."""
    return None if mask is None else mask.repeat_interleave(factor, dim=-1)


class AdainResBlk1d(nn.Module):
    """StyleTTS2's residual block: (AdaIN → LeakyReLU → [×2 upsample] → conv) ×2, plus a (1×1) shortcut."""

    def __init__(self, dim_in: int, dim_out: int, style_dim: int, upsample: bool = False) -> None:
        super().__init__()
        self.upsample = upsample
        self.norm1 = AdaIN1d(style_dim, dim_in)
        self.conv1 = QConv1d(dim_in, dim_out, 3, padding=1)
        self.norm2 = AdaIN1d(style_dim, dim_out)
        self.conv2 = QConv1d(dim_out, dim_out, 3, padding=1)
        # learned ×2 upsampling of the residual path: a depthwise transposed conv
        self.pool = (nn.ConvTranspose1d(dim_in, dim_in, 3, stride=2, padding=1, output_padding=1, groups=dim_in)
                     if upsample else None)
        self.conv1x1 = QConv1d(dim_in, dim_out, 1, bias=False) if dim_in != dim_out else None

    def forward(self, x: torch.Tensor, s: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``mask`` is ``x``'s; an upsampling block's output has ``upsample_mask(mask, 2)``."""
        out_mask = upsample_mask(mask, 2) if self.upsample else mask
        h = F.leaky_relu(self.norm1(x, s, mask), 0.2)
        if self.pool is not None:
            h = zero_pad(self.pool(h), out_mask)
        h = zero_pad(self.conv1(h), out_mask)
        h = zero_pad(self.conv2(F.leaky_relu(self.norm2(h, s, out_mask), 0.2)), out_mask)
        skip = F.interpolate(x, scale_factor=2.0, mode="nearest") if self.upsample else x
        if self.conv1x1 is not None:
            skip = self.conv1x1(skip)
        return (h + skip) / math.sqrt(2)


# ----------------------------------------------------------------------------------------------------------
# Text side: PL-BERT, text encoder, prosody predictor


class AlbertEmbeddings(nn.Module):
    def __init__(self, cfg: KokoroConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(cfg.n_token, cfg.bert_embedding_size)
        self.position_embeddings = nn.Embedding(cfg.max_positions, cfg.bert_embedding_size)
        self.token_type_embeddings = nn.Embedding(2, cfg.bert_embedding_size)  # only type 0 is used
        self.LayerNorm = nn.LayerNorm(cfg.bert_embedding_size, eps=1e-12)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        x = self.word_embeddings(tokens) + self.token_type_embeddings.weight[0] + self.position_embeddings(positions)
        return self.LayerNorm(x)


class AlbertAttention(nn.Module):
    def __init__(self, cfg: KokoroConfig) -> None:
        super().__init__()
        h = cfg.bert_hidden_size
        self.heads = cfg.bert_heads
        self.query, self.key, self.value, self.dense = (QLinear(h, h) for _ in range(4))
        self.LayerNorm = nn.LayerNorm(h, eps=1e-12)

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor | None) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = (proj(x).view(B, T, self.heads, C // self.heads).transpose(1, 2)
                   for proj in (self.query, self.key, self.value))
        mask = None if key_mask is None else key_mask[:, None, None, :]
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.LayerNorm(x + self.dense(y.transpose(1, 2).reshape(B, T, C)))


class AlbertLayer(nn.Module):
    def __init__(self, cfg: KokoroConfig) -> None:
        super().__init__()
        self.attention = AlbertAttention(cfg)
        self.ffn = QLinear(cfg.bert_hidden_size, cfg.bert_intermediate_size)
        self.ffn_output = QLinear(cfg.bert_intermediate_size, cfg.bert_hidden_size)
        self.full_layer_layer_norm = nn.LayerNorm(cfg.bert_hidden_size, eps=1e-12)

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor | None) -> torch.Tensor:
        x = self.attention(x, key_mask)
        return self.full_layer_layer_norm(x + self.ffn_output(F.gelu(self.ffn(x), approximate="tanh")))


class PLBert(nn.Module):
    """Phoneme-level ALBERT: one transformer layer whose weights are shared by all 12 applications."""

    def __init__(self, cfg: KokoroConfig) -> None:
        super().__init__()
        self.n_layers = cfg.bert_layers
        self.embeddings = AlbertEmbeddings(cfg)
        self.embedding_hidden_mapping_in = QLinear(cfg.bert_embedding_size, cfg.bert_hidden_size)
        self.layer = AlbertLayer(cfg)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        x = self.embedding_hidden_mapping_in(self.embeddings(tokens))
        for _ in range(self.n_layers):
            x = self.layer(x, mask)
        return x  # [B, T, 768]


class ChannelLayerNorm(nn.Module):
    """LayerNorm over the channel axis of [B, C, T] (parameters named gamma/beta as in the reference)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x.transpose(1, 2), self.gamma.shape, self.gamma, self.beta, 1e-5).transpose(1, 2)


class TextEncoder(nn.Module):
    """Phoneme embedding → 3 × (conv, LayerNorm, LeakyReLU) → BiLSTM: the acoustic text features."""

    def __init__(self, cfg: KokoroConfig) -> None:
        super().__init__()
        c, k = cfg.hidden_dim, cfg.text_kernel_size
        self.embedding = nn.Embedding(cfg.n_token, c)
        self.cnn = nn.ModuleList(
            nn.Sequential(QConv1d(c, c, k, padding=k // 2), ChannelLayerNorm(c), nn.LeakyReLU(0.2))
            for _ in range(cfg.n_layer))
        self.lstm = BiLSTM(c, c // 2)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        keep = mask[:, None, :].to(torch.float32)
        x = self.embedding(tokens).transpose(1, 2) * keep
        for block in self.cnn:
            x = block(x) * keep
        return self.lstm(x.transpose(1, 2), lengths).transpose(1, 2)  # [B, 512, T]


class DurationEncoder(nn.Module):
    """3 × (BiLSTM, AdaLayerNorm) over BERT features, with the prosody style appended at every step."""

    def __init__(self, cfg: KokoroConfig) -> None:
        super().__init__()
        d, sty = cfg.hidden_dim, cfg.style_dim
        self.lstms = nn.ModuleList()  # alternating LSTM / AdaLayerNorm, named as in the reference
        for _ in range(cfg.n_layer):
            self.lstms.append(BiLSTM(d + sty, d // 2))
            self.lstms.append(AdaLayerNorm(sty, d))

    def forward(self, x: torch.Tensor, s: torch.Tensor, lengths: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        keep = mask[:, :, None].to(torch.float32)
        s_t = s[:, None, :].expand(-1, x.shape[1], -1)
        x = torch.cat([x, s_t], dim=-1) * keep
        for lstm, norm in zip(self.lstms[0::2], self.lstms[1::2], strict=True):
            x = lstm(x, lengths)
            x = torch.cat([norm(x, s), s_t], dim=-1) * keep
        return x  # [B, T, 512 + 128]


class ProsodyPredictor(nn.Module):
    """Frames per token, then F0 and energy curves at twice the frame rate."""

    def __init__(self, cfg: KokoroConfig) -> None:
        super().__init__()
        d, sty = cfg.hidden_dim, cfg.style_dim
        self.text_encoder = DurationEncoder(cfg)
        self.lstm = BiLSTM(d + sty, d // 2)
        self.duration_proj = QLinear(d, cfg.max_dur)
        self.shared = BiLSTM(d + sty, d // 2)
        self.F0 = nn.ModuleList([AdainResBlk1d(d, d, sty), AdainResBlk1d(d, d // 2, sty, upsample=True),
                                 AdainResBlk1d(d // 2, d // 2, sty)])
        self.N = nn.ModuleList([AdainResBlk1d(d, d, sty), AdainResBlk1d(d, d // 2, sty, upsample=True),
                                AdainResBlk1d(d // 2, d // 2, sty)])
        self.F0_proj = QConv1d(d // 2, 1, 1)
        self.N_proj = QConv1d(d // 2, 1, 1)

    def durations(self, d: torch.Tensor, lengths: torch.Tensor, speed: torch.Tensor) -> torch.Tensor:
        """Unrounded frames per token, [B, T]: each of ``max_dur`` sigmoid units adds up to one frame."""
        logits = self.duration_proj(self.lstm(d, lengths))
        return torch.sigmoid(logits).sum(dim=-1) / speed[:, None]

    def f0_energy(self, en: torch.Tensor, s: torch.Tensor,
                  mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """F0 (Hz) and energy curves, each [B, 2F], from frame-level features ``en`` [B, 640, F].

        ``mask`` [B, 1, F] marks each row's frames (``en`` zero past them); the curves come back zero past 2F_b.
        """
        lengths = None if mask is None else mask.sum(dim=-1)[:, 0]
        x = self.shared(en.transpose(1, 2), lengths).transpose(1, 2)
        curves = []
        for blocks, proj in ((self.F0, self.F0_proj), (self.N, self.N_proj)):
            h, m = x, mask
            for block in blocks:
                h = block(h, s, m)
                m = upsample_mask(m, 2) if block.upsample else m
            curves.append(zero_pad(proj(h), m)[:, 0])
        return curves[0], curves[1]


# ----------------------------------------------------------------------------------------------------------
# Audio side: decoder and iSTFTNet generator


def snake(x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """Snake activation x + sin²(αx)/α: periodic inductive bias for waveforms."""
    return ops.snake(x, alpha)


def no_autocast(x: torch.Tensor):  # -> a context manager
    """Autocast switched off on ``x``'s device: the sine source, STFT and iSTFT stay in float32."""
    return torch.autocast(device_type=x.device.type, enabled=False)


class AdaINResBlock1(nn.Module):
    """HiFi-GAN's ResBlock1 with AdaIN and Snake: three (dilated conv, conv) pairs, each residual."""

    def __init__(self, channels: int, kernel_size: int, dilations: tuple[int, ...], style_dim: int) -> None:
        super().__init__()
        c, k = channels, kernel_size
        self.convs1 = nn.ModuleList(QConv1d(c, c, k, dilation=d, padding=d * (k - 1) // 2) for d in dilations)
        self.convs2 = nn.ModuleList(QConv1d(c, c, k, padding=(k - 1) // 2) for _ in dilations)
        self.adain1 = nn.ModuleList(AdaIN1d(style_dim, c) for _ in dilations)
        self.adain2 = nn.ModuleList(AdaIN1d(style_dim, c) for _ in dilations)
        self.alpha1 = nn.ParameterList(nn.Parameter(torch.ones(1, c, 1)) for _ in dilations)
        self.alpha2 = nn.ParameterList(nn.Parameter(torch.ones(1, c, 1)) for _ in dilations)

    def forward(self, x: torch.Tensor, s: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        layers = zip(self.convs1, self.convs2, self.adain1, self.adain2, self.alpha1, self.alpha2, strict=True)
        for c1, c2, n1, n2, a1, a2 in layers:
            h = zero_pad(c1(n1(x, s, mask, alpha=a1)), mask)  # conv(snake(adain(x)))
            x = x + zero_pad(c2(n2(h, s, mask, alpha=a2)), mask)
        return x


class SineSource(nn.Module):
    """Harmonic excitation from F0 (NSF's SourceModuleHnNSF): 9 sine harmonics merged by a linear layer + tanh.

    The phase is integrated at frame rate and interpolated back to samples, as in training. The reference adds
    Gaussian noise (and random initial phases); the shipped ONNX export has neither, so noise is off unless a
    seeded ``generator`` is passed.
    """

    def __init__(self, cfg: KokoroConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.l_linear = nn.Linear(cfg.harmonics + 1, 1)
        self.register_buffer("multiples", torch.arange(1.0, cfg.harmonics + 2.0), persistent=False)

    def forward(self, f0: torch.Tensor, generator: torch.Generator | None = None,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """Excitation [B, 1, S] for F0 [B, 2F] (float32 whatever autocast says); ``mask`` [B, 1, 2F] is F0's."""
        with no_autocast(f0):
            return self._forward(f0.float(), generator, mask)

    def _forward(self, f0: torch.Tensor, generator: torch.Generator | None,
                 mask: torch.Tensor | None) -> torch.Tensor:
        cfg, up = self.cfg, self.cfg.samples_per_f0
        # Per-sample phase increment in turns. The export computes it at the sample rate and averages it back
        # down to F0's rate (a linear resize whose two taps fall inside one F0 step); that is this, exactly.
        cycles = torch.remainder(f0[:, None, :] * self.multiples[None, :, None] / cfg.sample_rate, 1.0)
        phase = torch.cumsum(cycles, dim=-1) * 2 * math.pi * up  # [B, 9, 2F]
        if mask is not None:  # a row alone clamps the resize below at its last value: hold that value
            last = mask.sum(dim=-1, keepdim=True) - 1  # [B, 1, 1]
            phase = torch.where(mask, phase, phase.gather(-1, last.expand(-1, phase.shape[1], 1)))
        phase = F.interpolate(phase, scale_factor=float(up), mode="linear")
        f0 = F.interpolate(f0[:, None, :], scale_factor=float(up), mode="nearest")  # [B, 1, S]
        voiced = (f0 > cfg.voiced_threshold).to(f0.dtype)
        sines = 0.1 * torch.sin(phase) * voiced
        if generator is not None:  # the reference's noise: std 0.003 where voiced, 0.1/3 where not
            noise_std = voiced * 0.003 + (1 - voiced) * (0.1 / 3)
            sines = sines + noise_std * torch.randn(sines.shape, generator=generator, device=sines.device,
                                                    dtype=sines.dtype)
        # the 9 → 1 merge as a weighted sum, not a matmul: a row's result then does not depend on the batch
        # around it (the decoder hears 1-ulp differences here through the phase of the source's spectrum)
        merged = (sines * self.l_linear.weight[0][None, :, None]).sum(dim=1, keepdim=True) + self.l_linear.bias
        return torch.tanh(merged)  # [B, 1, S]


class InverseSTFT(nn.Module):
    """Magnitude + phase → waveform by overlap-add of inverse-DFT frames (a transposed conv), as exported.

    The export normalises by the window energy of a *single* frame, so only the first ``n_fft`` samples are
    divided by it; everything after gets the plain n_fft/hop gain. That makes the shipped model's steady-state
    level 1.5× what ``torch.istft`` would give. We reproduce the export exactly: the CPU and GPU engines must
    sound the same. The basis and window energy are recomputed here and also loaded from the ONNX.
    """

    def __init__(self, n_fft: int, hop: int) -> None:
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        fourier = torch.fft.fft(torch.eye(n_fft, dtype=torch.float64))[: n_fft // 2 + 1]
        basis = torch.cat([fourier.real, fourier.imag])  # [n_fft + 2, n_fft]
        window = torch.hann_window(n_fft, periodic=True, dtype=torch.float64)
        inverse = torch.linalg.pinv(basis * (n_fft / hop)).T * window
        self.register_buffer("inverse_basis", inverse[:, None, :].float())  # [n_fft + 2, 1, n_fft]
        self.register_buffer("window_sum", (window**2).float())  # [n_fft]

    def forward(self, magnitude: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        """Waveform [B, hop * (frames - 1)] from [B, n_fft/2 + 1, frames]; frames that are all zero add nothing."""
        with no_autocast(magnitude):
            return self._forward(magnitude.float(), phase.float())

    def _forward(self, magnitude: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        spec = torch.cat([magnitude * torch.cos(phase), magnitude * torch.sin(phase)], dim=1)
        wav = F.conv_transpose1d(spec, self.inverse_basis, stride=self.hop)[:, 0]  # [B, (frames-1)*hop + n_fft]
        head, env = wav[:, : self.n_fft], self.window_sum[: wav.shape[1]]
        ok = env > torch.finfo(torch.float32).tiny  # a safe divisor, so gradients stay finite where env is 0
        head = torch.where(ok, head / torch.where(ok, env, torch.ones_like(env)), head)
        wav = torch.cat([head, wav[:, self.n_fft:]], dim=1) * (self.n_fft / self.hop)
        return wav[:, self.n_fft // 2: -(self.n_fft // 2)]


class Generator(nn.Module):
    """iSTFTNet: upsample decoder features ×60, mix in the sine source's spectrum, predict a 20-point STFT."""

    def __init__(self, cfg: KokoroConfig) -> None:
        super().__init__()
        self.cfg = cfg
        sty, n_bins = cfg.style_dim, cfg.n_fft + 2
        self.m_source = SineSource(cfg)
        self.ups, self.noise_convs, self.noise_res = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        self.resblocks = nn.ModuleList()
        rates = cfg.upsample_rates
        for i, (u, k) in enumerate(zip(rates, cfg.upsample_kernel_sizes, strict=True)):
            c_in, c = cfg.upsample_initial_channel >> i, cfg.upsample_initial_channel >> (i + 1)
            self.ups.append(nn.ConvTranspose1d(c_in, c, k, u, padding=(k - u) // 2))
            for kr, dil in zip(cfg.resblock_kernel_sizes, cfg.resblock_dilations, strict=True):
                self.resblocks.append(AdaINResBlock1(c, kr, dil, sty))
            if i + 1 < len(rates):  # bring the source spectrum down to this stage's rate
                stride = math.prod(rates[i + 1:])
                self.noise_convs.append(QConv1d(n_bins, c, 2 * stride, stride=stride, padding=(stride + 1) // 2))
                self.noise_res.append(AdaINResBlock1(c, 7, (1, 3, 5), sty))
            else:
                self.noise_convs.append(QConv1d(n_bins, c, 1))
                self.noise_res.append(AdaINResBlock1(c, 11, (1, 3, 5), sty))
        self.conv_post = nn.Conv1d(c, n_bins, 7, padding=3)
        self.register_buffer("stft_window", torch.hann_window(cfg.n_fft, periodic=True), persistent=False)
        self.istft = InverseSTFT(cfg.n_fft, cfg.hop)

    def source_spectrum(self, source: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Magnitude and phase of the excitation [B, 1, S] → [B, n_fft + 2, S / hop + 1], in float32.

        Where the excitation is constant (unvoiced), the bins above DC hold only rounding residue, and the
        decoder hears that residue's *phase*. onnxruntime's STFT leaves a different residue than torch's FFT,
        so unvoiced stretches differ in fine structure between the engines (not in level or spectrum).

        With ``mask`` (the STFT frames' mask, [B, 1, S / hop + 1]) each row is reflect-padded at its *own* end,
        as it would be alone, and frames past it are zero.
        """
        with no_autocast(source):
            x, n_fft, hop = source[:, 0].float(), self.cfg.n_fft, self.cfg.hop
            if mask is None:
                spec = torch.stft(x, n_fft, hop, window=self.stft_window, center=True, pad_mode="reflect",
                                  return_complex=True)
            else:
                samples = (mask.sum(dim=-1) - 1) * hop  # [B, 1]: each row's valid samples
                idx = torch.arange(-(n_fft // 2), x.shape[1] + n_fft // 2, device=x.device).abs()[None, :]
                idx = torch.where(idx > samples - 1, 2 * (samples - 1) - idx, idx)  # reflect at the row's end
                padded = x.gather(1, idx.clamp(0, x.shape[1] - 1))
                spec = torch.stft(padded, n_fft, hop, window=self.stft_window, center=False, return_complex=True)
            return zero_pad(torch.cat([spec.abs(), torch.angle(spec)], dim=1), mask)

    def excitation(self, f0: torch.Tensor, generator: torch.Generator | None = None,
                   f0_mask: torch.Tensor | None = None) -> torch.Tensor:
        """The sine source's spectrum [B, n_fft + 2, 120F + 1] for F0 [B, 2F]: what :meth:`forward` mixes in."""
        source = self.m_source(f0, generator, f0_mask)
        return self.source_spectrum(source, self.frame_masks(f0_mask)[-1])

    def frame_masks(self, mask: torch.Tensor | None) -> list[torch.Tensor | None]:
        """Masks of each upsampling stage's output for input ``mask`` [B, 1, L] (the last one is padded by 1)."""
        if mask is None:
            return [None] * len(self.ups)
        out = []
        for u in self.cfg.upsample_rates:
            mask = upsample_mask(mask, u)
            out.append(mask)
        out[-1] = torch.cat([out[-1][:, :, :1], out[-1]], dim=-1)  # the reflect pad's extra first sample
        return out

    def forward(self, x: torch.Tensor, s: torch.Tensor, source: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """Waveform [B, S] for decoder features ``x`` [B, 512, 2F] and the :meth:`excitation` spectrum.

        The excitation comes in precomputed so that a window of frames can be decoded against a slice of the
        whole utterance's source (its phase is integrated from the utterance's start).
        """
        n_kernels = len(self.cfg.resblock_kernel_sizes)
        masks = self.frame_masks(mask)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, 0.1))
            if i == len(self.ups) - 1:
                x = F.pad(zero_pad(x, None if masks[i] is None else masks[i][:, :, 1:]), (1, 0), mode="reflect")
            else:
                x = zero_pad(x, masks[i])
            x = x + self.noise_res[i](zero_pad(self.noise_convs[i](source), masks[i]), s, masks[i])
            blocks = self.resblocks[i * n_kernels: (i + 1) * n_kernels]
            x = sum(block(x, s, masks[i]) for block in blocks) / n_kernels
        x = self.conv_post(F.leaky_relu(x, 0.01)).float()
        half = self.cfg.n_fft // 2 + 1
        wav = self.istft(zero_pad(torch.exp(x[:, :half]), masks[-1]), torch.sin(x[:, half:]))
        if mask is None:
            return wav
        return zero_pad(wav[:, None], upsample_mask(mask, wav.shape[-1] // mask.shape[-1]))[:, 0]


class Decoder(nn.Module):
    """Frame-level text features + F0 + energy + timbre style → waveform [B, S]."""

    def __init__(self, cfg: KokoroConfig) -> None:
        super().__init__()
        d, sty = cfg.hidden_dim, cfg.style_dim
        self.F0_conv = QConv1d(1, 1, 3, stride=2, padding=1)  # F0 and energy come at 2× the frame rate
        self.N_conv = QConv1d(1, 1, 3, stride=2, padding=1)
        self.asr_res = QConv1d(d, 64, 1)
        self.encode = AdainResBlk1d(d + 2, 1024, sty)
        self.decode = nn.ModuleList([AdainResBlk1d(1024 + 2 + 64, 1024, sty) for _ in range(3)]
                                    + [AdainResBlk1d(1024 + 2 + 64, 512, sty, upsample=True)])
        self.generator = Generator(cfg)

    def forward(self, asr: torch.Tensor, f0: torch.Tensor, n: torch.Tensor, s: torch.Tensor,
                generator: torch.Generator | None = None, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Waveform [B, 600F] for frame features ``asr`` [B, 512, F], F0 and energy [B, 2F], timbre ``s``.

        ``mask`` [B, 1, F] marks each row's frames; inputs must be zero past them (F0 and energy past 2F_b).
        """
        x = self.features(asr, f0, n, s, mask)
        f0_mask = upsample_mask(mask, 2)
        return self.generator(x, s, self.generator.excitation(f0, generator, f0_mask), f0_mask)

    def features(self, asr: torch.Tensor, f0: torch.Tensor, n: torch.Tensor, s: torch.Tensor,
                 mask: torch.Tensor | None = None) -> torch.Tensor:
        """The frame-rate half of the decoder: [B, 512, 2F], what the generator upsamples to audio."""
        f0_frames = zero_pad(self.F0_conv(f0[:, None]), mask)
        n_frames = zero_pad(self.N_conv(n[:, None]), mask)
        x = self.encode(torch.cat([asr, f0_frames, n_frames], dim=1), s, mask)
        asr_res = zero_pad(self.asr_res(asr), mask)
        for block in self.decode:  # every block before (and including) the upsampling one sees the inputs again
            x = block(torch.cat([x, asr_res, f0_frames, n_frames], dim=1), s, mask)
        return x


# ----------------------------------------------------------------------------------------------------------
# The whole model


def expand_to_frames(d: torch.Tensor, t_en: torch.Tensor, durations: torch.Tensor,
                     total_frames: int | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Repeat each token's vectors for its frames: (en [B, 640, F], asr [B, 512, F], frames [B]).

    The batched ``repeat_interleave``: frame f of a row belongs to the first token whose cumulative duration
    exceeds f. Frames past a row's total are zero. F is the longest row's total, or ``total_frames``.
    """
    frames = durations.sum(dim=1)
    total = max(int(frames.max()), total_frames or 0)
    ends = durations.cumsum(dim=1)  # [B, T]
    pos = torch.arange(total, device=d.device).expand(d.shape[0], total).contiguous()
    token = torch.searchsorted(ends, pos, right=True).clamp(max=d.shape[1] - 1)  # [B, F]
    valid = pos < frames[:, None]
    en = d.gather(1, token[:, :, None].expand(-1, -1, d.shape[2])).masked_fill(~valid[:, :, None], 0.0)
    asr = t_en.gather(2, token[:, None, :].expand(-1, t_en.shape[1], -1)).masked_fill(~valid[:, None, :], 0.0)
    return en.transpose(1, 2), asr, frames


class TorchKokoro(nn.Module):
    """Kokoro-82M: phoneme ids + style row + speed → 24 kHz audio. Load weights with :meth:`from_onnx`."""

    def __init__(self, cfg: KokoroConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or KokoroConfig()
        self.bert = PLBert(cfg)
        self.bert_encoder = QLinear(cfg.bert_hidden_size, cfg.hidden_dim)
        self.predictor = ProsodyPredictor(cfg)
        self.text_encoder = TextEncoder(cfg)
        self.decoder = Decoder(cfg)

    @classmethod
    def from_onnx(cls, source: str | os.PathLike[str] | onnx.ModelProto, *,
                  quantize_activations: bool = False) -> TorchKokoro:
        """A model holding the (dequantised) weights of a Kokoro ONNX export such as the shipped int8 one.

        ``source`` is a path or an already loaded ``onnx.ModelProto``. The model comes back in eval mode on
        the CPU in float32; move it with ``.to(device)``.
        """
        from .load import load_checked, state_dict_from_onnx

        state = state_dict_from_onnx(source)  # before building the model: a bad path fails fast
        model = cls()
        load_checked(model, state, str(source) if isinstance(source, (str, os.PathLike)) else "the given ONNX model")
        model.set_quantize_activations(quantize_activations)
        return model.eval()

    def set_quantize_activations(self, enabled: bool) -> None:
        """Round activations like the int8 graph does (see :mod:`.quant`): closer to onnxruntime, slower."""
        for module in self.modules():
            if isinstance(module, (QLinear, QConv1d, BiLSTM)):
                module.quantize_activations = enabled

    def forward(self, tokens: torch.Tensor, style: torch.Tensor, speed: float | torch.Tensor = 1.0,
                lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Audio [B, S] (zero-padded past each row's length) for tokens [B, T] and style rows [B, 256]."""
        return self.synthesize(tokens, style, speed, lengths).audio

    def predict_durations(self, tokens: torch.Tensor, style: torch.Tensor, speed: float | torch.Tensor = 1.0,
                          lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Unrounded frames per token [B, T] (0 on padding) without running the decoder.

        ``synthesize`` uses ``round().clamp(min=1)`` of these; at 40 frames per second their sum predicts the
        audio length, which is what batching needs to bucket utterances before decoding.
        """
        lengths, mask = self._lengths_and_mask(tokens, style, lengths)
        d = self.prosody_features(tokens, style, lengths)
        return self.predictor.durations(d, lengths, self._speed(speed, style)) * mask

    def prosody_features(self, tokens: torch.Tensor, style: torch.Tensor,
                         lengths: torch.Tensor | None = None) -> torch.Tensor:
        """PL-BERT → bert_encoder → DurationEncoder: [B, T, 640], what durations and F0/energy are read from."""
        lengths, mask = self._lengths_and_mask(tokens, style, lengths)
        bert_mask = None if bool(mask.all()) else mask
        d_en = self.bert_encoder(self.bert(tokens, bert_mask))  # [B, T, 512]
        return self.predictor.text_encoder(d_en, style[:, self.cfg.style_dim:], lengths, mask)

    def synthesize(self, tokens: torch.Tensor, style: torch.Tensor, speed: float | torch.Tensor = 1.0,
                   lengths: torch.Tensor | None = None, durations: torch.Tensor | None = None,
                   generator: torch.Generator | None = None) -> Synthesis:
        """The full pipeline, with its intermediate durations.

        ``tokens`` are phoneme ids including the 0 pad at both ends of each row (as the ONNX takes them);
        ``lengths`` [B] counts them per row (default: all T). ``speed`` is a float or one per row.
        ``durations`` [B, T] (frames per token) overrides the predicted ones: exact timing control, and how
        the parity test isolates the decoder. ``generator`` (a ``torch.Generator`` on the model's device) turns
        on the reference's seeded source noise; the shipped export has none.
        """
        d, t_en, durations = self.text_side(tokens, style, speed, lengths, durations)
        audio, audio_lengths = self.decode(d, t_en, durations, style, generator=generator)
        return Synthesis(audio=audio, audio_lengths=audio_lengths, durations=durations)

    def text_side(self, tokens: torch.Tensor, style: torch.Tensor, speed: float | torch.Tensor = 1.0,
                  lengths: torch.Tensor | None = None,
                  durations: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Everything before the frame axis exists: prosody features [B, T, 640], text features [B, 512, T]
        and whole frames per token [B, T] (0 on padding; ``durations`` given are used as they are)."""
        lengths, mask = self._lengths_and_mask(tokens, style, lengths)
        d = self.prosody_features(tokens, style, lengths)  # [B, T, 640]
        if durations is None:
            frames = self.predictor.durations(d, lengths, self._speed(speed, style))
            durations = torch.round(frames).clamp(min=1).long()
        durations = durations.to(device=tokens.device, dtype=torch.long) * mask
        return d, self.text_encoder(tokens, lengths, mask), durations

    def decode(self, d: torch.Tensor, t_en: torch.Tensor, durations: torch.Tensor, style: torch.Tensor,
               total_frames: int | None = None, generator: torch.Generator | None = None,
               autocast_dtype: torch.dtype | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Audio [B, S] and its lengths [B] from the text side's outputs, all rows at once.

        ``d`` [B, T, 640] and ``t_en`` [B, 512, T] come from :meth:`prosody_features` and the text encoder,
        ``durations`` [B, T] are whole frames per token (0 on padding). ``total_frames`` pads the frame axis
        beyond the longest row (fewer distinct shapes for cuDNN's autotuner and for CUDA graphs).
        ``autocast_dtype`` (bf16/fp16) runs the decoder's convolutions at that precision; F0 and energy, the
        sine source, the STFT and the iSTFT stay in float32.
        """
        s_timbre, s_prosody = style[:, : self.cfg.style_dim], style[:, self.cfg.style_dim:]
        en, asr, frames = expand_to_frames(d, t_en, durations, total_frames)
        mask = None if bool((frames == en.shape[-1]).all()) else ops.keep(frames, en.shape[-1])
        f0, energy = self.predictor.f0_energy(en, s_prosody, mask)
        precision = (torch.autocast(device_type=en.device.type, dtype=autocast_dtype)
                     if autocast_dtype is not None else contextlib.nullcontext())
        with precision:
            audio = self.decoder(asr, f0, energy, s_timbre, generator, mask)
        return audio.float(), frames * (audio.shape[-1] // en.shape[-1])

    def _lengths_and_mask(self, tokens: torch.Tensor, style: torch.Tensor,
                          lengths: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        B, T = tokens.shape
        if style.shape != (B, 2 * self.cfg.style_dim):
            raise ValueError(f"style must be [B, {2 * self.cfg.style_dim}] = [{B}, 256], got {tuple(style.shape)}")
        if lengths is None:
            lengths = torch.full((B,), T, dtype=torch.long, device=tokens.device)
        if T > self.cfg.max_positions or bool((lengths < 1).any()) or bool((lengths > T).any()):
            raise ValueError(f"need 1 <= lengths <= T <= {self.cfg.max_positions}; got T={T}, lengths={lengths}")
        return lengths, torch.arange(T, device=tokens.device)[None, :] < lengths[:, None]  # True on real tokens

    @staticmethod
    def _speed(speed: float | torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return torch.as_tensor(speed, dtype=style.dtype, device=style.device).reshape(-1).expand(style.shape[0])
