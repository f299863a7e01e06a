"""Small checks shared by the description classes; each raises a one-line ValidationError."""
from __future__ import annotations

import math
from numbers import Real

import numpy as np

from .errors import ValidationError


def _one_line(exc) -> str:
    return " ".join(str(exc).split())[:200]


def finite(owner: str, name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise ValidationError(f"{owner}: {name}={value!r:.60} is not a number; give a finite float")
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
        raw = np.asarray(value)
        if raw.dtype.kind not in "iuf" and not (raw.dtype.kind == "O" and raw.size == 0):
            kind = {"b": "booleans", "U": "strings", "S": "strings"}.get(raw.dtype.kind, "non-numbers")
            raise ValidationError(f"{owner}: {name}={value!r:.60} holds {kind}; give numbers (floats)")
        a = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError, RecursionError, OverflowError) as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError(f"{owner}: {name} is not numeric ({_one_line(exc)}); give floats") from None
    if not np.all(np.isfinite(a)):
        bad = a[~np.isfinite(a)].ravel()[0]
        raise ValidationError(f"{owner}: {name} contains {bad}; every value must be finite")
    return a


def _nearest_multiples(v: float, dt: float, minimum: int) -> str:
    """The valid multiples of dt next to ``v`` (at least ``minimum`` steps, and > 0 for a value > 0)."""
    lowest = max(minimum, 1 if v > 0 else minimum)
    below, above = max(math.floor(v / dt), lowest), max(math.ceil(v / dt), lowest)
    if below == above:
        return f"a multiple such as {below * dt:g} ms"
    return f"a multiple such as {below * dt:g} ms or {above * dt:g} ms"


def steps(owner: str, name: str, value_ms: float, dt: float, minimum: int = 0) -> int:
    """Convert a time in ms to whole steps of dt, refusing values off the dt grid."""
    v = finite(owner, name, value_ms)
    k = round(v / dt)
    if abs(k * dt - v) > 1e-9 * max(1.0, abs(v)):
        raise ValidationError(f"{owner}: {name}={v} ms is not a multiple of dt={dt} ms; use "
                              f"{_nearest_multiples(v, dt, minimum)}")
    if k < minimum:
        raise ValidationError(
            f"{owner}: {name}={v} ms is below {minimum} step(s) of dt={dt} ms; use at least {minimum * dt:g} ms")
    return int(k)


# -- bounds of the model description (docs/schema.md) ------------------------------------------
#: Smallest step [ms]: below it a 1 s run needs more than 10**6 steps per ms of model time and
#: spike times/delays lose their exact place on the grid.
MIN_DT = 1e-3
#: Longest time [ms] (spike times, delays, starts, run durations; ~11.6 days): at dt = MIN_DT it is
#: 10**12 steps, still exact in float64 (2**53) and int64, so every time keeps its exact grid step.
MAX_TIME = 1e9
#: Longest SpikeSourcePoisson duration [ms]: the default 1e12 ("until the end of the run").
MAX_DURATION = 1e12
#: Largest time constant [ms] (tau_m, tau_syn, tau_refrac, STDP and mechanism taus).
MAX_TAU = 1e9
#: Smallest synaptic/membrane time constant [ms] (exp(-dt/tau) and the exact propagators stay finite).
MIN_TAU = 1e-6
#: Largest |current| [nA] (i_offset, weights in nA, initial synaptic currents).
MAX_CURRENT = 1e6
#: Largest |voltage| [mV] (v_rest, v_reset, v_thresh, initial v, Izhikevich c, weights in mV).
MAX_VOLTAGE = 1e6
#: Membrane capacitance range [nF]: R = tau_m/cm then stays <= 1e15 MΩ, so V = R·I stays finite.
MIN_CM, MAX_CM = 1e-6, 1e6
#: Largest rate [Hz] (Poisson rates, target rates).
MAX_RATE = 1e6
#: Largest dimensionless factor or amplitude (STDP A±, Izhikevich a, b, mechanism gains).
MAX_FACTOR = 1e6
#: Largest number of neurons in one population (the memory check below applies first).
MAX_SIZE = 10 ** 8
#: Seeds are integers in [0, 2**63).
MAX_SEED = 2 ** 63


def _why(name: str) -> str:
    return {
        "time": f"times are at most {MAX_TIME:g} ms so that every time is an exact whole number of steps",
        "tau": f"time constants are at most {MAX_TAU:g} ms",
        "current": f"currents are at most {MAX_CURRENT:g} nA in magnitude so that V and currents stay finite",
        "voltage": f"voltages are at most {MAX_VOLTAGE:g} mV in magnitude so that V stays finite",
    }.get(name, "")


def number(owner: str, name: str, value, lo: float = -math.inf, hi: float = math.inf, unit: str = "",
           strict_lo: bool = False, why: str = "") -> float:
    """A finite real number (not a bool, not a string) in [lo, hi] (``strict_lo``: > lo)."""
    v = finite(owner, name, value)
    u = f" {unit}" if unit else ""
    reason = f" ({why})" if why else ""
    if (strict_lo and not v > lo) or v < lo:
        rel = ">" if strict_lo else ">="
        raise ValidationError(f"{owner}: {name}={v}{u} must be {rel} {lo:g}{u}{reason}")
    if v > hi:
        raise ValidationError(f"{owner}: {name}={v}{u} must be <= {hi:g}{u}{reason}")
    return v


def integer(owner: str, name: str, value, lo: int = 0, hi: int | None = None, why: str = "") -> int:
    """A whole number (an int, or a float with an integral value; never a bool or a string) in [lo, hi]."""
    if isinstance(value, bool) or not isinstance(value, (Real, np.integer)):
        raise ValidationError(f"{owner}: {name}={value!r:.60} is not an integer; give a whole number")
    if isinstance(value, float) or isinstance(value, np.floating):
        if not math.isfinite(value) or value != int(value):
            raise ValidationError(f"{owner}: {name}={value!r} is not a whole number; give an integer")
    v = int(value)
    reason = f" ({why})" if why else ""
    if v < lo:
        raise ValidationError(f"{owner}: {name}={v} must be >= {lo}{reason}")
    if hi is not None and v > hi:
        raise ValidationError(f"{owner}: {name}={v} must be <= {hi}{reason}")
    return v


def seed(owner: str, name: str, value) -> int:
    return integer(owner, name, value, 0, MAX_SEED - 1, why="seeds are non-negative integers below 2**63")


def boolean(owner: str, name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValidationError(f"{owner}: {name}={value!r:.60} must be true or false (a boolean, not a string or number)")
    return bool(value)


def text(owner: str, name: str, value) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{owner}: {name}={value!r:.60} must be a non-empty string")
    return value


def bounded_array(owner: str, name: str, value, lo: float = -math.inf, hi: float = math.inf, unit: str = "",
                  why: str = "") -> np.ndarray:
    """``finite_array`` with numbers only (no bools or strings) and values in [lo, hi]."""
    a = finite_array(owner, name, value)
    if a.size:
        mn, mx = float(a.min()), float(a.max())
        u = f" {unit}" if unit else ""
        reason = f" ({why})" if why else ""
        if mn < lo:
            raise ValidationError(f"{owner}: {name} holds {mn:g}{u}; values must be >= {lo:g}{u}{reason}")
        if mx > hi:
            raise ValidationError(f"{owner}: {name} holds {mx:g}{u}; values must be <= {hi:g}{u}{reason}")
    return a
