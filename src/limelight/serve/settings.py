"""Server settings: one frozen dataclass, filled from arguments or ``LIMELIGHT_*`` environment variables.

Everything that bounds the server's exposure (queue depth, body and prompt size, what a reference URL may
point at, API keys) lives here so an operator can read the whole security posture in one place.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

from ..errors import LimelightError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """How the HTTP server behaves.

    ``workers`` synthesis threads share one loaded performer (models load once per process); at most
    ``queue_depth`` more requests wait for a worker, and any request beyond that is answered 429 at once.
    ``reference_allow`` lists networks a ``reference_voice_url`` may reach although they are private or
    loopback (empty = only public addresses). ``api_keys`` empty = no authentication.
    """

    engine: str = "kokoro"
    workers: int = 1
    queue_depth: int = 8
    max_body_bytes: int = 25 * MB
    max_prompt_chars: int = 20_000
    api_keys: frozenset[str] = frozenset()
    reference_allow: tuple[IPNetwork, ...] = ()
    reference_max_bytes: int = 20 * MB
    reference_timeout_s: float = 15.0
    reference_max_redirects: int = 3
    reference_min_s: float = 3.0
    reference_max_s: float = 30.0
    openai_validate: bool = False

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise LimelightError(f"workers must be at least 1, got {self.workers}", field="workers")
        if self.queue_depth < 0:
            raise LimelightError(f"queue_depth must not be negative, got {self.queue_depth}", field="queue_depth")
        if self.max_prompt_chars < 1 or self.max_body_bytes < 1024:
            raise LimelightError("max_prompt_chars must be ≥ 1 and max_body_bytes ≥ 1024", field="max_body_bytes")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``LIMELIGHT_*`` variables, then explicit ``overrides`` (None values are skipped).

        ``LIMELIGHT_API_KEYS`` is a comma list; ``LIMELIGHT_API_KEYS_FILE`` a file with one key per line
        (``#`` comments allowed); ``LIMELIGHT_REFERENCE_ALLOW`` a comma list of IPs or CIDR networks.
        """
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        ints = {"workers": "LIMELIGHT_WORKERS", "queue_depth": "LIMELIGHT_QUEUE_DEPTH",
                "max_body_bytes": "LIMELIGHT_MAX_BODY_BYTES", "max_prompt_chars": "LIMELIGHT_MAX_PROMPT_CHARS",
                "reference_max_bytes": "LIMELIGHT_REFERENCE_MAX_BYTES",
                "reference_max_redirects": "LIMELIGHT_REFERENCE_MAX_REDIRECTS"}
        for name, var in ints.items():
            if env.get(var):
                values[name] = _int(env[var], var)
        timeout_var = "LIMELIGHT_REFERENCE_TIMEOUT_S"
        if env.get(timeout_var):
            values["reference_timeout_s"] = _float(env[timeout_var], timeout_var)
        if env.get("LIMELIGHT_ENGINE"):
            values["engine"] = env["LIMELIGHT_ENGINE"]
        keys = set(parse_list(env.get("LIMELIGHT_API_KEYS", "")))
        if env.get("LIMELIGHT_API_KEYS_FILE"):
            keys |= read_key_file(env["LIMELIGHT_API_KEYS_FILE"])
        if keys:
            values["api_keys"] = frozenset(keys)
        if env.get("LIMELIGHT_REFERENCE_ALLOW"):
            values["reference_allow"] = parse_networks(env["LIMELIGHT_REFERENCE_ALLOW"])
        known = {f.name for f in fields(cls)}
        for name, value in overrides.items():
            if name not in known:
                raise LimelightError(f"unknown server option {name!r}", field=name)
            if value is None:
                continue
            if name == "api_keys" and isinstance(value, (list, tuple, set, frozenset, str)):
                value = frozenset(parse_list(value) if isinstance(value, str) else value)
            if name == "reference_allow" and isinstance(value, (list, tuple, str)):
                value = parse_networks(value)
            values[name] = value
        return replace(cls(), **values)


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
