"""CPU cost of the cheap stages beside the engine: the speed checks the test suite no longer makes.

    python bench/cpu_costs.py [--repeats 3] [--speaker 3005]

Tests bound work (engine calls), never seconds: on a busy shared machine a seconds bound fails for reasons
that are not the code's. The seconds live here, each next to its peer measured in the same run, as a ratio:

- direction DSP (per Direction): CPU seconds per second of audio, and the ratio to the engine synthesising
  that same audio (the peer: what a chunk costs anyway);
- cloning a voice from one dev clip: CPU seconds, and the ratio to the same peer (the clone's colour
  calibration synthesises one sentence itself).

CPU time (``time.process_time``) of this process, the best of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

SHARED = Path(os.environ.get("LIMELIGHT_SHARED", Path(__file__).resolve().parents[2] / "shared"))
TEXT = ("The old lighthouse keeper climbed the stairs every evening, counting each step, "
        "and lit the lamp before the fog rolled in from the sea.")


def cpu_best(fn: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--speaker", default="3005", help="dev speaker (shared/voices/dev/<id>) to clone")
    args = ap.parse_args(argv)

    from limelight import Limelight
    from limelight.direct import Direction
    from limelight.direct.dsp import apply_direction
    from limelight.voice.clone import clone_model, clone_voice

    tts = Limelight()
    sr = tts.sample_rate
    voice = tts.voice("jm_kumo")
    speech = tts.engine.synthesize(TEXT, voice)
    seconds = speech.size / sr
    synth = cpu_best(lambda: tts.engine.synthesize(TEXT, voice), args.repeats)
    print(f"peer: synthesising {seconds:.1f} s of speech takes {synth:.3f} s of CPU "
          f"({synth / seconds:.3f} s per audio second)\n")

    cases = {"grief (pitch+range+tilt+breath)": Direction(speed=0.88, pitch_shift=-1.0, pitch_range=0.7,
                                                          energy_db=-3.0, tilt_db=-3.0, breathiness=0.15),
             "shout": Direction(register="shout"), "whisper": Direction(register="whisper"),
             "trembling": Direction(tremble=0.6, pitch_range=0.9)}
    print(f"{'stage':34} {'CPU s':>7} {'per audio s':>11} {'÷ engine':>9}")
    for name, direction in cases.items():
        cpu = cpu_best(lambda d=direction: apply_direction(speech, sr, d), args.repeats)
        print(f"{'DSP ' + name:34} {cpu:7.3f} {cpu / seconds:11.3f} {cpu / synth:9.2f}")

    clips = sorted((SHARED / "voices" / "dev" / args.speaker).glob("*.flac"))
    if not clips:
        print(f"no clips for dev speaker {args.speaker} under {SHARED}; clone row skipped", file=sys.stderr)
        return 0
    audio, clip_sr = sf.read(clips[0], dtype="float32")
    clone_model()  # data load is a one-off per process
    cpu = cpu_best(lambda: clone_voice(np.asarray(audio), clip_sr, "bench", engine=tts.engine), args.repeats)
    print(f"{'clone (one ' + f'{len(audio) / clip_sr:.0f} s clip)':34} {cpu:7.3f} {'':>11} {cpu / synth:9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
