"""The studio's parts without a browser: examples, error placement, a streamed take, the report and the plot.

A real Performer synthesizes every take here (validate off, short scripts), and the plot's pitch is measured on
that real audio.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import TEXTS

from limelight import PerformOptions
from limelight.errors import LimelightError, ScriptError
from limelight.script import parse
from limelight.ui import errors
from limelight.ui.examples import EMBEDDED, load_examples
from limelight.ui.report import HEADERS, chunk_rows, summary_markdown
from limelight.ui.take import TakeDone, TakeProgress, run_take

TWO_CHUNKS = ('<speak voice="jm_kumo" gender="male">Good morning.\n<action>Whispering.</action>\n'
              'Keep your voice down.</speak>')


@pytest.fixture(scope="module")
def performer():
    from limelight import Performer

    return Performer()


@pytest.fixture(scope="module")
def take(performer):
    events = list(run_take(performer, TWO_CHUNKS, validate=False, seed=7))
    return events


def test_embedded_examples_are_valid_scripts():
    assert 3 <= len(EMBEDDED) <= 5
    for example in EMBEDDED:
        script = parse(example.text)
        assert script.segments, example.name


def test_shared_examples_load_after_the_embedded_ones():
    examples = load_examples(TEXTS / "scripts")
    names = [e.name for e in examples]
    assert names[: len(EMBEDDED)] == [e.name for e in EMBEDDED]
    assert "storm" in names and "bad unclosed" in names
    storm = next(e for e in examples if e.name == "storm")
    assert storm.text.startswith("<speak") and storm.source.endswith("storm.xml")


def test_script_error_quotes_the_line_with_a_caret():
    text = (TEXTS / "scripts" / "bad_unclosed.xml").read_text()
    with pytest.raises(ScriptError) as info:
        parse(text)
    assert errors.place_of(info.value) == errors.SCRIPT
    box = errors.error_html(info.value, text)
    assert "line 2, col 1: " in box and "&lt;action&gt; is not closed" in box
    snippet = box.split("<pre class='ll-snippet'>")[1].split("</pre>")[0]
    quoted, caret = snippet.split("\n")
    assert quoted == "  2 | &lt;action&gt;Slowly"
    assert caret.index("^") == len("  2 | ")  # col 1 → under the first character of the line


def test_errors_go_to_the_box_of_their_field(performer):
    with pytest.raises(LimelightError) as pace:
        performer.perform("Hi.", pace=9.0, validate=False)
    assert errors.place_of(pace.value) == errors.SETTINGS
    from limelight.ui.voices import VoiceTools, resolve_choice

    with pytest.raises(LimelightError) as voice:
        resolve_choice("shipped:nobody", dict(performer.engine.voices()), VoiceTools(), {})
    assert errors.place_of(voice.value) == errors.VOICE
    assert errors.place_of(LimelightError("something odd")) == errors.GENERAL
    assert "Traceback" not in errors.bug_html(RuntimeError("boom")) and "RuntimeError: boom" in errors.bug_html(
        RuntimeError("boom"))


def test_take_streams_each_chunk_and_adds_up_to_the_performance(take, performer):
    progress = [e for e in take if isinstance(e, TakeProgress)]
    done = take[-1]
    assert isinstance(done, TakeDone) and sum(isinstance(e, TakeDone) for e in take) == 1
    chunks = done.performance.metadata["chunks"]
    assert len(chunks) == 2 and progress[-1].total == 2
    assert [p.done for p in progress if p.chunk is not None] == [1, 2]
    assert progress[0].audio.size > 0.3 * performer.sample_rate  # first sound before the second chunk exists
    streamed = np.concatenate([p.audio for p in progress])
    assert np.array_equal(streamed, done.performance.audio)
    assert chunks[1]["direction"]["register"] == "whisper"


def test_take_takes_an_options_object_and_matches_perform(performer):
    options = PerformOptions(validate=False, seed=3)
    events = list(run_take(performer, "One short line.", options))
    assert [type(e) for e in events] == [TakeProgress, TakeDone]
    assert np.array_equal(events[0].audio, events[1].performance.audio) and events[0].done == 1
    assert np.array_equal(events[1].performance.audio, performer.perform("One short line.", options).audio)


def test_a_scene_take_arrives_mixed_with_its_stems(performer):
    script = ('<speak voice="jf_alpha" gender="female" scene="A busy cafe">Two coffees, please.'
              "<sound>Door slams</sound></speak>")
    events = list(run_take(performer, script, validate=False, seed=5, background_sfx=True))
    progress = [e for e in events if isinstance(e, TakeProgress)]
    perf = events[-1].performance
    assert perf.stems is not None and set(perf.stems) >= {"voice", "ambience", "effects"}
    heard = np.concatenate([p.audio for p in progress])
    assert np.array_equal(heard, perf.audio)  # the mix, never the dry voice, is what gets played
    assert np.abs(perf.stems["ambience"]).max() > 0.001  # background_sfx keeps the cafe


def test_report_rows_and_summary(take):
    metadata = take[-1].performance.metadata
    rows = chunk_rows(metadata)
    assert len(rows[0]) == len(HEADERS)
    assert rows[0][3] == "Good morning." and rows[1][3] == "Keep your voice down."
    assert rows[0][6] == "not checked" and rows[0][7] == 1
    assert rows[0][4] == pytest.approx(metadata["chunks"][0]["duration_s"], abs=0.01)
    assert "whisper" in rows[1][8]
    summary = summary_markdown(metadata)
    assert f"seed `{metadata['seed']}`" in summary and "match not checked" in summary


def test_plot_draws_waveform_and_a_plausible_pitch(take, tmp_path):
    pytest.importorskip("matplotlib")
    from PIL import Image

    from limelight.ui.plot import draw_take, pitch_contour

    perf = take[-1].performance
    path = draw_take(perf.audio, perf.sample_rate, perf.metadata, tmp_path / "take.png")
    with Image.open(path) as im:
        assert im.size == (1000, 360)
        colours = np.asarray(im.convert("RGB")).reshape(-1, 3)
    assert (np.abs(colours.astype(int) - [0x4F, 0x46, 0xE5]).sum(axis=1) < 30).sum() > 500  # the waveform fill
    contour = pitch_contour(perf.audio, perf.sample_rate)
    if contour is None:
        pytest.skip("the direction stage's pitch tracker is not in this build")
    _, f0 = contour
    first = perf.audio[: int(perf.metadata["chunks"][0]["duration_s"] * perf.sample_rate)]
    voiced = pitch_contour(first, perf.sample_rate)[1]
    assert 70 < np.nanmedian(voiced) < 300  # an adult male voice speaking normally
    assert np.isfinite(f0).mean() > 0.1
