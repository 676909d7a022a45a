"""The sound library: every procedural sound with the words that summon it and how loud it sits.

``SOUNDS`` is the single registry the matcher, the mixer and the docs read. Levels are relative to the
voice's active speech level (dB), so a scene sounds the same whatever the voice's own loudness: beds sit
far below speech (and are ducked a further 20 dB while someone talks, ``mix.DUCK_DB``), effects sit near
it. Bed levels were lowered until Whisper base's word errors on Kokoro speech stayed within 1.5× the clean
count (a thunderstorm at −18 dB with −8 dB ducking cost 15 errors against 7 clean; at −21/−12, 9); ducking went
on to −20 dB when heavy rain at −12 and −16 still cost a word on sentences Whisper got right clean.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from . import ambience, babble, effects
from .matching import Candidate, Method, PhraseMatcher, SoundMatch

SoundGenerator = Callable[[float, int, np.random.Generator], np.ndarray]
Kind = Literal["ambience", "effect"]


@dataclass(frozen=True)
class SoundSpec:
    """One sound: how to make it and how to find it.

    ``level_db`` is relative to the voice's active level (see :mod:`.dynamics`). ``duration_s`` is an
    effect's natural length (ambience ignores it: beds are as long as the scene). ``room`` names the room
    preset this sound implies when the scene itself names none (waves → outdoors). ``conflicts`` lists
    sounds that must not be layered with this one (a thunderstorm already contains rain and wind).
    """

    name: str
    kind: Kind
    phrasings: tuple[str, ...]
    level_db: float
    generate: SoundGenerator = field(repr=False)
    keywords: tuple[str, ...] = ()
    duration_s: float = 4.0
    room: str | None = None
    conflicts: tuple[str, ...] = ()

    def render(self, duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
        """Generate ``duration_s`` seconds of this sound (float32, mono)."""
        return self.generate(duration_s, sr, rng)


def _amb(name: str, generate: SoundGenerator, level_db: float, phrasings: tuple[str, ...],
         keywords: tuple[str, ...], room: str | None = None, conflicts: tuple[str, ...] = ()) -> SoundSpec:
    return SoundSpec(name, "ambience", phrasings, level_db, generate, keywords, 30.0, room, conflicts)


def _fx(name: str, generate: SoundGenerator, level_db: float, duration_s: float, phrasings: tuple[str, ...],
        keywords: tuple[str, ...]) -> SoundSpec:
    return SoundSpec(name, "effect", phrasings, level_db, generate, keywords, duration_s)


_RAIN = ("rain_light", "rain_heavy", "thunderstorm")
_TALK = ("crowd", "cafe")

SOUNDS: dict[str, SoundSpec] = {s.name: s for s in [
    # --- ambience beds ---
    _amb("rain_light", ambience.rain_light, -25,
         ("light rain falling", "gentle rain on the roof", "a drizzle outside", "rain against the window",
          "a rainy day"),
         ("rain", "drizzle", "light rain", "rainfall", "raindrops"), conflicts=_RAIN),
    _amb("rain_heavy", ambience.rain_heavy, -22,
         ("heavy rain pouring down", "a torrential downpour", "rain hammering on the roof",
          "pouring rain outside"),
         ("heavy rain", "downpour", "pouring rain", "torrential", "monsoon", "cloudburst"), conflicts=_RAIN),
    _amb("wind", ambience.wind, -24,
         ("wind howling", "a strong gusty wind", "a windy hilltop", "a blizzard", "wind whistling outside"),
         ("wind", "windy", "gust", "gale", "breeze", "blizzard", "howling wind"),
         room="outdoors", conflicts=("thunderstorm",)),
    _amb("thunderstorm", ambience.thunderstorm, -21,
         ("a thunderstorm", "a storm with thunder and heavy rain", "distant thunder rolling in the rain",
          "a stormy night", "a storm with wind and rain"),
         ("thunderstorm", "storm", "stormy", "thunder", "lightning", "tempest", "hurricane"),
         conflicts=(*_RAIN, "wind")),
    _amb("ocean", ambience.ocean, -23,
         ("waves crashing on the beach", "the ocean surf", "the sea shore", "waves lapping at a dock",
          "a harbour by the sea"),
         ("ocean", "sea", "seaside", "beach", "surf", "waves", "shore", "coast", "dock", "pier",
          "harbour", "harbor", "port"),
         room="outdoors"),
    _amb("river", ambience.river, -24,
         ("a flowing river", "a babbling brook", "a stream running over rocks", "water flowing"),
         ("river", "stream", "brook", "creek", "waterfall", "flowing water", "rapids"), room="outdoors"),
    _amb("fire", ambience.fire, -23,
         ("a crackling fire", "a campfire burning", "logs burning in the fireplace", "a roaring bonfire"),
         ("fire", "campfire", "fireplace", "bonfire", "hearth", "crackling fire", "flames")),
    _amb("crowd", babble.crowd, -24,
         ("a crowd murmuring", "people chatting at a party", "a busy train station", "a crowded hall",
          "a busy restaurant", "a bustling market"),
         ("crowd", "crowded", "murmur", "chatter", "party", "audience", "bar", "pub", "restaurant",
          "station", "market", "lobby", "busy hall", "cocktail party"),
         room="large_hall", conflicts=_TALK),
    _amb("cafe", babble.cafe, -24,
         ("a busy café", "a coffee shop", "people talking over coffee", "cups clinking in a cafe"),
         ("cafe", "coffee shop", "coffeehouse", "diner", "coffee", "bistro", "cafeteria", "canteen"),
         room="small_room", conflicts=_TALK),
    _amb("traffic", ambience.traffic, -25,
         ("city traffic", "cars passing on a busy street", "a highway nearby", "the noise of the city"),
         ("traffic", "street", "road", "highway", "city", "downtown", "intersection", "freeway", "cars"),
         room="outdoors"),
    _amb("office", ambience.office, -30,
         ("an office", "a quiet office with people typing", "keyboards clicking in an open office",
          "a workplace"),
         ("office", "cubicle", "workplace", "typing", "keyboard", "newsroom", "open office"),
         room="office", conflicts=("room_tone",)),
    _amb("room_tone", ambience.room_tone, -35,
         ("quiet room tone", "the hum of an empty room", "air conditioning humming", "a silent room",
          "an empty room"),
         ("room tone", "hum", "air conditioning", "ventilation", "empty room", "silent room", "quiet room",
          "bedroom", "living room", "library", "hospital room", "waiting room"),
         room="small_room", conflicts=("office",)),
    _amb("night_insects", ambience.night_insects, -27,
         ("crickets chirping at night", "insects in the night", "a warm summer night in the countryside",
          "night insects buzzing"),
         ("cricket", "crickets", "insects", "cicada", "cicadas", "summer night", "night insects"),
         room="outdoors"),
    _amb("forest", ambience.forest, -26,
         ("a forest with birds singing", "birdsong in the woods", "leaves rustling in a forest",
          "a park in the morning"),
         ("forest", "woods", "woodland", "birds", "birdsong", "jungle", "trees", "garden", "park", "meadow"),
         room="outdoors"),
    # --- effects ---
    _fx("thunder_crack", effects.thunder_crack, 0.0, 6.0,
        ("thunder cracks overhead", "a loud clap of thunder", "lightning strikes nearby", "a thunderclap"),
        ("thunder crack", "thunderclap", "clap of thunder", "lightning strike", "lightning", "thunder")),
    _fx("thunder_rumble", effects.thunder_rumble, -4.0, 6.0,
        ("thunder rumbles in the distance", "a distant roll of thunder", "far off thunder"),
        ("distant thunder", "rumble", "thunder rumble", "rolling thunder")),
    _fx("door_slam", effects.door_slam, -3.0, 1.5,
        ("a door slams shut", "someone slams the door", "a door bangs closed", "the door closes"),
        ("slam", "slams", "door slam", "door closes", "door shuts", "bang")),
    _fx("door_knock", effects.door_knock, -6.0, 1.4,
        ("a knock at the door", "someone knocks on the door", "knocking on wood"),
        ("knock", "knocks", "knocking")),
    _fx("footsteps", effects.footsteps, -12.0, 5.0,
        ("footsteps approaching", "someone walking across the floor", "steps on a hard floor",
         "footsteps echo in the hall"),
        ("footsteps", "footstep", "steps", "walking", "walks", "pacing", "stomp")),
    _fx("glass_break", effects.glass_break, -3.0, 2.0,
        ("glass shatters", "a window breaks", "a bottle smashes on the floor", "breaking glass"),
        ("glass", "shatter", "shatters", "smash", "window breaks", "breaking glass")),
    _fx("phone_ring", effects.phone_ring, -8.0, 6.0,
        ("the phone rings", "a telephone ringing", "a phone call coming in"),
        ("phone", "telephone", "ringing", "rings", "ringtone")),
    _fx("applause", effects.applause, -4.0, 5.0,
        ("the audience applauds", "a round of applause", "people clapping", "a standing ovation"),
        ("applause", "applauds", "clapping", "claps", "ovation", "cheering")),
    _fx("gunshot", effects.gunshot, 0.0, 2.0,
        ("a gunshot", "a shot rings out", "a pistol is fired", "gunfire in the distance"),
        ("gunshot", "gun", "gunfire", "shot", "pistol", "rifle", "revolver")),
    _fx("car_horn", effects.car_horn, -6.0, 1.2,
        ("a car horn honks", "someone honks the horn", "a driver blares the horn"),
        ("horn", "honk", "honks", "car horn", "beep")),
    _fx("heartbeat", effects.heartbeat, -6.0, 6.0,
        ("a heartbeat", "a heart pounding", "the sound of a beating heart", "heart thumping"),
        ("heartbeat", "heart", "heartbeats", "pulse")),
    _fx("clock_ticking", effects.clock_ticking, -14.0, 8.0,
        ("a clock ticking", "the tick tock of a clock", "a wall clock ticks"),
        ("clock", "ticking", "tick", "tock", "tick tock", "watch")),
]}


_matchers: dict[str | None, PhraseMatcher] = {}


def _matcher(kind: str | None) -> PhraseMatcher:
    if kind not in _matchers:
        if kind not in (None, "ambience", "effect"):
            raise ValueError(f"kind must be 'ambience', 'effect' or None, got {kind!r}")
        _matchers[kind] = PhraseMatcher([Candidate(s.name, s.phrasings, s.keywords) for s in SOUNDS.values()
                                         if kind is None or s.kind == kind], cache_name=f"scene-sounds-{kind}")
    return _matchers[kind]


def match_sound(description: str, kind: str | None = None, *, method: Method = "auto") -> SoundMatch | None:
    """The library sound a free-text description means, or None when none fits (the caller reports it).

    ``kind`` restricts the search to ambience beds or effects; ``method`` forces the embedding or keyword
    path (``auto`` uses the sentence embedder when it imports, else keywords).
    """
    return _matcher(kind).match(description, method)


LAYER_EMBED_MIN = 0.6
"""A clause adds a second bed only with a clear embedding match ("late at night" → insects scores 0.55)."""

_CLAUSE = r",|;|\band\b|\bwith\b|\bin\b|\bon\b|\bduring\b|\bnear\b|\bby\b|\bunder\b|\bwhile\b"


def match_scene(scene: str, *, method: Method = "auto", max_layers: int = 2) -> list[SoundMatch]:
    """Ambience layers for a scene description: the best match for the whole text, plus the best match
    of any clause ("Open dock | in a thunderstorm") that adds a sound not conflicting with the first."""
    layers: list[SoundMatch] = []
    first = match_sound(scene, "ambience", method=method)
    if first is not None:
        layers.append(first)
    clauses = [c.strip() for c in re.split(_CLAUSE, scene) if c and c.strip()]
    extra = [m for c in clauses if c != scene.strip() for m in [match_sound(c, "ambience", method=method)] if m]
    for m in sorted(extra, key=lambda m: -m.score):
        if len(layers) >= max_layers:
            break
        if m.method == "embedding" and m.score < LAYER_EMBED_MIN:
            continue
        if all(m.name != kept.name and m.name not in SOUNDS[kept.name].conflicts
               and kept.name not in SOUNDS[m.name].conflicts for kept in layers):
            layers.append(m)
    return layers
