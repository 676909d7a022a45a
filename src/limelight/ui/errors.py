"""Showing a user's mistake next to the field that caused it, never as a stack trace.

A :class:`~limelight.errors.LimelightError` names its ``field`` (and ``line``/``col`` inside a script); the
studio has one error box under each group of inputs (script, voice, settings) and one under Generate, and
:func:`place_of` picks the box. Anything that is not a LimelightError is a bug in limelight: the user sees one
line saying so, the traceback goes to the server log.
"""

from __future__ import annotations

import html
import logging

from ..errors import LimelightError

log = logging.getLogger("limelight.ui")

SCRIPT, VOICE, SETTINGS, GENERAL = "script", "voice", "settings", "general"
"""The four error boxes: under the editor, under the voice picker, under the settings, under Generate."""

_VOICE_FIELDS = frozenset({"voice", "reference", "reference_voice_url", "name", "description", "gender",
                           "skip_vc", "vc_steps", "vc_cfg_rate"})
_SETTINGS_FIELDS = frozenset({"pace", "seed", "validate", "min_match_ratio", "background_sfx", "language", "speed",
                              "max_attempts", "mode"})
_SCRIPT_FIELDS = frozenset({"prompt", "script", "input", "text"})


def place_of(error: LimelightError) -> str:
    """Which error box shows this error."""
    if error.line is not None or error.field in _SCRIPT_FIELDS:
        return SCRIPT
    if error.field in _VOICE_FIELDS:
        return VOICE
    if error.field in _SETTINGS_FIELDS:
        return SETTINGS
    return GENERAL


def error_html(error: LimelightError, script: str | None = None) -> str:
    """The error as a small alert box; with a line/col, the offending script line is quoted with a caret."""
    where = f"line {error.line}, col {error.col}: " if error.line is not None else ""
    body = f"<strong>{html.escape(where)}</strong>{html.escape(error.message)}"
    snippet = _snippet(script, error.line, error.col) if script is not None else ""
    if snippet:
        body += f"<pre class='ll-snippet'>{html.escape(snippet)}</pre>"
    return f"<div class='ll-error' role='alert'>{body}</div>"


def bug_html(exc: BaseException) -> str:
    """An unexpected failure: one readable line for the user, the traceback to the log."""
    log.error("unexpected error in the studio", exc_info=exc)
    text = f"limelight failed unexpectedly ({type(exc).__name__}: {exc}). This is a bug; details are in the server log."
    return f"<div class='ll-error' role='alert'>{html.escape(text)}</div>"


def note_html(text: str) -> str:
    """A neutral notice (e.g. a feature missing from this build) in the same place an error would be."""
    return f"<div class='ll-note'>{html.escape(text)}</div>"


def _snippet(script: str, line: int | None, col: int | None) -> str:
    if line is None:
        return ""
    lines = script.splitlines()
    if not 1 <= line <= len(lines):
        return ""
    gutter = f"{line:>3} | "
    caret = " " * (len(gutter) + max((col or 1) - 1, 0)) + "^"
    return f"{gutter}{lines[line - 1]}\n{caret}"
