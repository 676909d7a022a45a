"""SSML 1.1 input, the inline annotations it produces, say-as readers and lexicons (parse level: no models)."""

from __future__ import annotations

from pathlib import Path

import pytest

from limelight.errors import ScriptError
from limelight.script import AudioSegment, PauseSegment, Prosody, TextSegment, parse
from limelight.text import inline
from limelight.text.lexicon import LexiconError, check_ipa, lexicon_from, parse_pls, parse_tsv, xsampa_to_ipa
from limelight.text.sayas import say_as

NS = 'version="1.1" xmlns="http://www.w3.org/2001/10/synthesis"'


def ssml(body: str, lang: str = "en-US") -> str:
    return f'<?xml version="1.0"?>\n<speak {NS} xml:lang="{lang}">{body}</speak>'


def texts(source: str) -> list[str]:
    return [s.written for s in parse(source).segments if isinstance(s, TextSegment)]


def error_of(source: str) -> ScriptError:
    with pytest.raises(ScriptError) as info:
        parse(source)
    return info.value


# -- detection -------------------------------------------------------------------------------------------
def test_versioned_speak_is_ssml_not_refused() -> None:
    script = parse(ssml("Hello there."))
    assert script.ssml and script.plain_text() == "Hello there."
    assert script.speakers[0].voice is None and script.speakers[0].gender is None  # the default voice
    assert script.language == "en"


def test_bare_speak_without_our_attributes_is_ssml() -> None:
    assert parse("<speak>Hi <break time='300ms'/> you.</speak>").ssml
    assert not parse('<speak voice="calm" gender="male">Hi</speak>').ssml


# -- breaks, paragraphs, sentences -----------------------------------------------------------------------
def test_break_time_and_strength() -> None:
    script = parse(ssml('One. <break time="1.5s"/> Two. <break strength="strong"/> Three. <break time="250ms"/>'))
    pauses = [s.seconds for s in script.segments if isinstance(s, PauseSegment)]
    assert pauses == [1.5, 0.7, 0.25]  # a trailing explicit break is kept
    weak = parse(ssml('Wait <break strength="weak"/> for it.'))
    assert texts(ssml('Wait <break strength="weak"/> for it.')) == ["Wait, for it."]
    assert not any(isinstance(s, PauseSegment) for s in weak.segments)  # weak: a comma, the sentence stays whole
    assert texts(ssml('No <break strength="none"/>pause.')) == ["No pause."]


def test_paragraphs_and_sentences() -> None:
    script = parse(ssml("<p><s>First sentence</s><s>Second one</s></p><p>Next paragraph.</p>"))
    kinds = [type(s).__name__ for s in script.segments]
    assert kinds == ["TextSegment", "PauseSegment", "TextSegment"]
    assert script.segments[0].written == "First sentence. Second one."


def test_explicit_break_replaces_the_paragraph_pause() -> None:
    script = parse(ssml('<p>One.</p><break time="200ms"/><p>Two.</p>'))
    assert [s.seconds for s in script.segments if isinstance(s, PauseSegment)] == [0.2]


# -- prosody, emphasis -----------------------------------------------------------------------------------
def test_prosody_values_nest() -> None:
    script = parse(ssml('<prosody rate="slow" pitch="+2st" volume="-6dB">A <prosody rate="50%" pitch="low">'
                        'b</prosody></prosody> c'))
    segs = [s for s in script.segments if isinstance(s, TextSegment)]
    assert segs[0].prosody == Prosody(rate=0.8, pitch=2.0, volume_db=-6.0)
    assert segs[1].prosody == Prosody(rate=0.4, pitch=0.0, volume_db=-6.0)
    assert segs[2].prosody is None
    assert parse(ssml('<prosody rate="+20%" pitch="10%" volume="loud">x</prosody>')).segments[0].prosody.rate == 1.2
    seg = parse(ssml('<prosody contour="(0%,+20Hz) (100%,-2st)">One two. Three.</prosody>')).segments[0]
    contour = seg.prosody.contour
    assert contour[0][0] == 0.0 and contour[1] == (1.0, -2.0)
    assert seg.text == inline.contour("One two", contour) + ". " + inline.contour("Three", contour) + "."
    assert seg.written == "One two. Three."
    inside, points = inline.contour_marks(seg.text)
    assert points == ((0.0, 2.0), (1.0, -2.0)) and sum(inside) == len("One twoThree")


@pytest.mark.parametrize(("attr", "value"), [("rate", "zoom"), ("pitch", "+2 octaves"), ("volume", "200"),
                                             ("rate", "0.01")])
def test_bad_prosody_value_names_element_and_value(attr: str, value: str) -> None:
    err = error_of(ssml(f'\n  <prosody {attr}="{value}">x</prosody>'))
    assert err.line == 3 and f'{attr}="{value}"' in err.message and "<prosody>" in err.message


def test_emphasis_levels_become_annotations() -> None:
    seg = parse(ssml('I <emphasis level="strong">never</emphasis> said <emphasis>that</emphasis>, '
                     '<emphasis level="none">ok</emphasis>')).segments[0]
    assert seg.text == ("I " + inline.emphasize("never", "strong") + " said " + inline.emphasize("that")
                        + ", ok")
    assert seg.written == "I never said that, ok"
    assert "reduced" in error_of(ssml('<emphasis level="loud">x</emphasis>')).message


def test_star_emphasis_in_plain_text_and_markup() -> None:
    assert parse("I *never* said that.").segments[0].text == f"I {inline.emphasize('never')} said that."
    assert parse("It is **very** late").segments[0].text == f"It is {inline.emphasize('very', 'strong')} late"
    assert parse("5 * 3 = 15 and a*b").segments[0].text == "5 * 3 = 15 and a*b"


# -- say-as, sub, phoneme --------------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "fmt", "text", "spoken"), [
    ("characters", None, "IBM", "I, B, M"),
    ("cardinal", None, "1,234", "one thousand two hundred and thirty four"),
    ("ordinal", None, "21st", "twenty first"),
    ("digits", None, "2024", "two zero two four"),
    ("date", "dmy", "14/03/2024", "the fourteenth of March twenty twenty four"),
    ("date", "mdy", "3/14/1999", "March fourteenth nineteen ninety nine"),
    ("date", "ym", "2024-03", "March twenty twenty four"),
    ("time", None, "14:30", "fourteen thirty"),
    ("time", "hms12", "9:05pm", "nine oh five P M"),
    ("telephone", None, "+1 (800) 555-0199", "plus one, eight zero zero, five five five, zero one nine nine"),
    ("currency", None, "$42.50", "forty-two dollars and fifty cents"),
    ("currency", None, "12 EUR", "twelve euros"),
    ("fraction", None, "3/4", "three fourths"),
])
def test_say_as_readers(kind: str, fmt: str | None, text: str, spoken: str) -> None:
    assert inline.spoken(say_as(text, kind, fmt)) == spoken


def test_say_as_in_a_document_and_its_errors() -> None:
    seg = parse(ssml('Call <say-as interpret-as="telephone">555-0100</say-as>.')).segments[0]
    assert (seg.written, inline.spoken(seg.text)) == ("Call 555-0100.", "Call five five five, zero one zero zero.")
    err = error_of(ssml('\n<say-as interpret-as="date" format="dmy">31/02</say-as>'))
    assert err.line == 3 and "date" in err.message and "31/02" in err.message
    script = parse(ssml('<say-as interpret-as="vxml:boolean">yes</say-as>'))
    assert script.plain_text() == "yes" and script.notes[0].field.startswith("say-as")


def test_sub_and_phoneme() -> None:
    seg = parse(ssml('The <sub alias="World Wide Web Consortium">W3C</sub> says '
                     '<phoneme alphabet="ipa" ph="təˈmɑːtoʊ">tomato</phoneme>.')).segments[0]
    assert seg.written == "The World Wide Web Consortium says tomato."
    assert inline.pronounce("tomato", ipa="təmˈɑːtoʊ") in seg.text
    xs = parse(ssml('<phoneme alphabet="x-sampa" ph="t@\'mA:toU">tomato</phoneme>')).segments[0]
    assert inline.pronounce("tomato", ipa="təmˈɑːtoʊ") in xs.text
    err = error_of(ssml('\n <phoneme ph="k☃t">cat</phoneme>'))
    assert (err.line, "☃") == (3, err.message.split("symbol(s) ")[1][0])


def test_phonemizer_splices_pronunciations_and_keeps_emphasis() -> None:
    from limelight.text.phonemes import phonemize

    text = f"Say {inline.pronounce('Nguyen', ipa='wˈɪn')} {inline.emphasize('now')}, please."
    ipa = phonemize(text)
    assert "wˈɪn" in ipa and ipa.endswith(".")
    clean, levels = inline.emphasis_levels(ipa)
    marked = "".join(c for c, lvl in zip(clean, levels, strict=True) if lvl)
    assert marked == inline.emphasis_levels(phonemize("now"))[0]


# -- voice, language, mark, audio, unsupported -----------------------------------------------------------
def test_voice_lang_and_speakers() -> None:
    script = parse(ssml('Hi. <voice gender="male" age="70">I am old.</voice> <voice name="af_heart">'
                        '<lang xml:lang="fr-FR">Bonjour.</lang></voice> <voice gender="male" age="70">Again.</voice>'))
    speakers = {s.id: s for s in script.speakers}
    segs = [s for s in script.segments if isinstance(s, TextSegment)]
    assert speakers[segs[1].speaker_id].voice == "a 70-year-old man"
    assert speakers[segs[1].speaker_id].gender == "male"
    assert speakers[segs[2].speaker_id].voice == "af_heart" and segs[2].language == "fr"
    assert segs[3].speaker_id == segs[1].speaker_id
    err = error_of(ssml("x", lang="tlh"))
    assert "tlh" in err.message and err.line == 2


def test_marks_are_kept_with_their_offsets() -> None:
    script = parse(ssml('Go <mark name="here"/>now. <break time="1s"/><mark name="after"/>Done.'))
    assert [(m.name, m.segment, m.offset) for m in script.marks] == [("here", 0, 3), ("after", 2, 0)]


def test_audio_local_file_url_and_fallback(tmp_path: Path) -> None:
    clip = tmp_path / "ding.wav"
    clip.write_bytes(b"RIFF")
    script = parse(ssml(f'Listen. <audio src="{clip.name}">a bell</audio> Done.'), base_dir=tmp_path,
                   allow_audio_files=True)
    assert any(isinstance(s, AudioSegment) and s.path == str(clip) for s in script.segments)
    remote = parse(ssml('Listen. <audio src="https://example.com/x.wav">a bell</audio>'), allow_audio_files=True)
    assert remote.plain_text() == "Listen. a bell" and "URL" in remote.notes[0].reason
    served = parse(ssml(f'<audio src="{clip}">bell</audio>'), allow_audio_files=False)
    assert served.plain_text() == "bell" and served.notes


def test_unknown_element_and_attribute_errors_name_them() -> None:
    err = error_of(ssml("\n  <emphasys>x</emphasys>"))
    assert (err.line, err.col) == (3, 3) and "<emphasys>" in err.message and "emphasis" in err.message
    err = error_of(ssml('<break tiem="1s"/>'))
    assert "tiem" in err.message and "time" in err.message
    assert "does not match" in error_of(ssml("<emphasis>x</prosody>")).message
    assert "does not match" in error_of(f"<speak {NS}><p>x</speak>").message
    vendor = parse(ssml('<amazon:effect name="whispered">quiet</amazon:effect>'))
    assert vendor.plain_text() == "quiet" and vendor.notes[0].field == "amazon:effect"


# -- lexicons --------------------------------------------------------------------------------------------
def test_tsv_lexicon_case_inflection_and_phrases() -> None:
    lex = parse_tsv("# names\nnguyen\t/wˈɪn/\nSiobhan\tshiv awn\nNew York\t/nuː jˈɔːɹk/\n")
    out = lex.apply("Nguyen and NGUYEN's friend Siobhan met the Nguyens in New York, not siobhan.")
    assert out.count(inline.PRON_OPEN) == 5  # siobhan (lower case) does not match the capitalised entry
    assert inline.pronounce("Nguyen's", ipa="wˈɪnz") in out.replace("NGUYEN's", "Nguyen's")
    assert inline.strip(out) == "Nguyen and NGUYEN's friend Siobhan met the Nguyens in New York, not siobhan."
    assert inline.spoken(out).startswith("Nguyen and NGUYEN's friend shiv awn")


def test_lexicon_bad_entry_names_the_line() -> None:
    with pytest.raises(LexiconError) as info:
        parse_tsv("ok\t/oʊkˈeɪ/\n\nbad\t/b☃d/\n", source="names.tsv")
    assert info.value.line == 3 and "names.tsv line 3" in info.value.message and "☃" in info.value.message
    with pytest.raises(LexiconError):
        parse_tsv("just-one-column\n")


def test_pls_lexicon_ipa_xsampa_and_alias() -> None:
    pls = """<?xml version="1.0"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" alphabet="ipa" xml:lang="en-US">
  <lexeme><grapheme>Kokoro</grapheme><phoneme>kˈoʊkəɹoʊ</phoneme></lexeme>
  <lexeme><grapheme>W3C</grapheme><alias>World Wide Web Consortium</alias></lexeme>
  <lexeme><grapheme>tomato</grapheme><phoneme alphabet="x-sampa">t@"mA:toU</phoneme></lexeme>
</lexicon>"""
    lex = parse_pls(pls)
    assert lex.lookup("kokoro") is None and lex.lookup("Kokoro").ipa == "kˈoʊkəɹoʊ"
    assert lex.lookup("W3C").say == "World Wide Web Consortium"
    assert lex.lookup("tomato").ipa == "təmˈɑːtoʊ"
    with pytest.raises(LexiconError) as info:
        parse_pls(pls.replace("kˈoʊkəɹoʊ", "k☃"))
    assert info.value.line == 3


def test_lexicon_from_dict_and_ipa_helpers() -> None:
    lex = lexicon_from({"gif": "/ɡɪf/"})
    assert lex is not None and lex.lookup("GIF").ipa == "ɡɪf"
    assert check_ipa("/ˈɡɪf/") == ("ɡˈɪf", []) and check_ipa("pɪˈkɑːn")[0] == "pɪkˈɑːn"
    assert xsampa_to_ipa('"tS{t') == "ˈtʃæt"


def test_ssml_elements_inside_our_markup() -> None:
    source = ('<speak voice="A calm man" gender="male">I <emphasis level="strong">never</emphasis> said '
              '<say-as interpret-as="characters">BBC</say-as>,<break time="800ms"/> <mark name="m"/>the '
              '<sub alias="doctor">Dr</sub> said <phoneme ph="təˈmɑːtoʊ">tomato</phoneme>. *Really*.</speak>')
    script = parse(source)
    assert script.plain_text() == "I never said B, B, C, the doctor said tomato. Really."
    assert [type(s).__name__ for s in script.segments] == ["TextSegment", "PauseSegment", "TextSegment"]
    assert [(m.name, m.segment, m.offset) for m in script.marks] == [("m", 2, 0)]
    assert inline.emphasize("never", "strong") in script.segments[0].text
    err = error_of('<speak voice="a" gender="male">x <say-as interpret-as="date" format="dmy">32/13/2020'
                   '</say-as></speak>')
    assert (err.line, err.col) == (1, 34) and "day 32" in err.message
    assert "holds text only" in error_of('<speak voice="a" gender="male"><sub alias="x"><emphasis>y</emphasis>'
                                         '</sub></speak>').message


DOCS = Path(__file__).parent / "data" / "ssml"


@pytest.mark.parametrize("path", sorted(DOCS.glob("*.xml")), ids=lambda p: p.stem)
def test_w3c_style_documents_parse(path: Path) -> None:
    """One document per section of the SSML 1.1 recommendation (our own wording): each parses, says its
    words, and reports what it cannot perform instead of dropping it."""
    script = parse(path.read_text(encoding="utf-8"), base_dir=DOCS, allow_audio_files=True)
    assert script.ssml and script.plain_text().strip()
    fields = {n.field for n in script.notes}
    expected = {"03_lexicon_lookup": {"lexicon", "lookup"}, "13_prosody": {"prosody@contour", "prosody@duration"},
                "14_audio": {"audio"}, "16_desc": {"audio"}}
    assert expected.get(path.stem, set()) <= fields
    assert "applause" not in script.plain_text()  # <desc> describes, it is not spoken


def test_other_dialects_are_reported_not_refused() -> None:
    doc = ('<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xmlns:mstts="https://www.w3.org/2001/mstts"'
           ' xml:lang="en-US"><voice name="en-US-JennyNeural"><mstts:express-as style="cheerful">Great news!'
           '</mstts:express-as></voice> <voice name="Matthew">Hi.</voice> <par><media begin="0.5s"><speak>Nested.'
           '</speak></media></par> <say-as interpret-as="date" format="yyyy-mm-dd">2024-03-14</say-as> '
           '<prosody rate="medium" foo="1">ok</prosody></speak>')
    script = parse(doc)
    assert script.plain_text() == "Great news! Hi. Nested. March fourteenth twenty twenty four ok"
    assert [(s.voice, s.gender) for s in script.speakers][:2] == [(None, "female"), ("Matthew", "male")]
    assert {"voice@name", "mstts:express-as", "par", "media", "prosody@foo"} <= {n.field for n in script.notes}
    assert "did you mean <emphasis>" in error_of(ssml("<emphasys>x</emphasys>")).message


def test_plain_text_with_ssml_tags_asks_for_speak_and_stars_work_in_ssml() -> None:
    err = error_of("Hello <break time='1s'/> there")
    assert "<break> is markup" in err.message and 'version="1.1"' in err.message
    assert parse(ssml("I *never* did &#42;this&#42;.")).segments[0].text == \
        f"I {inline.emphasize('never')} did *this*."


def test_normalisation_leaves_pronunciations_whole() -> None:
    from limelight.text.normalize import normalize

    phone = parse(ssml('Call <say-as interpret-as="telephone">+44 20 7946</say-as> at 9:30 now.')).segments[0].text
    spoken = inline.outside_pronunciations(phone, normalize)
    assert inline.strip(spoken) == "Call +44 20 7946 at nine thirty now."
    annotation = phone[phone.index(inline.PRON_OPEN): phone.index(inline.PRON_CLOSE) + 1]
    assert annotation in spoken  # the annotation is untouched: no space entered it


def test_a_direction_that_names_a_word_stresses_it() -> None:
    script = parse('<speak voice="A calm man" gender="male"><action>Angry, stress *never* hard</action>I never said '
                   'that, never! <action>calm, emphasising "mine"</action>It is mine.<action>Emphasizing every '
                   'word</action> Plain.</speak>')
    texts_ = [s.text for s in script.segments]
    assert texts_[0] == f"I {inline.emphasize('never', 'strong')} said that, never!"  # the next one only
    assert texts_[1] == f"It is {inline.emphasize('mine')}."
    assert texts_[2] == "Plain."
