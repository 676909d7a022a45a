"""Free text → sounds and rooms: the keyword path (always there), the embedding path, the fallback."""

from __future__ import annotations

import importlib.util

import pytest

from limelight.scene import ROOMS, SOUNDS, match_scene, match_sound, matching, room_for_scene
from limelight.scene.library import _matcher
from limelight.scene.matching import Candidate, PhraseMatcher, stem, tokens

EFFECTS_BY_WORDS = [
    ("Thunder cracks overhead", "thunder_crack"),
    ("Thunder rumbles in the distance", "thunder_rumble"),
    ("A door slams", "door_slam"),
    ("the door closes", "door_slam"),
    ("Someone knocks on the door", "door_knock"),
    ("Footsteps approaching", "footsteps"),
    ("Glass shatters", "glass_break"),
    ("a window breaks", "glass_break"),
    ("The phone rings", "phone_ring"),
    ("The audience applauds", "applause"),
    ("A shot rings out", "gunshot"),
    ("A car horn honks", "car_horn"),
    ("Her heart pounds", "heartbeat"),
    ("A clock ticks", "clock_ticking"),
]

SCENES_BY_WORDS = [
    ("A dimly lit office, late at night", ["office"], "office"),
    ("Open dock in a thunderstorm", ["thunderstorm", "ocean"], "outdoors"),
    ("A busy café on a rainy afternoon", ["cafe", "rain_light"], "small_room"),
    ("Crickets on a summer night", ["night_insects"], "outdoors"),
    ("A crowded train station", ["crowd"], "large_hall"),
    ("By the fireplace in a cabin", ["fire"], "small_room"),
    ("Heavy rain pouring down", ["rain_heavy"], None),
    ("A forest clearing", ["forest"], "outdoors"),
]

UNKNOWN = ["a dog barks", "a baby cries", "a spaceship bridge", "", "   ", "!!!"]


def test_stemming_is_consistent_across_word_forms() -> None:
    assert stem("cracks") == stem("cracking") == stem("cracked") == stem("crack")
    assert stem("crackles") == stem("crackling") == stem("crackle")
    assert stem("slammed") == stem("slams") == stem("slam")
    assert stem("rainy") == stem("rain") == stem("raining")
    assert stem("glass") == stem("glasses") == "glass"
    assert tokens("The Café, at night!") == ["caf", "night"]


@pytest.mark.parametrize(("description", "expected"), EFFECTS_BY_WORDS)
def test_keyword_path_finds_effects(description: str, expected: str) -> None:
    m = match_sound(description, "effect", method="keyword")
    assert m is not None and m.name == expected and m.method == "keyword"
    assert m.score >= matching.KEYWORD_THRESHOLD and m.phrase


@pytest.mark.parametrize(("scene", "layers", "room"), SCENES_BY_WORDS)
def test_keyword_path_finds_scene_layers_and_rooms(scene: str, layers: list[str], room: str | None) -> None:
    assert [m.name for m in match_scene(scene, method="keyword")] == layers
    if room is not None:
        assert room_for_scene(scene, method="keyword").name == room


@pytest.mark.parametrize("description", UNKNOWN)
def test_unknown_descriptions_match_nothing(description: str) -> None:
    assert match_sound(description, method="keyword") is None
    assert match_scene(description, method="keyword") == []


def test_kind_restricts_the_search() -> None:
    assert match_sound("heavy rain", "ambience", method="keyword").name == "rain_heavy"
    assert match_sound("heavy rain", "effect", method="keyword") is None
    with pytest.raises(ValueError):
        match_sound("rain", "music")


def test_scene_layers_never_double_up_a_sound() -> None:
    """A thunderstorm already contains heavy rain and wind: no second rain bed on top."""
    names = [m.name for m in match_scene("A thunderstorm, heavy rain and wind", method="keyword")]
    assert names == ["thunderstorm"]


def test_rooms_from_words() -> None:
    cases = {"a tiled bathroom": "bathroom", "inside a car": "car", "A cathedral": "large_hall",
             "a voicemail message": "telephone", "an old radio broadcast": "radio", "a small bedroom": "small_room"}
    for scene, room in cases.items():
        assert room_for_scene(scene, method="keyword").name == room, scene
    assert room_for_scene(None).name == "dry"
    assert room_for_scene("a spaceship bridge", method="keyword").name == "dry"  # no invented space
    assert set(ROOMS) >= {"dry", "small_room", "office", "large_hall", "bathroom", "outdoors", "car", "telephone"}


def test_every_sound_is_found_by_its_own_phrasings() -> None:
    for spec in SOUNDS.values():
        for phrase in spec.phrasings:
            m = match_sound(phrase, spec.kind, method="keyword")
            assert m is not None and m.name == spec.name, (phrase, m)


def test_auto_falls_back_to_keywords_when_the_embedder_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matching, "load_embedder", lambda: None)
    m = match_sound("Footsteps approaching", "effect")
    assert m is not None and m.name == "footsteps" and m.method == "keyword"
    monkeypatch.setattr(matching, "_EMBED_UNAVAILABLE", ["pretend: not importable"])
    with pytest.raises(ImportError):
        match_sound("Footsteps approaching", "effect", method="embedding")


def test_embedding_scores_are_cosines_against_phrasings() -> None:
    """The embedding path with a stand-in embedder whose geometry is known: bag-of-letters vectors."""
    import numpy as np

    def letters(texts: list[str]) -> np.ndarray:
        v = np.array([[t.lower().count(c) for c in "abcdefghijklmnopqrstuvwxyz"] for t in texts], dtype=float)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    matcher = PhraseMatcher([Candidate("aaa", ("aaaa",)), Candidate("zzz", ("zzzz",))], embed_threshold=0.9)
    found = matcher._embedding("aaaaab", letters)
    assert [m.name for m in found] == ["aaa"]
    assert found[0].score == pytest.approx(5 / np.sqrt(26), abs=1e-6) and found[0].phrase == "aaaa"
    assert matcher._embedding("mmm", letters) == []


EMBED_AVAILABLE = importlib.util.find_spec("limelight.text.embed") is not None


@pytest.mark.skipif(not EMBED_AVAILABLE, reason="limelight.text.embed (MiniLM) is not importable yet")
@pytest.mark.parametrize(("description", "kind", "expected"), [
    ("a gun goes off", "effect", "gunshot"),
    ("the crowd cheers", "effect", "applause"),
    ("boots on the stairs", "effect", "footsteps"),
    ("a thunderclap", "effect", "thunder_crack"),
    ("a windswept cliff", "ambience", "wind"),
    ("a campfire in the woods", "ambience", "fire"),
    ("a busy street in New York", "ambience", "traffic"),
    ("a sunny meadow", "ambience", "forest"),
    ("a cat meows", "effect", None),
    ("the kettle whistles", "effect", None),
    ("a spaceship bridge", "ambience", None),
])
def test_embedding_path_matches_by_meaning(description: str, kind: str, expected: str | None) -> None:
    m = _matcher(kind).match(description, "embedding")
    assert (m.name if m else None) == expected
    if m is not None:
        assert m.method == "embedding" and m.score >= matching.EMBED_THRESHOLD


@pytest.mark.skipif(not EMBED_AVAILABLE, reason="limelight.text.embed (MiniLM) is not importable yet")
def test_auto_uses_the_embedder_and_layers_the_example_scene() -> None:
    layers = match_scene("Open dock in a thunderstorm")
    assert [m.name for m in layers] == ["thunderstorm", "ocean"]
    assert layers[0].method == "embedding"
    assert room_for_scene("Open dock in a thunderstorm").name == "outdoors"
    assert room_for_scene("A dimly lit office, late at night").name == "office"
