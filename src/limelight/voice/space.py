"""The voice space: one 256-d vector per voice, turned into a full 510×256 Kokoro style table.

Kokoro's style rows vary with utterance length (row *n* for *n* tokens) mostly in the same way for every
voice: short rows move a lot, rows past ~80 tokens barely. So a voice is modelled as its *mean row* ``v`` plus
the average length-dependent variation ``R`` of the shipped tables: ``table = R + v``. Cloning, design and the
trained encoder all work on ``v``; ``R`` keeps short sentences sounding like the shipped packs do.

``scale`` is the per-dimension spread of the shipped voices' mean rows (floored), the unit for random
exploration: moving a dimension by one ``scale`` is as far as one shipped voice is from another.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .shipped import shipped_voices
from .voice import Voice

MIN_SCALE = 0.03


@dataclass(frozen=True)
class StyleSpace:
    names: tuple[str, ...]
    means: np.ndarray  # (voices, 256): each shipped voice's mean row
    residual: np.ndarray  # (510, 256): average row variation around the mean row
    scale: np.ndarray  # (256,): per-dim spread between shipped voices

    def table(self, v: np.ndarray) -> np.ndarray:
        """The 510×256 style table of voice vector ``v``."""
        return (self.residual + np.asarray(v, np.float32).reshape(1, -1)).astype(np.float32)

    def voice(self, v: np.ndarray, name: str, **fields: object) -> Voice:
        return Voice(name=name, style=self.table(v), **fields)  # type: ignore[arg-type]

    def vector(self, voice: Voice) -> np.ndarray:
        """A voice's coordinates in this space (its mean row)."""
        return voice.style.mean(axis=0).astype(np.float32)

    def mean_of(self, name: str) -> np.ndarray:
        return self.means[self.names.index(name)]


@lru_cache(maxsize=1)
def style_space() -> StyleSpace:
    voices = shipped_voices()
    names = tuple(sorted(voices))
    tables = np.stack([voices[n].style for n in names]).astype(np.float32)
    means = tables.mean(axis=1)
    residual = (tables - means[:, None, :]).mean(axis=0)
    scale = np.maximum(means.std(axis=0), MIN_SCALE)
    return StyleSpace(names=names, means=means, residual=residual.astype(np.float32),
                      scale=scale.astype(np.float32))
