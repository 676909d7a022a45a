"""English intelligibility of every shipped voice: Whisper-base WER on ../shared/texts/en_dev.txt.

The shipped voices are Japanese voice packs speaking English through espeak-ng phonemes; this picks the default.

    python bench/wer_voices.py [--engine kokoro] [--sentences 20]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from limelight import Limelight
from limelight.check.asr import shared_transcriber
from limelight.check.wer import word_errors

SHARED = Path(os.environ.get("LIMELIGHT_SHARED", Path(__file__).resolve().parents[2] / "shared"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--engine", default="kokoro")
    ap.add_argument("--sentences", type=int, default=20)
    args = ap.parse_args()
    sentences = [s.strip() for s in (SHARED / "texts" / "en_dev.txt").read_text().splitlines() if s.strip()]
    sentences = sentences[: args.sentences]
    tts = Limelight(engine=args.engine)
    asr = shared_transcriber()
    print(f"{'voice':16} {'WER':>7} {'errors':>7} {'words':>6}")
    for name in sorted(tts.voices()):
        errors = total = 0
        for s in sentences:
            e, n = word_errors(s, asr.transcribe(tts.infer(s, voice=name), tts.sample_rate))
            errors, total = errors + e, total + n
        print(f"{name:16} {errors / total:7.2%} {errors:7d} {total:6d}", flush=True)


if __name__ == "__main__":
    main()
