"""IF_curr_exp on the torch backend: NEST ``iaf_psc_exp`` (convention "nest") and sPyNNaker's
per-tick update (convention "spinnaker"), float arithmetic (float64 or float32).

Units: V in mV; spinnaker currents in nA; nest currents in pA and V relative to E_L, as NEST stores
them, so results are bit-identical to NEST in float64 (docs/semantics.md §2).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch

from neuromorph.capabilities import native
from neuromorph.cells import IF_curr_exp

from ..registry import CellLowering, register_cell
from .common import free_update, nest_expm1, nest_refractory_steps, reset, spinnaker_refractory_steps
from .fused_training import NestExpStep, fused_spike_grad


class LIFExpState(NamedTuple):
    v: torch.Tensor       # [batch, n] mV (nest: relative to v_rest)
    i_exc: torch.Tensor   # [batch, n] nA (nest: pA)
    i_inh: torch.Tensor   # [batch, n] magnitude, nA (nest: pA)
    refrac: torch.Tensor  # [batch, n] steps left to skip (int64)


def nest_p21(tau_s: float, tau_m: float, c_m: float, h: float) -> float:
    """NEST's IAFPropagatorExp P21 (simulators.md §3), pF and ms."""
    with_inf = tau_m - tau_s
    beta = tau_s * tau_m / with_inf if with_inf != 0 else math.inf
    gamma = beta / c_m
    inv_beta = (tau_m - tau_s) / (tau_s * tau_m) if with_inf != 0 else 0.0
    p21 = gamma * math.exp(-h * (1 / tau_s)) * nest_expm1(h * inv_beta)
    if not (math.isfinite(p21) and p21 > 0 and p21 >= 2.2250738585072014e-308):
        p21 = h * (1 / c_m) * math.exp(-h * (1 / tau_m))
    return p21


def lif_initial_state(v_offset: float, init, batch) -> LIFExpState:
    """V from ``init['v']`` (absolute mV) moved into the lowering's frame (minus ``v_offset``),
    zero currents, not refractory."""
    v = (init["v"] - v_offset).expand(batch, -1).clone()
    z = torch.zeros_like(v)
    return LIFExpState(v, z, z.clone(), torch.zeros(v.shape, dtype=torch.int64, device=v.device))


# -- nest (iaf_psc_exp) -----------------------------------------------------------------------
class NestExpParams(NamedTuple):
    threshold: float   # mV relative to E_L
    v_reset: float     # mV relative to E_L
    v_rest: float      # E_L, mV (recorded V = V_rel + E_L)
    n_ref: int
    i_offset: float    # pA
    P22: float
    P20: float
    P11e: float
    P11i: float
    P21e: float
    P21i: float


def nest_exp_parameters(c: IF_curr_exp, dt: float) -> NestExpParams:
    cm_pf = c.cm * 1000.0
    P22 = math.exp(-dt / c.tau_m)
    return NestExpParams(c.v_thresh - c.v_rest, c.v_reset - c.v_rest, c.v_rest, nest_refractory_steps(c.tau_refrac, dt),
                         c.i_offset * 1000.0, P22, c.tau_m / cm_pf * (1.0 - P22),
                         math.exp(-dt / c.tau_syn_E), math.exp(-dt / c.tau_syn_I),
                         nest_p21(c.tau_syn_E, c.tau_m, cm_pf, dt), nest_p21(c.tau_syn_I, c.tau_m, cm_pf, dt))


def nest_exp_step(p: NestExpParams, s: LIFExpState, in_exc, in_inh, extra, thr, fire):
    """NEST iaf_psc_exp step (simulators.md §3): exact V update with the previous step's currents,
    decay, add this step's input (pA), then threshold. While autograd records, one fused node
    with the same arithmetic (fused_training.py)."""
    spike_grad = fused_spike_grad(fire, s.v, thr, s.i_exc, s.i_inh, in_exc, in_inh, extra)
    if spike_grad is not None:
        spk, v, i_exc, i_inh, refrac = NestExpStep.apply(s.v, s.i_exc, s.i_inh, in_exc, in_inh, extra, s.refrac, p, thr,
                                                         spike_grad)
        return spk, LIFExpState(v, i_exc, i_inh, refrac), s
    # the same operations in the same order as NEST; the adds work in place on this step's own
    # products (an in-place add rounds exactly like the out-of-place one, and allocates nothing)
    v_new = s.v * p.P22
    v_new += s.i_exc * p.P21e
    v_new -= s.i_inh * p.P21i
    if extra is not None or p.i_offset != 0:   # adding 0.0 would change nothing (V is never −0.0): skip the kernel
        ie = p.i_offset if extra is None else p.i_offset + extra * 1000.0
        v_new += ie * p.P20
    v, refrac = free_update(s.refrac, s.v, v_new)
    i_exc = s.i_exc * p.P11e
    i_exc += in_exc * 1000.0
    i_inh = s.i_inh * p.P11i
    i_inh += in_inh * 1000.0
    spk = fire(v, thr)
    v, refrac = reset(v, refrac, spk, p.v_reset, p.n_ref, fresh=True)
    return spk, LIFExpState(v, i_exc, i_inh, refrac), s


def nest_record(p, s, name):
    if name == "v":
        return s.v + p.v_rest
    return (s.i_exc if name == "isyn_exc" else s.i_inh) * 0.001


# -- spinnaker (sPyNNaker's LIF tick) ---------------------------------------------------------
class SpinnakerExpParams(NamedTuple):
    threshold: float  # mV
    v_reset: float
    v_rest: float
    n_ref: int
    i_offset: float   # nA
    E: float          # exp(-dt/tau_m)
    R: float          # MΩ
    decay_e: float
    decay_i: float
    init_e: float     # (tau_syn/dt)(1 - decay): sPyNNaker's input scaling
    init_i: float


def spinnaker_exp_parameters(c: IF_curr_exp, dt: float) -> SpinnakerExpParams:
    de, di = math.exp(-dt / c.tau_syn_E), math.exp(-dt / c.tau_syn_I)
    return SpinnakerExpParams(c.v_thresh, c.v_reset, c.v_rest, spinnaker_refractory_steps(c.tau_refrac, dt), c.i_offset,
                              math.exp(-dt / c.tau_m), c.tau_m / c.cm, de, di,
                              (c.tau_syn_E / dt) * (1 - de), (c.tau_syn_I / dt) * (1 - di))


def spinnaker_integrate(p, v0, refrac0, current, extra, thr, fire):
    """sPyNNaker's LIF update with ``current`` (nA) held over the tick, then threshold/reset.
    ``p`` needs v_rest, R, E, i_offset, v_reset, n_ref. Returns (spikes, v, refrac)."""
    drive = current + p.i_offset if extra is None else current + (p.i_offset + extra)
    alpha = p.v_rest + p.R * drive
    v, refrac = free_update(refrac0, v0, alpha - p.E * (alpha - v0))
    spk = fire(v, thr)
    v, refrac = reset(v, refrac, spk, p.v_reset, p.n_ref, fresh=True)
    return spk, v, refrac


def spinnaker_exp_step(p: SpinnakerExpParams, s: LIFExpState, in_exc, in_inh, extra, thr, fire):
    """sPyNNaker IF_curr_exp tick: input transfer (×init), V with currents held, threshold/reset/
    refractory, then decay the currents (design.md §3)."""
    i_exc = s.i_exc + p.init_e * in_exc
    i_inh = s.i_inh + p.init_i * in_inh
    seen = LIFExpState(s.v, i_exc, i_inh, s.refrac)
    spk, v, refrac = spinnaker_integrate(p, s.v, s.refrac, i_exc - i_inh, extra, thr, fire)
    return spk, LIFExpState(v, i_exc * p.decay_e, i_inh * p.decay_i, refrac), seen


def spinnaker_record(p, s, name):
    if name == "v":
        return s.v.clone()
    return (s.i_exc if name == "isyn_exc" else s.i_inh).clone()


def nest_initial_state(p, init, batch):
    return lif_initial_state(p.v_rest, init, batch)


def spinnaker_initial_state(p, init, batch):
    return lif_initial_state(0.0, init, batch)


register_cell(CellLowering(
    IF_curr_exp, "nest", "float", nest_exp_parameters, nest_initial_state, nest_exp_step, nest_record,
    {"IF_curr_exp": native("NEST iaf_psc_exp propagators (exact integration), V relative to E_L, currents in pA")}))

register_cell(CellLowering(
    IF_curr_exp, "spinnaker", "float", spinnaker_exp_parameters, spinnaker_initial_state, spinnaker_exp_step,
    spinnaker_record, {"IF_curr_exp": native("sPyNNaker's per-tick update: input transfer, V with currents held, decay")}))
