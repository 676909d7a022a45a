"""Distil Kokoro's generator into the student: losses, the resumable loop, and the ONNX export.

Reproduce (the GPU part on the lent machine; see ``python -m limelight.train.fastdec --help``)::

    python -m limelight.train.fastdec prepare --out runs/fastdec            # here: tokens.json, voices.npz
    python -m limelight.train.fastdec train --data runs/fastdec --model kokoro.onnx \\
        --out runs/fastdec --steps 40000 --time-budget 540                   # GPU; run again to resume
    python -m limelight.train.fastdec export --out runs/fastdec              # → student.onnx (+ card)

A run stops cleanly when its time budget is spent and writes ``student.pt`` (weights, ~7 MB) and
``optim.pt`` (AdamW state) every few minutes and at the end; the next run with the same ``--out`` continues
the same cosine schedule from the saved step. Each file stays under the device's 16 MiB return limit.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ...audio import spectral
from ...engine.fastdec import dsp
from .model import Student, StudentConfig, noise_spectrum, render

RESOLUTIONS = ((2048, 512), (1024, 256), (512, 128), (256, 64), (128, 32))
CONTEXT = 8  # frames each side of a crop that the loss ignores (convolution edges)


def mel_filters(n_fft: int = 1024, n_mels: int = 100, device=None) -> torch.Tensor:
    """The shared HTK mel filterbank (:func:`limelight.audio.spectral.mel_filters`) as a float32 tensor."""
    return torch.tensor(spectral.mel_filters(n_fft, n_mels, dsp.SAMPLE_RATE), dtype=torch.float32, device=device)


def _mag(x: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    w = torch.hann_window(n_fft, device=x.device)
    return torch.stft(x, n_fft, hop, window=w, center=True, return_complex=True).abs()


def spectral_loss(y: torch.Tensor, t: torch.Tensor, mel: torch.Tensor) -> dict[str, torch.Tensor]:
    """Multi-resolution STFT (spectral convergence + log magnitude) and log-mel L1, student ``y`` vs teacher ``t``."""
    sc, mag = 0.0, 0.0
    for n_fft, hop in RESOLUTIONS:
        ys, ts = _mag(y, n_fft, hop), _mag(t, n_fft, hop)
        sc = sc + torch.linalg.norm(ts - ys) / torch.linalg.norm(ts).clamp(min=1e-6)
        mag = mag + F.l1_loss(torch.log(ys.clamp(min=1e-5)), torch.log(ts.clamp(min=1e-5)))
    ym, tm = (torch.log((mel @ _mag(a, 1024, 256)).clamp(min=1e-5)) for a in (y, t))
    mel_l1 = F.l1_loss(ym, tm)
    k = len(RESOLUTIONS)
    return {"sc": sc / k, "mag": mag / k, "mel": mel_l1, "total": sc / k + mag / k + mel_l1}


def lr_at(step: int, total: int, peak: float, warmup: int = 500, floor: float = 0.02) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * p)))


def save(out: Path, student: Student, opt: torch.optim.Optimizer, step: int, meta: dict) -> None:
    state = {k: v.detach().float().cpu() for k, v in student.net.state_dict().items()}
    tmp = out / "student.pt.tmp"
    torch.save({"config": student.net.cfg.as_dict(), "state": state, "step": step, "meta": meta}, tmp)
    tmp.replace(out / "student.pt")
    half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}  # < 16 MiB: the device's limit
    torch.save({"config": student.net.cfg.as_dict(), "state": half, "step": step, "meta": meta}, out / "student16.pt")
    tmp = out / "optim.pt.tmp"
    torch.save({"optim": opt.state_dict(), "step": step}, tmp)
    tmp.replace(out / "optim.pt")


def student_state_from_onnx(path: Path) -> tuple[dict, dict]:
    """The float state dict and config of an exported student, int8 weights dequantised.

    Why: the float checkpoints stay on the GPU machine that trained them (nothing persists there), while the
    package ships the int8 ONNX. Rebuilding the torch student from that file gives later GPU work (gradient
    enrollment through the decoder users hear, fine-tuning resumed from the release) exactly the weights the
    CPU runtime runs. ``quantize_dynamic`` stored each Linear as ``q`` int8 [in, out] with one scale and zero
    point; ``(q - zero) * scale`` transposed is the Linear's weight. The module a MatMulInteger belongs to is
    read from its output's name (``/blocks.3/pw1/...``).
    """
    from ...engine.fastdec.adapter import student_weights

    state = {k: torch.from_numpy(v.copy()) for k, v in student_weights(str(path)).items()}
    card = path.with_suffix(".json")
    config = json.loads(card.read_text())["config"] if card.is_file() else StudentConfig().as_dict()
    return state, config


def load_student(path: Path | None = None, device: str = "cpu") -> tuple[Student, int, dict]:
    """A trained student from a checkpoint (``student.pt``/``student16.pt``) or an exported ``.onnx``.

    ``None`` loads the student the package ships (:func:`limelight.engine.fastdec.decoder.shipped_student`).
    """
    if path is None or Path(path).suffix == ".onnx":
        from ...engine.fastdec.decoder import shipped_student

        path = Path(path) if path is not None else shipped_student()
        if path is None:
            raise FileNotFoundError("the package ships no fast decoder (engine/fastdec/data/student.onnx)")
        state, config = student_state_from_onnx(path)
        student = Student(StudentConfig(**config)).to(device)
        student.net.load_state_dict(state)
        card = path.with_suffix(".json")
        meta = json.loads(card.read_text()) if card.is_file() else {}
        return student, int(meta.get("step", 0)), meta
    ckpt = torch.load(path, map_location=device, weights_only=False)
    student = Student(StudentConfig(**ckpt["config"])).to(device)
    student.net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ckpt["state"].items()})
    return student, int(ckpt["step"]), ckpt.get("meta", {})


@torch.no_grad()
def evaluate(student: Student, pool, mel: torch.Tensor, n: int = 24) -> dict[str, float]:
    """Whole held-out utterances: the losses, and the log-spectral distance (dB) to the teacher."""
    student.eval()
    totals: dict[str, float] = {}
    lsd = []
    count = min(n, len(pool.frames))
    for u in range(count):
        a, L = int(pool.starts[u]), int(pool.frames[u])
        x = pool.x[:, a: a + L][None].float()
        f0 = pool.f0[a: a + L][None]
        t = pool.audio[a * dsp.HOP: (a + L) * dsp.HOP][None]
        gen = torch.Generator(device=x.device).manual_seed(u)
        env = student.net(x, f0, pool.style[u: u + 1])
        noise = noise_spectrum((1, dsp.N_BINS, L + 1), x.device, gen)
        y = render(env, f0, None, noise)
        for k, v in spectral_loss(y, t, mel).items():
            totals[k] = totals.get(k, 0.0) + float(v) / count
        ys, ts = (20 * torch.log10(_mag(a, 1024, 256).clamp(min=1e-4)) for a in (y, t))
        lsd.append(float((ys - ts).abs().mean()))
    student.train()
    return {**totals, "lsd_db": float(np.mean(lsd))}


def train(data: Path, model_path: str, out: Path, steps: int, time_budget: float, batch: int = 32,
          crop: int = 64, peak_lr: float = 1e-3, pool_seconds: float = 7200.0, seed: int = 0,
          cache: Path | None = None, save_every: float = 150.0) -> dict:
    from ...engine.torch_kokoro import TorchKokoro
    from .data import TeacherPool, sample_crops, split_tokens

    t_start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    log_file = (out / "log.jsonl").open("a")

    def log(msg: str, **fields) -> None:
        line = {"t": round(time.perf_counter() - t_start, 1), "msg": msg, **fields}
        print(json.dumps(line), flush=True)
        log_file.write(json.dumps(line) + "\n")
        log_file.flush()

    tokens = json.loads((data / "tokens.json").read_text())
    voices = dict(np.load(data / "voices.npz"))
    train_tokens, held_tokens = split_tokens(tokens)
    cache_file = (cache / f"pool-{seed}-{int(pool_seconds)}.pt") if cache else None
    if cache_file is not None and cache_file.is_file():
        pools = torch.load(cache_file, map_location=dev, weights_only=False)
        log("pool loaded from cache", seconds=pools[0].seconds())
    else:
        teacher = TorchKokoro.from_onnx(model_path).to(dev).eval()
        frames = min(12_000, int(40 * pool_seconds) + 400)  # a small smoke-test pool in small batches
        pools = (TeacherPool(teacher, train_tokens, voices, seed).render(pool_seconds, frames, log=lambda m: log(m)),
                 TeacherPool(teacher, held_tokens, voices, seed + 1).render(min(60.0, pool_seconds), frames,
                                                                            log=lambda m: None))
        del teacher
        if dev == "cuda":
            torch.cuda.empty_cache()
        if cache_file is not None:
            cache.mkdir(parents=True, exist_ok=True)
            torch.save(pools, cache_file)
        log("teacher pool rendered", seconds=pools[0].seconds(), held_out=pools[1].seconds())
    pool, held = pools

    ckpt = out / "student.pt"
    if ckpt.is_file():
        student, step, _ = load_student(ckpt, dev)
    else:
        student, step = Student(StudentConfig()).to(dev), 0
    student.train()
    opt = torch.optim.AdamW(student.parameters(), lr=peak_lr, betas=(0.8, 0.99), weight_decay=0.01)
    if (out / "optim.pt").is_file() and step > 0:
        opt.load_state_dict(torch.load(out / "optim.pt", map_location=dev, weights_only=False)["optim"])
    mel = mel_filters(device=dev)
    gen = torch.Generator(device=dev).manual_seed(seed * 1000 + step)
    params = sum(p.numel() for p in student.parameters())
    log("training", params=params, step=step, steps=steps, pool_s=pool.seconds())
    last_save = time.perf_counter()
    meta = {"pool_seconds": pool.seconds(), "batch": batch, "crop": crop, "peak_lr": peak_lr, "seed": seed}
    window = crop + 2 * CONTEXT
    running: dict[str, float] = {}
    while step < steps and time.perf_counter() - t_start < time_budget - 25:
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, peak_lr)
        x, f0, target, style = sample_crops(pool, batch, window, gen)
        phase0 = torch.rand(batch, device=dev, generator=gen)
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=dev == "cuda"):
            env = student.net(x, f0, style)
        y = render(env.float(), f0, phase0)
        cut = CONTEXT * dsp.HOP
        losses = spectral_loss(y[:, cut:-cut], target[:, cut:-cut], mel)
        opt.zero_grad(set_to_none=True)
        losses["total"].backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 5.0)
        opt.step()
        step += 1
        for k, v in losses.items():
            running[k] = running.get(k, 0.0) * 0.98 + float(v) * 0.02 if k in running else float(v)
        if step % 500 == 0:
            log("step", step=step, lr=opt.param_groups[0]["lr"], **{k: round(v, 4) for k, v in running.items()})
        if step % 2000 == 0:
            log("held-out", step=step, **{k: round(v, 4) for k, v in evaluate(student, held, mel).items()})
        if time.perf_counter() - last_save > save_every:
            save(out, student, opt, step, meta)
            last_save = time.perf_counter()
    result = evaluate(student, held, mel)
    meta["held_out"] = result
    save(out, student, opt, step, meta)
    log("saved", step=step, **{k: round(v, 4) for k, v in result.items()})
    return {"step": step, **result}


def export(out: Path, onnx_path: Path | None = None) -> Path:
    """``student.pt`` (or ``student16.pt``) → ``student.onnx`` (StudentNet only; float32; dynamic frame axis)."""
    ckpt = out / "student.pt" if (out / "student.pt").is_file() else out / "student16.pt"
    student, step, meta = load_student(ckpt)
    net = student.net.eval()
    onnx_path = onnx_path or out / "student.onnx"
    L = 100
    args = (torch.randn(1, net.cfg.in_channels, L), torch.full((1, L), 120.0), torch.randn(1, net.cfg.style_dim))
    torch.onnx.export(net, args, str(onnx_path), input_names=["x", "f0", "style"], output_names=["log_env"],
                      dynamic_axes={"x": {0: "batch", 2: "frames"}, "f0": {0: "batch", 1: "frames"},
                                    "style": {0: "batch"}, "log_env": {0: "batch", 3: "stft_frames"}},
                      opset_version=17, dynamo=False)
    (onnx_path.with_suffix(".json")).write_text(json.dumps({"step": step, **meta, "config": net.cfg.as_dict()},
                                                           indent=1) + "\n")
    return onnx_path
