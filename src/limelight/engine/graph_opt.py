"""Run the shipped Kokoro-82M int8 ONNX faster on a small CPU: session options and a cached, rewritten graph.

The engine calls two things: :func:`optimized_session_options` for every session, and :func:`best_model_path`
(or :func:`optimize_model`) to swap the model file for its rewritten copy. What the rewrites do and why they
keep the sound is in :mod:`limelight.engine.onnx_rewrite`; the measurements behind every choice here (and the
ideas that did not pay) are printed by ``bench/ort_variants.py``.

``onnx`` is needed only to *write* the rewritten file. It is cached next to the original with a sidecar that
records the source sha256, the rewrite version and the calibration table's hash, so a runtime without
``onnx`` keeps working with a cached file, or falls back to the original model.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from .model_file import sha256_file
from .onnx_rewrite.requant import RANGES_FILE

if TYPE_CHECKING:  # pragma: no cover
    import onnxruntime

log = logging.getLogger(__name__)

#: Bump whenever a rewrite changes, so cached files written by older code are rebuilt.
REWRITE_VERSION = 2


def optimized_session_options(threads: int, *, spin: bool = False) -> onnxruntime.SessionOptions:
    """Session options that measured best for Kokoro on a small shared CPU (see ``bench/ort_variants.py``).

    Full graph optimisation (the default, kept explicit), sequential execution with one inter-op thread, and
    by default intra-op threads that do not spin-wait. With ~3 000 nodes, most of them short, ORT's spinning
    between nodes burns the core that the other thread (or another process) needs. Measured on the 2-core
    AVX2 box, rewritten model: at load 5–8 no spinning gives RTF 1.11 vs 1.39 (original graph 1.54 vs 1.98)
    and 20 % less CPU; on a near-idle machine spinning is ~5 % faster (0.29 vs 0.31). ``spin=True`` is for a
    machine known to be otherwise idle. Lower optimisation levels, the parallel executor, no arena / memory
    pattern, and denormal flushing did not pay (bench ``--sweep``).
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, int(threads))
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    return opts


def _ranges_digest() -> str:
    return sha256_file(RANGES_FILE)[:16] if RANGES_FILE.is_file() else "none"


def sidecar_path(dst: Path) -> Path:
    return dst.with_name(dst.name + ".json")


def source_stamp(src: Path) -> str:
    st = src.stat()
    return f"{st.st_size} {st.st_mtime_ns}"


def _stamp_matches(dst: Path, src: Path) -> str | None:
    """The recorded source sha256 when ``src`` still has the recorded size and mtime (skips re-hashing 92 MB)."""
    try:
        info = json.loads(sidecar_path(dst).read_text())
    except (OSError, ValueError):
        return None
    return info.get("source_sha256") if info.get("source_stamp") == source_stamp(src) else None


def _cache_key(src_sha: str, requantize: bool) -> dict[str, object]:
    return {"source_sha256": src_sha, "rewrite_version": REWRITE_VERSION, "requantize": requantize,
            "ranges": _ranges_digest() if requantize else "unused"}


def _cached(dst: Path, key: dict[str, object]) -> bool:
    meta = sidecar_path(dst)
    if not (dst.is_file() and meta.is_file()):
        return False
    try:
        info = json.loads(meta.read_text())
    except (OSError, ValueError):
        return False
    return all(info.get(k) == v for k, v in key.items()) and info.get("size") == dst.stat().st_size


def optimize_model(src: Path, dst: Path, *, requantize: bool = True) -> Path:
    """Write the rewritten model for ``src`` to ``dst`` (once) and return ``dst``.

    Deterministic (same source → same bytes) and idempotent: a ``dst`` whose sidecar ``dst.json`` records the
    same source sha256, rewrite version and calibration table is reused without loading ``onnx``.
    ``requantize=False`` applies only the exact rewrites. Raises ImportError when ``onnx`` is missing and
    nothing is cached.
    """
    src, dst = Path(src), Path(dst)
    known = _stamp_matches(dst, src)
    if known is not None and _cached(dst, _cache_key(known, requantize)):
        return dst
    src_sha = sha256_file(src)
    key = _cache_key(src_sha, requantize)
    if _cached(dst, key):  # same content, new mtime (e.g. re-assembled): remember the new stamp
        info = json.loads(sidecar_path(dst).read_text())
        info["source_stamp"] = source_stamp(src)
        sidecar_path(dst).write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
        return dst
    import onnx

    from ..notice import announce
    from .onnx_rewrite import rewrite_graph

    announce("graph-opt", f"optimising the Kokoro graph into {dst.parent} (once per machine, under a minute)")
    model = onnx.load(str(src))
    stats = rewrite_graph(model, source_sha256=src_sha, requantize=requantize)
    onnx.checker.check_model(model)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f"{dst.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(model.SerializeToString(deterministic=True))
        tmp.replace(dst)
    finally:
        tmp.unlink(missing_ok=True)
    info = {**key, "size": dst.stat().st_size, "source_stamp": source_stamp(src), "stats": asdict(stats)}
    sidecar_path(dst).write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
    log.info("optimised %s → %s (%s)", src.name, dst.name, stats)
    return dst


def optimized_path_for(src: Path, *, requantize: bool = True, cache_dir: Path | None = None) -> Path:
    """Where the rewritten copy of ``src`` is cached: next to it (or in ``cache_dir``), named by rewrite version
    and variant. Two sources with the same name share a slot; the sidecar's sha256 keeps that correct."""
    src = Path(src)
    tag = "opt" if requantize else "exact"
    return (Path(cache_dir) if cache_dir else src.parent) / f"{src.stem}.limelight-{tag}{REWRITE_VERSION}{src.suffix}"


def best_model_path(src: Path, *, requantize: bool = True, cache_dir: Path | None = None) -> Path:
    """The rewritten model for ``src`` when it is cached or can be built here, else ``src`` itself.

    Never raises for a missing ``onnx`` package, an unwritable cache or a graph the rewrites cannot handle:
    the original model always works. The first call for a model takes a few seconds (load, rewrite, check,
    write 92 MB); later calls only compare the source's size and mtime with the sidecar.
    """
    try:
        dst = optimized_path_for(src, requantize=requantize, cache_dir=cache_dir)
        return optimize_model(src, dst, requantize=requantize)
    except ImportError:
        log.info("onnx is not installed; running the original Kokoro graph")
    except Exception as exc:  # noqa: BLE001 - a failed rewrite must never stop synthesis
        log.warning("could not optimise %s (%s); running the original graph", src, exc)
    return Path(src)
