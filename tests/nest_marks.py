"""Skip marks for tests that need PyNN with NEST (the ``[pynn]`` extra)."""
from __future__ import annotations

import pytest


def has_pynn_nest() -> bool:
    """Whether ``pyNN.nest`` imports here (PyNN 0.13 with nest-simulator)."""
    try:
        import pyNN.nest  # noqa: F401
    except Exception:
        return False
    return True


needs_nest = pytest.mark.skipif(not has_pynn_nest(), reason="pyNN.nest (PyNN + NEST) is not importable here")
