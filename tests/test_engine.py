"""The engine really speaks: real synthesis, measured with the shipped Whisper base."""

from __future__ import annotations

import numpy as np
import pytest

from limelight.check.wer import wer, word_errors
from limelight.engine import Engine
from limelight.errors import LimelightError, VoiceError

TEXT3 = "The lighthouse keeper woke early. He climbed the stairs slowly! Was the lamp still burning?"


def test_default_voice_wer_on_dev_sentences(tts, transcriber, en_sentences):
    errors = total = 0
    report = []
    for sentence in en_sentences:
        audio = tts.infer(sentence)
        heard = transcriber.transcribe(audio, tts.sample_rate)
        e, n = word_errors(sentence, heard)
        errors, total = errors + e, total + n
        if e:
            report.append(f"{e}/{n}: {sentence!r} -> {heard!r}")
    rate = errors / total
    print(f"default voice {tts.engine.default_voice}: WER {rate:.2%} over {total} words\n" + "\n".join(report))
    assert rate <= 0.05, "\n".join(report)


def test_numbers_money_dates_are_spoken_as_words(tts, transcriber):
    text = "On March 3rd, 2024 at 3:30 pm the ticket cost $12.50, about 45% more."
    heard = transcriber.transcribe(tts.infer(text), tts.sample_rate)
    assert wer(text, heard) <= 0.15, heard
    assert "point" not in heard.lower()


def test_stream_concatenates_to_offline(tts):
    offline = tts.infer(TEXT3)
    chunks = list(tts.infer_stream(TEXT3))
    assert len(chunks) == 3
    streamed = np.concatenate(chunks)
    assert streamed.shape == offline.shape
    np.testing.assert_allclose(streamed, offline, atol=1e-5)
    two = list(tts.infer_stream(TEXT3, chunk_size=2))
    assert len(two) == 2
    np.testing.assert_allclose(np.concatenate(two), offline, atol=1e-5)


def test_batch_equals_single(tts, tmp_path):
    texts = ["First item.", "Second item, a little longer than the first."]
    batch = tts.infer_batch(texts, out_dir=tmp_path)
    for text, audio in zip(texts, batch, strict=True):
        np.testing.assert_allclose(audio, tts.infer(text), atol=1e-5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0000.wav", "0001.wav"]


def test_sentence_over_token_limit_is_split_not_truncated(tts, transcriber, en_sentences):
    # One run-on sentence of ~700 characters, well over Kokoro's 510-token context.
    text = "; and ".join(s.rstrip(".?!") for s in en_sentences[:7]) + "."
    assert len(tts.engine.tokens(tts.engine.phonemize(text))) > 510
    audio = tts.infer(text)
    seconds = len(audio) / tts.sample_rate
    assert seconds > 25, seconds  # truncation to 510 tokens would give about 20 s
    heard = transcriber.transcribe(audio, tts.sample_rate)
    assert wer(text, heard) <= 0.15, heard


def test_speed_changes_duration(tts):
    text = "Speaking quickly or slowly changes how long this takes."
    normal = len(tts.infer(text))
    fast = len(tts.infer(text, speed=1.5))
    assert 0.55 < fast / normal < 0.8


def test_voices_and_blends(tts):
    voices = tts.voices()
    assert {"jf_alpha", "jm_kumo"} <= set(voices)
    blend = tts.voice("jf_alpha:0.5,jm_kumo:0.5")
    np.testing.assert_allclose(blend.style, 0.5 * voices["jf_alpha"].style + 0.5 * voices["jm_kumo"].style,
                               atol=1e-6)
    assert tts.infer("A blended voice.", voice="jf_alpha:0.5,jm_kumo:0.5").size > 0
    with pytest.raises(VoiceError, match="unknown voice 'nobody'"):
        tts.voice("nobody")
    with pytest.raises(VoiceError, match="bad blend weight"):
        tts.voice("jf_alpha:x")


def test_empty_text_and_bad_speed_are_user_errors(tts):
    with pytest.raises(LimelightError, match="empty"):
        tts.infer("   ")
    with pytest.raises(LimelightError, match="speed"):
        tts.infer("Hello.", speed=9)


def test_piper_engine_speaks(piper_tts, transcriber, en_sentences):
    errors = total = 0
    for sentence in en_sentences[:4]:
        audio = piper_tts.infer(sentence)
        e, n = word_errors(sentence, transcriber.transcribe(audio, piper_tts.sample_rate))
        errors, total = errors + e, total + n
    assert errors / total <= 0.08
    with pytest.raises(VoiceError):
        piper_tts.infer("Hi.", voice="jf_alpha")


@pytest.mark.parametrize("which, styles", [("tts", True), ("piper_tts", False)])
def test_every_engine_meets_the_one_contract(request, transcriber, which, styles):
    """What callers use is declared in `Engine` and works on both engines: phonemes → ids → audio, the
    capabilities that replace engine-name checks, and a clear error for a pitch shift the model cannot make."""
    tts = request.getfixturevalue(which)
    engine = tts.engine
    assert isinstance(engine, Engine) and engine.style_voices is styles
    sentence = "The lamp in the tower was still burning."
    phonemes = engine.phonemize(sentence, "en")
    ids = engine.tokens(phonemes)
    assert len(ids) >= len(sentence.split()) and all(isinstance(i, int) for i in ids)
    voice = tts.voice(None)
    for audio in (engine.synthesize_phonemes(phonemes, voice), engine.synthesize(sentence, voice)):
        errors, total = word_errors(sentence, transcriber.transcribe(audio, engine.sample_rate))
        assert errors <= 1, (which, errors, total)
    if not engine.native_pitch:
        with pytest.raises(LimelightError) as err:
            engine.synthesize(sentence, voice, pitch=2.0)
        assert err.value.field == "decoder"


def test_an_engine_without_style_voices_says_what_it_skipped(piper_tts):
    script = ('<speak voice="An old sailor, gravelly" gender="male">Ahoy there. [sigh] '
              'The tide is turning.</speak>')
    perf = piper_tts.performer.perform(script, validate=False, seed=1)
    notes = {n["field"]: n["reason"] for n in perf.metadata["not_applied"]}
    assert "piper" in notes["voice"] and "piper" in notes["events"]  # designed voice, then the [sigh]
    assert perf.metadata["voices"]["speaker1"]["name"] == "joe" and perf.duration_s > 1.5


@pytest.mark.parametrize("word", ["x" * 2000, "abcdefghij" * 200, "supercalifragilistic" * 60])
def test_a_word_too_long_for_one_call_is_cut_not_recursed(tts, word):
    from limelight.engine.kokoro import MAX_TOKENS

    engine = tts.engine
    pieces = engine.pieces(word, "en")
    assert pieces and all(len(engine.tokens(phonemes)) <= MAX_TOKENS for _text, phonemes in pieces)
    if word.startswith("abcdefghij"):  # its phonemes exceed one call: this one used to recurse without end
        assert len(pieces) > 1
