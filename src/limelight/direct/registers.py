"""Voice registers (whisper, soft, normal, loud, shout) as the numbers and processing each one implies.

A register is more than a level: a whisper has no voicing at all, a soft voice is darker and a little
breathy, a raised voice is brighter, higher and denser (its loudness comes from pressed, sustained
phonation, i.e. less dynamic range). ``RegisterProfile`` holds those implications.

A register is also a *bound* on the numbers: a shout is at least this loud, this bright and this high,
a whisper or a soft voice at most this loud and this bright, whatever the rest of the Direction says
(an interpreted "Shouting." at +8 dB is raised to +10 dB, rage on top of it at +12 dB stays +12 dB, and
an angry line marked soft stays at most −6 dB). Bounds,
not sums: interpretation (``interpret.py``) already writes register-typical numbers into a Direction,
and a bound neither adds them twice nor loses a bare ``Direction(register="shout")``. ``resolve``
applies the bounds; the DSP reads only its result.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType

from .direction import Direction


@dataclass(frozen=True)
class RegisterProfile:
    """What a register implies for the voice.

    Quiet registers (``quiet=True``) cap energy and tilt at their values, loud ones floor energy, tilt and
    pitch shift at theirs; ``breathiness`` is a floor for both, ``pitch_range`` applies where the
    Direction leaves it neutral. unvoiced: the voice source becomes noise (whisper). compression_ratio:
    dynamic-range compression of the loud frames (1 = none), the dense sound of projected speech.
    """

    name: str
    quiet: bool = False
    energy_db: float = 0.0
    tilt_db: float = 0.0
    pitch_shift: float = 0.0
    pitch_range: float = 1.0
    breathiness: float = 0.0
    unvoiced: bool = False
    compression_ratio: float = 1.0


REGISTER_PROFILES: MappingProxyType[str, RegisterProfile] = MappingProxyType({
    # Whispered speech is roughly 10–15 dB below normal; its noise source sets the colour, so the tilt
    # bound is only "not brighter than normal".
    "whisper": RegisterProfile("whisper", quiet=True, energy_db=-12.0, unvoiced=True),
    "soft": RegisterProfile("soft", quiet=True, energy_db=-6.0, tilt_db=-3.0, pitch_range=0.9, breathiness=0.2),
    "normal": RegisterProfile("normal"),
    # Raised voices: F0 rises with vocal effort (Lombard effect: ~1–3 semitones for +6–10 dB), the
    # spectrum flattens (brighter), and the level stays up across the syllable (compression).
    "loud": RegisterProfile("loud", energy_db=7.0, tilt_db=4.0, pitch_shift=1.5, pitch_range=1.1,
                            compression_ratio=2.5),
    "shout": RegisterProfile("shout", energy_db=10.0, tilt_db=6.0, pitch_shift=3.0, pitch_range=1.2,
                             compression_ratio=4.0),
})


def profile(register: str) -> RegisterProfile:
    """The profile of a register name (one of ``REGISTERS``)."""
    try:
        return REGISTER_PROFILES[register]
    except KeyError:
        raise ValueError(f"unknown register {register!r}; expected one of {', '.join(REGISTER_PROFILES)}") from None


def resolve(direction: Direction) -> Direction:
    """``direction`` with its register's bounds applied (see the module docstring)."""
    p = profile(direction.register)
    d = direction
    if p.name == "normal":
        return d
    bound = min if p.quiet else max
    return replace(
        d,
        energy_db=bound(d.energy_db, p.energy_db),
        tilt_db=bound(d.tilt_db, p.tilt_db),
        pitch_shift=d.pitch_shift if p.quiet else max(d.pitch_shift, p.pitch_shift),
        pitch_range=d.pitch_range if d.pitch_range != 1.0 else p.pitch_range,
        breathiness=max(d.breathiness, p.breathiness),
    )
