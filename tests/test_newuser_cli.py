"""Smaller things a new user met: --explain shows the scene, caption shorthand, "stdin" read right, a
progress bar without a meaningless rate. Real synthesis and Whisper where audio is involved."""

from __future__ import annotations

import json

import soundfile as sf

from limelight.check.wer import match_ratio
from limelight.cli import main
from limelight.text.normalize import normalize

STORM = ('<speak voice="Male, mid 40s. Weathered." gender="male" scene="Open dock in a thunderstorm, heavy rain">'
         "<sound>Thunder cracks overhead</sound> Get the lines!</speak>")
CAPTIONS = '(woman, whispering): "Come closer, I have a secret."\n\n(old man, angry): "Get out of my house!"'


def test_explain_shows_the_scene_its_beds_and_whether_it_is_heard(capsys) -> None:
    assert main(["say", STORM, "--explain"]) == 0
    out = capsys.readouterr().out
    scene = next(line for line in out.splitlines() if line.startswith("scene:"))
    assert "thunderstorm" in scene and "-> beds:" in scene and "rain" in scene
    assert any(line.startswith("sound: 'Thunder cracks overhead' -> thunder") for line in out.splitlines()), out
    assert "background sound: OFF" in out and "--background-sfx" in out
    assert main(["say", STORM, "--explain", "--background-sfx"]) == 0
    assert "background sound: on" in capsys.readouterr().out
    assert main(["say", "Just words.", "--explain"]) == 0
    assert "scene:" not in capsys.readouterr().out


def test_caption_shorthand_is_performed_not_read_aloud(tmp_path, capsys, transcriber) -> None:
    out, meta = tmp_path / "c.wav", tmp_path / "c.json"
    assert main(["say", CAPTIONS, "-o", str(out), "--metadata", str(meta), "-q", "--seed", "3"]) == 0, \
        capsys.readouterr().err
    report = json.loads(meta.read_text())
    assert [v["gender"] for v in report["voices"].values()] == ["female", "male"]
    assert report["chunks"][0]["direction"]["register"] == "whisper"
    audio, sr = sf.read(str(out), dtype="float32")
    heard = transcriber.transcribe(audio, sr, "en").lower()
    assert "woman" not in heard and "whispering" not in heard and "angry" not in heard, heard
    assert match_ratio("Come closer, I have a secret. Get out of my house!", heard) >= 0.6, heard


def test_captions_without_gender_or_mixed_with_text_are_refused_with_a_pointer(tmp_path, capsys) -> None:
    assert main(["say", '(narrator): "Once upon a time."', "-o", str(tmp_path / "x.wav")]) == 2
    err = capsys.readouterr().err
    assert "line 1, col 2: the caption (narrator) names no gender" in err and "<speak voice=" in err
    assert main(["say", '(woman): "Hi."\nAnd then she left.', "-o", str(tmp_path / "x.wav")]) == 2
    assert "line 2, col 1: not a caption" in capsys.readouterr().err


def test_stdin_is_read_as_standard_in(tts, transcriber) -> None:
    text = "Pipe the text in through stdin, and read the result from stdout."
    assert "standard in" in normalize(text) and "standard out" in normalize(text)
    assert normalize("my-stdin-file") == "my-stdin-file"  # part of a name: left alone
    heard = transcriber.transcribe(tts.infer(text), tts.sample_rate, "en").lower()
    assert "standard in" in heard and "sd then" not in heard, heard


def test_progress_bar_counts_pieces_without_a_rate(tmp_path, capsys) -> None:
    text = "First paragraph, one sentence.\n\nSecond paragraph, another sentence.\n\nAnd a third."
    assert main(["say", text, "-o", str(tmp_path / "p.wav")]) == 0
    err = capsys.readouterr().err
    assert "pieces [" in err and "piece/s" not in err and "it/s" not in err, err
