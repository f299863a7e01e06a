"""Homeostasis as pure torch step functions (explicit parameter and state tuples) and the
network mechanisms that apply them online, every step (docs/mechanisms.md §1).

    rate estimate  r ← r·q + s·(1000/dt)·(1 − q),  q = exp(−dt/τ_r)     [Hz]  (unbiased: mean r = rate)
    scaling        g ← clip(g·exp((dt/τ)(1 − r/ν*)), g_min, g_max)      (τ d ln g/dt = 1 − r/ν*)
    threshold      θ ← clip(θ + (dt/τ)·step·(r/ν* − 1), θ_min, θ_max)   [mV]
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from ._hooks import replace_additive, replace_gain

__all__ = ["RateParameters", "ScalingParameters", "ScalingState", "ThresholdParameters", "ThresholdState",
           "rate_estimate_step", "synaptic_scaling_step", "threshold_adaptation_step",
           "SynapticScalingMechanism", "ThresholdAdaptationMechanism"]


class RateParameters(NamedTuple):
    rate_tau: float   # ms
    dt: float         # ms


class ScalingParameters(NamedTuple):
    target_rate: float  # Hz
    tau: float          # ms
    rate_tau: float     # ms
    factor_min: float
    factor_max: float
    dt: float           # ms
    population_scope: bool = False


class ScalingState(NamedTuple):
    rate: torch.Tensor    # Hz [batch, n]
    factor: torch.Tensor  # [batch, n] (or [batch, 1] for population scope)


class ThresholdParameters(NamedTuple):
    target_rate: float
    tau: float
    step: float       # mV
    rate_tau: float
    shift_min: float  # mV
    shift_max: float  # mV
    dt: float


class ThresholdState(NamedTuple):
    rate: torch.Tensor   # Hz [batch, n]
    shift: torch.Tensor  # mV [batch, n]


def rate_estimate_step(rate: torch.Tensor, spikes: torch.Tensor, p: RateParameters) -> torch.Tensor:
    """Exponential rate estimate [Hz]: ``r ← q·r + s·(1000/dt)(1 − q)``, ``q = exp(−dt/rate_tau)``;
    its mean over a stationary spike train is exactly the train's rate."""
    q = math.exp(-p.dt / p.rate_tau)
    return rate * q + spikes.to(rate.dtype) * ((1000.0 / p.dt) * (1.0 - q))


def synaptic_scaling_step(spikes: torch.Tensor, state: ScalingState, p: ScalingParameters) -> ScalingState:
    r = rate_estimate_step(state.rate, spikes, RateParameters(p.rate_tau, p.dt))
    drive = r.mean(dim=1, keepdim=True) if p.population_scope else r
    g = state.factor * torch.exp((p.dt / p.tau) * (1.0 - drive / p.target_rate))
    return ScalingState(r, torch.clamp(g, p.factor_min, p.factor_max))


def threshold_adaptation_step(spikes: torch.Tensor, state: ThresholdState, p: ThresholdParameters) -> ThresholdState:
    r = rate_estimate_step(state.rate, spikes, RateParameters(p.rate_tau, p.dt))
    th = state.shift + (p.dt / p.tau) * p.step * (r / p.target_rate - 1.0)
    return ThresholdState(r, torch.clamp(th, p.shift_min, p.shift_max))


def _numpy(state: torch.Tensor) -> np.ndarray:
    """A ``[batch, n]`` state as numpy: ``[n]`` when batch is 1 (the convention of ``sim.trace``)."""
    a = state.detach().to("cpu", torch.float64).numpy().copy()
    return a[0] if a.shape[0] == 1 else a


def _ref(sim, label):
    """(dtype, device, (batch, n)) of a population in the simulation."""
    return getattr(sim, "dtype", torch.float64), getattr(sim, "device", None), (sim.batch, sim.net.populations[label].size)


class SynapticScalingMechanism:
    """Applies a ``SynapticScaling`` construct: ``weight_gain`` of each scaled projection gets the
    factor of its post neuron, ``[batch, 1, n_post]``. The factor is float64."""

    def __init__(self, construct, sim):
        self.construct = construct
        self.label = construct.label
        self.projections = construct.scaled_projections(sim.net)
        self.pop = construct.population
        self.params = ScalingParameters(construct.target_rate, construct.tau, construct.rate_tau, construct.factor_min,
                                        construct.factor_max, float(sim.net.dt), construct.scope == "population")
        self._applied = {}
        self.reset(sim)

    def reset(self, sim):
        dtype, device, (b, n) = _ref(sim, self.pop)
        width = 1 if self.params.population_scope else n
        self.state = ScalingState(torch.full((b, n), self.construct.target_rate, dtype=torch.float64, device=device),
                                  torch.full((b, width), self.construct.initial_factor, dtype=torch.float64, device=device))
        self._apply(sim)

    def sync(self, sim):
        pass

    @property
    def factor(self) -> np.ndarray:
        """The current gain g, numpy float64 (a copy), like the PyNN host loop's: ``[n]`` per neuron
        (``[1]`` for ``scope="population"``), ``[batch, n]`` (``[batch, 1]``) when batched. The
        torch tensor ``[batch, n]`` is ``self.state.factor``."""
        return _numpy(self.state.factor)

    def _apply(self, sim):
        g = self.state.factor.to(_ref(sim, self.pop)[0]).unsqueeze(1)  # [b, 1, n_post or 1]
        for proj in self.projections:
            replace_gain(sim.weight_gain, proj, g, self._applied.get(proj))
            self._applied[proj] = g

    def step(self, sim, k, spikes):
        self.state = synaptic_scaling_step(spikes[self.pop].detach(), self.state, self.params)
        self._apply(sim)


class ThresholdAdaptationMechanism:
    """Applies a ``ThresholdAdaptation`` construct through ``threshold_shift`` [mV]."""

    def __init__(self, construct, sim):
        self.construct = construct
        self.label = construct.label
        self.pop = construct.population
        self.params = ThresholdParameters(construct.target_rate, construct.tau, construct.step, construct.rate_tau,
                                          construct.shift_min, construct.shift_max, float(sim.net.dt))
        self._applied = None
        self.reset(sim)

    def reset(self, sim):
        dtype, device, (b, n) = _ref(sim, self.pop)
        self.state = ThresholdState(torch.full((b, n), self.construct.target_rate, dtype=torch.float64, device=device),
                                    torch.zeros((b, n), dtype=torch.float64, device=device))
        self._apply(sim)

    def sync(self, sim):
        pass

    @property
    def shift(self) -> np.ndarray:
        """The current threshold shift θ [mV], numpy float64 (a copy), like the PyNN host loop's:
        ``[n]``, ``[batch, n]`` when batched. The torch tensor ``[batch, n]`` is ``self.state.shift``."""
        return _numpy(self.state.shift)

    def _apply(self, sim):
        th = self.state.shift.to(_ref(sim, self.pop)[0])
        replace_additive(sim.threshold_shift, self.pop, th, self._applied)
        self._applied = th

    def step(self, sim, k, spikes):
        self.state = threshold_adaptation_step(spikes[self.pop].detach(), self.state, self.params)
        self._apply(sim)
