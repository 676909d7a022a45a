"""``POST /generate``: the seed's contract — a script in, base64 WAV and a performance report out."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from ...audio.output import encode_audio, output_spec
from ...check.report import header_value
from ...errors import LimelightError
from ...options import perform_options
from ..bounds import check_output_bytes, check_output_estimate, disconnected
from ..jsonable import jsonable
from ..reference import ReferenceAudio
from ..schemas import ErrorResponse, GenerateRequest, GenerateResponse
from ..state import ServerState, server_state

router = APIRouter()

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text} for code, text in {
        400: "Malformed JSON", 401: "Missing or invalid API key",
        413: "Body too large, or the audio asked for exceeds max_audio_s / max_output_bytes",
        415: "Body is not JSON", 422: "Invalid field (named in error.field)", 429: "Server busy (Retry-After)",
        503: "Shutting down (Retry-After)",
    }.items()
}
VC_REASON = ("identity transfer in this build is style-table cloning (limelight.voice.clone), which has no "
             "step count or guidance rate")


def check_prompt_length(text: str, limit: int, field: str) -> None:
    if len(text) > limit:
        raise LimelightError(f"{field} is {len(text)} characters; the limit is {limit}", field=field)


def _report_unused_vc(req: GenerateRequest, metadata: dict[str, Any]) -> None:
    """vc_steps/vc_cfg_rate are accepted and validated; until a stage uses them, say so in the report."""
    if "vc" in metadata:
        return
    relevant = req.reference_voice_url is not None or bool({"vc_steps", "vc_cfg_rate"} & req.model_fields_set)
    if not relevant:
        return
    not_applied = metadata.setdefault("not_applied", [])
    for field in ("vc_steps", "vc_cfg_rate"):
        if not any(e.get("field") == field for e in not_applied):
            not_applied.append({"field": field, "reason": VC_REASON})


@router.post("/generate", response_model=GenerateResponse, responses=ERRORS, tags=["speech"],
             summary="Perform a script and return base64 WAV with a report")
async def generate(req: GenerateRequest, request: Request, response: Response,
                   state: ServerState = Depends(server_state)) -> dict[str, Any]:
    settings = state.settings
    check_prompt_length(req.prompt, settings.max_prompt_chars, "prompt")
    check_output_estimate(req.prompt, settings.max_audio_s, "prompt")
    lexicon = None
    if req.lexicon is not None:  # parsed here, never read as a path: a request names no server files
        from ...text.lexicon import lexicon_from, parse_lexicon

        lexicon = parse_lexicon(req.lexicon) if isinstance(req.lexicon, str) else lexicon_from(req.lexicon)
    options = perform_options(
        background_sfx=req.background_sfx, validate=req.validate_, seed=req.seed, pace=req.pace,
        min_match_ratio=req.min_match_ratio, skip_vc=req.skip_vc, vc_steps=req.vc_steps,
        vc_cfg_rate=req.vc_cfg_rate, mode=req.mode, language=req.language, voice=req.voice, lexicon=lexicon)

    spec = output_spec(format=req.output_format, sample_rate=req.sample_rate, channels=req.channels)

    def job() -> tuple[str, dict[str, Any]]:
        ref: ReferenceAudio | None = None
        if req.reference_voice_url is not None:
            ref = state.fetcher.fetch(req.reference_voice_url)  # off the event loop, inside a worker slot
        perf = state.performer.perform(req.prompt, options, reference=(ref.audio, ref.sample_rate) if ref else None)
        metadata = dict(perf.metadata)
        if ref is not None:
            metadata["reference"] = ref.report()
        _report_unused_vc(req, metadata)
        rate = spec.rate_for(perf.sample_rate)
        samples = len(perf.audio) * rate // perf.sample_rate * spec.channels
        check_output_bytes(samples * 2 * 4 // 3, settings.max_output_bytes, "prompt")  # ≤ 16-bit PCM, base64
        if not req.timestamps:  # the seed's contract has no words; they are asked for
            metadata.pop("words", None)
            metadata["chunks"] = [{k: v for k, v in c.items() if k != "words"} for c in metadata.get("chunks", [])]
        metadata["output"] = {"format": spec.format, "sample_rate": rate, "channels": spec.channels}
        data = encode_audio(perf.audio, perf.sample_rate, spec)
        return base64.b64encode(data).decode("ascii"), jsonable(metadata)

    audio, metadata = await state.pool.run(job, limits=state.job_limits(), disconnected=disconnected(request))
    state.metrics.audio_seconds.labels(route="/generate").inc(float(metadata.get("duration_s") or 0.0))
    # A failed Whisper check is still a 200 with the audio (never lose work), but it is flagged in the body
    # (metadata.validation) and in a header clients can test without parsing the report.
    response.headers["X-Limelight-Validation"] = header_value(metadata.get("validation"))
    return {"status": "succeeded", "audio": audio, "content_type": spec.media_type, "metadata": metadata}
