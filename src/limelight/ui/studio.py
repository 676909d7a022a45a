"""What the studio's buttons do. Each handler returns ``{component: value}`` so it touches only what it means to.

Errors never escape as tracebacks: a :class:`LimelightError` goes to the error box of the input that caused
it (see `errors.place_of`), anything else is shown as a one-line bug notice and logged in full.
"""

from __future__ import annotations

import atexit
import html
import json
import re
import shutil
import tempfile
import uuid
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from ..audio.wav import write_wav
from ..errors import LimelightError
from ..options import PerformOptions, perform_options
from ..voice import Voice
from . import errors, player, voices
from .layout import AUTO_LANGUAGE, Widgets
from .plot import draw_take
from .report import chunk_rows, summary_markdown
from .take import TakeDone, TakeProgress, run_take
from .words import words_html

PREVIEW_TEXT = "Hello. This is how I sound when I read to you."
KEEP_TAKES = 12  # take folders kept on disk per studio; older ones are deleted


@dataclass
class TakeFolders:
    """A folder per take (WAV, stems, plot, report), under one temporary root; only the newest few are kept."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="limelight-studio-")))
    keep: int = KEEP_TAKES
    _made: deque[Path] = field(default_factory=deque)

    def __post_init__(self) -> None:
        atexit.register(shutil.rmtree, self.root, True)  # gradio keeps its own copies of what it served

    def new(self) -> tuple[str, Path]:
        take = uuid.uuid4().hex[:12]
        folder = self.root / take
        folder.mkdir(parents=True)
        self._made.append(folder)
        while len(self._made) > self.keep:
            shutil.rmtree(self._made.popleft(), ignore_errors=True)
        return take, folder


def _slug(text: str, fallback: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", text.lower())[:3]
    return "-".join(words) or fallback


class Studio:
    """The studio's behaviour over one Performer (shared by every browser session; the queue runs one take
    at a time, which is what a CPU can afford anyway)."""

    def __init__(self, performer: Any, tools: voices.VoiceTools, widgets: Widgets,
                 folders: TakeFolders | None = None) -> None:
        self.performer = performer
        self.tools = tools
        self.w = widgets
        self.folders = folders or TakeFolders()

    # ------------------------------------------------------------------------------------------- helpers
    @property
    def shipped(self) -> dict[str, Voice]:
        return dict(self.performer.engine.voices())

    def _clear_errors(self) -> dict[Any, Any]:
        return {self.w.script_error: "", self.w.voice_error: "", self.w.settings_error: "",
                self.w.general_error: ""}

    def _error(self, exc: BaseException, script: str | None = None) -> dict[Any, Any]:
        out = self._clear_errors()
        if isinstance(exc, LimelightError):
            box = {errors.SCRIPT: self.w.script_error, errors.VOICE: self.w.voice_error,
                   errors.SETTINGS: self.w.settings_error}.get(errors.place_of(exc), self.w.general_error)
            out[box] = errors.error_html(exc, script)
        else:
            out[self.w.general_error] = errors.bug_html(exc)
        return out

    def _options(self, voice_key: str, session: dict[str, Voice], pace: float, speed: float, seed: float | None,
                 validate: bool, min_match_ratio: float, background_sfx: bool, language: str) -> PerformOptions:
        if seed is None:
            raise LimelightError("seed must be a whole number (-1 for random)", field="seed")
        return perform_options(
            voice=voices.resolve_choice(voice_key, self.shipped, self.tools, session), pace=float(pace),
            speed=float(speed), seed=int(seed), validate=bool(validate), min_match_ratio=float(min_match_ratio),
            background_sfx=bool(background_sfx), language=None if language in (None, "", AUTO_LANGUAGE) else language)

    def _voice_dropdown(self, session: dict[str, Voice], selected: str | None = None) -> Any:
        choices = voices.voice_choices(self.shipped, self.tools, session)
        keys = {c.key for c in choices}
        return gr.update(choices=[(c.label, c.key) for c in choices],
                         value=selected if selected in keys else voices.FROM_SCRIPT)

    # ------------------------------------------------------------------------------------------ handlers
    def generate(self, script: str, voice_key: str, session: dict[str, Voice], pace: float, speed: float,
                 seed: float | None, validate: bool, min_match_ratio: float, background_sfx: bool, language: str,
                 live: bool, progress: gr.Progress = gr.Progress()) -> Any:
        """Perform the script: progress and live pieces while chunks finish, then the take and its report."""
        w = self.w
        take, folder = self.folders.new()
        yield {**self._clear_errors(), w.status: "Preparing the take…", w.take_audio: None, w.take_words: "",
               w.downloads: None,
               w.plot: None, w.report: None, w.summary: "", w.metadata: None}
        seq = 0
        try:
            options = self._options(voice_key, session, pace, speed, seed, validate, min_match_ratio,
                                    background_sfx, language)
            for event in run_take(self.performer, script, options):
                if isinstance(event, TakeProgress):
                    progress((event.done, max(event.total, 1)), desc="chunks")
                    update: dict[Any, Any] = {w.status: f"Chunk {event.done} of {event.total} done "
                                                        f"({event.elapsed_s:.1f} s)…"}
                    if live and event.audio.size:
                        seq += 1
                        update[w.player] = player.piece(take, seq, event.audio, self.performer.sample_rate)
                    yield update
                elif isinstance(event, TakeDone):
                    yield self._finished(event, folder)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message in the page
            yield {**self._error(exc, script), w.status: ""}

    def _finished(self, done: TakeDone, folder: Path) -> dict[Any, Any]:
        perf = done.performance
        wav = write_wav(folder / "take.wav", perf.audio, perf.sample_rate)
        files = [str(wav)]
        stems = perf.stems or {}
        # Stems only when the scene put something in them (background sound off: the take *is* the voice stem).
        if any(np.any(stems.get(name, 0)) for name in ("ambience", "effects")):
            for name, stem in stems.items():
                files.append(str(write_wav(folder / f"stem-{name}.wav", stem, perf.sample_rate)))
        report = folder / "report.json"
        report.write_text(json.dumps(perf.metadata, indent=2, default=str), encoding="utf-8")
        files.append(str(report))
        picture = draw_take(perf.audio, perf.sample_rate, perf.metadata, folder / "take.png")
        w = self.w
        return {w.status: take_status(perf.metadata), w.take_audio: str(wav),
                w.take_words: words_html(perf.metadata.get("words", [])), w.downloads: files, w.plot: str(picture),
                w.report: chunk_rows(perf.metadata), w.summary: summary_markdown(perf.metadata),
                w.metadata: json.loads(json.dumps(perf.metadata, default=str))}

    def check(self, script: str, voice_key: str, session: dict[str, Voice], pace: float, speed: float,
              seed: float | None, validate: bool, min_match_ratio: float, background_sfx: bool,
              language: str) -> dict[Any, Any]:
        """The plan without synthesis (cheap), or the error that would stop a take."""
        try:
            options = self._options(voice_key, session, pace, speed, seed, validate, min_match_ratio,
                                    background_sfx, language)
            rows = self.performer.explain(script, options)
        except Exception as exc:  # noqa: BLE001
            return {**self._error(exc, script), self.w.plan: None}
        table = []
        for row in rows:
            d = row.get("direction") or {}
            who = row.get("voice") or row.get("speaker") or ""
            what = row.get("text") or row.get("description") or row.get("event") or row.get("scene") or (
                f"{row.get('seconds')} s" if row.get("kind") == "pause" else "")
            table.append([row.get("kind", ""), row.get("where", ""), who, what, ", ".join(d.get("labels") or [])])
        return {**self._clear_errors(), self.w.plan: table}

    def design(self, description: str, gender: str, session: dict[str, Voice]) -> dict[Any, Any]:
        """Design a voice from the description, add it to this session's voices, and play a preview."""
        w = self.w
        try:
            voice = voices.design(self.tools, description, gender)
            name = _slug(description, "designed")
            return self._new_voice(voice, name, session, "designed")
        except Exception as exc:  # noqa: BLE001
            return {**self._error(exc), w.voice_status: ""}

    def clone(self, reference: str | None, name: str, session: dict[str, Voice]) -> dict[Any, Any]:
        """Clone the uploaded or recorded clip, add the voice to this session, and play a preview."""
        w = self.w
        try:
            voice = voices.clone(self.tools, reference, name)
            return self._new_voice(voice, (name or "").strip() or "my-voice", session, "cloned")
        except Exception as exc:  # noqa: BLE001
            return {**self._error(exc), w.voice_status: ""}

    def blend(self, spec: str, session: dict[str, Voice]) -> dict[Any, Any]:
        """Mix voices by weight, add the mix to this session's voices, and play a preview."""
        try:
            name, voice = voices.blend(spec, self.shipped, self.tools, session)
            return self._new_voice(voice, name, session, "blended")
        except Exception as exc:  # noqa: BLE001
            return {**self._error(exc), self.w.voice_status: ""}

    def _new_voice(self, voice: Voice, name: str, session: dict[str, Voice], how: str) -> dict[Any, Any]:
        w = self.w
        voice = replace(voice, name=name)  # reports and the library show the name the user sees
        session = {**session, name: voice}
        _, folder = self.folders.new()
        preview = self.performer.perform(PREVIEW_TEXT, voice=voice, validate=False)
        wav = write_wav(folder / "preview.wav", preview.audio, preview.sample_rate)
        key = f"{voices.SESSION}:{name}"
        status = (f"<div class='ll-ok'>{how.capitalize()} voice <b>{html.escape(name)}</b> is selected; "
                  "Generate uses it. Save it to keep it.</div>")
        return {**self._clear_errors(), w.session_voices: session, w.voice: self._voice_dropdown(session, key),
                w.voice_preview: str(wav), w.voice_status: status, w.save_name: name}

    def save(self, voice_key: str, name: str, overwrite: bool, session: dict[str, Voice]) -> dict[Any, Any]:
        """Save the selected session voice (designed or cloned) to the library."""
        w = self.w
        try:
            origin, _, current = (voice_key or "").partition(":")
            if origin != voices.SESSION:
                raise LimelightError("select a voice you designed or cloned in this session to save it",
                                     field="voice")
            saved = voices.save(self.tools, session[current], name, overwrite)
        except Exception as exc:  # noqa: BLE001
            return {**self._error(exc), w.voice_status: ""}
        return {**self._clear_errors(), w.voice: self._voice_dropdown(session, f"{voices.LIBRARY}:{saved}"),
                w.voice_status: f"<div class='ll-ok'>Saved to the library as <b>{html.escape(saved)}</b>."
                                "</div>"}

    def refresh(self, voice_key: str, session: dict[str, Voice]) -> Any:
        return self._voice_dropdown(session, voice_key)


def take_status(metadata: dict[str, Any]) -> str:
    """Markdown for the status line: "Done." only for a take that passed; failed chunks (a warning listing
    them) and scene audio that stayed silent (a note) are said where the user looks."""
    from ..check.report import failure_lines

    lines = failure_lines(metadata.get("validation"), metadata.get("min_match_ratio"))
    notes = [n["reason"] for n in metadata.get("not_applied", []) if n.get("field") == "background_sfx"]
    parts = [f"**⚠ {lines[0].rstrip(':').replace('; the audio was written anyway', '')}** (the take is kept)"]\
        if lines else ["Done."]
    parts += [f"- {html.escape(ln.strip())}" for ln in lines[1:]]
    parts += [f"\n*Note: {html.escape(n)}*" for n in notes]
    return "\n".join(parts)
