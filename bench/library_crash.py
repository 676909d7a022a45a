"""Crash test of the voice library: kill -9 a process while it saves voices, again and again.

After every kill, every voice the library lists must load (none half-written), its table and record must come
from the same save, and every save that was acknowledged (the saver printed it after `save` returned) must be
on disk or superseded by a later save of the same name. Stale temps are cleaned and counted.

    python bench/library_crash.py [--rounds 50] [--root DIR]

tests/test_voice_library_store.py runs the same loop for 3 rounds.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from limelight.voice.library import VoiceLibrary

CRASH_SAVER = """
import sys, numpy as np
from limelight.voice import Voice
from limelight.voice.library import VoiceLibrary
lib = VoiceLibrary(sys.argv[1])
i = 0
while True:
    name = f"v{i % 7}"
    style = np.full((510, 256), i % 1000, np.float32)
    lib.save(Voice(name=name, style=style, gender="male", description=str(i)), force=True)
    print(name, i, flush=True)
    i += 1
"""


def crash_loop(root: Path, rounds: int, seed: int = 0, stats: dict[str, int] | None = None) -> int:
    """Kill -9 a process saving voices at random moments; after each kill every saved voice must load, and
    every save acknowledged on stdout must be on disk (or superseded by a later save of its name)."""
    rng = np.random.default_rng(seed)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    checked = 0
    for _ in range(rounds):
        proc = subprocess.Popen([sys.executable, "-c", CRASH_SAVER, str(root)], stdout=subprocess.PIPE, env=env,
                                text=True)
        assert proc.stdout is not None
        acked: dict[str, int] = {}
        first = proc.stdout.readline().split()  # it is saving now
        acked[first[0]] = int(first[1])
        time.sleep(float(rng.uniform(0.0, 0.3)))
        os.kill(proc.pid, signal.SIGKILL)
        for line in proc.stdout.read().splitlines():
            fields = line.split()
            if len(fields) == 2 and fields[1].isdigit():  # a line cut by the kill acknowledged nothing
                acked[fields[0]] = int(fields[1])
        proc.wait()
        lib = VoiceLibrary(root)
        cleaned = lib.clean_stale_temps()
        if stats is not None:
            stats["kills"] = stats.get("kills", 0) + 1
            stats["stale_temps"] = stats.get("stale_temps", 0) + len(cleaned)
            stats["acknowledged"] = stats.get("acknowledged", 0) + len(acked)
        entries = lib.entries()
        assert all(e.error is None for e in entries), [e for e in entries if e.error]
        for e in entries:
            assert e.voice is not None
            value = int(e.voice.style[0, 0])
            assert value == int(e.voice.description) % 1000  # table and record from the same save
            if e.name in acked:
                assert int(e.voice.description) >= acked[e.name]  # nothing acknowledged was lost
            checked += 1
        assert not list(root.glob("*.tmp"))
    return checked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--root", help="library folder (default: a fresh temp folder)")
    args = ap.parse_args()
    root = Path(args.root) if args.root else Path(tempfile.mkdtemp(prefix="limelight-crash-"))
    stats: dict[str, int] = {}
    t0 = time.perf_counter()
    checked = crash_loop(root, args.rounds, stats=stats)
    print(f"kill -9 rounds {stats['kills']}: voices checked after kills {checked}, damaged 0, lost acknowledged 0, "
          f"stale temps cleaned {stats['stale_temps']}, wall {time.perf_counter() - t0:.1f} s ({root})")


if __name__ == "__main__":
    main()
