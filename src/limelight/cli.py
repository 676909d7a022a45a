"""The `limelight` command: a thin layer over the Python API.

User errors (unknown voice, empty text, unwritable output, bad markup) print one line to stderr and exit with
code 2; they never show a traceback. Anything else is a bug and is allowed to surface.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .errors import LimelightError

EXIT_USER_ERROR = 2


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
    from .api import Limelight
    from .audio.wav import check_writable, write_wav

    text = _read_text(args)
    if not text.strip():
        raise LimelightError("text is empty", field="text")
    check_writable(args.output)
    tts = Limelight(engine=args.engine, model=args.model)
    voice = tts.voice(args.voice)  # fail on an unknown voice before any synthesis
    sentences = tts.sentences(text, args.language)
    chunks = tts.infer_stream(text, voice=voice, speed=args.speed, language=args.language)
    if len(sentences) > 1 and not args.quiet:
        from tqdm import tqdm

        chunks = tqdm(chunks, total=len(sentences), unit="sentence", file=sys.stderr, desc="speaking")
    import numpy as np

    audio = np.concatenate(list(chunks))
    write_wav(args.output, audio, tts.sample_rate)
    if not args.quiet:
        print(f"wrote {args.output} ({len(audio) / tts.sample_rate:.2f} s, {tts.sample_rate} Hz, voice {voice.name})",
              file=sys.stderr)
    return 0


def _cmd_voices(args: argparse.Namespace) -> int:
    from .api import Limelight

    tts = Limelight(engine=args.engine)
    default = tts.engine.default_voice
    for name, voice in sorted(tts.voices().items()):
        mark = "*" if name == default else " "
        print(f"{mark} {name:16s} {voice.gender or '-':7s} {voice.source:8s} {voice.description}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="limelight", description="Expressive speech from text and directed scripts, offline.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    say = sub.add_parser("say", help="speak text to a WAV file")
    say.add_argument("text", nargs="?", help="text to speak, or - to read stdin")
    say.add_argument("-f", "--file", help="read the text from this UTF-8 file")
    say.add_argument("-o", "--output", required=True, help="output WAV path")
    say.add_argument("--voice", help="voice name or blend like 'jf_alpha:0.7,jm_kumo:0.3' (see `limelight voices`)")
    say.add_argument("--speed", type=float, default=1.0, help="speaking rate multiplier (default 1.0)")
    say.add_argument("--language", default="en", help="language code (default en)")
    say.add_argument("--engine", default="kokoro", choices=["kokoro", "piper"])
    say.add_argument("--model", help="Kokoro ONNX model path or URL (default: the shipped int8 model)")
    say.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    say.set_defaults(func=_cmd_say)

    voices = sub.add_parser("voices", help="list available voices (* marks the default)")
    voices.add_argument("--engine", default="kokoro", choices=["kokoro", "piper"])
    voices.set_defaults(func=_cmd_voices)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
