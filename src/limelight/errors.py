"""Errors that users can cause and fix themselves.

Every front door (CLI, HTTP, UI) catches :class:`LimelightError` and shows its message as one line
(exit code 2, HTTP 4xx, a message next to the field). Anything else escaping is a bug in limelight.
"""

from __future__ import annotations


class LimelightError(Exception):
    """A problem with the user's input, named precisely enough to fix it.

    ``field`` names the input that was wrong (a CLI option, a JSON field); ``line``/``col`` point into
    markup when the problem is inside a script (1-based).
    """

    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None, line: int | None = None,
                 col: int | None = None) -> None:
        self.message = message
        self.field = field
        self.line = line
        self.col = col
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"line {self.line}, col {self.col}: " if self.line is not None else ""
        return f"{where}{self.message}"


class ScriptError(LimelightError):
    """Malformed or unsupported `<speak>` markup."""

    code = "invalid_script"


class VoiceError(LimelightError):
    """Unknown voice name, bad blend spec, or unusable reference audio."""

    code = "invalid_voice"


class AudioInputError(LimelightError):
    """Reference audio that cannot be decoded or is out of bounds (length, silence)."""

    code = "invalid_audio"


class ModelFileError(LimelightError):
    """A model file that is missing, fails its checksum, or could not be fetched."""

    code = "model_unavailable"
