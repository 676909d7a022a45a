"""Tests for the script stage: `<speak>` markup and plain text → Script."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from limelight.errors import LimelightError, ScriptError
from limelight.script import (
    KNOWN_EVENTS,
    EventSegment,
    PauseSegment,
    SceneSegment,
    Script,
    SoundSegment,
    TextSegment,
    canonical_event,
    parse,
)

SHARED = Path(os.environ.get("LIMELIGHT_SHARED", Path(__file__).resolve().parents[2] / "shared"))
SCRIPTS = SHARED / "texts" / "scripts"
GOOD_SCRIPTS = sorted(p for p in SCRIPTS.glob("*.xml") if not p.name.startswith("bad_"))
BAD_SCRIPTS = sorted(SCRIPTS.glob("bad_*.xml"))


def speak(body: str, **attrs: str) -> str:
    attrs = {"voice": "A calm man", "gender": "male", **attrs}
    shown = " ".join(f'{k}="{v}"' for k, v in attrs.items())
    return f"<speak {shown}>{body}</speak>"


def error_of(source: str) -> ScriptError:
    with pytest.raises(ScriptError) as info:
        parse(source)
    return info.value


def offset_of(source: str, line: int, col: int) -> int:
    """The string offset of a 1-based line/col (newlines normalised as the parser does)."""
    lines = source.split("\n")
    return sum(len(x) + 1 for x in lines[: line - 1]) + col - 1


def types(script: Script) -> list[str]:
    return [type(s).__name__ for s in script.segments]


# -- the shared sample scripts --------------------------------------------------------------------


@pytest.mark.parametrize("path", GOOD_SCRIPTS, ids=lambda p: p.name)
def test_every_sample_script_parses(path: Path) -> None:
    source = path.read_text()
    script = parse(source)
    assert script.source_is_markup
    assert len(script.speakers) == 1
    speaker = script.speakers[0]
    assert speaker.gender in ("male", "female") and speaker.voice
    assert script.plain_text()
    # Every text segment's line/col points at its first word in the file.
    for seg in script.text_segments():
        at = offset_of(source, seg.line, seg.col)
        assert source[at:].startswith(seg.text.split()[0])


def test_bad_samples_exist() -> None:
    assert [p.name for p in BAD_SCRIPTS] == ["bad_unclosed.xml"]


def test_unclosed_action_sample_names_line_and_col() -> None:
    err = error_of((SCRIPTS / "bad_unclosed.xml").read_text())
    assert (err.line, err.col) == (2, 1)
    assert str(err).startswith("line 2, col 1: <action> is not closed")
    assert isinstance(err, LimelightError) and err.code == "invalid_script"


def test_breakdown_actions_apply_until_the_next_action() -> None:
    script = parse((SCRIPTS / "breakdown.xml").read_text())
    assert [(s.action, s.text[:10]) for s in script.text_segments()] == [
        ("Calm, almost casual. Staring at his hands.", "I used to "),
        ("Voice tightens. Fighting to stay composed.", "Then one T"),
        ("Long pause. Deep breath. Raw but steady.", "And I real"),
    ]
    assert script.scene is None and script.language == "en"
    assert script.speakers[0].voice == "Middle-aged man, warm but weathered."


def test_storm_sounds_sit_between_speech_and_the_scene_is_prominent() -> None:
    script = parse((SCRIPTS / "storm.xml").read_text())
    assert types(script) == ["SoundSegment", "TextSegment", "SoundSegment", "TextSegment"]
    sound = script.segments[2]
    assert isinstance(sound, SoundSegment)
    assert (sound.description, sound.line, sound.col) == ("Thunder cracks overhead", 6, 1)
    assert script.scene == "Open dock in a thunderstorm, heavy rain" and script.shot == "scene"
    # The action is still in effect after the sound.
    assert {s.action for s in script.text_segments()} == {"He shouts over the storm"}


def test_asmr_event_follows_its_sentence() -> None:
    script = parse((SCRIPTS / "asmr.xml").read_text())
    seg = script.segments[2]
    assert isinstance(seg, EventSegment)
    assert (seg.event, seg.action, seg.line, seg.col) == ("sigh", "Speaking softly.", 5, 43)
    assert script.segments[1].text == "This is my favourite part of the evening."


# -- plain text ----------------------------------------------------------------------------------


def test_plain_text_is_one_default_speaker_without_directions() -> None:
    script = parse("  Hello there.\n\n  How are   you?  ")
    assert not script.source_is_markup
    assert [(s.id, s.voice, s.gender) for s in script.speakers] == [("speaker1", None, None)]
    assert [s.text for s in script.text_segments()] == ["Hello there. How are you?"]
    seg = script.segments[0]
    assert (seg.line, seg.col, seg.action) == (1, 3, None)


def test_plain_text_keeps_less_than_and_ampersand_but_rejects_stray_markup() -> None:
    # Entities decode as in markup, so the &#91; escape for a literal bracket works everywhere.
    assert parse("3 < 5 & AT&amp;T &#91;1]").plain_text() == "3 < 5 & AT&T [1]"
    err = error_of("Hello <action>Angry</action> world")
    assert (err.line, err.col) == (1, 7) and "<speak" in err.message


def test_plain_text_events_split_the_text() -> None:
    script = parse("Well [laughs] that was fun.")
    assert types(script) == ["TextSegment", "EventSegment", "TextSegment"]
    assert script.plain_text() == "Well that was fun."


@pytest.mark.parametrize("source", ["", "   \n\t ", "<!-- only a comment -->"])
def test_empty_input_is_an_error(source: str) -> None:
    assert "nothing to say" in error_of(source).message


# -- events --------------------------------------------------------------------------------------


def test_known_events_cover_the_documented_tokens() -> None:
    documented = ["laughter", "laugh", "chuckle", "sigh", "gasp", "cough", "sniff", "groan", "breath",
                  "inhale", "exhale", "scream", "cry", "sob", "yawn", "hum", "clears throat", "pause"]
    for token in documented:
        assert canonical_event(token) is not None, token
    assert len(KNOWN_EVENTS) >= 20


@pytest.mark.parametrize(("written", "event", "manner"), [
    ("laughter", "laugh", None),
    ("Laughing.", "laugh", None),
    ("clears throat", "clear_throat", None),
    ("Clears-Throat", "clear_throat", None),
    ("clear_throat", "clear_throat", None),
    ("sighs", "sigh", None),
    ("sniffles", "sniff", None),
    ("deep breath", "breath", None),
    ("laughs nervously", "laugh", "nervously"),
    ("long sigh", "sigh", "long"),
    ("long pause", "long_pause", None),
])
def test_event_synonyms_map_to_canonical_names(written: str, event: str, manner: str | None) -> None:
    script = parse(speak(f"Oh [{written}] no"))
    seg = script.segments[1]
    assert isinstance(seg, EventSegment)
    assert (seg.event, seg.manner) == (event, manner)
    assert seg.event in KNOWN_EVENTS


def test_unknown_event_lists_the_known_ones_with_position() -> None:
    err = error_of(speak("Oh\n  no [dances]"))
    assert (err.line, err.col) == (2, 6)
    assert "unknown event [dances]" in err.message
    for name in ("[laugh]", "[sigh]", "[clear throat]", "[pause]"):
        assert name in err.message


@pytest.mark.parametrize("content", ["", "laugh track", "1", "laughs loudly and long"])
def test_things_that_are_not_events_are_rejected(content: str) -> None:
    assert canonical_event(content) is None


def test_unclosed_bracket_and_literal_bracket_escape() -> None:
    source = speak("Wait [laugh and go")
    err = error_of(source)
    assert (err.line, err.col) == (1, source.index("[") + 1) and "'[' is not closed" in err.message
    assert parse(speak("Item &#91;1] costs")).plain_text() == "Item [1] costs"


def test_brackets_inside_actions_and_sounds_are_descriptions_not_events() -> None:
    script = parse(speak("<action>Quiet [whispers]</action>Hi<sound>Door [slam]</sound>"))
    assert script.text_segments()[0].action == "Quiet [whispers]"
    assert isinstance(script.segments[1], SoundSegment) and script.segments[1].description == "Door [slam]"


def test_events_carry_speaker_and_action() -> None:
    girl = '<line voice="A girl" gender="female">[giggles]</line>'
    script = parse(speak(f"<action>Tired.</action>[yawn] {girl}"))
    first, second = script.segments
    assert isinstance(first, EventSegment) and isinstance(second, EventSegment)
    assert (first.event, first.speaker_id, first.action) == ("yawn", "speaker1", "Tired.")
    assert (second.event, second.speaker_id) == ("giggle", "speaker2")


# -- pauses --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "seconds"), [
    ('seconds="1.2"', 1.2), ("seconds='0.5'", 0.5), ("seconds=2", 2.0), ('seconds="800ms"', 0.8),
    ('seconds="1.5s"', 1.5), ('seconds=" 30 "', 30.0), ('seconds=".25"', 0.25),
])
def test_pause_seconds(written: str, seconds: float) -> None:
    source = speak(f"One. <pause {written}/> Two.")
    pause = parse(source).segments[1]
    assert isinstance(pause, PauseSegment)
    assert pause.seconds == pytest.approx(seconds)
    assert (pause.line, pause.col) == (1, source.index("<pause") + 1)


def test_pause_may_be_written_with_a_closing_tag() -> None:
    script = parse(speak('One.<pause seconds="1"></pause>Two.'))
    assert types(script) == ["TextSegment", "PauseSegment", "TextSegment"]


@pytest.mark.parametrize(("written", "needle"), [
    ('seconds="0"', "more than 0"), ('seconds="31"', "at most 30"), ('seconds="-1"', "must be a number"),
    ('seconds="abc"', "must be a number"), ('seconds="nan"', "must be a number"),
    ('seconds="1_0"', "must be a number"), ("", "needs seconds"),
])
def test_bad_pause_values(written: str, needle: str) -> None:
    err = error_of(speak(f"One.\n<pause {written}/>"))
    assert err.line == 2 and needle in err.message


def test_pause_holds_no_text() -> None:
    assert "holds no text" in error_of(speak('<pause seconds="1">Hi</pause>')).message


# -- several speakers ----------------------------------------------------------------------------

DIALOGUE = """<?xml version="1.0" encoding="utf-8"?>
<script scene="A kitchen at dawn" language="en">
  <speak name="anna" voice="Young woman, sleepy" gender="female" register="soft">
    Morning.
    <line voice="Old man, gruff" gender="male" register="loud">Coffee's cold!</line>
    <line>Then make more.</line>
  </speak>
  <sound>A kettle whistles</sound>
  <speak voice="Old man, gruff" gender="male" scene="A busy street">
    <action>Grumbling.</action> Fine.
    <line name="anna">Thank you.</line>
  </speak>
</script>
"""


def test_dialogue_speakers_are_resolved_and_reused() -> None:
    script = parse(DIALOGUE)
    assert [(s.id, s.voice, s.gender) for s in script.speakers] == [
        ("anna", "Young woman, sleepy", "female"),
        ("speaker2", "Old man, gruff", "male"),
    ]
    said = [(s.speaker_id, s.text, s.register) for s in script.text_segments()]
    assert said == [
        ("anna", "Morning.", "soft"),
        ("speaker2", "Coffee's cold!", "loud"),
        ("anna", "Then make more.", "soft"),  # a bare <line> is its <speak>'s speaker
        ("speaker2", "Fine.", None),
        ("anna", "Thank you.", None),  # named: voice and gender come from the earlier declaration
    ]
    assert script.scene == "A kitchen at dawn"
    assert types(script)[3:5] == ["SoundSegment", "SceneSegment"]
    change = script.segments[4]
    assert isinstance(change, SceneSegment) and change.scene == "A busy street" and change.line == 9
    # The action of the speak carries into its lines.
    assert script.text_segments()[4].action == "Grumbling."


def test_line_inherits_unspecified_attributes_from_its_speak() -> None:
    script = parse(speak('<line voice="A boy">Hi!</line>', language="fr", register="whisper"))
    seg = script.text_segments()[0]
    speaker = script.speaker(seg.speaker_id)
    assert (speaker.voice, speaker.gender, seg.language, seg.register) == ("A boy", "male", "fr", "whisper")


def test_several_speak_blocks_without_a_script_root() -> None:
    source = speak("One.") + "\n" + speak("Two.", voice="A woman", gender="female")
    script = parse(source)
    assert [s.id for s in script.speakers] == ["speaker1", "speaker2"]
    assert script.plain_text() == "One. Two."


def test_lines_directly_under_script_need_their_own_voice() -> None:
    ok = parse('<script><line voice="A" gender="male">Hi.</line></script>')
    assert ok.plain_text() == "Hi."
    err = error_of('<script>\n<line gender="male">Hi.</line></script>')
    assert (err.line, err.col) == (2, 1) and "<line> has no voice" in err.message


def test_a_name_keeps_its_voice() -> None:
    err = error_of('<script><speak name="a" voice="X" gender="male">Hi</speak>\n'
                   '<speak name="a" voice="Y" gender="male">Yo</speak></script>')
    assert err.line == 2 and 'speaker "a" was given voice "X"' in err.message


def test_action_inside_a_line_ends_with_the_line() -> None:
    script = parse(speak('<action>Calm.</action>A <line><action>Angry.</action>B</line> C'))
    assert [s.action for s in script.text_segments()] == ["Calm.", "Angry.", "Calm."]


def test_register_comes_from_action_then_line_then_speak() -> None:
    script = parse(speak('A <action register="shout">Yelling.</action> B <action>Calm.</action> C '
                         '<line register="whisper">D</line>', register="soft"))
    assert [s.register for s in script.text_segments()] == ["soft", "shout", "soft", "whisper"]


def test_empty_action_clears_the_direction() -> None:
    script = parse(speak("<action>Sad.</action>A <action></action>B"))
    assert [s.action for s in script.text_segments()] == ["Sad.", None]


def test_new_speak_starts_without_an_action() -> None:
    script = parse(speak("<action>Sad.</action>A") + speak("B"))
    assert [s.action for s in script.text_segments()] == ["Sad.", None]


# -- tolerance -----------------------------------------------------------------------------------


def test_tolerates_what_people_type() -> None:
    source = ('\ufeff<?xml version="1.0"?>\r\n<!-- draft 2 -->\r\n'
              '<Speak Voice=“Old   man,\r\n   tired” gender=”Male” language="EN_us">\r\n'
              '  Tom & Jerry &amp; co.  <!-- cut? -->  Caf&eacute; &#x263A;\r\n'
              '  <![CDATA[a <b> & [c]]]>\r\n</SPEAK>\r\n')
    script = parse(source)
    speaker = script.speakers[0]
    assert (speaker.voice, speaker.gender, speaker.language) == ("Old man, tired", "male", "en-us")
    assert script.plain_text() == "Tom & Jerry & co. Café ☺ a <b> & [c]"
    seg = script.segments[0]
    assert (seg.line, seg.col) == (5, 3)


def test_single_smart_quotes_and_bare_values() -> None:
    script = parse("<speak voice=‘A man’ gender=male>Hi <pause seconds=1/></speak>")
    assert script.speakers[0].voice == "A man"
    assert types(script) == ["TextSegment", "PauseSegment"]


def test_less_than_that_is_not_a_tag_is_text() -> None:
    assert parse(speak("I <3 you, 1 < 2")).plain_text() == "I <3 you, 1 < 2"


def test_comments_do_not_split_text() -> None:
    script = parse(speak("Hel<!-- x -->lo\n   world"))
    assert [s.text for s in script.text_segments()] == ["Hello world"]


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "where", "needle"), [
    ('<speak voice="x" gender="male">\n  Hi</line>\n</speak>', (2, 5),
     "</line> does not match the open <speak>"),
    ('<speak voice="x" gender="male">\n<line>Hi\n</speak>', (2, 1), "<line> is not closed before </speak>"),
    ('<speak voice="x" gender="male">\nHi', (1, 1), "<speak> is not closed"),
    ('<speak voice="x" gender="male">Hi</speak>\n</speak>', (2, 1), "</speak> closes nothing"),
    ('<speak voice="x" gender="male">\n<sound>Boom\n<action>Hi</action></sound></speak>', (2, 1),
     "<sound> is not closed before <action>"),
    ('<speak gender="male">\n Hi</speak>', (1, 1), "missing the required attribute voice"),
    ('<speak voice="x">\n Hi</speak>', (1, 1), "missing the required attribute gender"),
    ('<speak voice="x" gender="male" />', (1, 1), "nothing to say"),
    ('<speak voice="x" gender="robot">Hi</speak>', (1, 26), 'gender must be "male" or "female"'),
    ('<speak voice="  " gender="male">Hi</speak>', (1, 15), "voice of <speak> is empty"),
    ('<speak voice="x" gender="male" register="yell">Hi</speak>', (1, 42), "register must be one of"),
    ('<speak voice="x" gender="male" language="English">Hi</speak>', (1, 42), "language code"),
    ('<speak voice="x" voice="y" gender="male">Hi</speak>', (1, 18), "voice is given twice"),
    ('<speak voice="Old man gender="male">Hi</speak>', (1, 14), "missing its closing quote"),
    ('<speak voice="Old man>Hi</speak>', (1, 14), "is not closed"),
    ('<speak voice="x" gender="male"\n>Hi', (1, 1), "<speak> is not closed"),
    ('<speak voice="x" gender', (1, 18), "needs a value"),
    ('<speak voice="x" gender="male">Hi</speak>\nBye', (2, 1), "text outside <speak>"),
    ('<speak voice="x" gender="male"><speak voice="y" gender="male">Hi</speak></speak>', (1, 32),
     "<speak> cannot be inside <speak>"),
    ('<action>Hi</action>', (1, 1), "must be inside a <speak> or <line>"),
    ('<speak voice="x" gender="male">Hi</speak><script></script>', (1, 42), "outermost"),
    ('<speak voice="x" gender="male"><!-- oops', (1, 32), "comment <!-- is not closed"),
    ('<speak voice="x" gender="male">Hi</speak', (1, 34), "</speak> is missing its closing '>'"),
    ('<speak voice="x" gender="male" / >Hi</speak>', (1, 35), "text outside <speak>"),
])
def test_errors_name_the_problem_and_where(source: str, where: tuple[int, int], needle: str) -> None:
    err = error_of(source)
    assert (err.line, err.col) == where, str(err)
    assert needle in err.message, str(err)
    assert str(err).startswith(f"line {where[0]}, col {where[1]}: ")


def test_unknown_attribute_lists_the_allowed_ones() -> None:
    err = error_of('<speak voice="x" gender="male" emotion="sad">Hi</speak>')
    assert (err.line, err.col) == (1, 32)
    assert "no attribute emotion" in err.message
    assert "allowed attributes: voice, gender, scene, language, shot, register, name" in err.message
    err = error_of(speak('<action mood="x">Hi</action>'))
    assert "allowed attributes: register" in err.message
    assert "takes no attributes" in error_of(speak('<sound volume="3">Boom</sound>')).message
    assert "did you mean voice?" in error_of('<speak voise="x" gender="male">Hi</speak>').message


def test_unknown_tag_lists_the_allowed_ones() -> None:
    err = error_of(speak("Hi\n <blink>there</blink>"))
    assert (err.line, err.col) == (2, 2)
    assert "unknown tag <blink>" in err.message
    assert "allowed tags: <script>, <speak>, <line>, <action>, <sound>, <pause>, <break>, <emphasis>" in err.message
    assert "prosody" in error_of(speak('Hi <prosody rate="slow">x</prosody>')).message
    assert "unknown tag </em>" in error_of(speak("Hi </em>")).message


def test_misplaced_tag_says_what_its_parent_may_hold() -> None:
    err = error_of(speak('<line voice="a"><line voice="b">x</line></line>'))
    assert "<line> cannot be inside <line>" in err.message
    assert "may hold text, [events] and <action>, <sound>, <pause>" in err.message


def test_sound_needs_a_description() -> None:
    assert "needs a description" in error_of(speak("Hi <sound> </sound>")).message


# -- property-based ------------------------------------------------------------------------------

FRAGMENTS = ["<speak", "<speak voice=\"a\" gender=\"male\">", "</speak>", "<script>", "</script>",
             "<line>", "<line voice='b' gender=female>", "</line>", "<action>", "</action>", "<sound>",
             "</sound>", "<pause seconds=\"1\"/>", "<pause", "/>", ">", "<", "</", "[", "]", "[laugh]",
             "[foo]", "&", "&amp;", "&#0;", "&#xD800;", "&#99999999;", "\"", "“", "”", "'", "=", "<!--",
             "-->", "<?xml", "?>", "<![CDATA[", "]]>", "\n", " ", "\r", "\ufeff", "voice", "gender=",
             "register=\"loud\"", "seconds=\"x\"", "<!DOCTYPE x>", "hello", "é"]


def check_error_position(source: str, err: ScriptError) -> None:
    if err.line is None:
        return
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    assert 1 <= err.line <= len(lines)
    assert err.col is not None and 1 <= err.col <= len(lines[err.line - 1]) + 1


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_random_text_never_crashes(source: str) -> None:
    try:
        parse(source)
    except ScriptError as err:
        check_error_position(source, err)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=30).map("".join))
def test_random_markup_never_crashes(source: str) -> None:
    try:
        script = parse(source)
    except ScriptError as err:
        check_error_position(source, err)
        return
    assert all(s.speaker_id in {p.id for p in script.speakers}
               for s in script.segments if isinstance(s, TextSegment | EventSegment))


WORD = st.text(alphabet=st.sampled_from("abcxyzABCéßж0129.,!?'-&"), min_size=1, max_size=8)
EVENT_SPELLINGS = ["laugh", "sighs", "clears throat", "Gasp", "long pause"]
SPACE = st.sampled_from([" ", "\n", "  \n\t", " <!-- c --> "])


@st.composite
def valid_scripts(draw: st.DrawFn) -> tuple[str, list[str], list[str]]:
    """A random valid multi-speaker script, with the words and the events it must yield."""
    words: list[str] = []
    events: list[str] = []

    def body(depth: int) -> str:
        parts: list[str] = []
        for _ in range(draw(st.integers(1, 5))):
            kind = draw(st.sampled_from(["words", "words", "event", "action", "sound", "pause", "line"]))
            if kind == "words":
                chunk = draw(st.lists(WORD, min_size=1, max_size=5))
                words.extend(chunk)
                parts.append(" ".join(chunk))
            elif kind == "event":
                spelling = draw(st.sampled_from(EVENT_SPELLINGS))
                events.append(canonical_event(spelling)[0])  # type: ignore[index]
                parts.append(f"[{spelling}]")
            elif kind == "action":
                parts.append(f"<action>{draw(WORD)} [x] & y</action>")
            elif kind == "sound":
                parts.append(f"<sound>{draw(WORD)}</sound>")
            elif kind == "pause":
                parts.append(f"<pause seconds=\"{draw(st.floats(0.01, 30)):.3f}\"/>")
            elif depth == 0:
                quote = draw(st.sampled_from(['"{}"', "“{}”", "“{}\""]))
                parts.append(f"<line voice={quote.format(draw(WORD))}>{body(1)}</line>")
        return draw(SPACE).join(parts)

    blocks = []
    for _ in range(draw(st.integers(1, 3))):
        gender = draw(st.sampled_from(["male", "female", "Female"]))
        opening = f'<speak voice="{draw(WORD)}" gender="{gender}">'
        blocks.append(f"{opening}{draw(SPACE)}{body(0)}{draw(SPACE)}</speak>")
    source = "\n".join(blocks)
    if len(blocks) > 1 or draw(st.booleans()):
        source = f"<script>\n{source}\n</script>"
    return source, words, events


@settings(max_examples=150, deadline=None)
@given(valid_scripts())
def test_valid_scripts_round_trip_their_words_and_events(case: tuple[str, list[str], list[str]]) -> None:
    source, words, events = case
    try:
        script = parse(source)
    except ScriptError as err:
        assert "nothing to say" in err.message and not words and not events
        return
    assert script.plain_text().split() == words
    assert [s.event for s in script.segments if isinstance(s, EventSegment)] == events
    for seg in script.text_segments():
        at = offset_of(source, seg.line, seg.col)
        assert source[at:].startswith(seg.text.split()[0])


@settings(max_examples=100, deadline=None)
@given(st.lists(WORD, min_size=1, max_size=20), st.lists(SPACE, min_size=1, max_size=3))
def test_plain_text_round_trips_its_words(words: list[str], spaces: list[str]) -> None:
    source = "".join(w + spaces[i % len(spaces)] for i, w in enumerate(words))
    script = parse(source)
    assert script.plain_text().split() == words


def test_positions_are_exact_across_lines() -> None:
    source = speak("\n  first words\n<action>x</action>\n\tsecond  [sigh]  third\n")
    script = parse(source)
    got = [(type(s).__name__, s.line, s.col) for s in script.segments]
    assert got == [("TextSegment", 2, 3), ("TextSegment", 4, 2), ("EventSegment", 4, 10),
                   ("TextSegment", 4, 18)]


def test_script_is_frozen() -> None:
    script = parse("Hi.")
    with pytest.raises(AttributeError):
        script.language = "fr"  # type: ignore[misc]
    assert re.fullmatch(r"speaker\d+", script.speakers[0].id)
