"""One-off notices on stderr: a cache being built says so, once per process, before the wait.

A first run builds caches (the Kokoro model assembled from its wheels, its graph rewritten, embedding tables
for scene sounds and direction prototypes); each takes seconds to a minute on a small CPU and happens once
per machine. Without a word it looks like a hang (a first scene render took 88 s in silence). These notices
go to stderr, so audio on stdout and JSON output stay clean, and ``LIMELIGHT_QUIET=1`` silences them.
"""

from __future__ import annotations

import os
import sys
import threading

_seen: set[str] = set()
_lock = threading.Lock()


def announce(key: str, message: str) -> None:
    """Print ``limelight: <message>`` on stderr the first time ``key`` is announced in this process."""
    with _lock:
        if key in _seen:
            return
        _seen.add(key)
    if os.environ.get("LIMELIGHT_QUIET"):
        return
    try:
        sys.stderr.write(f"limelight: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed stderr must never break synthesis
        pass
