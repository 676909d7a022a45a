"""Long-form rendering with the Performer (issue 6): memory, speed, chunking, loudness and end-to-end WER.

Renders a text file with `Performer.perform_to_file` (default voice) and reports:

- wall time, audio duration and real-time factor (render wall / audio seconds; engine load timed apart);
- peak RSS (``ru_maxrss``) and RSS sampled over time from ``/proc/self/status`` — bounded memory means the RSS
  does not grow with the amount of audio already written;
- per-chunk estimated vs actual durations (the plan promises chunks ≤ 15 s);
- per-chunk integrated loudness (pyloudnorm, measured again on the written WAV) and its spread;
- validation attempts and match ratios from the chunk report;
- end-to-end WER: the written WAV is transcribed by the shipped Whisper in ≤ 30 s windows cut at chunk
  boundaries and compared with the source text through `limelight.check.wer` (the same normalisation the
  Performer's own check uses).

    nice -n 19 python bench/longform.py --text bench/texts/chapter_2k.txt --threads 1 --json /tmp/longform/2k.json
    nice -n 19 python bench/longform.py --text bench/texts/chapter_10k.txt --no-validate --no-wer --threads 1
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

CHUNK_MAX_S = 15.0
WINDOW_MAX_S = 30.0


def rss_mib() -> float:
    """Current resident set size of this process (MiB)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class RssSampler(threading.Thread):
    """Samples RSS every `interval` seconds, tagged with the current phase and the number of pieces written."""

    def __init__(self, interval: float) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.samples: list[dict[str, Any]] = []
        self.phase = "start"
        self.done = 0
        self._halt = threading.Event()
        self._t0 = time.perf_counter()

    def sample(self) -> None:
        self.samples.append({"t_s": round(time.perf_counter() - self._t0, 2), "rss_mib": round(rss_mib(), 1),
                             "phase": self.phase, "pieces_done": self.done})

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self.sample()


def stats(values: list[float]) -> dict[str, float | None]:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return {"n": 0, "min": None, "max": None, "mean": None, "std": None, "spread": None}
    a = np.asarray(vals, np.float64)
    return {"n": len(vals), "min": round(float(a.min()), 3), "max": round(float(a.max()), 3),
            "mean": round(float(a.mean()), 3), "std": round(float(a.std()), 3),
            "spread": round(float(a.max() - a.min()), 3), "p5": round(float(np.percentile(a, 5)), 3),
            "p95": round(float(np.percentile(a, 95)), 3)}


def windows(chunks: list[dict[str, Any]], n_samples: int, sr: int) -> list[dict[str, Any]]:
    """Group consecutive chunks into ≤ WINDOW_MAX_S windows cut at chunk boundaries (from the report's start_s)."""
    out: list[dict[str, Any]] = []
    cur: list[dict[str, Any]] = []

    def close() -> None:
        if cur:
            start = cur[0]["start_s"]
            end = cur[-1]["start_s"] + cur[-1]["duration_s"]
            out.append({"start_s": start, "end_s": end, "chunks": [c["index"] for c in cur],
                        "reference": " ".join(c["text"] for c in cur)})

    for c in chunks:
        if cur and c["start_s"] + c["duration_s"] - cur[0]["start_s"] > WINDOW_MAX_S:
            close()
            cur = []
        cur.append(c)
    close()
    for w in out:  # a little context either side (the silence between chunks), never past a neighbour's start
        w["cut_from"] = max(0, int((w["start_s"] - 0.1) * sr))
        w["cut_to"] = min(n_samples, int((w["end_s"] + 0.15) * sr))
    return out


def fixed_windows(n_samples: int, sr: int) -> list[dict[str, Any]]:
    step = int(WINDOW_MAX_S * sr)
    return [{"start_s": i / sr, "end_s": min(n_samples, i + step) / sr, "chunks": [], "reference": "",
             "cut_from": i, "cut_to": min(n_samples, i + step)} for i in range(0, n_samples, step)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--text", required=True, type=Path)
    ap.add_argument("--validate", action=argparse.BooleanOptionalAction, default=True,
                    help="Whisper validation with retries inside the Performer (default on)")
    ap.add_argument("--wer", action=argparse.BooleanOptionalAction, default=True,
                    help="transcribe the written WAV afterwards for end-to-end WER (default on)")
    ap.add_argument("--out", type=Path, default=None, help="WAV to write (default /tmp/longform/<stem>.wav)")
    ap.add_argument("--threads", type=int, default=1, help="engine and Whisper threads (default 1)")
    ap.add_argument("--json", type=Path, default=None, help="write the full report here")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--min-match-ratio", type=float, default=None, help="default: the Performer's default")
    ap.add_argument("--sample-interval", type=float, default=2.0, help="RSS sampling period in seconds")
    args = ap.parse_args()

    sampler = RssSampler(args.sample_interval)
    sampler.start()
    text = args.text.read_text(encoding="utf-8")
    out = args.out or Path("/tmp/longform") / f"{args.text.stem}.wav"
    out.parent.mkdir(parents=True, exist_ok=True)
    n_words = len(text.split())
    rss_import = rss_mib()

    sampler.phase = "load"
    t_load = time.perf_counter()
    from limelight import Performer, PerformOptions
    from limelight.check.asr import Transcriber
    from limelight.check.wer import edit_distance, words

    performer = Performer(engine="kokoro", threads=args.threads)
    transcriber = None
    if args.validate or args.wer:
        # Performer.transcriber uses the process-wide Whisper with os.cpu_count() threads; keep to --threads.
        transcriber = Transcriber(threads=args.threads)
        performer.transcriber = transcriber
    load_s = time.perf_counter() - t_load
    rss_loaded = rss_mib()
    print(f"loaded engine{' + whisper' if transcriber else ''} in {load_s:.1f}s; RSS {rss_loaded:.0f} MiB; "
          f"text {args.text} ({n_words} words); validate={args.validate}", flush=True)

    options: dict[str, Any] = {"validate": args.validate, "seed": args.seed}
    if args.min_match_ratio is not None:
        options["min_match_ratio"] = args.min_match_ratio
    min_match = options.get("min_match_ratio", PerformOptions.min_match_ratio)

    t_render = time.perf_counter()
    first_piece_s: list[float] = []

    def progress(done: int, total: int) -> None:
        sampler.done = done
        now = time.perf_counter() - t_render
        if not first_piece_s:
            first_piece_s.append(now)
        eta = now / done * (total - done) if done else float("nan")
        print(f"\r[{done:4d}/{total}] {now:7.1f}s elapsed, ETA {eta:6.0f}s, RSS {rss_mib():6.0f} MiB",
              end="" if sys.stdout.isatty() else "\n", flush=True)

    sampler.phase = "render"
    meta = performer.perform_to_file(text, out, progress=progress, **options)
    render_s = time.perf_counter() - t_render
    rss_after_render = rss_mib()
    peak_after_render = peak_rss_mib()
    sampler.phase = "analyse"  # from here on the samples are this script's own work, not the Performer's
    print(flush=True)

    import pyloudnorm
    import soundfile as sf

    wav = sf.SoundFile(str(out))  # read back piece by piece: an hour of float audio would dwarf the Performer
    sr, n_samples = wav.samplerate, wav.frames
    audio_s = n_samples / sr

    def read(a: int, b: int) -> np.ndarray:
        wav.seek(max(0, a))
        return wav.read(max(0, min(b, n_samples) - max(0, a)), dtype="float32")
    chunks: list[dict[str, Any]] = meta["chunks"]

    # Per-chunk rows: estimated vs actual, loudness measured on the file, validation.
    meter = pyloudnorm.Meter(sr)
    rows = []
    for c in chunks:
        a = int(round(c["start_s"] * sr))
        seg = read(a, a + int(round(c["duration_s"] * sr))).astype(np.float64)
        lufs = float(meter.integrated_loudness(seg)) if seg.size >= int(0.4 * sr) else float("nan")
        rows.append({"index": c["index"], "start_s": c["start_s"], "est_s": c["est_duration_s"],
                     "actual_s": c["duration_s"], "actual_over_est": round(c["duration_s"] / c["est_duration_s"], 3)
                     if c["est_duration_s"] else None, "lufs_file": round(lufs, 2),
                     "lufs_report": c["loudness_lufs"], "attempts": c["attempts"],
                     "attempt_ratios": c["attempt_ratios"], "match_ratio": c["match_ratio"],
                     "passed": c["passed"], "words": len(c["text"].split()), "text": c["text"],
                     "transcript": c["transcript"]})
    durations = [r["actual_s"] for r in rows]
    over = [r for r in rows if r["actual_s"] > CHUNK_MAX_S]
    retried = [r for r in rows if r["attempts"] > 1]
    failed = [r for r in rows if r["passed"] is False]
    loud_file = stats([r["lufs_file"] for r in rows])
    loud_report = stats([r["lufs_report"] for r in rows])

    # End-to-end WER on the written file.
    wer_report: dict[str, Any] | None = None
    if args.wer:
        assert transcriber is not None
        sampler.phase = "asr"
        t_asr = time.perf_counter()
        wins = windows(chunks, n_samples, sr) if chunks and "start_s" in chunks[0] else fixed_windows(n_samples, sr)
        hyps = []
        win_errors = win_words = 0
        for i, w in enumerate(wins):
            hyp = transcriber.transcribe(read(w["cut_from"], w["cut_to"]), sr, "en")
            hyps.append(hyp)
            w["hypothesis"] = hyp
            if w["reference"]:
                ref_w, hyp_w = words(w["reference"]), words(hyp)
                e = edit_distance(ref_w, hyp_w)
                w["errors"], w["ref_words"] = e, len(ref_w)
                win_errors, win_words = win_errors + e, win_words + len(ref_w)
            print(f"\rASR window {i + 1}/{len(wins)}", end="" if sys.stdout.isatty() else "\n", flush=True)
        print(flush=True)
        src_words, hyp_words = words(text), words(" ".join(hyps))
        errors = edit_distance(src_words, hyp_words)
        wer_report = {"wer_vs_source": round(errors / max(len(src_words), 1), 4), "errors": errors,
                      "source_words": len(src_words), "hypothesis_words": len(hyp_words),
                      "wer_windows_vs_chunk_text": round(win_errors / max(win_words, 1), 4) if win_words else None,
                      "n_windows": len(wins), "max_window_s": round(max(w["end_s"] - w["start_s"] for w in wins), 2),
                      "asr_s": round(time.perf_counter() - t_asr, 1),
                      "worst_windows": sorted(({k: w[k] for k in ("start_s", "end_s", "errors", "ref_words",
                                                                   "reference", "hypothesis")}
                                               for w in wins if w.get("ref_words")),
                                              key=lambda w: -w["errors"] / max(w["ref_words"], 1))[:5],
                      "windows": [{k: v for k, v in w.items() if k not in ("cut_from", "cut_to")} for w in wins]}

    sampler.phase = "end"
    wav.close()
    sampler.stop()
    render_samples = [s for s in sampler.samples if s["phase"] == "render"]
    rss_render = [s["rss_mib"] for s in render_samples]
    quarters = {}
    if rss_render:
        for q in (0.1, 0.25, 0.5, 0.75, 1.0):
            quarters[f"{int(q * 100)}%"] = rss_render[min(len(rss_render) - 1, int(q * (len(rss_render) - 1)))]
    slope = None
    if len(render_samples) > 10:  # growth of RSS over the second half of the render, MiB per minute of wall time
        half = render_samples[len(render_samples) // 2:]
        t = np.array([s["t_s"] for s in half]) / 60
        slope = round(float(np.polyfit(t, np.array([s["rss_mib"] for s in half]), 1)[0]), 2)

    ratios = [r for c in chunks for r in c["attempt_ratios"]]
    summary = {
        "text": str(args.text), "words": n_words, "validate": args.validate, "min_match_ratio": min_match,
        "threads": args.threads, "seed": meta["seed"], "voice": meta["voices"], "out": str(out),
        "load_s": round(load_s, 1), "render_wall_s": round(render_s, 1),
        "first_piece_s": round(first_piece_s[0], 1) if first_piece_s else None,
        "audio_s": round(audio_s, 1), "metadata_duration_s": meta["duration_s"],
        "rtf": round(render_s / max(audio_s, 1e-9), 3),
        "chunks": len(chunks), "chunk_actual_s": stats(durations), "chunk_est_s": stats([r["est_s"] for r in rows]),
        "actual_over_est": stats([r["actual_over_est"] for r in rows if r["actual_over_est"]]),
        "chunks_over_15s": len(over), "chunks_actual_gt_est": sum(1 for r in rows if r["actual_s"] > r["est_s"]),
        "loudness_file_lufs": loud_file, "loudness_report_lufs": loud_report,
        "attempts_total": sum(r["attempts"] for r in rows), "chunks_retried": len(retried),
        "chunks_failed_bar": len(failed), "mean_match_ratio": meta["match_ratio"],
        "attempt_ratio_stats": stats(ratios),
        "rss_mib": {"after_import": round(rss_import, 1), "after_load": round(rss_loaded, 1),
                    "after_render": round(rss_after_render, 1), "peak_after_render": round(peak_after_render, 1),
                    "peak_ru_maxrss": round(peak_rss_mib(), 1), "during_render": stats(rss_render),
                    "render_at": quarters, "slope_2nd_half_mib_per_min": slope},
        "wer": {k: v for k, v in wer_report.items() if k != "windows"} if wer_report else None,
        "not_applied": meta["not_applied"],
    }

    # --- the table
    def line(name: str, value: Any) -> None:
        print(f"  {name:34} {value}")

    print(f"\n== longform: {args.text.name} ({n_words} words), validate={args.validate}, threads={args.threads}")
    line("voice", ", ".join(f"{v['name']}" for v in meta["voices"].values()))
    line("engine(+whisper) load", f"{load_s:.1f} s")
    line("render wall", f"{render_s:.1f} s  (first piece after {summary['first_piece_s']} s)")
    line("audio duration", f"{audio_s:.1f} s ({audio_s / 60:.1f} min)")
    line("RTF (render wall / audio)", f"{summary['rtf']:.3f}")
    line("chunks", len(chunks))
    cs = summary["chunk_actual_s"]
    line("chunk duration min/mean/max", f"{cs['min']:.2f} / {cs['mean']:.2f} / {cs['max']:.2f} s"
         f"  ({len(over)} over {CHUNK_MAX_S:.0f} s)")
    es = summary["chunk_est_s"]
    line("chunk estimate min/mean/max", f"{es['min']:.2f} / {es['mean']:.2f} / {es['max']:.2f} s")
    ae = summary["actual_over_est"]
    line("actual/estimate min/mean/max", f"{ae['min']:.3f} / {ae['mean']:.3f} / {ae['max']:.3f}"
         f"  ({summary['chunks_actual_gt_est']} chunks longer than estimated)")
    line("chunk loudness (file) spread", f"{loud_file['spread']} LU (min {loud_file['min']}, max {loud_file['max']}, "
         f"std {loud_file['std']}, p5-p95 {loud_file['p5']}..{loud_file['p95']})")
    line("chunk loudness (report) spread", f"{loud_report['spread']} LU (std {loud_report['std']})")
    if args.validate:
        line("validation attempts", f"{summary['attempts_total']} for {len(chunks)} chunks; "
             f"{len(retried)} chunks retried; {len(failed)} below bar {min_match}")
        line("mean match ratio (best take)", meta["match_ratio"])
        rs = summary["attempt_ratio_stats"]
        line("attempt ratios min/mean", f"{rs['min']} / {rs['mean']}")
    if wer_report:
        line("end-to-end WER vs source", f"{wer_report['wer_vs_source']:.2%} ({wer_report['errors']} errors / "
             f"{wer_report['source_words']} words; {wer_report['hypothesis_words']} heard)")
        if wer_report["wer_windows_vs_chunk_text"] is not None:
            line("WER windows vs chunk text", f"{wer_report['wer_windows_vs_chunk_text']:.2%}")
        line("ASR windows", f"{wer_report['n_windows']} (max {wer_report['max_window_s']} s), {wer_report['asr_s']} s")
    r = summary["rss_mib"]
    line("RSS after import / load", f"{r['after_import']} / {r['after_load']} MiB")
    line("RSS during render min/max", f"{r['during_render']['min']} / {r['during_render']['max']} MiB")
    line("RSS over render (10/25/50/75/100%)", " ".join(f"{v:.0f}" for v in quarters.values()))
    line("RSS slope, 2nd half of render", f"{slope} MiB/min")
    line("peak RSS after render (ru_maxrss)", f"{r['peak_after_render']} MiB")
    line("peak RSS at end (ru_maxrss)", f"{r['peak_ru_maxrss']} MiB")
    if meta["not_applied"]:
        line("not applied", meta["not_applied"])
    if retried:
        print("\n  retried chunks (index: ratios -> best)")
        for rr in retried:
            print(f"    {rr['index']:4d}: {rr['attempt_ratios']} -> {rr['match_ratio']}  {rr['text'][:70]!r}")
    if over:
        print("\n  chunks over 15 s")
        for rr in over:
            print(f"    {rr['index']:4d}: est {rr['est_s']} s, actual {rr['actual_s']} s  {rr['text'][:70]!r}")

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report = {"summary": summary, "chunks": rows, "rss_samples": sampler.samples,
                  "asr_windows": wer_report["windows"] if wer_report else None}
        args.json.write_text(json.dumps(report, indent=1, default=str))
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
