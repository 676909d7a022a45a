"""Casting: a `Voice` for every speaker of a script, before anything is planned or spoken.

Order of preference for each speaker: a cloned reference (the first speaker) → the ``voice`` option → a voice
known by the speaker's ``voice`` attribute (shipped or saved in the user's library; ``piper:VOICE.onnx`` gives
the speaker its own Piper voice, spoken by that voice's engine in `synthesize_chunk`) → a voice designed from
that attribute as a description → the clearest shipped voice of the speaker's gender. Whatever is asked for
and cannot be done is reported through ``note(field, reason)``, never silently dropped.

The Performer and `Limelight` both use `available_voices`, so the shipped voices and the user's library are
merged in one place.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..engine.base import Engine
from ..engine.piper import is_piper_spec, piper_speaker_voice
from ..errors import LimelightError
from ..options import PerformOptions
from ..script import Script, TextSegment
from .library import VoiceLibrary
from .option import voice_option
from .shipped import GENDER_DEFAULTS
from .voice import Voice, resolve_voice

#: ``note(field, reason)``: record an option or markup field that was asked for but not applied.
Note = Callable[[str, str], None]

DESIGN_PREVIEW_TEXT = ("Hello. This is a preview of the voice you described. I can speak calmly, or with feeling, "
                       "and I can tell a story from beginning to end.")


def available_voices(engine: Engine) -> dict[str, Voice]:
    """The engine's shipped voices plus the user's saved library voices (only for an engine that speaks style
    tables: library voices are style tables). A library that cannot be read raises."""
    voices = dict(engine.voices())
    if engine.style_voices:
        voices.update({v.name: v for v in VoiceLibrary().list()})
    return voices


def cast_voices(script: Script, options: PerformOptions, engine: Engine, note: Note) -> dict[str, Voice]:
    """Pick a Voice for every speaker of ``script`` (see the module docstring for the order)."""
    available = dict(engine.voices())
    if engine.style_voices:
        try:
            available = available_voices(engine)
        except Exception:  # a broken user library must not stop a performance  # noqa: BLE001
            note("voice", "the voice library could not be read")
    cloned = reference_voice(options, engine, note) if options.reference is not None else None
    voices: dict[str, Voice] = {}
    for i, speaker in enumerate(script.speakers):
        if cloned is not None and i == 0:
            from .gender import gender_conflict

            conflict = gender_conflict(cloned, speaker.gender)  # never silently: reported, script's gender kept
            if conflict:
                note("gender", conflict)
                cloned = replace(cloned, gender=speaker.gender)
            voices[speaker.id] = cloned
        elif options.voice is not None:
            spec = options.voice
            if isinstance(spec, str) and engine.style_voices:  # words that name no voice: design one
                spec = voice_option(spec, speaker.gender, available)
            voices[speaker.id] = resolve_voice(spec, available, engine.default_voice)
        elif is_piper_spec(speaker.voice):  # voice="piper:VOICE.onnx": this speaker speaks through Piper
            voices[speaker.id] = piper_speaker_voice(str(speaker.voice))
        elif speaker.voice and speaker.voice.strip() in available:
            voices[speaker.id] = available[speaker.voice.strip()]
        elif speaker.voice and engine.style_voices:
            from .design import design_voice  # clone, design and reference load on use (start-up cost)

            voices[speaker.id] = design_voice(speaker.voice, speaker.gender)
        else:
            if speaker.voice:
                note("voice", f"voice design is not available with the {engine.name} engine; a stock voice of the "
                              "requested gender was used")
            voices[speaker.id] = stock_voice(engine, speaker.gender, available)
    return voices


def stock_voice(engine: Engine, gender: str | None, available: dict[str, Voice]) -> Voice:
    """The clearest shipped voice of the asked gender (by measured English WER), else the default."""
    default = available[engine.default_voice]
    if gender is None or default.gender == gender:
        return default
    name = GENDER_DEFAULTS.get(gender)
    if name in available:
        return available[name]
    same = [v for v in engine.voices().values() if v.gender == gender]
    return same[0] if same else default


def reference_voice(options: PerformOptions, engine: Engine, note: Note) -> Voice | None:
    """The voice cloned from ``options.reference`` (None when it is not used, with a note saying why)."""
    ref = options.reference
    if isinstance(ref, Voice):
        return ref
    if options.skip_vc:
        note("reference_voice_url", "skip_vc is set: the reference was checked but its identity not used")
        return None
    if not engine.style_voices:
        note("reference_voice_url", f"voice cloning is not available with the {engine.name} engine")
        return None
    if ref is None:
        return None
    if isinstance(ref, (str, os.PathLike)):
        from .reference import load_reference

        audio, sr = load_reference(ref)
    elif isinstance(ref, tuple) and len(ref) == 2:
        audio, sr = ref
    else:
        raise LimelightError("reference must be audio as (samples, sample_rate), a file path or a Voice",
                             field="reference")
    from .clone import clone_voice

    return clone_voice(np.asarray(audio, np.float32), int(sr), "reference", engine=engine)


def design_preview_script(script: Script) -> Script:
    """``voice_design`` mode: the first speaker's described voice reads a ~15 s preview instead of the script."""
    first = script.speakers[0]
    preview = TextSegment(text=DESIGN_PREVIEW_TEXT, speaker_id=first.id, action=None, register=None,
                          language=first.language, line=1, col=1)
    return replace(script, segments=(preview,), speakers=(first,))
