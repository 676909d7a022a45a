"""``POST /v1/audio/speech``: OpenAI's text-to-speech endpoint, so existing OpenAI clients work unchanged.

The body is OpenAI's (model, input, voice, instructions, response_format, speed, stream_format); the answer is
audio bytes in the asked format. What OpenAI's JSON cannot carry is sent as headers: the voice actually used,
seed, processing time, and ``X-Limelight-Not-Applied`` listing any request field that had no effect.
With ``"stream": true`` audio is sent as it is made (chunked transfer), for pcm, wav and opus.
"""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from fastapi import APIRouter, Depends
from fastapi.responses import Response, StreamingResponse

from ...check.report import header_value
from ...errors import LimelightError
from .. import formats
from ..schemas import SpeechRequest
from ..state import ServerState, server_state
from ..voices import resolve_openai_voice, shipped
from .generate import ERRORS, check_prompt_length

router = APIRouter()
log = logging.getLogger("limelight.serve")

AUDIO_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {formats.media_type(f): {"schema": {"type": "string", "format": "binary"}}
                      for f in formats.FORMATS},
          "description": "Audio in the requested format"},
    **ERRORS,
}


def _looks_like_markup(text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return head.startswith("<speak") or head.startswith("<script") or head.startswith("<?xml")


def _prompt(req: SpeechRequest, voice: str, performer: Any) -> tuple[str, bool]:
    """The text to perform, and whether ``instructions`` were applied (as an ``<action>`` before plain text)."""
    if not req.instructions or not req.instructions.strip():
        return req.input, False
    if _looks_like_markup(req.input):
        return req.input, False  # the markup carries its own directions
    v = shipped(performer).get(voice)
    gender = getattr(v, "gender", None) or "female"
    markup = (f'<speak voice="{html.escape(voice)}" gender="{gender}"><action>{html.escape(req.instructions)}'
              f"</action>{html.escape(req.input)}</speak>")
    return markup, True


def _headers(req: SpeechRequest, voice: str, sr: int, metadata: dict[str, Any] | None,
             instructions_applied: bool) -> dict[str, str]:
    not_applied = sorted(req.model_extra or {})
    if req.instructions and not instructions_applied:
        not_applied.append("instructions")
    for entry in (metadata or {}).get("not_applied", []):
        name = str(entry.get("field", ""))
        if name and name not in not_applied:
            not_applied.append(name)
    headers = {"X-Limelight-Voice": voice, "X-Limelight-Sample-Rate": str(formats.output_rate(req.response_format,
                                                                                               sr)),
               "X-Limelight-Model": f"limelight ({req.model} requested)"}
    if metadata:
        headers["X-Limelight-Seed"] = str(metadata.get("seed", ""))
        headers["X-Limelight-Processing-Ms"] = str(metadata.get("processing_ms", ""))
        headers["X-Limelight-Validation"] = header_value(metadata.get("validation"))
    if not_applied:
        headers["X-Limelight-Not-Applied"] = ",".join(not_applied)
    # header values must be latin-1; field names from clients may not be
    return {k: v.encode("latin-1", "replace").decode("latin-1") for k, v in headers.items()}


@router.post("/v1/audio/speech", responses=AUDIO_RESPONSES, response_class=Response, tags=["openai"],
             summary="OpenAI-compatible text to speech")
async def speech(req: SpeechRequest, state: ServerState = Depends(server_state)) -> Response:
    check_prompt_length(req.input, state.settings.max_prompt_chars, "input")
    performer = state.performer
    voice = resolve_openai_voice(req.voice_name(), performer)
    prompt, instructions_applied = _prompt(req, voice, performer)
    validate = state.settings.openai_validate if req.validate_ is None else req.validate_
    options = {"voice": voice, "speed": req.speed, "validate": validate}
    fmt = req.response_format
    sr = state.sample_rate

    if req.stream:
        if fmt not in formats.STREAMABLE:
            raise LimelightError(f"response_format {fmt} cannot be streamed (its encoder rewrites the header at "
                                 f"the end); stream one of {', '.join(formats.STREAMABLE)} or set stream=false",
                                 field="response_format")
        chunks = state.pool.stream(lambda: performer.stream(prompt, **options))
        try:
            first: np.ndarray | None = await chunks.__anext__()
        except StopAsyncIteration:
            first = None
        encoder = formats.StreamEncoder(fmt, sr)

        async def body() -> AsyncIterator[bytes]:
            try:
                if first is not None:
                    yield encoder.encode(first)
                async for piece in chunks:
                    yield encoder.encode(piece)
                yield encoder.finish()
            except Exception:  # the status line is sent already; end the stream and log  # noqa: BLE001
                log.exception("stream failed after it started")
            finally:
                await chunks.aclose()

        headers = _headers(req, voice, sr, None, instructions_applied)
        return StreamingResponse(body(), media_type=formats.media_type(fmt), headers=headers)

    def job() -> tuple[bytes, dict[str, Any]]:
        perf = performer.perform(prompt, **options)
        return formats.encode(perf.audio, perf.sample_rate, fmt), dict(perf.metadata)

    data, metadata = await state.pool.run(job)
    return Response(data, media_type=formats.media_type(fmt),
                    headers=_headers(req, voice, sr, metadata, instructions_applied))
