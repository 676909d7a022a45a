"""Writing and encoding audio.

WAV files are written to a temporary name and renamed into place, so an interrupted run never leaves a
truncated file under the name the user asked for. Output errors become `LimelightError`s naming the path.
"""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import numpy as np
import soundfile as sf

from ..errors import LimelightError


def to_pcm16(audio: np.ndarray) -> np.ndarray:
    return (np.clip(np.asarray(audio, np.float32), -1.0, 1.0) * 32767.0).round().astype(np.int16)


def write_wav(path: str | os.PathLike[str], audio: np.ndarray, sr: int) -> Path:
    """Write mono 16-bit PCM atomically; a clear error if the place is not writable."""
    out = check_writable(path)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        sf.write(str(tmp), to_pcm16(audio), sr, subtype="PCM_16", format="WAV")
        tmp.replace(out)
    except OSError as exc:
        raise LimelightError(f"cannot write {out}: {exc.strerror or exc}", field="output") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return out


def wav_bytes(audio: np.ndarray, sr: int) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, to_pcm16(audio), sr, subtype="PCM_16", format="WAV")
    return buf.getvalue()


def wav_base64(audio: np.ndarray, sr: int) -> str:
    return base64.b64encode(wav_bytes(audio, sr)).decode("ascii")


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Fail before synthesis (not after minutes of work) when the output cannot be written."""
    out = Path(path).expanduser()
    if out.is_dir():
        raise LimelightError(f"output path {out} is a directory", field="output")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise LimelightError(f"cannot write {out}: folder {parent} does not exist", field="output")
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise LimelightError(f"cannot write {out}: permission denied", field="output")
    return out
