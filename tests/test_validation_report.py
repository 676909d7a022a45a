"""A take that fails the Whisper check is kept but never passes unnoticed: CLI exit 3 with the chunks on
stderr, the server's header and metadata, the studio's status line. Real synthesis and real Whisper: the
failing input is a line of non-words Whisper hears as other words."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from limelight.check.report import EXIT_VALIDATION_FAILED
from limelight.cli import main

NONSENSE = "Blorfing snerkle quazzle dromph."  # read as words, heard as "Loafing Snuggle Quasal Drone"
SCRIPT_WITH_SCENE = ('<speak voice="jf_alpha" gender="female" scene="A quiet forest at dawn">Good morning. '
                     '<sound>A twig snaps</sound> Who is there?</speak>')


@pytest.fixture(scope="module")
def performer():
    from limelight.serve.state import shared_performer

    return shared_performer("kokoro")


def test_cli_exits_3_and_lists_the_failed_chunks(tmp_path, capsys) -> None:
    out = tmp_path / "x.wav"
    code = main(["say", NONSENSE, "-o", str(out), "--validate", "-q"])
    err = capsys.readouterr().err
    assert code == EXIT_VALIDATION_FAILED == 3, err
    assert "limelight: warning: validation failed for 1 of 1 chunk" in err
    assert "chunk 0 (line 1, col 1): match 0." in err and "Blorfing" in err
    assert out.stat().st_size > 10_000  # the work is kept
    assert "exit status" in main.__globals__["build_parser"]().format_help()


def test_cli_passing_validation_exits_0(tmp_path, capsys) -> None:
    code = main(["say", "The weather is lovely today.", "-o", str(tmp_path / "ok.wav"), "--validate"])
    err = capsys.readouterr().err
    assert code == 0 and "warning" not in err, err


def test_server_reports_validation_in_header_and_metadata(performer) -> None:
    from limelight.serve import Settings, create_app

    with TestClient(create_app(Settings.from_env(env={}), performer=performer)) as client:
        bad = client.post("/generate", json={"prompt": NONSENSE, "validate": True, "seed": 1})
        assert bad.status_code == 200, bad.text
        assert bad.headers["x-limelight-validation"].startswith("failed; chunks=0; match=0.")
        summary = bad.json()["metadata"]["validation"]
        assert summary["passed"] is False and summary["failed"][0]["text"].startswith("Blorfing")
        good = client.post("/generate", json={"prompt": "Good morning.", "validate": True, "seed": 1})
        assert good.headers["x-limelight-validation"] == "passed"
        off = client.post("/generate", json={"prompt": "Good morning.", "validate": False})
        assert off.headers["x-limelight-validation"] == "off" and off.json()["metadata"]["validation"] is None


def test_studio_status_warns_with_the_chunks_and_notes_silent_scenes(performer) -> None:
    pytest.importorskip("gradio")
    from limelight.ui.studio import take_status

    failed = performer.perform(NONSENSE, validate=True, max_attempts=1, seed=2).metadata
    status = take_status(failed)
    assert status.startswith("**⚠ validation failed for 1 of 1 chunk") and "Blorfing" in status
    assert take_status(performer.perform("Good morning.", validate=False).metadata) == "Done."
    scene = performer.perform(SCRIPT_WITH_SCENE, validate=False, seed=2)
    notes = [n for n in scene.metadata["not_applied"] if n["field"] == "background_sfx"]
    assert len(notes) == 1 and "forest" in notes[0]["reason"] and "--background-sfx" in notes[0]["reason"]
    assert "background sound is off" in take_status(scene.metadata)
    with_sound = performer.perform(SCRIPT_WITH_SCENE, validate=False, seed=2, background_sfx=True)
    assert not any(n["field"] == "background_sfx" for n in with_sound.metadata["not_applied"])
