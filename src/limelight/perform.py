"""The Performer: a directed script in, a finished performance out.

The stages, in the order `Performer.perform` runs them (ARCHITECTURE.md maps each to its package and tests):

1. parse    ``script``  markup or plain text → `Script` (speakers, segments, scene)
2. cast     ``voice``   a `Voice` per speaker (named, library, cloned, designed, stock) — `cast_voices`
3. plan     ``plan``    time-ordered `PlanItem`s: ≤ 15 s `SpeechChunk`s with their `Direction` (``direct``),
                        pauses, events, sounds — `plan_script`
4. render   ``check``   each chunk spoken by the ``engine``, shaped by the direction DSP, checked by Whisper and
                        retried — `render_chunk`; events and pauses rendered beside it
5. mix      ``scene``   ambience, effects and room under the voice track — `mix_scene`
6. report               `Performance` (audio + metadata, DESIGN.md §2b)

`Performer.pieces` runs stages 1–4 and yields a `ChunkReport` per rendered piece as soon as it is ready; the
`Take` it returns then mixes and reports (stages 5–6). `perform`, `stream`, `perform_to_file`, the studio and
the server are all built on it.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from .audio.clip import load_clip
from .audio.loudness import fade_edges
from .audio.master import limit_true_peak
from .audio.wav import check_writable
from .check.asr import Transcriber, shared_transcriber
from .check.report import validation_summary
from .check.retry import render_chunk
from .direct import Direction, interpret
from .direct.prosody import apply_prosody
from .engine import Engine, load_engine
from .engine.piper import is_piper_spec, voice_engine
from .errors import LimelightError
from .limits import checkpoint
from .options import PerformOptions, perform_options
from .plan import EventItem, PlanItem, SceneItem, SilenceItem, SoundItem, SpeechChunk, mark_paragraphs, plan_script
from .plan.chunks import AudioItem, voice_tokens_per_second
from .plan.marks import mark_times
from .report import ChunkReport, NotApplied, Performance, direction_dict
from .script import EventSegment, Script, TextSegment, parse
from .text.inline import has_marks
from .text.language import check_speakable, resolve_languages
from .voice import Voice
from .voice.cast import cast_voices, design_preview_script

__all__ = ["ChunkReport", "Performance", "PerformOptions", "Performer", "Take"]

CHUNK_GAP_S = 0.3  # silence after a speech chunk that is not followed by a pause
SOUND_GAP_S = 0.8  # room left for a <sound> effect when effects are mixed
EVENT_FALLBACK_S = 0.4  # an event the engine cannot render becomes this much silence

Options = PerformOptions | Mapping[str, Any] | None


class Performer:
    """Loads the engine (and, lazily, Whisper) once; performances can then be made many times, from threads.

    Responsibilities: turn options into a validated `PerformOptions`; start a `Take` (parse, cast, plan);
    expose the take's pieces as a stream (`pieces`, `stream`), a file (`perform_to_file`) or a whole
    (`perform`); and show the plan without rendering it (`explain`). Per-performance state lives in the
    `Take`, never on the Performer, so concurrent calls do not interfere.
    """

    def __init__(self, engine: str = "kokoro", device: str = "cpu", model: str | None = None,
                 threads: int | None = None, decoder: str | None = None) -> None:
        self.engine: Engine = load_engine(engine, model=model, device=device, threads=threads, decoder=decoder)
        self.sample_rate: int = self.engine.sample_rate
        self._threads = threads
        self._transcriber: Transcriber | None = None
        self._lock = threading.Lock()

    @property
    def transcriber(self) -> Transcriber:
        """The Whisper model that validates chunks (loaded on first use, shared by the process)."""
        with self._lock:
            if self._transcriber is None:
                self._transcriber = shared_transcriber(threads=self._threads)
            return self._transcriber

    @transcriber.setter
    def transcriber(self, transcriber: Transcriber) -> None:
        """Use this Whisper instead of the process-wide one (e.g. one limited to fewer threads)."""
        with self._lock:
            self._transcriber = transcriber

    # ------------------------------------------------------------------------------------------ the stream
    def pieces(self, script: str | Script, options: Options = None, **kw: Any) -> Take:
        """Start a performance and return its `Take`: an iterator of `ChunkReport`, one per rendered piece.

        All input is validated here, before any audio is made (a `LimelightError` names the bad field).
        Options come as a `PerformOptions`, a mapping, keywords, or an object plus keyword overrides.
        """
        return Take(self, script, perform_options(options, **kw))

    def plan(self, script: str | Script, options: Options = None, **kw: Any) -> list[PlanItem]:
        """The plan of a performance (parse, cast, plan; nothing rendered)."""
        return self.pieces(script, options, **kw).plan

    # ------------------------------------------------------------------------------------- built on pieces
    def perform(self, script: str | Script, options: Options = None, **kw: Any) -> Performance:
        """Render a whole script (markup or plain text) and return it with its report."""
        take = self.pieces(script, options, **kw)
        return take.finish(_join([piece.audio for piece in take]))

    def stream(self, script: str | Script, options: Options = None, **kw: Any) -> Iterator[np.ndarray]:
        """Yield audio as each piece is finished. With a scene to mix, the mix needs the whole voice first, so
        the audio then comes at the end (in 1-second pieces)."""
        take = self.pieces(script, options, **kw)
        if take.needs_mix:
            audio = take.finish(_join([piece.audio for piece in take])).audio
            for i in range(0, len(audio), self.sample_rate):
                yield audio[i:i + self.sample_rate]
            return
        for piece in take:
            if piece.audio.size:
                yield piece.audio

    def perform_to_file(self, script: str | Script, path: str | os.PathLike[str],
                        progress: Callable[[int, int], None] | None = None, options: Options = None,
                        output: Any = None, **kw: Any) -> dict[str, Any]:
        """Write the performance to a file as pieces finish; memory stays bounded by one chunk.

        The format follows the extension (or ``output``, a `limelight.audio.output.OutputSpec` with a sample
        rate and channel count). If interrupted (Ctrl-C), the file written so far is closed properly and stays
        playable. ``progress(done, total)`` is called after each written piece (speech chunk, pause, event or
        sound gap). With a scene to mix, the whole voice track is rendered first (the mix needs all of it) and
        the file is written at the end.
        """
        from .audio.output import AudioWriter, output_spec

        spec = output or output_spec(path)
        out = check_writable(path)
        take = self.pieces(script, options, **kw)
        done = 0
        if take.needs_mix:
            voice: list[np.ndarray] = []
            for piece in take:
                voice.append(piece.audio)
                done += 1
                if progress:
                    progress(done, take.total)
            perf = take.finish(_join(voice))
            perf.write(out, spec)
            return perf.metadata
        samples = 0
        with AudioWriter(out, self.sample_rate, spec) as fh:
            for piece in take:
                fh.write(piece.audio)
                samples += piece.audio.size
                done += 1
                if progress:
                    progress(done, take.total)
        return take.metadata(samples)

    def explain(self, script: str | Script, options: Options = None, **kw: Any) -> list[dict[str, Any]]:
        """The plan as rows (what each segment will be, by whom, with which Direction) without synthesis."""
        take = self.pieces(script, options, **kw)
        rows: list[dict[str, Any]] = []
        for item in take.plan:
            if isinstance(item, SpeechChunk):
                rows.append({"kind": "speech", "where": f"{item.line}:{item.col}", "speaker": item.speaker_id,
                             "voice": take.voices[item.speaker_id].name, "text": item.text,
                             "language": item.language,
                             "language_source": take.language_sources.get((item.line, item.col)),
                             "est_s": item.est_s, "speed": round(item.speed, 3),
                             "direction": direction_dict(item.direction)})
            elif isinstance(item, SilenceItem):
                rows.append({"kind": "pause", "seconds": item.seconds, "reason": item.reason})
            elif isinstance(item, EventItem):
                rows.append({"kind": "event", "where": f"{item.line}:{item.col}", "event": item.event,
                             "speaker": item.speaker_id, "manner": item.manner})
            elif isinstance(item, SoundItem):
                rows.append({"kind": "sound", "where": f"{item.line}:{item.col}", "description": item.description})
            elif isinstance(item, SceneItem):
                rows.append({"kind": "scene", "scene": item.scene, "shot": item.shot})
        return rows


class Take(Iterator[ChunkReport]):
    """One performance: set up (parsed, cast, planned) on construction; iterate it to render its pieces.

    After the last piece, `finish` mixes the scene under the voice track and returns the `Performance`;
    `metadata` gives the report alone (for a voice track written elsewhere). A Take is used once, by one
    thread. ``plan``, ``voices``, ``seed``, ``total`` and ``needs_mix`` are known before any rendering.
    """

    def __init__(self, performer: Performer, source: str | Script, options: PerformOptions) -> None:
        self.started = time.perf_counter()
        self.performer = performer
        self.engine = performer.engine
        self.sample_rate = performer.sample_rate
        self.options = options
        self.not_applied: list[NotApplied] = []
        # 1. parse; each text segment's language: the script's word, then the option, then detection
        self.script = resolve_languages(_parse(source, options.local_audio), options.language)
        self.language_sources = {(s.line, s.col): s.language_source for s in self.script.text_segments()}
        piper_speakers = {sp.id for sp in self.script.speakers if is_piper_spec(sp.voice)}
        check_speakable(replace(self.script, segments=tuple(  # what the engine itself must speak
            s for s in self.script.segments if getattr(s, "speaker_id", None) not in piper_speakers)), self.engine)
        self.seed = options.seed if options.seed >= 0 else secrets.randbelow(2**31 - 1)
        self.rng = np.random.default_rng(self.seed)
        self.voices: dict[str, Voice] = cast_voices(self.script, options, self.engine, self.note)  # 2. cast
        for sid, voice in self.voices.items():  # a speaker with its own Piper voice speaks only its language
            own = voice_engine(voice)
            if own is not None:
                check_speakable(replace(self.script, segments=tuple(
                    s for s in self.script.segments if getattr(s, "speaker_id", None) == sid)), own)
        for note in self.script.notes:  # markup understood but not performed (SSML): reported, never dropped
            entry = note.as_dict()
            self.note(entry["field"], entry["reason"])
        self._apply_lexicons()
        if not self.engine.inline_marks and any(
                has_marks(s.text) for s in self.script.segments if isinstance(s, TextSegment)):
            self.note("emphasis", f"the {self.engine.name} engine phonemises by itself: emphasis, <phoneme> and "
                                  "lexicon pronunciations are not applied (respellings are)")
        if options.mode == "voice_design":
            self.script = design_preview_script(self.script)
        self.plan: list[PlanItem] = self._make_plan()                                 # 3. plan
        self.total = sum(1 for item in self.plan if not isinstance(item, SceneItem))  # pieces to come
        self.speech_total = sum(1 for item in self.plan if isinstance(item, SpeechChunk))
        self.needs_mix = bool(self.script.scene or any(isinstance(i, SoundItem) for i in self.plan))
        self.chunks: list[ChunkReport] = []  # the speech pieces rendered so far
        self.sounds: list[tuple[str, float]] = []  # (description, at_s) of each <sound>, for the mix
        self.scenes: list[dict[str, Any]] = []
        self.elapsed_samples = 0
        self._noted = 0  # how many of not_applied earlier pieces have carried
        self._pieces = self._render()

    def note(self, field: str, reason: str) -> None:
        """Record something asked for but not applied (once per field and reason)."""
        entry = {"field": field, "reason": reason}
        if entry not in self.not_applied:
            self.not_applied.append(entry)

    def __next__(self) -> ChunkReport:
        return next(self._pieces)

    def _apply_lexicons(self) -> None:
        """Pronunciation lexicons, before phonemisation: the library's (all voices, then the speaker's voice),
        with the request's on top (:mod:`limelight.text.lexicon`)."""
        from .text.lexicon import Lexicon, lexicon_from, voice_lexicon

        request = lexicon_from(self.options.lexicon)
        by_voice: dict[str, Lexicon | None] = {}

        def lexicon_of(speaker_id: str) -> Lexicon | None:
            name = self.voices[speaker_id].name
            if name not in by_voice:
                base = voice_lexicon(name)
                by_voice[name] = base.merged(request) if base is not None else request
            return by_voice[name]

        segments = []
        for seg in self.script.segments:
            lexicon = lexicon_of(seg.speaker_id) if isinstance(seg, TextSegment) else None
            segments.append(replace(seg, text=lexicon.apply(seg.text)) if lexicon is not None else seg)
        self.script = replace(self.script, segments=tuple(segments))

    # ------------------------------------------------------------------------------------------ 3. plan
    def _make_plan(self) -> list[PlanItem]:
        # Languages were resolved per segment in __init__ (the script's, the option, detection).
        return plan_script(self.script, count_tokens=lambda text, lang: len(self._tokens(text, lang)),
                           direction_for=self._direction, speed_for=self._speed,
                           rate_for=lambda seg: voice_tokens_per_second(self.voices[seg.speaker_id]))

    def _tokens(self, text: str, language: str) -> list[int] | str:
        try:
            phonemes = self.engine.phonemize(text, language)
        except LimelightError:  # a language only a speaker's own Piper voice speaks: estimate by characters
            return text
        return self.engine.tokens(phonemes)

    def _direction(self, seg: TextSegment) -> Direction:
        """The action's direction, with SSML ``<prosody>`` composed on top (:mod:`limelight.direct.prosody`).
        An SSML voice attribute names a voice, not a manner, so it is not read as a direction."""
        script = self.script
        description = script.speaker(seg.speaker_id).voice if script.source_is_markup and not script.ssml else None
        return apply_prosody(interpret(seg.action, description, seg.register), seg.prosody)

    def _speed(self, direction: Direction | None) -> float:
        """Engine speed: the user's speed × pace (1.5 is neutral; higher = slower) × the direction's tempo."""
        tempo = direction.speed if direction is not None else 1.0
        return float(np.clip(self.options.speed * (1.5 / self.options.pace) * tempo, 0.4, 2.5))

    # ---------------------------------------------------------------------------------------- 4. render
    def _render(self) -> Iterator[ChunkReport]:
        sr = self.sample_rate
        for i, item in enumerate(self.plan):
            if isinstance(item, SpeechChunk):
                piece = render_chunk(self.engine, item, self.voices[item.speaker_id], self.options, seed=self.seed,
                                     chunk_no=len(self.chunks), rng=self.rng, listen=self._listen)
                piece.language_source = self.language_sources.get((item.line, item.col))
                nxt = self.plan[i + 1] if i + 1 < len(self.plan) else None
                if nxt is not None and not isinstance(nxt, SilenceItem):
                    piece.audio = np.concatenate([piece.audio, np.zeros(int(CHUNK_GAP_S * sr), np.float32)])
                self.chunks.append(piece)
                yield self._placed(piece)
            elif isinstance(item, SilenceItem):
                yield self._placed(ChunkReport("pause", np.zeros(int(item.seconds * sr), np.float32), sr,
                                               duration_s=item.seconds, reason=item.reason))
            elif isinstance(item, EventItem):
                yield self._placed(self._event(item))
            elif isinstance(item, SoundItem):
                self.sounds.append((item.description, self.elapsed_samples / sr))
                gap = SOUND_GAP_S if self.options.background_sfx else CHUNK_GAP_S
                yield self._placed(ChunkReport("sound", np.zeros(int(gap * sr), np.float32), sr, duration_s=gap,
                                               text=item.description, line=item.line, col=item.col))
            elif isinstance(item, AudioItem):  # SSML <audio>: a local clip, levelled like speech
                clip = load_clip(item.path, sr)
                yield self._placed(ChunkReport("audio", clip, sr, duration_s=round(clip.size / sr, 3),
                                               text=item.path, line=item.line, col=item.col))
            elif isinstance(item, SceneItem):
                self.scenes.append({"scene": item.scene, "shot": item.shot,
                                    "at_s": round(self.elapsed_samples / sr, 3)})

    def _placed(self, piece: ChunkReport) -> ChunkReport:
        """Put ``piece`` on the timeline (its start) and hand it the notes raised while it was rendered."""
        # Every piece leaves through the true-peak limiter: direction DSP (a shout) and events can overshoot.
        audio = np.asarray(piece.audio, np.float32)
        piece.audio = limit_true_peak(audio, self.sample_rate) if np.any(audio) else audio
        start_s = self.elapsed_samples / self.sample_rate
        piece.start_s = round(start_s, 3)
        piece.words = [w.shifted(start_s) for w in piece.words]
        piece.not_applied = self.not_applied[self._noted:]
        self._noted = len(self.not_applied)
        self.elapsed_samples += piece.audio.size
        checkpoint(self.elapsed_samples / self.sample_rate)  # a front door's limits (limelight.limits), if any
        return piece

    def _event(self, item: EventItem) -> ChunkReport:
        sr = self.sample_rate
        if self.engine.style_voices:
            from .direct.events import render_event  # the DSP stages load on use (a plain say has none)

            audio = render_event(item.event, self.voices[item.speaker_id], sr, self.engine, self.rng,
                                 manner=item.manner)
            audio = fade_edges(np.asarray(audio, np.float32), sr)  # the renderer sets each event's level; keep it
        else:
            self.note("events", f"non-verbal events need an engine with style voices (not {self.engine.name}); "
                                "events became pauses")
            audio = np.zeros(int(EVENT_FALLBACK_S * sr), np.float32)
        return ChunkReport("event", audio, sr, duration_s=round(audio.size / sr, 3), speaker=item.speaker_id,
                           voice=self.voices[item.speaker_id].name, text=item.event, manner=item.manner,
                           line=item.line, col=item.col)

    def _listen(self, audio: np.ndarray, language: str) -> str:
        return self.performer.transcriber.transcribe(audio, self.sample_rate, language)

    # ------------------------------------------------------------------------------------ 5. mix, 6. report
    def finish(self, voice: np.ndarray) -> Performance:
        """Mix the scene under ``voice`` (the concatenated pieces) and return the Performance with its report."""
        audio, stems = self.mix(voice)
        return Performance(audio=audio, sample_rate=self.sample_rate, metadata=self.metadata(len(audio)),
                           stems=stems)

    def mix(self, voice: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
        """The scene (ambience, effects, room) mixed under the voice track, and its stems; the voice alone when
        the script has no scene and no sounds."""
        if not (self.script.scene or self.sounds):
            return voice, None
        if not self.options.background_sfx:
            self.note("background_sfx", scene_off_note(self.script.scene, len(self.sounds)))
        from .scene.mix import PlacedEffect, mix_scene

        effects = [PlacedEffect(description=d, at_s=t) for d, t in self.sounds]
        if self.scenes:
            self.note("scene", "scene changes inside one performance use the first scene's ambience")
        mixed = mix_scene(voice, self.sample_rate, self.script.scene, self.script.shot, effects,
                          self.options.background_sfx, self.seed)
        self.scenes.insert(0, {"report": mixed.report.as_dict()})
        stems = {"voice": mixed.voice, "ambience": mixed.ambience, "effects": mixed.effects}
        return limit_true_peak(np.asarray(mixed.mix, np.float32), self.sample_rate), stems

    def metadata(self, n_samples: int) -> dict[str, Any]:
        """The performance's report (DESIGN.md §2b) for ``n_samples`` of output."""
        ratios = [c.match_ratio for c in self.chunks if c.match_ratio is not None]
        rows = [c.as_dict() for c in self.chunks]
        return {
            "duration_s": round(n_samples / self.sample_rate, 3),
            "sample_rate": self.sample_rate,
            "processing_ms": int((time.perf_counter() - self.started) * 1000),
            "seed": self.seed,
            "engine": self.engine.name,
            "mode": self.options.mode,
            "voices": {sid: {"name": v.name, "source": v.source, "gender": v.gender} for sid, v in self.voices.items()},
            "chunks": rows,
            "min_match_ratio": self.options.min_match_ratio,
            "match_ratio": round(float(np.mean(ratios)), 4) if ratios else None,
            "sounds": [{"description": d, "at_s": round(t, 3)} for d, t in self.sounds],
            "scene": self.scenes[0].get("report") if self.scenes and "report" in self.scenes[0] else None,
            "validation": validation_summary(rows),
            "not_applied": self.not_applied,
            "languages": sorted({s.language for s in self.script.text_segments()}),
            "marks": mark_times(self.script, [c.as_dict() for c in self.chunks],  # SSML <mark>s in the audio
                                [w for c in self.chunks for w in c.words]),
            "words": [w.as_dict() for c in self.chunks for w in c.words],
        }


def scene_off_note(scene: str | None, sounds: int) -> str:
    """The one-line hint when a script has scene audio but background sound is off (it stays silent)."""
    what = " and ".join(p for p in (f"scene {scene!r}" if scene else "",
                                   f"{sounds} <sound> mark{'s' if sounds != 1 else ''}" if sounds else "") if p)
    return (f"the script has {what}, but background sound is off, so only its room is heard; "
            "turn on background_sfx (CLI: --background-sfx) to hear ambience and effects")


def _parse(source: str | Script, local_audio: bool = False) -> Script:
    """Stage 1: markup or plain text → Script (blank lines in plain text become paragraph pauses; SSML
    ``<audio>`` reads local files only when ``local_audio``)."""
    if isinstance(source, Script):
        script = source
    else:
        if not isinstance(source, str) or not source.strip():
            raise LimelightError("the script is empty", field="prompt")
        script = mark_paragraphs(source, parse(source, allow_audio_files=local_audio))
    if not any(ch.isalnum() for ch in script.plain_text()) and not any(
            isinstance(seg, EventSegment) for seg in script.segments):
        raise LimelightError("the script has nothing to speak (no letters, digits or events)", field="prompt")
    return script


def _join(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts).astype(np.float32, copy=False) if parts else np.zeros(0, np.float32)
