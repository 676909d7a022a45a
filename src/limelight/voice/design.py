"""Voice design: a free-text description (+ gender) → a point in the voice space.

The training run (:mod:`limelight.train.voice_encoder`) synthesised thousands of voices and measured each
one: F0, F0 range, formants F1–F3, periodicity (low = breathy/rough), spectral tilt and centroid (warmth),
and pace. Design turns the description into *target measures* — a gender baseline moved by attribute
deltas in units of the data's spread (a child: F0 and formants up; elderly: rougher, slower; warm: lower
centroid …) — and returns the average vector of the synthesised voices nearest to that target. Staying on
voices that were actually rendered keeps designs intelligible, and a child's voice then comes from the
voice space itself (higher F0 *and* higher formants), not from pitch-shifting an adult.

Attributes are read from keywords; when ``limelight.text.embed`` is importable, phrases without a keyword
are matched by meaning against short attribute prototypes as well.
"""

from __future__ import annotations

import importlib.resources as resources
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..errors import VoiceError
from .space import style_space
from .voice import Voice

FEATURES = ("f0_hz", "f0_range_st", "f1_hz", "f2_hz", "f3_hz", "voiced_ratio", "periodicity", "tilt_db",
            "centroid_hz", "tokens_per_s")
_F = {name: i for i, name in enumerate(FEATURES)}
NEIGHBOURS = 12
PITCH_STEP_ST = 3.0  # one "high"/"deep" word moves F0 by this many semitones
# Typical speaking F0 (Hz) by age and sex (adult values near LibriSpeech means; children ~300 Hz).
TYPICAL_F0 = {("child", "female"): 300.0, ("child", "male"): 290.0, ("teen", "female"): 230.0,
              ("teen", "male"): 160.0, ("adult", "female"): 205.0, ("adult", "male"): 118.0,
              ("elderly", "female"): 190.0, ("elderly", "male"): 125.0}
PROTOTYPE_MATCH = 0.7  # cosine of a description phrase to an attribute prototype
MALE_F0_MAX = 150.0
FEMALE_F0_MIN = 175.0

# attribute → (keywords, prototype phrase, {feature: delta in standard deviations})
ATTRIBUTES: dict[str, tuple[tuple[str, ...], str, dict[str, float]]] = {
    "child": (("child", "kid", "little girl", "little boy", "boy", "girl", "toddler", "young child", "childlike"),
              "a small child speaking", {"f0_hz": 1.6, "f1_hz": 1.2, "f2_hz": 1.2, "f3_hz": 1.2}),
    "teen": (("teen", "teenager", "teenage", "adolescent", "youth"), "a teenager",
             {"f0_hz": 0.5, "f2_hz": 0.5, "f3_hz": 0.5}),
    "elderly": (("elderly", "old", "aged", "grandfather", "grandmother", "senior", "frail"), "an old person",
                {"periodicity": -1.0, "tokens_per_s": -0.8, "f0_range_st": -0.3}),
    "middle_aged": (("middle-aged", "middle aged", "mature"), "a middle-aged adult", {"f0_hz": -0.15}),
    "high": (("high-pitched", "high pitched", "high voice", "squeaky", "shrill"), "high-pitched and squeaky",
             {"f0_hz": 1.0}),
    "low": (("deep", "low-pitched", "low pitched", "bass", "baritone", "booming", "low voice"),
            "deep and low", {"f0_hz": -1.0, "f1_hz": -0.4}),
    "fast": (("fast", "quick", "rapid", "hurried", "brisk", "energetic"), "speaking fast",
             {"tokens_per_s": 1.0}),
    "slow": (("slow", "measured", "deliberate", "unhurried", "drawl", "calm"), "speaking slowly",
             {"tokens_per_s": -1.0}),
    "breathy": (("breathy", "airy", "whispery", "soft", "gentle", "hushed"), "soft and breathy",
                {"periodicity": -0.8, "tilt_db": 0.8}),
    "rasp": (("raspy", "rasp", "gravelly", "rough", "hoarse", "husky", "weathered", "gruff", "smoky"),
             "rough and gravelly", {"periodicity": -1.2, "tilt_db": 0.4}),
    "warm": (("warm", "rich", "mellow", "velvety", "smooth", "dark"), "warm and rich",
             {"centroid_hz": -1.0, "tilt_db": -0.6}),
    "bright": (("bright", "crisp", "clear", "thin", "sharp", "light"), "bright and crisp",
               {"centroid_hz": 1.0, "tilt_db": 0.5}),
    "expressive": (("expressive", "animated", "lively", "cheerful", "excited", "dramatic"),
                   "lively and expressive", {"f0_range_st": 1.0}),
    "monotone": (("monotone", "flat", "robotic", "dull", "bored", "tired"), "flat and monotone",
                 {"f0_range_st": -1.0}),
}
_GENDER_WORDS = {"male": ("man", "male", "boy", "gentleman", "father", "grandfather", "he", "guy"),
                 "female": ("woman", "female", "girl", "lady", "mother", "grandmother", "she")}


@dataclass(frozen=True)
class DesignData:
    vectors: np.ndarray  # (n, 256) synthesised voices
    feats: np.ndarray  # (n, 10) their measures
    mean: np.ndarray
    std: np.ndarray


@dataclass(frozen=True)
class DesignPlan:
    """What was read from the description, and the target it became (kept in the voice's metadata)."""

    gender: str
    attributes: dict[str, float] = field(default_factory=dict)
    target: dict[str, float] = field(default_factory=dict)


@lru_cache(maxsize=1)
def design_data() -> DesignData:
    path = resources.files("limelight.voice") / "data" / "design_directions.npz"
    try:
        with path.open("rb") as fh, np.load(fh) as npz:
            vectors, feats = npz["vectors"].astype(np.float32), npz["feats"].astype(np.float32)
    except FileNotFoundError:
        raise VoiceError("voice design data is missing from the package; run "
                         "`python -m limelight.train.voice_encoder --export`") from None
    ok = (feats[:, _F["f0_hz"]] > 0) & (feats[:, _F["periodicity"]] > 0.85) & (feats[:, _F["voiced_ratio"]] > 0.6)
    vectors, feats = vectors[ok], feats[ok]
    return DesignData(vectors=vectors, feats=feats, mean=feats.mean(0), std=feats.std(0) + 1e-6)


def _words(text: str) -> str:
    return " " + re.sub(r"[^a-z\- ]+", " ", text.lower()) + " "


def read_attributes(description: str) -> dict[str, float]:
    """Attribute strengths (0–1) from keywords, then (if available) sentence-embedding prototypes."""
    text = _words(description)
    found = {name: 1.0 for name, (keys, _, _) in ATTRIBUTES.items() if any(f" {k} " in text for k in keys)}
    if "teen" in found:  # "teenage girl": the girl is a teen, not a child
        found.pop("child", None)
    try:
        from ..text.embed import embed_cached, embed_phrases
    except ImportError:
        return found
    phrases = [p.strip() for p in re.split(r"[,.;]| but | and ", description) if p.strip()]
    if not phrases:
        return found
    names = [n for n in ATTRIBUTES if n not in found]
    protos = embed_cached([ATTRIBUTES[n][1] for n in ATTRIBUTES], "design-attributes")  # fixed: kept on disk
    protos = protos[[list(ATTRIBUTES).index(n) for n in names]]
    sims = embed_phrases(phrases) @ protos.T  # a description used again is read back, not re-embedded
    for j, name in enumerate(names):
        if float(sims[:, j].max()) > PROTOTYPE_MATCH:
            found[name] = 0.7
    return found


def guess_gender(description: str) -> str | None:
    text = _words(description)
    hits = {g: sum(f" {w} " in text for w in ws) for g, ws in _GENDER_WORDS.items()}
    if hits["male"] == hits["female"]:
        return None
    return max(hits, key=hits.__getitem__)


def name_is_middle_aged(attrs: dict[str, float]) -> bool:
    return "middle_aged" in attrs


def plan(description: str, gender: str | None = None) -> DesignPlan:
    g = (gender or guess_gender(description) or "female").lower()
    if g not in ("male", "female"):
        raise VoiceError(f"gender must be male or female, got {gender!r}", field="gender")
    data = design_data()
    f0 = data.feats[:, _F["f0_hz"]]
    attrs = read_attributes(description)
    # Children's voices differ little by sex before puberty: a boy starts from the same (higher) base.
    group = f0 < MALE_F0_MAX if g == "male" and "child" not in attrs else f0 > FEMALE_F0_MIN
    base = (data.feats[group].mean(0) - data.mean) / data.std
    target = base.copy()
    for name, strength in attrs.items():
        for feat, delta in ATTRIBUTES[name][2].items():
            target[_F[feat]] += strength * delta
    # Pitch starts from typical speaking F0 for the age and sex (Hz), then pitch words move it.
    age = next((a for a in ("child", "teen", "elderly") if a in attrs), "adult")
    f0 = TYPICAL_F0[(age, g)]
    for name, strength in attrs.items():
        if name not in ("child", "teen", "elderly", "middle_aged"):
            f0 *= 2 ** (strength * ATTRIBUTES[name][2].get("f0_hz", 0.0) * PITCH_STEP_ST / 12)
    if name_is_middle_aged(attrs):
        f0 *= 2 ** (-1 / 12)
    target[_F["f0_hz"]] = (f0 - data.mean[_F["f0_hz"]]) / data.std[_F["f0_hz"]]
    return DesignPlan(gender=g, attributes=attrs,
                      target={f: float(data.mean[i] + target[i] * data.std[i]) for i, f in enumerate(FEATURES)})


def design_vector(p: DesignPlan) -> np.ndarray:
    """Mean vector of the synthesised voices nearest the target (pitch and formants weigh most)."""
    data = design_data()
    t = (np.array([p.target[f] for f in FEATURES]) - data.mean) / data.std
    z = (data.feats - data.mean) / data.std
    weights = np.ones(len(FEATURES))
    weights[[_F["f0_hz"], _F["f1_hz"], _F["f2_hz"], _F["f3_hz"]]] = [3.0, 1.5, 1.5, 1.5]
    touched = {f for name in p.attributes for f in ATTRIBUTES[name][2]}
    for f in touched:
        weights[_F[f]] = max(weights[_F[f]], 2.0)
    d = (((z - t) ** 2) * weights).sum(1)
    near = np.argsort(d)[:NEIGHBOURS]
    w = 1.0 / (1.0 + d[near])
    return (w @ data.vectors[near] / w.sum()).astype(np.float32)


def design_voice(description: str, gender: str | None = None, name: str | None = None) -> Voice:
    """A `Voice` for ``description`` ("an elderly man, deep and raspy"); ``gender`` overrides the text."""
    if not isinstance(description, str) or not description.strip():
        raise VoiceError("voice description is empty", field="voice")
    p = plan(description, gender)
    v = design_vector(p)
    return style_space().voice(v, name=name or "designed", gender=p.gender, description=description.strip(),
                               source="designed", meta={"attributes": p.attributes, "target": p.target,
                                                        "vector": v.tolist()})
