"""Stage directions and voice descriptions → Direction: the sample scripts, paraphrases, rules, bounds."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from conftest import TEXTS
from hypothesis import given, settings
from hypothesis import strategies as st

from limelight.direct import PROTOTYPES, REGISTERS, Direction, explain, interpret
from limelight.direct.direction import (
    ENERGY_DB_RANGE,
    PITCH_RANGE_RANGE,
    PITCH_SHIFT_RANGE,
    SPEED_RANGE,
    TILT_DB_RANGE,
)
from limelight.errors import ScriptError

ASMR_VOICE = "A young woman, intimate and close to the microphone."
BREAKDOWN_VOICE = "Middle-aged man, warm but weathered."
CHILD_VOICE = "A six-year-old girl, bright and excited, speaking fast with breathless enthusiasm."
STORM_VOICE = "Male, mid 40s. Weathered. Urgent, projecting over wind."


def assert_in_bounds(d: Direction) -> None:
    assert SPEED_RANGE[0] <= d.speed <= SPEED_RANGE[1]
    assert PITCH_SHIFT_RANGE[0] <= d.pitch_shift <= PITCH_SHIFT_RANGE[1]
    assert PITCH_RANGE_RANGE[0] <= d.pitch_range <= PITCH_RANGE_RANGE[1]
    assert ENERGY_DB_RANGE[0] <= d.energy_db <= ENERGY_DB_RANGE[1]
    assert TILT_DB_RANGE[0] <= d.tilt_db <= TILT_DB_RANGE[1]
    assert 0.0 <= d.breathiness <= 1.0 and 0.0 <= d.tremble <= 1.0
    assert 0.0 <= d.pause_before <= 5.0 and 0.0 <= d.pause_after <= 5.0
    assert d.register in REGISTERS


# --- the sample scripts --------------------------------------------------------------------------------

def _sample_actions() -> dict[str, tuple[str, list[str]]]:
    """{file name: (voice description, [action texts])} for the well-formed sample scripts."""
    out = {}
    for path in sorted((TEXTS / "scripts").glob("*.xml")):
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError:
            continue  # bad_unclosed.xml is an error-message sample, not a direction sample
        out[path.name] = (root.get("voice", ""), [a.text or "" for a in root.iter("action")])
    return out


def test_sample_scripts_are_the_ones_these_tests_expect():
    samples = _sample_actions()
    assert samples["asmr.xml"] == (ASMR_VOICE, ["Whispering.", "Speaking softly.", "Normal voice, cheerful."])
    assert samples["breakdown.xml"][1] == ["Calm, almost casual. Staring at his hands.",
                                           "Voice tightens. Fighting to stay composed.",
                                           "Long pause. Deep breath. Raw but steady."]
    assert samples["storm.xml"] == (STORM_VOICE, ["He shouts over the storm"])
    assert samples["child.xml"] == (CHILD_VOICE, [])


def test_asmr_script():
    whisper = interpret("Whispering.", ASMR_VOICE)
    assert whisper.register == "whisper" and whisper.energy_db <= -8 and whisper.breathiness >= 0.8
    soft = interpret("Speaking softly.", ASMR_VOICE)
    assert soft.register == "soft" and whisper.energy_db < soft.energy_db < 0
    # "Normal voice" resets the intimate speaker's soft register; "cheerful" livens the melody.
    cheerful = interpret("Normal voice, cheerful.", ASMR_VOICE)
    assert cheerful.register == "normal"
    assert cheerful.pitch_range > 1.05 and cheerful.pitch_shift > 0
    assert "cheerful" in cheerful.labels


def test_breakdown_script():
    calm = interpret("Calm, almost casual. Staring at his hands.", BREAKDOWN_VOICE)
    assert calm.register == "normal" and calm.speed <= 1.0 and calm.energy_db <= 0 and calm.pitch_range < 1
    assert calm.pause_before == 0 and not calm.breath_before
    tight = interpret("Voice tightens. Fighting to stay composed.", BREAKDOWN_VOICE)
    assert tight.pitch_range < 1.0 or tight.tremble > 0.1
    assert tight.register == "normal"
    raw = interpret("Long pause. Deep breath. Raw but steady.", BREAKDOWN_VOICE)
    assert raw.pause_before >= 0.8 and raw.breath_before
    assert raw.register == "normal"


def test_storm_script():
    shout = interpret("He shouts over the storm", STORM_VOICE)
    assert shout.register in ("shout", "loud")
    assert shout.energy_db >= 5 and shout.pitch_shift > 1 and shout.tilt_db > 2


def test_voice_descriptions_give_a_base_delivery():
    child = interpret(None, CHILD_VOICE)
    assert child.speed > 1.15 and child.pitch_shift > 0.5 and child.breathiness > 0.1
    storm = interpret(None, STORM_VOICE)
    assert storm.register == "loud" and storm.energy_db > 3 and storm.speed > 1.05
    asmr = interpret(None, ASMR_VOICE)
    assert asmr.register == "soft" and asmr.energy_db < -2 and asmr.breathiness > 0.1
    # Timbre, age and gender are not delivery: the weathered man speaks as the voice would.
    plain = interpret(None, BREAKDOWN_VOICE)
    assert plain.register == "normal" and 0.9 <= plain.speed <= 1.1 and abs(plain.energy_db) <= 2
    assert interpret(None, None).is_neutral and interpret("", "").is_neutral


def test_an_action_overrides_the_base_in_its_own_family():
    base = interpret(None, CHILD_VOICE)
    slowed = interpret("Slowly.", CHILD_VOICE)
    assert slowed.speed < base.speed * 0.75
    assert slowed.pitch_shift == pytest.approx(base.pitch_shift)  # her excitement stays


# --- paraphrases: understood by meaning, not by keywords ---------------------------------------------------

def test_brief_paraphrases():
    close = interpret("barely audible, lips close to her ear")
    assert close.register in ("whisper", "soft") and close.energy_db < -4
    furious = interpret("absolutely furious")
    assert furious.energy_db > 2 and furious.tilt_db > 1 and "anger" in furious.labels


# Paraphrases that appear nowhere in the prototype vocabulary and contain no keyword the rules know, so
# each one is read by the embedder alone: (text, what the Direction must show). The first set was written
# before the vocabulary was tuned (it then guided a choice between matching schemes, so it is not fully
# blind); the second was written afterwards and checked once. At the time of writing 24/33 and 27/34
# pass (76 % together); the misses are idioms and MiniLM's habit of placing antonyms close together.
HELD_OUT = [
    ("lips barely moving, voice nothing but air", lambda d: d.register in ("whisper", "soft")),
    ("roaring so the whole crew can hear", lambda d: d.energy_db > 3),
    ("boiling over with fury", lambda d: d.energy_db > 2),
    ("crushed by the loss of her brother", lambda d: d.pitch_range < 1),
    ("over the moon", lambda d: d.pitch_shift > 0.5),
    ("jittery, glancing at the door", lambda d: d.tremble > 0 or d.pitch_shift > 0),
    ("running on fumes after a double shift", lambda d: d.speed < 1 and d.energy_db < 0),
    ("gently, like soothing a baby", lambda d: d.energy_db < 0),
    ("perfectly at peace", lambda d: d.speed <= 1 and d.energy_db <= 0 and d.pitch_range < 1),
    ("with heavy irony", lambda d: d.pitch_range > 1),
    ("utterly flat", lambda d: d.pitch_range < 0.9),
    ("words spilling out at breakneck speed", lambda d: d.speed > 1.1),
    ("dragging out every syllable", lambda d: d.speed < 0.95),
    ("lets the silence hang for a while", lambda d: d.pause_before >= 0.5),
    ("fills his lungs before speaking", lambda d: d.breath_before),
    ("voice wobbling", lambda d: d.tremble > 0.1),
    ("struggling to keep her composure", lambda d: d.pitch_range < 1 or d.tremble > 0.1),
    ("gasping between words", lambda d: d.breathiness > 0.2),
    ("snickering as she speaks", lambda d: d.laughing),
    ("whimpering, tears streaming", lambda d: d.tremble > 0.1 or d.breathiness > 0.1),
    ("every second counts", lambda d: d.speed > 1.05),
    ("stumbling over every word", lambda d: d.speed < 1),
    ("calling across the valley", lambda d: d.register in ("loud", "shout") or d.energy_db > 3),
    ("speaking into her ear so only she hears", lambda d: d.register in ("whisper", "soft")),
    ("chillingly indifferent", lambda d: d.pitch_range < 1),
    ("on her knees, begging him to stay", lambda d: d.pitch_shift > 0),
    ("giddy", lambda d: d.pitch_shift > 0),
    ("accepting defeat", lambda d: d.pitch_range < 1),
    ("hysterical, totally losing it", lambda d: d.speed > 1.1),
    ("half-asleep", lambda d: d.speed < 1),
    ("brimming with enthusiasm", lambda d: d.pitch_shift > 0),
    ("as if telling a secret", lambda d: d.register in ("whisper", "soft")),
    ("commanding the room", lambda d: d.energy_db > 0),
    # second set
    ("mouth almost touching the microphone", lambda d: d.register in ("whisper", "soft")),
    ("so only the person next to her can make it out", lambda d: d.register in ("whisper", "soft")),
    ("at the top of her voice", lambda d: d.energy_db > 3),
    ("raising his voice over the engines", lambda d: d.energy_db > 2),
    ("red-faced and seething", lambda d: d.energy_db > 2),
    ("spitting the words out in contempt", lambda d: d.energy_db > 0 or d.pitch_range < 1),
    ("utterly forlorn", lambda d: d.pitch_range < 1),
    ("crushed, eyes down", lambda d: d.pitch_range < 1),
    ("bubbling over with delight", lambda d: d.pitch_shift > 0.5),
    ("sunny, smiling through every word", lambda d: d.pitch_shift > 0),
    ("bouncing on her toes", lambda d: d.pitch_shift > 0 or d.speed > 1),
    ("white with terror", lambda d: d.tremble > 0 or d.pitch_shift > 0),
    ("wide-eyed, spooked by the noise", lambda d: d.tremble > 0 or d.pitch_shift > 0),
    ("completely drained", lambda d: d.speed < 1 and d.energy_db < 0),
    ("yawning through the sentence", lambda d: d.speed < 1),
    ("cradling the baby", lambda d: d.energy_db < 0),
    ("serenely", lambda d: d.speed <= 1 and d.pitch_range < 1),
    ("mock enthusiasm", lambda d: d.pitch_range > 1),
    ("dead inside", lambda d: d.pitch_range < 1),
    ("racing through it", lambda d: d.speed > 1.05),
    ("one... word... at... a... time", lambda d: d.speed < 1 or d.pause_before > 0),
    ("letting the moment sink in first", lambda d: d.pause_before >= 0.3),
    ("gulps air", lambda d: d.breath_before or d.breathiness > 0.1),
    ("voice cracking with emotion", lambda d: d.tremble > 0.1 or d.pitch_range < 1),
    ("holding back the tears", lambda d: d.tremble > 0.1 or d.pitch_range < 1),
    ("having just sprinted up the stairs", lambda d: d.breathiness > 0.2),
    ("barely suppressing a grin", lambda d: d.pitch_shift > 0),
    ("all in a rush, no time to explain", lambda d: d.speed > 1.05),
    ("searching for the right words", lambda d: d.speed < 1),
    ("shrill and hysterical", lambda d: d.speed > 1.05 or d.pitch_shift > 1),
    ("drowsy", lambda d: d.speed < 1),
    ("in a firm, no-nonsense way", lambda d: d.energy_db > 0),
    ("begging forgiveness", lambda d: d.pitch_shift > 0),
    ("bitterly, with a sneer", lambda d: d.pitch_range > 1 or d.energy_db > 0),
]


def test_held_out_paraphrases_are_mostly_understood():
    misses = []
    for text, ok in HELD_OUT:
        direction, matches = explain(text)
        assert all(m.via == "meaning" for m in matches), f"{text!r} hit a keyword; pick another paraphrase"
        if not ok(direction):
            misses.append((text, direction.labels))
    hit_rate = 1 - len(misses) / len(HELD_OUT)
    assert hit_rate >= 0.72, f"{hit_rate:.0%} understood; missed: {misses}"


def test_stage_business_and_speaker_descriptions_do_not_change_delivery():
    texts = ["Staring at his hands.", "He walks to the window.", "Looking at the photograph.",
             "Lights a cigarette.", "Turning the key in the lock.", "A woman in her fifties.",
             "Teenage boy with a Scottish accent.", "An elderly gentleman.", "Sitting at the kitchen table."]
    moved = [t for t in texts if any(m.weight >= 0.3 for m in explain(t)[1])]
    assert len(moved) <= 1, moved


# --- rules: keywords, numbers, negation, explicit register ------------------------------------------------

@pytest.mark.parametrize("text, seconds", [
    ("Pause for two seconds.", 2.0), ("A 1.5 second pause.", 1.5), ("Wait three seconds, then go on.", 3.0),
    ("Half a second pause.", 0.5), ("Silence for 4 s.", 4.0), ("Pause for one and a half seconds.", 1.5),
])
def test_pause_durations_are_read_from_numbers(text, seconds):
    assert interpret(text).pause_before == pytest.approx(seconds)


def test_pause_words_without_numbers():
    assert interpret("Long pause.").pause_before >= 1.0
    assert 0.2 <= interpret("A beat.").pause_before < 1.0
    assert interpret("Pause for ten seconds.").pause_before == 5.0  # clamped to the sane maximum


def test_trailing_off_leaves_silence_after():
    d = interpret("Trailing off...")
    assert d.pause_after >= 0.5 and d.pause_before == 0
    assert interpret("Her voice fades into nothing.").pause_after > 0


def test_negations_do_not_trigger_their_cue():
    not_shouting = interpret("Not shouting.")
    assert not_shouting.register == "normal" and not_shouting.energy_db <= 0
    firm = interpret("Not shouting, just firm.")
    assert firm.register == "normal" and "determined" in firm.labels
    assert interpret("No pause, straight on.").pause_before == 0
    assert interpret("Never whispering.").register == "normal"
    assert interpret("He can't stop laughing.").laughing  # a double negative still laughs


def test_keywords_fire_regardless_of_phrasing():
    assert interpret("She whispers it.").register == "whisper"
    assert interpret("YELLING!").register == "shout"
    assert interpret("Speaking quickly and a bit louder.").speed > 1.15
    assert interpret("Laughing as he says it.").laughing
    assert interpret("Inhales, then speaks.").breath_before


def test_explicit_register_overrides_the_text():
    d = interpret("Shouting over the engines!", register="whisper")
    assert d.register == "whisper" and d.energy_db < 0
    assert interpret("Whispering.", register="normal").register == "normal"
    with pytest.raises(ScriptError, match="unknown register 'mumble'"):
        interpret("Hello.", register="mumble")


def test_everything_at_once_stays_in_bounds():
    d = interpret("Screaming, furious, panicking, talking fast, laughing hysterically, shaking, "
                  "out of breath. Pause for 9 seconds.", CHILD_VOICE)
    assert_in_bounds(d)
    assert d.register == "shout" and d.speed > 1.3 and d.pause_before == 5.0


def test_explain_lists_the_evidence():
    direction, matches = explain("Long pause. Deep breath. Raw but steady.", BREAKDOWN_VOICE)
    names = {m.prototype for m in matches}
    assert {"long pause", "deep breath"} <= names
    assert set(direction.labels) == {m.prototype if m.source != "voice" else f"voice:{m.prototype}"
                                     for m in matches}
    weights = [m.weight for m in matches]
    assert weights == sorted(weights, reverse=True)


def test_every_prototype_is_reachable_by_its_own_examples():
    """Each example must select its own prototype (or a sibling in the family): a vocabulary whose
    examples land elsewhere would be dead weight, and a silent regression if the embedder changed."""
    wrong = []
    for proto in PROTOTYPES:
        if proto.is_distractor:
            continue
        for example in proto.examples:
            _, matches = explain(example)
            if not any(m.family == proto.family for m in matches):
                wrong.append((example, proto.name, [m.prototype for m in matches]))
    assert not wrong, wrong


# --- the Direction dataclass -------------------------------------------------------------------------------

def test_direction_defaults_are_neutral_and_serialisable():
    d = Direction()
    assert d.is_neutral and d.register == "normal" and d.labels == ()
    assert json.loads(json.dumps(d.as_dict()))["speed"] == 1.0
    with pytest.raises(ValueError, match="register"):
        Direction(register="mumble")


def test_combine_composes_each_quantity_on_its_own_scale():
    a = Direction(speed=1.2, pitch_shift=1.0, pitch_range=0.8, energy_db=3.0, breathiness=0.5,
                  pause_before=1.0, register="soft", labels=("a",))
    b = Direction(speed=1.1, pitch_shift=2.0, pitch_range=0.5, energy_db=-1.0, breathiness=0.5,
                  pause_before=0.3, breath_before=True, labels=("b",))
    c = a.combine(b)
    assert c.speed == pytest.approx(1.32) and c.pitch_range == pytest.approx(0.4)
    assert c.pitch_shift == 3.0 and c.energy_db == 2.0
    assert c.breathiness == pytest.approx(0.75) and c.pause_before == 1.0
    assert c.register == "soft" and c.breath_before and c.labels == ("a", "b")
    assert Direction().combine(a) == a.clamped()


def test_scaled_and_blend_interpolate_between_neutral_and_full():
    d = Direction(speed=1.44, pitch_shift=2.0, register="whisper", laughing=True)
    half = d.scaled(0.5)
    assert half.speed == pytest.approx(1.2) and half.pitch_shift == 1.0 and half.register == "whisper"
    weak = d.scaled(0.3)
    assert weak.register == "normal" and not weak.laughing
    assert d.scaled(0).is_neutral
    assert Direction().blend(d, 0.0).is_neutral
    assert Direction().blend(d, 1.0) == d.clamped()
    assert Direction().blend(d, 0.5).speed == pytest.approx(1.2)


_amount = st.floats(-50, 50, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.floats(0.05, 20), _amount, st.floats(0.05, 20), _amount, _amount, st.floats(0, 1), st.floats(0, 1),
       st.floats(0, 30), st.sampled_from(REGISTERS), st.floats(0, 1))
def test_combine_and_blend_always_stay_in_bounds(speed, pitch, prange, energy, tilt, breath, tremble, pause,
                                                 register, t):
    d = Direction(speed=speed, pitch_shift=pitch, pitch_range=prange, energy_db=energy, tilt_db=tilt,
                  breathiness=breath, tremble=tremble, pause_before=pause, register=register)
    for result in (d.clamped(), d.combine(d), Direction().combine(d), Direction().blend(d, t), d.blend(d, t)):
        assert_in_bounds(result)
