"""Zero-shot cloning: reference audio → `Voice` in well under a second on the CPU.

The reference's Resemblyzer embedding is looked up against data made offline by
:mod:`limelight.train.voice_encoder`: thousands of voice vectors (around, between and beyond the shipped
voices), each synthesised and embedded. Two methods read that data:

- ``"bank"`` (analysis-based): the nearest bank voices in embedding space, blended with non-negative
  least-squares weights so their embeddings best rebuild the reference's; the voice is the same convex blend
  of their vectors.
- ``"encoder"``: a ridge regression from embedding to voice vector, trained on the same data.

Real recordings and Kokoro speech sit in different regions of Resemblyzer's space, so the reference
embedding is first moved by (mean synthetic − mean real embedding), the real mean taken from
LibriSpeech train-clean speakers that are never evaluated on. ``bench/clone.py`` measures the methods; on
the dev speakers the encoder scores 0.33 normalised similarity (bank 0.28, nearest shipped voice 0.15), so
it is the default. ``"blend"`` averages the two vectors.
"""

from __future__ import annotations

import importlib.resources as resources
import time
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from scipy.optimize import nnls

from ..check.speaker import embed_speaker
from ..errors import VoiceError
from .colour import measure_colour
from .reference import check_reference
from .space import style_space
from .voice import Voice

METHODS = ("bank", "encoder", "blend")
DEFAULT_METHOD = "encoder"  # measured best on dev (bench/clone.py): encoder 0.33, bank 0.28
NEIGHBOURS = 24
MAX_PARTIALS = 16  # cap the embedding cost of a 30 s reference (~0.3 s)
COLOUR_SENTENCE = "The quick brown fox jumps over the lazy dog, and then it rests quietly in the warm afternoon sun."


@dataclass(frozen=True)
class CloneModel:
    weight: np.ndarray  # (256, 256) embedding → vector
    bias: np.ndarray
    shift: np.ndarray  # synthetic mean − real mean embedding
    bank_vectors: np.ndarray  # (n, 256)
    bank_embeddings: np.ndarray  # (n, 256), unit norm


def _npz(name: str) -> dict[str, np.ndarray]:
    path = resources.files("limelight.voice") / "data" / name
    try:
        with path.open("rb") as fh, np.load(fh) as npz:
            return {k: np.asarray(npz[k]) for k in npz.files}
    except FileNotFoundError:
        raise VoiceError(f"cloning data {name} is missing from the package; run "
                         "`python -m limelight.train.voice_encoder --export`") from None


@lru_cache(maxsize=1)
def clone_model() -> CloneModel:
    enc, bank = _npz("voice_encoder.npz"), _npz("voice_bank.npz")
    emb = bank["embeddings"].astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    shift = enc["synth_mean"] - enc["real_mean"] if np.any(enc["real_mean"]) else np.zeros(256, np.float32)
    return CloneModel(weight=enc["weight"].astype(np.float32), bias=enc["bias"].astype(np.float32),
                      shift=shift.astype(np.float32), bank_vectors=bank["vectors"].astype(np.float32),
                      bank_embeddings=emb)


def to_synthetic(embedding: np.ndarray, model: CloneModel | None = None) -> np.ndarray:
    """Move a real-speech embedding into the synthetic region (unit norm)."""
    m = model or clone_model()
    e = np.maximum(embedding + m.shift, 0.0)
    return e / max(float(np.linalg.norm(e)), 1e-9)


def bank_vector(embedding: np.ndarray, k: int = NEIGHBOURS) -> tuple[np.ndarray, dict[str, object]]:
    """Convex blend of the k nearest bank voices whose embeddings best rebuild ``embedding``."""
    m = clone_model()
    sims = m.bank_embeddings @ embedding
    top = np.argsort(-sims)[:k]
    w, _ = nnls(m.bank_embeddings[top].T.astype(np.float64), embedding.astype(np.float64))
    if w.sum() <= 0:
        w = np.zeros(len(top))
        w[0] = 1.0
    w = w / w.sum()
    used = w > 1e-3
    return (w[used] @ m.bank_vectors[top[used]]).astype(np.float32), {
        "neighbours": int(used.sum()), "top_similarity": float(sims[top[0]])}


def encoder_vector(embedding: np.ndarray) -> np.ndarray:
    m = clone_model()
    return (embedding @ m.weight + m.bias).astype(np.float32)


def vector_from_embedding(embedding: np.ndarray, method: str = DEFAULT_METHOD) -> tuple[np.ndarray, dict]:
    """The voice vector for a reference embedding; ``blend`` averages the bank and encoder answers."""
    if method not in METHODS:
        raise VoiceError(f"unknown clone method {method!r}; choose one of {', '.join(METHODS)}", field="method")
    e = to_synthetic(embedding)
    if method == "encoder":
        return encoder_vector(e), {}
    v_bank, info = bank_vector(e)
    if method == "bank":
        return v_bank, info
    return (0.5 * (v_bank + encoder_vector(e))).astype(np.float32), info


@lru_cache(maxsize=1)
def default_engine():  # -> KokoroEngine: hears a clone once for its calibration; enrollment synthesises with it
    from ..engine import load_engine

    return load_engine("kokoro")


MAX_PITCH_ST = 8.0  # a clone's pitch offset is a correction; beyond this the vector is wrong, not the pitch
# One clip's median F0 is a noisy estimate of a speaker's usual pitch (speaker 1688's clips span 168-218 Hz,
# 4.5 st), so differences inside this dead zone are left to the voice vector and only the excess is applied.
PITCH_DEAD_ZONE_ST = 2.0


def median_semitones(audio: np.ndarray, sr: int) -> float | None:
    """Median F0 of the voiced frames in semitones re 100 Hz (YIN, :func:`limelight.direct.dsp.track_f0`)."""
    from ..direct.dsp import track_f0

    f0 = track_f0(audio, sr).f0
    return float(12 * np.log2(np.median(f0[f0 > 0]) / 100.0)) if (f0 > 0).sum() >= 10 else None


def calibrate(voice: Voice, audio: np.ndarray, sr: int, engine=None) -> Voice:
    """``voice`` with the colour (:mod:`.colour`) and pitch offset that match its speech to the reference.

    The voice speaks :data:`COLOUR_SENTENCE` once, uncalibrated (~0.2 s on two cores with the fast decoder).
    The colour is the reference's long-term spectrum relative to that rendering; the pitch offset is the
    difference of their median F0s beyond a ±:data:`PITCH_DEAD_ZONE_ST` dead zone (clipped to
    ±:data:`MAX_PITCH_ST`), set only when the engine shifts pitch
    natively (Resemblyzer barely hears pitch, so neither the encoder nor enrollment by it keeps it: measured,
    enrolled voices drifted up to 8 semitones from their speakers).
    """
    eng = engine or default_engine()
    rendered = eng.synthesize(COLOUR_SENTENCE, replace(voice, colour=(), pitch=0.0))
    pitch = 0.0
    if getattr(eng, "native_pitch", False):
        ref_st, own_st = median_semitones(audio, sr), median_semitones(rendered, eng.sample_rate)
        if ref_st is not None and own_st is not None:
            d = ref_st - own_st
            d = float(np.sign(d) * max(abs(d) - PITCH_DEAD_ZONE_ST, 0.0))
            pitch = round(float(np.clip(d, -MAX_PITCH_ST, MAX_PITCH_ST)), 2)
    return replace(voice, colour=measure_colour(audio, sr, rendered, eng.sample_rate), pitch=pitch)


def clone_voice(audio: np.ndarray, sr: int, name: str = "clone", method: str = DEFAULT_METHOD,
                gender: str | None = None, check: bool = True, calibrated: bool = True, engine=None) -> Voice:
    """A `Voice` that sounds like the speaker of ``audio`` (3–30 s of speech at any rate).

    ``calibrated`` (default) also matches the reference's long-term spectrum and median pitch
    (:func:`calibrate`), which needs one synthesis with ``engine`` (default: the shared Kokoro engine).
    """
    t0 = time.perf_counter()
    audio = np.asarray(audio, np.float32).reshape(-1)
    report = check_reference(audio, sr) if check else None
    embedding = embed_speaker(audio, sr, max_partials=MAX_PARTIALS)
    v, info = vector_from_embedding(embedding, method)
    meta: dict[str, object] = {"method": method, "vector": v.tolist(), "embedding": embedding.tolist(), **info}
    if report is not None:
        meta["reference_s"] = round(report.duration_s, 2)
    if gender is None:  # a clone carries the gender its reference was measured to have (or None, said so)
        from .gender import measure_gender

        estimate = measure_gender(audio, sr)
        gender, meta["gender_measured"] = estimate.gender, estimate.as_dict()
    voice = style_space().voice(v, name=name, gender=gender, source="cloned",
                                description="Cloned from reference audio.", meta=meta)
    if calibrated:
        voice = calibrate(voice, audio, sr, engine)
    meta["clone_s"] = round(time.perf_counter() - t0, 3)
    return voice
