"""Homeostasis constructs of the model description (docs/mechanisms.md §1).

Three forms, each a frozen, validated dataclass added to a network with ``net.add(...)``:

``SynapticScaling`` — a multiplicative factor ``g`` on a population's afferent weights, driven
toward a target rate ν* [Hz] with time constant τ [ms] (Turrigiano-style scaling)::

    rate estimate   r ← q·r + s·(1000/dt)(1 − q),  q = exp(−dt/τ_r)   [Hz]  (s = 1 in a step with a spike;
                    unbiased: its mean over a stationary train is the train's rate)
    factor          g ← clip(g·exp((dt/τ)(1 − r/ν*)), g_min, g_max)
    transmitted     w_eff = g_post · w                       (every afferent synapse of the neuron)

i.e. ``τ d(ln g)/dt = 1 − r/ν*``; the fixed point is a mean rate of exactly ν*. ``r`` starts at
ν*. ``scope="population"`` uses one factor driven by the population's mean rate.

``ThresholdAdaptation`` — intrinsic plasticity: a shift θ [mV] added to ``v_thresh``::

    θ ← clip(θ + (dt/τ)·step·(r/ν* − 1), θ_min, θ_max)

``WeightFactorCalibration`` — the spatial-pattern paper's calibration form: the smallest global
factor ``h`` on the given projections at which every detectable pattern makes the output fire
(the maximum over patterns of each pattern's own threshold factor), found by bisection on the
host between runs (``calibrate``). Detectable = fires at ``h = factor_max``.

Backends: torch applies the first two online, every step; PyNN applies them between run segments
(host in the loop, emulated, with the segment length in the capability table); the calibration is
a host-side search on every backend.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np

from ..errors import ValidationError
from ..registry import description_type
from . import _checks as c

__all__ = ["SynapticScaling", "ThresholdAdaptation", "WeightFactorCalibration", "smallest_firing_factor",
           "calibrate", "CalibrationResult"]


def _afferent_excitatory(net, population: str) -> tuple[str, ...]:
    return tuple(p.label for p in net.projections.values() if p.post == population and p.receptor == "excitatory")


@description_type
@dataclass(frozen=True)
class SynapticScaling:
    """Multiplicative synaptic scaling of ``population``'s afferent weights toward ``target_rate``.

    label: name of the construct. population: neuron population whose afferents are scaled.
    target_rate [Hz] > 0. tau [ms] > 0: time constant of ln g. rate_tau [ms] > 0: time constant
    of the rate estimate. projections: labels of the afferent projections to scale (default:
    every excitatory projection onto ``population``). scope: "neuron" (one factor per neuron) or
    "population" (one factor, mean rate). factor_min > 0, factor_max ≥ factor_min, initial_factor
    in between (dimensionless).
    """

    label: str
    population: str
    target_rate: float
    tau: float = 5000.0
    rate_tau: float = 1000.0
    projections: tuple = ()
    scope: Literal["neuron", "population"] = "neuron"
    factor_min: float = 1e-3
    factor_max: float = 1e3
    initial_factor: float = 1.0

    def __post_init__(self):
        owner = f"SynapticScaling {self.label!r}"
        c.label("SynapticScaling", self.label)
        object.__setattr__(self, "target_rate", c.rate(owner, "target_rate", self.target_rate))
        object.__setattr__(self, "tau", c.time_constant(owner, "tau", self.tau))
        object.__setattr__(self, "rate_tau", c.time_constant(owner, "rate_tau", self.rate_tau))
        object.__setattr__(self, "projections", c.labels(owner, "projections", self.projections))
        if self.scope not in ("neuron", "population"):
            raise ValidationError(f"{owner}: scope={self.scope!r} must be 'neuron' or 'population'")
        lo = c.bounded(owner, "factor_min", self.factor_min, lo=0.0, strict_lo=True)
        hi = c.bounded(owner, "factor_max", self.factor_max, lo=lo, hi=1e6)
        g0 = c.bounded(owner, "initial_factor", self.initial_factor, lo=lo, hi=hi)
        for k, v in (("factor_min", lo), ("factor_max", hi), ("initial_factor", g0)):
            object.__setattr__(self, k, v)

    def scaled_projections(self, net) -> tuple[str, ...]:
        return self.projections or _afferent_excitatory(net, self.population)

    def construct_keys(self, net) -> tuple[str, ...]:
        """Capability keys beyond the class name (neuromorph.capabilities.required_constructs)."""
        plastic = any(net.projections[p].plasticity is not None for p in self.scaled_projections(net) if p in net.projections)
        return ("SynapticScaling:plastic projection",) if plastic else ()

    def check(self, net) -> None:
        owner = f"SynapticScaling {self.label!r}"
        c.population_of_neurons(owner, net, self.population)
        projs = self.scaled_projections(net)
        if not projs:
            raise ValidationError(f"{owner}: population {self.population!r} has no excitatory afferent projection to scale; connect one first or name projections=")
        for p in projs:
            if p not in net.projections:
                raise ValidationError(f"{owner}: no projection labelled {p!r} (known: {', '.join(net.projections) or 'none'})")
            if net.projections[p].post != self.population:
                raise ValidationError(f"{owner}: projection {p!r} ends on {net.projections[p].post!r}, not on {self.population!r}; scale only afferents of the population")


@description_type
@dataclass(frozen=True)
class ThresholdAdaptation:
    """Intrinsic threshold adaptation of ``population`` toward ``target_rate``.

    θ [mV] is added to v_thresh: ``τ dθ/dt = step·(r/ν* − 1)`` with the rate estimate r of
    SynapticScaling. target_rate [Hz] > 0, tau [ms] > 0, rate_tau [ms] > 0, step [mV] > 0,
    shift_min ≤ 0 ≤ shift_max [mV] (defaults: unbounded below/above by 50 mV).
    """

    label: str
    population: str
    target_rate: float
    tau: float = 1000.0
    step: float = 1.0
    rate_tau: float = 1000.0
    shift_min: float = -50.0
    shift_max: float = 50.0

    def __post_init__(self):
        owner = f"ThresholdAdaptation {self.label!r}"
        c.label("ThresholdAdaptation", self.label)
        object.__setattr__(self, "target_rate", c.rate(owner, "target_rate", self.target_rate))
        object.__setattr__(self, "tau", c.time_constant(owner, "tau", self.tau))
        object.__setattr__(self, "rate_tau", c.time_constant(owner, "rate_tau", self.rate_tau))
        object.__setattr__(self, "step", c.bounded(owner, "step", self.step, lo=0.0, hi=1e6, strict_lo=True, unit="mV"))
        lo = c.bounded(owner, "shift_min", self.shift_min, lo=-1e6, hi=0.0, unit="mV")
        hi = c.bounded(owner, "shift_max", self.shift_max, lo=0.0, hi=1e6, unit="mV")
        object.__setattr__(self, "shift_min", lo)
        object.__setattr__(self, "shift_max", hi)

    def check(self, net) -> None:
        c.population_of_neurons(f"ThresholdAdaptation {self.label!r}", net, self.population)


@description_type
@dataclass(frozen=True)
class WeightFactorCalibration:
    """Calibration form of homeostasis (spatial-pattern paper): the smallest factor ``h`` on
    ``projections`` at which every detectable pattern makes ``output`` fire.

    source: label of a SpikeSourceArray population whose spike times are replaced by each pattern.
    patterns: one entry per pattern, each one tuple of spike times [ms] per source neuron.
    run_ms: length of each test run [ms]. factor_max: largest factor tried; a pattern that does
    not fire at it is "undetectable" and ignored. rtol: relative resolution of the bisection.
    """

    label: str
    projections: tuple
    source: str
    output: str
    patterns: tuple
    run_ms: float = 20.0
    factor_max: float = 100.0
    rtol: float = 1e-4

    def __post_init__(self):
        owner = f"WeightFactorCalibration {self.label!r}"
        c.label("WeightFactorCalibration", self.label)
        projs = c.labels(owner, "projections", self.projections)
        if not projs:
            raise ValidationError(f"{owner}: projections=() names nothing to scale; give the projections the factor multiplies")
        object.__setattr__(self, "projections", projs)
        try:
            pats = tuple(tuple(tuple(float(t) for t in row) for row in pat) for pat in self.patterns)
        except (TypeError, ValueError):
            raise ValidationError(f"{owner}: patterns must be a list of patterns, each one list of spike times [ms] per source neuron") from None
        if not pats:
            raise ValidationError(f"{owner}: patterns=() is empty; give at least one pattern to calibrate on")
        if any(not math.isfinite(t) or t < 0 for pat in pats for row in pat for t in row):
            raise ValidationError(f"{owner}: a pattern holds a negative or non-finite spike time; times are ms >= 0")
        object.__setattr__(self, "patterns", pats)
        object.__setattr__(self, "run_ms", c.time_constant(owner, "run_ms", self.run_ms))
        object.__setattr__(self, "factor_max", c.bounded(owner, "factor_max", self.factor_max, lo=0.0, hi=1e6, strict_lo=True))
        object.__setattr__(self, "rtol", c.bounded(owner, "rtol", self.rtol, lo=0.0, hi=0.5, strict_lo=True))

    def check(self, net) -> None:
        owner = f"WeightFactorCalibration {self.label!r}"
        if self.source not in net.populations or type(net.populations[self.source].celltype).__name__ != "SpikeSourceArray":
            raise ValidationError(f"{owner}: source={self.source!r} is not a SpikeSourceArray population of this network")
        n = net.populations[self.source].size
        for i, pat in enumerate(self.patterns):
            if len(pat) != n:
                raise ValidationError(f"{owner}: pattern {i} has {len(pat)} spike lists for source {self.source!r} of {n} neurons")
        c.population_of_neurons(owner, net, self.output)
        for p in self.projections:
            if p not in net.projections:
                raise ValidationError(f"{owner}: no projection labelled {p!r} (known: {', '.join(net.projections) or 'none'})")


# -- host-side search ---------------------------------------------------------------------------
def smallest_firing_factor(fires: Callable[[np.ndarray], np.ndarray], n_patterns: int, factor_max: float,
                           rtol: float = 1e-4, factor_min: float = 0.0, max_iter: int = 200) -> np.ndarray:
    """Vectorised bisection: for each pattern p the smallest ``h`` in ``(factor_min, factor_max]``
    with ``fires(h)[p]`` true, to relative resolution ``rtol`` (the returned value always fires).

    ``fires(h)`` takes one factor per pattern (array [P]) and returns one bool per pattern. Firing
    must be monotone in h (no firing below the threshold factor, firing at and above it). Patterns
    that do not fire at ``factor_max`` get ``inf``.
    """
    n = int(n_patterns)
    hi = np.full(n, float(factor_max))
    lo = np.full(n, float(factor_min))
    ok = np.asarray(fires(hi.copy()), dtype=bool).reshape(n)
    out = np.full(n, np.inf)
    if not ok.any():
        return out
    for _ in range(max_iter):
        open_ = ok & (hi - lo > rtol * hi)
        if not open_.any():
            break
        mid = np.where(open_, 0.5 * (lo + hi), hi)
        f = np.asarray(fires(mid.copy()), dtype=bool).reshape(n)
        hi = np.where(open_ & f, mid, hi)
        lo = np.where(open_ & ~f, mid, lo)
    out[ok] = hi[ok]
    return out


@dataclass(frozen=True)
class CalibrationResult:
    factor: float            # the global factor h (max over detectable patterns); inf if none
    per_pattern: np.ndarray  # each pattern's own threshold factor (inf: undetectable)

    @property
    def detectable(self) -> np.ndarray:
        return np.isfinite(self.per_pattern)


def _scaled_copy(net, construct: WeightFactorCalibration, pattern, factor: float):
    """A copy of ``net`` with the source firing ``pattern`` and the projections' weights × factor
    (connections resolved to FromList so that every synapse and delay is kept exactly)."""
    from ..network import Network
    data = net.to_dict()
    data["extensions"] = [e for e in data["extensions"] if e.get("type") != "WeightFactorCalibration"]
    for p in data["populations"]:
        if p["label"] == construct.source:
            p["celltype"] = {"type": "SpikeSourceArray", "spike_times": [list(r) for r in pattern]}
    for p in data["projections"]:
        if p["label"] in construct.projections:
            conn = net.connectivity(p["label"])
            rows = [[i, j, w, d] for i, j, w, d in zip(conn.pre.tolist(), conn.post.tolist(),
                                                       (conn.weights * factor).tolist(), (conn.delays * net.dt).tolist())]
            p["connector"] = {"type": "FromList", "conn_list": rows}
            p["weight"], p["delay"] = 0.0, None
    if not any(r["target"] == construct.output and "spikes" in r["variables"] for r in data["recordings"]):
        data["recordings"].append({"target": construct.output, "variables": ["spikes"], "every": 1})
    return Network.from_dict(data)


def calibrate(net, construct: WeightFactorCalibration, backend: str = "torch", **build_options) -> CalibrationResult:
    """Run the calibration search of ``construct`` on ``backend`` (one short run per pattern and
    bisection step, host in the loop) and return the global factor and each pattern's own."""
    from ..simulation import build
    construct.check(net)
    out_label = construct.output

    def fires(h: np.ndarray) -> np.ndarray:
        res = np.zeros(h.size, dtype=bool)
        for p, (pattern, f) in enumerate(zip(construct.patterns, h)):
            sim = build(_scaled_copy(net, construct, pattern, float(f)), backend=backend, **build_options)
            sim.run(construct.run_ms)
            res[p] = any(len(t) > 0 for t in sim.spikes(out_label))
        return res

    per = smallest_firing_factor(fires, len(construct.patterns), construct.factor_max, construct.rtol)
    fin = per[np.isfinite(per)]
    return CalibrationResult(float(fin.max()) if fin.size else math.inf, per)
