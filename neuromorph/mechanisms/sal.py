"""Spike-based alignment learning (SAL; Gierlich et al., arXiv:2503.02642) — docs/mechanisms.md §4.

``SAL`` acts on a reciprocal pair of projections: ``forward`` X→Y with weights W_xy and
``backward`` Y→X with weights W_yx over the same neuron pairs (mask of backward = transpose of
forward). One antisymmetric spike-timing window with one time constant τ and one amplitude η::

    traces      a_x ← a_x·exp(−dt/τ) + s_x ,  a_y ← a_y·exp(−dt/τ) + s_y   (after the update)
    Δ_xy        = η·(s_x·a_y − a_x·s_y)          (post-before-pre potentiates, pre-before-post depresses)
    W_xy ← W_xy + Δ_xy ,   W_yx ← W_yx − Δ_xyᵀ

Both directions use the same window from their own pre/post point of view, so the changes are
equal and opposite: ``W_xy + W_yx`` is conserved exactly (up to float rounding), while the
difference shrinks when noise-driven causal correlations are asymmetric. Bounds
``[w_min, w_max]`` clip Δ itself (``Δ ∈ [max(w_min − W_xy, W_yx − w_max), min(w_max − W_xy,
W_yx − w_min)]``), so the sum stays conserved at the bounds too. Spikes are the neurons' emission
steps (delays do not enter the window). Units: τ in ms, η and the bounds in weight units.

``EscapeNoise`` is the stochastic firing rule SAL relies on (the experiments in
``neuromorph.models.sal``): hazard ``ρ(u) = rho0·exp((u − v_thresh)/delta_u)`` [Hz]; per step of dt
a spike with probability ``1 − exp(−ρ·dt/1000)``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ValidationError
from ..registry import description_type
from . import _checks as c

__all__ = ["SAL", "EscapeNoise"]


@description_type
@dataclass(frozen=True)
class EscapeNoise:
    """Escape-noise firing: hazard rho0·exp((u − v_thresh)/delta_u) [Hz]; rho0 [Hz] > 0,
    delta_u [mV] > 0, v_thresh [mV]."""

    rho0: float = 20.0
    delta_u: float = 1.0
    v_thresh: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "rho0", c.rate("EscapeNoise", "rho0", self.rho0))
        object.__setattr__(self, "delta_u", c.bounded("EscapeNoise", "delta_u", self.delta_u, lo=0.0, strict_lo=True, unit="mV"))
        v = c.bounded("EscapeNoise", "v_thresh", self.v_thresh, unit="mV")
        if not math.isfinite(v):
            raise ValidationError(f"EscapeNoise: v_thresh={v} must be finite")
        object.__setattr__(self, "v_thresh", v)

    def spike_probability(self, u, dt: float):
        """Probability of a spike in one step of ``dt`` [ms] at membrane ``u`` (numpy or torch)."""
        lib = np if isinstance(u, (np.ndarray, float)) else __import__("torch")
        rho = self.rho0 * lib.exp((u - self.v_thresh) / self.delta_u)
        return 1.0 - lib.exp(-rho * (dt / 1000.0))


@description_type
@dataclass(frozen=True)
class SAL:
    """Spike-based alignment learning on the reciprocal pair ``forward`` (X→Y) / ``backward``
    (Y→X). tau [ms] > 0: time constant of the window; eta > 0: amplitude [weight units];
    w_min ≤ w_max: conservation-preserving bounds on both weights (weights in the core are
    magnitudes, so w_min defaults to 0; w_max None = unbounded)."""

    label: str
    forward: str
    backward: str
    tau: float = 10.0
    eta: float = 1e-3
    w_min: float = 0.0
    w_max: float | None = None

    def __post_init__(self):
        c.label("SAL", self.label)
        owner = f"SAL {self.label!r}"
        for name in ("forward", "backward"):
            v = getattr(self, name)
            if not isinstance(v, str) or not v:
                raise ValidationError(f"{owner}: {name}={v!r} must be a projection label")
        if self.forward == self.backward:
            raise ValidationError(f"{owner}: forward and backward are both {self.forward!r}; SAL needs two projections, X→Y and Y→X")
        object.__setattr__(self, "tau", c.time_constant(owner, "tau", self.tau))
        object.__setattr__(self, "eta", c.bounded(owner, "eta", self.eta, lo=0.0, hi=1e6, strict_lo=True))
        if not math.isfinite(self.eta):
            raise ValidationError(f"{owner}: eta={self.eta} must be finite")
        lo = c.bounded(owner, "w_min", self.w_min, lo=-1e6, hi=1e6)
        if not math.isfinite(lo):
            raise ValidationError(f"{owner}: w_min={lo} must be finite")
        object.__setattr__(self, "w_min", lo)
        if self.w_max is not None:
            hi = c.bounded(owner, "w_max", self.w_max, lo=lo)
            object.__setattr__(self, "w_max", None if math.isinf(hi) else hi)

    @property
    def upper(self) -> float:
        """w_max, or inf when unbounded."""
        return math.inf if self.w_max is None else self.w_max

    def check(self, net) -> None:
        owner = f"SAL {self.label!r}"
        for name in ("forward", "backward"):
            lab = getattr(self, name)
            if lab not in net.projections:
                raise ValidationError(f"{owner}: {name}={lab!r} is not a projection of this network (known: {', '.join(net.projections) or 'none'})")
        f, b = net.projections[self.forward], net.projections[self.backward]
        if not (b.pre == f.post and b.post == f.pre):
            raise ValidationError(
                f"{owner}: {f.label!r} is {f.pre}→{f.post} but {b.label!r} is {b.pre}→{b.post}; the pair is not reciprocal, backward must run {f.post}→{f.pre}")
        cf, cb = net.connectivity(f.label), net.connectivity(b.label)
        # backward's (post, pre) in forward's index space: the same pairs when reciprocal
        unpaired = np.setxor1d(cf.pre * cf.n_post + cf.post, cb.post * cf.n_post + cb.pre, assume_unique=True)
        if unpaired.size:
            n = int(unpaired.size)
            raise ValidationError(
                f"{owner}: {n} synapse(s) of {f.label!r} have no partner in {b.label!r} (or vice versa); the pair is not reciprocal, connect the same neuron pairs both ways")
        if f.receptor != b.receptor:
            raise ValidationError(f"{owner}: receptors differ ({f.receptor} vs {b.receptor}); SAL conserves W_xy + W_yx of same-sign pairs, use one receptor")
        for p in (f, b):
            if p.plasticity is not None:
                raise ValidationError(f"{owner}: projection {p.label!r} already has plasticity {type(p.plasticity).__name__}; SAL must be its only rule (remove plasticity=)")
        for p in (f, b):
            conn = net.connectivity(p.label)
            w = conn.weights
            if w.size and (w.min() < self.w_min or w.max() > self.upper):
                raise ValidationError(f"{owner}: projection {p.label!r} has weights in [{w.min()}, {w.max()}] outside [w_min, w_max] = [{self.w_min}, {self.upper}]; widen the bounds")
