"""Assemble the studio (`build_app`) and serve it (`launch`).

Offline by construction: analytics and gradio's version check are off (``GRADIO_ANALYTICS_ENABLED=False``),
the theme uses fonts installed with gradio or the system's, and server-side rendering (which needs node) is
off. The page makes no request beyond the studio's own address apart from gradio's optional web-font link,
which simply fails offline without delaying the page.
"""

from __future__ import annotations

import json
import os
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import gradio as gr  # noqa: E402  (the environment above must be set before gradio is imported)

from .errors import note_html  # noqa: E402
from .examples import load_examples  # noqa: E402
from .layout import CSS, build_layout  # noqa: E402
from .studio import Studio, TakeFolders  # noqa: E402
from .voices import VoiceTools, voice_choices  # noqa: E402

TITLE = "limelight studio"


def _languages() -> list[str]:
    try:
        from ..text.phonemes import ESPEAK_VOICES
    except ImportError:
        return ["en"]
    return sorted(ESPEAK_VOICES)


def _unavailable(tools: VoiceTools) -> dict[str, str]:
    """Tab name → note for the voice features this build lacks."""
    notes = {}
    if tools.design_voice is None:
        notes["design"] = note_html("Voice design is not available in this build: " + tools.missing["design_voice"])
    if tools.clone_voice is None:
        notes["clone"] = note_html("Voice cloning is not available in this build: " + tools.missing["clone_voice"])
    if tools.library_cls is None:
        notes["library"] = note_html("The voice library is not available in this build: "
                                     + tools.missing["library_cls"])
    return notes


def build_app(performer: Any = None, folders: TakeFolders | None = None) -> gr.Blocks:
    """The studio as a `gr.Blocks` (not launched). ``performer`` defaults to a new Kokoro `Performer`."""
    if performer is None:
        from ..perform import Performer

        performer = Performer()
    tools = VoiceTools.discover()
    examples = load_examples()
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(1800, 3600)) as app:
        w = build_layout(examples, voice_choices(dict(performer.engine.voices()), tools, {}), _languages(),
                         _unavailable(tools))
        studio = Studio(performer, tools, w, folders)
        settings = [w.pace, w.speed, w.seed, w.validate, w.min_match_ratio, w.background_sfx, w.language]
        errors_out = [w.script_error, w.voice_error, w.settings_error, w.general_error]
        for button, example in w.example_buttons:  # in the browser alone: instant, and no race with Generate
            button.click(None, outputs=[w.script, w.script_error], js=f"() => [{json.dumps(example.text)}, '']")
        w.generate.click(studio.generate,
                         inputs=[w.script, w.voice, w.session_voices, *settings, w.live],
                         outputs=[*errors_out, w.status, w.player, w.take_audio, w.take_words, w.downloads, w.plot,
                                  w.report, w.summary, w.metadata],
                         concurrency_id="synthesis")
        w.check.click(studio.check, inputs=[w.script, w.voice, w.session_voices, *settings],
                      outputs=[*errors_out, w.plan], concurrency_id="synthesis")
        voice_out = [*errors_out, w.session_voices, w.voice, w.voice_preview, w.voice_status, w.save_name]
        w.design_button.click(studio.design, inputs=[w.design_text, w.design_gender, w.session_voices],
                              outputs=voice_out, concurrency_id="synthesis")
        w.clone_button.click(studio.clone, inputs=[w.clone_audio, w.clone_name, w.session_voices],
                             outputs=voice_out, concurrency_id="synthesis")
        w.blend_button.click(studio.blend, inputs=[w.blend_spec, w.session_voices], outputs=voice_out,
                             concurrency_id="synthesis")
        w.save_button.click(studio.save, inputs=[w.voice, w.save_name, w.save_overwrite, w.session_voices],
                            outputs=[*errors_out, w.voice, w.voice_status])
        w.refresh_voices.click(studio.refresh, inputs=[w.voice, w.session_voices], outputs=[w.voice])
    app.queue(default_concurrency_limit=1)
    return app


def launch_options() -> dict[str, Any]:
    """The `Blocks.launch` arguments the studio needs (gradio 6 takes theme and CSS at launch)."""
    return {"css": CSS, "theme": gr.themes.Default(), "ssr_mode": False, "footer_links": [],
            "allowed_paths": [], "show_error": False}


def launch(host: str = "127.0.0.1", port: int = 7860, share: bool = False) -> None:
    """Build the studio and serve it until interrupted (``share`` asks gradio for a public link, which needs
    internet access; it is off by default and limelight never needs it)."""
    app = build_app()
    print(f"limelight studio on http://{host}:{port}")
    app.launch(server_name=host, server_port=port, share=share, **launch_options())
