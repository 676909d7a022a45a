"""``POST /v1/audio/speech``: OpenAI's text-to-speech endpoint, so existing OpenAI clients work unchanged.

The body is OpenAI's (model, input, voice, instructions, response_format, speed, stream_format); the answer is
audio bytes in the asked format. What OpenAI's JSON cannot carry is sent as headers: the voice actually used,
seed, processing time, and ``X-Limelight-Not-Applied`` listing any request field that had no effect.

Streaming is the default where it can be done: for the streamable formats (pcm, wav, opus, mp3 — OpenAI's
default) audio is sent as each chunk is made (chunked transfer), so a client reading the body
(``with_streaming_response``) hears the first sentence while the rest renders. Two cases send the whole file
instead: flac (its encoder rewrites the header at the end), and validation (``"validate": true``), whose
verdict travels in the ``X-Limelight-Validation`` header and so must be known before the first byte.
``"stream": false`` forces the whole file. ``stream_format: "sse"`` sends OpenAI's server-sent events:
``speech.audio.delta`` events with base64 audio, then ``speech.audio.done`` (``usage`` counts input words;
limelight has no tokens). ``GET /v1/models`` lists the model names the endpoint accepts.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from ...check.report import header_value as validation_header
from ...errors import LimelightError
from ...limits import JobCancelled
from ...options import perform_options
from .. import formats
from ..bounds import check_output_bytes, check_output_estimate, disconnected
from ..errors import ApiError
from ..headers import header_token, header_value
from ..schemas import MAX_SEED, SpeechRequest
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


MODELS = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts", "limelight")
SSE_DEFAULT_FORMAT = "pcm"


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
             instructions_applied: bool, seed: int | None = None) -> dict[str, str]:
    not_applied = sorted(req.model_extra or {})
    if req.instructions and not instructions_applied:
        not_applied.append("instructions")
    for entry in (metadata or {}).get("not_applied", []):
        name = str(entry.get("field", ""))
        if name and name not in not_applied:
            not_applied.append(name)
    headers = {"X-Limelight-Voice": voice, "X-Limelight-Sample-Rate": str(formats.output_rate(req.response_format,
                                                                                               sr)),
               "X-Limelight-Model": f"limelight ({req.model} requested)", "X-Limelight-Format": req.response_format}
    if seed is not None:
        headers["X-Limelight-Seed"] = str(seed)
    if metadata:
        headers["X-Limelight-Seed"] = str(metadata.get("seed", ""))
        headers["X-Limelight-Processing-Ms"] = str(metadata.get("processing_ms", ""))
        headers["X-Limelight-Validation"] = validation_header(metadata.get("validation"))
    if not_applied:
        headers["X-Limelight-Not-Applied"] = ",".join(header_token(name) for name in not_applied)
    # Client text (field names, the model name) may hold CR/LF or other bytes a header cannot carry: h11 would
    # refuse the response and drop the connection. Everything outside printable ASCII is %-encoded.
    return {k: header_value(v) for k, v in headers.items()}


async def _prepend(first: np.ndarray | None, rest: AsyncIterator[np.ndarray]) -> AsyncIterator[np.ndarray]:
    if first is not None:
        yield first
    async for piece in rest:
        yield piece


def _sse(event: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(event, separators=(',', ':'))}\n\n".encode()


def _delta(data: bytes) -> bytes:
    return _sse({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode("ascii")}) if data else b""


@router.post("/v1/audio/speech", responses=AUDIO_RESPONSES, response_class=Response, tags=["openai"],
             summary="OpenAI-compatible text to speech")
async def speech(req: SpeechRequest, request: Request, state: ServerState = Depends(server_state)) -> Response:
    settings = state.settings
    check_prompt_length(req.input, settings.max_prompt_chars, "input")
    check_output_estimate(req.input, settings.max_audio_s, "input")
    performer = state.performer
    voice = resolve_openai_voice(req.voice_name(), performer)
    prompt, instructions_applied = _prompt(req, voice, performer)
    validate = state.settings.openai_validate if req.validate_ is None else req.validate_
    seed = secrets.randbelow(MAX_SEED)  # chosen here so a streamed answer can report it before the audio
    options = perform_options(voice=voice, speed=req.speed, validate=validate, seed=seed)
    sse = req.stream_format == "sse"
    if sse and "response_format" not in req.model_fields_set:
        req.response_format = SSE_DEFAULT_FORMAT  # OpenAI's default mp3 cannot be cut into deltas
    fmt = req.response_format
    sr = state.sample_rate
    stream = req.stream if req.stream is not None else (sse or (fmt in formats.STREAMABLE and not validate))

    if stream or sse:
        if fmt not in formats.STREAMABLE:
            raise LimelightError(f"response_format {fmt} cannot be streamed (its encoder rewrites the header at "
                                 f"the end); stream one of {', '.join(formats.STREAMABLE)} or set stream=false",
                                 field="response_format")
        chunks = state.pool.stream(lambda: performer.stream(prompt, options), limits=state.job_limits())
        # the first chunk is awaited before the status line, so input errors are still a clean 4xx
        first: np.ndarray | None = await state.pool.first(chunks, disconnected(request))
        encoder = formats.StreamEncoder(fmt, sr)

        def done() -> bytes:
            words = len(req.input.split())
            return _sse({"type": "speech.audio.done",
                         "usage": {"input_tokens": words, "output_tokens": 0, "total_tokens": words}})

        async def body() -> AsyncIterator[bytes]:
            sent = 0
            seconds = 0.0
            try:
                async for piece in _prepend(first, chunks):
                    data = encoder.encode(piece)
                    sent += len(data)
                    seconds += len(piece) / sr
                    if sent > settings.max_output_bytes:  # the status line is sent: end the file here
                        log.warning("stream stopped at max_output_bytes (%d)", settings.max_output_bytes)
                        break
                    yield _delta(data) if sse else data
                tail = encoder.finish()
                yield (_delta(tail) + done()) if sse else tail
            except (LimelightError, JobCancelled) as exc:  # a limit or shutdown: end the file cleanly
                log.warning("stream ended early: %s", exc)
                tail = encoder.finish()
                yield (_delta(tail) + done()) if sse else tail
            except Exception as exc:  # the status line is sent already; end the stream and log  # noqa: BLE001
                log.exception("stream failed after it started")
                if sse:
                    yield _sse({"type": "error", "error": {"message": f"synthesis failed: {type(exc).__name__}",
                                                           "type": "server_error", "param": None,
                                                           "code": "internal_error"}})
            finally:
                state.metrics.audio_seconds.labels(route="/v1/audio/speech").inc(seconds)
                await chunks.aclose()

        headers = _headers(req, voice, sr, None, instructions_applied, seed)
        headers["X-Limelight-Validation"] = "not-sent-when-streaming" if validate else "off"
        media = "text/event-stream" if sse else formats.media_type(fmt)
        if sse:
            headers["Cache-Control"] = "no-cache"
        return StreamingResponse(body(), media_type=media, headers=headers)

    def job() -> tuple[bytes, dict[str, Any]]:
        perf = performer.perform(prompt, options)
        data = formats.encode(perf.audio, perf.sample_rate, fmt)
        check_output_bytes(len(data), settings.max_output_bytes, "input")
        return data, dict(perf.metadata)

    data, metadata = await state.pool.run(job, limits=state.job_limits(), disconnected=disconnected(request))
    state.metrics.audio_seconds.labels(route="/v1/audio/speech").inc(float(metadata.get("duration_s") or 0.0))
    return Response(data, media_type=formats.media_type(fmt),
                    headers=_headers(req, voice, sr, metadata, instructions_applied))


def _model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": "limelight"}


@router.get("/v1/models", tags=["openai"], summary="OpenAI-compatible model list")
async def models() -> dict[str, Any]:
    """The model names `/v1/audio/speech` accepts; all of them are limelight's one engine."""
    return {"object": "list", "data": [_model(m) for m in MODELS]}


@router.get("/v1/models/{model}", tags=["openai"], summary="One model")
async def model(model: str) -> dict[str, Any]:
    if model not in MODELS:
        raise ApiError(404, "model_not_found", f"the model {model!r} does not exist; models: {', '.join(MODELS)}",
                       field="model")
    return _model(model)
