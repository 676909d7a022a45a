"""Output files: the format from the file's extension, an optional sample rate and channel count.

Every path that writes audio (CLI ``-o``, ``Limelight.infer(path=…)``, ``Performance.write``, ``POST
/generate``) goes through :func:`output_spec` and :class:`AudioWriter`, so ``out.mp3`` is an MP3 (libsndfile
≥ 1.1 encodes MPEG layer III), ``out.flac`` a FLAC, ``out.ogg`` Ogg Vorbis, ``out.opus`` Ogg Opus and
``out.wav`` (or no extension) 16-bit PCM. An unknown extension is refused before any synthesis. Mono speech is
duplicated into both channels for ``channels=2`` (what video editors and Scenema's 48 kHz stereo masters expect).

Files are written under a temporary name and renamed into place, so an interrupted run never leaves a
truncated file under the asked name (Ctrl-C closes and renames what was written so far: it stays playable).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from math import gcd
from pathlib import Path
from types import TracebackType
from typing import IO

import numpy as np
import soundfile as sf

from ..errors import LimelightError
from .wav import check_writable

# name → (libsndfile container, subtype, media type)
FORMATS: dict[str, tuple[str, str, str]] = {
    "wav": ("WAV", "PCM_16", "audio/wav"),
    "flac": ("FLAC", "PCM_16", "audio/flac"),
    "ogg": ("OGG", "VORBIS", "audio/ogg"),
    "opus": ("OGG", "OPUS", "audio/ogg"),
    "mp3": ("MP3", "MPEG_LAYER_III", "audio/mpeg"),
}
EXTENSIONS = {".wav": "wav", ".wave": "wav", ".flac": "flac", ".ogg": "ogg", ".oga": "ogg", ".opus": "opus",
              ".mp3": "mp3"}
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
MIN_RATE, MAX_RATE = 8000, 192_000


@dataclass(frozen=True)
class OutputSpec:
    """What to write: a format name (a key of FORMATS), a sample rate (None = the engine's) and channels."""

    format: str = "wav"
    sample_rate: int | None = None
    channels: int = 1

    @property
    def media_type(self) -> str:
        return FORMATS[self.format][2]

    def rate_for(self, sr: int) -> int:
        """The rate the file is written at for engine rate ``sr``: the asked one, or the nearest the codec takes."""
        if self.sample_rate is not None:
            return self.sample_rate
        if self.format == "opus" and sr not in OPUS_RATES:
            return 48_000
        if self.format == "mp3" and sr not in MP3_RATES:
            return 48_000
        return sr


def output_spec(path: str | os.PathLike[str] | None = None, sample_rate: int | None = None, channels: int = 1,
                format: str | None = None) -> OutputSpec:
    """Validate the output options; the format comes from ``format`` or else ``path``'s extension."""
    if format is None:
        suffix = (Path(path).suffix.lower() if path is not None else "") or ".wav"  # no extension: WAV, as ever
        if suffix not in EXTENSIONS:
            known = ", ".join(sorted(EXTENSIONS))
            raise LimelightError(f"cannot choose an audio format for {path}: extension {suffix!r}; use one of {known}",
                                 field="output")
        format = EXTENSIONS[suffix]
    fmt = format.strip().lower()
    if fmt not in FORMATS:
        raise LimelightError(f"unknown output format {format!r}; use one of {', '.join(FORMATS)}", field="format")
    if channels not in (1, 2):
        raise LimelightError(f"channels must be 1 or 2, got {channels}", field="channels")
    if sample_rate is not None:
        if not MIN_RATE <= int(sample_rate) <= MAX_RATE:
            raise LimelightError(f"sample rate must be between {MIN_RATE} and {MAX_RATE} Hz, got {sample_rate}",
                                 field="sample_rate")
        allowed = {"opus": OPUS_RATES, "mp3": MP3_RATES}.get(fmt)
        if allowed and int(sample_rate) not in allowed:
            raise LimelightError(f"{fmt} cannot be written at {sample_rate} Hz; use one of "
                                 f"{', '.join(map(str, allowed))}", field="sample_rate")
        sample_rate = int(sample_rate)
    return OutputSpec(format=fmt, sample_rate=sample_rate, channels=channels)


def resample(audio: np.ndarray, sr: int, target: int) -> np.ndarray:
    """Polyphase resampling (exact ratio); a no-op at the same rate."""
    x = np.asarray(audio, np.float32)
    if sr == target or x.size == 0:
        return x
    from scipy.signal import resample_poly  # imported only when a rate changes (seconds of CLI start-up)

    g = gcd(sr, target)
    return resample_poly(x, target // g, sr // g).astype(np.float32)


def convert(audio: np.ndarray, sr: int, spec: OutputSpec) -> np.ndarray:
    """Mono float32 at ``sr`` → the spec's rate and channels, clipped to full scale (float, frames × channels)."""
    x = np.clip(resample(np.asarray(audio, np.float32).reshape(-1), sr, spec.rate_for(sr)), -1.0, 1.0)
    return np.repeat(x[:, None], spec.channels, axis=1) if spec.channels > 1 else x


class AudioWriter:
    """Write a file piece by piece (bounded memory) in the spec's format; atomic rename on close.

    Pieces are resampled one at a time; limelight's pieces start and end faded to silence, so the resampler's
    edges fall on zeros and the joins are inaudible.
    """

    def __init__(self, path: str | os.PathLike[str] | IO[bytes], sr: int, spec: OutputSpec) -> None:
        self.sr = sr
        self.spec = spec
        self.rate = spec.rate_for(sr)
        self.frames = 0
        container, subtype, _ = FORMATS[spec.format]
        if isinstance(path, (str, os.PathLike)):
            self.path: Path | None = check_writable(path)
            self._tmp: Path | None = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            target: str | IO[bytes] = str(self._tmp)
        else:
            self.path = self._tmp = None
            target = path
        try:
            self._file = sf.SoundFile(target, "w", samplerate=self.rate, channels=spec.channels, format=container,
                                      subtype=subtype)
        except (OSError, sf.LibsndfileError) as exc:
            raise LimelightError(f"cannot write {self.path or 'audio'}: {exc}", field="output") from None

    def write(self, audio: np.ndarray) -> None:
        data = convert(audio, self.sr, self.spec)
        if data.shape[0]:
            self._file.write(data)
            self.frames += data.shape[0]

    def close(self, keep: bool = True) -> Path | None:
        """Finish the file; with ``keep`` (the default) move it to its name, else delete it."""
        try:
            self._file.close()
            if self._tmp is not None and self.path is not None:
                if keep:
                    self._tmp.replace(self.path)
                return self.path
            return None
        except OSError as exc:
            raise LimelightError(f"cannot write {self.path}: {exc.strerror or exc}", field="output") from None
        finally:
            if self._tmp is not None and self._tmp.exists():
                self._tmp.unlink()

    def __enter__(self) -> AudioWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        # Ctrl-C keeps what was written (playable); any other failure leaves no half file behind.
        self.close(keep=kind is None or issubclass(kind, KeyboardInterrupt))


def write_audio(path: str | os.PathLike[str], audio: np.ndarray, sr: int, spec: OutputSpec | None = None) -> Path:
    """Write mono float audio to ``path`` in the format its extension names (or ``spec``'s)."""
    spec = spec or output_spec(path)
    with AudioWriter(path, sr, spec) as writer:
        writer.write(audio)
    assert writer.path is not None
    return writer.path


def encode_audio(audio: np.ndarray, sr: int, spec: OutputSpec) -> bytes:
    """The whole file as bytes (for HTTP responses)."""
    buf = io.BytesIO()
    writer = AudioWriter(buf, sr, spec)
    writer.write(audio)
    writer.close()
    return buf.getvalue()
