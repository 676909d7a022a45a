"""`PerformOptions`: every knob of a performance, validated once, and the one helper that builds it.

The CLI, the HTTP routes, the UI and the Python API all describe a performance with the same options (names
and defaults follow DESIGN.md §4). Each front end builds one `PerformOptions` through :func:`perform_options`,
so an unknown or out-of-range option fails the same way everywhere: a `LimelightError` naming the field.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from .errors import LimelightError
from .voice import Voice

MODES = ("generate", "voice_design")
MAX_ATTEMPTS = 3

#: What ``reference`` accepts: audio as ``(samples, sample_rate)``, a path to an audio file, or a ready `Voice`.
ReferenceInput = tuple[np.ndarray, int] | str | os.PathLike | Voice


@dataclass(frozen=True)
class PerformOptions:
    """Every knob of a performance, validated on construction (a bad value raises `LimelightError(field=...)`).

    background_sfx: mix the scene's effects and ambience. validate: check each chunk with Whisper and retry a
    garbled one (up to ``max_attempts``), keeping it only when its word match reaches ``min_match_ratio``.
    seed: -1 draws one (reported). pace: 0.5..3.0, 1.5 is neutral, higher is slower; speed multiplies tempo.
    reference: a voice to clone for the first speaker (``skip_vc`` checks it but keeps the stock voice;
    ``vc_steps``/``vc_cfg_rate`` are accepted for API compatibility). language: forces every segment's
    language. voice: a name, a blend ``"a:0.7,b:0.3"`` or a `Voice` for every speaker. mode: ``"generate"``, or
    ``"voice_design"`` (the described voice reads a short preview instead of the script).
    """

    background_sfx: bool = False
    validate: bool = True
    seed: int = -1
    pace: float = 1.5
    reference: ReferenceInput | None = None
    language: str | None = None
    min_match_ratio: float = 0.90
    voice: str | Voice | None = None
    speed: float = 1.0
    skip_vc: bool = False
    vc_steps: int = 25
    vc_cfg_rate: float = 0.5
    mode: str = "generate"
    max_attempts: int = MAX_ATTEMPTS

    def __post_init__(self) -> None:
        checks: list[tuple[bool, str, str]] = [
            (0.5 <= self.pace <= 3.0, "pace", f"pace must be between 0.5 and 3.0, got {self.pace}"),
            (0.5 <= self.speed <= 2.0, "speed", f"speed must be between 0.5 and 2.0, got {self.speed}"),
            (0.0 <= self.min_match_ratio <= 1.0, "min_match_ratio",
             f"min_match_ratio must be between 0 and 1, got {self.min_match_ratio}"),
            (-1 <= self.seed <= 2**31 - 1, "seed", f"seed must be -1 (random) or 0..2147483647, got {self.seed}"),
            (1 <= self.vc_steps <= 200, "vc_steps", f"vc_steps must be between 1 and 200, got {self.vc_steps}"),
            (0.0 <= self.vc_cfg_rate <= 5.0, "vc_cfg_rate",
             f"vc_cfg_rate must be between 0 and 5, got {self.vc_cfg_rate}"),
            (self.mode in MODES, "mode", f"mode must be one of {', '.join(MODES)}, got {self.mode!r}"),
            (1 <= self.max_attempts <= 6, "max_attempts", "max_attempts must be between 1 and 6"),
        ]
        for ok, fld, message in checks:
            if not ok:
                raise LimelightError(message, field=fld)


OPTION_NAMES = frozenset(f.name for f in fields(PerformOptions))


def perform_options(options: PerformOptions | Mapping[str, Any] | None = None, /,
                    **overrides: Any) -> PerformOptions:
    """One `PerformOptions` from an options object or mapping (or nothing) plus keyword overrides.

    Values are taken as given and validated by `PerformOptions`. An unknown name raises `LimelightError`
    naming it, so a typo never passes silently.
    """
    base = options if isinstance(options, PerformOptions) else PerformOptions()
    given = dict(options) if isinstance(options, Mapping) else {}
    given.update(overrides)
    unknown = sorted(set(given) - OPTION_NAMES)
    if unknown:
        raise LimelightError(f"unknown option {unknown[0]!r}", field=unknown[0])
    return replace(base, **given) if given else base
