"""Running a manifest: which jobs still need rendering, a local process pool to render them, and the report.

Each worker process loads one `Performer` once and renders jobs one after another; the driver keeps at most
one job per worker in flight, handing out the longest remaining job first. With one worker the driver renders
itself (a second process would only add a start-up and a copy of the model). A job's audio and metadata are
committed atomically by whoever rendered it (`output`), and the metadata file is written last: it is the
mark that the job is complete. A re-run therefore skips exactly the jobs whose metadata is there, matches
the job (its fingerprint) and describes the audio file beside it; everything else is rendered again.

A worker that dies (a crash in native code, the OOM killer) takes only its job with it: the pool is rebuilt,
the job is tried once more, and a job that kills a worker twice is reported failed.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..audio.output import output_spec
from ..errors import LimelightError
from .manifest import BadLine, Job, Manifest, load_manifest
from .output import (
    audio_frames,
    check_format,
    commit_audio,
    fsync_dir,
    remove_stale_temps,
    temp_path,
    write_json_atomic,
)

REPORT = "report.jsonl"
LOCK = ".batch.lock"
MAX_CRASHES = 2


@dataclass(frozen=True)
class EngineConfig:
    """How each worker builds its performer (sent to worker processes and Ray actors, so plain values)."""

    engine: str = "kokoro"
    model: str | None = None
    decoder: str | None = None
    device: str = "auto"  # auto: CUDA on Ray actors given a GPU, else the CPU
    threads: int | None = None

    def load(self) -> Any:
        from ..perform import Performer

        device = "cpu" if self.device == "auto" else self.device
        return Performer(engine=self.engine, device=device, model=self.model, threads=self.threads,
                         decoder=self.decoder)


@dataclass(frozen=True)
class BatchSettings:
    out_dir: Path
    fmt: str = "wav"
    validate: bool = False
    force: bool = False
    workers: int = 1
    engine: EngineConfig = field(default_factory=EngineConfig)

    def salt(self) -> dict[str, Any]:
        """What beyond the job's own line decides its audio (a change re-renders the job)."""
        return {"engine": self.engine.engine, "model": self.engine.model, "decoder": self.engine.decoder,
                "validate": self.validate, "format": self.fmt}


@dataclass
class JobResult:
    """One line of ``report.jsonl``."""

    id: str | None
    where: str
    line: int | None
    status: str  # ok | skipped (already complete) | failed | invalid (bad manifest entry)
    seconds: float = 0.0
    audio_s: float = 0.0
    error: str | None = None
    output: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Summary:
    total: int = 0
    ok: int = 0
    skipped: int = 0
    failed: int = 0
    invalid: int = 0
    audio_s: float = 0.0
    wall_s: float = 0.0

    @property
    def exit_code(self) -> int:
        return 1 if self.failed or self.invalid else 0


class EngineLoadError(LimelightError):
    """The workers could not build their performer (bad --model, missing GPU extra): nothing can run."""


# ------------------------------------------------------------------------------------------- job state
def job_options(job: Job, settings: BatchSettings) -> dict[str, Any]:
    options = {"validate": settings.validate}
    options.update(job.options)
    return options


def fingerprint(job: Job, settings: BatchSettings) -> str:
    return job.fingerprint() + ":" + json.dumps(settings.salt(), sort_keys=True)


def outputs(job_id: str, settings: BatchSettings) -> tuple[Path, Path]:
    return settings.out_dir / f"{job_id}.{settings.fmt}", settings.out_dir / f"{job_id}.json"


def completed(job: Job, settings: BatchSettings) -> JobResult | None:
    """The job's result if its outputs are complete and current, else None (it must be rendered)."""
    audio, meta_path = outputs(job.id, settings)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        info = meta["batch"]
        if info["fingerprint"] != fingerprint(job, settings) or audio.stat().st_size != info["bytes"]:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if audio_frames(audio) != info["frames"]:
        return None
    return JobResult(id=job.id, where=job.where, line=job.line, status="skipped", seconds=0.0,
                     audio_s=float(meta.get("duration_s", 0.0)), output=audio.name)


# ------------------------------------------------------------------------------------------- rendering
def render(performer: Any, job: Job, options: dict[str, Any], workdir: Path) -> tuple[Path, dict[str, Any]]:
    """Render ``job`` to a temporary WAV in ``workdir``; returns the file and the performance metadata."""
    tmp = temp_path(workdir, f"{job.id}.wav")
    try:
        # the temporary's name ends in .tmp, so the format is said, not read from the extension
        meta = performer.perform_to_file(job.source, tmp, output=output_spec(format="wav"), **options)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp, meta


def commit(job: Job, settings: BatchSettings, rendered_wav: Path, meta: dict[str, Any], seconds: float) -> JobResult:
    """Put a rendered job's files in place: the audio first, then the metadata that marks it complete."""
    audio, meta_path = outputs(job.id, settings)
    meta_path.unlink(missing_ok=True)  # while the audio is replaced, the job must not look complete
    size = commit_audio(rendered_wav, audio, settings.fmt)
    frames = audio_frames(audio)
    meta = dict(meta)
    meta["batch"] = {"id": job.id, "where": job.where, "line": job.line, "fingerprint": fingerprint(job, settings),
                     "format": settings.fmt, "output": audio.name, "bytes": size, "frames": frames,
                     "render_s": round(seconds, 3)}
    write_json_atomic(meta_path, meta)
    fsync_dir(settings.out_dir)
    return JobResult(id=job.id, where=job.where, line=job.line, status="ok", seconds=round(seconds, 3),
                     audio_s=float(meta.get("duration_s", 0.0)), output=audio.name)


def failure(job: Job, exc: BaseException, seconds: float = 0.0) -> JobResult:
    message = str(exc) if isinstance(exc, LimelightError) else f"{type(exc).__name__}: {exc}"
    if isinstance(exc, LimelightError) and exc.field and exc.field not in message:
        message = f"{exc.field}: {message}"
    return JobResult(id=job.id, where=job.where, line=job.line, status="failed", seconds=round(seconds, 3),
                     error=message)


@functools.lru_cache(maxsize=1)
def performer_for(config: EngineConfig) -> Any:
    """This process's performer for ``config``, loaded once (the model cache of a worker, or of the driver
    when it renders itself)."""
    return config.load()


# Set in a worker process by `_init_worker` when its performer failed to load.
_LOAD_ERROR: list[BaseException] = []


def _init_worker(config: EngineConfig) -> None:
    try:
        performer_for(config)
    except BaseException as exc:  # reported by the first job, which stops the batch with a usage error
        _LOAD_ERROR.append(exc)


def _work(job: Job, settings: BatchSettings) -> JobResult:
    if _LOAD_ERROR:
        raise EngineLoadError(f"the workers could not load the engine: {_LOAD_ERROR[0]}")
    t0 = time.perf_counter()
    try:
        wav, meta = render(performer_for(settings.engine), job, job_options(job, settings), settings.out_dir)
        return commit(job, settings, wav, meta, time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001  (one bad job must not stop the batch; it is reported)
        return failure(job, exc, time.perf_counter() - t0)


def run_inline(jobs: list[Job], settings: BatchSettings, emit: Callable[[JobResult], None]) -> None:
    """One worker: render in this process (no second process to start, no engine loaded twice)."""
    try:
        performer_for(settings.engine)
    except LimelightError as exc:
        raise EngineLoadError(str(exc), field=exc.field) from None
    for job in jobs:
        emit(_work(job, settings))


def run_local(jobs: list[Job], settings: BatchSettings, emit: Callable[[JobResult], None]) -> None:
    """Render ``jobs`` (already ordered) on ``settings.workers`` processes, calling ``emit`` per result."""
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    if settings.engine.threads is None:  # share the cores: onnxruntime would give every worker all of them
        threads = max(1, (os.cpu_count() or 1) // settings.workers)
        settings = replace(settings, engine=replace(settings.engine, threads=threads))
    if settings.workers == 1:
        run_inline(jobs, settings, emit)
        return
    queue = list(jobs)
    crashes: dict[str, int] = {}
    ctx = mp.get_context("spawn")  # never fork a process whose parent may hold onnxruntime's threads
    while queue:
        workers = min(settings.workers, len(queue))
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                   initargs=(settings.engine,))
        in_flight: dict[Future[JobResult], Job] = {}
        broken = False
        try:
            while (queue or in_flight) and not broken:
                while queue and len(in_flight) < workers:
                    job = queue.pop(0)
                    in_flight[pool.submit(_work, job, settings)] = job
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for fut in done:
                    job = in_flight.pop(fut)
                    try:
                        emit(fut.result())
                    except BrokenProcessPool:
                        broken = True
                        crashes[job.id] = crashes.get(job.id, 0) + 1
                        if crashes[job.id] >= MAX_CRASHES:
                            emit(failure(job, RuntimeError("the worker process died while rendering this job "
                                                           f"({MAX_CRASHES} times)")))
                        else:
                            queue.insert(0, job)
            if broken:  # the other jobs in flight died with the pool through no fault of their own
                for fut, job in in_flight.items():
                    if fut.done() and not isinstance(fut.exception(), BrokenProcessPool):
                        emit(fut.result())
                    else:
                        queue.insert(0, job)
        finally:
            pool.shutdown(wait=not broken, cancel_futures=True)


# ------------------------------------------------------------------------------------------- driver
@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """One batch at a time per output folder (two would race on the same files)."""
    path = folder / LOCK
    fh = open(path, "a+")  # noqa: SIM115
    try:
        try:
            import fcntl

            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # pragma: no cover  (Windows: no advisory locks; run one batch per folder)
            pass
        except OSError:
            raise LimelightError(f"another batch is writing to {folder} (lock {path} is held)",
                                 field="output") from None
        yield
    finally:
        fh.close()


def prepare_out_dir(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LimelightError(f"cannot create output folder {path}: {exc.strerror or exc}", field="output") from None
    if not os.access(path, os.W_OK):
        raise LimelightError(f"cannot write to output folder {path}: permission denied", field="output")
    return path


class Reporter:
    """Writes ``report.jsonl`` a line per job as results come (each line flushed and synced, so a killed run
    keeps the lines of the jobs it finished), counts them, and shows progress."""

    def __init__(self, settings: BatchSettings, total: int, quiet: bool = False) -> None:
        self.path = settings.out_dir / REPORT
        self.fh = open(self.path, "w", encoding="utf-8")  # noqa: SIM115
        self.summary = Summary(total=total)
        self.quiet = quiet
        self.bar: Any = None
        if not quiet and total > 1:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="job", file=sys.stderr, desc="batch", leave=False)

    def __call__(self, result: JobResult) -> None:
        self.fh.write(json.dumps(result.as_dict(), ensure_ascii=False) + "\n")
        self.fh.flush()
        os.fsync(self.fh.fileno())
        s = self.summary
        setattr(s, result.status, getattr(s, result.status) + 1)
        if result.status in ("ok", "skipped"):
            s.audio_s += result.audio_s
        if result.status in ("failed", "invalid") and not self.quiet:
            who = f" ({result.id})" if result.id else ""
            line = f"limelight: {result.status} {result.where}{who}: {result.error}\n"
            (self.bar.write(line.rstrip("\n"), file=sys.stderr) if self.bar else sys.stderr.write(line))
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.fh.close()


def order(jobs: list[Job]) -> list[Job]:
    """Longest first (stable: equal sizes keep manifest order)."""
    return sorted(jobs, key=lambda j: -j.size)


def run_batch(manifest: Manifest | str | os.PathLike[str], settings: BatchSettings, *, quiet: bool = False,
              ray_address: str | None = None, use_ray: bool = False) -> Summary:
    """Render every job of ``manifest`` not already complete into ``settings.out_dir``; returns the counts.

    Raises `LimelightError` for usage errors (unreadable manifest, unwritable folder, engine that cannot
    load); failing jobs and bad manifest lines are reported in ``report.jsonl`` and the summary instead.
    """
    t0 = time.perf_counter()
    check_format(settings.fmt)
    if settings.workers < 1:
        raise LimelightError(f"--workers must be at least 1, got {settings.workers}", field="workers")
    if not isinstance(manifest, Manifest):
        manifest = load_manifest(manifest)
    out = prepare_out_dir(settings.out_dir)
    runner: Callable[[list[Job], BatchSettings, Callable[[JobResult], None]], None] = run_local
    if use_ray:
        from .ray_run import ray_runner

        runner = ray_runner(ray_address)
    with locked(out):
        remove_stale_temps(out)
        reporter = Reporter(settings, len(manifest.jobs) + len(manifest.errors), quiet)
        try:
            for bad in manifest.errors:
                reporter(_invalid(bad))
            todo: list[Job] = []
            for job in manifest.jobs:
                done = None if settings.force else completed(job, settings)
                if done is not None:
                    reporter(done)
                else:
                    todo.append(job)
            if todo:
                runner(order(todo), settings, reporter)
        finally:
            reporter.close()
    reporter.summary.wall_s = time.perf_counter() - t0
    return reporter.summary


def _invalid(bad: BadLine) -> JobResult:
    return JobResult(id=bad.id, where=bad.where, line=bad.line, status="invalid", error=bad.reason)
