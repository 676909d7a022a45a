"""The user's voice library: named voices saved on disk (``$LIMELIGHT_HOME/voices`` or ~/.local/share).

Each voice is two files: ``NAME.npy`` (the 510×256 float32 style table) and ``NAME.json`` (gender, language,
description, source, meta); a deep clone adds a third, ``NAME.adapter.npz`` (its fast-decoder adapter, versioned,
~150 KB: :mod:`limelight.engine.fastdec.adapter`). Plain files, so a user can copy a voice to another machine or
delete it by hand.
Names are restricted to a safe alphabet (no path separators, no leading dot) so a name can never point outside
the library, and nothing is overwritten unless the caller says ``force``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from ..errors import VoiceError
from .voice import Voice

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def default_root() -> Path:
    """``$LIMELIGHT_HOME/voices`` when set, else ``$XDG_DATA_HOME/limelight/voices`` (~/.local/share/…)."""
    home = os.environ.get("LIMELIGHT_HOME")
    if home:
        return Path(home).expanduser() / "voices"
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(data) / "limelight" / "voices"


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid library name, else raise `VoiceError` saying what is allowed."""
    if not isinstance(name, str) or not NAME_RE.match(name) or name.endswith((".json", ".npy")) or ".." in name:
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


class VoiceLibrary:
    """Save, load, list and delete named voices in one folder."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_root()

    def _paths(self, name: str) -> tuple[Path, Path]:
        check_name(name)
        return self.root / f"{name}.npy", self.root / f"{name}.json"

    def adapter_path(self, name: str) -> Path:
        """Where a deep clone's decoder adapter is kept (beside the voice's table)."""
        return self.root / f"{check_name(name)}.adapter.npz"

    def exists(self, name: str) -> bool:
        table, meta = self._paths(name)
        return table.is_file() and meta.is_file()

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.stem for p in self.root.glob("*.json") if NAME_RE.match(p.stem)
                      and (self.root / f"{p.stem}.npy").is_file())

    def list(self) -> list[Voice]:
        return [self.load(n) for n in self.names()]

    def save(self, voice: Voice, force: bool = False, name: str | None = None) -> Path:
        """Write ``voice`` under its name (or ``name``); refuses to replace an existing voice unless ``force``."""
        name = check_name(voice.name if name is None else name)
        table, meta = self._paths(name)
        if self.exists(name) and not force:
            raise VoiceError(f"voice {name!r} already exists in {self.root}; use --force to replace it",
                             field="name")
        self.root.mkdir(parents=True, exist_ok=True)
        record = {"name": name, "gender": voice.gender, "language": voice.language,
                  "description": voice.description, "source": voice.source, "meta": _jsonable(voice.meta),
                  "colour": list(voice.colour), "pitch": voice.pitch}
        tmp_t, tmp_m = table.with_suffix(".npy.tmp"), meta.with_suffix(".json.tmp")
        with open(tmp_t, "wb") as fh:
            np.save(fh, np.asarray(voice.style, np.float32))
        tmp_m.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
        adapter = self.adapter_path(name)
        if voice.adapter is not None:
            voice.adapter.save(adapter)
        else:
            adapter.unlink(missing_ok=True)  # a replaced deep clone must not keep its old adapter
        tmp_t.replace(table)
        tmp_m.replace(meta)
        return table

    def load(self, name: str) -> Voice:
        table, meta = self._paths(name)
        if not self.exists(name):
            known = ", ".join(self.names()) or "none saved yet"
            raise VoiceError(f"no voice named {name!r} in {self.root} (saved voices: {known})", field="voice")
        try:
            record = json.loads(meta.read_text(encoding="utf-8"))
            style = np.load(table, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise VoiceError(f"voice {name!r} in {self.root} is damaged: {exc}", field="voice") from None
        if not isinstance(record.get("colour") or [], list):
            raise VoiceError(f"voice {name!r} in {self.root} is damaged: 'colour' is not a list", field="voice")
        if not isinstance(record.get("pitch") or 0.0, (int, float)):
            raise VoiceError(f"voice {name!r} in {self.root} is damaged: 'pitch' is not a number", field="voice")
        adapter = None
        if self.adapter_path(name).is_file():
            from ..engine.fastdec.adapter import Adapter

            adapter = Adapter.load(self.adapter_path(name))
        return Voice(name=name, style=style, gender=record.get("gender"), language=record.get("language", "en"),
                     description=record.get("description", ""), source=record.get("source", "library"),
                     meta=dict(record.get("meta") or {}), colour=tuple(record.get("colour") or ()),
                     pitch=float(record.get("pitch") or 0.0), adapter=adapter)

    def delete(self, name: str) -> None:
        table, meta = self._paths(name)
        if not self.exists(name):
            raise VoiceError(f"no voice named {name!r} in {self.root}", field="voice")
        table.unlink(missing_ok=True)
        meta.unlink(missing_ok=True)
        self.adapter_path(name).unlink(missing_ok=True)
