"""Kokoro-82M int8 on onnxruntime/CPU: speed and closeness of session options and graph rewrites.

    python bench/ort_variants.py                 # main table: baseline, tuned options, rewritten graphs
    python bench/ort_variants.py --sweep         # + every session option tried
    python bench/ort_variants.py --wer           # + Whisper base word error rate per variant
    python bench/ort_variants.py --profile MODEL # where the time goes, per op type and per decoder block
    python bench/ort_variants.py --calibrate     # rebuild the conv range table used by the requantisation

Timing: variants run interleaved, round after round, on the same inputs (the machine is shared: a slow
round then hits every variant alike). We report the median and the best round of wall-clock RTF (synthesis
time / audio duration) and the process CPU seconds per audio second (robust to other load; only meaningful
with spinning off, since spinning threads burn CPU while waiting).

Closeness: waveform max-abs and SNR against the original graph's output for the same inputs, plus the SNR and
mean absolute distance (dB) of 80-band mel spectrograms. The waveform numbers alone mislead here: the model is
chaotic at float-rounding level (phase wraps, quantisation-bin flips), so the table also shows the original
model with its style vector perturbed by one part in 10⁷ ("rounding floor") and, with ``--quality``, a version
with float convolutions ("float convs"), i.e. how far the shipped int8 graph itself is from its float self.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.signal import stft

from limelight.audio.spectral import mel_filters

SHARED = Path(os.environ.get("LIMELIGHT_SHARED", Path(__file__).resolve().parents[2] / "shared"))
SR = 24_000


# ---- inputs ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    label: str
    text: str
    feed: dict[str, np.ndarray]


def sentences(start: int, count: int) -> list[str]:
    lines = [ln.strip() for ln in (SHARED / "texts" / "en_dev.txt").read_text().splitlines() if ln.strip()]
    return lines[start:start + count]


def make_cases(texts: list[str], voices: list[str], speeds: list[float],
               style_fn: Callable[[str, int], np.ndarray] | None = None) -> list[Case]:
    """Token/style/speed feeds the way the engine builds them (limelight's phonemizer and voice rows)."""
    from limelight.engine.kokoro import kokoro_vocab
    from limelight.text.phonemes import phonemize
    from limelight.voice.shipped import shipped_voices

    vocab, shipped = kokoro_vocab(), shipped_voices()
    cases = []
    for i, text in enumerate(texts):
        ids = [vocab[c] for c in phonemize(text, "en") if c in vocab][:510]
        voice = voices[i % len(voices)]
        speed = speeds[i % len(speeds)]
        style = style_fn(voice, len(ids)) if style_fn else shipped[voice].row(len(ids))
        feed = {"tokens": np.array([[0, *ids, 0]], np.int64),
                "style": np.asarray(style, np.float32).reshape(1, 256),
                "speed": np.array([speed], np.float32)}
        cases.append(Case(f"{voice}@{speed:g}:{text[:24]}", text, feed))
    return cases


# ---- variants ----------------------------------------------------------------------------------------------
@dataclass
class Variant:
    name: str
    model: Path
    options: Callable[[], object]
    note: str = ""
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    outputs: list[np.ndarray] = field(default_factory=list)


def options(threads: int = 2, spin: bool = True, **kw: object) -> Callable[[], object]:
    def make() -> object:
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        for key, value in kw.items():
            if key.startswith("cfg_"):
                so.add_session_config_entry(key[4:].replace("__", "."), str(value))
            else:
                setattr(so, key, value)
        return so

    return make


def tuned(threads: int = 2, spin: bool = False) -> Callable[[], object]:
    from limelight.engine.graph_opt import optimized_session_options

    return lambda: optimized_session_options(threads, spin=spin)


def sweep_variants(src: Path) -> list[Variant]:
    import onnxruntime as ort

    lvl = ort.GraphOptimizationLevel
    return [
        Variant("opt level BASIC", src, options(graph_optimization_level=lvl.ORT_ENABLE_BASIC)),
        Variant("opt level EXTENDED", src, options(graph_optimization_level=lvl.ORT_ENABLE_EXTENDED)),
        Variant("no cpu mem arena", src, options(enable_cpu_mem_arena=False)),
        Variant("no mem pattern", src, options(enable_mem_pattern=False)),
        Variant("denormals as zero", src, options(cfg_session__set_denormal_as_zero=1)),
        Variant("parallel executor, 2 inter", src,
                options(execution_mode=ort.ExecutionMode.ORT_PARALLEL, inter_op_num_threads=2)),
        Variant("1 intra-op thread", src, options(threads=1)),
        Variant("1 thread, no spin", src, options(threads=1, spin=False)),
    ]


# ---- measuring ---------------------------------------------------------------------------------------------
def run_all(variants: list[Variant], cases: list[Case], rounds: int) -> float:
    """Interleaved timing; returns total audio seconds per round."""
    import onnxruntime as ort

    sessions = {}
    for v in variants:
        sessions[v.name] = ort.InferenceSession(str(v.model), v.options(), providers=["CPUExecutionProvider"])
        v.outputs = [np.asarray(sessions[v.name].run(None, c.feed)[0]).reshape(-1) for c in cases]  # warm-up
    audio_s = sum(len(o) for o in variants[0].outputs) / SR
    for _ in range(rounds):
        for v in variants:
            wall = cpu = 0.0
            for c in cases:
                t, p = time.perf_counter(), time.process_time()
                sessions[v.name].run(None, c.feed)
                wall += time.perf_counter() - t
                cpu += time.process_time() - p
            v.wall.append(wall / audio_s)
            v.cpu.append(cpu / audio_s)
    return audio_s


_FB = mel_filters(1024, 80, SR)


def closeness(a: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    n = min(len(a), len(ref))
    a, ref = a[:n].astype(np.float64), ref[:n].astype(np.float64)
    err = np.sum((a - ref) ** 2)
    mel_a = _FB @ np.abs(stft(a, nperseg=1024, noverlap=768)[2])
    mel_r = _FB @ np.abs(stft(ref, nperseg=1024, noverlap=768)[2])
    floor = 1e-5 * mel_r.max()
    dist = np.mean(np.abs(20 * np.log10(np.maximum(mel_a, floor)) - 20 * np.log10(np.maximum(mel_r, floor))))
    mel_err = np.sum((mel_a - mel_r) ** 2)
    return {"maxabs": float(np.max(np.abs(a - ref))),
            "snr": float(10 * np.log10(np.sum(ref ** 2) / err)) if err > 0 else float("inf"),
            "mel_snr": float(10 * np.log10(np.sum(mel_r ** 2) / mel_err)) if mel_err > 0 else float("inf"),
            "mel_db": float(dist),
            "len_diff": abs(len(a) - len(ref))}


def word_error_rates(variants: list[Variant], cases: list[Case]) -> dict[str, float]:
    from limelight.check.asr import shared_transcriber
    from limelight.check.wer import words

    asr = shared_transcriber()
    out = {}
    for v in variants:
        errors = total = 0
        for c, audio in zip(cases, v.outputs, strict=True):
            ref, hyp = words(c.text), words(asr.transcribe(audio, SR))
            errors += _edit_distance(ref, hyp)
            total += len(ref)
        out[v.name] = errors / max(total, 1)
    return out


def _edit_distance(a: list[str], b: list[str]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def perturbed_floor(src: Path, cases: list[Case]) -> Variant:
    """The original graph with the style nudged by 1e-7 relative: how much rounding alone moves the output."""
    import onnxruntime as ort

    rng = np.random.default_rng(7)
    sess = ort.InferenceSession(str(src), options()(), providers=["CPUExecutionProvider"])
    v = Variant("(rounding floor: style ×(1±1e-7))", src, options())
    for c in cases:
        feed = dict(c.feed)
        feed["style"] = (feed["style"] * (1 + 1e-7 * rng.standard_normal(feed["style"].shape))).astype(np.float32)
        v.outputs.append(np.asarray(sess.run(None, feed)[0]).reshape(-1))
    return v


def float_conv_model(src: Path, out: Path) -> Path:
    """Reference for quality only: the exact rewrites, and the generator's int8 convs dequantised to float."""
    import onnx

    from limelight.engine.onnx_rewrite import RewriteStats
    from limelight.engine.onnx_rewrite.fusions import apply_fusions
    from limelight.engine.onnx_rewrite.graph import GraphEditor
    from limelight.engine.onnx_rewrite.requant import find_conv_sites

    model = onnx.load(str(src))
    g = GraphEditor(model)
    apply_fusions(g, RewriteStats())
    for site in find_conv_sites(g):
        g.remove(site.nodes)
        ins = [site.x, g.add_const("f_w", site.weights.astype(np.float32) * np.float32(site.w_scale))]
        if site.bias is not None:
            ins.append(g.add_const("f_b", site.bias))
        g.node("Conv", ins, [site.y], base="f_conv", **site.attrs)
    g.commit()
    onnx.save(model, str(out))
    return out


# ---- profile -----------------------------------------------------------------------------------------------
def profile(model: Path, case: Case, threads: int = 2) -> None:
    import onnxruntime as ort

    so = options(threads=threads, spin=False)()
    so.enable_profiling = True  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as tmp:
        so.profile_file_prefix = str(Path(tmp) / "prof")  # type: ignore[attr-defined]
        sess = ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])
        for _ in range(3):
            sess.run(None, case.feed)
        events = json.loads(Path(sess.end_profiling()).read_text())
    runs = [e for e in events if e.get("name") == "model_run"][1:]
    best = min(runs, key=lambda e: e["dur"])
    by_op: Counter[str] = Counter()
    by_block: Counter[str] = Counter()
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and \
                best["ts"] <= e["ts"] <= best["ts"] + best["dur"]:
            by_op[e["args"]["op_name"]] += e["dur"]
            parts = e["name"].split("/")
            if parts[0] == "limelight" or "/" not in e["name"]:
                block = f"(rewritten/fused: {e['args']['op_name']})"
            else:
                block = "/".join(parts[3:5]) if "generator" in parts else "/".join(parts[1:3])
            by_block[block] += e["dur"]
    total = sum(by_op.values())
    print(f"{model.name}: best run {best['dur'] / 1e3:.0f} ms, {len(by_op)} op types")
    for name, us in by_op.most_common(15):
        print(f"  {name:28s} {us / 1e3:8.1f} ms {100 * us / total:5.1f} %")
    print("  -- by block")
    for name, us in by_block.most_common(12):
        print(f"  {name:40s} {us / 1e3:8.1f} ms {100 * us / total:5.1f} %")


# ---- calibration -------------------------------------------------------------------------------------------
def calibration_cases() -> list[Case]:
    """Voices, speeds, blends and exaggerated styles over sentences that the table below does not use."""
    from limelight.voice.shipped import shipped_voices

    voices = shipped_voices()
    names = sorted(voices)
    mean = np.mean([voices[n].style for n in names], axis=0)
    rng = np.random.default_rng(0)

    def blended(name: str, n: int) -> np.ndarray:
        other = names[(names.index(name) + 1) % len(names)]
        return 0.5 * voices[name].row(n) + 0.5 * voices[other].row(n)

    def exaggerated(name: str, n: int) -> np.ndarray:
        return mean[min(n, len(mean) - 1)] + 1.5 * (voices[name].row(n).reshape(-1) - mean[min(n, len(mean) - 1)])

    def noisy(name: str, n: int) -> np.ndarray:
        row = voices[name].row(n).reshape(-1)
        return row + 0.15 * np.std(row) * rng.standard_normal(row.shape)

    texts = sentences(5, 15)
    cases = make_cases(texts[:10], names, [1.0, 0.7, 1.4, 0.85, 1.2])
    cases += make_cases(texts[10:12], names, [1.0], blended)
    cases += make_cases(texts[12:14], names[2:], [0.9], exaggerated)
    cases += make_cases(texts[14:15], names, [1.1], noisy)
    return cases


def calibrate(src: Path) -> None:
    import onnx

    from limelight.engine.graph_opt import sha256_file
    from limelight.engine.onnx_rewrite import RewriteStats
    from limelight.engine.onnx_rewrite.fusions import apply_fusions
    from limelight.engine.onnx_rewrite.graph import GraphEditor
    from limelight.engine.onnx_rewrite.requant import RANGES_FILE, save_ranges
    from limelight.engine.onnx_rewrite.requant import calibrate as measure

    model = onnx.load(str(src))
    apply_fusions(GraphEditor(model), RewriteStats())
    cases = calibration_cases()
    ranges = measure(model, [c.feed for c in cases])
    save_ranges(RANGES_FILE, sha256_file(src), ranges)
    print(f"wrote {RANGES_FILE} ({len(ranges)} convs, {len(cases)} calibration inputs)")


# ---- main --------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", type=int, default=3, help="en_dev sentences to time (from the first)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sweep", action="store_true", help="also time every session option tried")
    ap.add_argument("--quality", action="store_true", help="add the float-convolution reference")
    ap.add_argument("--wer", action="store_true", help="Whisper base WER of each variant's audio")
    ap.add_argument("--profile", type=Path, help="profile this model file and exit")
    ap.add_argument("--calibrate", action="store_true", help="rebuild the conv range table and exit")
    args = ap.parse_args(argv)

    from limelight.engine.graph_opt import optimize_model
    from limelight.engine.model_file import shipped_kokoro

    src = shipped_kokoro()
    if args.calibrate:
        calibrate(src)
        return
    cases = make_cases(sentences(0, args.sentences), ["jf_alpha", "jm_kumo", "jf_nezumi"], [1.0])
    if args.profile:
        profile(args.profile, cases[0], args.threads)
        return
    work = Path(tempfile.mkdtemp(prefix="limelight-bench-"))
    exact = optimize_model(src, work / "exact.onnx", requantize=False)
    full = optimize_model(src, work / "full.onnx", requantize=True)
    t = args.threads
    variants = [Variant("original, default options (baseline)", src, options(t)),
                Variant("original, tuned options", src, tuned(t), "no spinning")]
    if args.sweep:
        variants += sweep_variants(src)
    variants += [Variant("exact rewrites, tuned options", exact, tuned(t), "IN, Snake, bias, Pow, STFT"),
                 Variant("exact + int8 requant (shipped)", full, tuned(t), "+ QLinearConv"),
                 Variant("exact + int8 requant, spinning", full, tuned(t, spin=True), "for an idle machine")]
    audio_s = run_all(variants, cases, args.rounds)
    extra = [perturbed_floor(src, cases)]
    if args.quality:
        fmodel = float_conv_model(src, work / "float.onnx")
        fv = Variant("(float convs reference)", fmodel, options(t))
        run_all([fv], cases, 0)
        extra.append(fv)
    base = variants[0]
    ref = base.outputs
    wer = word_error_rates(variants + extra, cases) if args.wer else {}
    print(f"\n{len(cases)} sentences, {audio_s:.1f} s of audio, {args.rounds} rounds, {t} threads, "
          f"{os.cpu_count()} CPUs, load avg {os.getloadavg()[0]:.1f}")
    head = (f"{'variant':40s} {'RTF med':>7s} {'RTF min':>7s} {'CPU/s':>6s} {'speedup':>7s} {'CPU x':>6s} "
            f"{'max|d|':>7s} {'SNR dB':>7s} {'melSNR':>7s} {'mel dB':>6s}" + (f" {'WER':>5s}" if wer else ""))
    print(head)
    print("-" * len(head))
    for v in variants + extra:
        q = defaultdict(list)
        for a, r in zip(v.outputs, ref, strict=True):
            for k, val in closeness(a, r).items():
                q[k].append(val)
        qm = {k: float(np.median(vals)) for k, vals in q.items()}
        timing = (f"{np.median(v.wall):7.3f} {min(v.wall):7.3f} {np.median(v.cpu):6.3f} "
                  f"{np.median(base.wall) / np.median(v.wall):7.2f} {np.median(base.cpu) / np.median(v.cpu):6.2f}"
                  if v.wall else f"{'':7s} {'':7s} {'':6s} {'':7s} {'':6s}")
        close = ("       -       -       -      -" if v is base else
                 f"{qm['maxabs']:7.3f} {qm['snr']:7.1f} {qm['mel_snr']:7.1f} {qm['mel_db']:6.2f}")
        print(f"{v.name:40s} {timing} {close}" + (f" {wer[v.name]:5.3f}" if wer else ""))
    print("\nRTF: synthesis time / audio time (median, best round). CPU/s: process CPU seconds per audio second.")
    print("speedup, CPU x: baseline median / variant median. Closeness vs the baseline's audio (median over "
          "sentences): waveform max-abs and SNR, 80-band mel SNR and mean |Δ| in dB.")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    main()
