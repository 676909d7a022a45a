"""Gradient enrollment on a GPU: fit voice vectors to many reference speakers at once, through the synthesiser.

The CPU enrollment (:mod:`limelight.voice.enroll`) can afford ~10 syntheses per voice; here every step
synthesises two sentences per speaker with the PyTorch Kokoro (:mod:`limelight.engine.torch_kokoro`) and the
distilled decoder the runtime uses (or Kokoro's own generator, ``--decoder kokoro``), embeds them with
Resemblyzer in torch (:mod:`.speaker_torch`) and moves each voice vector up the gradient of the cosine to its
reference's embedding. Durations are re-predicted (not differentiated) every step; the prosody half of the
style still gets gradients through the F0 and energy curves.

Guarding against a voice that only fools one encoder: the vector moves in the space of voices the bank
spans (its top principal components, in units of their spread) with a Gaussian prior on those coordinates,
the sentences change every step, and the result is judged on other clips and other sentences
(``bench/clone.py``). Two uses:

1. enrolled targets for the real LibriSpeech ``train/`` speakers, so the zero-shot encoder learns real
   speech → voice vector directly (:mod:`limelight.train.voice_encoder` ``--real-targets``);
2. the enrollment of a user's reference on a GPU.

Reproduce (two steps; the first on any machine with espeak-ng, the second on the GPU)::

    python -m limelight.train.enrollment prepare --out runs/enroll/refs.npz --shared-voices ../shared/voices
    python -m limelight.train.enrollment fit --refs runs/enroll/refs.npz --out runs/enroll/enrolled.npz \
        --device cuda

``--student`` defaults to the fast decoder the package ships, rebuilt in torch from its ONNX
(:func:`limelight.train.fastdec.train.load_student`), so the voices are fitted through the decoder users hear.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 24_000
SAMPLES_PER_FRAME = 600  # Kokoro: 40 frames per second
# The fit moves in all 256 principal components of the bank, each in units of its own spread (0.012 to 1.57).
# The first 96 hold 96.5 % of the variance, but the rest matter for real speakers: with 96 and prior 0.01 the
# dev speakers scored 0.468 normalised (one reference each on the CPU, bench/clone.py), with 256 and 0.003
# see voice/data/MODEL_CARD.md.
PRIOR_DIMS = 256


@dataclass(frozen=True)
class FitOptions:
    steps: int = 120
    lr: float = 0.08  # Adam, in units of a component's spread; cosine-decayed
    prior: float = 0.003  # weight of mean(z²) against the cosine
    sentences_per_step: int = 2
    micro_batch: int = 64
    decoder: str = "fast"  # fast (the distilled student) | kokoro (Kokoro's generator)
    seed: int = 0
    pitch: float = 0.005  # weight per semitone² of the mean voiced F0's distance to the reference's median F0
    time_budget: float = 0.0  # seconds for the steps (0: no limit; the first scoring is not counted, the final
    # scoring comes after)


def audio_files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        out += sorted(q for q in p.rglob("*") if q.suffix.lower() in (".flac", ".wav")) if p.is_dir() else [p]
    return out


def shared_references(voices: Path) -> tuple[list[Path], list[str]]:
    """The clips to enroll from ``shared/voices``: every ``train/`` clip (as ``train/<stem>``) and each dev
    speaker's reference, the first clip of 3–30 s as ``bench/clone.py`` picks it (as ``dev/<speaker>``).

    The dev speakers' other clips are never seen here: they are what ``bench/clone.py`` scores against.
    """
    import soundfile as sf

    files, names = [], []
    for f in sorted((voices / "train").glob("*.flac")):
        files.append(f)
        names.append(f"train/{f.stem}")
    for spk in sorted(d for d in (voices / "dev").iterdir() if d.is_dir()):
        ref = next(f for f in sorted(spk.glob("*.flac")) if 3.0 <= sf.info(f).duration <= 30.0)
        files.append(ref)
        names.append(f"dev/{spk.name}")
    return files, names


def prepare_arrays(references: list[tuple[np.ndarray, int]], names: list[str],
                   token_cache: Path | None = None, engine=None) -> dict[str, np.ndarray]:
    """Everything the gradient side needs, as plain arrays: target embeddings, zero-shot starts, their
    colours, the prior, the sentences' tokens. ``references`` are (mono audio, rate) pairs."""
    from ..check.speaker import embed_speaker
    from ..voice.clone import calibrate, clone_model, median_semitones, vector_from_embedding
    from ..voice.space import style_space
    from .voice_encoder import SENTENCES, tokenize_sentences

    embeddings, starts, colours, f0_st = [], [], [], []
    for audio, sr in references:
        st = median_semitones(audio, sr)
        f0_st.append(0.0 if st is None else st)
        e = embed_speaker(audio, sr)
        embeddings.append(e)
        starts.append(vector_from_embedding(e, "encoder")[0])
        # The colour the runtime will give this clone (heard once on the CPU engine), fixed during the fit so
        # the vector is fitted to what users hear: speech through the voice's equaliser.
        start = style_space().voice(starts[-1], name="start")
        colours.append(calibrate(start, audio, sr, engine).colour)
    bank = clone_model().bank_vectors.astype(np.float64)
    mean = bank.mean(0)
    _, s, vt = np.linalg.svd(bank - mean, full_matrices=False)
    basis = vt[:PRIOR_DIMS] * (s[:PRIOR_DIMS, None] / math.sqrt(len(bank)))
    tokens = tokenize_sentences(token_cache)
    padded = np.zeros((len(tokens), max(map(len, tokens))), np.int64)
    for i, t in enumerate(tokens):
        padded[i, : len(t)] = t
    return {"names": np.array(names), "embeddings": np.stack(embeddings), "starts": np.stack(starts),
            "residual": style_space().residual, "prior_mean": mean.astype(np.float32),
            "prior_basis": basis.astype(np.float32), "tokens": padded,
            "token_lengths": np.array([len(t) for t in tokens]), "sentences": np.array(SENTENCES),
            "colours": np.array(colours, np.float32), "f0_st": np.array(f0_st, np.float32)}


def prepare(files: list[Path], out: Path, names: list[str] | None = None) -> dict[str, int]:
    """:func:`prepare_arrays` of audio files, written to ``out`` for the GPU machine."""
    import soundfile as sf

    refs = []
    for f in files:
        audio, sr = sf.read(f, dtype="float32", always_2d=True)
        refs.append((audio.mean(axis=1), int(sr)))
    out.parent.mkdir(parents=True, exist_ok=True)
    data = prepare_arrays(refs, names or [f.stem for f in files], token_cache=out.parent)
    np.savez(out, **data)
    return {"references": len(files), "sentences": len(data["token_lengths"])}


def trim_bounds(audio: np.ndarray) -> tuple[int, int]:
    """Start and end sample of the runtime's edge-silence trim (indices only, so the slice keeps gradients);
    all of ``audio`` when nothing is loud enough."""
    from ..engine.trim import silence_bounds

    start, end = silence_bounds(audio, SAMPLE_RATE)
    return (start, end) if end > start else (0, len(audio))


class Renderer:
    """Voice vectors → speech for one sentence, differentiable in the vectors."""

    def __init__(self, model, student, residual, tokens: list[list[int]], decoder: str, device) -> None:
        import torch

        self.model, self.student, self.decoder, self.device = model, student, decoder, device
        self.residual = torch.as_tensor(residual, device=device)
        self.text: list[tuple] = []
        with torch.no_grad():  # the style-free parts of the text side, once per sentence
            for tok in tokens:
                ids = torch.tensor([[0, *tok, 0]], device=device)
                lengths = torch.tensor([ids.shape[1]], device=device)
                mask = torch.ones_like(ids, dtype=torch.bool)
                d_en = model.bert_encoder(model.bert(ids, None))
                t_en = model.text_encoder(ids, lengths, mask)
                self.text.append((d_en, t_en, lengths, mask, len(tok)))

    def __call__(self, sentence: int, vectors):  # -> (audio [R, S], lengths [R])
        import torch

        from ..engine.torch_kokoro import ops
        from ..engine.torch_kokoro.model import expand_to_frames, upsample_mask

        model = self.model
        d_en, t_en, lengths, mask, n_tok = self.text[sentence]
        rows = vectors.shape[0]
        style = self.residual[min(n_tok, 509)][None] + vectors  # the row the runtime picks
        s_t, s_p = style[:, :128], style[:, 128:]
        lengths_r, mask_r = lengths.expand(rows), mask.expand(rows, -1)
        d = model.predictor.text_encoder(d_en.expand(rows, -1, -1), s_p, lengths_r, mask_r)
        with torch.no_grad():
            frames = model.predictor.durations(d, lengths_r, torch.ones(rows, device=self.device))
            durations = torch.round(frames).clamp(min=1).long()
        en, asr, fr = expand_to_frames(d, t_en.expand(rows, -1, -1), durations)
        frame_mask = None if bool((fr == en.shape[-1]).all()) else ops.keep(fr, en.shape[-1])
        f0, energy = model.predictor.f0_energy(en, s_p, frame_mask)
        x = model.decoder.features(asr, f0, energy, s_t, frame_mask)
        # The excitation's phase is F0's integral: its gradient is noise to a speaker encoder (and the
        # generator's |STFT| and angle have none at zero), so F0 reaches the audio only through the networks.
        if self.decoder == "fast":
            from .fastdec.model import render as render_student

            audio = render_student(self.student.net(x, f0, s_t), f0.detach())
        else:
            f0_mask = upsample_mask(frame_mask, 2)
            gen = model.decoder.generator
            audio = gen(x, s_t, gen.excitation(f0.detach(), None, f0_mask), f0_mask)
        return audio, fr * SAMPLES_PER_FRAME, f0


def fit(refs: Path | dict[str, np.ndarray], out: Path | None, model_path: str, student_path: Path | None,
        device: str, opts: FitOptions, log=print, model=None) -> dict[str, object]:
    """Enroll every reference in ``refs`` (a :func:`prepare` file or :func:`prepare_arrays` arrays).

    Writes vectors and scores to ``out`` when given; the summary holds the vectors too (``"vectors"``).
    ``model`` is an already loaded :class:`TorchKokoro` (else it is read from ``model_path``).
    """
    import torch

    from ..engine.torch_kokoro import TorchKokoro
    from .speaker_torch import SpeakerEncoder

    data = dict(np.load(refs)) if isinstance(refs, (str, Path)) else dict(refs)
    dev = torch.device(device)
    model = (model or TorchKokoro.from_onnx(model_path)).to(dev).train()  # train(): cuDNN LSTMs backpropagate
    model.requires_grad_(False)
    student = None
    if opts.decoder == "fast":
        from .fastdec.train import load_student

        student, _, _ = load_student(student_path, str(dev))
        student.requires_grad_(False)
    encoder = SpeakerEncoder().to(dev).train()
    tokens = [list(map(int, row[:n])) for row, n in zip(data["tokens"], data["token_lengths"], strict=True)]
    render = Renderer(model, student, data["residual"], tokens, opts.decoder, dev)
    target = torch.as_tensor(data["embeddings"], device=dev)
    mean = torch.as_tensor(data["prior_mean"], device=dev)
    basis = torch.as_tensor(data["prior_basis"], device=dev)  # [D, 256], rows = component × its spread
    starts = torch.as_tensor(data["starts"], device=dev)
    unit = basis / (basis**2).sum(1, keepdim=True)
    z0 = (starts - mean) @ unit.T
    offset = starts - mean - z0 @ basis  # the part of each start outside the subspace stays as it is
    z = z0.clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=opts.lr)
    n_spk, n_sent = len(starts), len(tokens)
    rng = np.random.default_rng(opts.seed)

    def vectors(idx, zz):
        return mean + offset[idx] + zz[idx] @ basis

    def score(zz, sentences: list[int]) -> np.ndarray:
        """Mean cosine per speaker over ``sentences`` (no gradient)."""
        total = torch.zeros(n_spk, device=dev)
        with torch.no_grad():
            for j in sentences:
                for lo in range(0, n_spk, opts.micro_batch):
                    idx = torch.arange(lo, min(n_spk, lo + opts.micro_batch), device=dev)
                    total[idx] += (embed_rows(j, vectors(idx, zz), idx) * target[idx]).sum(1)
        return (total / len(sentences)).cpu().numpy()

    pitch_target = None
    if opts.pitch and "f0_st" in data:
        pitch_target = torch.as_tensor(data["f0_st"], device=dev, dtype=torch.float32)
    filters = None
    if "colours" in data:
        from ..voice.colour import TAPS, colour_filter

        flat = np.eye(1, TAPS, TAPS // 2, dtype=np.float32)[0]  # a unit impulse: no colour
        filters = torch.as_tensor(np.stack([colour_filter(tuple(map(float, c)), SAMPLE_RATE) if np.any(c) else flat
                                            for c in data["colours"]]), device=dev)

    def embed_rows(j: int, v, idx, with_pitch: bool = False):
        audio, lengths, f0 = render(j, v)
        if filters is not None:  # each row through its voice's equaliser (linear phase, 'same' alignment)
            taps = filters.shape[1]
            audio = torch.nn.functional.conv1d(audio[None], filters[idx].flip(1)[:, None], padding=taps // 2,
                                               groups=audio.shape[0])[0]
        host = audio.detach().float().cpu().numpy()  # one transfer for the whole batch
        pieces = []
        for r, n in enumerate(lengths.tolist()):
            lo, hi = trim_bounds(host[r, :n])
            pieces.append(audio[r, lo:hi])
        padded = torch.nn.utils.rnn.pad_sequence(pieces, batch_first=True)
        e = encoder(padded.float(), torch.tensor([len(p) for p in pieces]))
        if not with_pitch:
            return e
        voiced = (f0 > 60.0).detach().float()  # the rows' own voiced frames (padding has F0 0)
        st = 12 * torch.log2(f0.clamp(min=60.0) / 100.0)
        return e, (st * voiced).sum(1) / voiced.sum(1).clamp(min=1.0)

    t0 = time.time()
    start_cos = score(z0, list(range(n_sent)))
    log(json.dumps({"event": "start", "speakers": n_spk, "mean_cos": float(start_cos.mean()),
                    "s": round(time.time() - t0, 1)}))
    history = []
    t_steps = time.time()
    for step in range(opts.steps):
        spent = time.time() - t_steps
        if opts.time_budget and spent > opts.time_budget:
            log(json.dumps({"event": "budget", "step": step}))
            break
        # The cosine decay runs over the steps or the time budget, whichever ends first, so a fit the budget
        # stops early still ends at a small learning rate instead of mid-stride.
        progress = max(step / opts.steps, spent / opts.time_budget if opts.time_budget else 0.0)
        for g in opt.param_groups:
            g["lr"] = opts.lr * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
        picks = np.stack([rng.choice(n_sent, opts.sentences_per_step, replace=False) for _ in range(n_spk)])
        step_cos = torch.zeros(n_spk, device=dev)
        for j in range(n_sent):
            who = np.nonzero((picks == j).any(1))[0]
            for lo in range(0, len(who), opts.micro_batch):
                idx = torch.as_tensor(who[lo: lo + opts.micro_batch], device=dev)
                e, pitch = embed_rows(j, vectors(idx, z), idx, with_pitch=True)
                cos = (e * target[idx]).sum(1)
                prior = opts.prior * (z[idx] ** 2).mean(1)
                if pitch_target is not None:  # the speaker's pitch, which Resemblyzer barely hears
                    prior = prior + opts.pitch * (pitch - pitch_target[idx]) ** 2
                loss = (-cos / opts.sentences_per_step + prior / opts.sentences_per_step).sum()
                loss.backward()
                step_cos[idx] += cos.detach() / opts.sentences_per_step
        opt.step()
        opt.zero_grad(set_to_none=True)
        history.append(float(step_cos.mean()))
        if step % 10 == 0 or step == opts.steps - 1:
            log(json.dumps({"event": "step", "step": step, "mean_cos": history[-1],
                            "z_rms": float(z.detach().pow(2).mean().sqrt()), "s": round(time.time() - t0, 1)}))
    final = z.detach()
    end_cos = score(final, list(range(n_sent)))
    with torch.no_grad():
        result = vectors(torch.arange(n_spk, device=dev), final).cpu().numpy()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        np.savez(out, names=data["names"], vectors=result.astype(np.float32), starts=data["starts"],
                 cos_start=start_cos, cos_end=end_cos, history=np.array(history, np.float32),
                 options=json.dumps(opts.__dict__))
    summary = {"speakers": n_spk, "cos_start": float(start_cos.mean()), "cos_end": float(end_cos.mean()),
               "steps": len(history), "s": round(time.time() - t0, 1), **opts.__dict__}
    log(json.dumps({"event": "done", **summary}))
    return {**summary, "vectors": result.astype(np.float32)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Gradient enrollment of many references on a GPU.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare", help="embeddings, zero-shot starts and tokens (CPU)")
    p.add_argument("paths", type=Path, nargs="*", help="audio files or folders")
    p.add_argument("--shared-voices", type=Path,
                   help="shared/voices: its train/ clips and each dev speaker's reference clip")
    p.add_argument("--out", type=Path, required=True)
    f = sub.add_parser("fit", help="the gradient search (GPU)")
    f.add_argument("--refs", type=Path, required=True)
    f.add_argument("--out", type=Path, required=True)
    f.add_argument("--model", help="Kokoro ONNX file, or its parts comma-separated (default: the shipped one)")
    f.add_argument("--student", type=Path,
                   help="the fast decoder: a torch checkpoint or an exported .onnx (default: the shipped one)")
    f.add_argument("--device", default="cuda")
    for name, default in FitOptions().__dict__.items():
        f.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default)
    args = ap.parse_args(argv)
    if args.cmd == "prepare":
        files, names = audio_files(args.paths), [f.stem for f in audio_files(args.paths)]
        if args.shared_voices:
            more, more_names = shared_references(args.shared_voices)
            files, names = files + more, names + more_names
        if not files:
            ap.error("no references: give paths or --shared-voices")
        print(prepare(files, args.out, names))
        return
    model = args.model
    if model is None:
        from ..engine.model_file import shipped_kokoro

        model = str(shipped_kokoro())
    else:  # parts are joined beside the first one, not in --out (whose files come back from the device)
        from ..engine.model_file import join_parts

        model = str(join_parts(model, Path(model.split(",")[0]).parent / "kokoro.onnx"))
    opts = FitOptions(**{k: getattr(args, k) for k in FitOptions().__dict__})
    fit(args.refs, args.out, model, args.student, args.device, opts)


if __name__ == "__main__":
    main()
