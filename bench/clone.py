"""Cloning benchmark: clone each dev speaker from one clip, score against the speaker's *other* clips.

    python bench/clone.py [--methods nearest,bank,encoder,blend,enroll] [--speakers 5] [--sentences 2]

For every speaker in shared/voices/dev the first clip is the reference and the other nine are the targets.
Per method the clone speaks ``--sentences`` sentences of shared/texts/en_dev.txt (not ones the encoder was
trained on); the joined audio is embedded and compared with each target clip. Printed per speaker:

- raw cosines: clone↔targets, reference↔targets (``real``), same-gender strangers↔targets (``stranger``:
  mean over the shared/voices/train speakers of that gender),
- normalised similarity ``(clone − stranger) / (real − stranger)`` (0 = stranger, 1 = second recording),
- WER of Whisper base on the clone's sentences, and the time to make the voice from the reference;
- with ``--views``, the same normalised similarity under two verifiers that share nothing with Resemblyzer
  (``bench/speaker_views.py``: Whisper-base encoder statistics, a classic acoustic profile). Enrollment
  optimises Resemblyzer by gradient, so a clone that only moved into its blind spots shows up here as a
  Resemblyzer gain without a gain in the other two.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from dataclasses import dataclass, replace
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
    views: dict[str, float] | None = None  # view → normalised similarity (``--views``)

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


VIEW_NAMES = {"whisper": "whisper_embedding", "acoustic": "acoustic_profile"}


def _view(name: str):
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import speaker_views

    return getattr(speaker_views, VIEW_NAMES[name]), speaker_views


def view_baselines(ref: Path, targets: list[Path], strangers: list[Path]) -> dict[str, tuple[float, float]]:
    """Per view: (real, stranger) mean cosines to the targets, the two ends of its normalised scale."""
    out = {}
    for name in VIEW_NAMES:
        fn, sv = _view(name)
        t = np.stack([sv.file_vector(fn, p) for p in targets])
        real = float(np.mean(t @ sv.file_vector(fn, ref)))
        stranger = float(np.mean(np.stack([sv.file_vector(fn, p) for p in strangers]) @ t.T))
        out[name] = (real, stranger)
    return out


def normalised_in_view(name: str, audio: np.ndarray, sr: int, targets: list[Path], real: float,
                       stranger: float) -> float:
    fn, sv = _view(name)
    v = fn(audio, sr)
    clone = float(np.mean([v @ sv.file_vector(fn, p) for p in targets]))
    return (clone - stranger) / (real - stranger)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default="nearest,bank,encoder,blend")
    ap.add_argument("--speakers", type=int, default=5)
    ap.add_argument("--sentences", type=int, default=2)
    ap.add_argument("--only", help="comma-separated speaker ids (default: the first --speakers)")
    ap.add_argument("--enroll-budget", type=float, default=120.0)
    ap.add_argument("--enroll-method", choices=["auto", "gradient", "search"], default="auto",
                    help="enrollment by gradient (needs torch) or by search (default: gradient when torch is there)")
    ap.add_argument("--no-wer", action="store_true")
    ap.add_argument("--no-colour", action="store_true",
                    help="clones without their calibration (the reference-matching equaliser, limelight.voice.colour, "
                    "and pitch offset)")
    ap.add_argument("--views", action="store_true",
                    help="also score with the Whisper-stats and acoustic-profile views (bench/speaker_views.py)")
    ap.add_argument("--decoder", choices=["fast", "kokoro"], default=None,
                    help="Kokoro's waveform generator (default: the engine's default, the fast decoder)")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    ap.add_argument("--save-vectors", type=Path, metavar="NPZ",
                    help="write each clone's voice vector here (names 'METHOD/dev/<speaker>'): another run scores "
                    "them again with --vectors NAME=NPZ (from a run of one method), e.g. with --views, without "
                    "enrolling again")
    ap.add_argument("--vectors", action="append", default=[], metavar="NAME=FILE",
                    help="also score voice vectors from a file (names 'dev/<speaker>', e.g. the output of "
                    "python -m limelight.train.enrollment fit) as method NAME")
    args = ap.parse_args(argv)

    from limelight import Limelight
    from limelight.check.speaker import cosine, embed_speaker
    from limelight.check.wer import wer
    from limelight.voice.clone import calibrate, clone_voice

    rows_m = load_manifest()
    dev: dict[str, list[Path]] = {}
    gender: dict[str, str] = {}
    for r in rows_m:
        gender[r["speaker"]] = r["gender"]
        if r["file"].startswith("dev/"):
            dev.setdefault(r["speaker"], []).append(SHARED / "voices" / r["file"])
    stranger_files = {g: [SHARED / "voices" / r["file"] for r in rows_m
                          if r["file"].startswith("train/") and r["gender"] == g] for g in ("F", "M")}
    strangers = {g: [embed_file(f) for f in files] for g, files in stranger_files.items()}
    tts = Limelight(decoder=args.decoder)
    transcriber = None
    if not args.no_wer:
        from limelight.check.asr import shared_transcriber

        transcriber = shared_transcriber()
    sentences = eval_sentences(args.sentences)
    methods = args.methods.split(",")
    from limelight.voice.space import style_space

    given: dict[str, dict[str, np.ndarray]] = {}
    for spec in args.vectors:
        label, path = spec.split("=", 1)
        with np.load(path) as npz:  # names 'dev/<speaker>', or 'METHOD/dev/<speaker>' from --save-vectors
            given[label] = {str(n).split("/", 1)[-1] if str(n).count("/") == 2 else str(n): v
                            for n, v in zip(npz["names"], npz["vectors"], strict=True)}
        methods.append(label)
    shipped_cache: dict = {}
    saved: dict[str, np.ndarray] = {}
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
        view_base = view_baselines(ref_path, targets, stranger_files[g]) if args.views else {}
        for method in methods:
            t0 = time.perf_counter()
            if method == "nearest":
                voice = nearest_shipped(tts, ref_emb, shipped_cache)
            elif method in given:
                voice = style_space().voice(given[method][f"dev/{spk}"], name=f"{method}_{spk}")
                if not args.no_colour:
                    voice = calibrate(voice, ref_audio, ref_sr, tts.engine)
            elif method == "enroll":
                from limelight.voice.enroll import enroll_voice

                voice = enroll_voice(ref_audio, ref_sr, f"enroll_{spk}", budget_s=args.enroll_budget,
                                     engine=tts.engine, method=args.enroll_method)
                if args.no_colour:
                    voice = replace(voice, colour=(), pitch=0.0)
            else:
                voice = clone_voice(ref_audio, ref_sr, f"clone_{spk}", method=method, calibrated=not args.no_colour,
                                    engine=tts.engine)
            make_s = time.perf_counter() - t0
            audio, pieces = speak(tts, voice, sentences)
            e = embed_speaker(audio, tts.sample_rate)
            s_clone = float(np.mean([cosine(e, t) for t in t_emb]))
            w = float("nan")
            if transcriber is not None:
                w = float(np.mean([wer(s, transcriber.transcribe(p, tts.sample_rate))
                                   for s, p in zip(sentences, pieces, strict=True)]))
            views = {name: normalised_in_view(name, audio, tts.sample_rate, targets, *base)
                     for name, base in view_base.items()} or None
            row = Row(spk, g, method, s_clone, s_real, s_str, w, make_s, views)
            results.append(row)
            saved[f"{method}/dev/{spk}"] = style_space().vector(voice)
            print(f"{spk:>5} {g} {method:8s} norm {row.norm:+.3f}  clone {s_clone:.3f}  real {s_real:.3f}  "
                  f"stranger {s_str:.3f}  WER {w:.1%}  make {make_s:.2f}s"
                  + "".join(f"  {k} {v:+.3f}" for k, v in (views or {}).items()), file=sys.stderr, flush=True)

    print("\n| speaker | g | method | normalised | cos clone | cos real | cos stranger | WER | make s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r.speaker} | {r.gender} | {r.method} | {r.norm:.3f} | {r.s_clone:.3f} | {r.s_real:.3f} | "
              f"{r.s_stranger:.3f} | {r.wer:.1%} | {r.make_s:.2f} |")
    view_names = list(results[0].views or {}) if results else []
    print("\n| method | mean normalised | mean cos clone | mean WER | mean make s |"
          + "".join(f" {v} normalised |" for v in view_names))
    print("|---|---|---|---|---|" + "---|" * len(view_names))
    for m in methods:
        rs = [r for r in results if r.method == m]
        print(f"| {m} | {np.mean([r.norm for r in rs]):.3f} | {np.mean([r.s_clone for r in rs]):.3f} | "
              f"{np.mean([r.wer for r in rs]):.1%} | {np.mean([r.make_s for r in rs]):.2f} |"
              + "".join(f" {np.mean([(r.views or {})[v] for r in rs]):.3f} |" for v in view_names))
    if args.save_vectors:
        np.savez(args.save_vectors, names=np.array(list(saved)), vectors=np.stack(list(saved.values())))
    if args.json:
        args.json.write_text(json.dumps([{**r.__dict__, "norm": r.norm} for r in results], indent=2))


if __name__ == "__main__":
    main()
