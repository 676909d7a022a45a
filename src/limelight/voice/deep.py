"""Deep clone: adapt the fast decoder itself to the reference (minutes on a CPU, closer than any style row).

Zero-shot cloning and enrollment move a point in Kokoro's 256-d style space and add a static equaliser; the
spectral envelope per sound (formants, vocal-tract length, breathiness) lives in the decoder, which they cannot
reach. Here the reference becomes training data:

1. **Transcript**: the shipped Whisper (or the caller's transcript). A transcript Whisper is unsure of (low
   mean log-probability, likely no speech, too few words for the length, not English) is refused with
   :class:`TranscriptError`: the alignment would teach the decoder the wrong sounds.
2. **Kokoro's features for those words**: the front end (the graph up to the generator) with the zero-shot
   clone's style, at the speed that makes its length the reference's.
3. **Alignment** (:func:`align`): DTW between the base decoder's rendering and the reference on
   mean-normalised MFCCs, then Kokoro's frame features warped onto the reference's timeline.
4. **The reference's own F0** (YIN), so each frame's envelope is learnt at the pitch it was spoken at.
5. **The fit** (:func:`limelight.train.adapter.fit_adapter`, torch): a LoRA-style adapter of the student decoder
   (~70 k numbers) against the real audio, then the usual colour and pitch calibration on top.

Inference needs no torch: the adapter is merged into a numpy copy of the student
(:mod:`limelight.engine.fastdec.adapter`) and saved inside the voice's library file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from math import gcd

import numpy as np
from scipy.signal import resample_poly

from ..engine.fastdec import dsp
from ..errors import LimelightError, VoiceError
from .voice import Voice

RATE = dsp.SAMPLE_RATE
HOP = dsp.HOP
MIN_LOGPROB = -0.8  # Whisper's mean token log-probability below this: the words are a guess
MAX_NO_SPEECH = 0.6
MIN_WORDS_PER_S = 0.8  # read speech is 2-3.5 words/s; far fewer means music, noise or a missed language
MAX_PIECE_TOKENS = 400
N_MFCC = 20


@dataclass
class Segment:
    """One aligned reference: what the student sees and what it should sound like."""

    x: np.ndarray  # [512, L] Kokoro frame features warped onto the reference's timeline
    f0: np.ndarray  # [L] the reference's F0 in Hz (0 where unvoiced)
    audio: np.ndarray  # [L * HOP] the reference at 24 kHz, level-matched to the base decoder
    fmax: float = 7600.0  # Hz: the top of the band the reference carries


class TranscriptError(VoiceError):
    """The reference's words cannot be trusted (or are missing), so the decoder cannot be fitted to it."""


@dataclass(frozen=True)
class Transcript:
    text: str
    source: str  # "whisper" or "given"
    avg_logprob: float = 0.0
    no_speech: float = 0.0
    language: str = "en"


def to_rate(audio: np.ndarray, sr: int, rate: int = RATE) -> np.ndarray:
    audio = np.asarray(audio, np.float64).reshape(-1)
    if sr == rate:
        return audio
    g = gcd(int(sr), rate)
    return resample_poly(audio, rate // g, int(sr) // g)


def transcribe_reference(audio: np.ndarray, sr: int, label: str = "reference") -> Transcript:
    """The shipped Whisper's transcript of ``audio``, refused with :class:`TranscriptError` when unreliable."""
    from ..check.asr import shared_transcriber

    pcm = to_rate(audio, sr, 16_000).astype(np.float32)
    tr = shared_transcriber()
    with tr._lock:
        segments, info = tr._model.transcribe(pcm, beam_size=5, vad_filter=False, temperature=0.0,
                                              condition_on_previous_text=False)
        segments = list(segments)
    text = " ".join(s.text.strip() for s in segments).strip()
    dur = len(pcm) / 16_000
    words = len(text.split())
    logprob = float(np.average([s.avg_logprob for s in segments], weights=[max(len(s.text), 1) for s in segments])
                    ) if segments else -10.0
    no_speech = float(np.mean([s.no_speech_prob for s in segments])) if segments else 1.0
    hint = ("; give its words with --transcript (or a dataset file 'audio|words'), or clone without --deep")
    if info.language != "en" and info.language_probability > 0.5:
        raise TranscriptError(f"{label}: Whisper hears {info.language!r}, not English; the deep clone is "
                              f"English-only for now{hint}", field="reference")
    if not text or no_speech > MAX_NO_SPEECH or words < MIN_WORDS_PER_S * dur or logprob < MIN_LOGPROB:
        raise TranscriptError(f"{label}: its transcript is unreliable ({words} words in {dur:.1f} s, "
                              f"mean log-probability {logprob:.2f}, no-speech {no_speech:.2f}: music, noise or "
                              f"unclear speech?){hint}", field="reference")
    return Transcript(text, "whisper", logprob, no_speech, info.language)


def trim_bounds(audio: np.ndarray, rate: int = RATE, floor_db: float = -40.0, margin_s: float = 0.08
                ) -> tuple[int, int]:
    """First and last sample of the speech (10 ms frames within ``floor_db`` of the loudest), plus a margin."""
    frame = rate // 100
    n = len(audio) // frame
    if n < 3:
        return 0, len(audio)
    e = 10 * np.log10(np.mean(audio[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    on = np.nonzero(e > e.max() + floor_db)[0]
    m = int(margin_s * rate)
    return max(0, on[0] * frame - m), min(len(audio), (on[-1] + 1) * frame + m)


def mfcc(audio: np.ndarray, fmax: float, rate: int = RATE) -> np.ndarray:
    """[frames, 2 * (N_MFCC - 1)]: MFCC c1.. and deltas at the decoder's hop, mean and variance normalised."""
    from scipy.fft import dct

    from ..audio import spectral

    spec = np.abs(dsp.stft(np.asarray(audio, np.float64))) ** 2  # [N_BINS, T]
    mel = spectral.mel_filters(dsp.N_FFT, 40, rate)
    top = int(fmax / rate * dsp.N_FFT)
    mel[:, top:] = 0.0
    mel = mel[mel.sum(1) > 0]
    c = dct(np.log(mel @ spec + 1e-8), type=2, axis=0, norm="ortho")[1:N_MFCC].T  # [T, 19]
    d = np.gradient(c, axis=0)
    f = np.concatenate([c, d], axis=1)
    return (f - f.mean(0)) / (f.std(0) + 1e-6)


def dtw_path(cost: np.ndarray) -> np.ndarray:
    """DTW path [(i, j)] through ``cost`` [I, J] with steps (1,1), (1,2), (2,1) (local slope 1/2..2).

    The slope limit keeps the warp plausible (no frame of Kokoro stretched over a whole pause), and with only
    those steps each row depends on the two before it, so a row is one vectorised numpy update.
    """
    n_i, n_j = cost.shape
    inf = np.inf
    acc = np.full((n_i, n_j), inf)
    move = np.zeros((n_i, n_j), np.int8)
    acc[0, 0] = cost[0, 0]
    for i in range(1, n_i):
        c = cost[i]
        cands = np.full((3, n_j), inf)
        cands[0, 1:] = acc[i - 1, :-1] + c[1:]  # diagonal, weight 2 on the new cell (symmetric form)
        cands[0, 1:] += c[1:]
        cands[1, 2:] = acc[i - 1, :-2] + 2 * c[1:-1] + c[2:]  # (1, 2): passes (i, j-1)
        if i >= 2:
            cands[2, 1:] = acc[i - 2, :-1] + 2 * cost[i - 1, 1:] + c[1:]  # (2, 1): passes (i-1, j)
        best = np.argmin(cands, axis=0)
        acc[i] = cands[best, np.arange(n_j)]
        move[i] = best
    i, j = n_i - 1, n_j - 1
    if not np.isfinite(acc[i, j]):
        raise VoiceError("could not align the reference with its transcript (lengths too different)",
                         field="reference")
    path = [(i, j)]
    while i > 0 or j > 0:
        m = move[i, j]
        if m == 0:
            i, j = i - 1, j - 1
        elif m == 1:
            path.append((i, j - 1))
            i, j = i - 1, j - 2
        else:
            path.append((i - 1, j))
            i, j = i - 2, j - 1
        path.append((i, j))
    return np.array(path[::-1])


@dataclass(frozen=True)
class Alignment:
    index: np.ndarray  # [J] fractional Kokoro frame per reference frame
    cost: float  # mean cosine distance of the aligned MFCC frames (0 identical, ~1 unrelated)


def align(kokoro_audio: np.ndarray, ref_audio: np.ndarray, fmax: float) -> Alignment:
    """Kokoro frame position for every reference frame (both at 24 kHz, hop HOP), by DTW on MFCCs."""
    a, b = mfcc(kokoro_audio, fmax), mfcc(ref_audio, fmax)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    cost = 1.0 - a @ b.T
    path = dtw_path(cost)
    n_j = b.shape[0]
    idx = np.zeros(n_j)
    for j in range(n_j):
        idx[j] = path[path[:, 1] == j, 0].mean()
    return Alignment(index=idx, cost=float(np.mean(cost[path[:, 0], path[:, 1]])))


def reference_f0(audio: np.ndarray, n_frames: int) -> np.ndarray:
    """The reference's F0 (YIN) at the decoder's frame centres; 0 where unvoiced."""
    from ..direct.dsp import track_f0

    tr = track_f0(audio.astype(np.float32), RATE)
    t = (np.arange(n_frames) + 0.5) * HOP / RATE
    k = np.clip(np.round(t / tr.hop_s).astype(int), 0, len(tr.f0) - 1)
    f0 = tr.f0[k].astype(np.float64)
    voiced = f0 > 0
    if voiced.sum() >= 2:  # interpolate log-F0 over the track, keep the voicing decision per frame
        src = np.arange(len(tr.f0))[tr.f0 > 0]
        f0 = np.exp(np.interp(t / tr.hop_s, src, np.log(tr.f0[tr.f0 > 0]))) * voiced
    return f0.astype(np.float32)


def _pieces(text: str, engine) -> list[list[int]]:
    """Token ids of ``text`` cut at sentence ends into pieces Kokoro takes (≤ MAX_PIECE_TOKENS)."""
    from ..text.sentences import split_sentences

    pieces: list[list[int]] = []
    for sentence in split_sentences(text) or [text]:
        ids = engine.tokens(engine.phonemize(sentence))
        if not ids:
            continue
        if pieces and len(pieces[-1]) + len(ids) + 1 <= MAX_PIECE_TOKENS:
            pieces[-1] = pieces[-1] + ids
        else:
            pieces.append(ids[:MAX_PIECE_TOKENS])
    return pieces


def _front(fast, pieces: list[list[int]], voice: Voice, speed: float) -> tuple[np.ndarray, np.ndarray]:
    xs, fs = [], []
    for ids in pieces:
        feeds = {"tokens": np.array([[0, *ids, 0]], np.int64), "style": voice.row(len(ids)).astype(np.float32),
                 "speed": np.array([speed], np.float32)}
        x, f0 = fast.features(feeds)
        xs.append(x)
        fs.append(f0)
    return np.concatenate(xs, axis=-1), np.concatenate(fs, axis=-1)


@dataclass
class Prepared:
    segment: Segment
    transcript: Transcript
    align_cost: float
    speed: float
    seconds: float


def fast_decoder(engine):  # -> FastDecoder
    fast = getattr(engine, "_fast", None)
    if fast is None:
        raise LimelightError("a deep clone needs Kokoro with the fast decoder (decoder='fast')", field="decoder")
    return fast


def prepare(audio: np.ndarray, sr: int, voice: Voice, engine, transcript: str | None = None,
            label: str = "reference") -> Prepared:
    """One reference → aligned training data for the adapter (a few seconds on two cores, Whisper included)."""
    t0 = time.perf_counter()
    tr = (Transcript(transcript.strip(), "given") if transcript and transcript.strip()
          else transcribe_reference(audio, sr, label))
    fast = fast_decoder(engine)
    ref = to_rate(audio, sr)
    a, b = trim_bounds(ref)
    ref = ref[a:b]
    n_ref = len(ref) // HOP
    ref = ref[: n_ref * HOP]
    fmax = min(0.475 * sr, 11_000.0)
    pieces = _pieces(tr.text, engine)
    if not pieces:
        raise TranscriptError(f"{label}: its transcript has no words Kokoro can say", field="transcript")
    style = voice.row(sum(len(p) for p in pieces))
    x, f0 = _front(fast, pieces, voice, 1.0)
    speed = float(np.clip(x.shape[-1] / max(n_ref, 1), 0.5, 2.0))  # Kokoro's length → the reference's
    if abs(speed - 1.0) > 0.03:
        x, f0 = _front(fast, pieces, voice, speed)
    base = fast.decode(x, f0, style, pitch=voice.pitch)
    al = align(base, ref, fmax)
    index = np.clip(np.resize(al.index, n_ref) if len(al.index) < n_ref else al.index[:n_ref], 0, x.shape[-1] - 1)
    i0 = np.floor(index).astype(int)
    i1 = np.minimum(i0 + 1, x.shape[-1] - 1)
    w = (index - i0)[None, :]
    xw = (x[0][:, i0] * (1 - w) + x[0][:, i1] * w).astype(np.float32)
    f0_ref = reference_f0(ref, n_ref)
    # level: the reference at the loudness the base decoder gives these features (the fit learns timbre,
    # not gain; the engine's loudness stage sets the output level anyway)
    base_w = fast.decode(xw[None], f0_ref[None], style)
    gain = np.sqrt(np.mean(base_w ** 2) / max(float(np.mean(ref ** 2)), 1e-12))
    seg = Segment(x=xw, f0=f0_ref, audio=(ref * gain).astype(np.float32), fmax=fmax)
    return Prepared(seg, tr, al.cost, speed, time.perf_counter() - t0)


def deep_clone_voice(references: list[tuple[np.ndarray, int, str | None]], name: str = "deep",
                     gender: str | None = None, engine=None, options=None, device: str | None = None,
                     log: Callable[[str], None] | None = None, should_stop: Callable[[], bool] | None = None,
                     start: Voice | None = None, budget_s: float | None = None) -> Voice:
    """A `Voice` with a fitted decoder adapter from one or more ``(audio, rate, transcript-or-None)``.

    The zero-shot clone of the longest reference is the start (style, pitch offset); each reference is
    transcribed (unless a transcript is given), aligned and fitted; the result is calibrated (colour, pitch) like
    every clone. ``options`` is a :class:`limelight.train.adapter.FitOptions`; ``budget_s`` (default: the
    options') bounds the whole call, the fit stopping early when preparation took longer.
    Needs torch (``pip install 'limelight[gpu]'`` or a CPU torch) for the fit only.
    """
    try:
        import torch
    except ImportError:
        raise VoiceError("a deep clone needs torch for its fit: pip install torch (inference does not)",
                         field="deep") from None
    from ..train.adapter import FitOptions, fit_adapter
    from .clone import calibrate, clone_voice, default_engine
    from .reference import check_reference

    if not references:
        raise VoiceError("a deep clone needs at least one reference", field="reference")
    log = log or (lambda _m: None)
    t0 = time.perf_counter()
    eng = engine or default_engine()
    fast_decoder(eng)
    for k, (audio, sr, _) in enumerate(references):
        check_reference(np.asarray(audio, np.float32).reshape(-1), sr, f"reference {k + 1}")
    longest = max(range(len(references)), key=lambda k: len(references[k][0]) / references[k][1])
    la, lsr, _ = references[longest]
    voice = start or clone_voice(la, lsr, name, gender=gender, engine=eng)
    log(f"zero-shot start ready ({time.perf_counter() - t0:.1f} s)")
    prepared = []
    for k, (audio, sr, text) in enumerate(references):
        p = prepare(audio, sr, voice, eng, text, f"reference {k + 1}")
        log(f"reference {k + 1}/{len(references)}: {p.transcript.source} transcript "
            f"({len(p.transcript.text.split())} words), aligned (cost {p.align_cost:.2f}) in {p.seconds:.1f} s")
        prepared.append(p)
    opts = options or FitOptions()
    total = opts.budget_s if budget_s is None else float(budget_s)
    opts = replace(opts, budget_s=max(10.0, total - (time.perf_counter() - t0)))
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    style = voice.row(100)[0, :128]
    adapter, summary = fit_adapter([p.segment for p in prepared], style, opts, device, log, should_stop)
    meta = {**voice.meta, "method": "deep", "deep": {
        "references": len(prepared), "seconds_of_audio": round(sum(len(p.segment.f0) for p in prepared) / 80, 1),
        "transcripts": [p.transcript.text for p in prepared], "transcript_source": [p.transcript.source
                                                                                    for p in prepared],
        "align_cost": [round(p.align_cost, 3) for p in prepared], "fit": summary,
        "adapter_params": adapter.n_params()}}
    deep = replace(voice, adapter=adapter, source="deep", description="Deep clone (decoder adapted to the reference).",
                   meta=meta, colour=(), pitch=0.0)
    deep = calibrate(deep, la, lsr, eng)
    meta["deep"]["total_s"] = round(time.perf_counter() - t0, 1)
    log(f"deep clone ready ({meta['deep']['total_s']:.0f} s)")
    return deep
