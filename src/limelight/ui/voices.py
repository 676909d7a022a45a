"""The studio's voice picker: shipped voices, the user's library, and voices designed or cloned this session.

Design, cloning, reference checks and the library are optional stages of a build, so they are looked up lazily
(:class:`VoiceTools`); a missing one leaves its tab in place with a message saying what is missing, instead of
breaking the studio. A dropdown value is ``"<origin>:<name>"`` so that a session voice may share a name with a
shipped one without confusion; ``FROM_SCRIPT`` means "let the script's ``voice=`` description decide".
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..errors import VoiceError
from ..voice import Voice

FROM_SCRIPT = "script:"
SHIPPED, LIBRARY, SESSION = "shipped", "library", "session"


@dataclass
class VoiceTools:
    """The optional voice functions of this build (None where absent) and why each is absent."""

    design_voice: Any = None
    clone_voice: Any = None
    load_reference: Any = None
    library_cls: Any = None
    missing: dict[str, str] = field(default_factory=dict)

    @classmethod
    def discover(cls) -> VoiceTools:
        tools = cls()
        wanted = {"design_voice": ("limelight.voice.design", "design_voice"),
                  "clone_voice": ("limelight.voice.clone", "clone_voice"),
                  "load_reference": ("limelight.voice.reference", "load_reference"),
                  "library_cls": ("limelight.voice.library", "VoiceLibrary")}
        for attr, (module, name) in wanted.items():
            try:
                setattr(tools, attr, getattr(importlib.import_module(module), name))
            except Exception as exc:  # noqa: BLE001 - absent or broken, the studio still opens and says which
                tools.missing[attr] = f"{module}.{name} is not available in this build ({exc})"
        return tools

    def library(self) -> Any | None:
        return self.library_cls() if self.library_cls is not None else None


@dataclass(frozen=True)
class VoiceChoice:
    """One dropdown entry."""

    key: str
    label: str


def _label(voice: Voice, origin: str) -> str:
    about = f" — {voice.description}" if voice.description else ""
    gender = f", {voice.gender}" if voice.gender else ""
    return f"{voice.name} ({origin}{gender}){about}"[:110]


def library_voices(tools: VoiceTools) -> dict[str, Voice]:
    """The saved voices; an unreadable library counts as empty (the picker must still open)."""
    lib = tools.library()
    if lib is None:
        return {}
    try:
        return {v.name: v for v in lib.list()}
    except Exception:  # a broken user library must not stop the studio  # noqa: BLE001
        return {}


def voice_choices(shipped: dict[str, Voice], tools: VoiceTools, session: dict[str, Voice]) -> list[VoiceChoice]:
    """The picker's entries: the script's own description first, then this session's, the library's, shipped."""
    choices = [VoiceChoice(FROM_SCRIPT, "As the script describes it (voice=…)")]
    choices += [VoiceChoice(f"{SESSION}:{n}", _label(v, v.source or "new")) for n, v in session.items()]
    choices += [VoiceChoice(f"{LIBRARY}:{n}", _label(v, "library")) for n, v in sorted(library_voices(tools).items())]
    choices += [VoiceChoice(f"{SHIPPED}:{n}", _label(v, "shipped")) for n, v in sorted(shipped.items())]
    return choices


def resolve_choice(key: str | None, shipped: dict[str, Voice], tools: VoiceTools,
                   session: dict[str, Voice]) -> Voice | None:
    """The Voice a dropdown value stands for (None: the script decides)."""
    if not key or key == FROM_SCRIPT:
        return None
    origin, _, name = key.partition(":")
    pool = {SHIPPED: shipped, SESSION: session}.get(origin)
    if pool is None and origin == LIBRARY:
        pool = library_voices(tools)
    if pool is None or name not in pool:
        raise VoiceError(f"voice {name!r} is no longer available; pick another", field="voice")
    return pool[name]


def design(tools: VoiceTools, description: str, gender: str | None) -> Voice:
    """A voice from a free-text description (gender: male, female, or None to let the description decide)."""
    if tools.design_voice is None:
        raise VoiceError("voice design is not available in this build", field="description")
    if not (description or "").strip():
        raise VoiceError("describe the voice first (e.g. 'Old man, gravelly, slow')", field="description")
    return tools.design_voice(description.strip(), gender or None)


def blend(spec: str, shipped: dict[str, Voice], tools: VoiceTools, session: dict[str, Voice]) -> tuple[str, Voice]:
    """A weighted mix of known voices (``"jf_alpha:0.7,jm_kumo:0.3"``) and a short name for it."""
    from ..voice import parse_blend, resolve_voice

    spec = (spec or "").strip()
    if not spec:
        raise VoiceError("write a blend as name:weight, name:weight (e.g. jf_alpha:0.7,jm_kumo:0.3)", field="voice")
    available = {**shipped, **library_voices(tools), **session}
    voice = resolve_voice(spec, available, next(iter(shipped)))
    names = [n for n, _ in parse_blend(spec)]
    return "blend-" + "-".join(re.sub(r"[^A-Za-z0-9]+", "", n) for n in names)[:48], voice


def clone(tools: VoiceTools, reference: str | None, name: str) -> Voice:
    """A voice cloned from an uploaded or recorded clip (a file path; gradio saves recordings as files too)."""
    if tools.clone_voice is None:
        raise VoiceError("voice cloning is not available in this build", field="reference")
    if not reference:
        raise VoiceError("upload or record a reference clip (3–30 s of one person speaking) first",
                         field="reference")
    if tools.load_reference is not None:
        audio, sr = tools.load_reference(reference)  # checks length, level and decodability
    else:
        import soundfile as sf

        data, sr = sf.read(reference, dtype="float32", always_2d=True)
        audio = data.mean(axis=1)
    return tools.clone_voice(np.asarray(audio, np.float32), int(sr), (name or "").strip() or "my-voice")


def save(tools: VoiceTools, voice: Voice, name: str, overwrite: bool) -> str:
    """Save a session voice to the library under ``name``; returns the name used."""
    lib = tools.library()
    if lib is None:
        raise VoiceError("the voice library is not available in this build", field="name")
    name = (name or "").strip() or voice.name
    lib.save(replace(voice, name=name), force=overwrite)
    return name
