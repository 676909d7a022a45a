"""Shared fixtures: models loaded once per session, and a network guard.

The guard makes any socket connect/sendto to a non-loopback address fail the test, so tests (SSRF tests
included) can prove refusal without a packet ever leaving the machine.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("LIMELIGHT_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
TEXTS = Path(__file__).resolve().parent / "data" / "texts"  # the suite's small texts (a copy of shared/texts)

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_sendto = socket.socket.sendto


class NetworkGuardError(AssertionError):
    pass


def _check(address: object) -> None:
    if isinstance(address, (str, bytes)):  # AF_UNIX
        return
    host = address[0] if isinstance(address, tuple) else address
    try:
        ip = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        raise NetworkGuardError(f"test tried to connect to unresolved host {host!r}") from None
    if not ip.is_loopback:
        raise NetworkGuardError(f"test tried to reach non-loopback address {ip}")


def _guarded_connect(self: socket.socket, address: object) -> None:
    _check(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    _check(address)
    return _real_connect_ex(self, address)


def _guarded_sendto(self: socket.socket, data: bytes, *args: object) -> int:
    _check(args[-1])
    return _real_sendto(self, data, *args)  # type: ignore[arg-type]


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
socket.socket.sendto = _guarded_sendto  # type: ignore[method-assign,assignment]


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared data folder not found at {SHARED} (set LIMELIGHT_SHARED)")
    return SHARED


@pytest.fixture(scope="session")
def en_sentences() -> list[str]:
    return [line.strip() for line in (TEXTS / "en_dev.txt").read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def tts():
    from limelight import Limelight

    return Limelight(engine="kokoro")


@pytest.fixture(scope="session")
def piper_tts():
    from limelight import Limelight

    return Limelight(engine="piper")


@pytest.fixture(scope="session")
def transcriber():
    from limelight.check.asr import shared_transcriber

    return shared_transcriber()


def dev_clip(shared_dir: Path, speaker: str, index: int):
    """Clip ``index`` (sorted) of a dev speaker in shared/voices as (audio, rate); skips the test if absent."""
    import soundfile as sf

    files = sorted((shared_dir / "voices" / "dev" / speaker).glob("*.flac"))
    if len(files) <= index:
        pytest.skip(f"dev clips of speaker {speaker} missing")
    audio, sr = sf.read(files[index], dtype="float32")
    return audio, sr
