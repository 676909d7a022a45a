"""Audio response formats for the OpenAI-compatible endpoint, encoded with soundfile (libsndfile).

Supported: ``wav`` (16-bit PCM), ``mp3``, ``flac``, ``opus`` (in Ogg), ``pcm`` (raw 16-bit little-endian mono
at 24 kHz, as OpenAI's ``pcm``). ``aac`` is not: libsndfile has no AAC encoder. Streaming (chunked) works for
``pcm``, ``wav`` (header with open-ended sizes, as live WAV streams use), ``opus`` (Ogg pages are written
as they fill) and ``mp3``. libsndfile's MP3 encoder leaves its first (Xing/Info) frame zeroed until it
rewrites it on close; decoders without that frame estimate the length from the first frame's bitrate, which
is right only for a constant bitrate, so a streamed mp3 is encoded at a constant bitrate (a whole-file mp3
keeps the smaller variable one). ``flac`` rewrites its STREAMINFO at the end and is refused for streaming
instead of sent broken.
"""

from __future__ import annotations

import io
import struct
from math import gcd

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from ..audio.wav import to_pcm16

FORMATS: dict[str, tuple[str, str | None, str]] = {  # name → (libsndfile format, subtype, media type)
    "wav": ("WAV", "PCM_16", "audio/wav"),
    "mp3": ("MP3", "MPEG_LAYER_III", "audio/mpeg"),
    "flac": ("FLAC", "PCM_16", "audio/flac"),
    "opus": ("OGG", "OPUS", "audio/ogg"),
    "pcm": ("RAW", "PCM_16", "audio/pcm"),
}
STREAMABLE = ("pcm", "wav", "opus", "mp3")
UNSUPPORTED = {"aac": "libsndfile has no AAC encoder"}
PCM_RATE = 24_000
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


def media_type(fmt: str) -> str:
    return FORMATS[fmt][2]


def output_rate(fmt: str, sr: int) -> int:
    """The rate a format is sent at: pcm is always 24 kHz (clients assume it); Opus only takes a few rates."""
    if fmt == "pcm":
        return PCM_RATE
    if fmt == "opus" and sr not in OPUS_RATES:
        return 48_000
    return sr


def resample(audio: np.ndarray, sr: int, target: int) -> np.ndarray:
    if sr == target:
        return np.asarray(audio, np.float32)
    g = gcd(sr, target)
    return resample_poly(np.asarray(audio, np.float32), target // g, sr // g).astype(np.float32)


def encode(audio: np.ndarray, sr: int, fmt: str) -> bytes:
    """Whole-file encoding of float32 mono audio."""
    rate = output_rate(fmt, sr)
    audio = resample(audio, sr, rate)
    if fmt == "pcm":
        return to_pcm16(audio).astype("<i2").tobytes()
    container, subtype, _ = FORMATS[fmt]
    buf = io.BytesIO()
    data = to_pcm16(audio) if subtype == "PCM_16" else np.clip(audio, -1.0, 1.0)
    sf.write(buf, data, rate, format=container, subtype=subtype)
    return buf.getvalue()


def streaming_wav_header(sr: int) -> bytes:
    """A WAV header whose RIFF and data sizes say "until the end of the stream" (0xFFFFFFFF)."""
    return (b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + b"fmt " +
            struct.pack("<IHHIIHH", 16, 1, 1, sr, sr * 2, 2, 16) + b"data" + struct.pack("<I", 0xFFFFFFFF))


class _Sink(io.RawIOBase):
    """A seekable in-memory file that hands out only bytes appended since the last `take`."""

    def __init__(self) -> None:
        super().__init__()
        self._buf = bytearray()
        self._pos = 0
        self._sent = 0

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        data = bytes(data)
        end = self._pos + len(data)
        if end > len(self._buf):
            self._buf.extend(b"\0" * (end - len(self._buf)))
        self._buf[self._pos:end] = data
        self._pos = end
        return len(data)

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        n = max(0, min(len(b), len(self._buf) - self._pos))
        b[:n] = self._buf[self._pos:self._pos + n]
        self._pos += n
        return n

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._buf)}[whence]
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def take(self) -> bytes:
        out = bytes(self._buf[self._sent:])
        self._sent = len(self._buf)
        return out


class StreamEncoder:
    """Encodes audio pieces as they arrive; the concatenated output is one valid file of the format."""

    def __init__(self, fmt: str, sr: int) -> None:
        if fmt not in STREAMABLE:
            raise ValueError(f"{fmt} cannot be streamed")
        self.fmt = fmt
        self.sr = sr
        self.rate = output_rate(fmt, sr)
        self._sink: _Sink | None = None
        self._file: sf.SoundFile | None = None
        self._started = False

    def _start(self) -> bytes:
        self._started = True
        if self.fmt == "wav":
            return streaming_wav_header(self.rate)
        if self.fmt == "opus":
            self._sink = _Sink()
            self._file = sf.SoundFile(self._sink, "w", self.rate, 1, format="OGG", subtype="OPUS")
        if self.fmt == "mp3":
            self._sink = _Sink()
            self._file = sf.SoundFile(self._sink, "w", self.rate, 1, format="MP3", subtype="MPEG_LAYER_III",
                                      bitrate_mode="CONSTANT", compression_level=0.6)
        return b""

    def encode(self, audio: np.ndarray) -> bytes:
        head = b"" if self._started else self._start()
        audio = resample(audio, self.sr, self.rate)
        if self._file is not None and self._sink is not None:
            self._file.write(np.clip(audio, -1.0, 1.0))
            return head + self._sink.take()
        return head + to_pcm16(audio).astype("<i2").tobytes()

    def finish(self) -> bytes:
        head = b"" if self._started else self._start()
        if self._file is not None and self._sink is not None:
            self._file.close()
            return head + self._sink.take()
        return head
