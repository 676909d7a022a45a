"""Render one speech chunk, check it with Whisper, and retry it differently when it is garbled.

`render_chunk` is the loop the Performer runs per chunk: synthesise (sentence by sentence) → keep it under
the 15 s bound (re-render a little faster when the estimate was short) → even loudness → the Direction's DSP →
transcribe and compare words → up to ``max_attempts`` tries, each a different `variation`, keeping the best.
Its result is the chunk's `ChunkReport` (without its place on the timeline, which the Performer sets), its
written words timed relative to the chunk's start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from ..audio.loudness import fade_edges, integrated_lufs, match_loudness
from ..engine.base import Engine
from ..engine.piper import voice_engine
from ..options import PerformOptions
from ..plan import CHUNK_MAX_S, SpeechChunk, split_clauses
from ..plan.chunks import CLAUSE_PAUSE_S, SENTENCE_PAUSE_S
from ..report import ChunkReport
from ..text.inline import spoken
from ..timing.words import SpokenWord, estimate_spoken_words, written_timings
from ..voice import Voice
from .wer import match_ratio

RETRY_SPEED_STEPS = (0.93, 1.07)  # retries at natural tempo alternate a little slower / a little faster
MAX_FIT_SPEEDUP = 1.15  # a chunk rendered over CHUNK_MAX_S is re-rendered at most this much faster per step,
MAX_FIT_RENDERS = 3  # … and at most this many times
RETRY_STYLE_JITTER = 0.08  # std of the seeded style nudge on a retry, relative to the style row's spread
WHISPER_MATCH_FACTOR = 0.6  # whispered speech is harder for ASR; its bar is lowered and reported

#: ``listen(audio, language) -> transcript`` at the engine's sample rate (Whisper in the Performer).
Listen = Callable[[np.ndarray, str], str]


def synthesize_chunk(engine: Engine, chunk: SpeechChunk, voice: Voice, speed: float, by_clause: bool = False,
                     pitch: float = 0.0) -> tuple[np.ndarray, list[SpokenWord]]:
    """The chunk's sentences, each rendered alone and joined with ``SENTENCE_PAUSE_S``; ``by_clause`` renders
    every clause alone instead (joined with the shorter ``CLAUSE_PAUSE_S`` inside a sentence). The words come
    timed relative to the returned audio (from the engine's durations, or estimated when it has none)."""
    sr = engine.sample_rate
    gap = np.zeros(int(SENTENCE_PAUSE_S * sr), np.float32)
    clause_gap = np.zeros(int(CLAUSE_PAUSE_S * sr), np.float32)
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
            own = voice_engine(voice)
            if not (own or engine).inline_marks:  # an engine that phonemises by itself hears plain words
                piece = spoken(piece)
            audio, timed = _speak(engine, piece, voice, speed, chunk.language, pitch)
            words.extend(w.shifted(offset / sr) for w in timed)
            parts.append(audio)
            offset += audio.size
    return (np.concatenate(parts) if parts else np.zeros(0, np.float32)), words


def _speak(engine: Engine, text: str, voice: Voice, speed: float, language: str,
           pitch: float) -> tuple[np.ndarray, list[SpokenWord]]:
    """One piece by ``engine``, or by the speaker's own Piper voice (at its own rate, brought to the engine's;
    its words estimated over the audio, as Piper reports no durations)."""
    own = voice_engine(voice)
    if own is None:
        return engine.synthesize_timed(text, voice, speed=speed, language=language, pitch=pitch)
    audio = _resample(own.synthesize(text, voice, speed=speed, language=language), own.sample_rate,
                      engine.sample_rate)
    return audio, estimate_spoken_words(text, audio.size / engine.sample_rate)


def _resample(audio: np.ndarray, sr: int, target: int) -> np.ndarray:
    if sr == target:
        return audio
    from scipy.signal import resample_poly

    g = int(np.gcd(sr, target))
    return resample_poly(audio, target // g, sr // g).astype(np.float32)


def variation(voice: Voice, speed: float, attempt: int, seed: int, chunk_no: int) -> tuple[Voice, float]:
    """The voice and tempo of attempt ``attempt`` (0 is the plain rendering; every retry differs from it and
    from the other retries; ``seed`` and ``chunk_no`` make the nudges reproducible per chunk).

    Tempo: garbling is most often over-fast or over-slow speech, so a tempo far from the voice's natural 1.0
    moves halfway, then all the way, back to it; a tempo at (or already moved to) 1.0 alternates a little
    slower and a little faster (``RETRY_SPEED_STEPS``). Style: the voice's style table gets a seeded nudge
    (``RETRY_STYLE_JITTER`` × each dimension's spread), different for every attempt and chunk.
    """
    if attempt == 0:
        return voice, speed
    rng = np.random.default_rng([seed, attempt, chunk_no])
    spread = voice.style.std(axis=0)
    jitter = rng.normal(0.0, RETRY_STYLE_JITTER, size=voice.style.shape[1]).astype(np.float32) * spread
    varied = replace(voice, style=(voice.style + jitter).astype(np.float32), name=voice.name)
    steps = 2 if abs(speed - 1.0) > 0.1 else 0  # attempts spent moving toward 1.0
    if attempt <= steps:
        return varied, float(speed + (1.0 - speed) * 0.5 * attempt)
    base = 1.0 if steps else speed
    return varied, float(base * RETRY_SPEED_STEPS[(attempt - steps - 1) % len(RETRY_SPEED_STEPS)])


def render_chunk(engine: Engine, chunk: SpeechChunk, voice: Voice, options: PerformOptions, *, seed: int,
                 chunk_no: int = 0, rng: np.random.Generator | None = None,
                 listen: Listen | None = None) -> ChunkReport:
    """Render ``chunk`` with ``voice``, validate it (when ``options.validate``) and retry; the best attempt wins.

    ``seed``/``chunk_no`` seed the retries' variations; ``rng`` drives the direction DSP's randomness (the
    Performer passes one per performance); ``listen`` transcribes an attempt (needed when validating).

    Attempts within the 15 s bound beat longer ones, then the higher word match; the loop stops at the first
    attempt that reaches ``options.min_match_ratio`` (lowered by `WHISPER_MATCH_FACTOR` for whispered speech).
    The last retry renders clause by clause when some sentence has more than one clause.
    """
    if options.validate and listen is None:
        raise ValueError("render_chunk validates with listen(audio, language); none was given")
    sr = engine.sample_rate
    rng = rng if rng is not None else np.random.default_rng(seed)
    direction = chunk.direction
    # An engine that takes F0 as an input (the fast decoder) shifts pitch exactly; the DSP then skips it.
    pitch = direction.pitch_shift if direction is not None else 0.0
    if pitch and engine.native_pitch and direction is not None and voice_engine(voice) is None:
        direction = replace(direction, pitch_shift=0.0)
    else:
        pitch = 0.0
    whisper = direction is not None and direction.register == "whisper"
    bar = options.min_match_ratio * (WHISPER_MATCH_FACTOR if whisper else 1.0)
    best: tuple[tuple[bool, float], float, np.ndarray, str, list[SpokenWord]] | None = None
    ratios: list[float] = []
    variations: list[dict[str, Any]] = []
    clauses = sum(len(split_clauses(s)) for s in chunk.sentences)
    max_attempts = options.max_attempts if options.validate else 1
    attempts = 0
    for attempt in range(max_attempts):
        attempts = attempt + 1
        by_clause = attempt > 0 and attempt == max_attempts - 1 and clauses > len(chunk.sentences)
        v, speed = variation(voice, chunk.speed, attempt, seed, chunk_no)
        raw, words = synthesize_chunk(engine, chunk, v, speed, by_clause=by_clause, pitch=pitch)
        for _ in range(MAX_FIT_RENDERS):  # the estimate was short: speak a little faster, keep the 15 s bound
            if raw.size <= CHUNK_MAX_S * sr:
                break
            # Duration shrinks slower than 1/speed (pauses, per-phoneme minimum lengths): overshoot the ratio.
            over = raw.size / ((CHUNK_MAX_S - 0.3) * sr)
            speed *= min(MAX_FIT_SPEEDUP, over ** 1.5)
            raw, words = synthesize_chunk(engine, chunk, v, speed, by_clause=by_clause, pitch=pitch)
        audio = match_loudness(raw, sr)
        variations.append({"speed": round(speed, 4), "style_jitter": RETRY_STYLE_JITTER if attempt else 0.0,
                           "split": "clause" if by_clause else "sentence"})
        if direction is not None and not direction.is_neutral:
            from ..direct.dsp import apply_direction  # loaded when a direction needs it (scipy.signal)

            audio = np.asarray(apply_direction(audio, sr, direction, rng), np.float32)
        if not options.validate:
            best = ((True, 0.0), float("nan"), audio, "", words)
            break
        assert listen is not None
        heard = listen(audio, chunk.language)
        ratio = match_ratio(chunk.text, heard, chunk.language)
        ratios.append(round(ratio, 4))
        key = (len(audio) <= CHUNK_MAX_S * sr, ratio)
        if best is None or key > best[0]:
            best = (key, ratio, audio, heard, words)
        if ratio >= bar:
            break
    assert best is not None
    _key, ratio, audio, heard, words = best
    audio = fade_edges(audio, sr)
    checked = not np.isnan(ratio)
    return ChunkReport(
        kind="speech", audio=audio, sample_rate=sr, duration_s=round(len(audio) / sr, 3), index=chunk.index,
        speaker=chunk.speaker_id, voice=voice.name, text=chunk.text, written=chunk.written,
        language=chunk.language, direction=chunk.direction, line=chunk.line, col=chunk.col,
        est_duration_s=chunk.est_s, match_ratio=round(ratio, 4) if checked else None,
        passed=bool(ratio >= bar) if checked else None, attempts=attempts, attempt_ratios=ratios,
        attempt_variations=variations, transcript=heard, loudness_lufs=round(integrated_lufs(audio, sr), 2),
        pitch_in_engine=bool(pitch),
        words=written_timings(chunk.written, words, speaker=chunk.speaker_id, chunk=chunk.index))
