"""A voice's gender, measured when nobody said it, and held to what the script says.

A clone used to carry no gender at all, and a female reference silently replaced a speaker the script
declared ``gender="male"``. The measure is deliberately simple and stated: the median F0 of the reference's
voiced frames (YIN, :func:`limelight.direct.dsp.track_f0`) under ``MALE_MAX_HZ`` reads as male, over
``FEMALE_MIN_HZ`` as female, and the band between (low women, high men, children) stays unknown rather than
guessed. Adult speaking F0 clusters near 120 Hz for men and 210 Hz for women, so the band's edges sit where
the two distributions cross with little overlap. Measured on the 200 LibriSpeech clips of ``shared/voices``
(one clip at a time): 168 right, 15 wrong (mostly one male reader around 210 Hz), 17 undecided.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .design import FEMALE_F0_MIN, MALE_F0_MAX
from .voice import Voice

MALE_MAX_HZ = MALE_F0_MAX  # 150 Hz
FEMALE_MIN_HZ = FEMALE_F0_MIN  # 175 Hz


@dataclass(frozen=True)
class GenderEstimate:
    gender: str | None  # "male", "female", or None when the median F0 falls between the bands (or no voicing)
    median_f0_hz: float | None

    def as_dict(self) -> dict[str, object]:
        return {"gender": self.gender, "median_f0_hz": self.median_f0_hz,
                "method": f"median F0 (YIN): < {MALE_MAX_HZ:g} Hz male, > {FEMALE_MIN_HZ:g} Hz female"}


def measure_gender(audio: np.ndarray, sr: int) -> GenderEstimate:
    """Gender read from the median F0 of ``audio``'s voiced frames (see the module docstring)."""
    from ..direct.dsp import track_f0

    f0 = track_f0(np.asarray(audio, np.float32).reshape(-1), sr).f0
    voiced = f0[f0 > 0]
    if voiced.size < 10:
        return GenderEstimate(None, None)
    median = float(np.median(voiced))
    gender = "male" if median < MALE_MAX_HZ else "female" if median > FEMALE_MIN_HZ else None
    return GenderEstimate(gender, round(median, 1))


def gender_conflict(voice: Voice, wanted: str | None, what: str = "the reference") -> str | None:
    """Why ``voice``'s measured gender contradicts the script's ``wanted`` one (None when they agree).

    The caller keeps the script's gender and reports this reason: the measure is right on ~91% of the clips it
    decides (see the module docstring), too weak to refuse a reference on, too strong to ignore silently.
    """
    if wanted is None or voice.gender is None or voice.gender == wanted:
        return None
    measured = (voice.meta or {}).get("gender_measured")
    f0 = measured.get("median_f0_hz") if isinstance(measured, dict) else None
    heard = f" (median F0 {f0:g} Hz)" if isinstance(f0, (int, float)) else ""
    return (f"{what} sounds {voice.gender}{heard} but the script's speaker is gender=\"{wanted}\"; the clone "
            f"keeps the reference's voice and the script's gender; use a {wanted} reference to match")
