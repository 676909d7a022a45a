"""limelight: a speech engine that performs.

The package is a one-way pipeline, one subpackage per stage (ARCHITECTURE.md has the map): ``script`` (parse)
→ ``voice`` (cast) → ``plan`` + ``direct`` (chunks and their Directions) → ``engine`` + ``check`` (render,
validate, retry) → ``scene`` (mix) → report. The public entry points are :class:`Limelight` (plain text in,
audio out) and :class:`Performer` (a directed script in, a :class:`Performance` out, or a stream of
:class:`ChunkReport` from ``Performer.pieces``), configured by :class:`PerformOptions`. They are imported
lazily so that ``import limelight`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["ChunkReport", "Limelight", "LimelightError", "PerformOptions", "Performance", "Performer", "Take",
           "perform_options", "__version__"]

_HOMES = {"Limelight": "api", "Performer": "perform", "Take": "perform", "Performance": "report",
          "ChunkReport": "report", "PerformOptions": "options", "perform_options": "options",
          "LimelightError": "errors"}

if TYPE_CHECKING:  # pragma: no cover
    from .api import Limelight
    from .errors import LimelightError
    from .options import PerformOptions, perform_options
    from .perform import Performer, Take
    from .report import ChunkReport, Performance


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(name)
