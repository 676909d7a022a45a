"""What a parsed script is: the dataclasses every later stage reads.

The parser resolves everything it can (inheritance of attributes, the action in effect, the register,
the speaker) so that later stages (direct, plan, scene) read plain values and never look at markup.
Segments are in time order; each one remembers the 1-based line and column it came from so a later
stage can point the user back at the markup when something about it cannot be performed.
"""

from __future__ import annotations

from dataclasses import dataclass

REGISTERS: tuple[str, ...] = ("whisper", "soft", "normal", "loud", "shout")
GENDERS: tuple[str, ...] = ("male", "female")


@dataclass(frozen=True)
class Speaker:
    """One voice in the script.

    ``voice`` is the free-text description from the markup, or ``None`` for plain-text input, which
    means "the default voice". ``gender`` is ``"male"``, ``"female"`` or ``None`` (plain text only).
    ``language`` is the language of the speaker's first words; each :class:`TextSegment` carries its own.
    ``name`` is the user's name for the speaker (``<speak name="anna">``) when one was given; ``id`` is
    that name, or ``speaker1``, ``speaker2`` … in order of first speech.
    """

    id: str
    voice: str | None
    gender: str | None
    language: str
    name: str | None = None


@dataclass(frozen=True)
class Prosody:
    """Explicit prosody from markup (SSML ``<prosody>``): a delta from the voice's own delivery.

    ``rate`` multiplies the tempo; ``pitch`` shifts F0 by semitones; ``pitch_range`` multiplies the F0
    excursion; ``volume_db`` changes loudness; ``contour`` is ``(position 0..1, semitones)`` points of an F0
    curve over the segment. The default changes nothing.
    """

    rate: float = 1.0
    pitch: float = 0.0
    pitch_range: float = 1.0
    volume_db: float = 0.0
    contour: tuple[tuple[float, float], ...] = ()

    def combine(self, inner: Prosody) -> Prosody:
        """A nested ``<prosody>`` inside this one: ratios multiply, semitones and decibels add."""
        return Prosody(self.rate * inner.rate, self.pitch + inner.pitch, self.pitch_range * inner.pitch_range,
                       self.volume_db + inner.volume_db, inner.contour or self.contour)

    @property
    def is_neutral(self) -> bool:
        return self == Prosody()


@dataclass(frozen=True)
class TextSegment:
    """Words one speaker says, with the stage direction and register in effect for them.

    ``language_source`` says where ``language`` came from: ``"script"`` (a ``language="…"`` attribute, which
    wins over everything), ``"default"`` (nothing said it: ``language`` is a placeholder until
    :func:`limelight.text.language.resolve_languages` sets it), ``"option"`` (the caller's explicit language)
    or ``"detected"``.
    ``text`` may hold word-level annotations (emphasis, fixed pronunciations: :mod:`limelight.text.inline`);
    :attr:`written` is the text without them. ``prosody`` is explicit markup prosody (SSML), or None.
    """

    text: str
    speaker_id: str
    action: str | None
    register: str | None
    language: str
    line: int
    col: int
    language_source: str = "script"
    prosody: Prosody | None = None

    @property
    def written(self) -> str:
        from ..text.inline import strip

        return strip(self.text)


@dataclass(frozen=True)
class EventSegment:
    """A non-verbal vocal event (``[laugh]``, ``[sigh]`` …) made by a speaker at this point in time.

    ``event`` is the canonical name (a key of :data:`KNOWN_EVENTS`); ``spelled`` is what the user
    wrote between the brackets; ``manner`` holds modifiers such as ``nervously`` in ``[laughs nervously]``.
    """

    event: str
    speaker_id: str
    action: str | None
    line: int
    col: int
    spelled: str = ""
    manner: str | None = None


@dataclass(frozen=True)
class SoundSegment:
    """A sound effect placed at this point in time (``<sound>Thunder cracks</sound>``)."""

    description: str
    line: int
    col: int


@dataclass(frozen=True)
class PauseSegment:
    """Silence of a given length (``<pause seconds="1.2"/>``), 0 < seconds ≤ 30."""

    seconds: float
    line: int
    col: int


@dataclass(frozen=True)
class SceneSegment:
    """The scene (ambience) changes here: a later ``<speak>`` block named a different scene or shot.

    The scene in effect at the start is :attr:`Script.scene`; this segment appears only for changes.
    """

    scene: str | None
    shot: str | None
    line: int
    col: int


@dataclass(frozen=True)
class AudioSegment:
    """A recorded clip played at this point (SSML ``<audio src="clip.wav">``): a local file, already
    checked to exist when the script was parsed. ``fallback`` is what the markup says to speak instead."""

    path: str
    fallback: str
    speaker_id: str
    line: int
    col: int


Segment = TextSegment | EventSegment | SoundSegment | PauseSegment | SceneSegment | AudioSegment


@dataclass(frozen=True)
class Mark:
    """A named point in the text (SSML ``<mark name="…"/>``): before character ``offset`` of the written
    text of segment ``segment`` (an index into :attr:`Script.segments`; ``offset`` may equal its length)."""

    name: str
    segment: int
    offset: int
    line: int
    col: int


@dataclass(frozen=True)
class Note:
    """Something in the markup that is understood but not performed (an SSML element or attribute this
    engine cannot render), reported in ``not_applied`` instead of silently dropped."""

    field: str
    reason: str
    line: int = 0
    col: int = 0

    def as_dict(self) -> dict[str, str]:
        where = f" (line {self.line}, col {self.col})" if self.line else ""
        return {"field": self.field, "reason": self.reason + where}


@dataclass(frozen=True)
class Script:
    """A whole parsed script: who speaks, and what happens, in time order.

    ``scene``/``shot`` are those in effect at the start (later changes are :class:`SceneSegment`s);
    ``language`` is the script's main language (the root's, else the first speaker's, else ``en``).
    ``source_is_markup`` is False for plain-text input, which has one default speaker and no directions.
    """

    speakers: tuple[Speaker, ...]
    segments: tuple[Segment, ...]
    scene: str | None
    shot: str | None
    language: str
    source_is_markup: bool
    marks: tuple[Mark, ...] = ()
    notes: tuple[Note, ...] = ()
    ssml: bool = False

    def speaker(self, speaker_id: str) -> Speaker:
        """The speaker with this id (KeyError if there is none)."""
        for speaker in self.speakers:
            if speaker.id == speaker_id:
                return speaker
        raise KeyError(speaker_id)

    def text_segments(self) -> tuple[TextSegment, ...]:
        return tuple(s for s in self.segments if isinstance(s, TextSegment))

    def plain_text(self) -> str:
        """The spoken words only, one space between segments: what ASR validation compares against."""
        return " ".join(s.written for s in self.text_segments())
