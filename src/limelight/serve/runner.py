"""`run_server`: serve the app with uvicorn in this process, with connection limits and a graceful drain.

One process, ``workers`` synthesis threads: the models are loaded once and shared (several uvicorn processes
would each load their own copy and compete for the same cores). The event loop only parses, admits or
refuses, and encodes; synthesis runs on the worker threads.

Connection hygiene lives here, in the runner, because it is about sockets, not requests: uvicorn's own
``timeout_keep_alive`` (idle keep-alive connections) and h11's head-size limit, plus the header/body timeouts
and the connection cap uvicorn lacks (`limelight.serve.connection`). uvicorn's access log is off: it would log
query strings (where a careless client may put a key); the app logs its own access line without them.

Shutdown (SIGTERM or Ctrl-C): the server stops accepting connections, `/ready` turns 503, queued requests are
answered 503 with ``Retry-After`` at once, running jobs get ``drain_timeout_s`` to finish (streams end with a
complete file), and whatever is still running then is cancelled and answered, so the process exits within
about ``drain_timeout_s`` + a few seconds without a cut response or a traceback.
"""

from __future__ import annotations

import asyncio
import socket
from types import FrameType
from typing import Any

from .settings import Settings


def run_server(host: str | None = None, port: int | None = None, workers: int | None = None,
               settings: Settings | None = None, **options: Any) -> None:
    """Serve until interrupted. ``settings`` as given, else built from ``options`` (`Settings` fields) over
    ``LIMELIGHT_*`` environment variables (explicit values win)."""
    from .observe import configure_logging

    if settings is None:
        settings = Settings.from_env(host=host, port=port, workers=workers, **options)
    configure_logging(settings.log_format, settings.log_level)
    build_server(settings).run()


def build_server(settings: Settings, performer: Any = None) -> Any:
    """The uvicorn Server for ``settings`` (app, guarded protocol, timeouts, drain on signals), not started."""
    import uvicorn

    from .app import create_app
    from .connection import MAX_HEAD_BYTES, guarded_protocol

    app = create_app(settings, performer)
    state = app.state.limelight
    protocol = guarded_protocol(settings.header_timeout_s, settings.body_timeout_s, settings.max_connections,
                                on_refusal=state.metrics.reject)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, http=protocol,  # type: ignore[arg-type]
                            timeout_keep_alive=settings.keep_alive_s,  # type: ignore[arg-type]
                            timeout_graceful_shutdown=int(settings.drain_timeout_s + 5),
                            h11_max_incomplete_event_size=MAX_HEAD_BYTES, access_log=False, log_config=None,
                            log_level=settings.log_level, server_header=False, lifespan="on")
    return DrainingServer(config, state)


class DrainingServer:
    """uvicorn's Server, telling the app to drain when a shutdown signal arrives (before uvicorn stops)."""

    def __new__(cls, config: Any, state: Any) -> Any:
        import uvicorn

        class _Server(uvicorn.Server):
            async def startup(self, sockets: list[socket.socket] | None = None) -> None:
                self._limelight_loop = asyncio.get_running_loop()
                await super().startup(sockets)

            def handle_exit(self, sig: int, frame: FrameType | None) -> None:
                loop = getattr(self, "_limelight_loop", None)
                if loop is not None and not loop.is_closed():
                    loop.call_soon_threadsafe(state.begin_drain)  # signal context: hand it to the loop
                super().handle_exit(sig, frame)

        return _Server(config)
