"""Free text → one of a fixed set of labelled things (sounds, rooms), by meaning or by words.

Two ways to score a description against a candidate's phrasings:

* **embedding** — cosine between sentence embeddings (``limelight.text.embed.embed``, MiniLM). It knows
  that "a downpour" is rain and "someone at the door" is knocking, with no word in common.
* **keyword** — stemmed word overlap, weighted by how specific a word is among the candidates, plus a
  few decisive keywords per candidate. Always available (no model), predictable, and the fallback when
  the embedder cannot be imported.

``auto`` uses the embedder when it imports and keeps keyword hits as a second chance, so a description
that names its sound outright ("footsteps") is never lost to an unlucky embedding score.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..errors import LimelightError

log = logging.getLogger(__name__)

Method = Literal["auto", "embedding", "keyword"]

EMBED_THRESHOLD = 0.55
"""Cosine (MiniLM, unit vectors) a phrasing must reach for the description to count as that sound.

Measured on all-MiniLM-L6-v2: true paraphrases of library sounds scored 0.58–1.0 ("someone walks in" →
footsteps 0.58, "her heart pounds" → heartbeat 0.61); unrelated descriptions up to 0.54 ("an explosion" →
gunshot, "a bell tolls" → phone ring 0.52, "the kettle whistles" → clock 0.47)."""
KEYWORD_THRESHOLD = 0.6
"""Keyword score a candidate must reach (a decisive keyword alone scores 0.9, half a phrasing ≈ 0.45)."""

STOPWORDS = frozenset("""
a an the of in on at to from by with and or but is are was were be been it its this that these those
some any very so as into onto over under through for while during near off out up down there here
sound sounds noise noises sfx effect effects background ambience ambient audio hear heard we you he she
they someone somebody something his her their our my your just then now suddenly again
""".split())


@dataclass(frozen=True)
class SoundMatch:
    """What a description matched: the candidate's ``name``, its ``score`` (cosine for the embedding
    method, 0–1 keyword score otherwise), the ``phrase`` that matched best, and the ``method`` used."""

    name: str
    score: float
    phrase: str
    method: str

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "score": round(self.score, 3), "phrase": self.phrase, "method": self.method}


@dataclass(frozen=True)
class Candidate:
    """A thing to match against: descriptive ``phrasings`` and decisive ``keywords`` (phrases too)."""

    name: str
    phrasings: tuple[str, ...]
    keywords: tuple[str, ...] = ()


def stem(word: str) -> str:
    """Crude suffix stripping, applied alike to descriptions and phrasings (so only consistency matters):
    cracks/cracking/cracked → crack, crackles/crackling → crackl, rainy → rain, slammed → slam."""
    w = word
    for suffix in ("ing", "ed", "es", "s", "y"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and not (suffix == "s" and w.endswith("ss")):
            w = w[: -len(suffix)]
            break
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiouls":
        w = w[:-1]
    return w


def tokens(text: str) -> list[str]:
    """Lower-cased, accent-free, stemmed content words."""
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return [stem(w) for w in re.findall(r"[a-z]+", plain) if w not in STOPWORDS]


EmbedFn = Callable[[Sequence[str]], np.ndarray]
_EMBED_UNAVAILABLE: list[str] = []  # holds the reason once the embedder failed to import


def load_embedder() -> EmbedFn | None:
    """The sentence embedder, or None (with the reason logged once) when it cannot be imported."""
    if _EMBED_UNAVAILABLE:
        return None
    try:
        from ..text.embed import embed_phrases as embed  # descriptions remembered on disk between runs
    except ImportError as exc:
        _EMBED_UNAVAILABLE.append(f"limelight.text.embed not importable: {exc}")
        log.info("scene matching falls back to keywords (%s)", _EMBED_UNAVAILABLE[0])
        return None
    return embed


def _embed_vocabulary(embed: EmbedFn, texts: list[str], cache_name: str | None) -> np.ndarray:
    """Vectors of a fixed phrase list: from the embedder's disk cache when it has one (seconds saved per
    process start), else computed. A test may substitute ``embed``; the cache is used only for the real one."""
    if cache_name is not None:
        try:
            from ..text import embed as embed_module
        except ImportError:
            embed_module = None
        if embed_module is not None and embed in (getattr(embed_module, "embed", None),
                                                  getattr(embed_module, "embed_phrases", None)) \
                and hasattr(embed_module, "embed_cached"):
            return np.asarray(embed_module.embed_cached(texts, cache_name), dtype=np.float32)
    return np.asarray(embed(texts), dtype=np.float32)


class PhraseMatcher:
    """Matches descriptions against a fixed list of candidates; phrasing embeddings are computed once."""

    def __init__(self, candidates: Sequence[Candidate], *, embed_threshold: float = EMBED_THRESHOLD,
                 keyword_threshold: float = KEYWORD_THRESHOLD, cache_name: str | None = None) -> None:
        self.candidates = list(candidates)
        self.cache_name = cache_name
        self.embed_threshold = embed_threshold
        self.keyword_threshold = keyword_threshold
        self._phrases = [(c.name, p) for c in self.candidates for p in (*c.phrasings, *c.keywords)]
        self._phrase_vectors: np.ndarray | None = None
        df: dict[str, int] = {}
        self._vocab: dict[str, set[str]] = {}
        for c in self.candidates:
            words = {t for p in (*c.phrasings, *c.keywords) for t in tokens(p)}
            self._vocab[c.name] = words
            for t in words:
                df[t] = df.get(t, 0) + 1
        n = len(self.candidates)
        self._idf = {t: math.log(1.0 + n / k) for t, k in df.items()}

    # -- public ------------------------------------------------------------------------------------------

    def match(self, description: str, method: Method = "auto") -> SoundMatch | None:
        """The best candidate above threshold, or None when nothing fits."""
        ranked = self.ranked(description, method)
        return ranked[0] if ranked else None

    def ranked(self, description: str, method: Method = "auto") -> list[SoundMatch]:
        """Every candidate above threshold, best first (at most one entry per candidate)."""
        if not description or not description.strip():
            return []
        if method not in ("auto", "embedding", "keyword"):
            raise ValueError(f"unknown matching method {method!r}")
        if method == "keyword":
            return self._keyword(description)
        embed = load_embedder()
        if embed is None:
            if method == "embedding":
                raise ImportError(_EMBED_UNAVAILABLE[0] if _EMBED_UNAVAILABLE else "no embedder")
            return self._keyword(description)
        try:
            found = self._embedding(description, embed)
        except LimelightError as exc:  # e.g. the model files are missing: degrade, don't fail the mix
            if method == "embedding":
                raise
            log.warning("sentence embedder failed (%s); matching by keywords", exc)
            return self._keyword(description)
        if method == "embedding":
            return found
        # auto: a decisive keyword also counts when the embedding missed it.
        seen = {m.name for m in found}
        extra = [m for m in self._keyword(description) if m.name not in seen and m.score >= 0.8]
        return found + extra

    # -- the two methods ---------------------------------------------------------------------------------

    def _embedding(self, description: str, embed: EmbedFn) -> list[SoundMatch]:
        if self._phrase_vectors is None:
            self._phrase_vectors = _embed_vocabulary(embed, [p for _, p in self._phrases], self.cache_name)
        query = np.asarray(embed([description]), dtype=np.float32)[0]
        cos = self._phrase_vectors @ query
        best: dict[str, SoundMatch] = {}
        for (name, phrase), score in zip(self._phrases, cos, strict=True):
            if score >= self.embed_threshold and (name not in best or score > best[name].score):
                best[name] = SoundMatch(name, float(score), phrase, "embedding")
        return sorted(best.values(), key=lambda m: -m.score)

    def _keyword(self, description: str) -> list[SoundMatch]:
        """Best of: a decisive keyword present (0.9, 0.95 for a two-word one) or the idf-weighted share of a
        phrasing's words present (× 0.9); then scaled by how much of the description the candidate's
        vocabulary explains (× 0.75–1), so "a storm with thunder and heavy rain" is the storm, not the rain.
        """
        words = set(tokens(description))
        if not words:
            return []
        unknown = math.log(1.0 + len(self.candidates))  # a word no candidate uses weighs like a rare one
        desc_weight = sum(self._idf.get(t, unknown) for t in words)
        scored: list[SoundMatch] = []
        for c in self.candidates:
            best_score, best_phrase = 0.0, ""
            for kw in c.keywords:
                kw_tokens = tokens(kw)
                if kw_tokens and set(kw_tokens) <= words:
                    s = min(0.95, 0.85 + 0.05 * len(kw_tokens))
                    if s > best_score:
                        best_score, best_phrase = s, kw
            for phrase in c.phrasings:
                p_tokens = set(tokens(phrase))
                total = sum(self._idf[t] for t in p_tokens)
                if total <= 0:
                    continue
                s = 0.9 * sum(self._idf[t] for t in p_tokens & words) / total
                if s > best_score:
                    best_score, best_phrase = s, phrase
            explained = sum(self._idf.get(t, 0.0) for t in words & self._vocab[c.name]) / desc_weight
            score = best_score * (0.75 + 0.25 * explained)
            if score >= self.keyword_threshold:
                scored.append(SoundMatch(c.name, score, best_phrase, "keyword"))
        return sorted(scored, key=lambda m: -m.score)
