"""Reading a batch manifest: JSONL, CSV, or a folder of ``.txt``/``.xml`` files → typed `Job`s.

Every job is checked here, before any engine loads, so a typo on line 900 is reported at once and not after
an hour of rendering. A bad line does not stop the others: it becomes a `BadLine` (where, why) and the rest
of the manifest still runs. Only a manifest that cannot be read at all is a usage error.

Job ids become file names, so they are held to a small alphabet: no separators, no leading dot, no ``..``,
no names Windows reserves. An id can therefore never write outside the output folder.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LimelightError

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
RESERVED_IDS = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
# Fields of a job that are not performer options, and the option names the manifest handles itself.
JOB_FIELDS = ("id", "text", "script")
PLAIN_SUFFIXES = (".txt",)
MARKUP_SUFFIXES = (".xml", ".ssml")


@dataclass(frozen=True)
class Job:
    """One rendering: ``source`` (plain text, or markup when ``markup``) with its performer options.

    ``where`` names the job's place for messages (``catalogue.jsonl:12`` or ``chapters/ch01.txt``); ``line``
    is the 1-based manifest line (None for the folder form). ``reference`` in ``options`` is an absolute path.
    """

    id: str
    source: str
    markup: bool
    options: dict[str, Any] = field(default_factory=dict)
    line: int | None = None
    where: str = ""

    @property
    def size(self) -> int:
        """How much there is to say (characters): jobs run longest first so the last worker is not left alone
        with a long chapter at the end."""
        return len(self.source)

    def fingerprint(self) -> str:
        """A hash of everything that decides the job's audio; a finished output with another fingerprint is
        stale (the manifest line changed) and is rendered again."""
        options = dict(self.options)
        ref = options.get("reference")
        if isinstance(ref, str):
            try:
                st = os.stat(ref)
                options["reference"] = [ref, st.st_size, st.st_mtime_ns]
            except OSError:
                pass
        blob = json.dumps({"source": self.source, "markup": self.markup, "options": options}, sort_keys=True,
                          default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class BadLine:
    """A manifest entry that cannot run, and why (the message names the field when one is at fault)."""

    where: str
    reason: str
    line: int | None = None
    id: str | None = None


@dataclass
class Manifest:
    path: Path
    jobs: list[Job]
    errors: list[BadLine]


def check_id(value: object) -> str:
    """``value`` if it is a safe output name, else `LimelightError` saying what is allowed."""
    if not isinstance(value, str) or not value:
        raise LimelightError("'id' must be a non-empty string", field="id")
    if (not ID_RE.match(value) or ".." in value or value.endswith((".tmp", ".")) or value == "report"
            or value.split(".")[0].lower() in RESERVED_IDS):
        raise LimelightError(f"invalid id {value!r}: use 1-128 letters, digits, '_', '-' or '.', starting with a "
                             "letter or digit (no slashes, no '..', not 'report' or a reserved device name)",
                             field="id")
    return value


def option_types() -> dict[str, type]:
    """Performer option names → the type a manifest value must have (from the options' defaults)."""
    from ..perform import PerformOptions

    types: dict[str, type] = {}
    for f in dataclasses.fields(PerformOptions):
        default = f.default if f.default is not dataclasses.MISSING else None
        if isinstance(default, bool):
            types[f.name] = bool
        elif isinstance(default, int):
            types[f.name] = int
        elif isinstance(default, float):
            types[f.name] = float
        else:  # str or None defaults (voice, language, reference, mode): text in a manifest
            types[f.name] = str
    return types


def _coerce(name: str, value: Any, kind: type, from_text: bool) -> Any:
    """One option value to its type; CSV cells arrive as text and are parsed, JSON values must already fit."""
    if from_text and isinstance(value, str) and kind is not str:
        text = value.strip().lower()
        try:
            if kind is bool:
                if text in ("1", "true", "yes", "on"):
                    return True
                if text in ("0", "false", "no", "off"):
                    return False
                raise ValueError(text)
            return kind(text)
        except ValueError:
            raise LimelightError(f"field {name!r} must be {kind.__name__}, got {value!r}", field=name) from None
    ok = (isinstance(value, kind) and not (kind is int and isinstance(value, bool))) or (
        kind is float and isinstance(value, int) and not isinstance(value, bool))
    if not ok:
        raise LimelightError(f"field {name!r} must be {kind.__name__}, got {type(value).__name__} {value!r}",
                             field=name)
    return float(value) if kind is float else value


def make_job(record: dict[str, Any], *, where: str, line: int | None, base: Path, from_text: bool = False) -> Job:
    """Validate one manifest record into a `Job`; `LimelightError` (with ``field``) names what is wrong."""
    types = option_types()
    unknown = [k for k in record if k not in JOB_FIELDS and k not in types]
    if unknown:
        known = ", ".join([*JOB_FIELDS, *sorted(types)])
        raise LimelightError(f"unknown field {unknown[0]!r} (known fields: {known})", field=unknown[0])
    job_id = check_id(record.get("id"))
    has_text, has_script = record.get("text") is not None, record.get("script") is not None
    if has_text == has_script:
        raise LimelightError("give exactly one of 'text' (plain) or 'script' (markup/SSML)",
                             field="script" if has_script else "text")
    key = "script" if has_script else "text"
    source = record[key]
    if not isinstance(source, str) or not source.strip():
        raise LimelightError(f"{key!r} must be a non-empty string", field=key)
    options: dict[str, Any] = {}
    for name, value in record.items():
        if name in JOB_FIELDS or value is None or (from_text and value == ""):
            continue
        options[name] = _coerce(name, value, types[name], from_text)
    if "reference" in options:
        ref = Path(options["reference"]).expanduser()
        ref = ref if ref.is_absolute() else base / ref
        if not ref.is_file():
            raise LimelightError(f"reference file {ref} does not exist", field="reference")
        options["reference"] = str(ref.resolve())
    _check_options(options)
    if has_script:
        from ..script import parse

        try:
            parse(source)  # markup errors now, with their line and column inside the script
        except LimelightError as exc:
            raise LimelightError(f"script: {exc}", field="script") from None
    return Job(id=job_id, source=source, markup=has_script, options=options, line=line, where=where)


def _check_options(options: dict[str, Any]) -> None:
    """The performer's own range checks (speed 0.5-2, pace, seed, …), run now rather than in a worker."""
    from ..perform import PerformOptions

    PerformOptions(**{k: v for k, v in options.items() if k != "reference"})
    if "language" in options:
        from ..text.phonemes import espeak_voice

        espeak_voice(options["language"])


def load_manifest(path: str | os.PathLike[str]) -> Manifest:
    """Read a manifest in any of its three forms. Raises `LimelightError` only when the whole manifest is
    unusable (missing, unreadable, no entries); a bad entry becomes a `BadLine` in the result."""
    p = Path(path).expanduser()
    if p.is_dir():
        jobs, errors = _read_folder(p)
    elif not p.exists():
        raise LimelightError(f"manifest {p} does not exist", field="manifest")
    else:
        try:
            text = p.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise LimelightError(f"cannot read manifest {p}: {exc.strerror or exc}", field="manifest") from None
        except UnicodeDecodeError:
            raise LimelightError(f"manifest {p} is not UTF-8 text", field="manifest") from None
        if p.suffix.lower() == ".csv":
            jobs, errors = _read_csv(p, text)
        elif p.suffix.lower() in (".jsonl", ".ndjson", ".json") or text.lstrip().startswith("{"):
            jobs, errors = _read_jsonl(p, text)
        else:
            raise LimelightError(f"manifest {p}: use a .jsonl or .csv file, or a folder of .txt/.xml files",
                                 field="manifest")
    if not jobs and not errors:
        raise LimelightError(f"manifest {p} has no jobs", field="manifest")
    return Manifest(path=p, jobs=jobs, errors=_dedupe(jobs, errors))


def _dedupe(jobs: list[Job], errors: list[BadLine]) -> list[BadLine]:
    """A repeated id would overwrite an output: every later use of an id is refused, naming the first. Ids
    that differ only in case are repeats too (they are one file on macOS and Windows)."""
    first: dict[str, Job] = {}
    keep: list[Job] = []
    for job in jobs:
        key = job.id.casefold()
        if key in first:
            errors.append(BadLine(where=job.where, line=job.line, id=job.id,
                                  reason=f"duplicate id {job.id!r} (first used at {first[key].where})"))
        else:
            first[key] = job
            keep.append(job)
    jobs[:] = keep
    errors.sort(key=lambda e: (e.line or 0, e.where))
    return errors


def _bad(where: str, line: int | None, exc: LimelightError, record: dict[str, Any] | None) -> BadLine:
    rid = record.get("id") if isinstance(record, dict) and isinstance(record.get("id"), str) else None
    return BadLine(where=where, line=line, id=rid, reason=exc.message)


def _read_jsonl(p: Path, text: str) -> tuple[list[Job], list[BadLine]]:
    jobs: list[Job] = []
    errors: list[BadLine] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        where = f"{p.name}:{n}"
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            errors.append(BadLine(where=where, line=n, reason=f"not valid JSON: {exc.msg} (column {exc.colno})"))
            continue
        if not isinstance(record, dict):
            errors.append(BadLine(where=where, line=n, reason="each line must be a JSON object"))
            continue
        try:
            jobs.append(make_job(record, where=where, line=n, base=p.parent))
        except LimelightError as exc:
            errors.append(_bad(where, n, exc, record))
    return jobs, errors


def _read_csv(p: Path, text: str) -> tuple[list[Job], list[BadLine]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise LimelightError(f"manifest {p} has no header row", field="manifest")
    header = [h.strip() for h in reader.fieldnames]
    if "id" not in header:
        raise LimelightError(f"manifest {p}: the header row must name an 'id' column (it has {header})",
                             field="manifest")
    reader.fieldnames = header
    jobs: list[Job] = []
    errors: list[BadLine] = []
    start = 2  # the first record starts after the header line
    for row in reader:
        n = start
        start = reader.line_num + 1
        where = f"{p.name}:{n}"
        if None in row:
            errors.append(BadLine(where=where, line=n, reason=f"more cells than header columns ({len(header)})"))
            continue
        if all(not (v or "").strip() for v in row.values()):
            continue
        record = {k: v for k, v in row.items() if v is not None}
        try:
            jobs.append(make_job(record, where=where, line=n, base=p.parent, from_text=True))
        except LimelightError as exc:
            errors.append(_bad(where, n, exc, record))
    return jobs, errors


def _read_folder(p: Path) -> tuple[list[Job], list[BadLine]]:
    jobs: list[Job] = []
    errors: list[BadLine] = []
    for f in sorted(p.iterdir()):
        suffix = f.suffix.lower()
        if not f.is_file() or suffix not in PLAIN_SUFFIXES + MARKUP_SUFFIXES or f.name.startswith("."):
            continue
        where = f"{p.name}/{f.name}"
        try:
            source = f.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else f"cannot read: {exc}"
            errors.append(BadLine(where=where, reason=reason, id=f.stem))
            continue
        key = "script" if suffix in MARKUP_SUFFIXES else "text"
        try:
            jobs.append(make_job({"id": f.stem, key: source}, where=where, line=None, base=p))
        except LimelightError as exc:
            errors.append(BadLine(where=where, reason=exc.message, id=f.stem))
    return jobs, errors
