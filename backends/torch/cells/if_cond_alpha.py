"""IF_cond_alpha on the torch backend: NEST ``iaf_cond_alpha`` (convention "nest"), float
arithmetic (float64 or float32).

NEST integrates ``iaf_cond_alpha`` as ``iaf_cond_exp`` (cells/if_cond_exp.py): GSL's adaptive
RKF45 under ``gsl_odeiv_control_y_new(1e-3, 0.0)``, the step size carried from step to step
(gsl_rkf45.py), then the refractory clamp or the threshold, once per step. Only the conductances
differ: state ``[V, dg_ex, g_ex, dg_in, g_in]`` (mV, nS/ms, nS) with ``d(dg)/dt = −dg/τ_syn`` and
``dg/dt = dg − g/τ_syn``, and this step's input added as ``dg += (1000·Σw)·(e/τ_syn)`` (NEST's
``PSConInit``), so one input of w µS peaks at w after τ_syn. Right-hand side
(``iaf_cond_alpha_dynamics``), with ``V' = min(V, V_th)``:
``dV/dt = (−g_L(V' − E_L) − g_ex(V' − E_ex) − g_in(V' − E_in) + I_e) / C_m``, 0 while refractory.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch

from neuromorph.capabilities import native
from neuromorph.cells import IF_cond_alpha

from .. import gsl_rkf45 as _RK
from ..registry import CellLowering, register_cell
from .common import reset
from .if_cond_exp import NestCondExpParams, nest_cond_parameters

_CONTROL = _RK.control_y(1e-3, 0.0)


class CondAlphaState(NamedTuple):
    v: torch.Tensor       # [batch, n] mV
    dg_exc: torch.Tensor  # [batch, n] nS/ms
    g_exc: torch.Tensor   # [batch, n] nS
    dg_inh: torch.Tensor  # [batch, n] nS/ms
    g_inh: torch.Tensor   # [batch, n] nS
    refrac: torch.Tensor  # [batch, n] refractory steps left (int64)
    h_int: torch.Tensor   # [batch, n] ms: GSL's suggested integration step


def nest_alpha_initial_state(p: NestCondExpParams, init, batch) -> CondAlphaState:
    """V (mV) and the conductances (µS → nS) from ``init``, dg = 0, not refractory, step h."""
    v = init["v"].expand(batch, -1).clone()
    ge = (init["gsyn_exc"].to(v) * 1000.0).expand(batch, -1).clone()
    gi = (init["gsyn_inh"].to(v) * 1000.0).expand(batch, -1).clone()
    zero = torch.zeros_like(v)
    return CondAlphaState(v, zero, ge, zero.clone(), gi, torch.zeros(v.shape, dtype=torch.int64, device=v.device),
                          torch.full_like(v, p.h))


def _rhs(p: NestCondExpParams, y, free, v_max, ie):
    """``iaf_cond_alpha_dynamics`` on the stacked ``[V, dg_ex, g_ex, dg_in, g_in]``."""
    out = torch.empty_like(y)
    vc = torch.minimum(y[0], v_max)
    dv = (-(p.g_L * (vc - p.v_rest)) - y[2] * (vc - p.E_ex) - y[4] * (vc - p.E_in) + ie) / p.C_m
    out[0] = torch.where(free, dv, torch.zeros_like(dv))
    out[1] = -y[1] / p.tau_ex
    out[2] = y[1] - y[2] / p.tau_ex
    out[3] = -y[3] / p.tau_in
    out[4] = y[3] - y[4] / p.tau_in
    return out


def nest_alpha_step(p: NestCondExpParams, s: CondAlphaState, in_exc, in_inh, extra, thr, fire):
    """NEST iaf_cond_alpha ``update`` for one step (module docstring)."""
    free = s.refrac <= 0
    v_max = thr if isinstance(thr, torch.Tensor) else torch.tensor(thr, dtype=s.v.dtype, device=s.v.device)
    ie = p.i_offset if extra is None else p.i_offset + extra * 1000.0
    y = torch.stack([s.v, s.dg_exc, s.g_exc, s.dg_inh, s.g_inh])
    y, h_int = _RK.evolve(lambda z: _rhs(p, z, free, v_max, ie), y, s.h_int, p.h, _CONTROL, what="IF_cond_alpha")
    v = torch.where(free, y[0], torch.full_like(y[0], p.v_reset))
    refrac = torch.where(free, s.refrac, s.refrac - 1)
    spk = fire(v, thr)
    v, refrac = reset(v, refrac, spk, p.v_reset, p.n_ref, fresh=True)
    dge = y[1] + in_exc * 1000.0 * (math.e / p.tau_ex)
    dgi = y[3] + in_inh * 1000.0 * (math.e / p.tau_in)
    return spk, CondAlphaState(v, dge, y[2], dgi, y[4], refrac, h_int), s


def nest_alpha_record(p: NestCondExpParams, s: CondAlphaState, name: str):
    if name == "v":
        return s.v.clone()
    return (s.g_exc if name == "gsyn_exc" else s.g_inh) * 0.001


register_cell(CellLowering(
    IF_cond_alpha, "nest", "float", nest_cond_parameters, nest_alpha_initial_state, nest_alpha_step,
    nest_alpha_record,
    {"IF_cond_alpha": native("NEST iaf_cond_alpha: GSL's adaptive RKF45 (eps_abs 1e-3, step size carried between "
                             "steps) per neuron as IF_cond_exp, alpha conductances (dg += e/τ_syn·w per input)")}))
