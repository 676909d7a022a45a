"""The user's voice library: named voices saved on disk (``$LIMELIGHT_HOME/voices`` or ~/.local/share).

The library is a small database kept as plain files, so a user can still copy a voice to another machine or
delete it by hand:

* **One file per voice**, ``NAME.voice`` (NumPy ``.npz`` inside: the 510×256 float32 style table and the JSON
  record — gender, language, description, source, meta, colour, pitch). One file means one rename commits a
  voice: a reader sees the old voice or the new one, never a table from one save beside metadata from another.
* **Atomic and durable saves**: each save writes a temp file with a unique name (``.NAME.<random>.tmp``),
  fsyncs it, renames it over ``NAME.voice`` and fsyncs the folder. A crash (kill -9, power loss) at any point
  leaves either the previous voice or the new one, plus perhaps a stale temp, which the next
  :meth:`VoiceLibrary.clean_stale_temps` removes (the server does so at start-up).
* **Per-name locking**: saves and deletes of one name are serialised by an advisory ``flock`` on
  ``.NAME.lock``, across threads and processes; two different names never wait for each other.
* **Damage stays local**: a file that cannot be read (truncated, zero bytes, wrong shape, bad JSON) is
  reported by :meth:`VoiceLibrary.entries` with its error, refused by :meth:`load` with a message naming it,
  skipped by :meth:`list`, and can be deleted; every other voice keeps working.
* **An index, not a reload**: decoded voices are cached per folder and re-read only when a file's (inode,
  size, mtime) changes, so listing 300 voices costs 300 ``stat`` calls, not 300 file reads.

Voices saved by older versions as ``NAME.npy`` + ``NAME.json`` are still read (and replaced by ``NAME.voice``
on the next save of that name). Names are restricted to a safe alphabet (no path separators, no leading dot)
so a name can never point outside the library, and nothing is overwritten unless the caller says ``force``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import VoiceError
from .voice import Voice

try:  # advisory file locks (POSIX); elsewhere a per-process lock stands in
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
SUFFIX = ".voice"
TEMP_SUFFIX = ".tmp"
log = logging.getLogger("limelight.voice.library")


class VoiceExists(VoiceError):
    """A save without ``force`` found a voice of that name already saved (HTTP 409)."""

    code = "voice_exists"
    http_status = 409


class VoiceDamaged(VoiceError):
    """A saved voice whose file cannot be read; it can still be deleted."""

    code = "voice_damaged"


def default_root() -> Path:
    """``$LIMELIGHT_HOME/voices`` when set, else ``$XDG_DATA_HOME/limelight/voices`` (~/.local/share/…)."""
    home = os.environ.get("LIMELIGHT_HOME")
    if home:
        return Path(home).expanduser() / "voices"
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(data) / "limelight" / "voices"


def valid_name(name: object) -> bool:
    """True for 1–64 letters, digits, '_', '-' or '.', starting with a letter or digit; the whole string (a
    trailing newline is not allowed, which ``re.match(...$)`` would have let through)."""
    return (isinstance(name, str) and NAME_RE.fullmatch(name) is not None and ".." not in name
            and not name.endswith((".json", ".npy", SUFFIX, TEMP_SUFFIX, ".lock")))


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid library name, else raise `VoiceError` saying what is allowed."""
    if not valid_name(name):
        raise VoiceError(f"invalid voice name {name!r}: use 1–64 letters, digits, '_', '-' or '.', starting "
                         "with a letter or digit (no slashes)", field="name")
    return name


def _jsonable(value: object) -> object:
    """Metadata as JSON: numpy scalars/arrays to lists, tuples to lists, unknown objects to strings."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


@dataclass(frozen=True)
class LibraryEntry:
    """One saved name: its voice, or why it cannot be read (``error``)."""

    name: str
    voice: Voice | None
    error: str | None = None


# ------------------------------------------------------------------------------------------- the index
_StatKey = tuple[int, int, int]  # (inode, size, mtime_ns) of every file a voice is read from


class _Index:
    """Decoded voices of one folder, re-read only when their files change. Shared by every `VoiceLibrary`
    on that folder in this process (the server, the performer and the CLI all build their own instances)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[str, tuple[tuple[_StatKey, ...], LibraryEntry]] = {}


_INDEXES: dict[str, _Index] = {}
_INDEXES_LOCK = threading.Lock()


def _index_for(root: Path) -> _Index:
    key = os.path.abspath(root)
    with _INDEXES_LOCK:
        return _INDEXES.setdefault(key, _Index())


def _stat_key(st: os.stat_result) -> _StatKey:
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform/filesystem can fsync a directory
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class VoiceLibrary:
    """Save, load, list and delete named voices in one folder."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_root()

    # ------------------------------------------------------------------------------------------ paths
    def _path(self, name: str) -> Path:
        return self.root / f"{check_name(name)}{SUFFIX}"

    def _legacy(self, name: str) -> tuple[Path, Path]:
        check_name(name)
        return self.root / f"{name}.npy", self.root / f"{name}.json"

    def _files(self, name: str) -> list[Path]:
        """The files ``name`` is read from now: ``NAME.voice``, else the legacy pair (either part present)."""
        path = self._path(name)
        if path.is_file():
            return [path]
        return [p for p in self._legacy(name) if p.is_file()]

    def exists(self, name: str) -> bool:
        return bool(self._files(name))

    def _scan(self) -> dict[str, list[Path]]:
        """Every saved name and its files, from one directory listing."""
        if not self.root.is_dir():
            return {}
        current: dict[str, list[Path]] = {}
        legacy: dict[str, list[Path]] = {}
        with os.scandir(self.root) as it:
            for entry in it:
                name, dot, ext = entry.name.rpartition(".")
                if not dot or not valid_name(name) or not entry.is_file():
                    continue
                if f".{ext}" == SUFFIX:
                    current[name] = [Path(entry.path)]
                elif ext in ("npy", "json"):
                    legacy.setdefault(name, []).append(Path(entry.path))
        for name, paths in legacy.items():
            current.setdefault(name, sorted(paths))
        return current

    def names(self) -> list[str]:
        """Every saved name, readable or damaged (a damaged voice is listed so it can be deleted)."""
        return sorted(self._scan())

    # ---------------------------------------------------------------------------------------- reading
    def entries(self) -> list[LibraryEntry]:
        """Every saved voice, decoded through the index; a damaged one carries its error instead of a voice."""
        index = _index_for(self.root)
        found = self._scan()
        out: list[LibraryEntry] = []
        with index.lock:
            for gone in set(index.entries) - set(found):
                del index.entries[gone]
        for name in sorted(found):
            out.append(self._entry(name, found[name], index))
        return out

    def _entry(self, name: str, files: list[Path], index: _Index) -> LibraryEntry:
        try:
            key = tuple(_stat_key(p.stat()) for p in files)
        except OSError as exc:  # removed between the listing and now
            return LibraryEntry(name, None, f"cannot read: {exc.strerror or exc}")
        with index.lock:
            cached = index.entries.get(name)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            entry = LibraryEntry(name, self._read(name, files))
        except VoiceDamaged as exc:
            log.warning("voice %r in %s is damaged: %s", name, self.root, exc.message)
            entry = LibraryEntry(name, None, exc.message)
        with index.lock:
            index.entries[name] = (key, entry)
        return entry

    def _read(self, name: str, files: list[Path]) -> Voice:
        """Decode one voice from its files; any failure is `VoiceDamaged` naming what is wrong."""
        try:
            with warnings.catch_warnings():  # a corrupt .npy header is parsed as a literal: silence its warnings
                warnings.simplefilter("ignore")
                return self._decode(name, files)
        except VoiceDamaged:
            raise
        except Exception as exc:  # noqa: BLE001 - truncated zips, bad JSON, wrong shapes: all mean "damaged"
            detail = str(exc) or type(exc).__name__
            raise VoiceDamaged(f"{type(exc).__name__}: {detail}"[:300], field="voice") from None

    def _decode(self, name: str, files: list[Path]) -> Voice:
        """Read one voice's files; raises on anything unreadable (`_read` turns that into `VoiceDamaged`)."""
        if len(files) == 1 and files[0].suffix == SUFFIX:
            with np.load(files[0], allow_pickle=False) as data:
                style = np.asarray(data["style"], np.float32)
                record = json.loads(bytes(np.asarray(data["record"], np.uint8)).decode("utf-8"))
        else:
            table, meta = self._legacy(name)
            if not table.is_file() or not meta.is_file():
                missing = table.name if not table.is_file() else meta.name
                raise VoiceDamaged(f"{missing} is missing", field="voice")
            record = json.loads(meta.read_text(encoding="utf-8"))
            style = np.load(table, allow_pickle=False)
        if not isinstance(record, dict):
            raise VoiceDamaged("its record is not a JSON object", field="voice")
        colour = record.get("colour") or []
        pitch = record.get("pitch") or 0.0
        if not isinstance(colour, list):
            raise VoiceDamaged("'colour' is not a list", field="voice")
        if not isinstance(pitch, (int, float)) or isinstance(pitch, bool):
            raise VoiceDamaged("'pitch' is not a number", field="voice")
        meta_dict = record.get("meta") or {}
        return Voice(name=name, style=style, gender=record.get("gender"), language=record.get("language", "en"),
                     description=str(record.get("description", "")), source=record.get("source", "library"),
                     meta=dict(meta_dict) if isinstance(meta_dict, dict) else {},
                     colour=tuple(colour), pitch=float(pitch))

    def record(self, name: str) -> dict[str, object]:
        """The stored JSON record of a saved voice (gender, language, description, source, meta, colour, pitch),
        as written: what ``NAME.json`` held in the older two-file layout."""
        files = self._files(name)
        if not files:
            raise VoiceError(f"no voice named {name!r} in {self.root}", field="voice")
        if files[0].suffix == SUFFIX:
            with np.load(files[0], allow_pickle=False) as data:
                return dict(json.loads(bytes(np.asarray(data["record"], np.uint8)).decode("utf-8")))
        return dict(json.loads(self._legacy(name)[1].read_text(encoding="utf-8")))

    def list(self) -> list[Voice]:
        """The readable saved voices (damaged ones are skipped and logged; see `entries`)."""
        return [e.voice for e in self.entries() if e.voice is not None]

    def load(self, name: str) -> Voice:
        files = self._files(name)
        if not files:
            known = ", ".join(self.names()) or "none saved yet"
            raise VoiceError(f"no voice named {name!r} in {self.root} (saved voices: {known})", field="voice")
        entry = self._entry(name, files, _index_for(self.root))
        if entry.voice is None:
            raise VoiceDamaged(f"voice {name!r} in {self.root} is damaged ({entry.error}); delete it and save it "
                               "again", field="voice")
        return entry.voice

    # ---------------------------------------------------------------------------------------- writing
    @contextlib.contextmanager
    def _locked(self, name: str, blocking: bool = True) -> Iterator[bool]:
        """Hold the lock of one name (threads and processes); yields False if ``blocking`` is off and it is held."""
        self.root.mkdir(parents=True, exist_ok=True)
        if fcntl is None:  # pragma: no cover
            with _FALLBACK_LOCK:
                yield True
            return
        fd = os.open(self.root / f".{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # closing releases the lock

    def save(self, voice: Voice, force: bool = False, name: str | None = None) -> Path:
        """Write ``voice`` under its name (or ``name``) atomically and durably; refuses to replace an existing
        voice unless ``force`` (`VoiceExists`). Returns the voice's file."""
        name = check_name(voice.name if name is None else name)
        path = self._path(name)
        record = {"name": name, "gender": voice.gender, "language": voice.language,
                  "description": voice.description, "source": voice.source, "meta": _jsonable(voice.meta),
                  "colour": list(voice.colour), "pitch": voice.pitch}
        buf = io.BytesIO()
        np.savez(buf, style=np.asarray(voice.style, np.float32),
                 record=np.frombuffer(json.dumps(record, ensure_ascii=False).encode("utf-8"), np.uint8))
        with self._locked(name):
            if self.exists(name) and not force:
                raise VoiceExists(f"voice {name!r} already exists in {self.root}; replace it with --force "
                                  "(force=true over HTTP)", field="name")
            tmp = self.root / f".{name}.{uuid.uuid4().hex}{TEMP_SUFFIX}"
            try:
                with open(tmp, "xb") as fh:
                    fh.write(buf.getbuffer())
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)  # the commit: one rename
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            for old in self._legacy(name):  # a legacy pair of this name is superseded now
                old.unlink(missing_ok=True)
            _fsync_dir(self.root)
        return path

    def delete(self, name: str) -> None:
        """Remove a saved voice, readable or damaged."""
        check_name(name)
        with self._locked(name):
            files = self._files(name)
            if not files:
                raise VoiceError(f"no voice named {name!r} in {self.root}", field="voice")
            for p in [self._path(name), *self._legacy(name)]:
                p.unlink(missing_ok=True)
            _fsync_dir(self.root)

    def clean_stale_temps(self, min_age_s: float = 0.0) -> list[Path]:
        """Remove temp files that no save is writing any more (their name's lock is free); returns them.

        Temps are left by a save that was killed between writing and renaming; they are never read.
        """
        if not self.root.is_dir():
            return []
        removed: list[Path] = []
        now = time.time()
        for tmp in self.root.iterdir():
            if not tmp.name.endswith(TEMP_SUFFIX):
                continue
            if tmp.name.startswith("."):  # .NAME.<hex>.tmp
                name = tmp.name[1:].rsplit(".", 2)[0]
            else:  # older versions: NAME.npy.tmp / NAME.json.tmp
                name = tmp.name.rsplit(".", 2)[0]
            try:
                if now - tmp.stat().st_mtime < min_age_s:
                    continue
            except OSError:
                continue
            if not valid_name(name):
                continue
            with self._locked(name, blocking=False) as free:
                if free:
                    tmp.unlink(missing_ok=True)
                    removed.append(tmp)
        return removed


_FALLBACK_LOCK = threading.RLock()
