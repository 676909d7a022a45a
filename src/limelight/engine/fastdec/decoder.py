"""Run Kokoro with the distilled decoder: cut graph → student envelopes → pulse-and-noise synthesis.

Three steps per utterance, all on the CPU: the Kokoro graph up to the generator's inputs
(:mod:`.front`), the student network (ONNX, 3.9 M parameters, int8, shipped as package data) and the FFT
synthesis of :mod:`.dsp`. The student was trained by :mod:`limelight.train.fastdec`; its card
(``data/student.json``) records the data, steps and measured quality.
"""

from __future__ import annotations

import importlib.resources as resources
from pathlib import Path

import numpy as np

from ...errors import LimelightError
from . import dsp
from .front import F0, FEATURES, front_path

STUDENT_FILE = "student.onnx"


def shipped_student() -> Path | None:
    """The packaged student model, or None when this build has none."""
    path = Path(str(resources.files(__package__) / "data" / STUDENT_FILE))
    return path if path.is_file() else None


class FastDecoder:
    """tokens/style/speed feeds → 24 kHz audio through the student. Thread-safe like the sessions it holds."""

    def __init__(self, model: Path, session_options, student: Path | None = None) -> None:
        import onnxruntime as ort

        student = student or shipped_student()
        if student is None:
            raise LimelightError("this limelight build ships no fast decoder; use decoder='kokoro'",
                                 field="decoder")
        providers = ["CPUExecutionProvider"]
        self.front = ort.InferenceSession(str(front_path(model)), sess_options=session_options,
                                          providers=providers)
        self.student = ort.InferenceSession(str(student), sess_options=session_options, providers=providers)

    def __call__(self, feeds: dict[str, np.ndarray], seed: int = 0, pitch: float = 0.0) -> np.ndarray:
        """Audio for one utterance; ``pitch`` shifts Kokoro's F0 by that many semitones before the student
        sees it (the student was trained on F0 scaled by exp(N(0, 0.12)), ±2 semitones at 1σ)."""
        return self.run(feeds, seed, pitch)[0]

    def run(self, feeds: dict[str, np.ndarray], seed: int = 0, pitch: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Audio and the model's per-position token durations (pads included; 600 samples a step)."""
        x, f0, durations = self.front.run(None, feeds)
        return self.decode(x, f0, feeds["style"], seed, pitch), durations.reshape(-1)

    def features(self, feeds: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """The generator's inputs alone: frame features ``x`` [1, 512, L] and ``f0`` [1, L]."""
        x, f0 = self.front.run([FEATURES, F0], feeds)
        return x, f0

    def decode(self, x: np.ndarray, f0: np.ndarray, style: np.ndarray, seed: int = 0,
               pitch: float = 0.0) -> np.ndarray:
        """The student and the synthesis alone, from the cut graph's outputs ``x`` [1, 512, L] and ``f0``
        [1, L] and the 256-d style row (its timbre half is used)."""
        if pitch:
            f0 = f0 * np.float32(2.0 ** (pitch / 12.0))
        style = style[:, :128].astype(np.float32)
        log_env = self.student.run(None, {"x": x.astype(np.float32), "f0": f0.astype(np.float32),
                                          "style": style})[0]
        env = np.exp(log_env[0].astype(np.float64))
        return dsp.render(env[0], env[1], f0[0].astype(np.float64), seed=seed)
