"""Batch throughput: the local process pool against Ray actors at equal workers, and resume after a kill.

A manifest of ``--jobs`` jobs (default 40 single sentences from bench/texts/chapter_10k.txt; ``--long`` makes
each job a paragraph) is rendered into a fresh folder once per (mode, workers). Columns:
  wall s        the whole run: workers start, engines load, every job renders and is committed
  audio s / s   throughput (audio seconds written per wall second)
  efficiency    throughput / (workers × the same mode's 1-worker throughput): 100 % is ideal scaling
  vs local      Ray's wall time over the local pool's at the same workers (the Ray overhead; + = slower)
  busy          sum of per-job render seconds / (workers × wall): how much of the run the workers rendered
With ``--repeats R`` every cell runs R times, interleaved with the others and the mode order flipped each
repeat (on a shared machine the load drifts, and whichever runs first is favoured); the median run is shown.
The Ray instance is started once before the Ray rows and its start-up is printed apart (a cluster is started
once and serves many batches); actors and their engines are started inside each row, as local workers are.

``--resume-check`` starts the batch as a subprocess, SIGKILLs its process group once a third of the jobs
are finished, then checks that every job finished before the kill still has a whole audio file matching
its metadata, that no final file name holds a partial file, and that a re-run renders only the rest.

Here (2 shared cores):     python bench/batch.py [--jobs 20 --repeats 3]
On a 16-core machine:      python bench/batch.py --workers 1,4,8,16 --long
With one GPU actor:        python bench/batch.py --modes ray --workers 1 --device cuda --long
Against a cluster:         python bench/batch.py --modes ray --ray-address ray://head:10001 --workers 16
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from limelight.batch import BatchSettings, EngineConfig, run_batch  # noqa: E402
from limelight.batch.output import audio_frames  # noqa: E402
from limelight.batch.run import performer_for  # noqa: E402


def make_manifest(path: Path, jobs: int, long: bool) -> Path:
    text = (ROOT / "bench" / "texts" / "chapter_10k.txt").read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in text.split("\n\n") if len(p.strip()) > 80]
    sentences = [s for p in paragraphs for s in re.split(r"(?<=[.!?])\s+", p) if 20 <= len(s) <= 160]
    pool = paragraphs if long else sentences
    records = [{"id": f"job{i:03d}", "text": pool[i % len(pool)], "seed": i} for i in range(jobs)]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def one_run(manifest: Path, mode: str, workers: int, device: str, threads: int | None) -> dict[str, float]:
    out = Path(tempfile.mkdtemp(prefix=f"bench-batch-{mode}{workers}-"))
    cores = os.cpu_count() or 1
    settings = BatchSettings(out_dir=out, workers=workers,
                             engine=EngineConfig(device=device, threads=threads or max(1, cores // workers)))
    performer_for.cache_clear()  # every run loads its engines, as a `limelight batch` command does
    t0 = time.perf_counter()
    summary = run_batch(manifest, settings, quiet=True, use_ray=mode == "ray")
    wall = time.perf_counter() - t0
    rows = [json.loads(line) for line in (out / "report.jsonl").read_text().splitlines()]
    busy = sum(r["seconds"] for r in rows)
    if summary.failed or summary.invalid:
        print(f"  {mode} x{workers}: {summary.failed} failed, {summary.invalid} invalid (see {out})", file=sys.stderr)
    return {"wall": wall, "audio": summary.audio_s, "busy": busy, "ok": summary.ok}


def resume_check(manifest: Path, workers: int, jobs: int) -> list[tuple[str, bool, str]]:
    out = Path(tempfile.mkdtemp(prefix="bench-batch-resume-"))
    cmd = [sys.executable, "-m", "limelight", "batch", str(manifest), "-o", str(out), "--workers", str(workers), "-q"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    target = max(1, jobs // 3)
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None and len(list(out.glob("job*.json"))) < target:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = sorted(p.stem for p in out.glob("job*.json"))
    checks: list[tuple[str, bool, str]] = []
    whole = []
    for job_id in finished:
        meta = json.loads((out / f"{job_id}.json").read_text())
        whole.append(audio_frames(out / f"{job_id}.wav") == meta["batch"]["frames"])
    checks.append(("killed mid-run", len(finished) < jobs, f"{len(finished)} of {jobs} jobs finished at the kill"))
    checks.append(("finished jobs whole", all(whole), f"{sum(whole)}/{len(whole)} audio files match their metadata"))
    partial = [p.name for p in out.glob("job*.wav") if audio_frames(p) is None]
    checks.append(("no partial file under a final name", not partial, ", ".join(partial) or "none"))
    before = {j: (out / f"{j}.wav").stat().st_mtime_ns for j in finished}
    rerun = subprocess.run(cmd, env=env, check=False)
    rows = {r["id"]: r for r in map(json.loads, (out / "report.jsonl").read_text().splitlines())}
    skipped = [j for j in finished if rows[j]["status"] == "skipped" and (out / f"{j}.wav").stat().st_mtime_ns
               == before[j]]
    checks.append(("re-run skips the finished", len(skipped) == len(finished), f"{len(skipped)}/{len(finished)}"))
    ok = sum(1 for r in rows.values() if r["status"] in ("ok", "skipped"))
    checks.append(("re-run completes the rest", rerun.returncode == 0 and ok == jobs, f"{ok}/{jobs}, exit "
                   f"{rerun.returncode}"))
    checks.append(("no temporaries left", not list(out.glob(".*.tmp")), str(out)))
    return checks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=40)
    ap.add_argument("--long", action="store_true", help="a paragraph per job instead of a sentence")
    ap.add_argument("--workers", default="1,2", help="comma list (default 1,2)")
    ap.add_argument("--modes", default="local,ray", help="local, ray or both (default both)")
    ap.add_argument("--device", default="auto", help="auto (CUDA for Ray actors when there is a GPU), cpu, cuda")
    ap.add_argument("--threads", type=int, default=None, help="threads per worker (default cores / workers)")
    ap.add_argument("--ray-address", default=None, help="a running cluster (default: a local instance)")
    ap.add_argument("--repeats", type=int, default=1, help="runs per cell, interleaved; the median is shown")
    ap.add_argument("--resume-check", action=argparse.BooleanOptionalAction, default=True)
    args = ap.parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    modes = [m.strip() for m in args.modes.split(",")]
    manifest = make_manifest(Path(tempfile.mkdtemp(prefix="bench-batch-")) / "manifest.jsonl", args.jobs, args.long)
    print(f"{args.jobs} jobs ({'paragraphs' if args.long else 'sentences'}), {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at the start")
    if "ray" in modes:
        import ray

        from limelight.batch.ray_run import local_runtime_env

        t0 = time.perf_counter()
        if args.ray_address:
            ray.init(address=args.ray_address, log_to_driver=False)
        else:
            ray.init(include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": local_runtime_env()})
        print(f"Ray instance start-up: {time.perf_counter() - t0:.1f} s (not in the rows below)")
    runs: dict[tuple[str, int], list[dict[str, float]]] = {(m, n): [] for m in modes for n in workers}
    for rep in range(args.repeats):  # cells interleaved, the mode order flipped each repeat (load drifts)
        for n in workers:
            for mode in (modes if rep % 2 == 0 else modes[::-1]):
                runs[(mode, n)].append(one_run(manifest, mode, n, args.device, args.threads))
    results = {cell: sorted(rs, key=lambda r: r["wall"])[len(rs) // 2] for cell, rs in runs.items()}
    print(f"\n{'mode':6} {'workers':>7} {'jobs':>5} {'audio s':>8} {'wall s':>7} {'audio s/s':>9} {'efficiency':>10} "
          f"{'vs local':>8} {'busy':>5}")
    for (mode, n), r in results.items():
        thr = r["audio"] / r["wall"]
        base = results.get((mode, 1))
        eff = f"{thr / (n * base['audio'] / base['wall']):.0%}" if base else "-"
        local = results.get(("local", n))
        vs = f"{r['wall'] / local['wall'] - 1:+.0%}" if mode == "ray" and local else "-"
        print(f"{mode:6} {n:>7} {int(r['ok']):>5} {r['audio']:>8.1f} {r['wall']:>7.1f} {thr:>9.2f} {eff:>10} {vs:>8} "
              f"{r['busy'] / (n * r['wall']):>5.0%}")
    if args.resume_check:
        print("\nresume after SIGKILL mid-run (local pool, "
              f"{min(2, max(workers))} workers)")
        for name, ok, detail in resume_check(manifest, min(2, max(workers)), args.jobs):
            print(f"  {'PASS' if ok else 'FAIL'}  {name:36} {detail}")


if __name__ == "__main__":
    main()
