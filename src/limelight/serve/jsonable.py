"""Make performer metadata safe for JSON: numpy scalars/arrays become Python values, NaN/inf become null.

Starlette serialises with ``allow_nan=False``; one NaN match ratio would otherwise turn a finished
performance into a 500.
"""

from __future__ import annotations

import math
from dataclasses import asdict, is_dataclass
from typing import Any

import numpy as np


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist()) if value.size <= 4096 else f"<array {value.shape}>"
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)
