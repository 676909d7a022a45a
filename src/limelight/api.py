"""`Limelight`: plain text in, speech out — the small API most users start with.

A thin facade over a `Performer` (one engine load, shared with it: ``tts.performer`` performs scripts with the
same models). Text is normalised, split into sentences, and each sentence is synthesised on its own; sentences
are joined with the planner's sentence pause. Each sentence leaves through `limelight.audio.master` (loudness
to -20 LUFS, true peak under -1 dBTP), the same finishing stage the Performer's pieces go through, so the API
never clips. `infer_stream` yields exactly the pieces `infer` concatenates, so
streamed and offline audio are the same samples (the Kokoro engine is deterministic). Voices are the
Performer's: shipped plus the user's library (`available_voices`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from .audio.master import master
from .audio.output import output_spec, write_audio
from .audio.wav import check_writable
from .engine import Engine
from .errors import LimelightError
from .perform import Performer
from .plan.chunks import SENTENCE_PAUSE_S
from .text.normalize import normalize
from .text.sentences import split_sentences
from .voice import Voice, resolve_voice
from .voice.cast import available_voices


class Limelight:
    """Text-to-speech with one engine loaded once.

    >>> tts = Limelight()                       # Kokoro int8 on the CPU, shipped default voice
    >>> audio = tts.infer("Hello there.")        # float32 mono at tts.sample_rate
    """

    def __init__(self, engine: str = "kokoro", device: str = "cpu", model: str | None = None,
                 threads: int | None = None, decoder: str | None = None, performer: Performer | None = None) -> None:
        """Load the engine (or use ``performer``'s, so a Limelight and a Performer share one set of models)."""
        self.performer = performer or Performer(engine=engine, device=device, model=model, threads=threads,
                                                decoder=decoder)
        self.engine: Engine = self.performer.engine
        self.sample_rate: int = self.performer.sample_rate

    def voices(self) -> dict[str, Voice]:
        """Shipped voices plus the user's saved library voices (for engines that speak style tables)."""
        return available_voices(self.engine)

    def voice(self, spec: str | Voice | None = None) -> Voice:
        """Resolve a voice name, blend (``"a:0.7,b:0.3"``) or `Voice` against this engine's voices; with Kokoro,
        words that name no voice ("A deep old man, slow") design one (`limelight.voice.option`)."""
        available = self.voices()
        if isinstance(spec, str) and self.engine.style_voices:
            from .voice.option import voice_option

            spec = voice_option(spec, None, available)
        return resolve_voice(spec, available, self.engine.default_voice)

    def sentences(self, text: str, language: str | None = None) -> list[str]:
        """The normalised sentences `infer` will speak, in order."""
        if not isinstance(text, str) or not text.strip():
            raise LimelightError("text is empty", field="text")
        sentences = split_sentences(normalize(text, language or _detect(text)))
        if not any(ch.isalnum() for s in sentences for ch in s):
            raise LimelightError("text has nothing to speak (no letters or digits)", field="text")
        return sentences

    def infer(self, text: str, path: str | os.PathLike[str] | None = None, voice: str | Voice | None = None,
              speed: float = 1.0, language: str | None = None, sample_rate: int | None = None,
              channels: int = 1) -> np.ndarray:
        """Speak ``text``; returns float32 mono audio at ``self.sample_rate`` and also writes a file when ``path``
        is given: its format from the extension (wav, flac, ogg, opus, mp3), at ``sample_rate`` (default the
        engine's) with ``channels`` (1 or 2)."""
        spec = None
        if path is not None:
            check_writable(path)
            spec = output_spec(path, sample_rate=sample_rate, channels=channels)
        audio = np.concatenate(list(self.infer_stream(text, voice=voice, speed=speed, language=language)))
        if path is not None:
            write_audio(path, audio, self.sample_rate, spec)
        return audio

    def infer_stream(self, text: str, chunk_size: int = 1, voice: str | Voice | None = None, speed: float = 1.0,
                     language: str | None = None) -> Iterator[np.ndarray]:
        """Yield audio as it is made: ``chunk_size`` sentences per chunk (1 = lowest first-audio latency).

        The chunks concatenate to exactly what `infer` returns: the pause after each sentence is part of the
        chunk that holds it, and nothing is yielded after the last sentence.
        """
        if chunk_size < 1:
            raise LimelightError("chunk_size must be at least 1", field="chunk_size")
        v = self.voice(voice)
        if language is None and isinstance(text, str) and text.strip():
            language = _detect(text)  # no language given: the text's own (see limelight.text.language)
        sentences = self.sentences(text, language)
        gap = np.zeros(int(SENTENCE_PAUSE_S * self.sample_rate), np.float32)
        pending: list[np.ndarray] = []
        for i, sentence in enumerate(sentences):
            pending.append(master(self.engine.synthesize(sentence, v, speed=speed, language=language),
                                  self.sample_rate))
            if i < len(sentences) - 1:
                pending.append(gap)
            if (i + 1) % chunk_size == 0 or i == len(sentences) - 1:
                yield np.concatenate(pending)
                pending = []

    def infer_batch(self, texts: Iterable[str], out_dir: str | os.PathLike[str] | None = None,
                    voice: str | Voice | None = None, speed: float = 1.0, language: str | None = None,
                    format: str = "wav", sample_rate: int | None = None, channels: int = 1) -> list[np.ndarray]:
        """Speak several texts; with ``out_dir``, also write ``0000.wav``, ``0001.wav``, … (or ``format``) there."""
        output_spec(format=format, sample_rate=sample_rate, channels=channels)  # refuse bad options before work
        items = list(texts)
        folder = Path(out_dir) if out_dir is not None else None
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        results = []
        for i, text in enumerate(items):
            path = folder / f"{i:04d}.{format}" if folder is not None else None
            results.append(self.infer(text, path=path, voice=voice, speed=speed, language=language,
                                      sample_rate=sample_rate, channels=channels))
        return results


def _detect(text: str) -> str:
    from .text.language import detect_languages

    return detect_languages([text])[0]
