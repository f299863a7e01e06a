"""Validation helpers shared by the mechanism constructs (one-line ValidationErrors)."""
from __future__ import annotations

import math

from ..errors import ValidationError
from ..validation import MAX_DURATION, MAX_RATE, finite


def label(owner: str, value) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{owner}: label={value!r} must be a non-empty string")
    return value


def time_constant(owner: str, name: str, value) -> float:
    """A mechanism time constant [ms]: finite, > 0 and at most MAX_DURATION (1e12 ms, which freezes it)."""
    v = finite(owner, name, value)
    if v <= 0:
        raise ValidationError(f"{owner}: {name}={v} ms must be > 0 (a time constant); give a positive value in ms")
    if v > MAX_DURATION:  # 1e12 ms: long enough to freeze an estimate over any run (docs/schema.md)
        raise ValidationError(f"{owner}: {name}={v:g} ms must be <= {MAX_DURATION:g} ms (time constants are bounded, docs/schema.md)")
    return v


def rate(owner: str, name: str, value) -> float:
    """A target rate [Hz]: finite, > 0 and at most MAX_RATE."""
    v = finite(owner, name, value)
    if v <= 0:
        raise ValidationError(f"{owner}: {name}={v} Hz must be > 0; give the rate the population should fire at, in Hz")
    if v > MAX_RATE:
        raise ValidationError(f"{owner}: {name}={v:g} Hz must be <= {MAX_RATE:g} Hz (rates are bounded, docs/schema.md)")
    return v


def bounded(owner: str, name: str, value, lo=-math.inf, hi=math.inf, strict_lo=False, unit="") -> float:
    """A number (±inf allowed for bounds only when the caller passes them through)."""
    if isinstance(value, (bool, str, bytes)):
        raise ValidationError(f"{owner}: {name}={value!r:.60} is not a number")
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(f"{owner}: {name}={value!r:.60} is not a number") from None
    if math.isnan(v):
        raise ValidationError(f"{owner}: {name}=nan is not a number")
    u = f" {unit}" if unit else ""
    if strict_lo and not v > lo:
        raise ValidationError(f"{owner}: {name}={v}{u} must be > {lo}")
    if v < lo:
        raise ValidationError(f"{owner}: {name}={v}{u} must be >= {lo}")
    if v > hi:
        raise ValidationError(f"{owner}: {name}={v}{u} must be <= {hi}")
    return v


def labels(owner: str, name: str, value) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    try:
        out = tuple(value)
    except TypeError:
        raise ValidationError(f"{owner}: {name}={value!r} must be a label or a list of labels") from None
    for x in out:
        if not isinstance(x, str) or not x:
            raise ValidationError(f"{owner}: {name} contains {x!r}; give population/projection labels (strings)")
    return out


def population_of_neurons(owner: str, net, lab: str):
    pops = net.populations
    if lab not in pops:
        raise ValidationError(f"{owner}: no population labelled {lab!r} (known: {', '.join(pops) or 'none yet'}); add it before this construct")
    pop = pops[lab]
    if pop.is_source:
        raise ValidationError(f"{owner}: population {lab!r} is a spike source; homeostasis and astrocytes act on neurons, name a neuron population")
    return pop
