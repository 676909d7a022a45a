"""The same batch on Ray: one actor per worker, each with its own performer, on a local instance or a cluster.

Why actors and not tasks: loading Kokoro takes seconds, rendering a short line a fraction of that, so the
engine must stay loaded between jobs; an actor is Ray's long-lived worker. The driver keeps one job in flight
per actor (longest first, as in the local pool) and waits on whichever finishes, so it always knows which
job an error belongs to, and an actor that dies is replaced and its job retried once — which Ray's
`ActorPool` cannot tell us.

Nothing assumes the cluster shares a filesystem with the driver: the user's library voices and a job's
reference audio travel to the actors through the object store, and the rendered audio comes back as bytes
that the driver commits into the output folder exactly as local workers do (atomically, metadata last).
Actors ask for ``num_gpus`` when the cluster has GPUs (Kokoro in PyTorch on CUDA), else for as many CPUs
as their engine uses threads.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import LimelightError
from .manifest import Job
from .output import temp_path
from .run import (
    MAX_CRASHES,
    BatchSettings,
    EngineConfig,
    EngineLoadError,
    JobResult,
    commit,
    failure,
    job_options,
    render,
)

Runner = Callable[[list[Job], BatchSettings, Callable[[JobResult], None]], None]


def require_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise LimelightError("--ray needs Ray: pip install 'limelight[cluster]'", field="ray") from None
    return ray


def ray_runner(address: str | None) -> Runner:
    """A runner for `run_batch` that uses Ray at ``address`` (None: a new local instance)."""
    require_ray()

    def run(jobs: list[Job], settings: BatchSettings, emit: Callable[[JobResult], None]) -> None:
        run_ray(jobs, settings, emit, address)

    return run


class Renderer:
    """A Ray actor's body: one performer, loaded once; renders jobs into a private temporary folder."""

    def __init__(self, config: EngineConfig, library: list[Any]) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="limelight-ray-"))
        self.error: str | None = None
        try:
            if library:  # the driver's library voices, saved where this process's library looks
                from ..voice.library import VoiceLibrary

                lib = VoiceLibrary(self.tmp / "home" / "voices")
                for voice in library:
                    lib.save(voice, force=True)
                os.environ["LIMELIGHT_HOME"] = str(self.tmp / "home")
            self.performer = config.load()
        except Exception as exc:  # noqa: BLE001  (reported to the driver by `ready`)
            self.error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, LimelightError) else str(exc)

    def ready(self) -> str | None:
        return self.error

    def render(self, job: Job, settings: BatchSettings,
               reference: bytes | None) -> tuple[JobResult | None, bytes | None, dict[str, Any] | None, float]:
        t0 = time.perf_counter()
        options = job_options(job, settings)
        ref_path = None
        try:
            if reference is not None:
                ref_path = self.tmp / f"ref-{job.id}{Path(str(options['reference'])).suffix}"
                ref_path.write_bytes(reference)
                options["reference"] = str(ref_path)
            wav, meta = render(self.performer, job, options, self.tmp)
            try:
                data = wav.read_bytes()
            finally:
                wav.unlink(missing_ok=True)
            return None, data, meta, time.perf_counter() - t0
        except Exception as exc:  # noqa: BLE001  (one bad job must not stop the batch; it is reported)
            return failure(job, exc, time.perf_counter() - t0), None, None, time.perf_counter() - t0
        finally:
            if ref_path is not None:
                ref_path.unlink(missing_ok=True)


def _library_voices(config: EngineConfig) -> list[Any]:
    if config.engine != "kokoro":
        return []
    try:
        from ..voice.library import VoiceLibrary

        return VoiceLibrary().list()
    except Exception:  # noqa: BLE001  (an unreadable library: jobs naming its voices fail with a clear error)
        return []


def actor_resources(ray: Any, settings: BatchSettings) -> tuple[EngineConfig, dict[str, float]]:
    """Per-actor resources and the engine config they imply: a GPU share when the cluster has GPUs and the
    device was not pinned to the CPU, else CPUs for the engine's threads (at most one node's worth)."""
    config = settings.engine
    total = ray.cluster_resources()
    gpus = float(total.get("GPU", 0.0))
    if gpus > 0 and config.device in ("auto", "cuda") and config.engine == "kokoro":
        share = min(1.0, gpus / settings.workers)
        return _replace(config, device="cuda"), {"num_gpus": share, "num_cpus": 1}
    node_cpus = max((float(n.get("Resources", {}).get("CPU", 0.0)) for n in ray.nodes() if n.get("Alive")),
                    default=1.0)
    threads = config.threads or max(1, int(float(total.get("CPU", 1.0)) // settings.workers))
    threads = max(1, min(threads, int(node_cpus)))
    return _replace(config, device="cpu", threads=threads), {"num_cpus": threads}


def _replace(config: EngineConfig, **changes: Any) -> EngineConfig:
    from dataclasses import replace

    return replace(config, **changes)


def run_ray(jobs: list[Job], settings: BatchSettings, emit: Callable[[JobResult], None],
            address: str | None) -> None:
    ray = require_ray()
    from ray.exceptions import RayActorError, RayError

    started = False
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(address="local", include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": local_runtime_env()})
        started = True
    actors: list[Any] = []
    try:
        config, resources = actor_resources(ray, settings)
        actor_cls = ray.remote(**resources)(Renderer)
        library = ray.put(_library_voices(config))

        def new_actor() -> Any:
            actor = actor_cls.remote(config, library)
            actors.append(actor)
            return actor

        n = min(settings.workers, len(jobs))
        idle = [new_actor() for _ in range(n)]
        for error in ray.get([a.ready.remote() for a in idle]):
            if error:
                raise EngineLoadError(f"the Ray workers could not load the engine: {error}")
        references: dict[str, Any] = {}

        def reference_of(job: Job) -> Any:
            path = job.options.get("reference")
            if not isinstance(path, str):
                return None
            if path not in references:
                references[path] = ray.put(Path(path).read_bytes())
            return references[path]

        queue = list(jobs)
        crashes: dict[str, int] = {}
        pending: dict[Any, tuple[Any, Job]] = {}
        while queue or pending:
            while queue and idle:
                actor, job = idle.pop(), queue.pop(0)
                pending[actor.render.remote(job, settings, reference_of(job))] = (actor, job)
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                actor, job = pending.pop(ref)
                try:
                    result, data, meta, seconds = ray.get(ref)
                except RayActorError:
                    crashes[job.id] = crashes.get(job.id, 0) + 1
                    if crashes[job.id] >= MAX_CRASHES:
                        emit(failure(job, RuntimeError(f"the Ray worker died while rendering this job "
                                                       f"({MAX_CRASHES} times)")))
                    else:
                        queue.insert(0, job)
                    idle.append(new_actor())
                    continue
                except RayError as exc:
                    emit(failure(job, exc))
                    idle.append(actor)
                    continue
                idle.append(actor)
                if result is not None:
                    emit(result)
                    continue
                assert data is not None and meta is not None
                tmp = temp_path(settings.out_dir, f"{job.id}.wav")
                try:
                    tmp.write_bytes(data)
                    emit(commit(job, settings, tmp, meta, seconds))
                except OSError as exc:
                    emit(failure(job, exc, seconds))
                finally:
                    tmp.unlink(missing_ok=True)
    finally:
        for actor in actors:
            ray.kill(actor)
        if started:
            ray.shutdown()


def local_runtime_env() -> dict[str, str]:
    """A local instance's workers import limelight as this process does (a source checkout on PYTHONPATH)."""
    import limelight

    src = str(Path(limelight.__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH", "")
    return {"PYTHONPATH": os.pathsep.join(p for p in (src, path) if p)}
