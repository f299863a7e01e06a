"""IF_cond_exp on the torch backend: NEST ``iaf_cond_exp`` (convention "nest"), float arithmetic
(float64 or float32).

NEST integrates this model with GSL's adaptive Runge–Kutta–Fehlberg 4(5) (``gsl_odeiv_step_rkf45``,
the wheel bundles GSL 1.15) under the standard control ``gsl_odeiv_control_y_new(1e-3, 0.0)``
(eps_abs = 1e-3 on every state variable, eps_rel = 0) and ``gsl_odeiv_evolve_apply`` looped until
the step h is covered; the suggested integration step is carried from step to step (it starts at
h). This module reproduces that per neuron, vectorised: every neuron runs its own sequence of
trial sub-steps (a masked loop that ends when every neuron has covered h), with GSL's formulas in
GSL's and NEST's operation order:

- right-hand side (``iaf_cond_exp_dynamics``, NEST 3.10): while refractory ``dV/dt = 0``;
  otherwise, with ``V' = min(V, V_th)``,
  ``dV/dt = (−g_L(V' − E_L) + I_e − g_ex(V' − E_ex) − g_in(V' − E_in)) / C_m``;
  ``dg/dt = −g/τ_syn``. Units as NEST stores them: mV, nS, pF, pA (PyNN: ``C_m = 1000·cm``,
  ``g_L = cm/τ_m·1000``, ``I_e = 1000·i_offset``, weights ×1000 µS → nS).
- RKF45 step (GSL ode-initval/rkf45.c) with the 5th-order solution and the error estimate
  ``yerr = h·Σ ec_i k_i``;
- control (ode-initval/cstd.c, ``std_control_hadjust``, order 5): ``rmax = max_i |yerr_i|/1e-3``;
  ``rmax > 1.1``: ``h ← h·max(0.2, 0.9·rmax^(−1/5))`` and the sub-step is retried from its start
  (if that changes t by at least 1 ulp); ``rmax < 0.5``: ``h ← h·min(5, max(1, 0.9·rmax^(−1/6)))``;
- evolve (ode-initval/evolve.c): a trial step longer than what is left of h is cut to it; the
  step size suggested after the (possibly cut) last sub-step is the one the next NEST step starts
  from.

Per NEST step (``iaf_cond_exp::update``): integrate over (0, h]; add this step's input to g
(``g += 1000·w``); if refractory: count down and clamp V to V_reset; else if ``V ≥ V_th``: spike,
V = V_reset, ``n_ref = ceil(t_ref/h)`` steps.

Verified against NEST 3.10's iaf_cond_exp, run directly and through native PyNN 0.13 (single
neurons at dt 0.1 and 1 ms: DC drive, excitatory/inhibitory input, refractoriness, and inputs strong
enough that the controller rejects and shrinks steps; a 20-cell recurrent E/I network): every V,
g_ex and g_in sample bit-identical in float64 (the network at dt = 1 ms: ≤ 3e-13 mV, from the
summation order of coincident inputs; tests/test_if_cond_exp.py). The step-size factors that matter (after a
rejected or a shortened sub-step) are computed with libm's ``pow`` on the host, as GSL does;
torch's ``pow`` differs from it by an ulp for ~2 % of arguments.
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from neuromorph.capabilities import native
from neuromorph.cells import IF_cond_exp

from .. import gsl_rkf45 as _RK
from ..registry import CellLowering, register_cell
from .common import nest_refractory_steps, reset

# NEST: gsl_odeiv_control_y_new(1e-3, 0.0) (eps_abs 1e-3 on every state variable)
_CONTROL = _RK.control_y(1e-3, 0.0)


class CondExpState(NamedTuple):
    v: torch.Tensor       # [batch, n] mV (absolute, as NEST stores it)
    g_exc: torch.Tensor   # [batch, n] nS
    g_inh: torch.Tensor   # [batch, n] nS
    refrac: torch.Tensor  # [batch, n] refractory steps left (int64)
    h_int: torch.Tensor   # [batch, n] ms: the integration step GSL suggested (IntegrationStep_;
    #                       dt where GSL's suggestion is >= dt, which behaves identically)


class NestCondExpParams(NamedTuple):
    threshold: float  # V_th, mV
    v_reset: float
    v_rest: float     # E_L
    n_ref: int
    i_offset: float   # I_e, pA
    C_m: float        # pF
    g_L: float        # nS
    E_ex: float
    E_in: float
    tau_ex: float
    tau_in: float
    h: float          # dt, ms


def nest_cond_parameters(c: IF_cond_exp, dt: float) -> NestCondExpParams:
    """What NEST stores for a PyNN IF_cond_exp (PyNN's translations: C_m = cm·1000,
    g_L = cm/tau_m·1000, I_e = i_offset·1000)."""
    return NestCondExpParams(c.v_thresh, c.v_reset, c.v_rest, nest_refractory_steps(c.tau_refrac, dt),
                             c.i_offset * 1000.0, c.cm * 1000.0, c.cm / c.tau_m * 1000.0, c.e_rev_E, c.e_rev_I,
                             c.tau_syn_E, c.tau_syn_I, dt)


def nest_cond_initial_state(p: NestCondExpParams, init, batch) -> CondExpState:
    """V and the conductances from ``init`` (mV; µS → nS), not refractory, integration step h."""
    v = init["v"].expand(batch, -1).clone()
    ge = (init["gsyn_exc"].to(v) * 1000.0).expand(batch, -1).clone()
    gi = (init["gsyn_inh"].to(v) * 1000.0).expand(batch, -1).clone()
    return CondExpState(v, ge, gi, torch.zeros(v.shape, dtype=torch.int64, device=v.device), torch.full_like(v, p.h))


def _rhs(p: NestCondExpParams, y, free, v_max, ie, taus):
    """``iaf_cond_exp_dynamics`` on the stacked state ``y = [V, g_ex, g_in]`` (``[3, batch, n]``):
    the stacked derivatives, dV/dt = 0 where refractory. In NEST's order:
    ``(−g_L(V'−E_L) + I_e − g_ex(V'−E_ex) − g_in(V'−E_in)) / C_m`` with ``V' = min(V, V_th)``,
    ``−g/τ``."""
    out = torch.empty_like(y)
    vc = torch.minimum(y[0], v_max)
    dv = (-(p.g_L * (vc - p.v_rest)) + ie - y[1] * (vc - p.E_ex) - y[2] * (vc - p.E_in)) / p.C_m
    out[0] = torch.where(free, dv, torch.zeros_like(dv))
    out[1:] = -y[1:] / taus
    return out


def nest_cond_integrate(p: NestCondExpParams, s: CondExpState, free, v_max, ie):
    """GSL's evolve loop over one NEST step for every neuron (gsl_rkf45.evolve): returns
    (v, g_ex, g_in, h_int)."""
    y = torch.stack([s.v, s.g_exc, s.g_inh])
    taus = torch.tensor([p.tau_ex, p.tau_in], dtype=y.dtype, device=y.device).view(2, 1, 1)
    y, h_int = _RK.evolve(lambda z: _rhs(p, z, free, v_max, ie, taus), y, s.h_int, p.h, _CONTROL, what="IF_cond_exp")
    return y[0], y[1], y[2], h_int


def nest_cond_step(p: NestCondExpParams, s: CondExpState, in_exc, in_inh, extra, thr, fire):
    """NEST iaf_cond_exp ``update`` for one step (module docstring): integrate (refractory
    neurons keep V), add this step's conductance input (µS → nS), clamp refractory V to V_reset
    and count down, threshold the others."""
    free = s.refrac <= 0
    v_max = thr if isinstance(thr, torch.Tensor) else torch.tensor(thr, dtype=s.v.dtype, device=s.v.device)
    ie = p.i_offset if extra is None else p.i_offset + extra * 1000.0
    v, ge, gi, h_int = nest_cond_integrate(p, s, free, v_max, ie)
    ge = ge + in_exc * 1000.0
    gi = gi + in_inh * 1000.0
    v = torch.where(free, v, torch.full_like(v, p.v_reset))
    refrac = torch.where(free, s.refrac, s.refrac - 1)
    spk = fire(v, thr)
    v, refrac = reset(v, refrac, spk, p.v_reset, p.n_ref, fresh=True)
    return spk, CondExpState(v, ge, gi, refrac, h_int), s


def nest_cond_record(p: NestCondExpParams, s: CondExpState, name: str):
    if name == "v":
        return s.v.clone()
    return (s.g_exc if name == "gsyn_exc" else s.g_inh) * 0.001


register_cell(CellLowering(
    IF_cond_exp, "nest", "float", nest_cond_parameters, nest_cond_initial_state, nest_cond_step, nest_cond_record,
    {"IF_cond_exp": native("NEST iaf_cond_exp: GSL's adaptive RKF45 (eps_abs 1e-3, step size carried between steps) "
                           "per neuron, NEST's right-hand side (V clamped at V_th inside it, dV/dt = 0 while "
                           "refractory), conductances in nS; bit-identical to NEST 3.10 in float64 on the checked runs")}))
