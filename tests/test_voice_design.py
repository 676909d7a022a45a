"""Voice design: descriptions move pitch and formants the right way, measured on real synthesis."""

from __future__ import annotations

import pytest

from limelight.errors import VoiceError
from limelight.train.acoustics import measure
from limelight.voice.design import design_voice, plan

TEXT = "I never expected the weather to change so suddenly during our trip to the mountains."


def test_plan_reads_attributes() -> None:
    p = plan("An elderly man, slow and raspy", None)
    assert p.gender == "male"
    assert {"elderly", "slow", "rasp"} <= set(p.attributes)
    child, adult = plan("A little girl", "female"), plan("A woman", "female")
    assert child.target["f0_hz"] > adult.target["f0_hz"] and child.target["f2_hz"] > adult.target["f2_hz"]


def test_bad_inputs() -> None:
    with pytest.raises(VoiceError, match="empty"):
        design_voice("  ")
    with pytest.raises(VoiceError, match="gender must be male or female"):
        design_voice("A calm voice", gender="robot")


@pytest.fixture(scope="module")
def measured(tts) -> dict:
    out = {}
    for key, desc, gender in (("child", "A small child, a little girl", "female"),
                              ("woman", "Adult woman, calm", "female"),
                              ("man", "Adult man, deep voice", "male")):
        voice = design_voice(desc, gender)
        assert voice.source == "designed" and voice.gender == gender
        out[key] = measure(tts.engine.synthesize(TEXT, voice), tts.sample_rate)
    return out


def test_child_has_higher_pitch_and_formants(measured: dict) -> None:
    child, woman = measured["child"], measured["woman"]
    assert child.f0_hz > woman.f0_hz * 1.1
    assert child.f1_hz > woman.f1_hz and child.f3_hz > woman.f3_hz


def test_man_is_lower_than_woman(measured: dict) -> None:
    assert measured["man"].f0_hz < 160 < measured["woman"].f0_hz
