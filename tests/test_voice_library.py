"""The voice library: round trip, no silent overwrite, safe names, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from limelight.errors import VoiceError
from limelight.voice import Voice
from limelight.voice.library import VoiceLibrary, default_root


def _voice(name: str, seed: int = 0) -> Voice:
    style = np.random.default_rng(seed).standard_normal((510, 256)).astype(np.float32) * 0.1
    return Voice(name=name, style=style, gender="female", description="Warm narrator.", source="cloned",
                 meta={"method": "bank", "vector": np.arange(3, dtype=np.float32), "weights": (0.5, 0.5)})


def test_round_trip(tmp_path: Path) -> None:
    lib = VoiceLibrary(tmp_path)
    v = _voice("narrator")
    lib.save(v)
    assert lib.exists("narrator") and lib.names() == ["narrator"]
    back = lib.load("narrator")
    assert np.array_equal(back.style, v.style)
    assert (back.gender, back.description, back.source) == ("female", "Warm narrator.", "cloned")
    assert back.meta["vector"] == [0.0, 1.0, 2.0] and back.meta["weights"] == [0.5, 0.5]
    assert [x.name for x in lib.list()] == ["narrator"]
    lib.delete("narrator")
    assert not lib.exists("narrator") and lib.list() == []


def test_no_overwrite_without_force(tmp_path: Path) -> None:
    lib = VoiceLibrary(tmp_path)
    lib.save(_voice("bob", 1))
    with pytest.raises(VoiceError, match="already exists.*--force"):
        lib.save(_voice("bob", 2))
    assert np.array_equal(lib.load("bob").style, _voice("bob", 1).style)
    lib.save(_voice("bob", 2), force=True)
    assert np.array_equal(lib.load("bob").style, _voice("bob", 2).style)


@pytest.mark.parametrize("name", ["../evil", "a/b", "", ".hidden", "x" * 65, "a..b", "voice.json", "c:\\x"])
def test_bad_names_rejected(tmp_path: Path, name: str) -> None:
    lib = VoiceLibrary(tmp_path / "lib")
    with pytest.raises(VoiceError, match="invalid voice name"):
        lib.save(_voice("ok"), name=name)
    assert not (tmp_path / "evil.npy").exists()


def test_missing_voice_names_what_exists(tmp_path: Path) -> None:
    lib = VoiceLibrary(tmp_path)
    lib.save(_voice("alice"))
    with pytest.raises(VoiceError, match="no voice named 'carol'.*alice"):
        lib.load("carol")
    with pytest.raises(VoiceError):
        lib.delete("carol")


def test_default_root_follows_limelight_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIMELIGHT_HOME", str(tmp_path))
    assert default_root() == tmp_path / "voices"
    monkeypatch.delenv("LIMELIGHT_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert VoiceLibrary().root == tmp_path / "xdg" / "limelight" / "voices"
