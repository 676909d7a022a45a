"""Train the voice encoder: speaker embedding → voice vector (see :mod:`limelight.voice.space`).

Reproduce with one command (parallel, resumable; shards are written as they finish)::

    python -m limelight.train.voice_encoder --samples 4000 --out runs/ve --workers 16

1. **Sample** voice vectors around, between and beyond the shipped voices (:func:`sample_vectors`).
2. **Synthesise** two fixed sentences per vector with the Kokoro ONNX model (one onnxruntime thread per
   worker), and **measure** the result: Resemblyzer embedding of the joined audio and acoustics (F0,
   formants, pace, periodicity, tilt). Each shard of ``--shard-size`` samples is one ``.npz``; a shard that
   exists is skipped, so an interrupted run resumes where it stopped.
3. **Fit** ridge regression from embedding to vector (``--fit``, on all shards found) with a held-out split,
   and write ``voice_encoder.npz`` (weights), ``voice_bank.npz`` (vectors + embeddings for k-NN cloning),
   ``design_directions.npz`` (acoustics → vector regression for voice design) and ``model_card.json``.
   ``--export`` copies the three ``.npz`` into ``limelight/voice/data/`` where the runtime loads them.

Sentences are tokenised and the style space frozen before the workers start (``sentences.json`` and
``space.npz`` in the output folder), so the workers need only numpy, scipy and onnxruntime: the same command
runs on a machine without espeak-ng or the voice packs when those two files are copied along (``--model``
points at the ONNX file there).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 24_000
SENTENCES = (
    "The quick brown fox jumps over the lazy dog, and then it rests quietly in the warm afternoon sun.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "I never expected the weather to change so suddenly during our trip to the mountains.",
    "She opened the old wooden door slowly, listening for any sound from the dark hallway.",
    "We will meet again tomorrow morning to finish the work we started today.",
    "Reading a good book on a rainy evening is one of my favourite ways to relax.",
)
FEATURES = ("f0_hz", "f0_range_st", "f1_hz", "f2_hz", "f3_hz", "voiced_ratio", "periodicity", "tilt_db",
            "centroid_hz", "tokens_per_s")
DATA_DIR = Path(__file__).resolve().parents[1] / "voice" / "data"


@dataclass(frozen=True)
class SpaceArrays:
    """The parts of the style space the workers need, as plain arrays (picklable, no package data)."""

    means: np.ndarray
    residual: np.ndarray
    scale: np.ndarray
    names: tuple[str, ...] = ()


def load_space(out: Path) -> SpaceArrays:
    """The style space, frozen into ``out/space.npz`` on first use so every shard of a run shares it."""
    path = out / "space.npz"
    if not path.exists():
        from ..voice.space import style_space

        s = style_space()
        np.savez(path, means=s.means, residual=s.residual, scale=s.scale, names=np.array(s.names))
    with np.load(path) as npz:
        names = tuple(str(n) for n in npz["names"]) if "names" in npz.files else ()
        return SpaceArrays(means=npz["means"], residual=npz["residual"], scale=npz["scale"], names=names)


def sample_vectors(rng: np.random.Generator, n: int, space: SpaceArrays,
                   focus: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` voice vectors and their kind (0 around a shipped voice, 1 between several, 2 beyond one).

    "Beyond" extrapolates from one shipped voice away from another: with four female voices and one male,
    this is what reaches deeper male and other female timbres. Noise is per-dimension, in units of the
    spread between shipped voices, with a random strength so both near and far points are seen.
    ``focus`` (a shipped voice's index) centres every draw on that voice: around it, blends weighted to it,
    and extrapolations away from the others (how the male region, one shipped voice of five, gets covered).
    """
    means, scale = space.means, space.scale
    k = len(means)
    out = np.empty((n, means.shape[1]), np.float32)
    kinds = rng.choice(3, size=n, p=[0.3, 0.35, 0.35])
    for i, kind in enumerate(kinds):
        if kind == 0:
            base = means[rng.integers(k) if focus is None else focus]
        elif kind == 1:
            alpha = np.full(k, 0.6)
            if focus is not None:
                alpha[focus] = 3.0
            base = rng.dirichlet(alpha) @ means
        else:
            a, b = rng.choice(k, size=2, replace=False)
            if focus is not None:
                a, b = focus, rng.choice([j for j in range(k) if j != focus])
            base = means[a] + rng.uniform(0.1, 0.7) * (means[a] - means[b])
        out[i] = base + rng.uniform(0.0, 0.8) * scale * rng.standard_normal(means.shape[1])
    return out, kinds.astype(np.int8)


def tokenize_sentences(out: Path | None) -> list[list[int]]:
    """Token ids of the training sentences, cached in ``out/sentences.json`` when ``out`` is given (needs
    espeak-ng once)."""
    path = out / "sentences.json" if out is not None else None
    if path is not None and path.exists():
        return json.loads(path.read_text())["tokens"]
    from ..engine.kokoro import kokoro_vocab
    from ..text.phonemes import phonemize

    vocab = kokoro_vocab()
    tokens = [[vocab[c] for c in phonemize(s, "en") if c in vocab] for s in SENTENCES]
    if path is not None:
        path.write_text(json.dumps({"sentences": list(SENTENCES), "tokens": tokens}))
    return tokens


class Synth:
    """A single-threaded Kokoro ONNX session: enough for one worker process."""

    def __init__(self, model: str) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(model, sess_options=opts, providers=["CPUExecutionProvider"])

    def __call__(self, tokens: list[int], table: np.ndarray) -> np.ndarray:
        from ..engine.trim import trim_silence

        feeds = {"tokens": np.array([[0, *tokens, 0]], np.int64),
                 "style": table[min(len(tokens), 509)][None].astype(np.float32),
                 "speed": np.array([1.0], np.float32)}
        audio = np.asarray(self.session.run(None, feeds)[0], np.float32).reshape(-1)
        return trim_silence(audio, SAMPLE_RATE)


def render(synth: Synth, tokens: list[list[int]], pair: tuple[int, int], table: np.ndarray) -> np.ndarray:
    gap = np.zeros(int(0.25 * SAMPLE_RATE), np.float32)
    return np.concatenate([synth(tokens[pair[0]], table), gap, synth(tokens[pair[1]], table)])


def _worker(job: tuple[int, int, int, str, str, SpaceArrays]) -> str:
    shard, size, seed, model, out, space = job
    path = Path(out) / "shards" / f"shard_{shard:05d}.npz"
    if path.exists():
        return f"{path.name} exists"
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from ..check.speaker import embed_speaker
    from .acoustics import measure

    t0 = time.time()
    rng = np.random.default_rng([seed, shard])
    vectors, kinds = sample_vectors(rng, size, space)
    tokens = json.loads((Path(out) / "sentences.json").read_text())["tokens"]
    synth = Synth(model)
    emb = np.zeros((size, 256), np.float32)
    feats = np.zeros((size, len(FEATURES)), np.float32)
    pairs = np.zeros((size, 2), np.int8)
    for i, v in enumerate(vectors):
        pair = tuple(int(p) for p in rng.choice(len(tokens), size=2, replace=False))
        audio = render(synth, tokens, pair, space.residual + v[None])
        emb[i] = embed_speaker(audio, SAMPLE_RATE)
        m = measure(audio, SAMPLE_RATE, n_tokens=len(tokens[pair[0]]) + len(tokens[pair[1]])).as_dict()
        feats[i] = [m[f] for f in FEATURES]
        pairs[i] = pair
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, vectors=vectors, kinds=kinds, embeddings=emb, features=feats, pairs=pairs)
    tmp.replace(path)
    return f"{path.name} {size} samples in {time.time() - t0:.0f} s"


def _measure_shard(job: tuple[str, np.ndarray, np.ndarray, np.ndarray, list[np.ndarray], list[int]]) -> str:
    """CPU side of the GPU path: embed and measure one shard's audio, write the shard."""
    path_s, vectors, kinds, pairs, audios, n_tokens = job
    from ..check.speaker import embed_speaker
    from .acoustics import measure

    emb = np.stack([embed_speaker(a, SAMPLE_RATE) for a in audios])
    feats = np.array([[measure(a, SAMPLE_RATE, n_tokens=n).as_dict()[f] for f in FEATURES]
                      for a, n in zip(audios, n_tokens, strict=True)], np.float32)
    path = Path(path_s)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, vectors=vectors, kinds=kinds, embeddings=emb, features=feats, pairs=pairs)
    tmp.replace(path)
    return f"{path.name} {len(vectors)} samples"


def generate_torch(out: Path, samples: int, workers: int, shard_size: int, seed: int, model: str | None,
                   device: str, focus: str | None = None) -> None:
    """The same data with the PyTorch Kokoro on a GPU: synthesis batched per sentence, measuring on CPU workers.

    The float model differs slightly from the int8 ONNX the runtime uses (speaker-embedding cosine ≈ 0.98
    between the two renderings of one voice), well inside the spread between voices.
    """
    import torch

    from ..engine.torch_kokoro import TorchKokoro
    from ..engine.trim import trim_silence

    (out / "shards").mkdir(parents=True, exist_ok=True)
    tokens = tokenize_sentences(out)
    if model is None:
        from ..engine.model_file import shipped_kokoro

        model = str(shipped_kokoro())
    space = load_space(out)
    focus_i = space.names.index(focus) if focus else None
    net = TorchKokoro.from_onnx(model).to(device)
    n_shards = -(-samples // shard_size)
    gap = np.zeros(int(0.25 * SAMPLE_RATE), np.float32)
    with mp.get_context("spawn").Pool(workers) as pool:
        pending = []
        for shard in range(n_shards):
            path = out / "shards" / f"shard_{shard:05d}.npz"
            if path.exists():
                continue
            rng = np.random.default_rng([seed, shard])
            vectors, kinds = sample_vectors(rng, shard_size, space, focus_i)
            pairs = np.array([rng.choice(len(tokens), size=2, replace=False) for _ in vectors], np.int8)
            pieces: dict[tuple[int, int], np.ndarray] = {}
            for j, tok in enumerate(tokens):
                rows = [i for i in range(len(vectors)) if j in pairs[i]]
                if not rows:
                    continue
                styles = torch.tensor(space.residual[min(len(tok), 509)][None] + vectors[rows], device=device)
                ids = torch.tensor([[0, *tok, 0]] * len(rows), device=device)
                with torch.inference_mode():
                    syn = net.synthesize(ids, styles, 1.0)
                audio = syn.audio.float().cpu().numpy()
                for r, i in enumerate(rows):
                    pieces[(i, j)] = trim_silence(audio[r, : int(syn.audio_lengths[r])], SAMPLE_RATE)
            audios = [np.concatenate([pieces[(i, int(p[0]))], gap, pieces[(i, int(p[1]))]])
                      for i, p in enumerate(pairs)]
            n_tok = [len(tokens[int(p[0])]) + len(tokens[int(p[1])]) for p in pairs]
            pending.append(pool.apply_async(_measure_shard, ((str(path), vectors, kinds, pairs, audios, n_tok),)))
            while len(pending) > 2 * workers:  # keep the GPU ahead of the CPUs, but not unboundedly
                print(pending.pop(0).get(), flush=True)
        for p in pending:
            print(p.get(), flush=True)


def generate(out: Path, samples: int, workers: int, shard_size: int, seed: int, model: str | None) -> None:
    (out / "shards").mkdir(parents=True, exist_ok=True)
    tokenize_sentences(out)
    if model is None:
        from ..engine.model_file import shipped_kokoro

        model = str(shipped_kokoro())
    space = load_space(out)
    n_shards = -(-samples // shard_size)
    jobs = [(s, shard_size, seed, model, str(out), space) for s in range(n_shards)]
    todo = [j for j in jobs if not (out / "shards" / f"shard_{j[0]:05d}.npz").exists()]
    print(f"{n_shards} shards of {shard_size}; {len(todo)} to make with {workers} workers", flush=True)
    if workers <= 1:
        for j in todo:
            print(_worker(j), flush=True)
        return
    with mp.get_context("spawn").Pool(workers) as pool:
        for msg in pool.imap_unordered(_worker, todo):
            print(msg, flush=True)


def load_shards(out: Path) -> dict[str, np.ndarray]:
    files = sorted((out / "shards").glob("shard_*[0-9].npz"))
    if not files:
        raise SystemExit(f"no shards in {out / 'shards'}; generate some first")
    parts = [dict(np.load(f)) for f in files]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def fit_ridge(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """``y ≈ x @ w + b``, ridge on centred data (closed form)."""
    xm, ym = x.mean(0), y.mean(0)
    xc, yc = x - xm, y - ym
    w = np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ yc)
    return w.astype(np.float32), (ym - xm @ w).astype(np.float32)


def real_embeddings(folder: Path) -> np.ndarray:
    """Speaker embeddings of real recordings (e.g. shared/voices/train), cached beside the run."""
    import soundfile as sf

    from ..check.speaker import embed_speaker

    files = sorted(folder.rglob("*.flac")) + sorted(folder.rglob("*.wav"))
    out = []
    for f in files:
        audio, sr = sf.read(f, dtype="float32", always_2d=True)
        out.append(embed_speaker(audio.mean(axis=1), sr))
    return np.stack(out)


def fit(out: Path, bank_size: int, real: Path | None = None, note: str = "") -> dict[str, object]:
    """Fit the encoder and design directions on all shards; write the artefacts and the model card.

    With ``real`` (a folder of real speech, never the evaluation speakers), the mean real-speech embedding is
    stored too: cloning moves a reference's embedding by (synthetic mean − real mean) before looking it up,
    which closes most of the gap between how Resemblyzer hears recordings and how it hears Kokoro.
    """
    data = load_shards(out)
    x, y, feats = data["embeddings"], data["vectors"], data["features"]
    n = len(x)
    rng = np.random.default_rng(0)
    order = rng.permutation(n)
    n_test = max(1, n // 10)
    test, train = order[:n_test], order[n_test:]
    results: dict[str, float] = {}
    best = (np.inf, 0.0)
    for alpha in (0.01, 0.1, 1.0, 10.0):
        w, b = fit_ridge(x[train], y[train], alpha)
        err = float(np.mean((x[test] @ w + b - y[test]) ** 2))
        results[f"ridge_mse_alpha_{alpha}"] = err
        best = min(best, (err, alpha))
    w, b = fit_ridge(x, y, best[1])
    base = float(np.mean((y[test] - y[train].mean(0)) ** 2))
    real_mean = np.zeros(x.shape[1], np.float32)
    if real is not None:
        cache = out / "real_embeddings.npy"
        if not cache.exists():
            np.save(cache, real_embeddings(real))
        real_mean = np.load(cache).mean(0).astype(np.float32)
    np.savez(out / "voice_encoder.npz", weight=w, bias=b, alpha=np.float32(best[1]),
             synth_mean=x.mean(0).astype(np.float32), real_mean=real_mean)
    keep = order[: min(bank_size, n)]
    np.savez(out / "voice_bank.npz", vectors=y[keep].astype(np.float16), embeddings=x[keep].astype(np.float16))
    # Design: which way in the voice space moves each acoustic measure (ridge of vector on standardised feats).
    ok = feats[:, 0] > 0
    fm, fs = feats[ok].mean(0), feats[ok].std(0) + 1e-6
    dw, db = fit_ridge((feats[ok] - fm) / fs, y[ok], 1.0)
    np.savez(out / "design_directions.npz", weight=dw, bias=db, feature_mean=fm, feature_std=fs,
             features=np.array(FEATURES), vectors=y[ok].astype(np.float16), feats=feats[ok].astype(np.float16))
    card = {
        "model": "voice encoder: Resemblyzer speaker embedding (256) → Kokoro voice vector (256), ridge regression",
        "data": {"samples": int(n), "sentences": list(SENTENCES),
                 "sampler": "limelight.train.voice_encoder.sample_vectors (around 30 %, between 35 %, beyond 35 %)",
                 "engine": "Kokoro-82M: int8 ONNX on CPU workers (default) or the float "
                 "limelight.engine.torch_kokoro port on a GPU (--device cuda)", "note": note},
        "fit": {"alpha": best[1], "held_out": int(n_test), "held_out_mse": best[0],
                "held_out_mse_predict_mean": base, "r2": 1 - best[0] / base, **results},
        "bank_size": int(len(keep)),
        "real_mean_from": str(real) if real is not None else None,
        "files_bytes": {p: (out / p).stat().st_size for p in
                        ("voice_encoder.npz", "voice_bank.npz", "design_directions.npz")},
    }
    (out / "model_card.json").write_text(json.dumps(card, indent=2))
    return card


def export(out: Path) -> None:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for name in ("voice_encoder.npz", "voice_bank.npz", "design_directions.npz", "model_card.json"):
        shutil.copy2(out / name, DATA_DIR / name)
    print(f"exported to {DATA_DIR}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Generate data for and fit limelight's voice encoder.")
    ap.add_argument("--samples", type=int, default=200, help="voice vectors to synthesise and measure")
    ap.add_argument("--out", type=Path, required=True, help="run folder (shards/, fitted files)")
    ap.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 0))
    ap.add_argument("--shard-size", type=int, default=25)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--model", help="Kokoro ONNX file (default: the shipped one)")
    ap.add_argument("--device", default="onnx",
                    help="onnx (CPU workers, default) or a torch device such as cuda for the GPU path")
    ap.add_argument("--focus", help="centre sampling on this shipped voice (e.g. jm_kumo), GPU path")
    ap.add_argument("--no-generate", action="store_true", help="only fit on the shards already there")
    ap.add_argument("--fit", action="store_true", help="fit and write the encoder after generating")
    ap.add_argument("--bank-size", type=int, default=3000)
    ap.add_argument("--real", type=Path, help="folder of real speech for the domain shift (shared/voices/train)")
    ap.add_argument("--note", default="", help="free text for the model card (where the data was made)")
    ap.add_argument("--export", action="store_true", help="copy the fitted files into the package")
    args = ap.parse_args(argv)
    if not args.no_generate and args.device != "onnx":
        generate_torch(args.out, args.samples, args.workers, args.shard_size, args.seed, args.model, args.device,
                       args.focus)
    elif not args.no_generate:
        generate(args.out, args.samples, args.workers, args.shard_size, args.seed, args.model)
    if args.fit or args.no_generate:
        print(json.dumps(fit(args.out, args.bank_size, args.real, args.note)["fit"], indent=2))
    if args.export:
        export(args.out)


if __name__ == "__main__":
    main()
