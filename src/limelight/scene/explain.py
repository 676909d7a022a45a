"""The scene as `limelight say --explain` shows it: which beds a scene description becomes, which library
sound each ``<sound>`` mark plays, and whether any of it will be heard with the current options."""

from __future__ import annotations

from typing import Any


def scene_lines(scene: str | None, shot: str | None, sounds: list[str], background_sfx: bool) -> list[str]:
    """Human-readable lines for a script's scene and sound marks (empty when the script has neither)."""
    if not scene and not sounds:
        return []
    from .library import match_scene, match_sound

    lines: list[str] = []
    if scene:
        beds = match_scene(scene)
        what = ", ".join(f"{b.name} ({b.score:.2f} via {b.method})" for b in beds) or "no matching bed (silent)"
        lines.append(f"scene: {scene!r}" + (f", shot={shot}" if shot else "") + f" -> beds: {what}")
    for description in sounds:
        m = match_sound(description, "effect")
        lines.append(f"sound: {description!r} -> " + (f"{m.name} ({m.score:.2f} via {m.method})" if m
                                                      else "no matching effect (silent)"))
    lines.append("background sound: on" if background_sfx else
                 "background sound: OFF -- only the room is applied; add --background-sfx to hear beds and effects")
    return lines


def explain_scene(rows: list[dict[str, Any]], script: Any, background_sfx: bool) -> list[str]:
    """`scene_lines` for a parsed script and the explain rows of its plan."""
    sounds = [r["description"] for r in rows if r.get("kind") == "sound"]
    return scene_lines(getattr(script, "scene", None), getattr(script, "shot", None), sounds, background_sfx)
