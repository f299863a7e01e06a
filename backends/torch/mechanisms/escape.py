"""Escape-noise LIF neuron: snnTorch's ``Leaky`` with a stochastic firing rule (docs/mechanisms.md §4).

Membrane as ``snntorch.Leaky``: ``u[t] = β·u[t−1] + I[t]`` (reset per ``reset_mechanism``).
Firing: hazard ``ρ(u) = rho0·exp((u − threshold)/delta_u)`` [Hz]; a spike in the step with
probability ``P = 1 − exp(−ρ·dt/1000)``, sampled from a ``torch.Generator`` (deterministic for a
seed). The reset uses the sampled spike of the previous step. The spike's gradient is
``snntorch.surrogate`` of ``u − threshold`` times the sampled spike's straight-through value, so the
unit stays trainable like any snnTorch neuron.
"""
from __future__ import annotations

import math

import snntorch as snn
import torch

__all__ = ["EscapeLeaky", "escape_probability"]


def escape_probability(u: torch.Tensor, rho0: float, delta_u: float, threshold: float, dt: float) -> torch.Tensor:
    """P(spike in one step of dt [ms]) for hazard rho0·exp((u − threshold)/delta_u) [Hz]."""
    rho = rho0 * torch.exp(torch.clamp((u - threshold) / delta_u, max=50.0))
    return -torch.expm1(-rho * (dt / 1000.0))


class EscapeLeaky(snn.Leaky):
    """``snntorch.Leaky`` whose ``fire`` samples escape noise instead of thresholding.

    beta: membrane decay per step; rho0 [Hz]; delta_u [mV, or the membrane's units]; dt [ms];
    threshold: the hazard's reference potential; generator: torch.Generator for the samples.
    """

    def __init__(self, beta, rho0: float = 20.0, delta_u: float = 1.0, dt: float = 1.0, threshold: float = 0.0,
                 reset_mechanism: str = "none", generator: torch.Generator | None = None, spike_grad=None, **kw):
        super().__init__(beta=beta, threshold=threshold, reset_mechanism=reset_mechanism, spike_grad=spike_grad, **kw)
        if not rho0 > 0 or not delta_u > 0 or not dt > 0 or not all(map(math.isfinite, (rho0, delta_u, dt))):
            from neuromorph.errors import ValidationError
            raise ValidationError(f"EscapeLeaky: rho0={rho0} Hz, delta_u={delta_u}, dt={dt} ms must all be finite and > 0")
        self.rho0, self.delta_u, self.dt = float(rho0), float(delta_u), float(dt)
        self.generator = generator
        self._last = None
        self._unit_spikes = not isinstance(self.graded_spikes_factor, torch.Tensor) or bool(self.graded_spikes_factor == 1.0)

    def fire(self, mem):
        p = escape_probability(mem, self.rho0, self.delta_u, float(self.threshold), self.dt)
        u = torch.rand(mem.shape, generator=self.generator, dtype=mem.dtype, device=mem.device)
        sample = (u < p).to(mem.dtype)
        self._last = sample
        if not (torch.is_grad_enabled() and mem.requires_grad):
            return sample if self._unit_spikes else sample * self.graded_spikes_factor
        surrogate = self.spike_grad(mem - self.threshold)
        spk = sample + (surrogate - surrogate.detach())  # value: the sample; gradient: snnTorch surrogate
        return spk * self.graded_spikes_factor

    def mem_reset(self, mem):
        if self._last is None or self._last.shape != mem.shape:
            return torch.zeros_like(mem)
        return self._last

    def reset_mem(self):
        self._last = None
        return super().reset_mem()
