"""`run_server`: serve the app with uvicorn in this process.

One process, ``workers`` synthesis threads: the models are loaded once and shared (several uvicorn processes
would each load their own copy and compete for the same cores). The event loop only parses, admits or
refuses, and encodes; synthesis runs on the worker threads.
"""

from __future__ import annotations

from typing import Any

from .settings import Settings


def run_server(host: str = "127.0.0.1", port: int = 8000, workers: int = 1, **options: Any) -> None:
    """Serve until interrupted. ``options`` are `Settings` fields (queue_depth, api_keys, reference_allow, …);
    unset ones come from ``LIMELIGHT_*`` environment variables."""
    import uvicorn

    from .app import create_app

    log_level = str(options.pop("log_level", "info"))
    settings = Settings.from_env(workers=workers, **options)
    app = create_app(settings)
    uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=10)
