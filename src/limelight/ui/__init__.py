"""The Gradio studio (`limelight ui`): write a directed script, pick, design or clone a voice, listen live,
and read the per-chunk report with a waveform and pitch picture.

Gradio is an optional extra (``pip install 'limelight[ui]'``); it is imported only when the studio is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import gradio

__all__ = ["build_app", "launch"]


def _app_module() -> Any:
    """`limelight.ui.app`, or a user error naming the install command when gradio is missing."""
    try:
        from . import app
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("gradio", "matplotlib"):
            from ..errors import LimelightError

            raise LimelightError(f"the studio needs {exc.name.split('.')[0]}: pip install 'limelight[ui]'",
                                 field="ui") from None
        raise
    return app


def build_app(performer: Any = None) -> gradio.Blocks:
    """The studio as an unlaunched `gradio.Blocks` over ``performer`` (default: a new Kokoro Performer)."""
    return _app_module().build_app(performer)


def launch(host: str = "127.0.0.1", port: int = 7860, share: bool = False) -> None:
    """Serve the studio at http://host:port until interrupted."""
    _app_module().launch(host=host, port=port, share=share)
