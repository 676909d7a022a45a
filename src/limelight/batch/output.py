"""Committing a batch job's files: the audio in the chosen format and its metadata, each made durable and
then renamed into place, so a finished name always holds a whole file (a crash leaves only a ``*.batch.tmp``).

Rendering always goes to a temporary WAV first (the performer writes it chunk by chunk, so memory stays
bounded for a long chapter); FLAC and MP3 are transcoded from it in blocks with libsndfile. This is the one
place to swap for a shared output-format module.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import LimelightError

FORMATS = ("wav", "flac", "mp3")
TMP_SUFFIX = ".batch.tmp"
_SF = {"wav": ("WAV", "PCM_16"), "flac": ("FLAC", "PCM_16"), "mp3": ("MP3", "MPEG_LAYER_III")}


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise LimelightError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}", field="format")
    import soundfile as sf

    if fmt == "mp3" and "MP3" not in sf.available_formats():
        raise LimelightError("this libsndfile cannot write MP3 (it needs 1.1 or newer); use wav or flac",
                             field="format")
    return fmt


def temp_path(folder: Path, name: str) -> Path:
    """A temporary name beside the final one (same filesystem, so the rename is atomic)."""
    return folder / f".{name}.{os.getpid()}{TMP_SUFFIX}"


def remove_stale_temps(folder: Path) -> int:
    """Delete temporaries left by an interrupted run (call only while holding the folder's lock)."""
    n = 0
    for p in folder.glob(f".*{TMP_SUFFIX}"):
        p.unlink(missing_ok=True)
        n += 1
    return n


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Make renames in ``folder`` durable (a no-op where directories cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def encode(wav: Path, dest: Path, fmt: str) -> None:
    """Write ``wav`` (16-bit mono PCM) to ``dest`` in ``fmt``, block by block."""
    import soundfile as sf

    container, subtype = _SF[fmt]
    with sf.SoundFile(str(wav)) as src, sf.SoundFile(str(dest), "w", samplerate=src.samplerate,
                                                     channels=src.channels, format=container,
                                                     subtype=subtype) as dst:
        for block in src.blocks(blocksize=1 << 16, dtype="float32"):
            dst.write(block)


def commit_audio(rendered_wav: Path, final: Path, fmt: str) -> int:
    """Move a rendered temporary WAV to ``final`` in ``fmt`` (transcoding when needed); returns its size."""
    if fmt == "wav":
        src = rendered_wav
    else:
        src = temp_path(final.parent, final.name)
        try:
            encode(rendered_wav, src, fmt)
        finally:
            rendered_wav.unlink(missing_ok=True)
    _fsync_file(src)
    src.replace(final)
    return final.stat().st_size


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = temp_path(path.parent, path.name)
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, ensure_ascii=False, default=str)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def audio_frames(path: Path) -> int | None:
    """Frames in an audio file, or None when it cannot be opened (truncated, corrupt, missing)."""
    import soundfile as sf

    try:
        return int(sf.info(str(path)).frames)
    except (RuntimeError, OSError, sf.LibsndfileError):
        return None
