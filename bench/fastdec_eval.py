"""Student (fast decoder) vs teacher (Kokoro's generator) on the same durations, F0 and frame features.

For every shipped voice and a few voices cloned from ``../shared/voices/dev``, each sentence of
``en_dev.txt`` goes through the cut Kokoro graph once; the teacher's audio is the full graph's output, the
student's is the fast decoder's, so both have exactly the same length and timing. Prints per voice:

* Whisper-base WER of each (the quality bar: student within 1 point of the teacher);
* speaker similarity student vs teacher (Resemblyzer cosine over all sentences; bar ≥ 0.95);
* F0 contour correlation (Praat, 10 ms frames voiced in both; bar ≥ 0.95), gross pitch errors (> 20 % off:
  creak the student does or does not reproduce, or tracker slips), the correlation over the other frames
  (fine contour), and voicing agreement;
* DNSMOS P.835 SIG/OVRL of each (bench/dnsmos.py; a predicted listener, when ``speechmos`` is installed);
* log-spectral distance and mel-cepstral distortion to the teacher (dB);
* decoder time per audio second for each path (the cut graph's time is shared and shown once).

    python bench/fastdec_eval.py [--sentences 20] [--clones 3] [--seeds 1] [--student PATH] [--json out.json]
                                 [--wavs DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import dnsmos
import numpy as np
import scipy.fft
import scipy.signal as ss

from limelight.audio.spectral import mel_filters
from limelight.check.asr import shared_transcriber
from limelight.check.speaker import embed_speaker
from limelight.check.wer import word_errors
from limelight.engine.fastdec.decoder import FastDecoder
from limelight.engine.kokoro import KokoroEngine, _session_options
from limelight.text.normalize import normalize
from limelight.train.acoustics import pitch_track

SHARED = Path(os.environ.get("LIMELIGHT_SHARED", Path(__file__).resolve().parents[2] / "shared"))
SR = 24_000


def lsd_db(a: np.ndarray, b: np.ndarray) -> float:
    spec = [20 * np.log10(np.abs(ss.stft(x, SR, nperseg=1024, noverlap=768)[2]) + 1e-4) for x in (a, b)]
    return float(np.abs(spec[0] - spec[1]).mean())


def mcd_db(a: np.ndarray, b: np.ndarray, n_mels: int = 40, n_ceps: int = 24) -> float:
    """Mel-cepstral distortion over frames with energy (c1..c24 of a log-mel DCT), the usual 10/ln10·√2 scale."""
    fb = mel_filters(1024, n_mels, SR)
    ceps = []
    for x in (a, b):
        mag = np.abs(ss.stft(x, SR, nperseg=1024, noverlap=768, boundary=None)[2])
        ceps.append(scipy.fft.dct(np.log(fb @ mag + 1e-8), axis=0, norm="ortho")[1: n_ceps + 1])
    energy = np.log(np.abs(ss.stft(a, SR, nperseg=1024, noverlap=768, boundary=None)[2]).sum(axis=0) + 1e-8)
    keep = energy > energy.max() - 8  # skip silence
    diff = (ceps[0] - ceps[1])[:, keep]
    return float(np.mean(10 / np.log(10) * np.sqrt(2 * np.sum(diff**2, axis=0))))


def f0_track(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frame times (s) and a 10 ms F0 track (0 = unvoiced): Praat's autocorrelation method when parselmouth is
    installed (robust to octave errors on the peaky pulse-train waveform), else limelight's own tracker."""
    try:
        import parselmouth
    except ImportError:
        f0 = pitch_track(x, SR)[0]
        return np.arange(f0.size) * 0.01 + 0.02, f0  # 40 ms frames hopped by 10 ms
    pitch = parselmouth.Sound(x.astype(np.float64), SR).to_pitch(time_step=0.01, pitch_floor=60, pitch_ceiling=500)
    return pitch.xs(), pitch.selected_array["frequency"]


def _f0(x: np.ndarray) -> np.ndarray:
    return f0_track(x)[1]


def f0_agreement(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float, int, float]:
    """Pearson r of F0 over frames voiced in both, gross pitch error rate (> 20 % off), voicing agreement,
    frame count, and r over the frames without a gross error (the fine contour).

    Pearson r in Hz is ruled by a few frames: on a low male voice 1 % of frames at half the F0 (the teacher's
    creak) take r from 0.99 to 0.88, so both numbers are printed."""
    return f0_agreement_tracks(_f0(a), _f0(b))


def f0_agreement_tracks(fa: np.ndarray, fb: np.ndarray) -> tuple[float, float, float, int, float]:
    """:func:`f0_agreement` of two F0 tracks already computed."""
    n = min(len(fa), len(fb))
    fa, fb = fa[:n], fb[:n]
    both = (fa > 0) & (fb > 0)
    either = (fa > 0) | (fb > 0)
    if both.sum() <= 3:
        return float("nan"), float("nan"), 0.0, int(both.sum()), float("nan")
    corr = float(np.corrcoef(fa[both], fb[both])[0, 1])
    gross = np.abs(fb[both] / fa[both] - 1) > 0.2
    fine = float(np.corrcoef(fa[both][~gross], fb[both][~gross])[0, 1])
    return corr, float(gross.mean()), float(both.sum() / max(1, either.sum())), int(both.sum()), fine


def en_dev(n: int) -> list[str]:
    """The first ``n`` sentences of ``shared/texts/en_dev.txt``."""
    return [s.strip() for s in (SHARED / "texts" / "en_dev.txt").read_text().splitlines() if s.strip()][:n]


def eval_voices(engine: KokoroEngine, shipped: bool, clones: int) -> dict:
    """The shipped voices (sorted) and zero-shot clones of the first ``clones`` dev speakers, from 10-20 s of
    reference as users give (uncalibrated: the decoders are compared, not the clone)."""
    voices = dict(sorted(engine.voices().items())) if shipped else {}
    if clones:
        import soundfile as sf

        from limelight.voice.clone import clone_voice

        for folder in sorted((SHARED / "voices" / "dev").iterdir())[:clones]:
            clips = [sf.read(str(c), dtype="float32") for c in sorted(folder.glob("*.flac"))[:3]]
            sr = clips[0][1]
            audio = np.concatenate([c[0] for c in clips])[: 20 * sr]
            voices[f"clone-{folder.name}"] = clone_voice(audio, sr, name=f"clone-{folder.name}", calibrated=False)
    return voices


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", type=int, default=20)
    ap.add_argument("--clones", type=int, default=3)
    ap.add_argument("--no-shipped", action="store_true", help="only the cloned voices")
    ap.add_argument("--student", type=Path, default=None, help="student ONNX (default: the packaged one)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seeds", type=int, default=1,
                    help="also transcribe the student with noise seeds 1..N-1 and report the mean WER over seeds "
                         "(on 283 words one point is 3 words, inside the noise's own spread)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--wavs", type=Path, default=None, help="write teacher/student WAVs of sentence 1 here")
    args = ap.parse_args()
    threads = args.threads or (os.cpu_count() or 1)
    engine = KokoroEngine(threads=threads)
    fast = FastDecoder(engine.run_path, _session_options(threads), args.student)
    mos = None
    if dnsmos.available():
        mos = dnsmos.score
    else:
        print("(no DNSMOS: pip install --no-deps speechmos to add a predicted listener)")
    sentences = en_dev(args.sentences)
    voices = eval_voices(engine, not args.no_shipped, args.clones)
    asr = shared_transcriber()
    rows, t_front, t_teacher, t_student, seconds = [], 0.0, 0.0, 0.0, 0.0
    for name, voice in voices.items():
        teacher_all, student_all, errs = [], [], {"teacher": [0, 0], "student": [0, 0], "seeds": [0, 0]}
        scores: dict[str, list[dict[str, float]]] = {"teacher": [], "student": []}
        for i, text in enumerate(sentences):
            ids = engine.tokens(engine.phonemize(normalize(text)))
            feeds = {"tokens": np.array([[0, *ids, 0]], np.int64), "style": voice.row(len(ids)).astype(np.float32),
                     "speed": np.ones(1, np.float32)}
            t0 = time.perf_counter()
            teacher = engine._session.run(None, feeds)[0].reshape(-1).astype(np.float32)
            t1 = time.perf_counter()
            x, f0 = fast.features(feeds)
            t2 = time.perf_counter()
            student = fast.decode(x, f0, feeds["style"])
            t3 = time.perf_counter()
            t_teacher, t_front, t_student = t_teacher + t1 - t0, t_front + t2 - t1, t_student + t3 - t2
            seconds += teacher.size / SR
            for key, audio in (("teacher", teacher), ("student", student)):
                e, n = word_errors(text, asr.transcribe(audio, SR))
                errs[key][0] += e
                errs[key][1] += n
                if mos is not None:
                    scores[key].append(mos(audio, SR))
            for seed in range(1, args.seeds):
                e, n = word_errors(text, asr.transcribe(fast.decode(x, f0, feeds["style"], seed=seed), SR))
                errs["seeds"][0] += e
                errs["seeds"][1] += n
            teacher_all.append(teacher)
            student_all.append(student)
            if args.wavs is not None and i == 0:
                import soundfile as sf

                args.wavs.mkdir(parents=True, exist_ok=True)
                sf.write(str(args.wavs / f"{name}-teacher.wav"), teacher, SR)
                sf.write(str(args.wavs / f"{name}-student.wav"), student, SR)
        a, b = np.concatenate(teacher_all), np.concatenate(student_all)
        ea, eb = embed_speaker(a, SR), embed_speaker(b, SR)
        corr, gpe, agree, _, fine = f0_agreement(a, b)
        rows.append({"voice": name, "wer_teacher": errs["teacher"][0] / errs["teacher"][1],
                     "wer_student": errs["student"][0] / errs["student"][1],
                     "wer_student_seeds": (errs["student"][0] + errs["seeds"][0])
                     / (errs["student"][1] + errs["seeds"][1]),
                     "similarity": float(np.dot(ea, eb) / np.linalg.norm(ea) / np.linalg.norm(eb)),
                     "f0_corr": corr, "gpe": gpe, "f0_corr_fine": fine, "voicing_agree": agree,
                     "lsd_db": lsd_db(a, b), "mcd_db": mcd_db(a, b),
                     "level_db": float(10 * np.log10(np.mean(b**2) / np.mean(a**2)))})
        r = rows[-1]
        for key in ("teacher", "student"):
            for k in ("sig", "ovrl"):
                r[f"dnsmos_{k}_{key}"] = float(np.mean([x[k] for x in scores[key]])) if scores[key] else float("nan")
        seeds = f" (over {args.seeds} seeds {r['wer_student_seeds']:.2%})" if args.seeds > 1 else ""
        print(f"{name:18} WER {r['wer_teacher']:6.2%} → {r['wer_student']:6.2%}{seeds}  sim {r['similarity']:.3f}  "
              f"F0 r {r['f0_corr']:.3f} GPE {r['gpe']:.3f} fine r {r['f0_corr_fine']:.3f} "
              f"(voicing {r['voicing_agree']:.2f})  LSD {r['lsd_db']:.2f} dB  "
              f"MCD {r['mcd_db']:.2f} dB  level {r['level_db']:+.1f} dB  "
              f"DNSMOS OVRL {r['dnsmos_ovrl_teacher']:.2f} → {r['dnsmos_ovrl_student']:.2f} "
              f"SIG {r['dnsmos_sig_teacher']:.2f} → {r['dnsmos_sig_student']:.2f}", flush=True)
    anchors = {}
    if mos is not None:  # where the two decoders sit on DNSMOS's scale: Piper on the same text, real recordings
        from limelight.engine.piper import PiperEngine

        piper = PiperEngine(threads=threads)
        pv = piper.voices()[piper.default_voice]
        anchors["piper (same sentences)"] = float(np.mean([mos(piper.synthesize(t, pv), piper.sample_rate)["ovrl"]
                                                           for t in sentences]))
        import soundfile as sf

        clips = sorted((SHARED / "voices" / "dev").glob("*/*.flac"))[:: 5]
        anchors["LibriSpeech dev recordings"] = float(np.mean([mos(*sf.read(str(c)))["ovrl"] for c in clips]))
        print("DNSMOS OVRL anchors: " + ", ".join(f"{k} {v:.2f}" for k, v in anchors.items()))
    words = len(sentences)
    summary = {"sentences": words, "audio_s": seconds, "front_rtf": t_front / seconds,
               "teacher_rtf": t_teacher / seconds, "student_rtf": (t_front + t_student) / seconds,
               "student_decoder_only_rtf": t_student / seconds, "threads": threads}
    print(f"\naudio {seconds:.0f} s, {threads} threads: full Kokoro graph RTF {summary['teacher_rtf']:.3f}; "
          f"cut graph {summary['front_rtf']:.3f} + student {summary['student_decoder_only_rtf']:.3f} = "
          f"{summary['student_rtf']:.3f} ({summary['teacher_rtf'] / summary['student_rtf']:.1f}× faster)")
    keys = ("wer_teacher", "wer_student", "similarity", "f0_corr", "gpe", "f0_corr_fine", "lsd_db", "mcd_db",
            "dnsmos_ovrl_teacher", "dnsmos_ovrl_student")
    print("mean " + "  ".join(f"{k} {np.nanmean([r[k] for r in rows]):.4f}" for k in keys))
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "summary": summary, "dnsmos_anchors": anchors}, indent=1)
                             + "\n")


if __name__ == "__main__":
    main()
