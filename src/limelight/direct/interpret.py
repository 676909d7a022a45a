"""Free-text stage directions → :class:`Direction`.

Writers describe delivery in open language ("barely audible, lips close to her ear"), so exact keyword
lists alone miss most of it. We combine two readers:

* **Meaning.** Each clause of the text is embedded (MiniLM, ``limelight.text.embed``) and compared with
  a vocabulary of *prototypes*: a few example phrasings plus the Direction they imply. A clause whose
  best match is a *distractor* (stage business such as "staring at his hands", or a speaker's age and
  gender) is ignored, so description that is not about delivery does not leak into the voice.
* **Keywords.** Unambiguous words ("whisper", "shout", "long pause", "pause for two seconds") fire their
  prototype at full strength, because the embedder is weakest exactly on short literal cues and numbers.

Negated phrases ("not shouting", "no pause") are cut out before either reader sees them.

Prototypes belong to *families* (volume, tempo, pause, breath, ending, quality, emotion). Within a family only
the strongest cue counts – "bright and excited" should not stack joy on excitement – and cues from
different families compose (an angry whisper is both). The speaker's voice description gives a base
delivery; an action overrides the base family by family, so "Slowly." slows down a fast-talking child
instead of multiplying against her. The result is clamped to sane bounds.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from ..errors import ScriptError
from .direction import REGISTERS, Direction

FAMILIES: tuple[str, ...] = ("emotion", "quality", "tempo", "pause", "breath", "ending", "volume")
"""Composition order; later families win the register (volume last, so "whisper" beats "rage")."""

# Cosine similarity of a clause to a prototype's nearest example: below _SIM_LOW it is no evidence, at
# _SIM_FULL and above the cue counts fully. Calibrated on paraphrases vs. unrelated directions (see the
# module tests): MiniLM puts related short phrases at 0.5–0.8 and unrelated ones under 0.35.
_SIM_LOW = 0.42
_SIM_FULL = 0.62
_PER_CLAUSE = 2  # at most this many cues (of different families) from one clause ...
_RUNNER_UP_MARGIN = 0.04  # ... the runner-up only within this similarity of the winner
_VOICE_WEIGHT = 0.75  # a voice description is the speaker's habit, milder than a moment's direction


@dataclass(frozen=True)
class Prototype:
    """A kind of delivery: example phrasings (matched by meaning) and the Direction it implies."""

    name: str
    family: str
    examples: tuple[str, ...]
    direction: Direction = Direction()

    @property
    def is_distractor(self) -> bool:
        return self.family == "none"


@dataclass(frozen=True)
class Match:
    """One piece of evidence behind a Direction (a row of the ``--explain`` table)."""

    source: str  # "action", "voice" or "register"
    clause: str  # the text that matched
    prototype: str
    family: str
    via: str  # "meaning", "keyword" or "number"
    score: float  # cosine similarity for "meaning", 1.0 for rules
    weight: float  # strength it was applied at, 0..1


def _p(name: str, family: str, examples: Sequence[str], **direction: object) -> Prototype:
    return Prototype(name, family, tuple(examples), Direction(**direction))  # type: ignore[arg-type]


PROTOTYPES: tuple[Prototype, ...] = (
    # Example phrasings are deliberately *not* the sample scripts' wording: tests check that those (and
    # other paraphrases) are understood, which only means something if they are not looked up verbatim.
    # --- emotion: the overall affect; one winner ------------------------------------------------------
    _p("anger", "emotion", ["Angry.", "Seething with anger.", "Irritated and annoyed.", "Through gritted teeth.",
                            "Mad at him.", "Hostile and bitter.", "Outraged.", "Fuming.",
                            "Snapping at her.", "Bristling with resentment.", "Indignant."],
       speed=1.05, pitch_shift=1.0, pitch_range=1.2, energy_db=4.0, tilt_db=3.5),
    _p("rage", "emotion", ["In a blind rage.", "Explodes with anger.", "Roaring with fury.",
                           "Losing his temper completely.", "A furious roar."],
       speed=1.08, pitch_shift=2.0, pitch_range=1.35, energy_db=7.0, tilt_db=5.0, register="loud"),
    _p("grief", "emotion", ["Sad.", "Grieving, heartbroken.", "Mournful and full of sorrow.", "Melancholy.",
                            "Devastated by the loss.", "Downcast and gloomy.", "Sorrowful.",
                            "Mourning.", "Despairing.", "Heavy with loss."],
       speed=0.88, pitch_shift=-1.0, pitch_range=0.7, energy_db=-3.0, tilt_db=-3.0, breathiness=0.15),
    _p("joy", "emotion", ["Happy.", "Joyful and delighted.", "Beaming with happiness.", "Overjoyed.",
                          "Elated.", "Full of glee.", "Grinning from ear to ear.", "On cloud nine.",
                          "Radiant."],
       speed=1.06, pitch_shift=1.5, pitch_range=1.3, energy_db=2.0, tilt_db=2.0),
    _p("cheerful", "emotion", ["Cheerful.", "Upbeat and friendly.", "Chirpy.", "Sunny and pleasant.",
                               "Light-hearted.", "In a good mood, smiling.", "Perky.",
                               "Breezy and pleasant."],
       speed=1.05, pitch_shift=1.0, pitch_range=1.25, energy_db=1.5, tilt_db=1.5),
    _p("excitement", "emotion", ["Excited.", "Thrilled, can hardly contain herself.", "Bursting with enthusiasm.",
                                 "Eager and animated.", "Bubbly and energetic.", "Giddy with anticipation.",
                                 "Fired up.", "Buzzing with energy."],
       speed=1.15, pitch_shift=2.0, pitch_range=1.4, energy_db=3.0, tilt_db=2.0),
    _p("fear", "emotion", ["Afraid.", "Terrified.", "Scared.", "Frightened.", "Nervous.", "Anxious and uneasy.",
                           "Filled with dread.", "Petrified.", "Jumpy and on edge.", "Spooked."],
       speed=1.08, pitch_shift=1.5, pitch_range=0.9, energy_db=-1.5, breathiness=0.2, tremble=0.35),
    _p("panic", "emotion", ["Panicking.", "In a frantic panic.", "Hysterical, losing control.",
                            "Desperate and frantic.", "Freaking out.", "Frantically calling for help.",
                            "Terror-stricken."],
       speed=1.3, pitch_shift=2.5, pitch_range=1.2, energy_db=3.0, breathiness=0.3, tremble=0.3),
    _p("exhaustion", "emotion", ["Exhausted.", "Tired and weary.", "Drained, with no energy left.", "Sleepy.",
                                 "Worn out.", "Fatigued after a long day.", "Too tired to talk.",
                                 "Dead on her feet.", "Barely awake.", "Groggy.", "Running out of steam."],
       speed=0.85, pitch_shift=-1.0, pitch_range=0.7, energy_db=-4.0, tilt_db=-3.0, breathiness=0.3),
    _p("tenderness", "emotion", ["Tenderly.", "Lovingly, with great affection.", "Gently, as to a child.",
                                 "Caring and kind.", "Soothing.", "Affectionate.",
                                 "Warmly reassuring.", "Comforting."],
       speed=0.92, pitch_range=0.95, energy_db=-3.0, tilt_db=-3.0, breathiness=0.2),
    _p("calm", "emotion", ["Calm.", "Relaxed and at ease.", "Serene.", "Peaceful.",
                           "Casual, offhand.", "Easygoing.", "Laid-back.", "Cool and collected.",
                           "Unbothered.", "Tranquil."],
       speed=0.96, pitch_range=0.88, energy_db=-1.0, tilt_db=-1.0),
    _p("sarcasm", "emotion", ["Sarcastic.", "Dripping with sarcasm.", "Mocking.", "Ironic.", "Dry and sardonic.",
                              "Snide.", "Tongue in cheek.", "Scornful, rolling her eyes."],
       speed=0.93, pitch_range=1.35, tilt_db=1.0),
    _p("cold", "emotion", ["Cold.", "Flat.", "Emotionless monotone.", "Detached.", "Icy.", "Deadpan.",
                           "Bored and indifferent.", "Robotic.", "Clinical.", "Stony.",
                           "Expressionless."],
       speed=0.97, pitch_shift=-0.5, pitch_range=0.55, energy_db=-1.0),
    _p("determined", "emotion", ["Firm.", "Determined.", "Resolute.", "Steady and strong.", "With conviction.",
                                 "Confident.", "Authoritative.", "Assertive."],
       speed=0.96, pitch_range=0.9, energy_db=2.0, tilt_db=2.0),
    _p("resigned", "emotion", ["Resigned.", "Defeated, giving up.", "With a heavy heart.", "Regretful.",
                               "Wistful.", "Hopeless.", "Giving in."],
       speed=0.9, pitch_shift=-1.0, pitch_range=0.75, energy_db=-2.0, breathiness=0.25),
    _p("pleading", "emotion", ["Pleading.", "Begging.", "Imploring her to listen.", "Desperate plea.", "Beseeching.",
                                "Asking desperately."],
       speed=1.0, pitch_shift=1.5, pitch_range=1.2, breathiness=0.2, tremble=0.2),
    _p("neutral", "emotion", ["Matter-of-fact.", "Neutral tone.", "Plainly.", "Informative."]),
    # --- voice quality -------------------------------------------------------------------------------
    _p("crying", "quality", ["Crying.", "Sobbing.", "In tears.", "Choked up.", "Weeping as she talks.",
                             "Tears running down her face.", "Blubbering."],
       speed=0.88, pitch_shift=0.5, pitch_range=0.8, energy_db=-2.0, breathiness=0.3, tremble=0.55),
    _p("trembling", "quality", ["Voice trembling.", "Shaky voice.", "Her voice quivers.", "Quavering.",
                                "Voice wavering.", "Voice unsteady.", "Shuddering."],
       pitch_range=0.9, breathiness=0.1, tremble=0.6),
    _p("tightening", "quality", ["Throat tight.", "Trying to keep it together.", "Restraining emotion.",
                                 "Strained, trying not to break down.", "A lump in his throat.",
                                 "Struggling to hold back emotion.", "Fighting back tears.",
                                 "Composing himself.", "Trying to stay calm.", "Voice tense and strained."],
       speed=0.95, pitch_range=0.7, energy_db=-1.0, tilt_db=2.0, tremble=0.25),
    _p("breathless", "quality", ["Breathless.", "Out of breath.", "Panting.", "Gasping for air.",
                                 "Winded after running.", "Huffing and puffing.", "Short of breath."],
       speed=1.08, energy_db=-1.0, breathiness=0.5),
    _p("laughing", "quality", ["Laughing.", "Through laughter.", "Giggling.", "Chuckling.",
                               "Amused, cracking up.", "Laughter bubbling up.", "Cackling."],
       speed=1.04, pitch_shift=1.5, pitch_range=1.3, breathiness=0.2, laughing=True),
    _p("raw", "quality", ["Raw emotion.", "Vulnerable and exposed.", "Emotionally naked.", "Unguarded."],
       speed=0.94, pitch_range=0.85, breathiness=0.15, tremble=0.15),
    # --- tempo ---------------------------------------------------------------------------------------
    _p("fast", "tempo", ["Fast.", "Speaking quickly.", "Rapid-fire.", "Rushing through the words.",
                         "Talking a mile a minute.", "Hurrying.", "Speeding up."], speed=1.25),
    _p("slow", "tempo", ["Slowly.", "Speaking slowly and deliberately.", "Drawn out.", "Taking her time.",
                         "Measured pace.", "Takes his time.", "Lingering on each word.",
                         "Stretched out."], speed=0.78),
    _p("urgency", "tempo", ["Urgent.", "Time-critical.", "Hurried and insistent.", "Pressing.",
                            "Time is running out."],
       speed=1.2, pitch_shift=1.0, energy_db=3.0, tilt_db=2.0),
    _p("hesitant", "tempo", ["Hesitant.", "Unsure, stumbling over words.", "Haltingly.", "Uncertain.", "Faltering.",
                              "Tentative.", "Stammering."],
       speed=0.88, pitch_range=0.9, energy_db=-1.0, pause_before=0.3),
    # --- pauses and breaths ----------------------------------------------------------------------------
    _p("long pause", "pause", ["A long silence.", "After a long moment.", "Lengthy pause.",
                               "Silence stretches.", "Lets the moment hang.", "Silence."],
       pause_before=1.2),
    _p("pause", "pause", ["A beat.", "Brief pause.", "Waits a moment.", "Stops for a second.",
                          "A moment's hesitation."],
       pause_before=0.6),
    _p("trailing off", "ending", ["Trails off.", "Voice fading away at the end.", "Lets the last word hang.",
                                  "Drifting into silence."],
       energy_db=-2.0, pitch_range=0.9, pause_after=0.8),
    _p("deep breath", "breath", ["Takes a breath.", "Inhales deeply.", "Breathes in.",
                                 "Gathers herself with a breath.", "Draws breath."],
       breath_before=True, pause_before=0.3),
    _p("sigh", "breath", ["Sighs.", "With a sigh.", "Exhales heavily.", "Letting out a long breath."],
       breath_before=True, breathiness=0.2, pitch_shift=-0.5),
    # --- volume (register) ---------------------------------------------------------------------------
    _p("whisper", "volume", ["Whispering.", "In a whisper.", "Hushed, so no one hears.", "Under her breath.",
                             "Voiceless, just air.", "Almost silent.",
                             "A breathy whisper."],
       register="whisper", speed=0.92, energy_db=-12.0, tilt_db=-6.0, breathiness=1.0),
    _p("soft", "volume", ["Softly.", "Quietly.", "In a low, soft voice.", "Gently and quietly.",
                          "Keeping her voice down.", "Very faint.", "Muted."],
       register="soft", speed=0.96, energy_db=-6.0, tilt_db=-3.0, breathiness=0.3),
    _p("intimate", "volume", ["Intimate.", "Close to the mic.", "Near the microphone.",
                              "Close and personal, ASMR.", "Speaking right into his ear.",
                              "Confiding."],
       register="soft", speed=0.94, energy_db=-5.0, tilt_db=-2.0, breathiness=0.35),
    _p("mumbling", "volume", ["Mumbling.", "Muttering to himself.", "Slurred and indistinct."],
       register="soft", speed=1.05, pitch_range=0.6, energy_db=-5.0, tilt_db=-4.0),
    _p("loud", "volume", ["Loudly.", "Projecting to the back of the room.", "Raising her voice.",
                          "Calling out across the room.", "Booming voice.",
                          "Calling to someone far away.", "Full volume."],
       register="loud", energy_db=5.0, pitch_shift=1.5, pitch_range=1.1, tilt_db=4.0),
    _p("shout", "volume", ["Shouting.", "Yelling at the top of his lungs.", "Screaming over the noise.",
                           "Bellowing.", "Hollering."],
       register="shout", energy_db=8.0, pitch_shift=3.0, pitch_range=1.2, tilt_db=6.0),
    _p("normal voice", "volume", ["Normal voice.", "Back to a normal volume.", "Regular speaking voice."]),
    # --- distractors: not about delivery; a clause closest to these is ignored --------------------------
    _p("stage business", "none", ["Looking out of the window.", "She turns to face him.",
                                  "Sits down on the bed.", "Picks up the phone.", "Walking across the room.",
                                  "Opens the door.", "Glances at the clock.", "Puts the cup down.",
                                  "Takes off his hat.", "Reaches for her bag."]),
    _p("speaker", "none", ["Middle-aged.", "A young woman.", "An old man in his seventies.", "A little girl.",
                           "Male, in his thirties.", "British accent.", "Deep voice.", "Gravelly.",
                           "Husky, low-pitched voice.", "Elderly.",
                           "Warm, rich timbre.", "Rough and weathered."]),
)

_BY_NAME = {p.name: p for p in PROTOTYPES}
_REGISTER_PROTOTYPE = {"whisper": "whisper", "soft": "soft", "normal": "normal voice", "loud": "loud",
                       "shout": "shout"}

# --- keyword rules: (pattern on lower-cased, negation-free clause text) → prototype name ------------------
_KEYWORDS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), name) for p, name in (
    (r"\bwhisper(s|ed|ing)?\b", "whisper"),
    (r"\b(shout|yell|scream|bellow|holler)(s|ed|ing)?\b", "shout"),
    (r"\b(loud(ly|er)?|project(s|ed|ing)?|raises? (his|her|their) voice)\b", "loud"),
    (r"\b(soft(ly|er)?|quiet(ly|er)?|hushed)\b", "soft"),
    (r"\b(mumbl|mutter)\w*", "mumbling"),
    (r"\b(normal|regular|usual) (speaking )?(voice|volume)\b", "normal voice"),
    (r"\b(fast|quick(ly)?|rapid(ly)?|hurried(ly)?|faster)\b", "fast"),
    (r"\b(slow(ly|er)?|unhurried)\b", "slow"),
    (r"\blong (pause|silence)\b", "long pause"),
    (r"\b(short|brief|slight|small) pause\b|\bpaus(e|es|ed|ing)\b|\b(a|one) beat\b", "pause"),
    (r"\b(deep|big|sharp) breath\b|\btakes? a breath\b|\binhales?\b|\bbreathes in\b", "deep breath"),
    (r"\bsigh(s|ed|ing)?\b", "sigh"),
    (r"\btrail(s|ed|ing)? off\b", "trailing off"),
    (r"\b(trembl|quaver|quiver|shak(y|ing))\w*", "trembling"),
    (r"\b(breathless(ly)?|out of breath|panting)\b", "breathless"),
    (r"\b(laugh(s|ing)?|giggl\w*|chuckl\w*)\b", "laughing"),
    (r"\b(sob(s|bing)?|crying|in tears|tearful(ly)?)\b", "crying"),
    (r"\bsarcastic(ally)?\b", "sarcasm"),
    (r"\b(angr(y|ily)|furious(ly)?|enraged|livid)\b", "anger"),
    (r"\b(afraid|scared|terrified|frightened|fear(ful(ly)?)?|nervous(ly)?)\b", "fear"),
    (r"\b(sad(ly)?|grieving|heartbroken|sorrowful(ly)?)\b", "grief"),
    (r"\b(happ(y|ily)|joyful(ly)?|delighted)\b", "joy"),
    (r"\b(cheerful(ly)?)\b", "cheerful"),
    (r"\b(excited(ly)?)\b", "excitement"),
    (r"\b(tired|exhausted|weary|wearily)\b", "exhaustion"),
    (r"\b(tender(ly)?|lovingly)\b", "tenderness"),
    (r"\bpanick?(ed|ing|s)?\b", "panic"),
    (r"\burgent(ly)?\b", "urgency"),
))

# --- numbers and durations -------------------------------------------------------------------------------
_NUMBER_WORDS = {"one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0, "five": 5.0, "six": 6.0, "seven": 7.0,
                 "eight": 8.0, "nine": 9.0, "ten": 10.0, "a": 1.0, "an": 1.0, "half a": 0.5,
                 "a couple of": 2.0, "a few": 3.0, "several": 3.0}
_NUMBER = r"(\d+(?:\.\d+)?|half a|a couple of|a few|several|one|two|three|four|five|six|seven|eight|nine|ten|an?)"
_DURATION = re.compile(r"\b" + _NUMBER + r"(\s+and a half)?[\s-]*(seconds?|secs?|s)\b")
_PAUSE_CUE = re.compile(r"\b(pause|silence|wait|waits|beat|hold|holds|stop|stops)\b")

# --- negation: a negator and the words it governs, up to punctuation or a contrast/conjunction ----------
_NEGATION = re.compile(
    r"\b(?:not|no|never|without|nor|\w+n't)\b"
    r"(?!\s+(?:stop|help)\b)"  # "can't stop laughing" still laughs
    r"(?:\s+(?!but\b|and\b|yet\b|though\b)[\w'-]+){1,4}")

_CLAUSE_SPLIT = re.compile(r"(?:(?<!\d)\.|\.(?!\d)|[;:!?,()\[\]\u2014\u2013])+|\s-\s")  # keeps "1.5"


def _number_value(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return _NUMBER_WORDS[text]


def _clauses(text: str) -> list[str]:
    """Lower-cased clauses with negated phrases removed (the readers never see "not shouting")."""
    text = _NEGATION.sub(" ", text.lower())
    parts = (re.sub(r"\s+", " ", part).strip(" '\"") for part in _CLAUSE_SPLIT.split(text))
    return [part for part in parts if re.search(r"[a-z0-9]", part)]


def _rule_matches(clause: str, source: str) -> list[tuple[Prototype, Match]]:
    found: list[tuple[Prototype, Match]] = []
    duration = _DURATION.search(clause)
    if duration and _PAUSE_CUE.search(clause):
        seconds = _number_value(duration.group(1)) + (0.5 if duration.group(2) else 0.0)
        proto = Prototype("pause", "pause", (), Direction(pause_before=seconds))
        found.append((proto, Match(source, clause, f"pause {seconds:g}s", "pause", "number", 1.0, 1.0)))
    for pattern, name in _KEYWORDS:
        if name in ("pause", "long pause") and any(m.family == "pause" for _, m in found):
            continue  # an explicit duration beats "pause", and "long pause" beats the bare word
        if pattern.search(clause):
            proto = _BY_NAME[name]
            found.append((proto, Match(source, clause, name, proto.family, "keyword", 1.0, 1.0)))
    return found


class _PrototypeIndex:
    """Prototype example embeddings: computed once (a few seconds on 2 cores) and then kept on disk."""

    def __init__(self) -> None:
        from ..text.embed import embed_cached, embed_phrases

        self._embed = embed_phrases  # directions repeat across lines and runs: remembered on disk
        owners, examples = [], []
        for i, proto in enumerate(PROTOTYPES):
            for example in proto.examples:
                owners.append(i)
                examples.append(example)
        self.owners = np.asarray(owners)
        self.vectors = embed_cached(examples, "direction-prototypes")

    def scores(self, clauses: Sequence[str]) -> np.ndarray:
        """(len(clauses), len(PROTOTYPES)) similarity of each clause to each prototype's nearest example."""
        sims = self._embed(list(clauses)) @ self.vectors.T
        out = np.full((len(clauses), len(PROTOTYPES)), -1.0, dtype=np.float32)
        for j in range(len(PROTOTYPES)):
            cols = sims[:, self.owners == j]
            if cols.shape[1]:
                out[:, j] = cols.max(axis=1)
        return out


_index: _PrototypeIndex | None = None
_index_lock = threading.Lock()


def _prototype_index() -> _PrototypeIndex:
    global _index
    if _index is None:
        with _index_lock:
            if _index is None:
                _index = _PrototypeIndex()
    return _index


def _meaning_matches(clauses: Sequence[str], source: str) -> list[tuple[Prototype, Match]]:
    if not clauses:
        return []
    scores = _prototype_index().scores(clauses)
    found: list[tuple[Prototype, Match]] = []
    for clause, row in zip(clauses, scores, strict=True):
        ranked = np.argsort(-row)
        if PROTOTYPES[ranked[0]].is_distractor:
            continue  # the clause is about something else than delivery
        # The runner-up is usually a neighbour of the winner in MiniLM's space (often its antonym:
        # "slowly" sits close to "fast"), not a second instruction; it counts only when nearly as close
        # as the winner and from another family.
        top = float(row[ranked[0]])
        families: set[str] = set()
        for j in ranked[:_PER_CLAUSE + 2]:
            proto, score = PROTOTYPES[j], float(row[j])
            if score < max(_SIM_LOW, top - _RUNNER_UP_MARGIN) or len(families) >= _PER_CLAUSE:
                break
            if proto.is_distractor or proto.family in families:
                continue
            families.add(proto.family)
            weight = min(1.0, (score - _SIM_LOW) / (_SIM_FULL - _SIM_LOW))
            found.append((proto, Match(source, clause, proto.name, proto.family, "meaning", score, weight)))
    return found


def _family_winners(text: str | None, source: str, scale: float = 1.0) -> dict[str, tuple[Prototype, Match]]:
    """The strongest cue of each family in ``text`` (rules beat meaning at equal weight).

    A clause in which a keyword fired is read by the rules only: keywords are precise, and the embedder's
    view of the same few words adds neighbours rather than information ("deep breath" ~ "breathless").
    """
    if not text or not text.strip():
        return {}
    evidence: list[tuple[Prototype, Match]] = []
    unruled: list[str] = []
    for clause in _clauses(text):
        rules = _rule_matches(clause, source)
        evidence += rules
        if not rules:
            unruled.append(clause)
    evidence += _meaning_matches(unruled, source)
    winners: dict[str, tuple[Prototype, Match]] = {}
    for proto, match in evidence:
        best = winners.get(proto.family)
        if best is None or match.weight > best[1].weight or (
                match.weight == best[1].weight and best[1].via == "meaning" and match.via != "meaning"):
            winners[proto.family] = (proto, match)
    if scale != 1.0:
        winners = {f: (p, replace(m, weight=m.weight * scale)) for f, (p, m) in winners.items()}
    return winners


@lru_cache(maxsize=512)
def _explain_cached(action: str | None, voice_description: str | None,
                    register: str | None) -> tuple[Direction, tuple[Match, ...]]:
    winners = _family_winners(voice_description, "voice", _VOICE_WEIGHT)
    winners.update(_family_winners(action, "action"))  # the action overrides the base, family by family
    if register is not None:
        proto = _BY_NAME[_REGISTER_PROTOTYPE[register]]
        winners["volume"] = (proto, Match("register", register, proto.name, "volume", "keyword", 1.0, 1.0))

    direction = Direction()
    used: list[Match] = []
    for family in FAMILIES:
        if family in winners:
            proto, match = winners[family]
            direction = direction.combine(proto.direction.scaled(match.weight))
            used.append(match)
    used.sort(key=lambda m: -m.weight)
    labels = tuple(m.prototype if m.source != "voice" else f"voice:{m.prototype}" for m in used)
    # "Normal voice" is an explicit reset: it beats a soft base and an angry emotion's "loud" alike.
    volume = winners.get("volume")
    if volume is not None and volume[0].direction.register == "normal":
        direction = replace(direction, register="normal")
    return replace(direction.clamped(), labels=labels), tuple(used)


def explain(action: str | None, voice_description: str | None = None,
            register: str | None = None) -> tuple[Direction, list[Match]]:
    """Like :func:`interpret`, plus the evidence used (strongest first) for the ``--explain`` table."""
    if register is not None and register not in REGISTERS:
        raise ScriptError(f"unknown register {register!r}; expected one of {', '.join(REGISTERS)}",
                          field="register")
    direction, used = _explain_cached(action, voice_description, register)
    return direction, list(used)


def interpret(action: str | None, voice_description: str | None = None,
              register: str | None = None) -> Direction:
    """The Direction for speech under ``action``, spoken by a speaker described by ``voice_description``.

    ``register`` (from markup, e.g. ``register="whisper"``) overrides any volume cue in the texts. The
    embedder loads on the first call that needs it (~0.2 s; the prototype vectors come from the disk
    cache, or take a few seconds to compute once); a new text then costs ~10 ms per clause and repeated
    texts are answered from memory.
    """
    return explain(action, voice_description, register)[0]
