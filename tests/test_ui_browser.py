"""The studio in a real browser: Debian chromium driven by Playwright, against the studio served from this process.

Skips (with the reason) when playwright or /usr/bin/chromium is missing; CI installs them with
``apt-get install -y chromium`` and ``pip install -e '.[test]'``. Every request the page makes beyond the
studio's own address is blocked and recorded: the studio must work offline, and the test checks that it asked
for nothing outside. Screenshots go to ``$LIMELIGHT_ARTIFACTS/ui`` (or a pytest temp folder): look at them.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("LIMELIGHT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]
TIMEOUT_MS = 180_000  # a take on a busy 2-core machine; normally a few seconds

pytest.importorskip("gradio", reason="gradio is not installed (pip install -e '.[test]')")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
    pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install -y chromium)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory) -> Path:
    root = os.environ.get("LIMELIGHT_ARTIFACTS")
    folder = Path(root) / "ui" if root else tmp_path_factory.mktemp("ui-screens")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nstudio screenshots: {folder}")
    return folder


@pytest.fixture(scope="module")
def studio_url(tmp_path_factory):
    from limelight import Performer
    from limelight.ui.app import build_app, launch_options

    home = os.environ.get("LIMELIGHT_HOME")
    os.environ["LIMELIGHT_HOME"] = str(tmp_path_factory.mktemp("limelight-home"))  # the voice library saved to
    app = build_app(Performer())
    port = _free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_options())
    yield f"http://127.0.0.1:{port}/"
    app.close()
    if home is None:
        os.environ.pop("LIMELIGHT_HOME", None)
    else:
        os.environ["LIMELIGHT_HOME"] = home


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, studio_url):
    outside: list[str] = []
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()

    def route(r):
        url = r.request.url
        if url.startswith((studio_url.rstrip("/"), "data:", "blob:")):
            return r.continue_()
        outside.append(url)
        return r.abort()

    pg.route("**/*", route)
    pg.set_default_timeout(TIMEOUT_MS)
    pg.goto(studio_url, wait_until="load")
    pg.wait_for_selector("#ll-generate")
    yield pg
    context.close()
    assert outside == [], f"the studio asked for outside resources: {outside}"


def _audio_duration(pg, selector: str) -> float:
    pg.wait_for_function(f"() => {{ const a = document.querySelector('{selector} audio');"
                         " return a && a.duration > 0 && isFinite(a.duration); }")
    return float(pg.evaluate(f"document.querySelector('{selector} audio').duration"))


def test_type_pick_generate_and_listen(page, artefacts):
    page.fill("#ll-script textarea", "Hello from the studio. This is a short take.")
    page.uncheck("#ll-validate input")
    page.click("#ll-voice input")
    page.get_by_role("option", name="jm_kumo").click()
    page.click("#ll-generate")
    duration = _audio_duration(page, "#ll-take")
    page.wait_for_selector("#ll-plot img")
    page.screenshot(path=str(artefacts / "generate.png"), full_page=True)
    assert 1.5 < duration < 10
    report = page.inner_text("#ll-report")
    assert "Hello from the studio." in report and "jm_kumo" in report and "not checked" in report
    files = page.eval_on_selector_all("#ll-downloads a[href]", "links => links.map(a => a.href.split('/').pop())")
    assert "take.wav" in files and "report.json" in files
    live = page.evaluate("window.limelightStream")
    assert live["pieces"] >= 1 and live["errors"] == 0 and live["gaps"] == 0
    assert abs(live["seconds"] - duration) < 0.1  # everything was heard live before the take arrived
    assert page.inner_text("#ll-general-error").strip() == ""


def test_words_light_up_as_the_take_plays_and_a_click_seeks(page, artefacts):
    page.fill("#ll-script textarea", "Hello from the studio. This is a short take.")
    page.uncheck("#ll-validate input")
    page.click("#ll-generate")
    _audio_duration(page, "#ll-take")
    page.wait_for_selector("#ll-words .ll-word")
    spans = page.eval_on_selector_all("#ll-words .ll-word",
                                      "ws => ws.map(w => [w.textContent, +w.dataset.start, +w.dataset.end])")
    assert [w for w, _, _ in spans] == ["Hello", "from", "the", "studio", "This", "is", "a", "short", "take"]
    word, start, end = spans[3]
    page.evaluate(f"document.querySelector('#ll-take audio').currentTime = {(start + end) / 2}")
    page.wait_for_function("() => window.limelightWords.current === 'studio'")
    assert page.inner_text("#ll-words .ll-now") == "studio"
    page.screenshot(path=str(artefacts / "words.png"), full_page=True)
    page.click("#ll-words .ll-word >> text=short")
    page.wait_for_function(f"() => Math.abs(document.querySelector('#ll-take audio').currentTime - {spans[7][1]})"
                           " < 0.05")


def test_malformed_script_shows_line_and_column_under_the_editor(page, artefacts):
    page.fill("#ll-script textarea", '<speak voice="Old woman" gender="female">\n<action>Slowly\nI remember.\n</speak>')
    page.click("#ll-generate")
    box = page.wait_for_selector("#ll-script-error .ll-error")
    page.screenshot(path=str(artefacts / "script-error.png"), full_page=True)
    text = box.inner_text()
    assert "line 2, col 1:" in text and "<action> is not closed" in text
    assert "Traceback" not in page.inner_text("body")
    assert page.query_selector("#ll-take audio[src]") is None  # nothing was performed
    # An example is one click away, and clicking one clears the error.
    page.click("#ll-example-1")
    page.wait_for_function("() => document.querySelector('#ll-script textarea').value.includes('Whispering')")
    page.wait_for_function("() => !document.querySelector('#ll-script-error .ll-error')")


def test_check_script_shows_the_plan_without_synthesis(page):
    page.click("#ll-example-3")  # "Storm at sea": a sound, two directions and a pause
    page.wait_for_function("() => document.querySelector('#ll-script textarea').value.includes('Tie it down')")
    page.get_by_text("Plan (what will be performed").click()
    page.click("#ll-check")
    page.wait_for_function("() => document.body.innerText.includes('Thunder cracks overhead')")
    plan = page.inner_text("body")
    assert "Tie it down! Now!" in plan and "shout" in plan
    assert page.query_selector("#ll-take audio[src]") is None


def test_blend_two_voices_preview_and_save(page, artefacts):
    page.get_by_role("tab", name="Blend").click()
    page.fill("#ll-blend-spec textarea, #ll-blend-spec input", "jf_tebukuro:0.6,jm_kumo:0.4")
    page.click("#ll-blend")
    page.wait_for_selector("#ll-voice-status .ll-ok")
    duration = _audio_duration(page, "#ll-voice-preview")
    page.screenshot(path=str(artefacts / "blend.png"), full_page=True)
    assert 2.0 < duration < 15.0
    assert page.input_value("#ll-voice input").startswith("blend-jftebukuro-jmkumo")
    # Keep it: save the new voice to the library; the picker then lists it as a library voice.
    from limelight.ui.voices import VoiceTools

    page.get_by_role("tab", name="Save").click()
    if VoiceTools.discover().library_cls is None:
        assert page.is_disabled("#ll-save")
    else:
        page.fill("#ll-save-name textarea, #ll-save-name input", "warm-blend")
        page.click("#ll-save")
        page.wait_for_function("() => document.querySelector('#ll-voice-status').innerText.includes('Saved')")
        assert page.input_value("#ll-voice input").startswith("warm-blend (library")
    page.get_by_role("tab", name="Blend").click()
    page.fill("#ll-blend-spec textarea, #ll-blend-spec input", "jf_tebukuro:0.6,nobody:0.4")
    page.click("#ll-blend")
    box = page.wait_for_selector("#ll-voice-error .ll-error")
    assert "unknown voice 'nobody'" in box.inner_text()


def test_design_a_voice_from_a_description(page, artefacts):
    from limelight.ui.voices import VoiceTools

    if VoiceTools.discover().design_voice is None:
        assert page.is_disabled("#ll-design")
        assert page.get_by_text("Voice design is not available in this build").is_visible()
        pytest.skip("limelight.voice.design is not in this build: the Design tab says so and its button is disabled")
    page.fill("#ll-design-text textarea", "Old man, gravelly, slow and kind")
    page.get_by_label("male", exact=True).check()
    page.click("#ll-design")
    page.wait_for_selector("#ll-voice-status .ll-ok")
    duration = _audio_duration(page, "#ll-voice-preview")
    page.screenshot(path=str(artefacts / "design.png"), full_page=True)
    assert duration > 1.0
    assert page.input_value("#ll-voice input").startswith("old-man-gravelly")


def test_upload_a_reference_and_clone(page, artefacts, shared_dir):
    from limelight.ui.voices import VoiceTools

    clips = sorted((shared_dir / "voices" / "dev").glob("*/*.flac"))
    if not clips:
        pytest.skip("no reference clips in shared/voices/dev")
    page.get_by_role("tab", name="Clone").click()
    page.set_input_files("#ll-clone-audio input[type=file]", str(clips[0]))
    page.wait_for_selector("#ll-clone-audio audio", state="attached")
    page.fill("#ll-clone-name textarea, #ll-clone-name input", "dev-speaker")
    if VoiceTools.discover().clone_voice is None:
        page.screenshot(path=str(artefacts / "clone-unavailable.png"), full_page=True)
        assert page.is_disabled("#ll-clone")
        assert page.get_by_text("Voice cloning is not available in this build").is_visible()
        pytest.skip("limelight.voice.clone is not in this build: the Clone tab says so and its button is disabled")
    page.click("#ll-clone")
    page.wait_for_selector("#ll-voice-status .ll-ok")
    duration = _audio_duration(page, "#ll-voice-preview")
    page.screenshot(path=str(artefacts / "clone.png"), full_page=True)
    assert duration > 1.0
    assert "dev-speaker" in page.input_value("#ll-voice input")
