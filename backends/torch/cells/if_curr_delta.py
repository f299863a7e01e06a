"""IF_curr_delta on the torch backend: NEST ``iaf_psc_delta`` (convention "nest") and sPyNNaker's
delta-input LIF tick (convention "spinnaker"), float arithmetic.

The weight's meaning follows ``IF_curr_delta.weight_units`` on every convention, converted with
the one formula in neuromorph.conversions (docs/semantics.md §2).
"""
from __future__ import annotations

import math
from typing import NamedTuple

from neuromorph.capabilities import emulated, native
from neuromorph.cells import IF_curr_delta
from neuromorph.conversions import delta_jump_per_nA

from ..registry import CellLowering, register_cell
from .common import free_update, nest_refractory_steps, reset, spinnaker_refractory_steps
from .fused_training import NestDeltaStep, fused_spike_grad
from .if_curr_exp import (LIFExpState, nest_initial_state, nest_record, spinnaker_initial_state, spinnaker_integrate,
                          spinnaker_record)


class NestDeltaParams(NamedTuple):
    threshold: float  # mV relative to E_L
    v_reset: float
    v_rest: float
    n_ref: int
    i_offset: float   # pA
    P33: float
    P30: float
    jump: float       # mV per weight unit consumed from the ring buffer


def nest_delta_parameters(c: IF_curr_delta, dt: float) -> NestDeltaParams:
    P33 = math.exp(-dt / c.tau_m)
    jump = 1.0 if c.weight_units == "mV" else delta_jump_per_nA(c.tau_m, c.cm, dt)
    return NestDeltaParams(c.v_thresh - c.v_rest, c.v_reset - c.v_rest, c.v_rest, nest_refractory_steps(c.tau_refrac, dt),
                           c.i_offset * 1000.0, P33, 1 / (c.cm * 1000.0) * (1 - P33) * c.tau_m, jump)


def nest_delta_step(p: NestDeltaParams, s: LIFExpState, in_exc, in_inh, extra, thr, fire):
    """NEST iaf_psc_delta step (simulators.md §4): V jumps by this step's input in its arrival
    step; input during refractoriness is discarded. While autograd records, one fused node with
    the same arithmetic (fused_training.py)."""
    spike_grad = fused_spike_grad(fire, s.v, thr, in_exc, in_inh, extra)
    if spike_grad is not None:
        spk, v, refrac = NestDeltaStep.apply(s.v, in_exc, in_inh, extra, s.refrac, p, thr, spike_grad)
        return spk, LIFExpState(v, s.i_exc, s.i_inh, refrac), LIFExpState(s.v, in_exc, in_inh, s.refrac)
    ie = p.i_offset if extra is None else p.i_offset + extra * 1000.0
    v_new = p.P30 * ie + p.P33 * s.v + (in_exc - in_inh) * p.jump
    v, refrac = free_update(s.refrac, s.v, v_new)
    spk = fire(v, thr)
    v, refrac = reset(v, refrac, spk, p.v_reset, p.n_ref, fresh=True)
    return spk, LIFExpState(v, s.i_exc, s.i_inh, refrac), LIFExpState(s.v, in_exc, in_inh, s.refrac)


class SpinnakerDeltaParams(NamedTuple):
    threshold: float
    v_reset: float
    v_rest: float
    n_ref: int
    i_offset: float          # nA
    E: float
    R: float
    current_per_weight: float  # nA of one-tick current per weight unit


def spinnaker_delta_parameters(c: IF_curr_delta, dt: float) -> SpinnakerDeltaParams:
    E, R = math.exp(-dt / c.tau_m), c.tau_m / c.cm
    # "nA": the weight over dt is the current of one tick; "mV": the current that gives that jump
    per_weight = 1.0 / dt if c.weight_units == "nA" else 1.0 / (delta_jump_per_nA(c.tau_m, c.cm, dt) * dt)
    return SpinnakerDeltaParams(c.v_thresh, c.v_reset, c.v_rest, spinnaker_refractory_steps(c.tau_refrac, dt), c.i_offset,
                                E, R, per_weight)


def spinnaker_delta_step(p: SpinnakerDeltaParams, s: LIFExpState, in_exc, in_inh, extra, thr, fire):
    """sPyNNaker IF_curr_delta tick: the weights consumed this tick (over dt) are the current of
    this tick only; input during refractoriness is lost."""
    spk, v, refrac = spinnaker_integrate(p, s.v, s.refrac, (in_exc - in_inh) * p.current_per_weight, extra, thr, fire)
    return spk, LIFExpState(v, s.i_exc, s.i_inh, refrac), LIFExpState(s.v, in_exc, in_inh, s.refrac)


def delta_record(record_v):
    """Records of a delta cell: V as ``record_v`` gives it; isyn_* the input consumed in the step,
    in the weight's units (the recorded state's current slots carry it)."""
    def record(p, s, name):
        if name == "v":
            return record_v(p, s, name)
        return (s.i_exc if name == "isyn_exc" else s.i_inh).clone()
    return record


register_cell(CellLowering(
    IF_curr_delta, "nest", "float", nest_delta_parameters, nest_initial_state, nest_delta_step, delta_record(nest_record), {
        "IF_curr_delta(weight_units=mV)": native("NEST iaf_psc_delta: V jumps by w"),
        "IF_curr_delta(weight_units=nA)": emulated("the one-step current w/dt becomes NEST's voltage jump R(1-exp(-dt/tau_m))·w/dt"),
    }))

register_cell(CellLowering(
    IF_curr_delta, "spinnaker", "float", spinnaker_delta_parameters, spinnaker_initial_state, spinnaker_delta_step,
    delta_record(spinnaker_record), {
        "IF_curr_delta(weight_units=nA)": native("sPyNNaker: weights over dt are the current of one tick"),
        "IF_curr_delta(weight_units=mV)": emulated("the jump w becomes the one-tick current w/(R(1-exp(-dt/tau_m)))"),
    }))
