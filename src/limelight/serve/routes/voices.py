"""``GET /voices``; and, when the voice library is in this build, ``POST /voices`` and ``DELETE /voices/{name}``.

Saving a voice clones it from reference audio, uploaded as a multipart file or given as a URL (fetched under
the same rules as ``reference_voice_url``). Cloning runs on a worker, like synthesis.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, UploadFile

from ...errors import VoiceError
from ..errors import ApiError
from ..reference import FIELD as URL_FIELD
from ..reference import ReferenceAudio, decode_reference
from ..schemas import VoiceInfo, VoiceList, VoiceSaved
from ..state import ServerState, server_state
from ..voices import OPENAI_ALIASES, check_new_name, clone_function, info, library_class, library_voices, shipped
from .generate import ERRORS

router = APIRouter(tags=["voices"])
library_router = APIRouter(tags=["voices"])


@router.get("/voices", response_model=VoiceList, summary="Voices this server can speak with")
async def list_voices(state: ServerState = Depends(server_state)) -> VoiceList:
    performer = state.performer
    voices = {**shipped(performer), **library_voices()}
    return VoiceList(default=str(performer.engine.default_voice), voices=[info(v) for _, v in sorted(voices.items())],
                     openai_aliases=dict(OPENAI_ALIASES))


@library_router.post("/voices", response_model=VoiceSaved, status_code=201, responses={**ERRORS, 409: ERRORS[422]},
                     summary="Clone a voice from reference audio (3–30 s) and save it by name")
async def save_voice(name: str = Form(..., description="1–64 letters, digits, '_' or '-'"),
                     file: UploadFile | None = File(None, description="Reference audio (WAV, FLAC, OGG, MP3)"),
                     reference_voice_url: str | None = Form(None, description="Or: a URL to fetch the reference"),
                     force: bool = Form(False, description="Replace a saved voice of the same name"),
                     state: ServerState = Depends(server_state)) -> dict[str, Any]:
    performer = state.performer
    check_new_name(name, performer)
    if (file is None) == (reference_voice_url is None):
        raise VoiceError("send exactly one of: an audio file (multipart field 'file') or reference_voice_url",
                         field="file")
    if not force and name in library_voices():
        raise ApiError(409, "voice_exists", f"a voice named {name!r} is already saved; send force=true to replace "
                       "it", field="name")
    upload = await file.read() if file is not None else None
    settings = state.settings
    library = library_class()
    clone = clone_function()
    assert library is not None and clone is not None  # this router is mounted only when both exist

    def job() -> tuple[Any, ReferenceAudio]:
        if upload is not None:
            audio, sr = decode_reference(upload, settings.reference_min_s, settings.reference_max_s)
            ref = ReferenceAudio(audio=audio, sample_rate=sr, source="upload", n_bytes=len(upload))
        else:
            assert reference_voice_url is not None
            ref = state.fetcher.fetch(reference_voice_url)
        engine = performer.engine if performer.engine.style_voices else None
        voice = clone(ref.audio, ref.sample_rate, name, engine=engine)  # the colour is heard on the server's engine
        library().save(voice, force=force)
        return voice, ref

    try:
        voice, ref = await state.pool.run(job)
    except VoiceError as exc:
        if exc.field == URL_FIELD or file is None:
            raise
        raise VoiceError(exc.message, field=exc.field or "file") from None
    return {"status": "succeeded", "voice": info(voice), "reference": ref.report()}


@library_router.delete("/voices/{name}", responses={404: ERRORS[422], 409: ERRORS[422]},
                       summary="Delete a saved voice")
async def delete_voice(name: str, state: ServerState = Depends(server_state)) -> dict[str, Any]:
    if name in shipped(state.performer):
        raise ApiError(409, "voice_builtin", f"{name!r} is a built-in voice and cannot be deleted", field="name")
    saved = library_voices()
    if name not in saved:
        raise ApiError(404, "voice_not_found", f"no saved voice named {name!r}", field="name")
    cls = library_class()
    assert cls is not None
    cls().delete(name)
    return {"status": "deleted", "voice": VoiceInfo.model_validate(info(saved[name])).model_dump()}


def library_available() -> bool:
    return library_class() is not None and clone_function() is not None
