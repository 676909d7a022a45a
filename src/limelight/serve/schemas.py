"""Request and response bodies, as pydantic models: the OpenAPI schema at /docs is generated from these.

`GenerateRequest` keeps the seed's names and defaults exactly (DESIGN.md §4) and refuses unknown fields,
so a misspelt option (``backgroundSfx``) is a 422 naming it rather than a silently ignored setting.
`SpeechRequest` follows OpenAI's ``/v1/audio/speech`` body; unknown fields are tolerated there (clients send
newer options) but reported back in the ``X-Limelight-Not-Applied`` header.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from .formats import FORMATS, UNSUPPORTED

MAX_SEED = 2**31 - 1
# C0 control characters other than tab, newline and carriage return: never meaningful in a script, and NUL
# in particular breaks the C phonemizer.
_CONTROL = {c for c in range(32) if chr(c) not in "\t\n\r"} | {127}


def not_a_bool(value: Any, info: ValidationInfo) -> Any:
    """JSON ``true`` is not a number: pydantic would read it as 1 (``"speed": true`` → 1.0); refuse it."""
    if isinstance(value, bool):
        raise ValueError(f"{info.field_name} must be a number, not {str(value).lower()}")
    return value


def speakable_text(value: str, name: str) -> str:
    if not value.strip():
        raise ValueError(f"{name} is empty")
    bad = next((i for i, ch in enumerate(value) if ord(ch) in _CONTROL), None)
    if bad is not None:
        raise ValueError(f"{name} contains control character U+{ord(value[bad]):04X} at offset {bad}")
    return value


class GenerateRequest(BaseModel):
    """``POST /generate``: perform a script (or plain text) and return base64 WAV plus a report."""

    prompt: str = Field(..., min_length=1, description="`<speak>` markup or plain text.")
    mode: Literal["generate", "voice_design"] = Field(
        "generate", description="`generate`, or `voice_design` for a ~15 s preview of the described voice.")
    reference_voice_url: str | None = Field(
        None, min_length=1, max_length=40_000_000,
        description="Reference audio to clone: http(s) URL or data: URL, 3–30 s, at most 20 MB. Private, loopback, "
                    "link-local and metadata addresses are refused.")
    background_sfx: bool = Field(False, description="Keep ambience and sound effects in the output.")
    validate_: bool = Field(True, alias="validate", description="ASR check with retry on garbled output.")
    seed: int = Field(-1, ge=-1, le=MAX_SEED, description="-1 picks a random seed (reported in metadata).")
    pace: float = Field(1.5, ge=0.5, le=3.0, description="Duration allocation multiplier; higher = slower. "
                        "1.5 is neutral.")
    min_match_ratio: float = Field(0.90, ge=0.0, le=1.0, description="Validation threshold (word match ratio).")
    skip_vc: bool = Field(False, description="Skip the identity-transfer step (the reference is checked but its "
                          "identity is not used).")
    vc_steps: int = Field(25, ge=1, le=200, description="Identity-transfer effort. This build transfers identity "
                          "by cloning a Kokoro style table (no iterative steps); the value is validated and "
                          "reported as not applied.")
    vc_cfg_rate: float = Field(0.5, ge=0.0, le=5.0, description="Identity-transfer strength (guidance). Validated "
                               "and reported as not applied in this build, like vc_steps.")
    voice: str | None = Field(None, max_length=200, description="Extension: a voice name or blend "
                              "('jf_alpha:0.7,jm_kumo:0.3'); overrides the markup's voice description.")
    language: str | None = Field(None, max_length=16, description="Extension: language code (e.g. 'en', 'ja') "
                                 "of the text the script does not mark; unset: detected per segment. A "
                                 "script's own language=\"…\" wins; one that contradicts this is a 422.")
    lexicon: str | dict[str, str] | None = Field(
        None, max_length=200_000, description="Extension: pronunciation lexicon for this request, as TSV text "
        "(word<TAB>/ipa/ or respelling), W3C PLS XML text, or an object {word: pronunciation}; on top of the voice "
        "library's lexicons.")
    output_format: Literal["wav", "flac", "ogg", "opus", "mp3"] = Field(
        "wav", description="Extension: the encoding of `audio` (ogg = Ogg Vorbis, opus = Ogg Opus).")
    sample_rate: int | None = Field(None, ge=8000, le=192_000, description="Extension: output sample rate, e.g. "
                                    "48000 (default: the engine's, 24000).")
    channels: Literal[1, 2] = Field(1, description="Extension: 1 (mono) or 2 (stereo, the voice in both).")
    timestamps: bool = Field(False, description="Word timings: metadata.words = [{word, start, end, speaker, "
                             "chunk, spoken, estimated}] in seconds on the returned audio's timeline, and each "
                             "chunk's own words.")

    model_config = ConfigDict(extra="forbid")

    _numbers = field_validator("seed", "pace", "min_match_ratio", "vc_steps", "vc_cfg_rate", mode="before")(not_a_bool)

    @field_validator("prompt")
    @classmethod
    def _speakable(cls, value: str) -> str:
        return speakable_text(value, "prompt")


class GenerateResponse(BaseModel):
    status: Literal["succeeded"] = "succeeded"
    audio: str = Field(..., description="Base64-encoded audio: 16-bit PCM WAV unless output_format says otherwise.")
    content_type: str = Field("audio/wav", description="The media type of `audio`.")
    metadata: dict[str, Any] = Field(..., description="duration_s, sample_rate, processing_ms, seed, chunks, "
                                     "not_applied, …")


class ErrorDetail(BaseModel):
    """limelight's error fields, which are also OpenAI's (``type``, ``param``) so OpenAI SDKs parse them."""

    code: str
    message: str
    field: str | None = None
    type: str = Field("invalid_request_error", description="OpenAI's error type: invalid_request_error, "
                      "authentication_error, rate_limit_error or server_error.")
    param: str | None = Field(None, description="OpenAI's name for `field`.")


class ErrorResponse(BaseModel):
    status: Literal["failed"] = "failed"
    error: ErrorDetail


class VoiceRef(BaseModel):
    """OpenAI's newer object form of ``voice``: ``{"id": "..."}``."""

    id: str = Field(..., min_length=1, max_length=200)


class SpeechRequest(BaseModel):
    """OpenAI ``POST /v1/audio/speech`` body (plus ``stream``, ``validate`` extensions)."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(..., min_length=1, max_length=200, description="Accepted for compatibility (tts-1, "
                       "tts-1-hd, gpt-4o-mini-tts, …); limelight has one engine and reports it in a header.")
    input: str = Field(..., min_length=1, description="Text (or `<speak>` markup) to speak.")
    voice: str | VoiceRef = Field(..., description="An OpenAI voice name (alloy, echo, …, mapped to a limelight "
                                  "voice), a limelight voice name, or a saved library voice.")
    instructions: str | None = Field(None, max_length=4096, description="Style instructions. Applied as a "
                                     "stage direction (`<action>`) when the input is plain text.")
    response_format: str = Field("mp3", description="wav, mp3, flac, opus or pcm (24 kHz 16-bit LE mono). "
                                 "aac is not supported.")
    speed: float = Field(1.0, ge=0.5, le=2.0, description="Speaking rate. OpenAI allows 0.25–4; limelight "
                         "renders 0.5–2.")
    stream_format: Literal["audio", "sse"] | None = Field(
        None, description="`audio` (raw audio bytes, the default) or `sse`: server-sent events as OpenAI sends "
        "them, `speech.audio.delta` events with base64 audio then one `speech.audio.done`.")
    stream: bool | None = Field(None, description="Extension: send audio as it is made (chunked transfer). "
                                "Default: on for the streamable formats (pcm, wav, opus, mp3) unless validation is "
                                "on; `false` sends the whole file at once (with the validation header).")
    validate_: bool | None = Field(None, alias="validate", description="Extension: Whisper check with retry "
                                   "(default off here for latency).")

    _numbers = field_validator("speed", mode="before")(not_a_bool)

    @field_validator("input")
    @classmethod
    def _speakable(cls, value: str) -> str:
        return speakable_text(value, "input")

    @field_validator("instructions")
    @classmethod
    def _clean_instructions(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else speakable_text(value, "instructions")

    @field_validator("response_format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        fmt = value.strip().lower()
        if fmt in UNSUPPORTED:
            raise ValueError(f"{fmt} is not supported ({UNSUPPORTED[fmt]}); use one of {', '.join(FORMATS)}")
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {value!r}; use one of {', '.join(FORMATS)}")
        return fmt

    def voice_name(self) -> str:
        return self.voice.id if isinstance(self.voice, VoiceRef) else self.voice


class VoiceInfo(BaseModel):
    name: str
    gender: str | None = None
    language: str = "en"
    description: str = ""
    source: str = "shipped"


class DamagedVoice(BaseModel):
    """A saved voice whose file cannot be read: listed so it can be seen and deleted; nothing else uses it."""

    name: str
    error: str


class VoiceList(BaseModel):
    default: str
    voices: list[VoiceInfo]
    damaged: list[DamagedVoice] = Field(default_factory=list, description="Saved voices whose files cannot be "
                                        "read (delete them with DELETE /voices/{name}).")
    openai_aliases: dict[str, str] = Field(..., description="OpenAI voice name → the limelight voice it plays.")


class VoiceSaved(BaseModel):
    status: Literal["succeeded"] = "succeeded"
    voice: VoiceInfo
    reference: dict[str, Any]


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    engine: str
    sample_rate: int
    workers: int
    queue_depth: int
    in_flight: int
    completed: int
    rejected: int
    auth: bool
    voice_library: bool
    draining: bool = False


class Readiness(BaseModel):
    ready: bool
    reason: str | None = Field(None, description="Why not: starting or draining.")
