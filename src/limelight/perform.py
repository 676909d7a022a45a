"""The Performer: a directed script in, a finished performance out.

It runs the stages in order — ``script`` (parse) → ``voice`` (who) + ``direct`` (how) → ``plan`` (≤ 15 s chunks)
→ ``engine`` (speech) → direction DSP → ``check`` (Whisper match, retry) → ``scene`` (ambience, effects, room) —
and records what it did per chunk. `stream` yields audio as chunks finish; `perform` collects the same pieces;
`perform_to_file` writes them as they come (bounded memory, a playable file even after Ctrl-C).

Stages that are optional at run time (direction DSP, events, voice design/cloning, scene) are looked up once;
if one is missing the option is still validated and the metadata says it was *not applied*, never silently
ignored.
"""

from __future__ import annotations

import importlib
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, is_dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .audio.loudness import fade_edges, integrated_lufs, match_loudness
from .audio.master import limit_true_peak
from .check.report import validation_summary
from .engine import load_engine
from .errors import LimelightError
from .limits import checkpoint
from .plan import (
    CHUNK_MAX_S,
    EventItem,
    PlanItem,
    SceneItem,
    SilenceItem,
    SoundItem,
    SpeechChunk,
    mark_paragraphs,
    plan_script,
    split_clauses,
)
from .plan.chunks import CLAUSE_PAUSE_S, SENTENCE_PAUSE_S, voice_tokens_per_second
from .script import Script, TextSegment, parse
from .timing.words import SpokenWord, WordTiming, estimate_spoken_words, written_timings
from .voice import Voice, resolve_voice

CHUNK_GAP_S = 0.3
SOUND_GAP_S = 0.8
EVENT_FALLBACK_S = 0.4
MAX_ATTEMPTS = 3
RETRY_SPEED_STEPS = (0.93, 1.07)  # retries at natural tempo alternate a little slower / a little faster
MAX_FIT_SPEEDUP = 1.15  # a chunk rendered over CHUNK_MAX_S is re-rendered at most this much faster per step,
MAX_FIT_RENDERS = 3  # … and at most this many times
RETRY_STYLE_JITTER = 0.08  # std of the seeded style nudge on a retry, relative to the style row's spread
WHISPER_MATCH_FACTOR = 0.6  # whispered speech is harder for ASR; its bar is lowered and reported
MODES = ("generate", "voice_design")
DESIGN_PREVIEW_TEXT = ("Hello. This is a preview of the voice you described. I can speak calmly, or with feeling, "
                       "and I can tell a story from beginning to end.")


class _Stage:
    """A stage function (or class) imported on its first call.

    The optional stages pull in scipy.signal and friends (seconds of import on a small CPU); a plain ``limelight
    say`` never calls most of them, so a Performer only checks that their module exists when it is built."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name
        self._fn: Any = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._fn is None:
            self._fn = getattr(importlib.import_module(self.module), self.name)
        return self._fn(*args, **kwargs)


def _lazy(module: str, name: str) -> _Stage | None:
    """`_Stage` for ``module.name`` when the module is present in this build, else None (nothing imported)."""
    import importlib.util

    try:
        return _Stage(module, name) if importlib.util.find_spec(module) is not None else None
    except (ImportError, ValueError):
        return None


def _optional(module: str, name: str) -> Any | None:
    """A function from a stage that may not be installed in this build (None if absent)."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


@dataclass
class PerformOptions:
    """Every knob of a performance, validated once (names and defaults follow DESIGN.md §4)."""

    background_sfx: bool = False
    validate: bool = True
    seed: int = -1
    pace: float = 1.5
    reference: Any = None  # None | (audio, sr) | path | Voice
    language: str | None = None
    min_match_ratio: float = 0.90
    voice: str | Voice | None = None
    speed: float = 1.0
    skip_vc: bool = False
    vc_steps: int = 25
    vc_cfg_rate: float = 0.5
    mode: str = "generate"
    max_attempts: int = MAX_ATTEMPTS

    def __post_init__(self) -> None:
        checks: list[tuple[bool, str, str]] = [
            (0.5 <= self.pace <= 3.0, "pace", f"pace must be between 0.5 and 3.0, got {self.pace}"),
            (0.5 <= self.speed <= 2.0, "speed", f"speed must be between 0.5 and 2.0, got {self.speed}"),
            (0.0 <= self.min_match_ratio <= 1.0, "min_match_ratio",
             f"min_match_ratio must be between 0 and 1, got {self.min_match_ratio}"),
            (-1 <= self.seed <= 2**31 - 1, "seed", f"seed must be -1 (random) or 0..2147483647, got {self.seed}"),
            (1 <= self.vc_steps <= 200, "vc_steps", f"vc_steps must be between 1 and 200, got {self.vc_steps}"),
            (0.0 <= self.vc_cfg_rate <= 5.0, "vc_cfg_rate",
             f"vc_cfg_rate must be between 0 and 5, got {self.vc_cfg_rate}"),
            (self.mode in MODES, "mode", f"mode must be one of {', '.join(MODES)}, got {self.mode!r}"),
            (1 <= self.max_attempts <= 6, "max_attempts", "max_attempts must be between 1 and 6"),
        ]
        for ok, fld, message in checks:
            if not ok:
                raise LimelightError(message, field=fld)


@dataclass
class Performance:
    """The result: audio, its rate, and a report of what was done (see DESIGN.md §2b for the metadata keys)."""

    audio: np.ndarray
    sample_rate: int
    metadata: dict[str, Any]
    stems: dict[str, np.ndarray] | None = None

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sample_rate

    @property
    def words(self) -> list[WordTiming]:
        """Every written word with its start and end (seconds on this audio's timeline), speaker and chunk."""
        return [WordTiming.from_dict(w) for w in self.metadata.get("words", [])]

    def write(self, path: str | os.PathLike[str], spec: Any = None) -> Path:
        """Write the audio; the format follows the extension unless ``spec`` (an `OutputSpec`) is given."""
        from .audio.output import write_audio

        return write_audio(path, self.audio, self.sample_rate, spec)


@dataclass
class _Piece:
    """One rendered plan item on its way out: audio plus the report row for a speech chunk."""

    audio: np.ndarray
    chunk: dict[str, Any] | None = None
    sound: Any = None  # PlacedEffect-like (description, offset) for the scene mix


@dataclass
class _Run:
    """State of one performance (not shared between calls, so `perform` is safe to call from threads)."""

    script: Script
    options: PerformOptions
    seed: int
    rng: np.random.Generator
    voices: dict[str, Voice]
    directions: dict[int, Any] = field(default_factory=dict)
    not_applied: list[dict[str, str]] = field(default_factory=list)
    sounds: list[tuple[str, float]] = field(default_factory=list)
    chunks: list[dict[str, Any]] = field(default_factory=list)
    words: list[WordTiming] = field(default_factory=list)
    scenes: list[dict[str, Any]] = field(default_factory=list)
    elapsed_samples: int = 0
    items: list[PlanItem] | None = None  # the plan, made once per run (see Performer._plan)

    def skip(self, fld: str, reason: str) -> None:
        entry = {"field": fld, "reason": reason}
        if entry not in self.not_applied:
            self.not_applied.append(entry)


class Performer:
    """Loads the engine (and, lazily, Whisper) once; `perform` can then be called many times, from threads."""

    def __init__(self, engine: str = "kokoro", device: str = "cpu", model: str | None = None,
                 threads: int | None = None, decoder: str | None = None) -> None:
        self.engine = load_engine(engine, model=model, device=device, threads=threads, decoder=decoder)
        self.sample_rate: int = self.engine.sample_rate
        self._threads = threads
        self._transcriber: Any = None
        self._lock = threading.Lock()
        self._interpret = _optional("limelight.direct", "interpret")
        self._apply_direction = _lazy("limelight.direct.dsp", "apply_direction")
        self._render_event = _lazy("limelight.direct.events", "render_event")
        self._design_voice = _lazy("limelight.voice.design", "design_voice")
        self._clone_voice = _lazy("limelight.voice.clone", "clone_voice")
        self._load_reference = _lazy("limelight.voice.reference", "load_reference")
        self._library = _optional("limelight.voice.library", "VoiceLibrary")

    # ----------------------------------------------------------------------------------------- public API
    def perform(self, script: str | Script, **options: Any) -> Performance:
        """Render a whole script (markup or plain text) and return it with its report."""
        t0 = time.perf_counter()
        return self._perform_run(self._start(script, options), t0)

    def _perform_run(self, run: _Run, t0: float, progress: Callable[[int, int], None] | None = None) -> Performance:
        pieces: list[_Piece] = []
        total = self._piece_count(run)
        for piece in self._render(run):
            pieces.append(piece)
            if progress:
                progress(len(pieces), total)
        voice = np.concatenate([p.audio for p in pieces]) if pieces else np.zeros(0, np.float32)
        audio, stems = self._mix(run, voice)
        return Performance(audio=audio, sample_rate=self.sample_rate,
                           metadata=self._metadata(run, len(audio), t0), stems=stems)

    def stream(self, script: str | Script, **options: Any) -> Iterator[np.ndarray]:
        """Yield audio as each chunk is finished. With a scene to mix, the mix needs the whole voice first, so
        the audio then comes at the end (in 1-second pieces)."""
        run = self._start(script, options)
        if self._needs_mix(run):
            voice = np.concatenate([p.audio for p in self._render(run)] or [np.zeros(0, np.float32)])
            audio, _ = self._mix(run, voice)
            for i in range(0, len(audio), self.sample_rate):
                yield audio[i:i + self.sample_rate]
            return
        for piece in self._render(run):
            if piece.audio.size:
                yield piece.audio

    def perform_to_file(self, script: str | Script, path: str | os.PathLike[str],
                        progress: Callable[[int, int], None] | None = None, output: Any = None,
                        **options: Any) -> dict[str, Any]:
        """Write the performance to a file as chunks finish; memory stays bounded by one chunk.

        The format follows the extension (or ``output``, an `limelight.audio.output.OutputSpec` with a sample
        rate and channel count). If interrupted (Ctrl-C), the file written so far is closed properly and stays
        playable. ``progress(done, total)`` is called after each written piece (speech chunk, pause, event or
        sound gap). With a scene to mix, the whole voice track is rendered first (the mix needs all of it) and
        the file is written at the end.
        """
        from .audio.output import AudioWriter, output_spec
        from .audio.wav import check_writable

        spec = output or output_spec(path)
        out = check_writable(path)
        t0 = time.perf_counter()
        run = self._start(script, options)
        if self._needs_mix(run):  # reuse this run: set-up (seed, cloning, design) happens once
            perf = self._perform_run(run, t0, progress)
            perf.write(out, spec)
            return perf.metadata
        total = self._piece_count(run)
        done = 0
        with AudioWriter(out, self.sample_rate, spec) as fh:
            for piece in self._render(run):
                fh.write(piece.audio)
                done += 1
                if progress:
                    progress(done, total)
        return self._metadata(run, run.elapsed_samples, t0)

    def explain(self, script: str | Script, **options: Any) -> list[dict[str, Any]]:
        """The plan as rows (what each segment will be, by whom, with which Direction) without synthesis."""
        run = self._start(script, options)
        rows: list[dict[str, Any]] = []
        for item in self._plan(run):
            if isinstance(item, SpeechChunk):
                d = item.direction
                rows.append({"kind": "speech", "where": f"{item.line}:{item.col}", "speaker": item.speaker_id,
                             "voice": run.voices[item.speaker_id].name, "text": item.text,
                             "est_s": item.est_s, "speed": round(item.speed, 3),
                             "direction": _direction_dict(d)})
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

    @property
    def transcriber(self) -> Any:
        with self._lock:
            if self._transcriber is None:
                from .check.asr import shared_transcriber

                self._transcriber = shared_transcriber(threads=self._threads)
            return self._transcriber

    # ------------------------------------------------------------------------------------------ set-up
    def _start(self, source: str | Script, raw_options: dict[str, Any]) -> _Run:
        unknown = set(raw_options) - {f for f in PerformOptions.__dataclass_fields__}
        if unknown:
            raise LimelightError(f"unknown option {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
        options = PerformOptions(**raw_options)
        if isinstance(source, Script):
            script = source
        else:
            if not isinstance(source, str) or not source.strip():
                raise LimelightError("the script is empty", field="prompt")
            script = mark_paragraphs(source, parse(source))  # blank lines in plain text: paragraph pauses
        if not any(ch.isalnum() for ch in script.plain_text()) and not any(
                type(seg).__name__ == "EventSegment" for seg in script.segments):
            raise LimelightError("the script has nothing to speak (no letters, digits or events)", field="prompt")
        if options.language:
            from .text.phonemes import espeak_voice

            espeak_voice(options.language)  # validates, listing supported codes
        seed = options.seed if options.seed >= 0 else secrets.randbelow(2**31 - 1)
        run = _Run(script=script, options=options, seed=seed, rng=np.random.default_rng(seed), voices={})
        run.voices = self._cast(run)
        if options.mode == "voice_design":
            run.script = self._design_preview_script(run)
        return run

    def _design_preview_script(self, run: _Run) -> Script:
        """voice_design mode: the described voice reads a ~15 s preview instead of the script's words."""
        first = run.script.speakers[0]
        preview = TextSegment(text=DESIGN_PREVIEW_TEXT, speaker_id=first.id, action=None, register=None,
                              language=first.language, line=1, col=1)
        return replace(run.script, segments=(preview,), speakers=(first,))

    def _cast(self, run: _Run) -> dict[str, Voice]:
        """Pick a Voice for every speaker: explicit option → known name → clone → design → gender default."""
        opts = run.options
        available = dict(self.engine.voices())
        if self._library is not None and self.engine.name == "kokoro":
            try:
                available.update({v.name: v for v in self._library().list()})
            except Exception:  # a broken user library must not stop a performance  # noqa: BLE001
                run.skip("voice", "the voice library could not be read")
        cloned = self._clone(run, available) if opts.reference is not None else None
        voices: dict[str, Voice] = {}
        for i, speaker in enumerate(run.script.speakers):
            if cloned is not None and i == 0:
                from .voice.gender import gender_conflict

                conflict = gender_conflict(cloned, speaker.gender)  # never silently: reported, script's gender kept
                if conflict:
                    run.skip("gender", conflict)
                    cloned = replace(cloned, gender=speaker.gender)
                voices[speaker.id] = cloned
            elif opts.voice is not None:
                spec = opts.voice
                if isinstance(spec, str) and self.engine.name == "kokoro":  # words that name no voice: design one
                    from .voice.option import voice_option

                    spec = voice_option(spec, speaker.gender, available)
                voices[speaker.id] = resolve_voice(spec, available, self.engine.default_voice)
            elif speaker.voice and speaker.voice.strip() in available:
                voices[speaker.id] = available[speaker.voice.strip()]
            elif speaker.voice and self._design_voice is not None and self.engine.name == "kokoro":
                voices[speaker.id] = self._design_voice(speaker.voice, speaker.gender)
            else:
                if speaker.voice:
                    run.skip("voice", "voice design is not available in this build; a stock voice of the "
                                      "requested gender was used")
                voices[speaker.id] = self._stock_voice(speaker.gender, available)
        return voices

    def _stock_voice(self, gender: str | None, available: dict[str, Voice]) -> Voice:
        """The clearest shipped voice of the asked gender (by measured English WER), else the default."""
        from .voice.shipped import GENDER_DEFAULTS

        default = available[self.engine.default_voice]
        if gender is None or default.gender == gender:
            return default
        name = GENDER_DEFAULTS.get(gender)
        if name in available:
            return available[name]
        same = [v for v in self.engine.voices().values() if v.gender == gender]
        return same[0] if same else default

    def _clone(self, run: _Run, available: dict[str, Voice]) -> Voice | None:
        opts = run.options
        ref = opts.reference
        if isinstance(ref, Voice):
            return ref
        if opts.skip_vc:
            run.skip("reference_voice_url", "skip_vc is set: the reference was checked but its identity not used")
            return None
        if self._clone_voice is None or self.engine.name != "kokoro":
            run.skip("reference_voice_url", "voice cloning is not available in this build")
            return None
        if isinstance(ref, (str, os.PathLike)):
            if self._load_reference is None:
                raise LimelightError("cannot read reference audio files in this build", field="reference")
            audio, sr = self._load_reference(ref)
        else:
            audio, sr = ref
        return self._clone_voice(np.asarray(audio, np.float32), int(sr), "reference", engine=self.engine)

    # --------------------------------------------------------------------------------------- planning
    def _direction(self, run: _Run, seg: TextSegment) -> Any:
        if self._interpret is None:
            if seg.action or seg.register:
                run.skip("action", "the direction stage is not available in this build")
            return None
        speaker = run.script.speaker(seg.speaker_id)
        description = speaker.voice if run.script.source_is_markup else None
        return self._interpret(seg.action, description, seg.register)

    def _speed(self, run: _Run, direction: Any) -> float:
        """Engine speed: the user's speed × pace (1.5 is neutral; higher = slower) × the direction's tempo."""
        tempo = float(getattr(direction, "speed", 1.0) or 1.0)
        return float(np.clip(run.options.speed * (1.5 / run.options.pace) * tempo, 0.4, 2.5))

    def _plan(self, run: _Run) -> list[PlanItem]:
        """The run's plan, made on first use and kept (planning phonemises the whole text)."""
        if run.items is None:
            run.items = self._make_plan(run)
        return run.items

    def _make_plan(self, run: _Run) -> list[PlanItem]:
        language = run.options.language

        def count(text: str, lang: str) -> int:
            return len(self._tokens(text, language or lang))

        def direction_for(seg: TextSegment) -> Any:
            return self._direction(run, seg)

        script = run.script
        if language:
            script = replace(script, segments=tuple(replace(s, language=language) if isinstance(s, TextSegment)
                                                    else s for s in script.segments))
        return plan_script(script, count_tokens=count, direction_for=direction_for,
                           speed_for=lambda d: self._speed(run, d),
                           rate_for=lambda seg: voice_tokens_per_second(run.voices[seg.speaker_id]))

    def _tokens(self, text: str, language: str) -> list[int] | str:
        phonemes = self.engine.phonemize(text, language)
        tokens = getattr(self.engine, "tokens", None)
        return tokens(phonemes) if tokens else phonemes

    # -------------------------------------------------------------------------------------- rendering
    def _render(self, run: _Run) -> Iterator[_Piece]:
        items = self._plan(run)
        for i, item in enumerate(items):
            if isinstance(item, SpeechChunk):
                audio, report = self._speak(run, item)
                start_s = run.elapsed_samples / self.sample_rate
                report["start_s"] = round(start_s, 3)
                words = written_timings(item.written, report.pop("spoken_words"), offset_s=start_s,
                                        speaker=item.speaker_id, chunk=item.index)
                report["words"] = [w.as_dict() for w in words]
                run.words.extend(words)
                run.chunks.append(report)
                nxt = items[i + 1] if i + 1 < len(items) else None
                if nxt is not None and not isinstance(nxt, SilenceItem):
                    audio = np.concatenate([audio, np.zeros(int(CHUNK_GAP_S * self.sample_rate), np.float32)])
                yield self._emit(run, audio, report)
            elif isinstance(item, SilenceItem):
                yield self._emit(run, np.zeros(int(item.seconds * self.sample_rate), np.float32))
            elif isinstance(item, EventItem):
                yield self._emit(run, self._event(run, item))
            elif isinstance(item, SoundItem):
                run.sounds.append((item.description, run.elapsed_samples / self.sample_rate))
                gap = SOUND_GAP_S if run.options.background_sfx else CHUNK_GAP_S
                yield self._emit(run, np.zeros(int(gap * self.sample_rate), np.float32))
            elif isinstance(item, SceneItem):
                run.scenes.append({"scene": item.scene, "shot": item.shot,
                                   "at_s": round(run.elapsed_samples / self.sample_rate, 3)})

    def _piece_count(self, run: _Run) -> int:
        """How many pieces `_render` yields for this run (every plan item but scene changes)."""
        return sum(1 for item in self._plan(run) if not isinstance(item, SceneItem))

    def _emit(self, run: _Run, audio: np.ndarray, report: dict[str, Any] | None = None) -> _Piece:
        # Every piece leaves through the true-peak limiter: direction DSP (a shout) and events can overshoot.
        audio = limit_true_peak(np.asarray(audio, np.float32), self.sample_rate) if np.any(audio) else \
            np.asarray(audio, np.float32)
        run.elapsed_samples += audio.size
        checkpoint(run.elapsed_samples / self.sample_rate)  # a front door's limits (limelight.limits), if any
        return _Piece(audio=audio, chunk=report)

    def _event(self, run: _Run, item: EventItem) -> np.ndarray:
        if self._render_event is None and item.event in ("pause", "long_pause"):
            return np.zeros(int((1.5 if item.event == "long_pause" else 0.6) * self.sample_rate), np.float32)
        if self._render_event is None or self.engine.name != "kokoro":
            run.skip("events", "non-verbal event rendering is not available in this build; events became pauses")
            return np.zeros(int(EVENT_FALLBACK_S * self.sample_rate), np.float32)
        audio = self._render_event(item.event, run.voices[item.speaker_id], self.sample_rate, self.engine, run.rng,
                                   manner=item.manner)
        # The renderer sets each event's level (a soft cough, a loud scream); keep it.
        return fade_edges(np.asarray(audio, np.float32), self.sample_rate)

    def _synthesize(self, chunk: SpeechChunk, voice: Voice, speed: float, by_clause: bool = False,
                    pitch: float = 0.0) -> tuple[np.ndarray, list[SpokenWord]]:
        """The chunk's sentences, each rendered alone and joined with ``SENTENCE_PAUSE_S``; ``by_clause`` renders
        every clause alone instead (joined with the shorter ``CLAUSE_PAUSE_S`` inside a sentence). The words come
        timed relative to the returned audio (from the engine's durations, or estimated when it has none)."""
        gap = np.zeros(int(SENTENCE_PAUSE_S * self.sample_rate), np.float32)
        clause_gap = np.zeros(int(CLAUSE_PAUSE_S * self.sample_rate), np.float32)
        parts: list[np.ndarray] = []
        words: list[SpokenWord] = []
        offset = 0
        for sentence in chunk.sentences:
            if parts:
                parts.append(gap)
                offset += gap.size
            for j, piece in enumerate(split_clauses(sentence) if by_clause else [sentence]):
                if j:
                    parts.append(clause_gap)
                    offset += clause_gap.size
                extra = {"pitch": pitch} if pitch else {}
                audio, timed = self._timed(piece, voice, speed, chunk.language, extra)
                words.extend(w.shifted(offset / self.sample_rate) for w in timed)
                parts.append(audio)
                offset += audio.size
        return (np.concatenate(parts) if parts else np.zeros(0, np.float32)), words

    def _timed(self, text: str, voice: Voice, speed: float, language: str,
               extra: dict[str, float]) -> tuple[np.ndarray, list[SpokenWord]]:
        """One piece of text with its words timed: exact from an engine that reports durations, else an
        estimate over the audio's length (marked ``estimated``)."""
        timed = getattr(self.engine, "synthesize_timed", None)
        if timed is not None:
            return timed(text, voice, speed=speed, language=language, **extra)
        audio = self.engine.synthesize(text, voice, speed=speed, language=language, **extra)
        return audio, estimate_spoken_words(text, audio.size / self.sample_rate)

    def _speak(self, run: _Run, chunk: SpeechChunk) -> tuple[np.ndarray, dict[str, Any]]:
        """Render one chunk, validate it with Whisper, and retry with variations when it is garbled."""
        opts = run.options
        voice = run.voices[chunk.speaker_id]
        direction = chunk.direction
        # An engine that takes F0 as an input (the fast decoder) shifts pitch exactly; the DSP then skips it.
        pitch = float(getattr(direction, "pitch_shift", 0.0) or 0.0)
        if pitch and getattr(self.engine, "native_pitch", False):
            direction = replace(direction, pitch_shift=0.0)
        else:
            pitch = 0.0
        whisper = getattr(direction, "register", "normal") == "whisper"
        bar = opts.min_match_ratio * (WHISPER_MATCH_FACTOR if whisper else 1.0)
        best: tuple[tuple[bool, float], float, np.ndarray, str, list[SpokenWord]] | None = None
        attempts = 0
        ratios: list[float] = []
        variations: list[dict[str, Any]] = []
        clauses = sum(len(split_clauses(s)) for s in chunk.sentences)
        max_attempts = opts.max_attempts if opts.validate else 1
        for attempt in range(max_attempts):
            attempts = attempt + 1
            # The last retry renders clause by clause, when there is more than one clause per sentence somewhere.
            by_clause = attempt > 0 and attempt == max_attempts - 1 and clauses > len(chunk.sentences)
            v, speed = self._variation(run, voice, chunk.speed, attempt)
            raw, words = self._synthesize(chunk, v, speed, by_clause=by_clause, pitch=pitch)
            for _ in range(MAX_FIT_RENDERS):  # the estimate was short: speak a little faster, keep the 15 s bound
                if raw.size <= CHUNK_MAX_S * self.sample_rate:
                    break
                # Duration shrinks slower than 1/speed (pauses, per-phoneme minimum lengths): overshoot the ratio.
                over = raw.size / ((CHUNK_MAX_S - 0.3) * self.sample_rate)
                speed *= min(MAX_FIT_SPEEDUP, over ** 1.5)
                raw, words = self._synthesize(chunk, v, speed, by_clause=by_clause, pitch=pitch)
            audio = match_loudness(raw, self.sample_rate)
            variations.append({"speed": round(speed, 4), "style_jitter": RETRY_STYLE_JITTER if attempt else 0.0,
                               "split": "clause" if by_clause else "sentence"})
            audio = self._directed(run, audio, direction)
            if not opts.validate:
                best = ((True, 0.0), float("nan"), audio, "", words)
                break
            from .check.wer import match_ratio

            heard = self.transcriber.transcribe(audio, self.sample_rate, chunk.language)
            ratio = match_ratio(chunk.text, heard, chunk.language)
            ratios.append(round(ratio, 4))
            # Keep the best attempt; one within the 15 s bound beats a longer one (a slower retry runs longer).
            key = (len(audio) <= CHUNK_MAX_S * self.sample_rate, ratio)
            if best is None or key > best[0]:
                best = (key, ratio, audio, heard, words)
            if ratio >= bar:
                break
        assert best is not None
        _key, ratio, audio, heard, words = best
        audio = fade_edges(audio, self.sample_rate)
        report = {
            "index": chunk.index, "text": chunk.text, "written": chunk.written, "speaker": chunk.speaker_id,
            "voice": voice.name, "language": chunk.language, "duration_s": round(len(audio) / self.sample_rate, 3),
            "est_duration_s": chunk.est_s, "match_ratio": None if np.isnan(ratio) else round(ratio, 4),
            "attempts": attempts, "attempt_ratios": ratios, "attempt_variations": variations, "transcript": heard,
            "passed": None if np.isnan(ratio) else bool(ratio >= bar),
            "loudness_lufs": round(integrated_lufs(audio, self.sample_rate), 2),
            "direction": _direction_dict(chunk.direction), "pitch_in_engine": bool(pitch),
            "line": chunk.line, "col": chunk.col,
            "spoken_words": words,
        }
        return audio, report

    def _variation(self, run: _Run, voice: Voice, speed: float, attempt: int) -> tuple[Voice, float]:
        """Attempt 0 is the plain rendering; every retry differs from it and from the other retries.

        Tempo: garbling is most often over-fast or over-slow speech, so a tempo far from the voice's natural 1.0
        moves halfway, then all the way, back to it; a tempo at (or already moved to) 1.0 alternates a little
        slower and a little faster (``RETRY_SPEED_STEPS``). Style: the voice's style table gets a seeded nudge
        (``RETRY_STYLE_JITTER`` × each dimension's spread), different for every attempt and chunk.
        """
        if attempt == 0:
            return voice, speed
        rng = np.random.default_rng([run.seed, attempt, len(run.chunks)])
        spread = voice.style.std(axis=0)
        jitter = rng.normal(0.0, RETRY_STYLE_JITTER, size=voice.style.shape[1]).astype(np.float32) * spread
        varied = replace(voice, style=(voice.style + jitter).astype(np.float32), name=voice.name)
        steps = 2 if abs(speed - 1.0) > 0.1 else 0  # attempts spent moving toward 1.0
        if attempt <= steps:
            return varied, float(speed + (1.0 - speed) * 0.5 * attempt)
        base = 1.0 if steps else speed
        return varied, float(base * RETRY_SPEED_STEPS[(attempt - steps - 1) % len(RETRY_SPEED_STEPS)])

    def _directed(self, run: _Run, audio: np.ndarray, direction: Any) -> np.ndarray:
        if direction is None or getattr(direction, "is_neutral", True):
            return audio
        if self._apply_direction is None:
            run.skip("action", "direction DSP is not available in this build; only tempo was applied")
            return audio
        return np.asarray(self._apply_direction(audio, self.sample_rate, direction, run.rng), np.float32)

    # ------------------------------------------------------------------------------------------ mixing
    def _needs_mix(self, run: _Run) -> bool:
        return bool(run.script.scene or run.scenes or any(isinstance(s, SoundItem) for s in self._plan(run))
                    ) and _optional("limelight.scene.mix", "mix_scene") is not None  # the plan is cached

    def _mix(self, run: _Run, voice: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
        mix_scene = _optional("limelight.scene.mix", "mix_scene")
        has_scene = bool(run.script.scene or run.sounds)
        if not has_scene:
            return voice, None
        if mix_scene is None:
            run.skip("background_sfx", "the scene stage is not available in this build")
            return voice, None
        if not run.options.background_sfx:
            run.skip("background_sfx", scene_off_note(run.script.scene, len(run.sounds)))
        placed_cls = _optional("limelight.scene.mix", "PlacedEffect")
        effects = [placed_cls(description=d, at_s=t) for d, t in run.sounds]
        if len(run.scenes) > 0:
            run.skip("scene", "scene changes inside one performance use the first scene's ambience")
        mixed = mix_scene(voice, self.sample_rate, run.script.scene, run.script.shot, effects,
                          run.options.background_sfx, run.seed)
        run.scenes.insert(0, {"report": mixed.report.as_dict()})
        stems = {"voice": mixed.voice, "ambience": mixed.ambience, "effects": mixed.effects}
        return limit_true_peak(np.asarray(mixed.mix, np.float32), self.sample_rate), stems

    def _metadata(self, run: _Run, n_samples: int, t0: float) -> dict[str, Any]:
        ratios = [c["match_ratio"] for c in run.chunks if c["match_ratio"] is not None]
        return {
            "duration_s": round(n_samples / self.sample_rate, 3),
            "sample_rate": self.sample_rate,
            "processing_ms": int((time.perf_counter() - t0) * 1000),
            "seed": run.seed,
            "engine": self.engine.name,
            "mode": run.options.mode,
            "voices": {sid: {"name": v.name, "source": v.source, "gender": v.gender} for sid, v in run.voices.items()},
            "chunks": run.chunks,
            "min_match_ratio": run.options.min_match_ratio,
            "match_ratio": round(float(np.mean(ratios)), 4) if ratios else None,
            "sounds": [{"description": d, "at_s": round(t, 3)} for d, t in run.sounds],
            "scene": run.scenes[0].get("report") if run.scenes and "report" in run.scenes[0] else None,
            "validation": validation_summary(run.chunks),
            "not_applied": run.not_applied,
            "words": [w.as_dict() for w in run.words],
        }


def scene_off_note(scene: str | None, sounds: int) -> str:
    """The one-line hint when a script has scene audio but background sound is off (it stays silent)."""
    what = " and ".join(p for p in (f"scene {scene!r}" if scene else "",
                                   f"{sounds} <sound> mark{'s' if sounds != 1 else ''}" if sounds else "") if p)
    return (f"the script has {what}, but background sound is off, so only its room is heard; "
            "turn on background_sfx (CLI: --background-sfx) to hear ambience and effects")


def _direction_dict(direction: Any) -> dict[str, Any] | None:
    if direction is None:
        return None
    if hasattr(direction, "as_dict"):
        return dict(direction.as_dict())
    if is_dataclass(direction):
        return asdict(direction)
    return {"value": str(direction)}
