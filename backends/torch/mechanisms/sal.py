"""Spike-based alignment learning (SAL) as a pure torch step function and the network mechanism
that applies it online on a reciprocal pair of projections (docs/mechanisms.md §4).

With traces a (decayed to this step, before this step's spikes are added)::

    Δ_xy  = η·(s_x ⊗ a_y − a_x ⊗ s_y)        post-before-pre potentiates, pre-before-post depresses
    W_xy += Δ_xy ;  W_yx −= Δ_xyᵀ             (so W_xy + W_yxᵀ is conserved)
    a ← a + s

Bounds clip Δ, not the weights: Δ ∈ [max(w_min − W_xy, W_yxᵀ − w_max), min(w_max − W_xy, W_yxᵀ − w_min)].
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch


__all__ = ["SALParameters", "SALState", "sal_initial_state", "sal_step", "SALMechanism"]


class SALParameters(NamedTuple):
    tau: float                # ms
    eta: float                # weight units
    dt: float                 # ms
    w_min: float = -math.inf  # weight units
    w_max: float = math.inf


class SALState(NamedTuple):
    trace_x: torch.Tensor  # [batch, n_x]
    trace_y: torch.Tensor  # [batch, n_y]


def sal_initial_state(batch: int, n_x: int, n_y: int, dtype=torch.float64, device=None) -> SALState:
    return SALState(torch.zeros(batch, n_x, dtype=dtype, device=device), torch.zeros(batch, n_y, dtype=dtype, device=device))


def sal_step(s_x: torch.Tensor, s_y: torch.Tensor, w_xy: torch.Tensor, w_yx: torch.Tensor, state: SALState,
             p: SALParameters, mask: torch.Tensor | None = None):
    """One step of SAL. s_x [b, n_x], s_y [b, n_y] spikes of this step; w_xy [b, n_x, n_y],
    w_yx [b, n_y, n_x]; mask [n_x, n_y] of existing pairs. Returns (w_xy, w_yx, state, Δ_xy)."""
    dtype = state.trace_x.dtype
    decay = math.exp(-p.dt / p.tau)
    a_x, a_y = state.trace_x * decay, state.trace_y * decay
    s_x, s_y = s_x.to(dtype), s_y.to(dtype)
    delta = p.eta * (s_x.unsqueeze(2) * a_y.unsqueeze(1) - a_x.unsqueeze(2) * s_y.unsqueeze(1))
    if mask is not None:
        delta = delta * mask
    w_yx_t = w_yx.transpose(1, 2)
    if math.isfinite(p.w_min) or math.isfinite(p.w_max):
        lo = torch.maximum(p.w_min - w_xy, w_yx_t - p.w_max).to(dtype)
        hi = torch.minimum(p.w_max - w_xy, w_yx_t - p.w_min).to(dtype)
        delta = torch.minimum(torch.maximum(delta, lo), hi)
    d = delta.to(w_xy.dtype)
    return w_xy + d, w_yx - d.transpose(1, 2), SALState(a_x + s_x, a_y + s_y), delta


class SALMechanism:
    """Applies a ``SAL`` construct to the live weights of its forward/backward projections."""

    def __init__(self, construct, sim):
        net = sim.net
        self.construct = construct
        self.label = construct.label
        f = net.projections[construct.forward]
        self.pre, self.post = f.pre, f.post
        self.params = SALParameters(construct.tau, construct.eta, float(net.dt), construct.w_min, construct.upper)
        self.device = getattr(sim, "device", None)
        fwd, bwd = sim.synapse_table(construct.forward), sim.synapse_table(construct.backward)
        self.n_x, self.n_y = fwd.n_pre, fwd.n_post
        self.fwd = (fwd.pre, fwd.post)
        self.bwd = (bwd.pre, bwd.post)
        self.mask = torch.zeros(self.n_x, self.n_y, dtype=torch.float64, device=self.device)
        self.mask[fwd.pre, fwd.post] = 1.0
        self.reset(sim)

    def reset(self, sim):
        self.state = sal_initial_state(sim.batch, self.n_x, self.n_y, device=self.device)

    def sync(self, sim):
        pass

    def step(self, sim, k, spikes):
        # SAL pairs are few (reciprocal layers): the step runs on dense [batch, n_x, n_y] views
        c = self.construct
        wf, wb = self._dense(sim, c.forward, self.fwd, self.n_x, self.n_y), self._dense(sim, c.backward, self.bwd, self.n_y, self.n_x)
        new_f, new_b, self.state, _ = sal_step(spikes[self.pre].detach(), spikes[self.post].detach(), wf, wb,
                                               self.state, self.params, self.mask)
        sim.write_synapse_weights(c.forward, new_f[:, self.fwd[0], self.fwd[1]])
        sim.write_synapse_weights(c.backward, new_b[:, self.bwd[0], self.bwd[1]])

    def _dense(self, sim, label, idx, n_a, n_b):
        w = sim.synapse_weights(label).to(torch.float64)
        d = torch.zeros(sim.batch, n_a, n_b, dtype=torch.float64, device=self.device)
        d[:, idx[0], idx[1]] = w.expand(sim.batch, -1)
        return d
