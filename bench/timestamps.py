"""Word timings against Whisper's own word timestamps, and what timings cost.

For each input, limelight renders with word timings; faster-whisper (the shipped Whisper base,
``word_timestamps=True``) transcribes the output file, and the words both agree on are compared by start time.
Inputs: the en_dev sentences (plain text, each alone) and directed scripts with pauses, events, actions and a
tempo change. Whisper's own timestamps have an error of their own (tens of ms), so this bounds ours from above.

The cost line renders the same sentences with and without the word mapping (``synthesize_timed(timings=False)``)
in one run, alternating, and reports the ratio.

    python bench/timestamps.py [--voice jf_alpha] [--decoder fast|kokoro] [--limit N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

SHARED = Path(os.environ.get("LIMELIGHT_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))

SCRIPTS = {
    "pauses+events": """<speak voice="jm_kumo" gender="male">
<action>Calm, almost casual.</action> I used to think I had all the time in the world.
<pause seconds="1.2"/> [sigh] Then one Tuesday morning, the doctor said three words.
<action>Fast, urgent.</action> We had to leave at once, before the storm reached the coast.
<action>Slow, tired.</action> It costs $12.50 on March 3rd, and nobody could pay it.
</speak>""",
    "two speakers": """<script>
<speak voice="jf_alpha" gender="female">Where were you last night? I waited until midnight.</speak>
<speak voice="jm_kumo" gender="male"><action>Whispering.</action> I can't tell you here. Somebody is listening.</speak>
</script>""",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--voice", default="jf_alpha")
    ap.add_argument("--decoder", default=None, choices=["fast", "kokoro"])
    ap.add_argument("--limit", type=int, default=20, help="en_dev sentences to use")
    args = ap.parse_args()

    from limelight import Performer
    from limelight.check.asr import shared_transcriber
    from limelight.timing.compare import TimingAgreement, agreement
    agreement_pooled = TimingAgreement.pooled
    from limelight.timing.words import WordTiming

    perf = Performer(decoder=args.decoder)
    asr = shared_transcriber()
    sentences = [s.strip() for s in (SHARED / "texts" / "en_dev.txt").read_text().splitlines() if s.strip()]
    inputs = [(f"en_dev[{i}]", s, {"voice": args.voice}) for i, s in enumerate(sentences[: args.limit])]
    inputs += [(name, text, {}) for name, text in SCRIPTS.items()]

    rows = []
    for name, text, opts in inputs:
        p = perf.perform(text, validate=False, seed=3, **opts)
        words = [WordTiming(**{k: w[k] for k in ("word", "start", "end", "spoken", "speaker", "chunk",
                                                  "estimated")}) for w in p.metadata["words"]]
        heard = asr.words(p.audio, p.sample_rate, "en")
        a = agreement(words, heard)
        rows.append((name, a))
        print(f"  {name:16s} words {a.total:3d}  matched {a.share:6.1%}  median {a.median_ms:6.1f} ms  "
              f"p90 {a.p90_ms:6.1f} ms", file=sys.stderr)

    print("\n| input | words | matched | median |start err| | p90 |start err| |")
    print("|---|---|---|---|---|")
    for name, a in rows:
        print(f"| {name} | {a.total} | {a.share:.1%} | {a.median_ms:.0f} ms | {a.p90_ms:.0f} ms |")
    pooled = agreement_pooled([a for _, a in rows])
    print(f"| **all words ({len(rows)} inputs)** | {pooled.total} | {pooled.share:.1%} | {pooled.median_ms:.0f} ms | "
          f"{pooled.p90_ms:.0f} ms |")

    # Cost of the word mapping: the engine with and without it, alternating, on the same sentences.
    engine, voice = perf.engine, perf.engine.voices()[args.voice]
    timed = getattr(engine, "synthesize_timed", None)
    if timed is not None:
        with_t, without_t = 0.0, 0.0
        for s in sentences[: args.limit]:
            for flag in (True, False):
                t0 = time.perf_counter()
                timed(s, voice, timings=flag)
                dt = time.perf_counter() - t0
                if flag:
                    with_t += dt
                else:
                    without_t += dt
        print(f"\nword timings cost: {with_t:.2f} s with vs {without_t:.2f} s without "
              f"({(with_t / without_t - 1) * 100:+.1f} %) over {min(args.limit, len(sentences))} sentences")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
