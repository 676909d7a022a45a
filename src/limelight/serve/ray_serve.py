"""Serving on Ray Serve: the same FastAPI app (`create_app`) as replicas on a Ray cluster.

Each replica is one process that builds the app itself (`build_asgi_app`, run on the replica: the app and
its loaded performer are never pickled), so ``/generate``, ``/v1/audio/speech``, ``/voices`` and their
limits behave exactly as under ``limelight serve``; Ray Serve's proxy spreads requests over the replicas and,
with autoscaling, adds or removes replicas by the number of requests in flight. Replicas read their
`Settings` from the same ``LIMELIGHT_*`` variables as the plain server: the driver's are forwarded to them.

The voice library must be one folder every replica sees (a shared filesystem mount, given as ``library``):
a voice saved through one replica is then listed and used by all of them. Ray itself is imported only when
a deployment is built, so this module costs nothing without the ``[cluster]`` extra.

The uvicorn runner's connection-level guards (header/body timeouts, connection cap, SIGTERM drain) do not
apply here: Ray Serve's proxy owns the sockets. Start it with ``limelight serve --ray [ADDRESS] --replicas N``
(or ``--min-replicas/--max-replicas``), or with Ray's own CLI:
``serve run limelight.serve.ray_serve:app_builder replicas=2 library=/mnt/voices``.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import LimelightError

DEPLOYMENT = "limelight"


@dataclass(frozen=True)
class ServeScale:
    """How many replicas and what each holds. ``min_replicas``/``max_replicas`` switch on autoscaling
    (replicas added when requests in flight per replica exceed ``target_ongoing``); else ``replicas`` fixed."""

    replicas: int = 1
    min_replicas: int | None = None
    max_replicas: int | None = None
    target_ongoing: float = 2.0
    num_cpus: float = 1.0
    num_gpus: float = 0.0

    def __post_init__(self) -> None:
        if self.replicas < 1:
            raise LimelightError(f"replicas must be at least 1, got {self.replicas}", field="replicas")
        lo, hi = self.min_replicas, self.max_replicas
        if (lo is None) != (hi is None):
            raise LimelightError("give both --min-replicas and --max-replicas for autoscaling", field="replicas")
        if lo is not None and hi is not None and not 0 <= lo <= hi or hi == 0:
            raise LimelightError(f"need 0 <= min-replicas <= max-replicas and max >= 1, got {lo}..{hi}",
                                 field="replicas")
        if self.target_ongoing <= 0 or self.num_cpus < 0 or self.num_gpus < 0:
            raise LimelightError("target_ongoing must be positive, num_cpus and num_gpus not negative",
                                 field="replicas")

    def deployment_options(self, max_ongoing: int) -> dict[str, Any]:
        options: dict[str, Any] = {"max_ongoing_requests": max_ongoing}
        if self.min_replicas is not None:
            options["autoscaling_config"] = {"min_replicas": self.min_replicas, "max_replicas": self.max_replicas,
                                             "target_ongoing_requests": self.target_ongoing}
        else:
            options["num_replicas"] = self.replicas
        return options


def build_asgi_app() -> Any:
    """The app for one replica, from its environment (called by Ray Serve on the replica)."""
    from .app import create_app
    from .settings import Settings

    return create_app(Settings.from_env())


def replica_env(library: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Environment for the replicas: this process's ``LIMELIGHT_*`` settings, and the shared library."""
    env = {k: v for k, v in os.environ.items() if k.startswith("LIMELIGHT_")}
    if library is not None:
        root = Path(library).expanduser().resolve()
        if root.name == "voices":  # VoiceLibrary keeps voices in $LIMELIGHT_HOME/voices
            root = root.parent
        env["LIMELIGHT_HOME"] = str(root)
    return env


def deployment(scale: ServeScale | None = None, library: str | os.PathLike[str] | None = None,
               extra_env: dict[str, str] | None = None) -> Any:
    """The bound Ray Serve application (pass it to ``serve.run``)."""
    try:
        from ray import serve
    except ImportError:
        raise LimelightError("serving on Ray needs Ray Serve: pip install 'limelight[cluster]'", field="ray") from None
    from .settings import Settings

    scale = scale or ServeScale()
    env = {**replica_env(library), **(extra_env or {})}
    settings = Settings.from_env(env)
    ingress = serve.ingress(build_asgi_app)(type("LimelightReplica", (), {"__module__": __name__}))
    options = scale.deployment_options(max_ongoing=settings.workers + settings.queue_depth)
    actor: dict[str, Any] = {"num_cpus": scale.num_cpus, "runtime_env": {"env_vars": env}}
    if scale.num_gpus:
        actor["num_gpus"] = scale.num_gpus
    return serve.deployment(ingress, name=DEPLOYMENT, ray_actor_options=actor, **options).bind()


def app_builder(args: dict[str, str]) -> Any:
    """For ``serve run limelight.serve.ray_serve:app_builder key=value ...`` or a Serve config file's
    ``import_path``; keys: replicas, min_replicas, max_replicas, target_ongoing, num_cpus, num_gpus, library."""
    ints = ("replicas", "min_replicas", "max_replicas")
    floats = ("target_ongoing", "num_cpus", "num_gpus")
    unknown = set(args) - set(ints) - set(floats) - {"library"}
    if unknown:
        raise LimelightError(f"unknown argument {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    try:
        values: dict[str, Any] = {k: int(args[k]) for k in ints if k in args}
        values.update({k: float(args[k]) for k in floats if k in args})
    except ValueError as exc:
        raise LimelightError(f"bad number: {exc}", field="replicas") from None
    return deployment(ServeScale(**values), library=args.get("library"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``limelight serve`` options for Ray Serve."""
    parser.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                        help="serve on Ray Serve: a local Ray instance, or the cluster at ADDRESS (or $RAY_ADDRESS)")
    parser.add_argument("--replicas", type=int, default=1, help="with --ray: replicas, each with its own engine")
    parser.add_argument("--min-replicas", type=int, default=None, help="with --ray: autoscale from this many")
    parser.add_argument("--max-replicas", type=int, default=None, help="with --ray: … up to this many")
    parser.add_argument("--replica-gpus", type=float, default=0.0, help="with --ray: GPUs per replica (default 0)")
    parser.add_argument("--library", default=None,
                        help="with --ray: the voice library folder on storage every replica sees")


def run_ray_serve(args: argparse.Namespace) -> None:
    """``limelight serve --ray``: deploy and block until interrupted (then shut the application down)."""
    try:
        import ray
        from ray import serve
    except ImportError:
        raise LimelightError("--ray needs Ray Serve: pip install 'limelight[cluster]'", field="ray") from None
    if args.library is None and (args.replicas > 1 or args.max_replicas):
        print("limelight: note: replicas each use their own voice library folder unless --library names one "
              "they all see", flush=True)
    from dataclasses import fields

    from .settings import Settings, env_var, from_arguments

    settings = from_arguments(args)  # the flags checked here, once, before anything starts
    address = args.ray or os.environ.get("RAY_ADDRESS") or "local"
    # The replicas build their Settings from the environment: the flags given travel as LIMELIGHT_* variables.
    extra = {env_var(f.name): str(getattr(args, f.name)) for f in fields(Settings)
             if getattr(args, f.name, None) is not None}
    if getattr(args, "api_keys_file", None):
        extra["LIMELIGHT_API_KEYS_FILE"] = str(Path(args.api_keys_file).expanduser().resolve())
    if address == "local":  # replicas import limelight as this process does (e.g. from a source checkout)
        from ..batch.ray_run import local_runtime_env

        extra.update(local_runtime_env())
    app = deployment(ServeScale(replicas=args.replicas, min_replicas=args.min_replicas,
                                max_replicas=args.max_replicas, num_gpus=args.replica_gpus),
                     library=args.library, extra_env=extra)
    ray.init(address=address, **({"include_dashboard": False} if address == "local" else {}))
    serve.start(http_options={"host": settings.host, "port": settings.port})
    try:
        serve.run(app, name=DEPLOYMENT, route_prefix="/", blocking=True)
    finally:
        serve.shutdown()
        ray.shutdown()
