"""Second opinions on speaker identity, independent of Resemblyzer.

    python bench/speaker_views.py        # verification quality of each view on shared/voices, markdown table

Why: clones are now optimised by gradient against Resemblyzer (:func:`limelight.check.speaker.embed_speaker`), so a
rising Resemblyzer score alone no longer shows that a clone moved toward the speaker; it may only have found the
encoder's blind spots. No other speaker-verification model is available offline, so this module builds two
representations from what is at hand, neither of which shares weights or features with Resemblyzer:

1. :func:`whisper_embedding`: statistics pooling (mean and standard deviation per channel) of the Whisper base
   encoder states, the x-vector recipe on top of an ASR encoder. Whisper was trained to *ignore* the speaker, but
   its encoder states still carry much timbre; pooling over time removes most of the words.
2. :func:`acoustic_profile`: a classic, non-neural vector: long-term average spectrum of the voiced frames (vocal
   tract and voice quality) plus median F0 and F0 spread (Praat). Nothing to fool by gradient through a network.

Measured by :func:`main` (5 dev speakers, 225 same-speaker pairs, 3770 same-gender stranger pairs), EER:
Resemblyzer 1.7 %, Whisper stats 12.0 %, acoustic profile 12.9 %. The two views are far weaker verifiers than
Resemblyzer, so use them for direction (did the clone move toward the speaker relative to a stranger baseline, in
normalised similarity), not as absolute scores; their raw cosines sit on a different scale (Whisper's same-speaker
cosine is only ~0.25, strangers ~0), which normalised similarity cancels out.

Both are standardised per dimension with a mean/std fixed once from the 150 speakers of shared/voices/train (so
that cosines measure deviations from an average speaker, not the shared offset every voice has) and L2-normalised,
so a cosine of two views compares like Resemblyzer's. :func:`main` measures how well each separates same-speaker
pairs from same-gender strangers, which says how much weight its opinion deserves.
"""

from __future__ import annotations

import csv
import os
import sys
import threading
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import soundfile as sf

SHARED = Path(os.environ.get("LIMELIGHT_SHARED", Path(__file__).resolve().parents[2] / "shared"))
VOICES = SHARED / "voices"

RATE = 16_000
WHISPER_SECONDS = 30  # the encoder always sees a 30 s window (3000 mel frames, padded)
WHISPER_FRAMES = 1500  # encoder frames per window: 50 per second
SAMPLES_PER_ENCODER_FRAME = RATE // 50

LTAS_BANDS = 32
LTAS_FMIN, LTAS_FMAX = 80.0, 7600.0
LTAS_NFFT = 512  # 32 ms
HOP = 160  # 10 ms
F0_FLOOR, F0_CEILING = 60.0, 450.0
MIN_VOICED_FRAMES = 20

Extractor = Callable[[np.ndarray, int], np.ndarray]


# --- Whisper encoder statistics -------------------------------------------------------------------------------


def _to_16k(audio: np.ndarray, sr: int) -> np.ndarray:
    from limelight.check.speaker import resample

    return resample(np.asarray(audio, np.float32).reshape(-1), sr, RATE)


_encode_lock = threading.Lock()


def whisper_states(audio: np.ndarray, sr: int) -> np.ndarray:
    """Whisper base encoder output over the speech part only: (frames, 512), 50 frames per second of audio.

    The encoder input is always padded to 30 s; the frames past the audio's end only encode that padding (and
    would make a short clip look like any other short clip), so they are cut off. Audio over 30 s: first 30 s.
    """
    import ctranslate2
    from faster_whisper.audio import pad_or_trim

    from limelight.check.asr import shared_transcriber

    pcm = _to_16k(audio, sr)[: WHISPER_SECONDS * RATE]
    # Transcriber keeps its faster_whisper.WhisperModel private; its ``.model`` is the ctranslate2 Whisper.
    wm = shared_transcriber()._model
    # The model's own extractor (n_mels from its preprocessor config); ``[..., :-1]`` and padding to 3000 frames
    # as faster-whisper does before encoding.
    feats = pad_or_trim(wm.feature_extractor(pcm)[..., :-1])
    view = ctranslate2.StorageView.from_array(np.ascontiguousarray(feats[None], np.float32))
    with _encode_lock:
        out = np.array(wm.model.encode(view, to_cpu=True), np.float32)  # (1, 1500, 512), copied off the view
    n = int(np.clip(np.ceil(len(pcm) / SAMPLES_PER_ENCODER_FRAME), 1, WHISPER_FRAMES))
    return out[0, :n]


def whisper_pooled(audio: np.ndarray, sr: int) -> np.ndarray:
    """Unstandardised 1024-d vector: per-channel mean and standard deviation of :func:`whisper_states`."""
    h = whisper_states(audio, sr).astype(np.float64)
    return np.concatenate([h.mean(axis=0), h.std(axis=0)])


def whisper_embedding(audio: np.ndarray, sr: int) -> np.ndarray:
    """Unit 1024-d speaker vector from Whisper encoder statistics, standardised with the train/ speakers."""
    return _standardise(whisper_pooled(audio, sr), *train_stats("whisper"))


# --- classic acoustic profile ----------------------------------------------------------------------------------


@cache
def _mel_filters() -> np.ndarray:
    """(LTAS_BANDS, LTAS_NFFT // 2 + 1) triangular filters, equally spaced on the mel scale, unit area."""
    mel = np.linspace(_hz_to_mel(LTAS_FMIN), _hz_to_mel(LTAS_FMAX), LTAS_BANDS + 2)
    edges = 700.0 * (10 ** (mel / 2595.0) - 1.0)
    freqs = np.fft.rfftfreq(LTAS_NFFT, 1.0 / RATE)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    tri = np.maximum(0.0, np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)))
    return tri / np.maximum(tri.sum(axis=1, keepdims=True), 1e-12)


def _hz_to_mel(f: float) -> float:
    return float(2595.0 * np.log10(1.0 + f / 700.0))


def _frames(wav: np.ndarray, size: int) -> np.ndarray:
    """(n, size) frames centred every 10 ms (frame i centred at i * 10 ms), zero padded at the ends."""
    padded = np.pad(wav, (size // 2, size // 2))
    n = 1 + (len(padded) - size) // HOP
    return padded[np.arange(size)[None, :] + HOP * np.arange(n)[:, None]]


def _active(frames: np.ndarray) -> np.ndarray:
    """Energy activity: within 35 dB of the loudest frames and 10 dB above the noise floor."""
    db = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    return db > max(float(np.percentile(db, 95)) - 35.0, float(np.percentile(db, 10)) + 10.0)


def pitch_track(wav: np.ndarray) -> np.ndarray:
    """F0 in Hz every 10 ms (frame i at i * 10 ms), 0 where unvoiced. Praat's autocorrelation method when
    parselmouth is importable (robust voicing decisions), else a plain normalised autocorrelation."""
    n = 1 + len(wav) // HOP
    try:
        import parselmouth
    except ImportError:
        return _autocorr_pitch(wav)[:n]
    pitch = parselmouth.Sound(wav.astype(np.float64), RATE).to_pitch_ac(
        time_step=HOP / RATE, pitch_floor=F0_FLOOR, pitch_ceiling=F0_CEILING)
    f0 = np.asarray(pitch.selected_array["frequency"], np.float64)
    times = np.asarray(pitch.xs(), np.float64)
    out = np.zeros(n)
    idx = np.round(times * RATE / HOP).astype(int)
    ok = (idx >= 0) & (idx < n)
    out[idx[ok]] = f0[ok]
    return out


def _autocorr_pitch(wav: np.ndarray) -> np.ndarray:
    """Fallback F0: peak of the normalised autocorrelation (40 ms frames) in the F0 range, voiced above 0.45."""
    size = 640
    frames = _frames(wav.astype(np.float64), size)
    window = np.hanning(size)
    frames = (frames - frames.mean(axis=1, keepdims=True)) * window
    spec = np.fft.rfft(frames, 2 * size, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, :size]
    ac /= np.maximum(ac[:, :1], 1e-12)
    # Divide by the window's own autocorrelation (Boersma 1993), else the taper favours short lags (high F0).
    ac_w = np.fft.irfft(np.abs(np.fft.rfft(window, 2 * size)) ** 2)[:size]
    ac /= np.maximum(ac_w / ac_w[0], 1e-3)
    lo, hi = int(RATE / F0_CEILING), int(RATE / F0_FLOOR)
    lag = lo + np.argmax(ac[:, lo:hi], axis=1)
    peak = ac[np.arange(len(ac)), lag]
    return np.where((peak > 0.45) & _active(frames), RATE / lag, 0.0)


def acoustic_features(audio: np.ndarray, sr: int) -> np.ndarray:
    """Unstandardised profile: LTAS_BANDS level-normalised mel-band dB of the voiced frames (active frames when
    fewer than MIN_VOICED_FRAMES are voiced), then median F0 and F0 spread, both in semitones."""
    wav = _to_16k(audio, sr).astype(np.float64)
    frames = _frames(wav, LTAS_NFFT)
    f0 = pitch_track(wav)
    f0 = np.pad(f0, (0, max(0, len(frames) - len(f0))))[: len(frames)]
    keep = f0 > 0
    if keep.sum() < MIN_VOICED_FRAMES:
        keep = _active(frames)
    if not keep.any():
        keep = np.ones(len(frames), bool)
    power = np.abs(np.fft.rfft(frames[keep] * np.hanning(LTAS_NFFT), axis=1)) ** 2
    ltas = 10 * np.log10(power.mean(axis=0) @ _mel_filters().T + 1e-12)
    ltas -= ltas.mean()  # level-normalised: only the spectral shape counts
    st = 12 * np.log2(f0[f0 > 0]) if (f0 > 0).any() else np.array([12 * np.log2(120.0)])
    q25, q50, q75 = np.percentile(st, [25, 50, 75])
    return np.concatenate([ltas, [q50, (q75 - q25) / 1.349]])


def acoustic_profile(audio: np.ndarray, sr: int) -> np.ndarray:
    """Unit (LTAS_BANDS + 2)-d classic speaker vector, standardised with the train/ speakers.

    Plain concatenation: every standardised dimension weighs the same. Measured on shared/voices, giving the two
    pitch values as much weight as all 32 bands together was worse (EER 16 % against 12.9 %): F0 alone separates
    same-gender speakers poorly (EER 31 %), the spectrum shape does most of the work (13.8 % alone).
    """
    return _standardise(acoustic_features(audio, sr), *train_stats("acoustic"))


# --- standardisation with train/ statistics --------------------------------------------------------------------

_RAW: dict[str, Extractor] = {"whisper": whisper_pooled, "acoustic": acoustic_features}
_file_cache: dict[tuple[str, str], np.ndarray] = {}


def load_clip(path: Path) -> tuple[np.ndarray, int]:
    audio, sr = sf.read(path, dtype="float32", always_2d=True)
    return audio.mean(axis=1), int(sr)


def file_vector(fn: Extractor, path: Path) -> np.ndarray:
    """``fn`` of a clip on disk, memoised in memory per (function, path)."""
    key = (fn.__qualname__, str(path))
    if key not in _file_cache:
        _file_cache[key] = fn(*load_clip(path))
    return _file_cache[key]


def load_manifest() -> list[dict[str, str]]:
    with open(VOICES / "manifest.csv") as fh:
        return list(csv.DictReader(fh))


@cache
def train_stats(view: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and std of the unstandardised ``view`` ("whisper" or "acoustic") over the 150 train/
    clips. Computed on first use (Whisper: one encoder pass per clip), then kept for the process."""
    fn = _RAW[view]
    x = np.stack([file_vector(fn, VOICES / r["file"]) for r in load_manifest() if r["file"].startswith("train/")])
    std = x.std(axis=0)
    return x.mean(axis=0), np.maximum(std, 1e-3 * float(np.median(std)) + 1e-12)


def _standardise(x: np.ndarray, mean: np.ndarray, std: np.ndarray, normalise: bool = True) -> np.ndarray:
    z = (np.asarray(x, np.float64) - mean) / std
    return (z / max(float(np.linalg.norm(z)), 1e-12)).astype(np.float32) if normalise else z


# --- verification quality on the real data ---------------------------------------------------------------------


def equal_error_rate(same: np.ndarray, stranger: np.ndarray) -> float:
    """EER of accepting a pair when its cosine is ≥ t: the rate where false rejects equal false accepts."""
    same, stranger = np.sort(same), np.sort(stranger)
    t = np.concatenate([same, stranger])
    frr = np.searchsorted(same, t, side="left") / len(same)
    far = 1.0 - np.searchsorted(stranger, t, side="left") / len(stranger)
    i = int(np.argmin(np.abs(far - frr)))
    return float((far[i] + frr[i]) / 2)


def verification_pairs(emb: Callable[[Path], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Cosines of same-speaker pairs (each dev clip vs the speaker's other clips, each pair once) and of strangers
    (each dev clip vs every train/ clip of the same gender)."""
    rows = load_manifest()
    dev: dict[str, list[Path]] = {}
    gender: dict[str, str] = {}
    for r in rows:
        if r["file"].startswith("dev/"):
            dev.setdefault(r["speaker"], []).append(VOICES / r["file"])
            gender[r["speaker"]] = r["gender"]
    train = {g: np.stack([emb(VOICES / r["file"]) for r in rows if r["file"].startswith("train/") and r["gender"] == g])
             for g in set(gender.values())}
    same: list[float] = []
    stranger: list[float] = []
    for spk, paths in sorted(dev.items()):
        e = np.stack([emb(p) for p in paths])
        sims = e @ e.T
        same += list(sims[np.triu_indices(len(paths), 1)])
        stranger += list((e @ train[gender[spk]].T).ravel())
    return np.asarray(same), np.asarray(stranger)


def main() -> None:
    from limelight.check.speaker import embed_speaker

    views: dict[str, Extractor] = {"Resemblyzer (256-d)": embed_speaker,
                                   "Whisper-base encoder stats (1024-d)": whisper_embedding,
                                   f"acoustic profile ({LTAS_BANDS + 2}-d)": acoustic_profile}
    print("| view | same-speaker cos | stranger cos (same gender) | gap | EER | s / clip |")
    print("|---|---|---|---|---|---|")
    for name, fn in views.items():
        t0 = time.perf_counter()
        same, stranger = verification_pairs(lambda p, fn=fn: file_vector(fn, p))
        per_clip = (time.perf_counter() - t0) / 200
        print(f"| {name} | {same.mean():.3f} | {stranger.mean():.3f} | {same.mean() - stranger.mean():.3f} "
              f"| {100 * equal_error_rate(same, stranger):.1f} % | {per_clip:.2f} |", flush=True)
    print(f"\n{len(same)} same-speaker pairs (5 dev speakers × 45), {len(stranger)} same-gender stranger pairs; "
          "s / clip includes computing the train/ standardisation stats.", file=sys.stderr)


if __name__ == "__main__":
    main()
