"""Bounds on what one request may cost, checked before work starts and while it runs.

The prompt is bounded in characters (``max_prompt_chars``), but a short script can still ask for hours of
audio (945 × ``<pause seconds="30"/>`` is 20 kB and 7.9 h). So before a job is admitted, its output is
estimated from the parsed script — its explicit pauses, exactly, plus its text at a fast speaking rate — and a
script that would already exceed ``max_audio_s`` is refused with 413 without rendering anything. The estimate
is a floor; the job itself runs under the same cap (`limelight.limits`), which stops it at the first piece
past the limit. Encoded responses are capped in bytes as well (``max_output_bytes``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from ..errors import LimelightError
from ..limits import OutputTooLong

FAST_CHARS_PER_S = 40.0  # faster than any speed the performer renders: the estimate never overshoots


def output_floor_s(prompt: str) -> float:
    """Seconds of audio ``prompt`` will produce at least: its pauses plus its text spoken very fast."""
    from ..script import parse
    from ..script.model import PauseSegment

    try:
        script = parse(prompt)
    except LimelightError:
        return 0.0  # the performer reports the markup error with its line and column
    pauses = sum(float(seg.seconds) for seg in script.segments if isinstance(seg, PauseSegment))
    return pauses + len(script.plain_text()) / FAST_CHARS_PER_S


def check_output_estimate(prompt: str, max_audio_s: float, field: str) -> None:
    floor = output_floor_s(prompt)
    if floor > max_audio_s:
        raise OutputTooLong(f"this script asks for at least {floor:.0f} s of audio; this server's limit is "
                            f"{max_audio_s:g} s per request (max_audio_s); split it into shorter requests",
                            field=field)


def check_output_bytes(n_bytes: int, max_bytes: int, field: str) -> None:
    if n_bytes > max_bytes:
        raise OutputTooLong(f"the encoded audio is {n_bytes} bytes; this server's limit is {max_bytes} bytes per "
                            "response (max_output_bytes); ask for less audio or a compressed format", field=field)


def disconnected(request: Request) -> Any:
    """An awaitable factory that returns once the client has gone (after the body has been read)."""

    async def wait() -> None:
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                return

    return wait
