"""Training data for the student decoder: token sequences and voices prepared here, teacher renders on the GPU.

``prepare`` (run where espeak-ng and the voice packs are, i.e. a limelight install) writes two small files
that are all the GPU machine needs beside the Kokoro ONNX:

* ``tokens.json``: phoneme-id sequences. Phoneme coverage matters more than prose, so besides real sentences
  (``../shared/texts``, the GPU benchmark's sentences) it adds random word salads over a wide vocabulary,
  numbers, and the other Kokoro languages' lines.
* ``voices.npz``: the five shipped style tables and style rows cloned from the LibriSpeech ``train/`` clips
  with limelight's own encoder, so the student meets voices beyond the shipped ones.

:class:`TeacherPool` then renders, with the PyTorch Kokoro on the GPU, each utterance's decoder features,
F0 and audio (the generator's exact inputs and output) into one pool held in GPU memory, from which training
draws random crops. Voices are drawn as shipped rows, blends of two, shipped rows plus noise in style space,
or cloned rows; speed and an F0 scale are drawn per utterance so pitch covers more than the voices' own range.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_TOKENS = 200  # keeps teacher batches and crops regular; longer sentences add nothing new


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z][A-Za-z'-]+", text)


def prepare(out: Path, shared: Path, clones: int = 150, salads: int = 2500, seed: int = 0) -> dict[str, int]:
    """Write ``tokens.json`` and ``voices.npz`` into ``out`` (CPU, a few minutes)."""
    import soundfile as sf

    from ...engine.kokoro import kokoro_vocab
    from ...text.normalize import normalize
    from ...text.phonemes import phonemize
    from ...text.sentences import split_sentences
    from ...voice.clone import clone_voice
    from ...voice.shipped import shipped_voices

    rng = random.Random(seed)
    vocab = kokoro_vocab()
    sequences: list[list[int]] = []

    def add(text: str, language: str = "en") -> None:
        try:
            ph = phonemize(normalize(text, language), language)
        except Exception:  # noqa: BLE001 - a line a front end cannot handle is simply not used
            return
        ids = [vocab[c] for c in ph if c in vocab]
        if 3 <= len(ids) <= MAX_TOKENS:
            sequences.append(ids)

    corpus = [(shared / "texts" / "en_dev.txt").read_text(encoding="utf-8")]
    corpus += [p.read_text(encoding="utf-8") for p in sorted((shared / "texts" / "scripts").glob("*"))
               if p.is_file()]
    bench = Path(__file__).resolve().parents[4] / "bench"
    for p in sorted((bench / "texts").glob("*.txt")) if (bench / "texts").is_dir() else []:
        corpus.append(p.read_text(encoding="utf-8"))
    real = [s for text in corpus for s in split_sentences(re.sub(r"<[^>]+>", " ", text))]
    design = shared / "DESIGN.md"  # prose for the vocabulary only: its sentences are full of markup
    if design.is_file():
        corpus.append(design.read_text(encoding="utf-8"))
    for s in real:
        add(s)
    gpu_sentences = bench / "gpu_sentences.py"
    if gpu_sentences.is_file():
        for s in re.findall(r'"([^"\n]{12,})"', gpu_sentences.read_text(encoding="utf-8")):
            add(s)
    vocabulary = sorted({w for text in corpus for w in _words(text)})
    for i in range(salads):
        n = rng.randint(4, 22)
        words = [rng.choice(vocabulary) for _ in range(n)]
        if i % 5 == 0:
            words.insert(rng.randrange(len(words)), str(rng.choice([rng.randint(0, 99), rng.randint(100, 99999)])))
        text = " ".join(words)
        text = text[0].upper() + text[1:] + rng.choice([".", ".", "?", "!", ","])
        add(text)
    tsv = shared / "texts" / "multilingual_dev.tsv"
    if tsv.is_file():
        for line in tsv.read_text(encoding="utf-8").splitlines()[1:]:
            parts = line.split("\t")
            if len(parts) >= 2 and parts[0] in {"es", "fr", "it", "pt", "hi", "ja", "zh"}:
                add(parts[-1], parts[0])
    out.mkdir(parents=True, exist_ok=True)
    (out / "tokens.json").write_text(json.dumps(sequences))

    voices = shipped_voices()
    names = sorted(voices)
    tables = np.stack([voices[n].style for n in names]).astype(np.float32)
    rows = []
    clips = sorted((shared / "voices" / "train").glob("*.flac"))[:clones]
    for clip in clips:
        audio, sr = sf.read(str(clip), dtype="float32", always_2d=False)
        audio = audio[: 8 * sr]  # 8 s identify a speaker well enough here, and keep this step to minutes
        rows.append(clone_voice(audio, sr, name=clip.stem, check=False).style[100])
    np.savez_compressed(out / "voices.npz", names=np.array(names), tables=tables,
                        clones=np.array(rows, np.float32).reshape(-1, 256))
    return {"sequences": len(sequences), "shipped": len(names), "clones": len(rows)}


@dataclass
class Pool:
    """Every rendered utterance, concatenated on the GPU; ``starts``/``frames`` index it per utterance."""

    x: object  # torch [512, N] float16: decoder features (80 per second)
    f0: object  # torch [N] float32, Hz
    audio: object  # torch [N * HOP] float32
    style: object  # torch [U, 128] timbre halves
    starts: object  # torch [U] long, first frame of each utterance in x
    frames: object  # torch [U] long

    def seconds(self) -> float:
        return float(self.frames.sum()) / 80.0


class TeacherPool:
    """Renders utterances with the torch Kokoro (eval, fp32) and samples training crops from them."""

    def __init__(self, model, tokens: list[list[int]], voices: dict[str, np.ndarray], seed: int = 0) -> None:
        self.model, self.tokens, self.seed = model, tokens, seed
        self.tables, self.clones = voices["tables"], voices["clones"]
        self.device = next(model.parameters()).device

    def _style(self, rng: np.random.Generator, n_tokens: int) -> np.ndarray:
        row = min(n_tokens, self.tables.shape[1] - 1)
        shipped = self.tables[:, row]
        kind = rng.random()
        if kind < 0.3 or len(self.clones) == 0:
            return shipped[rng.integers(len(shipped))]
        if kind < 0.55:
            a, b = rng.choice(len(shipped), 2, replace=False)
            w = rng.uniform(0.2, 0.8)
            return w * shipped[a] + (1 - w) * shipped[b]
        if kind < 0.7:
            spread = shipped.std(axis=0) + 1e-3
            return shipped[rng.integers(len(shipped))] + rng.normal(0, 0.6, 256) * spread
        return self.clones[rng.integers(len(self.clones))]

    def render(self, seconds: float, batch_frames: int = 12_000, log=print):
        """A :class:`Pool` of about ``seconds`` of teacher audio."""
        import torch

        from ...engine.torch_kokoro import ops
        from ...engine.torch_kokoro.model import expand_to_frames, upsample_mask

        rng = np.random.default_rng(self.seed)
        model, dev = self.model, self.device
        xs, f0s, audios, styles, frames_all = [], [], [], [], []
        total, t_batches = 0.0, 0
        order = rng.permutation(len(self.tokens))
        cursor = 0
        batches: list[list[int]] = []
        while total < seconds:
            if not batches:  # sort the next 256 sentences by length and cut them into batches of ~batch_frames
                window = sorted((order[(cursor + i) % len(order)] for i in range(256)),
                                key=lambda i: len(self.tokens[i]))
                cursor += 256
                while window:
                    n = 1  # rows sorted by length: the batch's longest is its last
                    while n < len(window) and (n + 1) * (2.8 * len(self.tokens[window[n]]) + 10) <= batch_frames:
                        n += 1
                    batches.append(window[:n])
                    window = window[n:]
            idx = batches.pop(0)
            seqs = [self.tokens[i] for i in idx]
            lengths = torch.tensor([len(s) + 2 for s in seqs], device=dev)
            tok = torch.zeros(len(seqs), int(lengths.max()), dtype=torch.long, device=dev)
            for r, s in enumerate(seqs):
                tok[r, 1: len(s) + 1] = torch.tensor(s, device=dev)
            style = torch.tensor(np.stack([self._style(rng, len(s)) for s in seqs]), dtype=torch.float32,
                                 device=dev)
            speed = torch.tensor(rng.uniform(0.8, 1.25, len(seqs)), dtype=torch.float32, device=dev)
            pitch = torch.tensor(np.exp(rng.normal(0, 0.12, len(seqs))), dtype=torch.float32, device=dev)
            with torch.inference_mode():
                d, t_en, dur = model.text_side(tok, style, speed, lengths)
                en, asr, fr = expand_to_frames(d, t_en, dur)
                mask = ops.keep(fr, en.shape[-1])
                s_t, s_p = style[:, :128], style[:, 128:]
                f0, energy = model.predictor.f0_energy(en, s_p, mask)
                f0 = f0 * pitch[:, None]
                dec = model.decoder
                x = dec.features(asr, f0, energy, s_t, mask)
                f0_mask = upsample_mask(mask, 2)
                audio = dec.generator(x, s_t, dec.generator.excitation(f0, None, f0_mask), f0_mask)
            for r in range(len(seqs)):
                L = int(fr[r]) * 2
                xs.append(x[r, :, :L].half())
                f0s.append(f0[r, :L].float())
                audios.append(audio[r, : L * 300].float())
                styles.append(s_t[r])
                frames_all.append(L)
                total += L / 80.0
            t_batches += 1
            if t_batches % 10 == 0:
                log(f"teacher: {total:.0f} s of audio rendered")
        starts = np.concatenate([[0], np.cumsum(frames_all)[:-1]])
        return Pool(x=torch.cat(xs, dim=1), f0=torch.cat(f0s), audio=torch.cat(audios), style=torch.stack(styles),
                    starts=torch.tensor(starts, device=dev), frames=torch.tensor(frames_all, device=dev))


def sample_crops(pool: Pool, batch: int, frames: int, generator=None):
    """Random crops of ``frames`` F0 frames: (x [B, 512, frames], f0 [B, frames], audio [B, frames*300], style)."""
    import torch

    ok = pool.frames >= frames
    weights = (pool.frames - frames + 1).clamp(min=0).float() * ok
    utt = torch.multinomial(weights, batch, replacement=True, generator=generator)
    span = (pool.frames[utt] - frames + 1).float()
    offset = (torch.rand(batch, device=span.device, generator=generator) * span).long()
    first = pool.starts[utt] + offset  # [B]
    fidx = first[:, None] + torch.arange(frames, device=first.device)[None, :]
    x = pool.x[:, fidx].permute(1, 0, 2).float()
    hop = 300
    sidx = first[:, None] * hop + torch.arange(frames * hop, device=first.device)[None, :]
    return x, pool.f0[fidx], pool.audio[sidx], pool.style[utt]


def split_tokens(tokens: list[list[int]], held_out: int = 24, seed: int = 0) -> tuple[list, list]:
    rng = random.Random(seed)
    order = list(range(len(tokens)))
    rng.shuffle(order)
    held = {i for i in order[:held_out]}
    return [t for i, t in enumerate(tokens) if i not in held], [t for i, t in enumerate(tokens) if i in held]

