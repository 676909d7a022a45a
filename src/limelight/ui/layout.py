"""The studio's page: which widgets exist and where they sit (no behaviour here; `studio` wires it).

Left column: the script (editor, examples, cheat-sheet, its error box). Right column: who speaks (pick,
design, clone, blend) and how (the seed's settings). Below: Generate, live playback, the finished take and its
report. Every input group has its own error box right under it.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from . import player, words
from .cheatsheet import cheat_sheet
from .examples import ExampleScript
from .report import HEADERS
from .voices import FROM_SCRIPT, VoiceChoice

AUTO_LANGUAGE = "auto"
_PLAIN_PLAYER = gr.WaveformOptions(show_recording_waveform=False)
"""The browser's own <audio controls> player: accessible, seekable, and the waveform is drawn below anyway."""

CSS = """
#ll-script textarea {font-family: ui-monospace, Consolas, monospace; font-size: 14px; line-height: 1.45}
.ll-error {border: 1px solid #dc2626; background: #fef2f2; color: #991b1b; border-radius: 6px;
           padding: .5em .75em; margin-top: .25em}
.ll-error pre.ll-snippet {margin: .4em 0 0; background: transparent; color: #7f1d1d; font-size: 13px}
.ll-note {border: 1px solid #d97706; background: #fffbeb; color: #92400e; border-radius: 6px; padding: .5em .75em}
.ll-ok {color: #166534}
#ll-examples {align-items: center; flex-wrap: wrap; gap: .4em}
#ll-examples > * {flex: 0 0 auto !important; width: auto !important; min-width: 0 !important}
""" + player.CSS + words.CSS


@dataclass
class Widgets:
    """Every component a handler reads or writes."""

    script: gr.Textbox
    example_buttons: list[tuple[gr.Button, ExampleScript]]
    script_error: gr.HTML
    check: gr.Button
    plan: gr.Dataframe
    voice: gr.Dropdown
    refresh_voices: gr.Button
    session_voices: gr.State
    design_text: gr.Textbox
    design_gender: gr.Radio
    design_button: gr.Button
    clone_audio: gr.Audio
    clone_name: gr.Textbox
    clone_button: gr.Button
    blend_spec: gr.Textbox
    blend_button: gr.Button
    voice_preview: gr.Audio
    save_name: gr.Textbox
    save_overwrite: gr.Checkbox
    save_button: gr.Button
    voice_status: gr.HTML
    voice_error: gr.HTML
    pace: gr.Slider
    speed: gr.Slider
    seed: gr.Number
    validate: gr.Checkbox
    min_match_ratio: gr.Slider
    background_sfx: gr.Checkbox
    language: gr.Dropdown
    live: gr.Checkbox
    settings_error: gr.HTML
    generate: gr.Button
    status: gr.Markdown
    general_error: gr.HTML
    player: gr.HTML
    take_audio: gr.Audio
    take_words: gr.HTML
    downloads: gr.File
    plot: gr.Image
    report: gr.Dataframe
    summary: gr.Markdown
    metadata: gr.JSON


def build_layout(examples: list[ExampleScript], choices: list[VoiceChoice], languages: list[str],
                 unavailable: dict[str, str]) -> Widgets:
    """Create the components inside the current `gr.Blocks` context. ``unavailable`` maps a voice feature
    (design, clone, library) to why this build lacks it, shown on its tab."""
    gr.Markdown("# limelight studio\nWrite a directed script, choose who speaks, and listen.")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            with gr.Row(elem_id="ll-examples"):
                gr.Markdown("**Examples**", container=False)
                buttons = [(gr.Button(ex.name, size="sm", variant="secondary", min_width=60,
                                      elem_id=f"ll-example-{i}"), ex) for i, ex in enumerate(examples)]
            script = gr.Textbox(label="Script", lines=12, max_lines=30, elem_id="ll-script",
                                value=examples[0].text if examples else "",
                                placeholder="Plain text, or <speak voice=\"…\" gender=\"…\"> markup")
            script_error = gr.HTML(elem_id="ll-script-error")
            with gr.Accordion("Markup cheat-sheet", open=False):
                gr.Markdown(cheat_sheet())
            with gr.Accordion("Plan (what will be performed, without synthesis)", open=False):
                check = gr.Button("Check script", size="sm", elem_id="ll-check")
                plan = gr.Dataframe(headers=["kind", "where", "who", "what", "direction"], interactive=False,
                                    wrap=True)
        with gr.Column(scale=2):
            with gr.Row(equal_height=True):
                voice = gr.Dropdown(choices=[(c.label, c.key) for c in choices], value=FROM_SCRIPT, label="Voice",
                                    elem_id="ll-voice", scale=5)
                refresh = gr.Button("↻", size="sm", scale=0, min_width=40, elem_id="ll-refresh-voices")
            session_voices = gr.State({})
            with gr.Tabs():
                with gr.Tab("Design"):
                    if "design" in unavailable:
                        gr.HTML(unavailable["design"])
                    design_text = gr.Textbox(label="Describe the voice", lines=2, elem_id="ll-design-text",
                                             placeholder="Old man, gravelly, slow and kind")
                    design_gender = gr.Radio(["female", "male"], value="female", label="Gender")
                    design_button = gr.Button("Design and preview", elem_id="ll-design",
                                              interactive="design" not in unavailable)
                with gr.Tab("Clone"):
                    if "clone" in unavailable:
                        gr.HTML(unavailable["clone"])
                    clone_audio = gr.Audio(sources=["upload", "microphone"], type="filepath",
                                           label="Reference: 3–30 s of one person speaking", elem_id="ll-clone-audio")
                    clone_name = gr.Textbox(label="Name", value="my-voice", elem_id="ll-clone-name")
                    clone_button = gr.Button("Clone", elem_id="ll-clone", interactive="clone" not in unavailable)
                with gr.Tab("Blend"):
                    blend_spec = gr.Textbox(label="Mix voices by weight", value="jf_alpha:0.5,jm_kumo:0.5",
                                            elem_id="ll-blend-spec",
                                            info="Any shipped, saved or new voices: name:weight, name:weight")
                    blend_button = gr.Button("Blend and preview", elem_id="ll-blend")
                with gr.Tab("Save"):
                    if "library" in unavailable:
                        gr.HTML(unavailable["library"])
                    save_name = gr.Textbox(label="Save the selected new voice to the library as",
                                           elem_id="ll-save-name")
                    save_overwrite = gr.Checkbox(label="Replace a saved voice of that name", value=False)
                    save_button = gr.Button("Save to library", elem_id="ll-save",
                                            interactive="library" not in unavailable)
            voice_preview = gr.Audio(label="Voice preview", interactive=False, type="filepath",
                                     elem_id="ll-voice-preview", waveform_options=_PLAIN_PLAYER)
            voice_status = gr.HTML(elem_id="ll-voice-status")
            voice_error = gr.HTML(elem_id="ll-voice-error")
            with gr.Accordion("Performance settings", open=True):
                with gr.Row():
                    pace = gr.Slider(0.5, 3.0, value=1.5, step=0.05, label="Pace (higher = slower)")
                    speed = gr.Slider(0.5, 2.0, value=1.0, step=0.05, label="Speed")
                with gr.Row():
                    seed = gr.Number(value=-1, precision=0, label="Seed (-1 = random)", elem_id="ll-seed")
                    language = gr.Dropdown([AUTO_LANGUAGE, *languages], value=AUTO_LANGUAGE, label="Language")
                with gr.Row():
                    validate = gr.Checkbox(value=True, label="Validate with Whisper (retry garbled chunks)",
                                           elem_id="ll-validate")
                    background_sfx = gr.Checkbox(value=False, label="Background ambience and sound effects")
                min_match_ratio = gr.Slider(0.0, 1.0, value=0.9, step=0.01, label="Minimum match ratio")
                live = gr.Checkbox(value=True, label="Play while generating")
            settings_error = gr.HTML(elem_id="ll-settings-error")
    generate = gr.Button("Generate", variant="primary", size="lg", elem_id="ll-generate")
    status = gr.Markdown(elem_id="ll-status")
    general_error = gr.HTML(elem_id="ll-general-error")
    live_player = gr.HTML(value=None, html_template=player.TEMPLATE, js_on_load=player.SCRIPT, elem_id="ll-player")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            take_audio = gr.Audio(label="Take", type="filepath", interactive=False, elem_id="ll-take",
                                  waveform_options=_PLAIN_PLAYER)
            take_words = gr.HTML(value="", html_template=words.TEMPLATE, js_on_load=words.SCRIPT,
                                 elem_id="ll-words", label="Words (highlighted as they play; click to seek)")
            plot = gr.Image(label="Waveform and pitch", type="filepath", interactive=False, elem_id="ll-plot")
        with gr.Column(scale=2):
            summary = gr.Markdown(elem_id="ll-summary")
            downloads = gr.File(label="Downloads (WAV, stems, report)", file_count="multiple", interactive=False,
                                elem_id="ll-downloads")
    report = gr.Dataframe(headers=HEADERS, label="Chunks", interactive=False, wrap=True, elem_id="ll-report")
    with gr.Accordion("Full report (JSON)", open=False):
        metadata = gr.JSON()
    return Widgets(script=script, example_buttons=buttons, script_error=script_error, check=check, plan=plan,
                   voice=voice, refresh_voices=refresh, session_voices=session_voices, design_text=design_text,
                   design_gender=design_gender, design_button=design_button, clone_audio=clone_audio,
                   clone_name=clone_name, clone_button=clone_button, blend_spec=blend_spec,
                   blend_button=blend_button, voice_preview=voice_preview,
                   save_name=save_name, save_overwrite=save_overwrite, save_button=save_button,
                   voice_status=voice_status, voice_error=voice_error, pace=pace, speed=speed, seed=seed,
                   validate=validate, min_match_ratio=min_match_ratio, background_sfx=background_sfx,
                   language=language, live=live, settings_error=settings_error, generate=generate, status=status,
                   general_error=general_error, player=live_player, take_audio=take_audio, take_words=take_words,
                   downloads=downloads,
                   plot=plot, report=report, summary=summary, metadata=metadata)
