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
class TextSegment:
    """Words one speaker says, with the stage direction and register in effect for them.

    ``language_source`` says where ``language`` came from: ``"script"`` (a ``language="…"`` attribute, which
    wins over everything), ``"default"`` (nothing said it: ``language`` is a placeholder until
    :func:`limelight.text.language.resolve_languages` sets it), ``"option"`` (the caller's explicit language)
    or ``"detected"``.
    """

    text: str
    speaker_id: str
    action: str | None
    register: str | None
    language: str
    line: int
    col: int
    language_source: str = "script"


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


Segment = TextSegment | EventSegment | SoundSegment | PauseSegment | SceneSegment


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
        return " ".join(s.text for s in self.text_segments())
