"""Fetching a client's ``reference_voice_url`` without letting the client steer the server's network.

The URL is untrusted. Only ``http``, ``https`` and ``data:`` are accepted. For http(s) the host is resolved
once, every address is checked (:mod:`.addresses`), and the connection goes to that checked address — the
name is never resolved again, so DNS rebinding cannot swap in an internal address between check and use.
Redirects are not followed by the HTTP library; they are followed here, at most ``max_redirects`` times, and
each target goes through the same checks. Size (bytes) and total time are capped while reading, and the bytes
must decode as audio (soundfile) of a bounded length before anything else sees them.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import io
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes, urljoin, urlsplit

import numpy as np
import soundfile as sf

from .. import __version__
from ..errors import AudioInputError, LimelightError
from .addresses import IPAddress, IPNetwork, forbidden_reason, is_disguised_ip

FIELD = "reference_voice_url"
REDIRECTS = (301, 302, 303, 307, 308)
Resolver = Callable[[str, int], list[IPAddress]]


class ReferenceRefused(LimelightError):
    """The URL points somewhere the server will not go (scheme, address, redirect target)."""

    code = "reference_url_refused"


class ReferenceFetchFailed(LimelightError):
    """The URL was allowed but did not yield a body (timeout, HTTP error, connection refused)."""

    code = "reference_fetch_failed"


class ReferenceTooLarge(LimelightError):
    """The referenced file is larger than the configured cap."""

    code = "reference_too_large"


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for one reference fetch; ``allow`` networks may be reached although private or loopback."""

    allow: tuple[IPNetwork, ...] = ()
    max_bytes: int = 20 * 1024 * 1024
    timeout_s: float = 15.0
    max_redirects: int = 3
    min_s: float = 3.0
    max_s: float = 30.0


@dataclass(frozen=True)
class ReferenceAudio:
    """Decoded reference audio (float32 mono at its own rate) and where it came from."""

    audio: np.ndarray
    sample_rate: int
    source: str  # "data" or "http"
    n_bytes: int
    redirects: int = 0

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sample_rate

    def report(self) -> dict[str, object]:
        return {"source": self.source, "bytes": self.n_bytes, "duration_s": round(self.duration_s, 3),
                "sample_rate": self.sample_rate, "redirects": self.redirects}


def system_resolve(host: str, port: int) -> list[IPAddress]:
    """All addresses the system resolver gives for ``host`` (A and AAAA)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ReferenceFetchFailed(f"cannot resolve host {host!r}: {exc}", field=FIELD) from None
    out: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if ip not in out:
            out.append(ip)
    return out


class ReferenceFetcher:
    """Turns a reference URL into checked, decoded audio, or raises a `LimelightError` naming the field."""

    def __init__(self, policy: FetchPolicy | None = None, resolve: Resolver = system_resolve) -> None:
        self.policy = policy or FetchPolicy()
        self._resolve = resolve

    def fetch(self, url: str) -> ReferenceAudio:
        data, source, redirects = self.fetch_bytes(url)
        audio, sr = decode_reference(data, self.policy.min_s, self.policy.max_s)
        return ReferenceAudio(audio=audio, sample_rate=sr, source=source, n_bytes=len(data), redirects=redirects)

    def fetch_bytes(self, url: str) -> tuple[bytes, str, int]:
        """The raw bytes behind ``url``: (body, "data"|"http", redirects followed)."""
        if not isinstance(url, str) or not url.strip():
            raise ReferenceRefused("reference_voice_url is empty", field=FIELD)
        url = url.strip()
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return self._data_url(url), "data", 0
        if scheme not in ("http", "https"):
            shown = scheme or "none"
            raise ReferenceRefused(f"reference_voice_url scheme {shown!r} is not allowed; use http, https or data:",
                                   field=FIELD)
        deadline = time.monotonic() + self.policy.timeout_s
        for hop in range(self.policy.max_redirects + 1):
            status, location, body = self._get(url, deadline)
            if status in REDIRECTS:
                if not location:
                    raise ReferenceFetchFailed(f"HTTP {status} redirect without a Location header", field=FIELD)
                nxt = urljoin(url, location)
                if urlsplit(nxt).scheme.lower() not in ("http", "https"):
                    raise ReferenceRefused(f"redirect to a {urlsplit(nxt).scheme or 'relative'!r} URL is not allowed",
                                           field=FIELD)
                url = nxt
                continue
            if status != 200:
                raise ReferenceFetchFailed(f"reference_voice_url answered HTTP {status}", field=FIELD)
            assert body is not None
            return body, "http", hop
        raise ReferenceRefused(f"reference_voice_url redirected more than {self.policy.max_redirects} times",
                               field=FIELD)

    # --------------------------------------------------------------------------------------- internals
    def _data_url(self, url: str) -> bytes:
        header, sep, payload = url[5:].partition(",")
        if not sep:
            raise ReferenceRefused("malformed data: URL (no comma before the payload)", field=FIELD)
        limit = self.policy.max_bytes
        if len(payload) > limit * 4 // 3 + 8:
            raise ReferenceTooLarge(f"reference audio exceeds {limit // (1024 * 1024)} MB", field=FIELD)
        if header.lower().endswith(";base64"):
            try:
                data = base64.b64decode("".join(payload.split()), validate=True)
            except (binascii.Error, ValueError):
                raise ReferenceRefused("data: URL payload is not valid base64", field=FIELD) from None
        else:
            data = unquote_to_bytes(payload)
        if len(data) > limit:
            raise ReferenceTooLarge(f"reference audio exceeds {limit // (1024 * 1024)} MB", field=FIELD)
        return data

    def _target(self, url: str) -> tuple[str, str, int, str, IPAddress]:
        """Check a http(s) URL and resolve it: (scheme, host, port, path, the one address to connect to)."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise ReferenceRefused(f"malformed reference_voice_url: {exc}", field=FIELD) from None
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").rstrip(".")
        if parts.username is not None or parts.password is not None:
            raise ReferenceRefused("credentials in reference_voice_url are not allowed", field=FIELD)
        if not host:
            raise ReferenceRefused("reference_voice_url has no host", field=FIELD)
        if is_disguised_ip(host):
            raise ReferenceRefused(f"host {host!r} is a numeric address in a non-standard form; write it as a "
                                   "dotted IPv4 address or use a host name", field=FIELD)
        port = port or (443 if scheme == "https" else 80)
        try:
            literal: IPAddress | None = ipaddress.ip_address(host.split("%")[0])
        except ValueError:
            literal = None
        addresses = [literal] if literal is not None else self._resolve(host, port)
        if not addresses:
            raise ReferenceFetchFailed(f"host {host!r} has no addresses", field=FIELD)
        for ip in addresses:  # every address must pass: a name that also resolves inward is refused
            reason = forbidden_reason(ip, self.policy.allow)
            if reason:
                raise ReferenceRefused(f"reference_voice_url host {host!r} resolves to {ip}, {reason}; refused",
                                       field=FIELD)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        return scheme, host, port, path, addresses[0]

    def _get(self, url: str, deadline: float) -> tuple[int, str | None, bytes | None]:
        scheme, host, port, path, ip = self._target(url)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ReferenceFetchFailed(f"fetching reference_voice_url took longer than {self.policy.timeout_s:g} s",
                                       field=FIELD)
        cls = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
        conn = cls(host, str(ip), port, timeout=remaining)
        try:
            conn.request("GET", path, headers={"User-Agent": f"limelight/{__version__} (reference fetch)",
                                               "Accept": "audio/*, */*;q=0.5", "Accept-Encoding": "identity"})
            resp = conn.getresponse()
            if resp.status != 200:
                return resp.status, resp.getheader("Location"), None
            return 200, None, self._read_capped(resp, conn, deadline)
        except TimeoutError:
            raise ReferenceFetchFailed(f"fetching reference_voice_url took longer than {self.policy.timeout_s:g} s",
                                       field=FIELD) from None
        except ssl.SSLError as exc:
            raise ReferenceFetchFailed(f"TLS error talking to {host!r}: {exc.reason or exc}", field=FIELD) from None
        except (OSError, http.client.HTTPException) as exc:
            raise ReferenceFetchFailed(f"cannot fetch reference_voice_url from {host!r}: {exc}", field=FIELD) from None
        finally:
            conn.close()

    def _read_capped(self, resp: http.client.HTTPResponse, conn: http.client.HTTPConnection, deadline: float) -> bytes:
        limit = self.policy.max_bytes
        mb = f"{limit / (1024 * 1024):g} MB"
        declared = resp.getheader("Content-Length")
        if declared and declared.strip().isdigit() and int(declared) > limit:
            raise ReferenceTooLarge(f"reference audio is {int(declared)} bytes, more than {mb}", field=FIELD)
        buf = bytearray()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            if conn.sock is not None:
                conn.sock.settimeout(remaining)
            piece = resp.read1(65536) if hasattr(resp, "read1") else resp.read(65536)
            if not piece:
                return bytes(buf)
            buf.extend(piece)
            if len(buf) > limit:
                raise ReferenceTooLarge(f"reference audio is larger than {mb}", field=FIELD)


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to a pre-checked IP; the Host header still names the original host."""

    def __init__(self, host: str, ip: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self) -> None:
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedHTTPS(_PinnedHTTP):
    """HTTPS to a pre-checked IP, verifying the certificate against the original host name (SNI too)."""

    default_port = 443  # so the Host header omits ":443", as for any HTTPS client

    def connect(self) -> None:
        raw = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = ssl.create_default_context().wrap_socket(raw, server_hostname=self.host)


def decode_reference(data: bytes, min_s: float = 3.0, max_s: float = 30.0,
                     field: str = FIELD) -> tuple[np.ndarray, int]:
    """Bytes → float32 mono audio, refusing what is not audio, too short, too long, or silent. Errors name
    ``field``: the URL field for fetched audio, ``file`` for an upload."""
    try:
        info = sf.info(io.BytesIO(data))
    except Exception:  # libsndfile raises several types for garbage  # noqa: BLE001
        raise AudioInputError("reference audio could not be decoded; send WAV, FLAC, OGG or MP3", field=field) from None
    if not 4000 <= info.samplerate <= 192_000 or not 1 <= info.channels <= 8:
        raise AudioInputError(f"reference audio has an unusable format ({info.samplerate} Hz, {info.channels} "
                              "channels)", field=field)
    duration = info.frames / info.samplerate if info.frames > 0 else None
    if duration is not None and duration > max_s + 0.5:  # refuse before decoding a long file
        raise AudioInputError(f"reference audio is {duration:.1f} s long; it must be {min_s:g}–{max_s:g} s",
                              field=field)
    try:
        audio, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True,
                            frames=int((max_s + 1) * info.samplerate))
    except Exception:  # noqa: BLE001
        raise AudioInputError("reference audio could not be decoded; send WAV, FLAC, OGG or MP3", field=field) from None
    mono = audio.mean(axis=1).astype(np.float32)
    duration = len(mono) / sr
    if not min_s <= duration <= max_s:
        raise AudioInputError(f"reference audio is {duration:.1f} s long; it must be {min_s:g}–{max_s:g} s",
                              field=field)
    if not np.isfinite(mono).all() or float(np.max(np.abs(mono))) < 1e-3:
        raise AudioInputError("reference audio is silent", field=field)
    return mono, int(sr)
