"""Direction: free-text stage directions and voice descriptions → numbers the engine can perform.

``Direction`` (direction.py) is the dataclass every later stage reads; ``interpret`` (interpret.py) maps an
``<action>`` plus the speaker's voice description to one, by meaning (sentence embeddings against a
vocabulary of prototypes) and by exact keyword rules. The embedder loads only when text is first
interpreted, so importing this package stays cheap.
"""

from __future__ import annotations

from .direction import REGISTERS, Direction
from .interpret import PROTOTYPES, Match, Prototype, explain, interpret

__all__ = ["Direction", "REGISTERS", "interpret", "explain", "Match", "Prototype", "PROTOTYPES"]
