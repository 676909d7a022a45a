"""``python -m limelight.train.fastdec {prepare,train,export}``: see :mod:`limelight.train.fastdec.train`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m limelight.train.fastdec", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare", help="token sequences and voices (CPU, where limelight is installed)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--shared", type=Path, default=Path("../shared"))
    p.add_argument("--clones", type=int, default=150)
    p.add_argument("--salads", type=int, default=2500)
    t = sub.add_parser("train", help="render the teacher pool and train (GPU); resumes from --out")
    t.add_argument("--data", type=Path, required=True, help="folder with tokens.json and voices.npz")
    t.add_argument("--model", required=True, help="Kokoro ONNX file (comma-separated parts are joined)")
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--steps", type=int, default=40_000, help="total steps of the schedule (across resumes)")
    t.add_argument("--time-budget", type=float, default=540.0, help="seconds for this run, all included")
    t.add_argument("--batch", type=int, default=32)
    t.add_argument("--crop", type=int, default=64, help="F0 frames per crop (80 per second)")
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--pool-seconds", type=float, default=7200.0)
    t.add_argument("--cache", type=Path, default=None, help="keep the rendered pool here between runs")
    t.add_argument("--seed", type=int, default=0)
    e = sub.add_parser("export", help="student.pt → student.onnx")
    e.add_argument("--out", type=Path, required=True)
    e.add_argument("--onnx", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.cmd == "prepare":
        from .data import prepare

        print(json.dumps(prepare(args.out, args.shared, args.clones, args.salads)))
    elif args.cmd == "train":
        from ...engine.model_file import join_parts
        from .train import train

        model = str(join_parts(args.model, args.out / "kokoro.onnx"))  # the device carries the model in parts
        print(json.dumps(train(args.data, model, args.out, args.steps, args.time_budget, args.batch, args.crop,
                               args.lr, args.pool_seconds, cache=args.cache, seed=args.seed)))
    else:
        from .train import export

        print(export(args.out, args.onnx))


if __name__ == "__main__":
    main()
