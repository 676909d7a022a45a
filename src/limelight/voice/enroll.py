"""Enrollment: refine a clone against its reference by synthesis (slower than zero-shot, closer).

Two methods, one call (:func:`enroll_voice`):

- **gradient** (when torch is installed, the extra 'gpu'; CPU or CUDA): the voice vector follows the gradient
  of the speaker-embedding cosine to the reference through PyTorch Kokoro, the fast decoder and a torch
  Resemblyzer, under a prior that keeps it among the voices the bank spans
  (:mod:`limelight.train.enrollment`, the same fit the GPU runs for many speakers at once).
- **search** (numpy only): start from the best of the zero-shot answers (each heard once), then run an
  evolution strategy (a small (μ/μ, λ)-ES with step-size adaptation) over a low-dimensional subspace: the
  top principal components of the voice bank plus a few random directions. Each candidate speaks one short
  sentence; its score is the cosine minus a penalty for moving far from the start (so the search cannot
  wander into odd corners that only fool the encoder). The best few are checked with Whisper and the first
  that stays intelligible wins.

Both end with the voice's colour (:mod:`.colour`) measured for the final vector. Only the reference clip is
used; other clips of the speaker are for evaluation (``bench/clone.py``).
"""

from __future__ import annotations

import time
from functools import lru_cache

import numpy as np

from ..check.speaker import cosine, embed_speaker
from ..errors import VoiceError
from .clone import (
    bank_vector,
    calibrate,
    clone_model,
    clone_voice,
    default_engine,
    encoder_vector,
    to_synthetic,
)
from .reference import check_reference
from .space import style_space
from .voice import Voice

SEARCH_SENTENCE = "She opened the old wooden door slowly, listening for any sound from the dark hallway."
CHECK_SENTENCE = "Please call Stella and ask her to bring these things with her from the store."
PCA_DIMS = 12
RANDOM_DIMS = 4
DISTANCE_PENALTY = 0.01
MAX_WER = 0.1


@lru_cache(maxsize=1)
def search_basis(seed: int = 0) -> np.ndarray:
    """(dims, 256) directions: bank principal components × their std, plus random ones × the shipped spread."""
    vectors = clone_model().bank_vectors
    centred = vectors - vectors.mean(0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    pcs = vt[:PCA_DIMS] * (s[:PCA_DIMS, None] / np.sqrt(len(vectors)))
    rng = np.random.default_rng(seed)
    rand = rng.standard_normal((RANDOM_DIMS, vectors.shape[1])) * style_space().scale * 0.5
    return np.concatenate([pcs, rand]).astype(np.float32)


def embedding_of(voice: Voice) -> np.ndarray:
    return np.asarray(voice.meta["embedding"], np.float32)


def gradient_available() -> bool:
    """True when torch (the optional extra 'gpu') is installed: enrollment can then follow gradients."""
    try:
        import onnx  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def _torch_kokoro():  # -> TorchKokoro, the shipped weights in float
    from ..engine.model_file import shipped_kokoro
    from ..engine.torch_kokoro import TorchKokoro

    return TorchKokoro.from_onnx(shipped_kokoro())


def enroll_gradient(audio: np.ndarray, sr: int, name: str = "enrolled", gender: str | None = None,
                    steps: int = 120, budget_s: float = 200.0, device: str | None = None, engine=None,
                    log=None) -> Voice:
    """A `Voice` whose vector follows the gradient of speaker similarity to ``audio`` through the synthesiser.

    The same fit as the GPU enrollment of many speakers (:func:`limelight.train.enrollment.fit`), for one
    reference: PyTorch Kokoro with the fast decoder the runtime uses, the voice's colour in the loop,
    Resemblyzer in torch, a prior that keeps the vector among real voices, two of six sentences a step.
    ``device`` defaults to CUDA when present, else the CPU (about 1.5 s a step on two cores).
    """
    import torch

    from ..train.enrollment import FitOptions, fit, prepare_arrays

    t0 = time.perf_counter()
    audio = np.asarray(audio, np.float32).reshape(-1)
    check_reference(audio, sr)
    eng = engine or default_engine()
    data = prepare_arrays([(audio, sr)], [name], engine=eng)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    summary = fit(data, None, "", None, device, FitOptions(steps=steps, time_budget=budget_s),
                  log=log or (lambda _msg: None), model=_torch_kokoro())
    v = np.asarray(summary["vectors"][0], np.float32)
    meta = {"method": "gradient", "vector": v.tolist(), "embedding": data["embeddings"][0].tolist(),
            "steps": summary["steps"], "fit_similarity": round(float(summary["cos_end"]), 4),
            "start_similarity": round(float(summary["cos_start"]), 4), "device": device,
            "enroll_s": round(time.perf_counter() - t0, 1)}
    voice = style_space().voice(v, name=name, gender=gender, source="enrolled",
                                description="Enrolled from reference audio.", meta=meta)
    return calibrate(voice, audio, sr, eng)


def enroll_voice(audio: np.ndarray, sr: int, name: str = "enrolled", budget_s: float | None = None,
                 gender: str | None = None, population: int = 6, seed: int = 0, check_wer: bool = True,
                 engine=None, min_evaluations: int = 0, method: str = "auto") -> Voice:
    """A `Voice` fitted to ``audio`` within about ``budget_s`` seconds (default: 200 for gradient, measured
    on two cores in ``voice/data/MODEL_CARD.md``; 120 for search, plus its final WER check).

    ``method``: ``"gradient"`` (:func:`enroll_gradient`, needs torch), ``"search"`` (an evolution strategy
    scored by synthesis, numpy only) or ``"auto"``: gradient when torch is installed. ``min_evaluations``
    candidates are scored even when the budget runs out first (a busy machine).
    """
    if method not in ("auto", "gradient", "search"):
        raise VoiceError(f"unknown enrollment method {method!r}; choose auto, gradient or search", field="method")
    if method == "gradient" or (method == "auto" and gradient_available()):
        if not gradient_available():
            raise VoiceError("gradient enrollment needs torch: pip install 'limelight[gpu]'", field="method")
        return enroll_gradient(audio, sr, name, gender, budget_s=200.0 if budget_s is None else budget_s,
                               engine=engine)
    if budget_s is None:
        budget_s = 120.0
    t0 = time.perf_counter()
    audio = np.asarray(audio, np.float32).reshape(-1)
    check_reference(audio, sr)
    eng = engine or default_engine()
    space = style_space()
    target = embed_speaker(audio, sr)
    start = clone_voice(audio, sr, name, gender=gender, check=False, calibrated=False)
    basis = search_basis()
    phonemes = eng.phonemize(SEARCH_SENTENCE)

    def similarity(v: np.ndarray) -> float:
        wav = eng.synthesize_phonemes(phonemes, space.voice(v, name="candidate"))
        return cosine(embed_speaker(wav, eng.sample_rate), target)

    # Seeds: the zero-shot answers (encoder, bank, their blend and an extrapolation past the encoder). They
    # disagree per speaker, and hearing each once picks the right one far more cheaply than random steps.
    e = to_synthetic(embedding_of(start))
    v_enc, (v_bank, _) = encoder_vector(e), bank_vector(e)
    seeds = [v_enc, v_bank, 0.5 * (v_enc + v_bank), v_enc + 0.5 * (v_enc - v_bank)]
    seed_sims = [similarity(v) for v in seeds]
    best_seed = int(np.argmax(seed_sims))
    v0, sim0 = seeds[best_seed].astype(np.float32), seed_sims[best_seed]

    def score(z: np.ndarray) -> tuple[float, float]:
        sim = similarity(v0 + z @ basis)
        return sim - DISTANCE_PENALTY * float(z @ z), sim

    rng = np.random.default_rng(seed)
    dims = basis.shape[0]
    mean = np.zeros(dims, np.float32)
    sigma = 0.6
    f0 = sim0
    tried: list[tuple[float, float, np.ndarray]] = [(f0, sim0, mean.copy())]
    best_f = f0
    evals = len(seeds)
    mu = max(1, population // 2)
    weights = np.log(mu + 0.5) - np.log(np.arange(1, mu + 1))
    weights /= weights.sum()
    def more() -> bool:
        return evals < min_evaluations or time.perf_counter() - t0 < budget_s

    while more():
        cands = mean + sigma * rng.standard_normal((population, dims)).astype(np.float32)
        scored = []
        for z in cands:
            f, sim = score(z)
            evals += 1
            scored.append((f, sim, z))
            tried.append((f, sim, z))
            if not more():
                break
        scored.sort(key=lambda t: -t[0])
        top = scored[:mu]
        w = weights[: len(top)] / weights[: len(top)].sum()
        mean = np.sum([wi * z for wi, (_, _, z) in zip(w, top, strict=True)], axis=0).astype(np.float32)
        success = scored[0][0] > best_f
        sigma *= 1.25 if success else 0.85
        best_f = max(best_f, scored[0][0])
    tried.sort(key=lambda t: -t[0])
    chosen, wer_value = tried[0], None
    if check_wer:
        from ..check.asr import shared_transcriber
        from ..check.wer import wer

        asr = shared_transcriber()
        for cand in [*tried[:4], (f0, sim0, np.zeros(dims, np.float32))]:  # the seed itself comes last
            voice = space.voice(v0 + cand[2] @ basis, name=name)
            wav = eng.synthesize(CHECK_SENTENCE, voice)
            wer_value = wer(CHECK_SENTENCE, asr.transcribe(wav, eng.sample_rate))
            chosen = cand
            if wer_value <= MAX_WER:
                break
    v = v0 + chosen[2] @ basis
    meta = {**start.meta, "method": "enroll", "vector": v.tolist(), "evaluations": evals,
            "search_similarity": round(chosen[1], 4), "start_similarity": round(sim0, 4),
            "seed": ("encoder", "bank", "blend", "extrapolated")[best_seed],
            "check_wer": wer_value, "enroll_s": round(time.perf_counter() - t0, 1)}
    voice = space.voice(v, name=name, gender=gender, source="enrolled",
                        description="Enrolled from reference audio.", meta=meta)
    return calibrate(voice, audio, sr, eng)
