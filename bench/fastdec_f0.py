"""Where the fast decoder's F0 disagrees with Kokoro's generator, and whose side each disagreement is on.

For each voice, the sentences of ``en_dev.txt`` are rendered three ways from the same cut-graph outputs (so the
same durations and F0 input): the int8 ONNX teacher (what ``decoder="kokoro"`` runs), the float PyTorch port of
the same generator (when torch is installed) and the student. Praat tracks each at 10 ms. Printed per voice:

* Pearson r of F0 over frames voiced in both, and the gross-error rate (> 20 % apart): int8 teacher vs float
  teacher (does the teacher agree with itself?), teacher vs student (the issue's bar);
* for the teacher–student gross frames: how many of each are within 20 % of the F0 *input*. A frame where the
  student sits on its input and the teacher does not is the teacher leaving its own F0 (creak, period
  doubling); the reverse is the student's fault.

    python bench/fastdec_f0.py [--sentences 20] [--clones 3] [--no-shipped]
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from fastdec_eval import en_dev, eval_voices, f0_agreement_tracks, f0_track

from limelight.engine.fastdec import dsp
from limelight.engine.fastdec.decoder import FastDecoder
from limelight.engine.kokoro import KokoroEngine, _session_options
from limelight.text.normalize import normalize


def _float_teacher(model_path):
    try:
        import torch

        from limelight.engine.torch_kokoro.model import TorchKokoro
    except ImportError:
        return None
    generator = TorchKokoro.from_onnx(model_path).decoder.generator

    def run(x: np.ndarray, f0: np.ndarray, style: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            f = torch.from_numpy(f0)
            return generator(torch.from_numpy(x), torch.from_numpy(style[:, :128]), generator.excitation(f))[0].numpy()

    return run


def attribution(teacher: tuple[np.ndarray, np.ndarray], student: np.ndarray, f0_input: np.ndarray
                ) -> tuple[int, int, int]:
    """Gross frames between the teacher's track (times, F0) and the student's F0 track, and how many of them
    have the student / the teacher within 20 % of the F0 input (interpolated to the track's frame times)."""
    times, ft = teacher
    n = min(len(ft), len(student))
    ft, fs, times = ft[:n], student[:n], times[:n]
    fin = np.interp(times, (np.arange(f0_input.size) + 0.5) * dsp.HOP / dsp.SAMPLE_RATE, f0_input)
    both = (ft > 0) & (fs > 0)
    gross = both & (np.abs(fs / np.where(ft > 0, ft, 1.0) - 1) > 0.2)
    near = lambda f: np.abs(f[gross] / np.maximum(fin[gross], 1.0) - 1) <= 0.2  # noqa: E731
    return int(gross.sum()), int(near(fs).sum()), int(near(ft).sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", type=int, default=20)
    ap.add_argument("--clones", type=int, default=3)
    ap.add_argument("--no-shipped", action="store_true")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    threads = args.threads or (os.cpu_count() or 1)
    engine = KokoroEngine(threads=threads)
    fast = FastDecoder(engine.run_path, _session_options(threads))
    float_teacher = _float_teacher(engine.model_path)
    if float_teacher is None:
        print("(torch is not installed: no float-teacher column)")
    print(f"{'voice':16} {'int8 vs float teacher':>22} {'teacher vs student':>20} "
          f"{'gross frames: student on input / teacher on input':>52}")
    for name, voice in eval_voices(engine, not args.no_shipped, args.clones).items():
        t8, tf, st, fin = [], [], [], []
        for text in en_dev(args.sentences):
            ids = engine.tokens(engine.phonemize(normalize(text)))
            feeds = {"tokens": np.array([[0, *ids, 0]], np.int64),
                     "style": voice.row(len(ids)).astype(np.float32), "speed": np.ones(1, np.float32)}
            teacher = engine._session.run(None, feeds)[0].reshape(-1)
            x, f0 = fast.features(feeds)
            t8.append(teacher)
            st.append(fast.decode(x, f0, feeds["style"]))
            fin.append(f0[0])
            if float_teacher is not None:
                tf.append(float_teacher(x, f0, feeds["style"])[: teacher.size])
        teacher = f0_track(np.concatenate(t8))  # each rendering is tracked once
        student = f0_track(np.concatenate(st))[1]
        self_r = "—"
        if tf:
            r, gpe, *_ = f0_agreement_tracks(teacher[1], f0_track(np.concatenate(tf))[1])
            self_r = f"r {r:.3f} GPE {gpe:.2%}"
        r, gpe, *_ = f0_agreement_tracks(teacher[1], student)
        gross, student_ok, teacher_ok = attribution(teacher, student, np.concatenate(fin))
        print(f"{name:16} {self_r:>22} {f'r {r:.3f} GPE {gpe:.2%}':>20} "
              f"{f'{gross}: {student_ok} / {teacher_ok}':>52}", flush=True)


if __name__ == "__main__":
    main()
