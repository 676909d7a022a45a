"""Voices from the command line: `--voice "<description>"` designs one, `limelight design` saves one, clones
carry a measured gender, and a reference of the other gender is reported instead of silently taking over.
Real synthesis; pitch is measured on the output (median F0, YIN)."""

from __future__ import annotations

import numpy as np
import soundfile as sf
from conftest import dev_clip

from limelight.cli import main
from limelight.voice.option import is_description


def median_f0(path) -> float:
    from limelight.direct.dsp import track_f0

    audio, sr = sf.read(str(path), dtype="float32")
    f0 = track_f0(audio, sr).f0
    return float(np.median(f0[f0 > 0]))


def test_description_versus_names() -> None:
    names = {"jm_kumo", "jf_alpha", "anna"}
    assert is_description("A deep old man, slow and gravelly", names)
    assert is_description("warm narrator", names)
    for spec in ("jm_kumo", "nobody", "jf_alpha:0.7,jm_kumo:0.3", "jf_alpha: 0.5, jm_kumo: 0.5", "anna", None,
                 "jf_alpha:x", "jf_alpha, jm_kumo", "grandfather"):
        assert not is_description(spec, names), spec


def test_say_designs_a_voice_from_a_description(tmp_path, capsys) -> None:
    deep, bright = tmp_path / "deep.wav", tmp_path / "bright.wav"
    assert main(["say", "The lighthouse keeper lit the lamp at dusk.", "-o", str(deep), "-q",
                 "--voice", "A deep old man, slow and gravelly"]) == 0, capsys.readouterr().err
    assert main(["say", "The lighthouse keeper lit the lamp at dusk.", "-o", str(bright), "-q",
                 "--voice", "A bright cheerful voice", "--gender", "female"]) == 0, capsys.readouterr().err
    low, high = median_f0(deep), median_f0(bright)
    assert low < 150 < 175 < high, (low, high)


def test_api_accepts_a_description_as_a_voice(tts) -> None:
    from limelight.direct.dsp import track_f0

    voice = tts.voice("A deep old man, slow and gravelly")
    assert voice.source == "designed" and voice.gender == "male"
    audio = tts.infer("The lighthouse keeper lit the lamp.", voice="A deep old man, slow and gravelly")
    f0 = track_f0(audio, tts.sample_rate).f0
    assert float(np.median(f0[f0 > 0])) < 150


def test_generate_accepts_a_description_as_voice() -> None:
    from fastapi.testclient import TestClient

    from limelight.serve import Settings, create_app
    from limelight.serve.state import shared_performer

    with TestClient(create_app(Settings.from_env(env={}), performer=shared_performer("kokoro"))) as client:
        r = client.post("/generate", json={"prompt": "Good evening.", "validate": False,
                                           "voice": "A bright cheerful young woman"})
        assert r.status_code == 200, r.text
        voices = list(r.json()["metadata"]["voices"].values())
        assert voices[0]["source"] == "designed" and voices[0]["gender"] == "female"


def test_design_saves_to_the_library_and_say_uses_it(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("LIMELIGHT_HOME", str(tmp_path / "home"))
    preview = tmp_path / "preview.mp3"
    code = main(["design", "A calm middle-aged man with a warm voice", "--name", "narrator", "--preview",
                 str(preview)])
    err = capsys.readouterr().err
    assert code == 0 and "saved voice narrator (male" in err, err
    assert sf.info(str(preview)).duration > 1.0
    assert main(["design", "Anything else", "--name", "narrator"]) == 2  # no silent overwrite
    assert "already exists" in capsys.readouterr().err
    assert main(["voices"]) == 0
    listing = capsys.readouterr().out
    assert any(line.split()[:3] == ["narrator", "male", "designed"] for line in listing.splitlines()), listing
    out = tmp_path / "n.wav"
    assert main(["say", "Good evening.", "--voice", "narrator", "-o", str(out), "-q"]) == 0
    assert median_f0(out) < 150


def test_clone_measures_gender_and_script_gender_is_kept_with_a_note(shared_dir, tts) -> None:
    from limelight.perform import Performer
    from limelight.voice.clone import clone_voice

    woman = dev_clip(shared_dir, "3080", 0)  # LibriSpeech speaker 3080: F
    voice = clone_voice(*woman, "w", engine=tts.engine)
    assert voice.gender == "female" and voice.meta["gender_measured"]["median_f0_hz"] > 175
    man = clone_voice(*dev_clip(shared_dir, "3005", 0), "m", engine=tts.engine)  # 3005: M
    assert man.gender == "male"
    perf = Performer().perform('<speak voice="A gruff sailor" gender="male">Hoist the sails.</speak>',
                               reference=woman, validate=False, seed=1)
    notes = {n["field"]: n["reason"] for n in perf.metadata["not_applied"]}
    assert "sounds female" in notes["gender"] and 'gender="male"' in notes["gender"]
    assert all(v["gender"] == "male" for v in perf.metadata["voices"].values())


def test_a_single_unknown_word_is_still_an_unknown_voice(tmp_path, capsys) -> None:
    assert main(["say", "Hi.", "--voice", "nobody", "-o", str(tmp_path / "x.wav")]) == 2
    assert "unknown voice 'nobody'" in capsys.readouterr().err
