"""`limelight batch`: its options and the command (kept here so the main CLI only registers it)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..errors import LimelightError
from .output import FORMATS


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p = sub.add_parser(
        "batch", help="render every job of a manifest (JSONL, CSV or a folder of .txt/.xml) into a folder",
        description="Render a catalogue: one output file and one metadata file per job, a report.jsonl, "
                    "resumable (a re-run skips finished jobs). Exit 0: all jobs done; 1: some failed or were "
                    "invalid (see DIR/report.jsonl); 2: usage error.")
    p.add_argument("manifest", nargs="?", help="manifest: .jsonl, .csv, or a folder of .txt/.xml files")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder (created if missing)")
    p.add_argument("--workers", type=int, default=1, help="parallel workers, each with its own engine (default 1)")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads per worker (default: the cores of the machine, or with --ray of the "
                        "cluster, divided by --workers)")
    p.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="run on Ray: a local Ray instance, or the cluster at ADDRESS (or $RAY_ADDRESS); "
                        "needs pip install 'limelight[cluster]'")
    p.add_argument("--format", default="wav", choices=FORMATS, help="audio format (default wav)")
    p.add_argument("--validate", action="store_true",
                   help="check each chunk with Whisper and retry if garbled (a job's own 'validate' wins)")
    p.add_argument("--force", action="store_true", help="render every job again, even those already complete")
    p.add_argument("--engine", default="kokoro", choices=["kokoro", "piper"])
    p.add_argument("--model", help="Kokoro ONNX model path (default: the shipped int8 model)")
    p.add_argument("--decoder", default=None, choices=["fast", "kokoro"], help="Kokoro's waveform generator")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                   help="auto (default): CUDA for Ray actors when the cluster has GPUs, else the CPU")
    p.add_argument("--dry-run", action="store_true", help="check the manifest and list what would run; no audio")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or per-job messages")
    p.set_defaults(func=run_command)
    return p


def _fix_ray_manifest(args: argparse.Namespace) -> None:
    """``--ray MANIFEST -o DIR``: argparse gives MANIFEST to --ray's optional ADDRESS; take it back."""
    if args.manifest is None and args.ray and Path(args.ray).exists():
        args.manifest, args.ray = args.ray, ""
    if args.manifest is None:
        hint = f"; {args.ray!r} was read as --ray's ADDRESS (write the manifest first)" if args.ray else ""
        raise LimelightError("batch needs a MANIFEST (a .jsonl or .csv file, or a folder of .txt/.xml files)"
                             + hint, field="manifest")


def run_command(args: argparse.Namespace) -> int:
    from .manifest import load_manifest
    from .run import BatchSettings, EngineConfig, completed, order, run_batch

    _fix_ray_manifest(args)
    if args.workers < 1:
        raise LimelightError(f"--workers must be at least 1, got {args.workers}", field="workers")
    if args.threads is not None and args.threads < 1:
        raise LimelightError(f"--threads must be at least 1, got {args.threads}", field="threads")
    settings = BatchSettings(out_dir=Path(args.output).expanduser(), fmt=args.format, validate=args.validate,
                             force=args.force, workers=args.workers,
                             engine=EngineConfig(engine=args.engine, model=args.model, decoder=args.decoder,
                                                 device=args.device, threads=args.threads))
    manifest = load_manifest(args.manifest)
    if args.dry_run:
        for bad in manifest.errors:
            print(f"invalid {bad.where}: {bad.reason}", file=sys.stderr)
        jobs = order(manifest.jobs)
        todo = [j for j in jobs if args.force or completed(j, settings) is None]
        for job in todo:
            print(f"{job.id}\t{job.where}\t{job.size} chars")
        print(f"{len(manifest.jobs)} jobs ({len(todo)} to render, {len(jobs) - len(todo)} complete), "
              f"{len(manifest.errors)} invalid", file=sys.stderr)
        return 1 if manifest.errors else 0
    ray_address = None
    if args.ray is not None:
        ray_address = args.ray or os.environ.get("RAY_ADDRESS") or None
    summary = run_batch(manifest, settings, quiet=args.quiet, use_ray=args.ray is not None,
                        ray_address=ray_address)
    if not args.quiet:
        rate = summary.audio_s / summary.wall_s if summary.wall_s else 0.0
        print(f"batch: {summary.ok} rendered, {summary.skipped} already complete, {summary.failed} failed, "
              f"{summary.invalid} invalid; {summary.audio_s:.1f} s of audio in {summary.wall_s:.1f} s "
              f"({rate:.2f} audio s per s); report: {settings.out_dir / 'report.jsonl'}", file=sys.stderr)
    return summary.exit_code
