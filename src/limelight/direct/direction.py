"""`Direction`: how a stretch of speech should be performed, as numbers the engine and DSP can apply.

A Direction is a *delta from neutral delivery*: the default instance changes nothing. Interpretation
(``interpret.py``) produces one per ``<action>`` (on top of the speaker's base delivery); the engine
applies ``speed``, the DSP (``dsp.py``) applies pitch, energy, tilt, breathiness and tremble, and the
planner inserts pauses and breaths. Keeping it a plain frozen dataclass lets every stage read it without
importing the embedder.

Composition rules (``combine``) follow what each number means: tempo and pitch-range are ratios, so they
multiply; semitones and decibels are logarithmic already, so they add; breathiness and tremble are
amounts in 0..1 that saturate; pauses take the longer one (two "long pause" cues do not make a
four-second gap); a non-normal register wins over "normal".
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

REGISTERS: tuple[str, ...] = ("whisper", "soft", "normal", "loud", "shout")
"""Voice registers from quietest to loudest."""

# Sane bounds: beyond these a Kokoro voice stops sounding like speech (or like the same person).
SPEED_RANGE = (0.6, 1.6)
PITCH_SHIFT_RANGE = (-6.0, 6.0)
PITCH_RANGE_RANGE = (0.3, 2.0)
ENERGY_DB_RANGE = (-20.0, 12.0)
TILT_DB_RANGE = (-12.0, 12.0)
PAUSE_RANGE = (0.0, 5.0)


def _clip(value: float, bounds: tuple[float, float]) -> float:
    return float(min(max(value, bounds[0]), bounds[1]))


@dataclass(frozen=True)
class Direction:
    """Performance parameters for a segment of speech; every default is "as the voice would say it".

    speed: tempo multiplier (>1 faster). pitch_shift: semitones. pitch_range: multiplier on the F0
    excursion around the speaker's mean (<1 flatter, >1 livelier). energy_db: loudness change.
    tilt_db: spectral tilt (+ brighter/pressed, − darker/softer). register: whisper|soft|normal|loud|shout.
    breathiness, tremble: 0..1 amounts (aspiration noise; vibrato/jitter of a shaking voice).
    pause_before/pause_after: silence in seconds around the segment. breath_before: an audible inhale
    first. laughing: laughter mixed into the speech. labels: the prototypes/rules that produced it
    (strongest first), for ``--explain``.
    """

    speed: float = 1.0
    pitch_shift: float = 0.0
    pitch_range: float = 1.0
    energy_db: float = 0.0
    tilt_db: float = 0.0
    register: str = "normal"
    breathiness: float = 0.0
    tremble: float = 0.0
    pause_before: float = 0.0
    pause_after: float = 0.0
    breath_before: bool = False
    laughing: bool = False
    labels: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.register not in REGISTERS:
            raise ValueError(f"unknown register {self.register!r}; expected one of {', '.join(REGISTERS)}")
        if self.speed <= 0 or self.pitch_range <= 0:
            raise ValueError(f"speed and pitch_range must be positive (got {self.speed}, {self.pitch_range})")

    @property
    def is_neutral(self) -> bool:
        """True when applying this Direction would change nothing (labels aside)."""
        return replace(self, labels=()) == Direction()

    def clamped(self) -> Direction:
        """The same Direction with every number pulled inside its sane bounds."""
        return replace(
            self,
            speed=_clip(self.speed, SPEED_RANGE),
            pitch_shift=_clip(self.pitch_shift, PITCH_SHIFT_RANGE),
            pitch_range=_clip(self.pitch_range, PITCH_RANGE_RANGE),
            energy_db=_clip(self.energy_db, ENERGY_DB_RANGE),
            tilt_db=_clip(self.tilt_db, TILT_DB_RANGE),
            breathiness=_clip(self.breathiness, (0.0, 1.0)),
            tremble=_clip(self.tremble, (0.0, 1.0)),
            pause_before=_clip(self.pause_before, PAUSE_RANGE),
            pause_after=_clip(self.pause_after, PAUSE_RANGE),
        )

    def scaled(self, weight: float) -> Direction:
        """This Direction at ``weight`` strength (0 → neutral, 1 → itself), interpolating each quantity
        on its natural scale (ratios geometrically, dB/semitones/amounts linearly).

        Discrete parts (register, breath, laughing) need the cue to be at least half present.
        """
        w = float(weight)
        strong = w >= 0.5
        return Direction(
            speed=self.speed ** w,
            pitch_shift=self.pitch_shift * w,
            pitch_range=self.pitch_range ** w,
            energy_db=self.energy_db * w,
            tilt_db=self.tilt_db * w,
            register=self.register if strong else "normal",
            breathiness=self.breathiness * w,
            tremble=self.tremble * w,
            pause_before=self.pause_before * w,
            pause_after=self.pause_after * w,
            breath_before=self.breath_before and strong,
            laughing=self.laughing and strong,
            labels=self.labels,
        )

    def combine(self, other: Direction) -> Direction:
        """Apply ``other`` on top of this Direction (e.g. an action on top of the speaker's base).

        Ratios multiply, dB and semitones add, 0..1 amounts saturate (1 − (1−a)(1−b)), pauses keep the
        longer, flags OR; ``other``'s register wins unless it is "normal". The result is clamped.
        """
        return Direction(
            speed=self.speed * other.speed,
            pitch_shift=self.pitch_shift + other.pitch_shift,
            pitch_range=self.pitch_range * other.pitch_range,
            energy_db=self.energy_db + other.energy_db,
            tilt_db=self.tilt_db + other.tilt_db,
            register=other.register if other.register != "normal" else self.register,
            breathiness=1.0 - (1.0 - self.breathiness) * (1.0 - other.breathiness),
            tremble=1.0 - (1.0 - self.tremble) * (1.0 - other.tremble),
            pause_before=max(self.pause_before, other.pause_before),
            pause_after=max(self.pause_after, other.pause_after),
            breath_before=self.breath_before or other.breath_before,
            laughing=self.laughing or other.laughing,
            labels=self.labels + tuple(label for label in other.labels if label not in self.labels),
        ).clamped()

    def blend(self, other: Direction, t: float) -> Direction:
        """A Direction ``t`` of the way from this one to ``other`` (0 → self, 1 → other).

        Used to ramp a delivery across chunks. Register switches at the midpoint.
        """
        t = _clip(t, (0.0, 1.0))

        def lin(a: float, b: float) -> float:
            return a + (b - a) * t

        def geo(a: float, b: float) -> float:
            return math.exp(lin(math.log(a), math.log(b)))

        near = other if t >= 0.5 else self
        return Direction(
            speed=geo(self.speed, other.speed),
            pitch_shift=lin(self.pitch_shift, other.pitch_shift),
            pitch_range=geo(self.pitch_range, other.pitch_range),
            energy_db=lin(self.energy_db, other.energy_db),
            tilt_db=lin(self.tilt_db, other.tilt_db),
            register=near.register,
            breathiness=lin(self.breathiness, other.breathiness),
            tremble=lin(self.tremble, other.tremble),
            pause_before=lin(self.pause_before, other.pause_before),
            pause_after=lin(self.pause_after, other.pause_after),
            breath_before=near.breath_before,
            laughing=near.laughing,
            labels=near.labels,
        ).clamped()

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (labels as a list), for metadata and the ``--explain`` table."""
        data = asdict(self)
        data["labels"] = list(self.labels)
        return data
