"""Li–Rinzel astrocyte with Nadkarni–Jung output (NEST ``astrocyte_lr_1994``) as pure torch step
functions on state tensors ``[batch, n]``, and the network mechanism that couples it to a
simulation (docs/mechanisms.md §2; simulators.md §6).

Per step of ``dt`` (NEST's order, ``astrocyte_lr_1994::update``):

1. one Runge–Kutta–Fehlberg step of exactly ``dt`` with GSL's rkf45 coefficients (5th-order
   solution); NEST's GSL evolve with eps_abs = 1e-3 takes exactly this step for these dynamics;
2. ``Ca ← clip(Ca, 0, Ca_tot)``;
3. ``IP3 ← IP3 + delta_IP3·S`` with S the summed input weight read in this step;
4. ``SIC = SIC_scale·ln((Ca − SIC_th)·1000)`` where ``(Ca − SIC_th)·1000 > 1``, else 0.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from ..gsl_rkf45 import AH as _AH, B3 as _B3, B4 as _B4, B5 as _B5, B6 as _B6  # GSL's RKF45, as NEST integrates
from ..gsl_rkf45 import C1 as _C1, C3 as _C3, C4 as _C4, C5 as _C5, C6 as _C6
from ._hooks import plastic_state, replace_additive, replace_gain

__all__ = ["LR1994Parameters", "LR1994State", "lr1994_parameters", "lr1994_initial_state", "lr1994_rhs",
           "rkf45_step", "lr1994_step", "sic_output", "AstrocytesMechanism"]


class LR1994Parameters(NamedTuple):
    """NEST astrocyte_lr_1994 parameters (µM, ms, 1/ms, µM/ms), taken from the description's
    AstrocyteLR1994 (which holds the defaults, so they are written once)."""

    Ca_tot: float
    IP3_0: float
    Kd_IP3_1: float
    Kd_IP3_2: float
    Kd_act: float
    Kd_inh: float
    Km_SERCA: float
    SIC_scale: float
    SIC_th: float
    delta_IP3: float
    k_IP3R: float
    rate_IP3R: float
    rate_L: float
    rate_SERCA: float
    ratio_ER_cyt: float
    tau_IP3: float


class LR1994State(NamedTuple):
    """IP3 [µM], Ca_astro [µM], h_IP3R [-], each ``[batch, n]``."""

    IP3: torch.Tensor
    Ca_astro: torch.Tensor
    h_IP3R: torch.Tensor


def lr1994_parameters(dynamics) -> LR1994Parameters:
    """Parameters of an ``AstrocyteLR1994`` description (or any object with the NEST names)."""
    return LR1994Parameters(**{k: float(getattr(dynamics, k)) for k in LR1994Parameters._fields})


def lr1994_initial_state(dynamics, shape, dtype=torch.float64, device=None) -> LR1994State:
    def full(v):
        return torch.full(tuple(shape), float(v), dtype=dtype, device=device)
    return LR1994State(full(dynamics.IP3), full(dynamics.Ca_astro), full(dynamics.h_IP3R))


def lr1994_rhs(p: LR1994Parameters, ip3, ca, h):
    """Right-hand side of NEST's ``astrocyte_lr_1994_dynamics`` (J_noise = 0), returned as
    ``(dIP3/dt, dCa/dt, dh/dt)``. J_chan + J_leak is computed as one product
    ``ratio_ER_cyt·(rate_IP3R·(m_inf·n_inf·h)³ + rate_L)·(Ca_ER − calc)`` (same value, fewer ops)."""
    calc = torch.clamp(ca, 0.0, p.Ca_tot)
    calc2 = calc * calc
    mnh = ip3 / (ip3 + p.Kd_IP3_1) * (calc / (calc + p.Kd_act)) * h          # m_inf·n_inf·h
    gradient = (p.Ca_tot - calc) / p.ratio_ER_cyt - calc                      # Ca_ER − calc
    d_ca = (p.ratio_ER_cyt * (p.rate_IP3R * (mnh * mnh * mnh) + p.rate_L) * gradient
            - p.rate_SERCA * calc2 / (p.Km_SERCA * p.Km_SERCA + calc2))       # J_chan + J_leak − J_pump
    d_h = p.k_IP3R * p.Kd_inh * (ip3 + p.Kd_IP3_1) / (ip3 + p.Kd_IP3_2) * (1.0 - h) - p.k_IP3R * calc * h
    d_ip3 = (p.IP3_0 - ip3) / p.tau_IP3
    return d_ip3, d_ca, d_h


_TABLEAU = {}


def _tableau(dtype, device):
    key = (dtype, device)
    if key not in _TABLEAU:
        a = torch.zeros(6, 6, dtype=dtype, device=device)
        a[1, 0] = _AH[0]
        a[2, :2] = torch.tensor(_B3, dtype=dtype)
        a[3, :3] = torch.tensor(_B4, dtype=dtype)
        a[4, :4] = torch.tensor(_B5, dtype=dtype)
        a[5, :5] = torch.tensor(_B6, dtype=dtype)
        c = torch.tensor([_C1, 0.0, _C3, _C4, _C5, _C6], dtype=dtype, device=device)
        _TABLEAU[key] = (a, c)
    return _TABLEAU[key]


def rkf45_step(p: LR1994Parameters, state: LR1994State, h: float) -> LR1994State:
    """One Runge–Kutta–Fehlberg step of size ``h`` [ms] with GSL's coefficients, returning the
    5th-order solution ``y + h·Σ c_i k_i`` (the state is stacked to ``[3, batch, n]``)."""
    y = torch.stack(tuple(state))
    a, c = _tableau(y.dtype, y.device)
    ks = torch.empty((6,) + tuple(y.shape), dtype=y.dtype, device=y.device)
    ks[0] = torch.stack(lr1994_rhs(p, y[0], y[1], y[2]))
    for i in range(1, 6):
        yi = y + h * torch.tensordot(a[i, :i], ks[:i], dims=1)
        ks[i] = torch.stack(lr1994_rhs(p, yi[0], yi[1], yi[2]))
    out = y + h * torch.tensordot(c, ks, dims=1)
    return LR1994State(out[0], out[1], out[2])


def sic_output(p: LR1994Parameters, ca: torch.Tensor) -> torch.Tensor:
    """Nadkarni–Jung output: SIC_scale·ln((Ca − SIC_th)·1000) where that argument is > 1, else 0."""
    thr = (ca - p.SIC_th) * 1000.0
    return torch.where(thr > 1.0, torch.log(torch.clamp(thr, min=1.0)) * p.SIC_scale, torch.zeros_like(thr))


def lr1994_step(p: LR1994Parameters, state: LR1994State, spike_input: torch.Tensor | float, dt: float):
    """One NEST step: RKF45 over dt, clip Ca, add ``delta_IP3·spike_input`` to IP3 (input = the
    summed weights of the spikes read in this step, ≥ 0), compute SIC. Returns (state, SIC)."""
    s = rkf45_step(p, state, dt)
    ca = torch.clamp(s.Ca_astro, 0.0, p.Ca_tot)
    ip3 = s.IP3 + p.delta_IP3 * spike_input
    return LR1994State(ip3, ca, s.h_IP3R), sic_output(p, ca)


# -- network mechanism (lowered through TORCH_MECHANISMS["Astrocytes"]) -------------------------
class AstrocytesMechanism:
    """Runs an ``Astrocytes`` construct inside a torch simulation (hook contract in
    ``neuromorph.backends.torch.mechanisms``). State is float64 ``[batch, size]``."""

    def __init__(self, construct, sim):
        from neuromorph.mechanisms.astrocytes import SlowInwardCurrent, STDPGate, SynapticGain
        net = sim.net
        self.construct = construct
        self.label = construct.label
        self.params = lr1994_parameters(construct.dynamics)
        self.dt = float(net.dt)
        self.batch = int(getattr(sim, "batch", 1))
        self.device, self.sim_dtype = getattr(sim, "device", None), getattr(sim, "dtype", torch.float64)
        f64 = dict(dtype=torch.float64, device=self.device)
        self.domain = torch.as_tensor(construct.domain_array(net), device=self.device)
        # inputs: (source population label, [n_src, size] matrix × input_weight)
        self.inputs = [(construct.source_of(net, lab), torch.as_tensor(construct.input_matrix(net, lab) * construct.input_weight, **f64))
                       for lab in construct.covers]
        self.in_delay = net.steps(construct.input_delay if construct.input_delay is not None else net.dt, "input_delay")
        self.sic = construct.coupling_of(SlowInwardCurrent)
        self.gain = construct.coupling_of(SynapticGain)
        self.gate = construct.coupling_of(STDPGate)
        self.targets = construct.target_population(net)
        # which neurons of each target population belong to the domains (all of them: one size)
        self.covered_projs = [lab for lab in construct.covers if lab in net.projections]
        self.gated_projs = [p for p in self.covered_projs if net.projections[p].plasticity is not None]
        self.sic_delay = net.steps(self.sic.delay, "SIC delay") if self.sic else 0
        self.records: dict[str, list] = {r: [] for r in construct.record}
        self._current = {t: None for t in self.targets}
        self._gain = {p: None for p in self.covered_projs}
        self.reset(sim)

    # state ---------------------------------------------------------------------------------
    def reset(self, sim):
        shape = (self.batch, self.construct.size)
        self.state = lr1994_initial_state(self.construct.dynamics, shape, device=self.device)
        self.sic_now = torch.zeros(shape, dtype=torch.float64, device=self.device)
        self.in_buf = torch.zeros((self.in_delay,) + shape, dtype=torch.float64, device=self.device)
        self.sic_buf = torch.zeros((max(self.sic_delay, 1),) + shape, dtype=torch.float64, device=self.device)
        for r in self.records:
            self.records[r] = []
        self._apply_couplings(sim, torch.zeros(shape, dtype=torch.float64, device=self.device))
        self.sync(sim)

    def sync(self, sim):
        """Take the live plastic weights as the reference for the STDP gate (call after weights
        are set from outside, e.g. between run segments)."""
        self._w_ref = {p: [t.detach().clone() for t in plastic_state(sim, p)] for p in self.gated_projs} if self.gate else {}

    def trace(self, name: str):
        """Recorded variable ``[steps, batch, size]`` (numpy)."""
        if name not in self.records:
            from neuromorph.errors import ValidationError
            have = ", ".join(self.records) or "none"
            raise ValidationError(f"astrocytes {self.label!r}: {name!r} was not recorded (recorded: {have}); "
                                  f"add it to Astrocytes(..., record=({name!r},))")
        rows = self.records[name]
        if not rows:
            return np.zeros((0, self.batch, self.construct.size))
        return torch.stack(rows).cpu().numpy()

    def _apply_couplings(self, sim, sic_due):
        if self.sic is not None:
            cur = (self.sic.weight * sic_due[:, self.domain]).to(self.sim_dtype)
            for pop in self.targets:
                replace_additive(sim.extra_current, pop, cur, self._current[pop])
                self._current[pop] = cur
        if self.gain is not None:
            g = torch.clamp(1.0 + self.gain.gain * self.sic_now, min=1e-6)[:, self.domain].unsqueeze(1).to(self.sim_dtype)
            for proj in self.covered_projs:
                replace_gain(sim.weight_gain, proj, g, self._gain[proj])
                self._gain[proj] = g

    # one step ------------------------------------------------------------------------------
    def step(self, sim, k, spikes):
        p = self.params
        # 1. STDP gate: keep the change made in this step only where Ca (before this step's
        #    astrocyte update) is above the threshold.
        if self.gate is not None:
            open_ = (self.state.Ca_astro > self.gate.threshold)[:, self.domain]  # [b, n_post]
            for proj in self.gated_projs:
                live = plastic_state(sim, proj)
                open_syn = open_[:, sim.synapse_table(proj).post]                 # [b, nsyn]
                with torch.no_grad():
                    for t, ref in zip(live, self._w_ref[proj]):
                        t.copy_(torch.where(open_syn, t, ref))
                self._w_ref[proj] = [t.detach().clone() for t in live]
        # 2. input spikes of this step enter the delay line; the one due now is read
        s_now = torch.zeros((self.batch, self.construct.size), dtype=torch.float64, device=self.device)
        for src, m in self.inputs:
            s_now = s_now + spikes[src].to(torch.float64).reshape(self.batch, -1) @ m
        slot = k % self.in_delay
        s_in = self.in_buf[slot].clone()
        self.in_buf[slot] = s_now
        # 3. dynamics
        self.state, self.sic_now = lr1994_step(p, self.state, s_in, self.dt)
        # 4. couplings: SIC of step k + 1 − D acts in the neuron update of step k + 1
        d = self.sic_buf.shape[0]
        self.sic_buf[k % d] = self.sic_now
        self._apply_couplings(sim, self.sic_buf[(k + 1) % d])
        for r in self.records:
            self.records[r].append((self.sic_now if r == "SIC" else getattr(self.state, r)).clone())
