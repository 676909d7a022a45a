"""limelight: a speech engine that performs.

The package is a one-way pipeline, one subpackage per stage (see DESIGN.md): ``script`` → ``text`` →
``plan`` → ``voice`` + ``direct`` → ``engine`` → ``scene`` → ``check``. The two public entry points are
:class:`Limelight` (plain text in, audio out) and :class:`Performer` (a directed script in, a
:class:`Performance` out). Both are imported lazily so that ``import limelight`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Limelight", "Performer", "Performance", "LimelightError", "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from .api import Limelight
    from .errors import LimelightError
    from .perform import Performance, Performer


def __getattr__(name: str) -> Any:
    if name == "Limelight":
        from .api import Limelight

        return Limelight
    if name in ("Performer", "Performance"):
        from . import perform

        return getattr(perform, name)
    if name == "LimelightError":
        from .errors import LimelightError

        return LimelightError
    raise AttributeError(name)
