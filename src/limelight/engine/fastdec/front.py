"""Kokoro without its generator: the part of the ONNX graph that the fast decoder needs, cut out and cached.

The shipped graph is one piece (tokens, style, speed → audio). The fast decoder replaces only the generator,
so the engine runs a copy of the graph that stops at the generator's inputs: the frame decoder's output
``x`` [1, 512, L] (80 frames per second) and the F0 curve [1, L], plus the predicted duration of every token
(in steps of two frames, 600 samples), which word timings are read from. ``onnx.utils.Extractor`` cuts it; the
copy is written once next to the model (with a sidecar naming the source's size and mtime) and reused.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ...errors import LimelightError
from ..graph_opt import sidecar_path, source_stamp

#: The generator's inputs in the Kokoro v1.0 export (the names are the reference PyTorch module paths).
FEATURES = "/decoder/decoder/decode.3/Div_4_output_0"  # output of the last frame-decoder block
F0 = "/encoder/Squeeze_output_0"  # predicted F0 (Hz), 80 per second
DURATIONS = "/encoder/Clip_output_0"  # predicted duration per token position (pads included), 2 frames a step
OUTPUTS = (FEATURES, F0, DURATIONS)
FRONT_VERSION = 2


def front_path(model: Path) -> Path:
    """The cut graph for ``model``, built on first use (a few seconds; needs the ``onnx`` package)."""
    return _cut(Path(model), f"front{FRONT_VERSION}", OUTPUTS)


def durations_path(model: Path) -> Path:
    """Kokoro's text side alone (tokens, style, speed → per-token durations): what word timings need when
    the original generator runs the audio (a few milliseconds per sentence)."""
    return _cut(Path(model), f"durations{FRONT_VERSION}", (DURATIONS,))


def _cut(model: Path, tag: str, outputs: tuple[str, ...]) -> Path:
    """``model`` cut to ``outputs``, written once beside it with a sidecar naming the source, then reused."""
    dst = model.with_name(f"{model.stem}.limelight-{tag}.onnx")
    meta = sidecar_path(dst)  # the cache bookkeeping of the rewritten graph, whose cut this is
    try:
        if dst.is_file() and json.loads(meta.read_text()).get("source_stamp") == source_stamp(model):
            return dst
    except (OSError, ValueError):
        pass
    try:
        import onnx
        from onnx.utils import Extractor
    except ImportError as exc:
        raise LimelightError("the fast decoder needs the onnx package to prepare the model "
                             "(pip install onnx), or use decoder='kokoro'", field="decoder") from exc
    from ...notice import announce

    announce("fastdec-front", "preparing the fast decoder's half of the Kokoro graph (once per machine)")
    graph = onnx.load(str(model))
    produced = {o for node in graph.graph.node for o in node.output}
    missing = [n for n in outputs if n not in produced]
    if missing:
        raise LimelightError(f"{model.name} is not a Kokoro v1.0 export this decoder knows (no {missing[0]}); "
                             "use decoder='kokoro'", field="decoder")
    front = Extractor(graph).extract_model(["tokens", "style", "speed"], list(outputs))
    tmp = dst.with_name(f"{dst.name}.{os.getpid()}.tmp")
    try:
        onnx.save(front, str(tmp))
        tmp.replace(dst)
    finally:
        tmp.unlink(missing_ok=True)
    meta.write_text(json.dumps({"source": model.name, "source_stamp": source_stamp(model),
                                "outputs": list(outputs)}, indent=1) + "\n")
    return dst
