"""Server settings: one frozen dataclass, filled from arguments or ``LIMELIGHT_*`` environment variables.

Everything that bounds the server's exposure (queue depth, body and prompt size, what a reference URL may
point at, API keys) lives here so an operator can read the whole security posture in one place.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from ..errors import LimelightError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """How the HTTP server behaves. Every field is also a ``LIMELIGHT_<FIELD>`` environment variable and a
    ``limelight serve --<field>`` flag (:func:`add_arguments`), with one precedence everywhere: an explicit
    argument (flag) wins over the environment, which wins over the default here.

    ``workers`` synthesis threads share one loaded performer (models load once per process); at most
    ``queue_depth`` more requests wait for a worker, and any request beyond that is answered 429 at once.
    ``reference_allow`` lists networks a ``reference_voice_url`` may reach although they are private or
    loopback (empty = only public addresses). ``api_keys`` empty = no authentication.
    """

    engine: str = "kokoro"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    queue_depth: int = 8
    max_body_bytes: int = 25 * MB
    max_prompt_chars: int = 20_000
    max_audio_s: float = 600.0
    max_output_bytes: int = 64 * MB
    job_timeout_s: float = 600.0
    api_keys: frozenset[str] = field(default=frozenset(), repr=False)  # secrets stay out of logs
    private_docs: bool = False
    reference_allow: tuple[IPNetwork, ...] = ()
    reference_max_bytes: int = 20 * MB
    reference_timeout_s: float = 15.0
    reference_max_redirects: int = 3
    reference_min_s: float = 3.0
    reference_max_s: float = 30.0
    openai_validate: bool = False
    header_timeout_s: float = 10.0
    body_timeout_s: float = 60.0
    keep_alive_s: float = 20.0
    max_connections: int = 256
    drain_timeout_s: float = 20.0
    log_format: str = "json"
    log_level: str = "info"

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise LimelightError(f"workers must be at least 1, got {self.workers}", field="workers")
        if self.queue_depth < 0:
            raise LimelightError(f"queue_depth must not be negative, got {self.queue_depth}", field="queue_depth")
        if self.max_prompt_chars < 1 or self.max_body_bytes < 1024:
            raise LimelightError("max_prompt_chars must be ≥ 1 and max_body_bytes ≥ 1024", field="max_body_bytes")
        for name in ("max_audio_s", "job_timeout_s", "header_timeout_s", "body_timeout_s", "keep_alive_s",
                     "drain_timeout_s", "reference_timeout_s"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 < value < float("inf")):
                raise LimelightError(f"{name} must be a positive number of seconds, got {value!r}", field=name)
        if self.max_output_bytes < 1024 or self.max_connections < 1:
            raise LimelightError("max_output_bytes must be ≥ 1024 and max_connections ≥ 1", field="max_output_bytes")
        if self.log_format not in ("json", "text"):
            raise LimelightError(f"log_format must be json or text, got {self.log_format!r}", field="log_format")
        if not 0 <= self.port <= 65535:
            raise LimelightError(f"port must be 0–65535, got {self.port}", field="port")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``LIMELIGHT_*`` variables, then explicit ``overrides`` (None values are skipped).

        Each field ``name`` is read from ``LIMELIGHT_NAME`` (upper case), parsed by its type (booleans accept
        1/0, true/false, yes/no, on/off). ``LIMELIGHT_API_KEYS`` is a comma list; ``LIMELIGHT_API_KEYS_FILE`` a
        file with one key per line (``#`` comments allowed); ``LIMELIGHT_REFERENCE_ALLOW`` a comma list of IPs
        or CIDR networks.
        """
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            var = env_var(f.name)
            if env.get(var):
                values[f.name] = parse_value(f.name, env[var], var)
        if env.get("LIMELIGHT_API_KEYS_FILE"):
            keys = read_key_file(env["LIMELIGHT_API_KEYS_FILE"])
            values["api_keys"] = frozenset(keys | set(values.get("api_keys", frozenset())))  # type: ignore[arg-type]
        known = {f.name for f in fields(cls)}
        for name, value in overrides.items():
            if name not in known:
                raise LimelightError(f"unknown server option {name!r}", field=name)
            if value is None:
                continue
            if isinstance(value, str) and name not in ("engine", "host", "log_format", "log_level"):
                value = parse_value(name, value, name)
            if name == "api_keys" and isinstance(value, (list, tuple, set, frozenset)):
                value = frozenset(value)
            if name == "reference_allow" and isinstance(value, (list, tuple)):
                value = parse_networks(value)
            values[name] = value
        return replace(cls(), **values)


HELP: dict[str, str] = {
    "engine": "speech engine: kokoro or piper",
    "host": "address to listen on (127.0.0.1: this machine only; 0.0.0.0: every interface)",
    "port": "port to listen on",
    "workers": "synthesis threads sharing one loaded model",
    "queue_depth": "requests that may wait for a worker; more are answered 429 with Retry-After",
    "max_body_bytes": "largest request body accepted (413 beyond)",
    "max_prompt_chars": "longest prompt/input in characters (422 beyond)",
    "max_audio_s": "most seconds of audio one request may produce (413 beyond, refused before rendering when "
                   "the script's own pauses already exceed it)",
    "max_output_bytes": "largest encoded audio response (413 beyond)",
    "job_timeout_s": "most seconds one synthesis job may run (422 beyond)",
    "api_keys": "comma-separated API keys; clients send Authorization: Bearer KEY or X-API-Key (none: open)",
    "api_keys_file": "file with one API key per line (# comments allowed), added to --api-keys",
    "private_docs": "with API keys, also require a key for /docs, /redoc, /openapi.json and /metrics",
    "reference_allow": "comma-separated IPs/CIDR networks a reference_voice_url may reach although private",
    "reference_max_bytes": "largest reference audio fetched or uploaded",
    "reference_timeout_s": "time limit for fetching a reference URL",
    "reference_max_redirects": "redirects followed when fetching a reference URL",
    "reference_min_s": "shortest reference audio accepted (seconds)",
    "reference_max_s": "longest reference audio accepted (seconds)",
    "openai_validate": "run the Whisper check on /v1/audio/speech by default",
    "header_timeout_s": "a connection must send a request's complete headers within this time (408 and closed)",
    "body_timeout_s": "a request body must arrive completely within this time (408 and closed)",
    "keep_alive_s": "an idle keep-alive connection is closed after this time (longer than clients' own idle "
                    "expiry, 5 s in httpx/requests pools, so a client never reuses a connection as it closes)",
    "max_connections": "open connections at most; more are answered 503 and closed at once",
    "drain_timeout_s": "on SIGTERM, in-flight jobs get this long to finish before they are cancelled",
    "log_format": "json (one object a line) or text",
    "log_level": "debug, info, warning or error",
}


def env_var(name: str) -> str:
    return f"LIMELIGHT_{name.upper()}"


def parse_value(name: str, text: str, source: str) -> object:
    """One setting's value from text (an environment variable or a flag), by the field's type."""
    default = getattr(Settings, name, None)
    if name == "api_keys":
        return frozenset(parse_list(text))
    if name == "reference_allow":
        return parse_networks(text)
    if isinstance(default, bool):
        low = text.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise LimelightError(f"{source} must be true or false, got {text!r}", field=source)
    if isinstance(default, int):
        return _int(text, source)
    if isinstance(default, float):
        return _float(text, source)
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """A ``--flag`` for every setting (default None: unset flags fall back to ``LIMELIGHT_*``, then defaults)."""
    for f in fields(Settings):
        flag = "--" + f.name.replace("_", "-")
        default = getattr(Settings, f.name)
        text = f"{HELP.get(f.name, f.name)} [env {env_var(f.name)}; default {_shown(default)}]"
        if isinstance(default, bool):
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=text)
        else:
            parser.add_argument(flag, dest=f.name, default=None, metavar=f.name.upper(), help=text)
    parser.add_argument("--api-keys-file", dest="api_keys_file", default=None, metavar="PATH",
                        help=f"{HELP['api_keys_file']} [env LIMELIGHT_API_KEYS_FILE]")


def from_arguments(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Settings:
    """Settings from parsed flags over the environment (flags win)."""
    overrides = {f.name: getattr(args, f.name, None) for f in fields(Settings)}
    keys_file = getattr(args, "api_keys_file", None)
    if keys_file:
        flagged = overrides.get("api_keys")
        keys = read_key_file(keys_file) | set(parse_list(flagged) if isinstance(flagged, str) else [])
        overrides["api_keys"] = frozenset(keys)
    return Settings.from_env(env, **overrides)


def _shown(value: object) -> str:
    if isinstance(value, (frozenset, tuple)):
        return "none" if not value else ",".join(map(str, value))
    return str(value)


def parse_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def parse_networks(spec: str | list[str] | tuple[object, ...]) -> tuple[IPNetwork, ...]:
    """``"127.0.0.1, 10.0.0.0/8"`` → networks; a bare address is a one-address network."""
    items = parse_list(spec) if isinstance(spec, str) else list(spec)
    out: list[IPNetwork] = []
    for item in items:
        if isinstance(item, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
            out.append(item)
            continue
        try:
            out.append(ipaddress.ip_network(str(item), strict=False))
        except ValueError:
            raise LimelightError(f"reference allow-list entry {item!r} is not an IP address or network",
                                 field="reference_allow") from None
    return tuple(out)


def read_key_file(path: str | os.PathLike[str]) -> set[str]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LimelightError(f"cannot read API key file {path}: {exc.strerror or exc}", field="api_keys_file") from None
    return {line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")}


def _int(text: str, var: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise LimelightError(f"{var} must be an integer, got {text!r}", field=var) from None


def _float(text: str, var: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise LimelightError(f"{var} must be a number, got {text!r}", field=var) from None
