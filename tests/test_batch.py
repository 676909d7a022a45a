"""`limelight batch`: manifests (three forms, errors with their line), safe ids, real renders on a worker
process, the report, resuming, failures that do not stop the others, exit codes, and the same on Ray."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from limelight.batch.manifest import check_id, load_manifest
from limelight.cli import main
from limelight.errors import LimelightError

JOBS = [
    {"id": "lighthouse", "text": "The lighthouse keeper climbed the stairs."},
    {"id": "garden", "script": '<speak voice="jm_kumo" gender="male">The garden was full of roses.</speak>'},
    {"id": "river", "text": "A river ran past the mill.", "speed": 1.1, "seed": 7},
]


def _write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def _report(out: Path) -> dict[str, dict]:
    rows = [json.loads(line) for line in (out / "report.jsonl").read_text().splitlines()]
    return {r["id"] or r["where"]: r for r in rows}


# ----------------------------------------------------------------------------------------- manifests
@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", ".hidden", "a/b", "a\\b", "x..y", "", "con", "NUL.txt",
                                 "report", "a b", "x" * 129, "name.tmp"])
def test_ids_that_could_escape_or_collide_are_refused(bad):
    with pytest.raises(LimelightError, match="invalid id|non-empty"):
        check_id(bad)


def test_good_ids_pass():
    for good in ("ch01", "Chapter_2.take-3", "0"):
        assert check_id(good) == good


def test_jsonl_errors_name_their_line_and_field(tmp_path):
    ref = tmp_path / "me.wav"
    sf.write(ref, np.zeros(2400, np.float32), 24000)
    manifest = _write_jsonl(tmp_path / "m.jsonl", [
        {"id": "ok1", "text": "Fine.", "reference": "me.wav", "validate": True, "pace": 1.2},
        {"id": "x", "text": "Hi.", "colour": 3},
        "",
        "{not json",
        {"id": "y", "text": "Hi.", "script": "<speak>Hi.</speak>"},
        {"id": "z", "text": "Hi.", "speed": "fast"},
        {"id": "w", "text": "Hi.", "speed": 9},
        {"id": "v", "text": "Hi.", "reference": "missing.wav"},
        {"id": "u", "script": "<speak>\n<action>Slowly\nHi.\n</speak>"},
        {"id": "ok1", "text": "Again."},
        [1, 2],
        {"id": "t", "text": "Hi.", "seed": True},
        {"id": "OK1", "text": "Case."},
    ])
    m = load_manifest(manifest)
    assert [j.id for j in m.jobs] == ["ok1"]
    job = m.jobs[0]
    assert job.line == 1 and job.options["reference"] == str(ref.resolve()) and job.options["pace"] == 1.2
    errors = {e.line: e for e in m.errors}
    assert set(errors) == {2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}
    assert "unknown field 'colour'" in errors[2].reason and errors[2].where == "m.jsonl:2"
    assert "not valid JSON" in errors[4].reason
    assert "exactly one of 'text'" in errors[5].reason
    assert "'speed' must be float" in errors[6].reason
    assert "speed must be between" in errors[7].reason
    assert "missing.wav does not exist" in errors[8].reason
    assert errors[9].reason.startswith("script: line 2, col 1:")  # the markup's own line, inside the job
    assert "duplicate id 'ok1' (first used at m.jsonl:1)" in errors[10].reason
    assert "JSON object" in errors[11].reason
    assert "'seed' must be int" in errors[12].reason
    assert "duplicate id 'OK1'" in errors[13].reason  # one file on case-insensitive filesystems


def test_csv_cells_are_typed_and_multiline_cells_keep_line_numbers(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text('id,text,speed,validate,voice\n'
                        'a,"One line.",1.25,no,\n'
                        'b,"Two\nlines.",,yes,jm_kumo\n'
                        'c,Three.,quick,,\n', encoding="utf-8")
    m = load_manifest(manifest)
    a, b = m.jobs
    assert a.options == {"speed": 1.25, "validate": False} and a.line == 2
    assert b.options == {"validate": True, "voice": "jm_kumo"} and b.line == 3 and b.source == "Two\nlines."
    (bad,) = m.errors
    assert bad.line == 5 and "'speed' must be float" in bad.reason


def test_folder_of_txt_and_xml(tmp_path):
    (tmp_path / "ch01.txt").write_text("Chapter one.", encoding="utf-8")
    (tmp_path / "ch02.xml").write_text('<speak voice="jm_kumo" gender="male">Chapter two.</speak>', encoding="utf-8")
    (tmp_path / "notes.md").write_text("ignored", encoding="utf-8")
    (tmp_path / "bad name.txt").write_text("x", encoding="utf-8")
    m = load_manifest(tmp_path)
    assert [(j.id, j.markup) for j in m.jobs] == [("ch01", False), ("ch02", True)]
    assert len(m.errors) == 1 and m.errors[0].where.endswith("bad name.txt")


# ----------------------------------------------------------------------------------------- usage errors
@pytest.mark.parametrize("argv, message", [
    (["batch", "{tmp}/nope.jsonl", "-o", "{tmp}/out"], "does not exist"),
    (["batch", "{tmp}/empty.jsonl", "-o", "{tmp}/out"], "has no jobs"),
    (["batch", "{tmp}/m.txt", "-o", "{tmp}/out"], "use a .jsonl or .csv file"),
    (["batch", "{tmp}/m.jsonl", "-o", "{tmp}/out", "--workers", "0"], "--workers must be at least 1"),
    (["batch", "{tmp}/m.jsonl", "-o", "{tmp}/file"], "cannot create output folder"),
    (["batch", "-o", "{tmp}/out"], "needs a MANIFEST"),
    (["batch", "{tmp}/m.jsonl", "-o", "{tmp}/out", "--model", "{tmp}/no-model.onnx"], "no-model.onnx"),
])
def test_usage_errors_exit_2_with_one_line(argv, message, tmp_path, capsys):
    (tmp_path / "empty.jsonl").write_text("\n\n", encoding="utf-8")
    (tmp_path / "m.txt").write_text("hello", encoding="utf-8")
    (tmp_path / "file").write_text("", encoding="utf-8")
    _write_jsonl(tmp_path / "m.jsonl", JOBS[:1])
    code = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("limelight: error:") and message in lines[0], err


def test_dry_run_lists_jobs_longest_first_and_renders_nothing(tmp_path, capsys):
    manifest = _write_jsonl(tmp_path / "m.jsonl", [*JOBS, {"id": "bad", "text": "x", "speed": 0}])
    assert main(["batch", str(manifest), "-o", str(tmp_path / "out"), "--dry-run"]) == 1
    out, err = capsys.readouterr()
    assert [line.split("\t")[0] for line in out.splitlines()] == ["garden", "lighthouse", "river"]
    assert "invalid m.jsonl:4: speed must be between" in err and "3 jobs (3 to render" in err
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------------------- real runs
@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """Three good jobs and one with an unknown voice, one worker process: exit 1, three outputs."""
    tmp = tmp_path_factory.mktemp("batch")
    manifest = _write_jsonl(tmp / "m.jsonl", [*JOBS, {"id": "ghost", "text": "Nobody speaks.", "voice": "nobody"}])
    out = tmp / "out"
    code = main(["batch", str(manifest), "-o", str(out), "--workers", "1", "-q"])
    return manifest, out, code


def test_run_renders_each_job_to_its_own_files(first_run, transcriber):
    from limelight.check.wer import match_ratio

    _, out, code = first_run
    assert code == 1  # one job failed
    report = _report(out)
    assert {k: r["status"] for k, r in report.items()} == {"lighthouse": "ok", "garden": "ok", "river": "ok",
                                                           "ghost": "failed"}
    assert "unknown voice 'nobody'" in report["ghost"]["error"] and report["ghost"]["line"] == 4
    assert not (out / "ghost.wav").exists() and not (out / "ghost.json").exists()
    for job in JOBS:
        audio, sr = sf.read(out / f"{job['id']}.wav", dtype="float32")
        meta = json.loads((out / f"{job['id']}.json").read_text())
        assert sr == 24000 and abs(len(audio) / sr - meta["duration_s"]) < 0.01
        assert meta["duration_s"] == pytest.approx(report[job["id"]]["audio_s"])
        assert np.sqrt(np.mean(audio ** 2)) > 0.01
        assert meta["batch"]["line"] == JOBS.index(job) + 1 and meta["batch"]["frames"] == len(audio)
        assert meta["words"], "word timings travel with the metadata"
    garden = json.loads((out / "garden.json").read_text())
    assert [v["name"] for v in garden["voices"].values()] == ["jm_kumo"]
    # Each file says its own job's words (ids are not shuffled between workers and files).
    for job_id, words in (("lighthouse", JOBS[0]["text"]), ("river", JOBS[2]["text"])):
        audio, sr = sf.read(out / f"{job_id}.wav", dtype="float32")
        assert match_ratio(words, transcriber.transcribe(audio, sr, "en"), "en") >= 0.8
    assert not list(out.glob(".*.tmp"))


def test_rerun_resumes_only_what_is_missing_or_damaged(first_run, capsys):
    manifest, out, _ = first_run
    kept = out / "lighthouse.wav"
    before = kept.stat().st_mtime_ns
    (out / "garden.wav").unlink()  # deleted output
    river = out / "river.wav"  # truncated output, as a crash mid-copy would leave it
    river.write_bytes(river.read_bytes()[:200])
    (out / ".lighthouse.wav.999.batch.tmp").write_bytes(b"partial")  # a killed run's temporary
    # the 'ghost' job is fixed in the manifest meanwhile
    lines = manifest.read_text().splitlines()
    lines[3] = json.dumps({"id": "ghost", "text": "Now somebody speaks.", "voice": "jf_alpha"})
    manifest.write_text("\n".join(lines) + "\n")
    code = main(["batch", str(manifest), "-o", str(out), "-q"])
    assert code == 0, capsys.readouterr().err
    report = _report(out)
    assert {k: r["status"] for k, r in report.items()} == {"lighthouse": "skipped", "garden": "ok", "river": "ok",
                                                           "ghost": "ok"}
    assert kept.stat().st_mtime_ns == before
    assert sf.info(str(river)).frames == json.loads((out / "river.json").read_text())["batch"]["frames"]
    assert not list(out.glob(".*.tmp"))
    # A changed line is a different job: its old output is stale and rendered again; --force redoes all.
    lines[0] = json.dumps({"id": "lighthouse", "text": "The keeper climbed down again."})
    manifest.write_text("\n".join(lines) + "\n")
    assert main(["batch", str(manifest), "-o", str(out), "-q"]) == 0
    assert {k: r["status"] for k, r in _report(out).items()}["lighthouse"] == "ok"


def test_flac_and_mp3_outputs(tmp_path):
    manifest = _write_jsonl(tmp_path / "m.jsonl", [{"id": "short", "text": "Short and sweet."}])
    for fmt in ("flac", "mp3"):
        out = tmp_path / fmt
        assert main(["batch", str(manifest), "-o", str(out), "--format", fmt, "-q"]) == 0
        info = sf.info(str(out / f"short.{fmt}"))
        meta = json.loads((out / "short.json").read_text())
        assert info.format == {"flac": "FLAC", "mp3": "MP3"}[fmt]
        assert abs(info.duration - meta["duration_s"]) < 0.1 and meta["batch"]["format"] == fmt


# ----------------------------------------------------------------------------------------- Ray
# (runs on Ray are in test_cluster.py, which shares one local Ray instance)
def test_ray_missing_is_a_usage_error(monkeypatch, tmp_path, capsys):
    import builtins

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    manifest = _write_jsonl(tmp_path / "m.jsonl", JOBS[:1])
    assert main(["batch", str(manifest), "-o", str(tmp_path / "out"), "--ray"]) == 2
    assert "pip install 'limelight[cluster]'" in capsys.readouterr().err


def test_two_worker_processes_share_the_jobs(tmp_path):
    manifest = _write_jsonl(tmp_path / "m.jsonl", [
        {"id": "p1", "text": "The first of two workers."},
        {"id": "p2", "text": "The second worker speaks now."},
        {"id": "p3", "text": "Bad.", "voice": "nobody"},
    ])
    out = tmp_path / "out"
    assert main(["batch", str(manifest), "-o", str(out), "--workers", "2", "--threads", "1", "-q"]) == 1
    report = _report(out)
    assert [report[k]["status"] for k in ("p1", "p2", "p3")] == ["ok", "ok", "failed"]
    for k in ("p1", "p2"):
        assert sf.info(str(out / f"{k}.wav")).frames == json.loads((out / f"{k}.json").read_text())["batch"]["frames"]
