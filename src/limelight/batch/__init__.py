"""Batch rendering of whole catalogues: a manifest of jobs in, one audio + metadata file per job out.

``manifest`` reads the three manifest forms into typed `Job`s (bad entries become `BadLine`s with their line);
``run`` renders them on a local process pool (one engine per worker) or, with ``ray_run``, on Ray actors,
skipping jobs already complete, and writes ``report.jsonl``; ``output`` commits files atomically.
Names are imported lazily so that registering the ``batch`` command costs the CLI nothing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BadLine", "BatchSettings", "EngineConfig", "Job", "JobResult", "Manifest", "Summary", "load_manifest",
           "run_batch"]


def __getattr__(name: str) -> Any:
    if name in ("BadLine", "Job", "Manifest", "load_manifest"):
        from . import manifest

        return getattr(manifest, name)
    if name in __all__:
        from . import run

        return getattr(run, name)
    raise AttributeError(name)
