"""Small checks shared by the description classes; each raises a one-line ValidationError."""
from __future__ import annotations

import math
from numbers import Real

import numpy as np

from .errors import ValidationError


def finite(owner: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValidationError(f"{owner}: {name}={value!r} is not a number; give a finite float")
    v = float(value)
    if not math.isfinite(v):
        raise ValidationError(f"{owner}: {name}={v} is not finite; give a finite float")
    return v


def positive(owner: str, name: str, value, unit: str = "") -> float:
    v = finite(owner, name, value)
    if v <= 0:
        raise ValidationError(f"{owner}: {name}={v} {unit}".rstrip() + " must be > 0")
    return v


def non_negative(owner: str, name: str, value, unit: str = "") -> float:
    v = finite(owner, name, value)
    if v < 0:
        raise ValidationError(f"{owner}: {name}={v} {unit}".rstrip() + " must be >= 0")
    return v


def finite_array(owner: str, name: str, value) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{owner}: {name} is not numeric ({exc}); give floats") from None
    if not np.all(np.isfinite(a)):
        bad = a[~np.isfinite(a)].ravel()[0]
        raise ValidationError(f"{owner}: {name} contains {bad}; every value must be finite")
    return a


def steps(owner: str, name: str, value_ms: float, dt: float, minimum: int = 0) -> int:
    """Convert a time in ms to whole steps of dt, refusing values off the dt grid."""
    v = finite(owner, name, value_ms)
    k = round(v / dt)
    if abs(k * dt - v) > 1e-9 * max(1.0, abs(v)):
        raise ValidationError(
            f"{owner}: {name}={v} ms is not a multiple of dt={dt} ms; use a multiple such as {max(k, minimum) * dt:g}")
    if k < minimum:
        raise ValidationError(
            f"{owner}: {name}={v} ms is below {minimum} step(s) of dt={dt} ms; use at least {minimum * dt:g} ms")
    return int(k)
