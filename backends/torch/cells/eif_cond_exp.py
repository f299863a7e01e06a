"""EIF_cond_exp_isfa_ista (AdEx) on the torch backend: NEST ``aeif_cond_exp`` (convention "nest"),
float arithmetic (float64 or float32); and EIF_cond_alpha_isfa_ista, NEST ``aeif_cond_alpha``: the
same with alpha conductances (end of this module).

NEST integrates ``aeif_cond_exp`` with GSL's adaptive Runge–Kutta–Fehlberg 4(5) like
``iaf_cond_exp`` (gsl_rkf45.py: the same tableau, controller and evolve loop, step size carried
from step to step), but under ``gsl_odeiv_control_yp_new(gsl_error_tol, gsl_error_tol)``
(gsl_error_tol = 1e-6, PyNN leaves NEST's default): the tolerated error of each component is
``1e-6·(1 + |h·y'|)``, with ``y'`` the derivative at the trial step's end. State ``[V, w, g_ex,
g_in]`` in NEST's units (mV, pA, nS, nS; PyNN: C_m = 1000·cm pF, g_L = cm/tau_m·1000 nS,
I_e = 1000·i_offset pA, b ×1000 nA → pA, a in nS, weights ×1000 µS → nS).

Right-hand side (``aeif_cond_exp_dynamics``), in NEST's operation order, with
``V' = V_reset`` while refractory, else ``min(V, V_peak)``:

- ``I_spike = g_L·Δ_T·exp((V' − V_th)/Δ_T)`` (0 when Δ_T = 0);
- ``dV/dt = (−g_L(V' − E_L) + I_spike − g_ex(V' − E_ex) − g_in(V' − E_in) − w + I_e) / C_m``,
  0 while refractory;
- ``dg/dt = −g/τ_syn``; ``dw/dt = (a(V' − E_L) − w)/τ_w`` (also while refractory, at V_reset).

Per NEST step (``aeif_cond_exp::update``), unlike iaf_cond_exp the spike is found *inside* the
evolve loop, after every accepted GSL sub-step: NEST's sanity check (V < −1e3 mV or |w| > 1e6 pA
throws), then if refractory ``V = V_reset``, else if ``V ≥ V_peak`` (V_th when Δ_T = 0): spike,
``V = V_reset``, ``w += b``, refractory for ``ceil(t_ref/h)`` whole steps after this one (the rest
of this step is integrated refractory). After the loop: count down, add this step's input to g.

A second spike within one step (NEST emits it when tau_refrac = 0 and V climbs back to V_peak)
is refused (SimulationError), as is NEST's numerical instability.

``exp`` is libm's in float64 on the CPU (gsl_rkf45.libm_exp: torch.exp differs from glibc by an
ulp for ~0.5 % of arguments, which the adaptive step would carry into V); elsewhere (float32,
CUDA, or while gradients flow) torch's. That host round trip dominates the cost: about 17 ms per
step of dt = 0.1 ms for 1000 neurons on one CPU core.

Verified against NEST 3.10's aeif_cond_exp run through native PyNN 0.13 and directly
(tests/test_eif_cond_exp.py, float64): single neurons at dt = 0.1 and 1 ms (DC drive, inputs on
both receptors, refractoriness, delta_T = 0 with tau_refrac = 0) bit-identical in V, w, g_ex,
g_in; a 20-cell recurrent network identical spikes, bit-identical at dt = 0.1 ms and within
5e-9 mV at dt = 1 ms (coincident inputs summed in another order than NEST's).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch

from neuromorph.capabilities import native
from neuromorph.cells import EIF_cond_alpha_isfa_ista, EIF_cond_exp_isfa_ista
from neuromorph.errors import SimulationError

from .. import gsl_rkf45 as _RK
from ..registry import CellLowering, register_cell
from .common import nest_refractory_steps

#: NEST aeif_cond_exp's gsl_error_tol default (PyNN does not set it)
GSL_ERROR_TOL = 1e-6
_CONTROL = _RK.control_yp(GSL_ERROR_TOL, GSL_ERROR_TOL)


class AdExState(NamedTuple):
    v: torch.Tensor       # [batch, n] mV
    w: torch.Tensor       # [batch, n] pA
    g_exc: torch.Tensor   # [batch, n] nS
    g_inh: torch.Tensor   # [batch, n] nS
    refrac: torch.Tensor  # [batch, n] refractory steps left (int64), NEST's r_
    h_int: torch.Tensor   # [batch, n] ms: GSL's suggested integration step (IntegrationStep_)


class NestAdExParams(NamedTuple):
    threshold: float  # spike detection: V_peak, or V_th when Delta_T = 0 (NEST's V_.V_peak), mV
    v_peak: float     # P_.V_peak: the bound of V inside the right-hand side, mV
    v_reset: float
    E_L: float
    V_th: float
    Delta_T: float    # mV
    n_ref: int
    I_e: float        # pA
    C_m: float        # pF
    g_L: float        # nS
    a: float          # nS
    b: float          # pA
    tau_w: float
    E_ex: float
    E_in: float
    tau_ex: float
    tau_in: float
    h: float          # dt, ms


def nest_adex_parameters(c: EIF_cond_exp_isfa_ista, dt: float) -> NestAdExParams:
    """What NEST stores for a PyNN EIF_cond_exp_isfa_ista (PyNN 0.13's translations)."""
    return NestAdExParams(c.v_spike if c.delta_T > 0 else c.v_thresh, c.v_spike, c.v_reset, c.v_rest, c.v_thresh,
                          c.delta_T, nest_refractory_steps(c.tau_refrac, dt), c.i_offset * 1000.0, c.cm * 1000.0,
                          c.cm / c.tau_m * 1000.0, c.a, c.b * 1000.0, c.tau_w, c.e_rev_E, c.e_rev_I, c.tau_syn_E,
                          c.tau_syn_I, dt)


def nest_adex_initial_state(p: NestAdExParams, init, batch) -> AdExState:
    """V (mV), w (nA → pA) and the conductances (µS → nS) from ``init``; not refractory; GSL's
    integration step starts at h."""
    v = init["v"].expand(batch, -1).clone()
    w = (init["w"].to(v) * 1000.0).expand(batch, -1).clone()
    ge = (init["gsyn_exc"].to(v) * 1000.0).expand(batch, -1).clone()
    gi = (init["gsyn_inh"].to(v) * 1000.0).expand(batch, -1).clone()
    return AdExState(v, w, ge, gi, torch.zeros(v.shape, dtype=torch.int64, device=v.device), torch.full_like(v, p.h))


class _Step:
    """One NEST step of a population: the right-hand side and the per-sub-step spike check share
    the refractory counters, which a spike changes in the middle of the step."""

    def __init__(self, p: NestAdExParams, s, ie, thr, alpha: bool = False):
        self.p, self.ie, self.thr = p, ie, thr
        self.refrac = s.refrac
        self.refractory = s.refrac > 0
        dev, dtype = s.v.device, s.v.dtype
        self.taus = torch.tensor([p.tau_ex, p.tau_in], dtype=dtype, device=dev).view(2, 1, 1)
        self.v_reset = torch.tensor(p.v_reset, dtype=dtype, device=dev)
        self.spikes = torch.zeros_like(s.refrac)
        self.v_at_spike = s.v
        self.bad = torch.zeros_like(self.refractory)
        self.alpha = alpha

    def rhs(self, y):
        """``aeif_cond_exp_dynamics`` on the stacked ``[V, w, g_ex, g_in]`` (``aeif_cond_alpha_dynamics``
        on ``[V, w, dg_ex, g_ex, dg_in, g_in]``)."""
        p = self.p
        v = torch.where(self.refractory, self.v_reset, torch.clamp(y[0], max=p.v_peak))
        w, g_ex, g_in = (y[1], y[3], y[5]) if self.alpha else (y[1], y[2], y[3])
        i_syn_exc = g_ex * (v - p.E_ex)
        i_syn_inh = g_in * (v - p.E_in)
        i_spike = (p.g_L * p.Delta_T) * _RK.libm_exp((v - p.V_th) / p.Delta_T) if p.Delta_T != 0.0 else 0.0
        dv = (-p.g_L * (v - p.E_L) + i_spike - i_syn_exc - i_syn_inh - w + p.I_e)
        if self.ie is not None:
            dv = dv + self.ie
        dv = dv / p.C_m
        out = torch.empty_like(y)
        out[0] = torch.where(self.refractory, torch.zeros_like(dv), dv)
        out[1] = (p.a * (v - p.E_L) - w) / p.tau_w
        if self.alpha:   # NEST: d(dg)/dt = −dg/τ, dg/dt = dg − g/τ
            out[2] = -y[2] / p.tau_ex
            out[3] = y[2] - y[3] / p.tau_ex
            out[4] = -y[4] / p.tau_in
            out[5] = y[4] - y[5] / p.tau_in
        else:
            out[2:] = -y[2:] / self.taus
        return out

    def after_substep(self, y, accepted):
        """NEST's checks after each accepted GSL sub-step of the neurons in ``accepted``."""
        p = self.p
        v, w = y[0], y[1]
        self.bad = self.bad | (accepted & ((v < -1e3) | (w < -1e6) | (w > 1e6)))
        fired = accepted & ~self.refractory & (v >= self.thr)
        self.v_at_spike = torch.where(fired, v, self.v_at_spike)
        self.spikes = self.spikes + fired.to(self.spikes.dtype)
        v = torch.where(accepted & (self.refractory | fired), self.v_reset, v)
        w = torch.where(fired, w + p.b, w)
        self.refrac = torch.where(fired, torch.full_like(self.refrac, p.n_ref + 1 if p.n_ref > 0 else 0), self.refrac)
        self.refractory = self.refrac > 0
        return torch.cat([v.unsqueeze(0), w.unsqueeze(0), y[2:]])


def _integrate(p: NestAdExParams, s, y, extra, thr, fire, alpha: bool):
    """The evolve loop with NEST's in-loop spike check, the refusals and the spike output: returns
    (spikes, y at the end of the step, refractory counters after the count-down, GSL's step)."""
    ie = None if extra is None else extra * 1000.0   # NEST's I_stim_ (pA), added after I_e
    st = _Step(p, s, ie, thr, alpha)
    name, model = ("EIF_cond_alpha_isfa_ista", "aeif_cond_alpha") if alpha else ("EIF_cond_exp_isfa_ista", "aeif_cond_exp")
    y, h_int = _RK.evolve(st.rhs, y, s.h_int, p.h, _CONTROL, on_accept=st.after_substep, what=name)
    bad, twice = torch.stack([st.bad.any(), (st.spikes > 1).any()]).tolist()
    if bad:
        raise SimulationError(f"{name}: numerical instability (V < -1000 mV or |w| > 1000 nA), where NEST's {model} "
                              "stops with NumericalInstability; check a, b, delta_T and the weights")
    if twice:
        raise SimulationError(f"{name}: a neuron fired twice within one step (tau_refrac = 0 lets NEST "
                              "emit several spikes per step); use tau_refrac > 0 or a smaller dt")
    refrac = torch.where(st.refrac > 0, st.refrac - 1, st.refrac)
    fired = st.spikes > 0
    spk = fire(torch.where(fired, st.v_at_spike, y[0]), thr)
    return spk, y, refrac, h_int


def nest_adex_step(p: NestAdExParams, s: AdExState, in_exc, in_inh, extra, thr, fire):
    """NEST aeif_cond_exp ``update`` for one step (module docstring)."""
    y = torch.stack([s.v, s.w, s.g_exc, s.g_inh])
    spk, y, refrac, h_int = _integrate(p, s, y, extra, thr, fire, alpha=False)
    new = AdExState(y[0], y[1], y[2] + in_exc * 1000.0, y[3] + in_inh * 1000.0, refrac, h_int)
    return spk, new, s


def nest_adex_record(p: NestAdExParams, s: AdExState, name: str):
    if name == "v":
        return s.v.clone()
    return {"w": s.w, "gsyn_exc": s.g_exc, "gsyn_inh": s.g_inh}[name] * 0.001


register_cell(CellLowering(
    EIF_cond_exp_isfa_ista, "nest", "float", nest_adex_parameters, nest_adex_initial_state, nest_adex_step,
    nest_adex_record,
    {"EIF_cond_exp_isfa_ista": native(
        "NEST aeif_cond_exp: GSL's adaptive RKF45 (control yp, gsl_error_tol 1e-6, step size carried between steps) "
        "per neuron, NEST's right-hand side (V bounded at V_peak, at V_reset while refractory, libm exp) and its spike "
        "check after every accepted sub-step (V_reset, w += b); w, V and conductances as NEST computes them")}))


# -- EIF_cond_alpha_isfa_ista: NEST aeif_cond_alpha --------------------------------------------------
class AdExAlphaState(NamedTuple):
    v: torch.Tensor       # [batch, n] mV
    w: torch.Tensor       # [batch, n] pA
    dg_exc: torch.Tensor  # [batch, n] nS/ms
    g_exc: torch.Tensor   # [batch, n] nS
    dg_inh: torch.Tensor  # [batch, n] nS/ms
    g_inh: torch.Tensor   # [batch, n] nS
    refrac: torch.Tensor  # [batch, n] refractory steps left (int64)
    h_int: torch.Tensor   # [batch, n] ms


def nest_adex_alpha_initial_state(p: NestAdExParams, init, batch) -> AdExAlphaState:
    """As nest_adex_initial_state, with dg = 0 (NEST and PyNN start the alpha kernels at rest)."""
    s = nest_adex_initial_state(p, init, batch)
    return AdExAlphaState(s.v, s.w, torch.zeros_like(s.v), s.g_exc, torch.zeros_like(s.v), s.g_inh, s.refrac, s.h_int)


def nest_adex_alpha_step(p: NestAdExParams, s: AdExAlphaState, in_exc, in_inh, extra, thr, fire):
    """NEST aeif_cond_alpha ``update``: as aeif_cond_exp with alpha conductances; this step's input
    (µS → nS) is added to dg times NEST's ``g0 = e/τ_syn`` (a weight w gives a conductance peaking
    at w after τ_syn)."""
    y = torch.stack([s.v, s.w, s.dg_exc, s.g_exc, s.dg_inh, s.g_inh])
    spk, y, refrac, h_int = _integrate(p, s, y, extra, thr, fire, alpha=True)
    new = AdExAlphaState(y[0], y[1], y[2] + in_exc * 1000.0 * (math.e / p.tau_ex), y[3],
                         y[4] + in_inh * 1000.0 * (math.e / p.tau_in), y[5], refrac, h_int)
    return spk, new, s


register_cell(CellLowering(
    EIF_cond_alpha_isfa_ista, "nest", "float", nest_adex_parameters, nest_adex_alpha_initial_state,
    nest_adex_alpha_step, nest_adex_record,
    {"EIF_cond_alpha_isfa_ista": native(
        "NEST aeif_cond_alpha: as EIF_cond_exp_isfa_ista (GSL's adaptive RKF45 under the yp control, in-step spike "
        "check) with alpha conductances (dg += e/τ_syn·w per input)")}))
