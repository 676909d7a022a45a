"""Speaker embeddings: Resemblyzer's voice encoder, ported to numpy so the runtime needs no torch.

Resemblyzer (Apache-2.0) is a 3-layer LSTM (40 mel bands in, 256 hidden) whose last hidden state goes through a
linear layer, ReLU and L2 norm. An utterance is cut into 1.6 s partials (160 frames of 10 ms, one every 77
frames ≈ 50 % overlap); the partial embeddings are averaged and re-normalised. We follow its preprocessing:
resample to 16 kHz, raise quiet audio to −30 dBFS, and shorten silences longer than ~0.2 s with webrtcvad (the
``webrtcvad-wheels`` build, same module). Where that extension is missing an energy detector stands in; it trims
slightly differently (cosine 0.986–0.999 to the original instead of ≥ 0.999).

The weights (``data/resemblyzer.npz``, float32, ~5.4 MB) were converted once from the ``pretrained.pt`` in the
``resemblyzer`` wheel by :mod:`limelight.train.speaker_weights`, together with librosa's Slaney mel filterbank.
"""

from __future__ import annotations

import importlib.resources as resources
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.ndimage import binary_dilation
from scipy.signal import resample_poly

SAMPLE_RATE = 16_000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
PARTIAL_FRAMES = 160  # 1.6 s
PARTIAL_RATE = 1.3  # partials per second, Resemblyzer's default (step 77 frames)
MIN_COVERAGE = 0.75
TARGET_DBFS = -30.0
VAD_WINDOW = 480  # 30 ms at 16 kHz
VAD_AVERAGE = 8
VAD_MAX_SILENCE = 6
INT16_MAX = 2**15 - 1


@dataclass(frozen=True)
class EncoderWeights:
    """The LSTM stack and projection, in PyTorch's layout (gate order i, f, g, o)."""

    w_ih: tuple[np.ndarray, ...]
    w_hh: tuple[np.ndarray, ...]
    bias: tuple[np.ndarray, ...]  # b_ih + b_hh
    linear_w: np.ndarray
    linear_b: np.ndarray
    mel_basis: np.ndarray  # (40, 201)


@lru_cache(maxsize=1)
def encoder_weights() -> EncoderWeights:
    """Load the converted weights shipped in the package (once per process)."""
    with (resources.files("limelight.check") / "data" / "resemblyzer.npz").open("rb") as fh:
        npz = np.load(fh)
        layers = range(int(npz["num_layers"]))
        return EncoderWeights(
            w_ih=tuple(np.ascontiguousarray(npz[f"weight_ih_l{i}"].T) for i in layers),
            w_hh=tuple(np.ascontiguousarray(npz[f"weight_hh_l{i}"].T) for i in layers),
            bias=tuple(npz[f"bias_ih_l{i}"] + npz[f"bias_hh_l{i}"] for i in layers),
            linear_w=np.ascontiguousarray(npz["linear_weight"].T),
            linear_b=npz["linear_bias"],
            mel_basis=npz["mel_basis"],
        )


def resample(audio: np.ndarray, sr: int, target: int = SAMPLE_RATE) -> np.ndarray:
    audio = np.asarray(audio, np.float32).reshape(-1)
    if sr == target:
        return audio
    g = int(np.gcd(int(sr), target))
    return resample_poly(audio, target // g, int(sr) // g).astype(np.float32)


def normalize_volume(wav: np.ndarray) -> np.ndarray:
    """Raise (never lower) the level to −30 dBFS, as Resemblyzer does."""
    rms = float(np.sqrt(np.mean((wav.astype(np.float64) * INT16_MAX) ** 2)))
    if rms <= 0:
        return wav
    change = TARGET_DBFS - 20 * np.log10(rms / INT16_MAX)
    return wav if change < 0 else (wav * 10 ** (change / 20)).astype(np.float32)


def voice_flags(wav: np.ndarray) -> np.ndarray:
    """Per 30 ms window: speech or not. webrtcvad (mode 3) like Resemblyzer, else an energy threshold."""
    n = len(wav) - len(wav) % VAD_WINDOW
    try:
        import webrtcvad
    except ImportError:
        frames = wav[:n].reshape(-1, VAD_WINDOW).astype(np.float64)
        db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
        return db > max(float(np.percentile(db, 5)) + 6.0, float(db.max()) - 40.0)
    pcm = np.round(np.clip(wav[:n], -1, 1) * INT16_MAX).astype("<i2").tobytes()
    vad = webrtcvad.Vad(3)
    step = VAD_WINDOW * 2
    return np.array([vad.is_speech(pcm[i : i + step], SAMPLE_RATE) for i in range(0, len(pcm), step)], bool)


def trim_long_silences(wav: np.ndarray) -> np.ndarray:
    """Shorten pauses to at most ~0.2 s: Resemblyzer's smoothing and dilation of the VAD flags."""
    n = len(wav) - len(wav) % VAD_WINDOW
    if n < VAD_WINDOW * VAD_AVERAGE:
        return wav
    voiced = voice_flags(wav).astype(np.float64)
    width = VAD_AVERAGE
    padded = np.concatenate([np.zeros((width - 1) // 2), voiced, np.zeros(width // 2)])
    avg = np.convolve(padded, np.ones(width) / width, mode="valid")
    mask = binary_dilation(np.round(avg).astype(bool), np.ones(VAD_MAX_SILENCE + 1))
    if not mask.any():
        return wav[:n]
    return wav[:n][np.repeat(mask, VAD_WINDOW)]


def preprocess(audio: np.ndarray, sr: int, trim: bool = True) -> np.ndarray:
    """16 kHz, level-normalised, long silences shortened: what the encoder was trained on."""
    wav = normalize_volume(resample(audio, sr))
    return trim_long_silences(wav) if trim else wav


def mel_frames(wav: np.ndarray) -> np.ndarray:
    """(frames, 40) mel power spectrogram, matching ``librosa.feature.melspectrogram`` (centred, zero padded)."""
    w = get_window()
    padded = np.pad(wav.astype(np.float32), (N_FFT // 2, N_FFT // 2))
    n_frames = 1 + (len(padded) - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n_frames)[:, None]
    spec = np.fft.rfft(padded[idx] * w, axis=1)
    power = (spec.real**2 + spec.imag**2).astype(np.float32)
    return power @ encoder_weights().mel_basis.T


@lru_cache(maxsize=1)
def get_window() -> np.ndarray:
    """Periodic Hann window of N_FFT samples (scipy/librosa ``fftbins=True``)."""
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)


def partial_slices(n_samples: int) -> list[slice]:
    """Mel-frame ranges of the 1.6 s partials, exactly as Resemblyzer's ``compute_partial_slices``."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    step = int(np.round((SAMPLE_RATE / PARTIAL_RATE) / HOP))
    steps = max(1, n_frames - PARTIAL_FRAMES + step + 1)
    slices = [slice(i, i + PARTIAL_FRAMES) for i in range(0, steps, step)]
    coverage = (n_samples - slices[-1].start * HOP) / (PARTIAL_FRAMES * HOP)
    if coverage < MIN_COVERAGE and len(slices) > 1:
        slices = slices[:-1]
    return slices


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def lstm_embed(mels: np.ndarray) -> np.ndarray:
    """(batch, frames, 40) mel partials → (batch, 256) L2-normalised embeddings."""
    w = encoder_weights()
    x = mels.astype(np.float32)
    batch, steps, _ = x.shape
    hidden = w.w_hh[0].shape[0]
    h = np.zeros((batch, hidden), np.float32)
    for w_ih, w_hh, b in zip(w.w_ih, w.w_hh, w.bias, strict=True):
        xw = (x.reshape(batch * steps, -1) @ w_ih + b).reshape(batch, steps, 4 * hidden)
        h = np.zeros((batch, hidden), np.float32)
        c = np.zeros((batch, hidden), np.float32)
        out = np.empty((batch, steps, hidden), np.float32)
        for t in range(steps):
            g = xw[:, t] + h @ w_hh
            i, f, gg, o = np.split(g, 4, axis=1)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(gg)
            h = _sigmoid(o) * np.tanh(c)
            out[:, t] = h
        x = out
    e = np.maximum(h @ w.linear_w + w.linear_b, 0.0)
    return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)


def embed_wav(wav: np.ndarray, max_partials: int | None = None) -> np.ndarray:
    """Embed audio that is already preprocessed (16 kHz): mean of partial embeddings, re-normalised.

    ``max_partials`` spreads at most that many partials evenly over a long utterance, to bound the time.
    """
    slices = partial_slices(len(wav))
    end = slices[-1].stop * HOP
    if end > len(wav):
        wav = np.pad(wav, (0, end - len(wav)))
    mel = mel_frames(wav)
    if max_partials is not None and len(slices) > max_partials:
        keep = np.linspace(0, len(slices) - 1, max_partials).round().astype(int)
        slices = [slices[k] for k in keep]
    partials = lstm_embed(np.stack([mel[s] for s in slices]))
    raw = partials.mean(axis=0)
    return (raw / np.linalg.norm(raw)).astype(np.float32)


def embed_speaker(audio: np.ndarray, sr: int, max_partials: int | None = None) -> np.ndarray:
    """The 256-d unit-norm speaker embedding of one utterance at any sample rate."""
    wav = preprocess(audio, sr)
    if len(wav) < HOP * 10:
        wav = preprocess(audio, sr, trim=False)
    return embed_wav(wav, max_partials=max_partials)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def speaker_similarity(a: np.ndarray, sr_a: int, b: np.ndarray, sr_b: int) -> float:
    """Cosine of the two utterances' speaker embeddings (≈0.95 same clip, ≈0.8 same speaker, ≈0.6 stranger)."""
    return cosine(embed_speaker(a, sr_a), embed_speaker(b, sr_b))


def normalised_from_cosines(s_clone: float, s_real: float, s_stranger: float) -> float:
    """``(s_clone − s_stranger) / (s_real − s_stranger)``: 0 = a stranger, 1 = a second recording."""
    denom = s_real - s_stranger
    if abs(denom) < 1e-6:
        return 0.0
    return (s_clone - s_stranger) / denom


def normalised_similarity(clone: np.ndarray, real: np.ndarray, real_other: np.ndarray,
                          strangers: list[np.ndarray]) -> float:
    """Normalised similarity of ``clone`` to ``real`` (definition in shared/voices/README.md), from embeddings.

    ``real_other`` is a different clip of the target speaker and ``strangers`` clips of other speakers of the
    same gender (their cosines to ``real`` are averaged), all as embeddings from :func:`embed_speaker`.
    """
    s_stranger = float(np.mean([cosine(s, real) for s in strangers]))
    return normalised_from_cosines(cosine(clone, real), cosine(real_other, real), s_stranger)
