"""Deep-clone benchmark on speakers the fit never saw: prepare here, fit (GPU or CPU), score here.

    python bench/clone_deep.py prep --split val --speakers 30 --out runs/deep/val    # CPU: Whisper, align, F0
    python bench/clone_deep.py fit --data runs/deep/val --out runs/deep/val [--device cuda]   # torch
    python bench/clone_deep.py eval --data runs/deep/val [--sentences 2]             # CPU: tables

**Split (fixed).** ``shared/voices/train`` speakers sorted by id: even positions are *fit* speakers (anything
tuned is tuned on them, and the MFCC verifier's normalisation statistics come from them), odd positions are
*validation* speakers, reported and never tuned on. ``--split dev`` takes the five dev speakers (earlier work
tuned zero-shot cloning on them, so they are reported separately). A train speaker has one clip of ≤ 10 s: its
first part (cut at the quietest 10 ms between 50 and 70 % of the clip) is the reference, the rest is the
"second recording" the clone is scored against; a dev speaker's reference is its first 3-30 s clip, scored
against its nine others.

**Two verifiers.** Resemblyzer (``limelight.check.speaker``; the zero-shot start's encoder was trained on it,
the adapter fit never sees it: it fits spectra of the real audio) and an MFCC-statistics verifier built here
(:func:`mfcc_vector`): cepstral-mean-normalised MFCCs c1-c19 and deltas of the speech frames, pooled as
standard deviations and the c1-c12 correlations, standardised per dimension with statistics of the *fit*
speakers' clips only. Nothing in limelight optimises it. Normalised similarity as in shared/voices/README.md:
(clone − stranger) / (real − stranger), strangers = all other same-gender train speakers.

Also per clone: WER (shipped Whisper) on the spoken sentences, median F0 difference to the reference (st),
speaking rate (words per second of speech) against the reference's, long-term spectrum distance to the
target clip (third-octave bands 100 Hz-7.6 kHz, level-normalised, RMS dB).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

try:
    import soundfile as sf
except ImportError:  # the GPU machine fits adapters from prepared arrays and reads no audio
    sf = None

SHARED = Path(os.environ.get("LIMELIGHT_SHARED", Path(__file__).resolve().parents[2] / "shared"))
VOICES = SHARED / "voices"


def manifest() -> list[dict[str, str]]:
    with open(VOICES / "manifest.csv") as fh:
        return list(csv.DictReader(fh))


def train_split() -> tuple[list[dict], list[dict]]:
    """(fit, validation) train speakers: sorted by id, even positions fit, odd positions validation."""
    rows = sorted((r for r in manifest() if r["file"].startswith("train/")), key=lambda r: int(r["speaker"]))
    return rows[0::2], rows[1::2]


def split_clip(audio: np.ndarray, sr: int) -> int | None:
    """Sample where a train clip is cut into reference and target (None: too short for both)."""
    n = len(audio) / sr
    if n < 6.0:
        return None
    frame = sr // 100
    lo, hi = int(0.5 * len(audio)) // frame, int(0.7 * len(audio)) // frame
    e = np.array([np.mean(audio[k * frame:(k + 1) * frame] ** 2) for k in range(lo, hi)])
    cut = (lo + int(np.argmin(e))) * frame
    return cut if cut / sr >= 3.0 and (len(audio) - cut) / sr >= 2.5 else None


# --- the MFCC-statistics verifier: limelight.check.cepstral (its norm statistics: the fit speakers) -------

def write_mfcc_norm(path: Path) -> None:
    """Measure the cepstral verifier's per-dimension mean/std on the fit speakers' clips (never val or dev)."""
    from limelight.check.cepstral import raw_vector

    fit, _ = train_split()
    vs = []
    for r in fit:
        a, sr = sf.read(VOICES / r["file"], dtype="float32")
        vs.append(raw_vector(a, sr))
    v = np.stack(vs)
    np.savez(path, mean=v.mean(0).astype(np.float32), std=(v.std(0) + 1e-6).astype(np.float32),
             speakers=np.array([r["speaker"] for r in fit]))


def mfcc_vector(audio: np.ndarray, sr: int) -> np.ndarray:
    from limelight.check.cepstral import cepstral_vector

    return cepstral_vector(audio, sr)


# --- prep ---------------------------------------------------------------------------------------------------

def speakers_for(split: str, n: int) -> list[dict]:
    """[{speaker, gender, ref: (file, start, end) , targets: [(file, start, end)]}] for a split."""
    out = []
    if split in ("dev", "dev3"):
        dev: dict[str, list[str]] = {}
        gender = {}
        for r in manifest():
            if r["file"].startswith("dev/"):
                dev.setdefault(r["speaker"], []).append(r["file"])
                gender[r["speaker"]] = r["gender"]
        for spk in sorted(dev)[:n]:
            files = sorted(dev[spk])
            ok = [f for f in files if 3.0 <= sf.info(VOICES / f).duration <= 30.0]
            refs = ok[:3] if split == "dev3" else ok[:1]  # dev3: three references (~30-50 s) for the dataset path
            out.append({"speaker": spk, "gender": gender[spk], "ref": (refs[0], 0, None),
                        "extra_refs": [(f, 0, None) for f in refs[1:]],
                        "targets": [(f, 0, None) for f in files if f not in refs]})
        return out
    fit, val = train_split()
    for r in (val if split == "val" else fit):
        a, sr = sf.read(VOICES / r["file"], dtype="float32")
        cut = split_clip(a, sr)
        if cut is None:
            continue
        out.append({"speaker": r["speaker"], "gender": r["gender"], "ref": (r["file"], 0, cut),
                    "targets": [(r["file"], cut, None)]})
        if len(out) >= n:
            break
    return out


def read_part(part) -> tuple[np.ndarray, int]:
    f, a, b = part
    audio, sr = sf.read(VOICES / f, dtype="float32", always_2d=True)
    return audio.mean(1)[a:b], sr


def cmd_prep(args) -> None:
    from limelight.voice.clone import clone_voice, default_engine
    from limelight.voice.deep import TranscriptError, prepare
    from limelight.voice.space import style_space

    eng = default_engine()
    args.out.mkdir(parents=True, exist_ok=True)
    for sp in speakers_for(args.split, args.speakers):
        dst = args.out / f"{sp['speaker']}.npz"
        if dst.is_file():
            continue
        t0 = time.perf_counter()
        audio, sr = read_part(sp["ref"])
        voice = clone_voice(audio, sr, f"zs_{sp['speaker']}", engine=eng)
        try:
            prepared = [prepare(audio, sr, voice, eng)]
            for part in sp.get("extra_refs", []):
                prepared.append(prepare(*read_part(part), voice, eng))
        except TranscriptError as exc:
            print(f"{sp['speaker']}: skipped ({exc})", flush=True)
            continue
        p = prepared[0]
        info = {**sp, "transcript": p.transcript.text, "align_cost": p.align_cost, "speed": p.speed,
                "pitch": voice.pitch, "colour": list(voice.colour), "ref_seconds": len(audio) / sr,
                "segments": len(prepared)}
        arrays = {}
        for k, q in enumerate(prepared):
            arrays.update({f"x{k}": q.segment.x.astype(np.float16), f"f0{k}": q.segment.f0,
                           f"audio{k}": q.segment.audio.astype(np.float16)})
        np.savez_compressed(dst, **arrays, fmax=p.segment.fmax, style=voice.row(100)[0, :128],
                            vector=style_space().vector(voice), info=np.frombuffer(json.dumps(info).encode(), np.uint8))
        print(f"{sp['speaker']} {sp['gender']} ref {len(audio) / sr:.1f} s, align cost {p.align_cost:.2f}, "
              f"{time.perf_counter() - t0:.1f} s: {p.transcript.text[:60]}", flush=True)


def load_item(path: Path):
    from limelight.voice.deep import Segment

    with np.load(path) as z:
        info = json.loads(bytes(z["info"]).decode())
        old = "x" in z.files  # one segment, written before references could be several
        segs = [Segment(x=z[f"x{k}"].astype(np.float32), f0=z[f"f0{k}"].astype(np.float32),
                        audio=z[f"audio{k}"].astype(np.float32), fmax=float(z["fmax"]))
                for k in ([""] if old else range(info.get("segments", 1)))]
        return segs, z["style"].astype(np.float32), z["vector"].astype(np.float32), info


CONFIGS = {
    "default": {},  # FitOptions(): since the selection below, the priors of "strong"
    "weak": {"prior": 1e-3, "style_prior": 0.05},  # the first default ("default" in the first GPU run)
    "strong": {"prior": 1e-2, "style_prior": 0.5},
    "long": {"prior": 1e-3, "style_prior": 0.05, "steps": 600},
    "rank8": {"rank": 8},
    "smoke": {"steps": 3},
}


def cmd_fit(args) -> None:
    import torch

    from limelight.train.adapter import FitOptions, fit_adapter
    from limelight.train.fastdec.train import load_student

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    torch.set_num_threads(args.threads)
    k, n = (int(v) for v in args.shard.split("/"))
    items = sorted(args.data.glob("*.npz"))[k::n]
    args.out.mkdir(parents=True, exist_ok=True)
    for cfg in args.configs.split(","):
        out = args.out / (f"adapters-{cfg}.npz" if n == 1 else f"adapters-{cfg}-{k}.npz")
        opts = FitOptions(**CONFIGS[cfg])
        blobs = {}
        t0 = time.perf_counter()
        for path in items:
            segs, style, _, info = load_item(path)
            student, _, _ = load_student(None, "cpu")
            ad, summary = fit_adapter(segs, style, opts, device, student=student)
            blobs[info["speaker"]] = np.frombuffer(ad.to_bytes(), np.uint8)
            print(json.dumps({"config": cfg, "speaker": info["speaker"], **summary}), flush=True)
            np.savez(out, **blobs)  # after every speaker: a run cut short keeps what it fitted
        print(f"{cfg}: {len(blobs)} adapters in {time.perf_counter() - t0:.0f} s -> {out}", flush=True)


# --- eval ---------------------------------------------------------------------------------------------------

def third_octave_db(audio: np.ndarray, sr: int) -> np.ndarray:
    centres = 100 * 2 ** (np.arange(0, 19) / 3)  # 100 Hz .. 6.4 kHz (top edge 7.2 kHz)
    x = np.asarray(audio, np.float64)
    f, p = _welch(x, sr)
    out = []
    for c in centres:
        band = (f >= c / 2 ** (1 / 6)) & (f < c * 2 ** (1 / 6))
        out.append(10 * np.log10(p[band].mean() + 1e-14))
    out = np.array(out)
    return out - out.mean()


def _welch(x, sr):
    from scipy.signal import welch

    return welch(x, sr, nperseg=2048)


def median_f0_st(audio: np.ndarray, sr: int) -> float:
    from limelight.voice.clone import median_semitones

    v = median_semitones(audio, sr)
    return float("nan") if v is None else v


def speech_seconds(audio: np.ndarray, sr: int) -> float:
    frame = sr // 100
    n = len(audio) // frame
    e = 10 * np.log10(np.mean(audio[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    return float((e > e.max() - 35).sum()) / 100


def cmd_eval(args) -> None:
    from dataclasses import replace

    from limelight.check.asr import shared_transcriber
    from limelight.check.speaker import embed_speaker
    from limelight.check.wer import wer
    from limelight.engine.fastdec.adapter import Adapter
    from limelight.voice.clone import calibrate, default_engine
    from limelight.voice.space import style_space

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from clone import eval_sentences

    eng = default_engine()
    asr = shared_transcriber()
    sentences = eval_sentences(args.sentences)
    adapters = {}
    for spec in args.adapters:
        label, path = spec.split("=", 1)
        for part in path.split(","):  # the shards of one run
            with np.load(part) as z:
                adapters.setdefault(label, {}).update({k: Adapter.from_bytes(bytes(z[k])) for k in z.files})
    rows_m = manifest()
    strangers = {g: [r for r in rows_m if r["file"].startswith("train/") and r["gender"] == g] for g in "FM"}
    stranger_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if args.cache and args.cache.is_file():  # the strangers' vectors, shared by runs over several splits
        with np.load(args.cache) as z:
            stranger_cache = {f: (z["res"][k], z["mfcc"][k]) for k, f in enumerate(z["files"])}

    def stranger_vecs(file: str):
        if file not in stranger_cache:
            a, sr = sf.read(VOICES / file, dtype="float32")
            stranger_cache[file] = (embed_speaker(a, sr), mfcc_vector(a, sr))
        return stranger_cache[file]

    def save_cache() -> None:
        if args.cache and stranger_cache:
            files = list(stranger_cache)
            np.savez(args.cache, files=np.array(files), res=np.stack([stranger_cache[f][0] for f in files]),
                     mfcc=np.stack([stranger_cache[f][1] for f in files]))

    results = []
    for path in sorted(args.data.glob("*.npz")):
        _, _, vector, info = load_item(path)
        spk, g = info["speaker"], info["gender"]
        ref, ref_sr = read_part(info["ref"])
        targets = [read_part(t) for t in info["targets"]]
        t_res = [embed_speaker(a, sr) for a, sr in targets]
        t_mf = [mfcc_vector(a, sr) for a, sr in targets]
        r_res, r_mf = embed_speaker(ref, ref_sr), mfcc_vector(ref, ref_sr)
        others = [stranger_vecs(r["file"]) for r in strangers[g] if r["speaker"] != spk]
        save_cache()
        base = {"res": (float(np.mean([r_res @ t for t in t_res])),
                        float(np.mean([[o[0] @ t for t in t_res] for o in others]))),
                "mfcc": (float(np.mean([r_mf @ t for t in t_mf])),
                         float(np.mean([[o[1] @ t for t in t_mf] for o in others])))}
        ref_st = median_f0_st(ref, ref_sr)
        ref_rate = len(info["transcript"].split()) / max(speech_seconds(ref, ref_sr), 0.5)
        target_ltas = np.mean([third_octave_db(a, sr) for a, sr in targets], axis=0)
        zs = style_space().voice(vector, name=f"zs_{spk}", colour=tuple(info["colour"]), pitch=info["pitch"])
        voices = {"zero-shot": zs}
        for label, ads in adapters.items():
            if spk in ads:
                deep = replace(zs, adapter=ads[spk], colour=(), pitch=0.0, name=f"deep_{spk}")
                voices[label] = calibrate(deep, ref, ref_sr, eng)
                if args.no_colour_too:
                    voices[label + "-nocolour"] = replace(voices[label], colour=())
        for method, voice in voices.items():
            pieces = [eng.synthesize(s, voice) for s in sentences]
            gap = np.zeros(int(0.25 * eng.sample_rate), np.float32)
            audio = np.concatenate([x for p in pieces for x in (p, gap)][:-1])
            sr = eng.sample_rate
            e_res, e_mf = embed_speaker(audio, sr), mfcc_vector(audio, sr)
            norm = {}
            for k, e, ts in (("res", e_res, t_res), ("mfcc", e_mf, t_mf)):
                real, strg = base[k]
                c = float(np.mean([e @ t for t in ts]))
                norm[k] = (c - strg) / (real - strg)
                norm[k + "_cos"] = c
            heard = [asr.transcribe(p, sr) for p in pieces]
            w = float(np.mean([wer(s, h) for s, h in zip(sentences, heard, strict=True)]))
            words = sum(len(s.split()) for s in sentences)
            row = {"speaker": spk, "gender": g, "method": method, **norm, "res_real": base["res"][0],
                   "res_stranger": base["res"][1], "mfcc_real": base["mfcc"][0], "mfcc_stranger": base["mfcc"][1],
                   "wer": w, "f0_diff_st": median_f0_st(audio, sr) - ref_st,
                   "rate_ratio": words / max(speech_seconds(audio, sr), 0.5) / ref_rate,
                   "ltas_db": float(np.sqrt(np.mean((third_octave_db(audio, sr) - target_ltas) ** 2)))}
            results.append(row)
            print(f"{spk:>5} {g} {method:14s} res {norm['res']:+.3f}  mfcc {norm['mfcc']:+.3f}  WER {w:.1%}  "
                  f"F0 {row['f0_diff_st']:+.1f} st  rate x{row['rate_ratio']:.2f}  LTAS {row['ltas_db']:.1f} dB",
                  file=sys.stderr, flush=True)
    methods = list(dict.fromkeys(r["method"] for r in results))
    print(f"\n{args.data.name}: {len({r['speaker'] for r in results})} speakers, {len(sentences)} sentences each\n")
    print("| method | Resemblyzer normalised | MFCC-CMN normalised | WER | |ΔF0| median st | rate ratio | LTAS dB |")
    print("|---|---|---|---|---|---|---|")
    for m in methods:
        rs = [r for r in results if r["method"] == m]
        print(f"| {m} | {np.mean([r['res'] for r in rs]):.3f} | {np.mean([r['mfcc'] for r in rs]):.3f} | "
              f"{np.mean([r['wer'] for r in rs]):.1%} | {np.nanmedian([abs(r['f0_diff_st']) for r in rs]):.1f} | "
              f"{np.mean([r['rate_ratio'] for r in rs]):.2f} | {np.mean([r['ltas_db'] for r in rs]):.1f} |")
    if args.per_speaker:
        print("\n| speaker | g | method | Res norm (cos clone/real/stranger) | MFCC norm (cos) | WER |")
        print("|---|---|---|---|---|---|")
        for r in results:
            print(f"| {r['speaker']} | {r['gender']} | {r['method']} | {r['res']:.2f} ({r['res_cos']:.3f}/"
                  f"{r['res_real']:.3f}/{r['res_stranger']:.3f}) | {r['mfcc']:.2f} ({r['mfcc_cos']:.3f}/"
                  f"{r['mfcc_real']:.3f}/{r['mfcc_stranger']:.3f}) | {r['wer']:.0%} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prep")
    p.add_argument("--split", choices=["fit", "val", "dev", "dev3"], default="val")
    p.add_argument("--speakers", type=int, default=8)
    p.add_argument("--out", type=Path, required=True)
    f = sub.add_parser("fit")
    f.add_argument("--data", type=Path, required=True)
    f.add_argument("--out", type=Path, required=True)
    f.add_argument("--device", default=None)
    f.add_argument("--configs", default="default", help=f"comma-separated of {', '.join(CONFIGS)}")
    f.add_argument("--shard", default="0/1", help="K/N: fit every N-th reference from the K-th (parallel runs)")
    f.add_argument("--threads", type=int, default=2)
    e = sub.add_parser("eval")
    e.add_argument("--data", type=Path, required=True)
    e.add_argument("--adapters", action="append", default=[], metavar="LABEL=NPZ")
    e.add_argument("--sentences", type=int, default=2)
    e.add_argument("--no-colour-too", action="store_true", help="also score each deep clone without its colour")
    e.add_argument("--per-speaker", action="store_true")
    e.add_argument("--json", type=Path)
    e.add_argument("--cache", type=Path, help="keep the strangers' verifier vectors in this .npz between runs")
    n = sub.add_parser("norm", help="write the cepstral verifier's normalisation (fit speakers only)")
    n.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "src" / "limelight" / "check"
                   / "data" / "cepstral_norm.npz")
    args = ap.parse_args(argv)
    if args.cmd == "norm":
        write_mfcc_norm(args.out)
        return
    {"prep": cmd_prep, "fit": cmd_fit, "eval": cmd_eval}[args.cmd](args)


if __name__ == "__main__":
    main()
