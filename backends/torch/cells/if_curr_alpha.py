"""IF_curr_alpha on the torch backend: NEST ``iaf_psc_alpha`` (convention "nest"), float
arithmetic (float64 or float32).

As NEST stores it (so float64 results are bit-identical, docs/semantics.md §2.2): V relative to
E_L, currents in pA, C_m in pF; each receptor's alpha current is the pair (dI, I) with
``dI' = −dI/τ``, ``I' = dI − I/τ``; an input of w pA adds ``e/τ·w`` to dI. Propagators are computed
once with libm (``math``) and NEST's own ``expm1`` (IAFPropagatorAlpha, libnestutil/
iaf_propagator.cpp, including its two singular-case fallbacks for τ_syn ≈ τ_m). Verified against
NEST 3.10's iaf_psc_alpha run directly (dt 1.0/0.5/0.1 ms, random exc/inh input, τ_syn = τ_m,
τ_syn = τ_m(1±1e-7..1e-9)): every V, I_syn_ex and I_syn_in sample bit-identical.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch

from neuromorph.capabilities import native
from neuromorph.cells import IF_curr_alpha

from ..registry import CellLowering, register_cell
from .common import free_update, nest_expm1, nest_refractory_steps, reset

#: DBL_MIN: ``std::isnormal`` fails below it
_DBL_MIN = 2.2250738585072014e-308


class AlphaState(NamedTuple):
    v: torch.Tensor       # [batch, n] mV relative to v_rest
    di_exc: torch.Tensor  # [batch, n] pA/ms (NEST dI_ex)
    i_exc: torch.Tensor   # [batch, n] pA (NEST I_ex = I_syn_ex)
    di_inh: torch.Tensor  # [batch, n] magnitude (NEST stores dI_in, I_in negative)
    i_inh: torch.Tensor
    refrac: torch.Tensor  # [batch, n] steps left to skip (int64)


class NestAlphaParams(NamedTuple):
    threshold: float   # mV relative to E_L
    v_reset: float     # mV relative to E_L
    v_rest: float      # E_L, mV
    n_ref: int
    i_offset: float    # pA
    P30: float
    expm1_tau_m: float
    P11e: float        # = P22e
    P21e: float
    P31e: float
    P32e: float
    P11i: float
    P21i: float
    P31i: float
    P32i: float
    psc_e: float       # e/τ_syn_E: dI per pA of weight
    psc_i: float


def nest_alpha_propagators(tau_s: float, tau_m: float, c_m: float, h: float) -> tuple[float, float]:
    """NEST's ``IAFPropagatorAlpha(tau_s, tau_m, c_m).evaluate(h)`` → (P31, P32), ms and pF.

    P32 (I → V) is IAFPropagatorExp's P21; P31 (dI → V) uses the regular formula only when
    ``h > 1e-7·τm²/|τm − τs|`` and ``½h²/C·e^(−h/τm)`` (the τs = τm limit) otherwise."""
    diff = tau_m - tau_s
    h_min_regular = 1e-7 * tau_m * tau_m / abs(diff) if diff != 0 else math.inf
    beta = tau_s * tau_m / diff if diff != 0 else math.inf
    gamma = beta / c_m
    inv_beta = (tau_m - tau_s) / (tau_s * tau_m)
    exp_h_tau_syn = math.exp(-h * (1 / tau_s))
    expm1_h_tau = nest_expm1(h * inv_beta)
    p32 = gamma * exp_h_tau_syn * expm1_h_tau
    exp_h_tau = None
    if not (math.isfinite(p32) and p32 > 0 and p32 >= _DBL_MIN):
        exp_h_tau = math.exp(-h * (1 / tau_m))
        p32 = h * (1 / c_m) * exp_h_tau
    if h > h_min_regular:
        p31 = gamma * exp_h_tau_syn * (beta * expm1_h_tau - h)
    else:
        if exp_h_tau is None:
            exp_h_tau = math.exp(-h * (1 / tau_m))
        p31 = 0.5 * h * h * (1 / c_m) * exp_h_tau
    return p31, p32


def nest_alpha_parameters(c: IF_curr_alpha, dt: float) -> NestAlphaParams:
    """Constants of iaf_psc_alpha's ``pre_run_hook`` for a PyNN IF_curr_alpha (PyNN's ×1000 for
    C_m and I_e)."""
    cm_pf = c.cm * 1000.0
    P11e, P11i = math.exp(-dt / c.tau_syn_E), math.exp(-dt / c.tau_syn_I)
    P31e, P32e = nest_alpha_propagators(c.tau_syn_E, c.tau_m, cm_pf, dt)
    P31i, P32i = nest_alpha_propagators(c.tau_syn_I, c.tau_m, cm_pf, dt)
    return NestAlphaParams(
        c.v_thresh - c.v_rest, c.v_reset - c.v_rest, c.v_rest, nest_refractory_steps(c.tau_refrac, dt),
        c.i_offset * 1000.0, -c.tau_m / cm_pf * nest_expm1(-dt / c.tau_m), nest_expm1(-dt / c.tau_m),
        P11e, dt * P11e, P31e, P32e, P11i, dt * P11i, P31i, P32i,
        1.0 * math.e / c.tau_syn_E, 1.0 * math.e / c.tau_syn_I)


def nest_alpha_initial_state(p: NestAlphaParams, init, batch) -> AlphaState:
    """V from ``init['v']`` (absolute mV) relative to E_L; currents start at 0 (as on NEST, whose
    iaf_psc_alpha takes only V_m as an initial state, and as IF_curr_exp here)."""
    v = (init["v"] - p.v_rest).expand(batch, -1).clone()
    z = torch.zeros_like(v)
    return AlphaState(v, z, z.clone(), z.clone(), z.clone(), torch.zeros(v.shape, dtype=torch.int64, device=v.device))


def nest_alpha_step(p: NestAlphaParams, s: AlphaState, in_exc, in_inh, extra, thr, fire):
    """NEST iaf_psc_alpha ``update`` for one step, in its order and association:

    1. unless refractory: ``V ← P30·I_e + P31e·dIe + P32e·Ie + P31i·dIi + P32i·Ii + expm1(−h/τm)·V + V``
       (currents from the end of the previous step; inhibitory terms subtract magnitudes);
       while refractory the counter decreases;
    2. ``I ← P21·dI + P22·I``, ``dI ← dI·P11``, ``dI ← dI + (e/τ)·1000·w`` per receptor;
    3. spike if ``V ≥ θ`` → ``V = V_reset``, ``n_ref`` refractory steps.
    """
    ie = p.i_offset if extra is None else p.i_offset + extra * 1000.0
    v_new = (p.P30 * ie + p.P31e * s.di_exc + p.P32e * s.i_exc - p.P31i * s.di_inh - p.P32i * s.i_inh
             + p.expm1_tau_m * s.v + s.v)
    v, refrac = free_update(s.refrac, s.v, v_new)
    i_exc = p.P21e * s.di_exc + p.P11e * s.i_exc
    di_exc = s.di_exc * p.P11e + p.psc_e * (in_exc * 1000.0)
    i_inh = p.P21i * s.di_inh + p.P11i * s.i_inh
    di_inh = s.di_inh * p.P11i + p.psc_i * (in_inh * 1000.0)
    spk = fire(v, thr)
    v, refrac = reset(v, refrac, spk, p.v_reset, p.n_ref, fresh=True)
    return spk, AlphaState(v, di_exc, i_exc, di_inh, i_inh, refrac), s


def nest_alpha_record(p: NestAlphaParams, s: AlphaState, name: str):
    if name == "v":
        return s.v + p.v_rest
    return (s.i_exc if name == "isyn_exc" else s.i_inh) * 0.001


register_cell(CellLowering(
    IF_curr_alpha, "nest", "float", nest_alpha_parameters, nest_alpha_initial_state, nest_alpha_step,
    nest_alpha_record,
    {"IF_curr_alpha": native("NEST iaf_psc_alpha propagators (exact integration, IAFPropagatorAlpha incl. its "
                             "τ_syn ≈ τ_m fallbacks), V relative to E_L, currents in pA")}))
