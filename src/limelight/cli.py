"""The `limelight` command: a thin layer over the Python API.

User errors (unknown voice, empty text, unwritable output, bad markup) print one line to stderr and exit with
code 2; they never show a traceback. Anything else is a bug and is allowed to surface.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import LimelightError

if TYPE_CHECKING:
    from .options import PerformOptions

EXIT_USER_ERROR = 2
EXIT_VALIDATION_FAILED = 3  # the file was written, but chunks failed the Whisper check (--validate)
EPILOG = """exit status: 0 success; 2 user error (one line on stderr); 3 `say --validate` wrote the output but some
chunks failed the Whisper check (listed on stderr, and in --metadata under "validation"); 130 interrupted."""


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on bad options already; keep its message to one line plus usage."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"limelight: error: {message}\n")
        raise SystemExit(EXIT_USER_ERROR)


def _read_text(args: argparse.Namespace) -> str:
    if args.file is not None:
        try:
            with open(args.file, encoding="utf-8") as fh:
                return fh.read()
        except OSError as exc:
            raise LimelightError(f"cannot read {args.file}: {exc.strerror or exc}", field="file") from None
        except UnicodeDecodeError:
            raise LimelightError(f"{args.file} is not UTF-8 text", field="file") from None
    if args.text is None:
        raise LimelightError("no text given: pass TEXT, -f FILE, or - for stdin", field="text")
    if args.text == "-":
        return sys.stdin.read()
    return args.text


def _cmd_say(args: argparse.Namespace) -> int:
    from .audio.output import output_spec
    from .audio.wav import check_writable

    text = _read_text(args)
    if not text.strip():
        raise LimelightError("text is empty", field="text")
    if args.explain:
        return _explain(text, args)
    check_writable(args.output)
    spec = output_spec(args.output, sample_rate=args.sample_rate, channels=args.channels)
    if args.subtitles:
        from .timing.subtitles import check_subtitle_path

        check_subtitle_path(args.subtitles)
    if args.stems and not args.background_sfx:
        raise LimelightError("--stems needs --background-sfx (the stems are voice, ambience and effects)",
                             field="stems")
    from .perform import Performer

    performer = Performer(engine=args.engine, model=args.model, decoder=args.decoder)
    options = _perform_options(args, performer)
    bar = None
    import time

    started = time.time()  # tqdm's clock

    def progress(done: int, total: int) -> None:
        # Created on the first finished piece, so input errors (raised before any work) print alone.
        nonlocal bar
        if args.quiet or total < 2:
            return
        if bar is None:
            from tqdm import tqdm

            # No rate: pieces are chunks *and* instant pauses, so "pieces/s" meant nothing (it showed 59918/s
            # when the bar was created after the first chunk). Elapsed time counts from the start of the command.
            bar = tqdm(total=total, file=sys.stderr, desc="performing", leave=False,
                       bar_format="{desc}: {percentage:3.0f}%|{bar}| {n}/{total} pieces [{elapsed}<{remaining}]")
            bar.start_t = started
        bar.n = done
        bar.refresh()

    if args.stems:
        perf = performer.perform(text, options)
        perf.write(args.output, spec)
        _write_stems(perf, args.output)
        meta = perf.metadata
    else:
        meta = performer.perform_to_file(text, args.output, progress=progress, options=options, output=spec)
    if bar is not None:
        bar.close()
    if args.subtitles:
        from .timing import WordTiming, write_subtitles

        write_subtitles(args.subtitles, [WordTiming.from_dict(w) for w in meta["words"]], meta["duration_s"])
    if args.metadata:
        import json

        with open(args.metadata, "w", encoding="utf-8") as fh:
            json.dump(meta, fh, indent=2, default=str)
    if not args.quiet:
        voices = ", ".join(v["name"] for v in meta["voices"].values())
        rate = spec.rate_for(meta["sample_rate"])
        print(f"wrote {args.output} ({spec.format}, {meta['duration_s']:.2f} s, {rate} Hz, "
              f"{'stereo' if spec.channels == 2 else 'mono'}, voice {voices})",
              file=sys.stderr)
        for item in meta["not_applied"]:
            print(f"note: {item['field']}: {item['reason']}", file=sys.stderr)
    from .check.report import failure_lines

    failures = failure_lines(meta.get("validation"), meta.get("min_match_ratio"))
    for line in failures:  # even with --quiet: a failed check must never pass unnoticed
        print(f"limelight: warning: {line}" if line is failures[0] else line, file=sys.stderr)
    return EXIT_VALIDATION_FAILED if failures else 0


def _perform_options(args: argparse.Namespace, performer: object = None) -> PerformOptions:
    """The command line's options as the one options object every front end builds (with ``performer``, a
    --voice that describes a voice is designed here, with --gender)."""
    from .options import perform_options

    lexicon = None
    if args.lexicon:
        from .text.lexicon import load_lexicon

        lexicon = load_lexicon(args.lexicon)  # a bad entry fails here, naming its line
    voice = _voice(args, performer) if args.voice and performer is not None else args.voice
    return perform_options(voice=voice, speed=args.speed, pace=args.pace, seed=args.seed,
                           validate=args.validate, background_sfx=args.background_sfx, language=args.language,
                           reference=args.reference or None, lexicon=lexicon,
                           local_audio=True)  # SSML <audio src="clip.wav">: the user's own files


def _voice(args: argparse.Namespace, performer: object) -> object:
    """--voice as given (a name or blend), or the voice designed from it when it is a description."""
    from .voice.option import voice_option

    engine = performer.engine  # type: ignore[attr-defined]
    names = set(engine.voices())
    try:
        from .voice.library import VoiceLibrary

        names |= set(VoiceLibrary().names())
    except Exception:  # an unreadable library: names from it cannot be meant  # noqa: BLE001
        pass
    voice = voice_option(args.voice, args.gender, names)
    if not isinstance(voice, str) and engine.name != "kokoro":
        raise LimelightError("voice descriptions need the kokoro engine (piper has one voice)", field="voice")
    return voice


def _write_stems(perf: object, output: str) -> None:
    from pathlib import Path

    from .audio.wav import write_wav

    stems = getattr(perf, "stems", None) or {}
    base = Path(output)
    for name, audio in stems.items():
        write_wav(base.with_name(f"{base.stem}.{name}.wav"), audio, perf.sample_rate)  # type: ignore[attr-defined]


def _explain(text: str, args: argparse.Namespace) -> int:
    """Print the parsed script and each segment's Direction as a table, without synthesising."""
    from .perform import Performer

    performer = Performer(engine=args.engine, model=args.model, decoder=args.decoder)
    rows = performer.explain(text, _perform_options(args, performer))
    print(f"{'#':>3} {'kind':7} {'where':7} {'speaker/voice':22} {'what':44} direction")
    for i, row in enumerate(rows):
        kind = row["kind"]
        if kind == "speech":
            d = row["direction"] or {}
            neutral = (0.0, 1.0, False, "normal", ())
            changed = {k: v for k, v in d.items() if k not in ("labels", "speed") and v not in neutral}
            detail = " ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in changed.items())
            labels = ",".join(d.get("labels", ()) or ())
            who = f"{row['speaker']}/{row['voice']}"
            what = (row["text"][:41] + "...") if len(row["text"]) > 44 else row["text"]
            lang = f"lang={row['language']}" + (" (detected)" if row.get("language_source") == "detected" else "")
            print(f"{i:>3} {kind:7} {row['where']:7} {who:22} {what:44} {lang} speed={row['speed']:g} {detail}"
                  + (f" [{labels}]" if labels else ""))
        elif kind == "pause":
            print(f"{i:>3} {kind:7} {'':7} {'':22} {row['seconds']:.2f} s ({row['reason']})")
        elif kind == "event":
            print(f"{i:>3} {kind:7} {row['where']:7} {row['speaker']:22} [{row['event']}]"
                  + (f" {row['manner']}" if row.get("manner") else ""))
        elif kind == "sound":
            print(f"{i:>3} {kind:7} {row['where']:7} {'':22} <sound> {row['description']}")
        else:
            print(f"{i:>3} {kind:7} {'':7} {'':22} scene={row.get('scene')} shot={row.get('shot')}")
    from .scene.explain import explain_scene
    from .script import parse

    for line in explain_scene(rows, parse(text), args.background_sfx):
        print(line)
    return 0


def _cmd_voices(args: argparse.Namespace) -> int:
    from .api import Limelight

    if args.delete:
        from .voice.library import VoiceLibrary

        VoiceLibrary().delete(args.delete)
        print(f"deleted voice {args.delete}", file=sys.stderr)
        return 0
    tts = Limelight(engine=args.engine, model=args.model)
    default = tts.engine.default_voice
    for name, voice in sorted(tts.voices().items()):
        mark = "*" if name == default else " "
        print(f"{mark} {name:16s} {voice.gender or '-':7s} {voice.source:8s} {voice.description}")
    _report_damaged_voices()
    return 0


def _read_dataset(path: str) -> list[tuple[str, str | None]]:
    """``audio_path|transcript`` lines (paths relative to the file; '#' comments; transcript optional)."""
    base = Path(path).resolve().parent
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LimelightError(f"cannot read dataset file {path}: {exc.strerror}", field="dataset") from None
    out: list[tuple[str, str | None]] = []
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        audio, _, text = line.partition("|")
        if not audio.strip():
            raise LimelightError(f"{path} line {n}: no audio path before '|'", field="dataset")
        p = Path(audio.strip())
        out.append((str(p if p.is_absolute() else base / p), text.strip() or None))
    if not out:
        raise LimelightError(f"dataset file {path} lists no audio", field="dataset")
    return out


def _report_damaged_voices() -> None:
    """Saved voices whose files cannot be read: named on stderr with how to remove them (the rest still work)."""
    try:
        from .voice.library import VoiceLibrary

        entries = VoiceLibrary().entries()
    except (ImportError, OSError):
        return
    for entry in entries:
        if entry.error:
            print(f"limelight: saved voice {entry.name!r} is damaged ({entry.error}); remove it with "
                  f"`limelight voices --delete {entry.name}`", file=sys.stderr)


def _cmd_clone(args: argparse.Namespace) -> int:
    """Clone a voice from reference audio and save it in the library under --name."""
    import time

    from .voice.clone import clone_voice
    from .voice.library import VoiceLibrary
    from .voice.reference import load_reference

    library = VoiceLibrary()
    if library.exists(args.name) and not args.force:
        raise LimelightError(f"a voice named {args.name!r} already exists; use --force to replace it", field="name")
    items: list[tuple[str, str | None]] = [(r, args.transcript) for r in args.reference]
    if args.dataset:
        items += _read_dataset(args.dataset)
    if not items:
        raise LimelightError("give a reference audio file (or --dataset FILE)", field="reference")
    if not args.deep and len(items) > 1:
        raise LimelightError("several references need --deep", field="reference")
    if args.transcript and len(args.reference) > 1:
        raise LimelightError("--transcript is for one reference; use --dataset 'audio|words' lines for several",
                             field="transcript")
    t0 = time.perf_counter()
    if args.deep:
        from .voice.deep import deep_clone_voice

        refs = []
        for path, text in items:
            audio, sr = load_reference(path)
            refs.append((audio, sr, text))
        voice = deep_clone_voice(refs, args.name, budget_s=args.budget,
                                 log=lambda m: print(m, file=sys.stderr, flush=True))
    elif args.enroll:
        from .voice.enroll import enroll_voice, gradient_available

        how = "gradient descent, ~200 s" if gradient_available() else "search by synthesis, ~2-3 min"
        print(f"enrolling {args.name} ({how} on a 2-core CPU; Ctrl-C stops without saving)...", file=sys.stderr)
        audio, sr = load_reference(items[0][0])
        voice = enroll_voice(audio, sr, args.name)
    else:
        audio, sr = load_reference(items[0][0])
        voice = clone_voice(audio, sr, args.name)
    if voice.gender is None and "gender_measured" not in voice.meta:  # enrollment: measure it here
        from dataclasses import replace

        from .voice.gender import measure_gender

        estimate = measure_gender(audio, sr)
        voice = replace(voice, gender=estimate.gender, meta={**voice.meta, "gender_measured": estimate.as_dict()})
    library.save(voice, force=args.force)
    how = f"{voice.source} by {voice.meta.get('method', '?')}, {voice.gender or 'gender unknown'}"
    measured = voice.meta.get("gender_measured")
    if isinstance(measured, dict) and measured.get("median_f0_hz"):
        how += f" from median F0 {measured['median_f0_hz']:g} Hz"
    print(f"saved voice {voice.name} ({how}, {time.perf_counter() - t0:.2f} s); "
          f"use it with: limelight say \"...\" --voice {voice.name} -o out.wav", file=sys.stderr)
    return 0


def _cmd_design(args: argparse.Namespace) -> int:
    """Design a voice from a description and save it in the library under --name (optionally a preview)."""
    from .voice.design import design_voice
    from .voice.library import VoiceLibrary

    library = VoiceLibrary()
    if library.exists(args.name) and not args.force:
        raise LimelightError(f"a voice named {args.name!r} already exists; use --force to replace it", field="name")
    voice = design_voice(args.description, args.gender, name=args.name)
    if args.preview:
        from .api import Limelight
        from .audio.wav import check_writable

        check_writable(args.preview)
        Limelight().infer("Hello. This is the voice you described, reading a short preview.", path=args.preview,
                          voice=voice)
    library.save(voice, force=args.force)
    attrs = ", ".join(sorted(voice.meta.get("attributes", {}))) or "none"  # type: ignore[union-attr]
    print(f"saved voice {voice.name} ({voice.gender}; read as: {attrs}); use it with: "
          f"limelight say \"...\" --voice {voice.name} -o out.wav", file=sys.stderr)
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    if args.ray is not None:
        from .serve.ray_serve import run_ray_serve

        run_ray_serve(args)
        return 0
    from .serve import run_server
    from .serve.settings import from_arguments

    run_server(settings=from_arguments(args))  # flags over LIMELIGHT_* variables over defaults
    return 0


def _cmd_ui(args: argparse.Namespace) -> int:
    try:
        from .ui import launch
    except ImportError as exc:
        raise LimelightError(f"the web UI needs gradio: pip install 'limelight[ui]' ({exc})") from None
    launch(host=args.host, port=args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="limelight", description="Expressive speech from text and directed scripts, offline.",
                     epilog=EPILOG)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    say = sub.add_parser("say", help="speak text to an audio file", epilog=EPILOG)
    say.add_argument("text", nargs="?", help="text to speak, or - to read stdin")
    say.add_argument("-f", "--file", help="read the text from this UTF-8 file")
    say.add_argument("-o", "--output", help="output file; its extension picks the format: .wav, .flac, .ogg "
                     "(Vorbis), .opus, .mp3 (required unless --explain)")
    say.add_argument("--sample-rate", type=int, default=None, metavar="HZ",
                     help="output sample rate, e.g. 48000 (default: the engine's, 24000 for Kokoro)")
    say.add_argument("--channels", type=int, default=1, choices=[1, 2], help="1 (mono, default) or 2 (stereo)")
    say.add_argument("--voice", help="voice name, blend like 'jf_alpha:0.7,jm_kumo:0.3' (see `limelight voices`), "
                     "or a description in words to design one: 'A deep old man, slow and gravelly'")
    say.add_argument("--gender", choices=["male", "female"],
                     help="gender of a --voice description (default: read from its words, else female)")
    say.add_argument("--speed", type=float, default=1.0, help="speaking rate multiplier (default 1.0)")
    say.add_argument("--language", default=None,
                     help="language of the text the script does not mark (default: detected per segment); "
                          "a script's own language=\"…\" always wins, and a --language that contradicts it "
                          "is an error")
    say.add_argument("--engine", default="kokoro", choices=["kokoro", "piper"])
    say.add_argument("--model", help="model path or URL: a Kokoro ONNX (default: the shipped int8 model), or with "
                                     "--engine piper any Piper voice VOICE.onnx (VOICE.onnx.json beside it; "
                                     "default: the shipped en_US-joe-medium); URLs are cached, #sha256=… checks them")
    say.add_argument("--decoder", default=None, choices=["fast", "kokoro"],
                     help="Kokoro's waveform generator: the distilled fast one (default with the shipped model) "
                          "or the original")
    say.add_argument("--reference", help="reference audio (3-30 s wav/flac/ogg/mp3) whose voice to clone")
    say.add_argument("--lexicon", metavar="FILE",
                     help="pronunciation lexicon: TSV (word<TAB>/ipa/ or respelling) or W3C PLS XML")
    say.add_argument("--pace", type=float, default=1.5, help="duration allocation; higher = slower (default 1.5)")
    say.add_argument("--seed", type=int, default=-1, help="random seed for variations (-1 = random)")
    say.add_argument("--validate", action="store_true", help="check each chunk with Whisper and retry if garbled")
    say.add_argument("--background-sfx", action="store_true", help="keep scene ambience and sound effects")
    say.add_argument("--stems", action="store_true", help="also write OUT.voice/.ambience/.effects.wav")
    say.add_argument("--explain", action="store_true", help="print the parsed script and directions; no audio")
    say.add_argument("--metadata", help="write the performance report (JSON, with word timings) to this path")
    say.add_argument("--subtitles", metavar="OUT.srt|OUT.vtt",
                     help="write subtitles timed to the words (SRT or WebVTT with speaker voice tags)")
    say.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    say.set_defaults(func=_cmd_say)

    voices = sub.add_parser("voices", help="list available voices (* marks the default)")
    voices.add_argument("--engine", default="kokoro", choices=["kokoro", "piper"])
    voices.add_argument("--model", help="the model whose voices to list (e.g. a Piper voice VOICE.onnx)")
    voices.add_argument("--delete", metavar="NAME", help="delete a saved voice from the library")
    voices.set_defaults(func=_cmd_voices)

    clone = sub.add_parser("clone", help="clone a voice from 3-30 s of reference audio into the library")
    clone.add_argument("reference", nargs="*", help="reference audio file(s) (wav/flac/ogg/mp3)")
    clone.add_argument("--name", required=True, help="name to save the voice under")
    clone.add_argument("--force", action="store_true", help="replace an existing voice of that name")
    clone.add_argument("--enroll", action="store_true",
                       help="slower, closer: refine the clone by synthesis (gradient descent when torch is installed, "
                       "else search; minutes on a CPU)")
    clone.add_argument("--deep", action="store_true",
                       help="closest: fit the voice's own decoder adapter to the reference(s) (needs torch for the "
                       "fit; ~2-5 min on a 2-core CPU; Ctrl-C stops early and keeps what it has)")
    clone.add_argument("--transcript", help="the reference's words (default: transcribed by Whisper)")
    clone.add_argument("--dataset", metavar="FILE",
                       help="deep clone from several references: 'audio_path|transcript' per line")
    clone.add_argument("--budget", type=float, default=None, metavar="S",
                       help="seconds for the deep clone's fit (default 240)")
    clone.set_defaults(func=_cmd_clone)

    design = sub.add_parser("design", help="design a voice from a description and save it in the library")
    design.add_argument("description", help="e.g. 'A warm middle-aged woman, calm and clear'")
    design.add_argument("--name", required=True, help="name to save the voice under")
    design.add_argument("--gender", choices=["male", "female"], help="default: read from the description")
    design.add_argument("--force", action="store_true", help="replace an existing voice of that name")
    design.add_argument("--preview", metavar="OUT", help="also speak a short preview to this audio file")
    design.set_defaults(func=_cmd_design)

    from .serve.settings import add_arguments as add_serve_arguments

    serve = sub.add_parser("serve", help="run the HTTP server (every flag also reads LIMELIGHT_<FLAG>)")
    add_serve_arguments(serve)
    from .serve.ray_serve import add_arguments as add_ray_serve_arguments

    add_ray_serve_arguments(serve)
    serve.set_defaults(func=_cmd_serve)

    from .batch.cli import add_parser as add_batch_parser

    add_batch_parser(sub)

    ui = sub.add_parser("ui", help="run the web studio (Gradio)")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=7860)
    ui.set_defaults(func=_cmd_ui)
    return parser


def _one_blas_thread() -> None:
    """Hold numpy's BLAS to one thread for this process. limelight's numpy work is small matrices (speaker
    embedding, sentence embedding, design), where a second BLAS thread mostly spins: on a busy 2-core machine a
    clone's speaker embedding took 2.9 s with two threads and 0.26 s with one. ONNX Runtime has its own pool."""
    try:
        import numpy  # noqa: F401  - its BLAS must be loaded for the limit to reach it
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a declared dependency
        return
    threadpool_limits(limits=1, user_api="blas")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "say" and not args.explain and not args.output:
        parser.error("say needs -o/--output (or --explain)")
    _one_blas_thread()
    try:
        return int(args.func(args))
    except LimelightError as exc:
        sys.stderr.write(f"limelight: error: {exc}\n")
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("limelight: interrupted\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
