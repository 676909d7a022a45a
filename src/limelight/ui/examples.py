"""Example scripts one click away in the studio.

The project's example scripts live in the shared data folder (``$LIMELIGHT_SHARED/texts/scripts``), which an
installed copy of limelight usually does not have; so a few short examples are embedded here as well, and the
studio shows both. Embedded ones come first: they are short, so a first click on Generate answers in seconds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ExampleScript:
    """One example: a button label, the markup, and where it came from ("built-in" or a file path)."""

    name: str
    text: str
    source: str = "built-in"


EMBEDDED: tuple[ExampleScript, ...] = (
    ExampleScript("Hello", "Hello! This is limelight. Write a script, pick a voice, and press Generate."),
    ExampleScript(
        "Bedtime whisper",
        '<speak voice="A young woman, soft and close to the microphone." gender="female">\n'
        "<action>Whispering.</action>\n"
        "The lights are off, and the house is quiet.\n"
        "<action>Speaking softly, smiling.</action>\n"
        "Sleep well. [sigh]\n"
        "</speak>",
    ),
    ExampleScript(
        "Two voices",
        "<script>\n"
        '<speak voice="Adult man, calm and low." gender="male">Did you hear that?</speak>\n'
        '<speak voice="Young woman, nervous." gender="female">\n'
        "<action>Whispering.</action> It came from the attic.\n"
        "</speak>\n"
        "</script>",
    ),
    ExampleScript(
        "Storm at sea",
        '<speak voice="Man in his forties, weathered." gender="male" scene="A harbour in a storm">\n'
        "<sound>Thunder cracks overhead</sound>\n"
        "<action>Shouting over the wind.</action>\n"
        "Tie it down! Now!\n"
        '<pause seconds="0.8"/>\n'
        "<action>Calmer, out of breath.</action> We made it.\n"
        "</speak>",
    ),
)


def shared_scripts_dir() -> Path | None:
    """``$LIMELIGHT_SHARED/texts/scripts``, else ``shared/texts/scripts`` beside or above the working directory."""
    candidates: list[Path] = []
    if os.environ.get("LIMELIGHT_SHARED"):
        candidates.append(Path(os.environ["LIMELIGHT_SHARED"]))
    cwd = Path.cwd()
    candidates += [cwd / "shared", cwd.parent / "shared"]
    for base in candidates:
        folder = base / "texts" / "scripts"
        if folder.is_dir():
            return folder
    return None


def load_examples(folder: Path | None = None) -> list[ExampleScript]:
    """The embedded examples followed by every ``*.xml`` in the shared scripts folder (read at run time)."""
    examples = list(EMBEDDED)
    folder = folder if folder is not None else shared_scripts_dir()
    if folder is None or not folder.is_dir():
        return examples
    for path in sorted(folder.glob("*.xml")):
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            continue  # an unreadable example is not worth failing the studio over
        if text:
            examples.append(ExampleScript(path.stem.replace("_", " "), text, str(path)))
    return examples
