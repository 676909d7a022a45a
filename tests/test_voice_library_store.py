"""The voice library as a small database: atomic saves, per-name locks, damage kept local, an index, crashes.

Everything here is file-system work on tmp_path (no models). The crash test kills a saving subprocess with
SIGKILL at random moments a few times; bench/library_crash.py runs the same loop for as long as asked.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from limelight.errors import VoiceError
from limelight.voice import Voice
from limelight.voice.library import VoiceDamaged, VoiceExists, VoiceLibrary


def _voice(name: str, seed: int = 0) -> Voice:
    style = np.random.default_rng(seed).standard_normal((510, 256)).astype(np.float32) * 0.1
    return Voice(name=name, style=style, gender="female", description=f"voice {seed}", source="cloned")


def test_one_file_per_voice_and_no_temps_left(tmp_path: Path) -> None:
    lib = VoiceLibrary(tmp_path)
    lib.save(_voice("ann"))
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == ["ann.voice"]


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage", "wrong_shape", "bad_record"])
def test_a_damaged_voice_is_reported_and_deletable_and_the_others_work(tmp_path: Path, damage: str) -> None:
    lib = VoiceLibrary(tmp_path)
    lib.save(_voice("good", 1))
    path = lib.save(_voice("bad", 2))
    data = path.read_bytes()
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(os.urandom(len(data)))
    else:
        import io

        buf = io.BytesIO()
        style = np.zeros((3, 256), np.float32) if damage == "wrong_shape" else np.zeros((510, 256), np.float32)
        record = b'{"gender": "female"}' if damage == "wrong_shape" else b"[1, 2"
        np.savez(buf, style=style, record=np.frombuffer(record, np.uint8))
        path.write_bytes(buf.getvalue())
    entries = {e.name: e for e in lib.entries()}
    assert entries["good"].voice is not None and entries["good"].error is None
    assert entries["bad"].voice is None and entries["bad"].error
    assert [v.name for v in lib.list()] == ["good"]
    assert np.array_equal(lib.load("good").style, _voice("good", 1).style)
    with pytest.raises(VoiceDamaged, match="'bad'.*damaged"):
        lib.load("bad")
    lib.delete("bad")
    assert lib.names() == ["good"]


def test_legacy_two_file_voices_still_load_and_a_missing_half_is_damage(tmp_path: Path) -> None:
    import json

    v = _voice("old", 3)
    np.save(tmp_path / "old.npy", v.style)
    (tmp_path / "old.json").write_text(json.dumps({"gender": "male", "description": "legacy"}))
    (tmp_path / "half.json").write_text("{}")
    lib = VoiceLibrary(tmp_path)
    assert np.array_equal(lib.load("old").style, v.style) and lib.load("old").gender == "male"
    assert {e.name: e.error is None for e in lib.entries()} == {"old": True, "half": False}
    lib.save(_voice("old", 4), force=True)  # the new format supersedes the pair
    assert not (tmp_path / "old.npy").exists() and np.array_equal(lib.load("old").style, _voice("old", 4).style)
    lib.delete("half")
    assert lib.names() == ["old"]


@pytest.mark.parametrize("name", ["dup\n", "dup\r", " dup", "dup ", "dup.voice", "dup.tmp", ".dup"])
def test_names_are_matched_whole(tmp_path: Path, name: str) -> None:
    with pytest.raises(VoiceError, match="invalid voice name"):
        VoiceLibrary(tmp_path).save(_voice("x"), name=name)


def test_concurrent_forced_saves_of_one_name_never_fail_or_tear(tmp_path: Path) -> None:
    lib = VoiceLibrary(tmp_path)
    voices = [_voice("same", s) for s in range(4)]
    errors: list[BaseException] = []

    def worker(v: Voice) -> None:
        try:
            for _ in range(25):
                VoiceLibrary(tmp_path).save(v, force=True)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(v,)) for v in voices]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    final = lib.load("same")
    assert any(np.array_equal(final.style, v.style) and final.description == v.description for v in voices)
    assert not list(tmp_path.glob("*.tmp"))


def test_same_name_race_without_force_has_one_winner_and_409s(tmp_path: Path) -> None:
    barrier = threading.Barrier(4)
    results: list[str] = []

    def worker(seed: int) -> None:
        barrier.wait()
        try:
            VoiceLibrary(tmp_path).save(_voice("race", seed))
            results.append("saved")
        except VoiceExists as exc:
            assert exc.http_status == 409 and exc.field == "name"
            results.append("exists")

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["exists"] * 3 + ["saved"]


def test_index_rereads_only_changed_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = VoiceLibrary(tmp_path)
    for i in range(5):
        lib.save(_voice(f"v{i}", i))
    reads: list[str] = []
    real = VoiceLibrary._read

    def counting(self: VoiceLibrary, name: str, files: list[Path]) -> Voice:
        reads.append(name)
        return real(self, name, files)

    monkeypatch.setattr(VoiceLibrary, "_read", counting)
    lib.list()
    reads.clear()
    assert len(VoiceLibrary(tmp_path).list()) == 5 and reads == []  # a fresh instance shares the index
    lib.save(_voice("v2", 99), force=True)
    (tmp_path / "v4.voice").unlink()
    assert [v.name for v in lib.list()] == ["v0", "v1", "v2", "v3"] and reads == ["v2"]
    assert lib.load("v2").description == "voice 99"


def test_stale_temps_are_cleaned_but_not_a_save_in_progress(tmp_path: Path) -> None:
    lib = VoiceLibrary(tmp_path)
    lib.save(_voice("a"))
    stale = [tmp_path / ".a.0123abcd.tmp", tmp_path / "a.npy.tmp", tmp_path / ".b.ffff.tmp"]
    for p in stale:
        p.write_bytes(b"partial")
    busy = tmp_path / ".c.beef.tmp"
    busy.write_bytes(b"being written")
    with lib._locked("c"):
        removed = lib.clean_stale_temps()
    assert sorted(removed) == sorted(stale) and busy.exists()
    assert lib.names() == ["a"]


def _crash_bench():  # bench/library_crash.py holds the loop; the test runs it for a few rounds
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "bench" / "library_crash.py"
    spec = importlib.util.spec_from_file_location("library_crash", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_kill_9_during_saves_loses_nothing_acknowledged(tmp_path: Path) -> None:
    checked = _crash_bench().crash_loop(tmp_path, rounds=3)
    assert checked > 0


def test_record_returns_what_was_stored(tmp_path: Path) -> None:
    lib = VoiceLibrary(tmp_path)
    lib.save(_voice("rec", 5))
    record = lib.record("rec")
    assert record["description"] == "voice 5" and record["gender"] == "female" and record["name"] == "rec"


def test_cli_names_a_damaged_voice_and_deletes_it(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from limelight.cli import main

    monkeypatch.setenv("LIMELIGHT_HOME", str(tmp_path))
    lib = VoiceLibrary()
    lib.save(_voice("fine", 1))
    (lib.save(_voice("torn", 2))).write_bytes(b"\x00" * 10)
    assert main(["voices"]) == 0
    out, err = capsys.readouterr()
    assert "fine" in out and "torn" not in out
    assert "'torn' is damaged" in err and "--delete torn" in err
    assert main(["voices", "--delete", "torn"]) == 0
    assert lib.names() == ["fine"]
