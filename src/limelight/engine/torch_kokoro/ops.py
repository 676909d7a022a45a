"""The decoder's element-wise hot spots: masked instance-norm statistics, the AdaIN affine, Snake.

The generator spends its memory traffic here, not in its convolutions: every AdaIN reads its input for the
statistics, then reads it again and writes it once more for the affine, and Snake in eager PyTorch is four
more kernels. Keeping them as small pure functions does two things:

* padding-aware batching is a local rule: tensors carry zeros past each row's valid length (see ``keep``),
  so the statistics are plain sums divided by the valid count, with no extra pass to multiply by the mask;
* :func:`set_compiled` swaps them for ``torch.compile``d versions (one fused Triton kernel each on a GPU),
  which is where compilation pays for a convolutional vocoder; compiling the whole model would mostly
  recompile for every new sequence length.

Statistics are always accumulated in float32, also under bf16/fp16 autocast.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator

import torch

EPS = 1e-5


def _instance_stats(x: torch.Tensor, count: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and 1/std over the last axis of [B, C, L] ``x`` that is zero past each row's ``count`` [B, 1, 1].

    ``count`` None means every position is valid. Sums run in float32 whatever ``x``'s dtype, without a
    float32 copy of ``x``.
    """
    n = x.shape[-1] if count is None else count
    s1 = x.sum(dim=-1, keepdim=True, dtype=torch.float32)
    s2 = torch.linalg.vector_norm(x, 2, dim=-1, keepdim=True, dtype=torch.float32) ** 2
    mean = s1 / n
    var = (s2 / n - mean * mean).clamp_min(0.0)
    return mean, torch.rsqrt(var + EPS)


def _adain(x: torch.Tensor, mean: torch.Tensor, rstd: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor,
           mask: torch.Tensor | None) -> torch.Tensor:
    """(1 + gamma) * (x - mean) * rstd + beta, as one multiply-add in ``x``'s dtype, zeroed past the mask."""
    scale = (1 + gamma.float()) * rstd
    shift = beta.float() - mean * scale
    y = torch.addcmul(shift.to(x.dtype), x, scale.to(x.dtype))
    return y if mask is None else y.masked_fill(~mask, 0.0)


def _snake(x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """Snake x + sin²(αx)/α. Maps 0 to 0, so zero padding stays zero."""
    alpha = alpha.to(x.dtype)
    return torch.addcdiv(x, torch.sin(alpha * x).pow_(2), alpha)


def _adain_snake(x: torch.Tensor, mean: torch.Tensor, rstd: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor,
                 alpha: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Snake(AdaIN(x)): the pair that opens each half of every generator residual layer."""
    return _snake(_adain(x, mean, rstd, gamma, beta, mask), alpha)


# The implementations in use; set_compiled swaps them. Call sites go through the wrappers below.
_impl: dict[str, Callable[..., object]] = {
    "instance_stats": _instance_stats, "adain": _adain, "snake": _snake, "adain_snake": _adain_snake}
_eager = dict(_impl)


def instance_stats(x: torch.Tensor, count: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    policy = _stats_policy.get()
    if policy is not None:
        return policy(x, count)
    return _impl["instance_stats"](x, count)  # type: ignore[return-value]


class StatsPolicy:
    """Where instance-norm statistics come from, instead of each row's own valid positions.

    Streaming decodes an utterance in windows, but the generator's AdaIN layers normalise over the whole
    utterance. A policy lets a batch of windows stand in for it: :class:`PooledStats` pools the statistics
    over chosen positions of all rows (and records them), :class:`ReplayStats` hands recorded ones back in
    the same call order. Install one with :func:`stats_policy`.
    """

    def __call__(self, x: torch.Tensor, count: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError


class PooledStats(StatsPolicy):
    """Statistics pooled over the positions ``region`` marks in every row, recorded in call order.

    ``region`` is bool [B, 1, n] at frame rate; a tensor of length ``k·n + e`` (a stage upsampled k×, plus
    the reflect pad's extra sample) counts the k positions of each marked frame (the extra one never).
    ``x`` must be zero outside its rows' valid lengths, like everywhere else.
    """

    def __init__(self, region: torch.Tensor) -> None:
        self.region = region
        self.recorded: list[tuple[torch.Tensor, torch.Tensor]] = []
        self._regions: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def _at(self, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        if length not in self._regions:
            n = self.region.shape[-1]
            scale, extra = divmod(length, n)
            r = self.region.repeat_interleave(scale, dim=-1)
            if extra:
                r = torch.cat([r, r.new_zeros(*r.shape[:-1], extra)], dim=-1)
            r = r.float()
            self._regions[length] = (r, r.sum())
        return self._regions[length]

    def __call__(self, x: torch.Tensor, count: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        weight, n = self._at(x.shape[-1])
        xf = x.float() * weight
        s1 = xf.sum(dim=(0, 2), keepdim=True)
        s2 = (xf * x.float()).sum(dim=(0, 2), keepdim=True)
        mean = s1 / n
        rstd = torch.rsqrt((s2 / n - mean * mean).clamp_min(0.0) + EPS)
        self.recorded.append((mean, rstd))
        return mean.expand(x.shape[0], -1, -1), rstd.expand(x.shape[0], -1, -1)


class ReplayStats(StatsPolicy):
    """The statistics a :class:`PooledStats` recorded, handed out again in the same order."""

    def __init__(self, recorded: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
        self.recorded = recorded
        self.calls = 0

    def __call__(self, x: torch.Tensor, count: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        mean, rstd = self.recorded[self.calls]
        self.calls += 1
        return mean.expand(x.shape[0], -1, -1), rstd.expand(x.shape[0], -1, -1)


_stats_policy: contextvars.ContextVar[StatsPolicy | None] = contextvars.ContextVar("stats_policy", default=None)


@contextlib.contextmanager
def stats_policy(policy: StatsPolicy | None) -> Iterator[StatsPolicy | None]:
    """Run the enclosed forward passes with ``policy`` deciding every instance norm's statistics."""
    token = _stats_policy.set(policy)
    try:
        yield policy
    finally:
        _stats_policy.reset(token)


def adain(x: torch.Tensor, mean: torch.Tensor, rstd: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor,
          mask: torch.Tensor | None) -> torch.Tensor:
    return _impl["adain"](x, mean, rstd, gamma, beta, mask)  # type: ignore[return-value]


def snake(x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    return _impl["snake"](x, alpha)  # type: ignore[return-value]


def adain_snake(x: torch.Tensor, mean: torch.Tensor, rstd: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor,
                alpha: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    return _impl["adain_snake"](x, mean, rstd, gamma, beta, alpha, mask)  # type: ignore[return-value]


def set_compiled(enabled: bool) -> None:
    """Route the functions above through ``torch.compile`` (dynamic shapes), or back to eager.

    Process-wide, because the functions are shared by every model instance. The first call at each new
    rank/dtype compiles (seconds); sequence lengths are symbolic, so new lengths do not recompile.
    """
    if not enabled:
        _impl.update(_eager)
        return
    for name, fn in _eager.items():
        _impl[name] = torch.compile(fn, dynamic=True)


def compiled() -> bool:
    return _impl["snake"] is not _eager["snake"]


def keep(lengths: torch.Tensor, total: int) -> torch.Tensor:
    """Bool [B, 1, total], True where a position is inside its row's valid length."""
    return (torch.arange(total, device=lengths.device)[None, :] < lengths[:, None])[:, None, :]
