"""The CLI as a user meets it: real synthesis, one-line errors with exit code 2, no tracebacks."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
import soundfile as sf
from conftest import TEXTS

from limelight.cli import main


def _run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_say_writes_a_wav(tmp_path, capsys):
    out = tmp_path / "hello.wav"
    code, _, err = _run(["say", "Hello from the command line.", "-o", str(out)], capsys)
    assert code == 0, err
    info = sf.info(str(out))
    assert info.samplerate == 24000 and 1.0 < info.duration < 5.0


def test_say_reads_file_and_stdin(tmp_path, capsys, monkeypatch):
    src = tmp_path / "in.txt"
    src.write_text("Read from a file. It has two sentences.", encoding="utf-8")
    code, _, err = _run(["say", "-f", str(src), "-o", str(tmp_path / "f.wav"), "-q"], capsys)
    assert code == 0, err
    monkeypatch.setattr(sys, "stdin", io.StringIO("Read from standard input."))
    code, _, err = _run(["say", "-", "-o", str(tmp_path / "s.wav"), "-q"], capsys)
    assert code == 0, err
    assert sf.info(str(tmp_path / "s.wav")).duration > 1.0


@pytest.mark.parametrize("argv, message", [
    (["say", "Hi.", "--voice", "nobody", "-o", "{tmp}/x.wav"], "unknown voice 'nobody'; available:"),
    (["say", "   ", "-o", "{tmp}/x.wav"], "text is empty"),
    (["say", "Hi.", "-o", "{tmp}/missing/dir/x.wav"], "does not exist"),
    (["say", "Hi.", "-o", "{tmp}"], "is a directory"),
    (["say", "-f", "{tmp}/nope.txt", "-o", "{tmp}/x.wav"], "cannot read"),
    (["say", "<speak voice='Old woman' gender='female'>\n<action>Slowly\nHi.\n</speak>", "-o", "{tmp}/x.wav"],
     "line 2, col 1: <action> is not closed"),
    (["say", "Hi.", "-o", "{tmp}/x.wav", "--pace", "9"], "pace must be between"),
    (["say", "Hi.", "-o", "{tmp}/x.wav", "--language", "xx"], "unsupported language 'xx'; supported:"),
])
def test_user_errors_are_one_line_exit_2(argv, message, tmp_path, capsys):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, out, err = _run(argv, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("limelight: error:") and message in lines[0], err
    assert "Traceback" not in err
    assert not (tmp_path / "x.wav").exists()


def test_explain_prints_segments_and_directions(capsys):
    code, out, err = _run(["say", "-f", str(TEXTS / "scripts" / "storm.xml"), "--explain"], capsys)
    assert code == 0, err
    assert "<sound> Thunder cracks overhead" in out
    assert "register=shout" in out and "Get the lines!" in out


def test_console_script_runs_as_a_subprocess():
    out = subprocess.run([sys.executable, "-m", "limelight", "voices"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    from limelight.voice.shipped import DEFAULT_VOICE

    assert f"* {DEFAULT_VOICE}" in out.stdout and "jm_kumo" in out.stdout and "jf_alpha" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "limelight", "say", "Hi."], capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_clone_saves_a_coloured_voice_and_say_uses_it(tmp_path, capsys, monkeypatch, shared_dir):
    """`limelight clone REF --name NAME` then `limelight say --voice NAME`; a second clone needs --force."""

    monkeypatch.setenv("LIMELIGHT_HOME", str(tmp_path / "home"))
    ref = sorted((shared_dir / "voices" / "dev" / "3080").glob("*.flac"))[0]
    code, _, err = _run(["clone", str(ref), "--name", "anna"], capsys)
    assert code == 0, err
    assert "saved voice anna (cloned by encoder" in err
    from limelight.voice.library import VoiceLibrary

    record = VoiceLibrary(tmp_path / "home" / "voices").record("anna")
    assert len(record["colour"]) == 20 and any(record["colour"])
    out = tmp_path / "anna.wav"
    code, _, err = _run(["say", "My own voice now.", "--voice", "anna", "-o", str(out)], capsys)
    assert code == 0, err
    assert sf.info(str(out)).duration > 0.8
    code, _, err = _run(["clone", str(ref), "--name", "anna"], capsys)
    assert code == 2 and "already exists" in err and "--force" in err
