"""What a user waits for before the first word: CLI start-up and the first voice description.

Each row runs the CLI as a user does (a fresh ``python -m limelight`` process) and reports the median wall
time of ``--repeat`` runs:

* ``import``           — ``python -c "import limelight.cli"`` (the floor every command pays)
* ``say (warm)``       — ``limelight say "Hello there." -o x.wav`` with the caches built
* ``say + description`` — a one-line ``<speak voice="<description>" gender="male">`` script: voice design and
  direction reading (the sentence embedder, design data)
* ``clone``            — ``limelight clone <clip> --name x`` of a 8 s LibriSpeech clip (shared/voices), the whole
  command; the time the command itself prints for making the voice is in ``clone (voice only)``
* ``first scene``      — with ``--cold``: a one-line script with a scene and a sound, embedding caches empty (the
  model files are reused): what the first scene render costs
* ``say (cold)``       — with ``--cold``: an empty cache folder, i.e. the very first run after install (model
  assembly, graph rewrite, embedding tables); slow, so off by default

``--src DIR`` runs another checkout's ``src`` (e.g. the commit before a change, exported with ``git archive``)
so a before/after table comes from one run on one machine:

    python bench/startup.py                          # this checkout, warm rows, 3 repeats
    python bench/startup.py --src /tmp/base/src --src src --cold

The machine matters (a busy 2-core box is several times slower than an idle laptop): compare rows of one run.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DESCRIPTION = "A deep old man, slow and gravelly"
SCENE = ('<speak voice="jf_alpha" gender="female" scene="A dimly lit office, late at night, rain outside">'
         "It is late. <sound>a door slams</sound> Who is there?</speak>")
SHARED = Path(os.environ.get("LIMELIGHT_SHARED", ROOT.parent / "shared"))


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return elapsed


def rows_for(src: Path, repeat: int, cold: bool, out: Path) -> list[tuple[str, float]]:
    env = {**os.environ, "PYTHONPATH": str(src), "LIMELIGHT_QUIET": "1"}
    py = [sys.executable]
    say = [*py, "-m", "limelight", "say", "Hello there.", "-o", str(out), "-q"]
    described = [*py, "-m", "limelight", "say", f'<speak voice="{DESCRIPTION}" gender="male">Hello there.</speak>',
                 "-o", str(out), "-q"]
    cases = [("import", [*py, "-c", "import limelight.cli"]), ("say (warm)", say), ("say + description", described)]
    timed(say, env)  # make sure the caches exist for the warm rows
    timed(described, env)
    rows = [(name, statistics.median(timed(cmd, env) for _ in range(repeat))) for name, cmd in cases]
    clip = SHARED / "voices" / "dev" / "3005" / "3005-163389-0000.flac"
    if clip.is_file():
        with tempfile.TemporaryDirectory() as home:
            clone = [*py, "-m", "limelight", "clone", str(clip), "--name", "x", "--force"]
            cenv = {**env, "LIMELIGHT_HOME": home}
            walls, selfs = [], []
            for _ in range(repeat):
                t0 = time.perf_counter()
                proc = subprocess.run(clone, env=cenv, capture_output=True, text=True)
                walls.append(time.perf_counter() - t0)
                said = re.search(r", ([\d.]+) s\)", proc.stderr)
                selfs.append(float(said.group(1)) if said else float("nan"))
            rows += [("clone", statistics.median(walls)), ("clone (voice only)", statistics.median(selfs))]
    if cold:
        real_cache = Path(os.environ.get("LIMELIGHT_CACHE") or Path(os.environ.get("XDG_CACHE_HOME")
                                                                    or Path.home() / ".cache") / "limelight")
        with tempfile.TemporaryDirectory() as cache:
            (Path(cache) / "models").symlink_to(real_cache / "models")
            scene = [*py, "-m", "limelight", "say", SCENE, "-o", str(out), "-q", "--background-sfx"]
            rows.append(("first scene", timed(scene, {**env, "LIMELIGHT_CACHE": cache})))
        with tempfile.TemporaryDirectory() as cache:
            rows.append(("say (cold)", timed(say, {**env, "LIMELIGHT_CACHE": cache, "XDG_CACHE_HOME": cache})))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", action="append", type=Path, help="a src folder to measure (repeatable; default ./src)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per row (median; default 3)")
    ap.add_argument("--cold", action="store_true", help="also time a first run with an empty cache")
    args = ap.parse_args()
    sources = args.src or [ROOT / "src"]
    with tempfile.TemporaryDirectory() as tmp:
        table = {str(src): dict(rows_for(src.resolve(), args.repeat, args.cold, Path(tmp) / "x.wav"))
                 for src in sources}
    names = list(next(iter(table.values())))
    print(f"{'seconds (median of ' + str(args.repeat) + ')':28s}" + "".join(f"{s[-38:]:>40s}" for s in table))
    for name in names:
        print(f"{name:28s}" + "".join(f"{table[s].get(name, float('nan')):40.2f}" for s in table))
    if len(table) == 2:
        a, b = table.values()
        print(f"{'ratio (first / second)':28s}" + "".join(f"{a[n] / b[n]:8.2f} {n}" for n in names))
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
