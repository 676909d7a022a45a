"""The markup cheat-sheet shown beside the editor: the whole `<speak>` vocabulary on one screen."""

from __future__ import annotations


def cheat_sheet() -> str:
    """Markdown for the cheat-sheet; the event list comes from the parser's own table so they never disagree."""
    try:
        from ..script.events import describe_known_events

        events = describe_known_events()
    except ImportError:  # pragma: no cover - the script stage is part of every build
        events = "[laugh] [sigh] [gasp] [cough] [breath] [pause]"
    return f"""
| write | effect |
|---|---|
| `Plain text` | spoken by the chosen voice, no markup needed |
| `<speak voice="Old man, gravelly" gender="male">…</speak>` | who speaks: a description or voice name, and gender |
| `scene="A busy café"` `shot="scene"` | ambience under the voice (kept when *background sfx* is on) |
| `language="ja"` `register="whisper"` | language; register: whisper, soft, normal, loud, shout |
| `<action>Nervous, speeding up.</action>` | direction for the speech after it, until the next action |
| `<sound>Door slams</sound>` | a sound effect at that point |
| `<pause seconds="1.2"/>` | silence |
| `<line voice="…" gender="…">…</line>` | another speaker inside a `<speak>` (or several `<speak>` in a `<script>`) |

**Events** (in square brackets, inline): {events}
"""
