"""Cloning benchmark: clone each dev speaker from one clip, score against the speaker's *other* clips.

    python bench/clone.py [--methods nearest,bank,encoder,blend,enroll] [--speakers 5] [--sentences 2]

For every speaker in shared/voices/dev the first clip is the reference and the other nine are the targets.
Per method the clone speaks ``--sentences`` sentences of shared/texts/en_dev.txt (not ones the encoder was
trained on); the joined audio is embedded and compared with each target clip. Printed per speaker:

- raw cosines: clone↔targets, reference↔targets (``real``), same-gender strangers↔targets (``stranger``:
  mean over the shared/voices/train speakers of that gender),
- normalised similarity ``(clone − stranger) / (real − stranger)`` (0 = stranger, 1 = second recording),
- WER of Whisper base on the clone's sentences, and the time to make the voice from the reference.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

SHARED = Path(os.environ.get("LIMELIGHT_SHARED", Path(__file__).resolve().parents[2] / "shared"))


@dataclass
class Row:
    speaker: str
    gender: str
    method: str
    s_clone: float
    s_real: float
    s_stranger: float
    wer: float
    make_s: float

    @property
    def norm(self) -> float:
        return (self.s_clone - self.s_stranger) / (self.s_real - self.s_stranger)


def load_manifest() -> list[dict[str, str]]:
    with open(SHARED / "voices" / "manifest.csv") as fh:
        return list(csv.DictReader(fh))


def embed_file(path: Path) -> np.ndarray:
    from limelight.check.speaker import embed_speaker

    audio, sr = sf.read(path, dtype="float32", always_2d=True)
    return embed_speaker(audio.mean(axis=1), sr)


def eval_sentences(n: int) -> list[str]:
    from limelight.train.voice_encoder import SENTENCES

    lines = [s.strip() for s in (SHARED / "texts" / "en_dev.txt").read_text().splitlines() if s.strip()]
    return [s for s in lines if s not in SENTENCES and not any(ch.isdigit() for ch in s)][:n]


def speak(tts, voice, sentences: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
    pieces = [tts.engine.synthesize(s, voice) for s in sentences]
    gap = np.zeros(int(0.25 * tts.sample_rate), np.float32)
    joined = np.concatenate([x for p in pieces for x in (p, gap)][:-1])
    return joined, pieces


def nearest_shipped(tts, ref_emb: np.ndarray, cache: dict) -> object:
    """The shipped voice whose own speech embeds closest to the reference."""
    from limelight.check.speaker import embed_speaker

    if not cache:
        for name, v in tts.voices().items():
            audio, _ = speak(tts, v, eval_sentences(1))
            cache[name] = (v, embed_speaker(audio, tts.sample_rate))
    return max(cache.values(), key=lambda ve: float(ve[1] @ ref_emb))[0]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default="nearest,bank,encoder,blend")
    ap.add_argument("--speakers", type=int, default=5)
    ap.add_argument("--sentences", type=int, default=2)
    ap.add_argument("--only", help="comma-separated speaker ids (default: the first --speakers)")
    ap.add_argument("--enroll-budget", type=float, default=120.0)
    ap.add_argument("--no-wer", action="store_true")
    ap.add_argument("--decoder", choices=["fast", "kokoro"], default=None,
                    help="Kokoro's waveform generator (default: the engine's default, the fast decoder)")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args(argv)

    from limelight import Limelight
    from limelight.check.speaker import cosine, embed_speaker
    from limelight.check.wer import wer
    from limelight.voice.clone import clone_voice

    rows_m = load_manifest()
    dev: dict[str, list[Path]] = {}
    gender: dict[str, str] = {}
    for r in rows_m:
        gender[r["speaker"]] = r["gender"]
        if r["file"].startswith("dev/"):
            dev.setdefault(r["speaker"], []).append(SHARED / "voices" / r["file"])
    strangers = {g: [embed_file(SHARED / "voices" / r["file"]) for r in rows_m
                     if r["file"].startswith("train/") and r["gender"] == g] for g in ("F", "M")}
    tts = Limelight(decoder=args.decoder)
    transcriber = None
    if not args.no_wer:
        from limelight.check.asr import shared_transcriber

        transcriber = shared_transcriber()
    sentences = eval_sentences(args.sentences)
    methods = args.methods.split(",")
    shipped_cache: dict = {}
    results: list[Row] = []
    chosen = args.only.split(",") if args.only else sorted(dev)[: args.speakers]
    for spk in chosen:
        files = sorted(dev[spk])
        # the reference: the first clip that is a valid reference (3–30 s); all the others are targets
        ref_path = next(f for f in files if 3.0 <= sf.info(f).duration <= 30.0)
        targets = [f for f in files if f != ref_path]
        ref_audio, ref_sr = sf.read(ref_path, dtype="float32")
        t_emb = [embed_file(p) for p in targets]
        ref_emb = embed_speaker(ref_audio, ref_sr)
        g = gender[spk]
        s_real = float(np.mean([cosine(ref_emb, t) for t in t_emb]))
        s_str = float(np.mean([[cosine(s, t) for t in t_emb] for s in strangers[g]]))
        for method in methods:
            t0 = time.perf_counter()
            if method == "nearest":
                voice = nearest_shipped(tts, ref_emb, shipped_cache)
            elif method == "enroll":
                from limelight.voice.enroll import enroll_voice

                voice = enroll_voice(ref_audio, ref_sr, f"enroll_{spk}", budget_s=args.enroll_budget)
            else:
                voice = clone_voice(ref_audio, ref_sr, f"clone_{spk}", method=method)
            make_s = time.perf_counter() - t0
            audio, pieces = speak(tts, voice, sentences)
            e = embed_speaker(audio, tts.sample_rate)
            s_clone = float(np.mean([cosine(e, t) for t in t_emb]))
            w = float("nan")
            if transcriber is not None:
                w = float(np.mean([wer(s, transcriber.transcribe(p, tts.sample_rate))
                                   for s, p in zip(sentences, pieces, strict=True)]))
            row = Row(spk, g, method, s_clone, s_real, s_str, w, make_s)
            results.append(row)
            print(f"{spk:>5} {g} {method:8s} norm {row.norm:+.3f}  clone {s_clone:.3f}  real {s_real:.3f}  "
                  f"stranger {s_str:.3f}  WER {w:.1%}  make {make_s:.2f}s", file=sys.stderr, flush=True)

    print("\n| speaker | g | method | normalised | cos clone | cos real | cos stranger | WER | make s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r.speaker} | {r.gender} | {r.method} | {r.norm:.3f} | {r.s_clone:.3f} | {r.s_real:.3f} | "
              f"{r.s_stranger:.3f} | {r.wer:.1%} | {r.make_s:.2f} |")
    print("\n| method | mean normalised | mean cos clone | mean WER | mean make s |")
    print("|---|---|---|---|---|")
    for m in methods:
        rs = [r for r in results if r.method == m]
        print(f"| {m} | {np.mean([r.norm for r in rs]):.3f} | {np.mean([r.s_clone for r in rs]):.3f} | "
              f"{np.mean([r.wer for r in rs]):.1%} | {np.mean([r.make_s for r in rs]):.2f} |")
    if args.json:
        args.json.write_text(json.dumps([{**r.__dict__, "norm": r.norm} for r in results], indent=2))


if __name__ == "__main__":
    main()
