"""``GET /voices``; and, when the voice library is in this build, ``POST /voices`` and ``DELETE /voices/{name}``.

Saving a voice clones it from reference audio, uploaded as a multipart file or given as a URL (fetched under
the same rules as ``reference_voice_url``). Cloning runs on a worker, like synthesis.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from starlette.concurrency import run_in_threadpool

from ...errors import VoiceError
from ..errors import ApiError
from ..reference import FIELD as URL_FIELD
from ..reference import ReferenceAudio, decode_reference
from ..schemas import DamagedVoice, VoiceInfo, VoiceList, VoiceSaved
from ..state import ServerState, server_state
from ..voices import OPENAI_ALIASES, check_new_name, clone_function, info, library_class, library_entries, shipped
from .generate import ERRORS

router = APIRouter(tags=["voices"])
library_router = APIRouter(tags=["voices"])


@router.get("/voices", response_model=VoiceList, summary="Voices this server can speak with")
async def list_voices(state: ServerState = Depends(server_state)) -> VoiceList:
    performer = state.performer
    entries = await run_in_threadpool(library_entries)  # stat calls only (the library keeps an index)
    voices = {**shipped(performer), **{e.name: e.voice for e in entries if e.voice is not None}}
    damaged = [DamagedVoice(name=e.name, error=str(e.error)) for e in entries if e.voice is None]
    return VoiceList(default=str(performer.engine.default_voice), voices=[info(v) for _, v in sorted(voices.items())],
                     damaged=damaged, openai_aliases=dict(OPENAI_ALIASES))


def _exists(name: str) -> ApiError:
    return ApiError(409, "voice_exists", f"a voice named {name!r} is already saved; send force=true to replace it",
                    field="name")


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
    library = library_class()
    clone = clone_function()
    assert library is not None and clone is not None  # this router is mounted only when both exist
    if not force and await run_in_threadpool(library().exists, name):
        raise _exists(name)
    # One save per name at a time in this server: a second upload of the same name is refused at once (409)
    # instead of cloning for seconds and then losing the race; the library's own lock covers other processes.
    if not state.reserve_voice_name(name):
        raise ApiError(409, "voice_being_saved", f"a voice named {name!r} is being saved by another request; "
                       "retry when it is done", field="name", headers={"Retry-After": "5"})
    try:
        return await _save(name, file, reference_voice_url, force, state, library, clone)
    finally:
        state.release_voice_name(name)


async def _save(name: str, file: UploadFile | None, reference_voice_url: str | None, force: bool,
                state: ServerState, library: Any, clone: Any) -> dict[str, Any]:
    performer = state.performer
    upload = await file.read() if file is not None else None
    settings = state.settings

    def job() -> tuple[Any, ReferenceAudio]:
        if upload is not None:
            audio, sr = decode_reference(upload, settings.reference_min_s, settings.reference_max_s, field="file")
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
        if exc.code == "voice_exists":  # lost a race with another process saving this name (library lock)
            raise _exists(name) from None
        if exc.field == URL_FIELD or file is None:
            raise
        raise VoiceError(exc.message, field=exc.field or "file") from None
    return {"status": "succeeded", "voice": info(voice), "reference": ref.report()}


@library_router.delete("/voices/{name}", responses={404: ERRORS[422], 409: ERRORS[422]},
                       summary="Delete a saved voice")
async def delete_voice(name: str, state: ServerState = Depends(server_state)) -> dict[str, Any]:
    if name in shipped(state.performer):
        raise ApiError(409, "voice_builtin", f"{name!r} is a built-in voice and cannot be deleted", field="name")
    entries = {e.name: e for e in await run_in_threadpool(library_entries)}
    if name not in entries:
        raise ApiError(404, "voice_not_found", f"no saved voice named {name!r}", field="name")
    cls = library_class()
    assert cls is not None
    try:
        await run_in_threadpool(cls().delete, name)
    except VoiceError:  # deleted by someone else meanwhile
        raise ApiError(404, "voice_not_found", f"no saved voice named {name!r}", field="name") from None
    entry = entries[name]
    shown = (VoiceInfo.model_validate(info(entry.voice)).model_dump() if entry.voice is not None
             else {"name": name, "error": entry.error})
    return {"status": "deleted", "voice": shown}


def library_available() -> bool:
    return library_class() is not None and clone_function() is not None
