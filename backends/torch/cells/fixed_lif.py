"""IF_curr_delta and IF_curr_exp in the SpiNNaker core's s16.15 arithmetic (arithmetic "fixed",
convention "spinnaker"): sPyNNaker 7.4.1's LIF tick, bit for bit (simulators.md §9.6).

State is int64 tensors of s16.15 bits; the engine hands the step its ring-buffer slots already as
s16.15 input (words << the receptor's shift, fixed_point.ring_input). One tick t:

1. input: delta I_k += x; exponential I_k += floor(x·init_k / 2^32);
2. the recorded state is (V, I_exc, I_inh) here, before the update;
3. delta input is scaled by S = floor(2^30 / ts) (1/dt truncated); current input is used as is;
4. if not refractory: α = floor(I_in·R / 2^15) + V_rest, V = α − floor(E·(α − V) / 2^15), with
   I_in = I_exc − I_inh + I_offset (+ a mechanism's current); else the refractory count drops;
5. V ≥ V_thresh (bits) spikes: V = V_reset, T_ref ticks refractory;
6. delta: I = 0 (input during refractoriness is lost); exponential: I_k = floor(I_k·decay_k / 2^32).

Every add and product wraps at 32 bits, as the core's registers do: a strongly driven neuron can
wrap α and fail to fire (simulators.md §9.8).
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from neuromorph.capabilities import emulated, native
from neuromorph.cells import IF_curr_delta, IF_curr_exp

from .. import fixed_point as fx
from ..registry import CellLowering, register_cell
from .common import free_update, reset


class FixedState(NamedTuple):
    v: torch.Tensor       # [batch, n] s16.15 bits, mV
    i_exc: torch.Tensor   # [batch, n] s16.15 bits, nA
    i_inh: torch.Tensor
    refrac: torch.Tensor  # [batch, n] ticks left to skip


class FixedParams(NamedTuple):
    threshold: float  # mV (exactly the board's bits / 2^15); the engine adds mechanism shifts to it
    thr_bits: int
    v_reset: int
    v_rest: int
    i_offset: int
    n_ref: int        # T_ref, ticks
    R: int            # MΩ, s16.15
    E: int            # exp(-dt/tau_m), s16.15
    delta_scale: int  # delta input: floor(2^30 / ts); 0 for current input
    init_e: int       # exponential input: u0.32 init and decay per receptor (0 for delta)
    init_i: int
    decay_e: int
    decay_i: int


def _common(c, dt: float) -> dict:
    ts = fx.bits(dt)                       # one substep per tick
    tau_m, cm = fx.bits(c.tau_m), fx.bits(c.cm)
    thr = fx.bits(c.v_thresh)
    refrac = fx.kdiv(fx.bits(c.tau_refrac), ts)
    return dict(threshold=thr / fx.ONE, thr_bits=thr, v_reset=fx.bits(c.v_reset), v_rest=fx.bits(c.v_rest),
                i_offset=fx.bits(c.i_offset), n_ref=-(-refrac // fx.ONE), R=fx.kdiv(tau_m, cm),
                E=fx.expk(-fx.kdiv(ts, tau_m)))


def _synapse(tau: float, dt: float) -> tuple[int, int]:
    """(init, decay) u0.32 of an exponential synapse (simulators.md §9.6)."""
    ts, tau_b = fx.bits(dt), fx.bits(tau)
    d = fx.expulr(-fx.kdiv(ts, tau_b))
    init = (fx.kdiv(tau_b, ts) * (fx.ULR_ONE - 1 - d) >> 15) % fx.ULR_ONE
    return init, d


def delta_parameters(c: IF_curr_delta, dt: float) -> FixedParams:
    common = _common(c, dt)
    if c.weight_units == "nA":   # the board's delta input: the weights over dt are this tick's current
        scale = (fx.ONE * fx.ONE) // fx.bits(dt)
    else:                        # a jump of w mV: the current R(1 − E) turns into w mV in one tick
        scale = (fx.ONE * fx.ONE) // max(1, fx.mul(common["R"], fx.ONE - common["E"]))
    return FixedParams(**common, delta_scale=scale, init_e=0, init_i=0, decay_e=0, decay_i=0)


def exp_parameters(c: IF_curr_exp, dt: float) -> FixedParams:
    (ie, de), (ii, di) = _synapse(c.tau_syn_E, dt), _synapse(c.tau_syn_I, dt)
    return FixedParams(**_common(c, dt), delta_scale=0, init_e=ie, init_i=ii, decay_e=de, decay_i=di)


def initial_state(p: FixedParams, init, batch) -> FixedState:
    v = fx.to_bits(init["v"]).expand(batch, -1).clone()
    z = torch.zeros_like(v)
    return FixedState(v, z, z.clone(), torch.zeros_like(v))


def _threshold(p: FixedParams, thr):
    """The spike threshold in bits: the board's own, or — with a mechanism's shift (float mV) —
    the smallest V in bits at or above it."""
    if isinstance(thr, torch.Tensor):
        return torch.ceil(thr.to(torch.float64) * fx.ONE).to(torch.int64)
    return p.thr_bits if thr == p.threshold else int(torch.ceil(torch.tensor(thr * fx.ONE, dtype=torch.float64)))


def _const(value: int, device) -> torch.Tensor:
    """``value`` as an int64 tensor of shape [1]: an int32 tensor times it is computed in int64
    (a dimensioned operand takes part in type promotion; a Python int would keep int32 and wrap)."""
    key = (value, device)
    t = _CONSTS.get(key)
    if t is None:
        t = _CONSTS[key] = torch.tensor([value], dtype=torch.int64, device=device)
    return t


_CONSTS: dict = {}


def _integrate(p: FixedParams, s: FixedState, drive, extra, thr, fire):
    """Steps 4-5 of the tick with ``drive`` (int64) whose 32-bit wrap is I_exc − I_inh.

    Wrapped intermediates are int32 tensors (one cast, not wrap32's two); their sums and products
    with int64 operands are int64, exact, and are wrapped again by one cast where the core's
    register would wrap. Wrapping is compatible with + and −, so sums wrap once at the end."""
    if p.i_offset:   # integers: adding 0 changes nothing, skip the kernel
        drive = drive + p.i_offset
    if extra is not None:  # a mechanism's (or trained bias's) current [nA]
        drive = drive + fx.to_bits(extra.detach())
    dev = drive.device
    # α = floor(wrap(drive)·R / 2^15) + V_rest as floor((wrap(drive)·R + V_rest·2^15) / 2^15): one
    # exact integer multiply-add (the product of two int32 values cannot leave int64). mul's own
    # wrap and α's are left to the wraps of d and V: α is used only in differences that are wrapped.
    # (.int() is .to(torch.int32); the in-place shifts act on this step's own intermediates.)
    alpha = torch.addcmul(_const(p.v_rest << 15, dev), drive.int(), _const(p.R, dev))
    alpha >>= 15
    d = (alpha - s.v).int()
    # E = exp(−dt/τm) ≤ 1.0 (2^15 bits): floor(E·d / 2^15) stays within int32, its wrap is a no-op
    if 0 <= p.E <= fx.ONE:
        decayed = d * _const(p.E, dev)
        decayed >>= 15
    else:
        decayed = fx.mul(p.E, d.long())
    v, refrac = free_update(s.refrac, s.v, (alpha - decayed).int())   # where(): int64 again
    # an integer compare of the bits (no surrogate gradient: fixed point does not train)
    fired = v >= _threshold(p, thr)
    spk = fired.double()
    spk._fired = fired   # for reset and the engine's event path (a kernel less each)
    v, refrac = reset(v, refrac, spk, p.v_reset, p.n_ref, fresh=True)
    return spk, v, refrac


def delta_step(p: FixedParams, s: FixedState, in_exc, in_inh, extra, thr, fire):
    i_exc, i_inh = (s.i_exc + in_exc).int(), (s.i_inh + in_inh).int()   # wrapped
    seen = FixedState(s.v, i_exc, i_inh, s.refrac)   # (record reads int32 bits the same)
    # fx.mul's wraps of the two products are left to the wrap of their difference
    scale = _const(p.delta_scale, i_exc.device)
    spk, v, refrac = _integrate(p, s, ((i_exc * scale) >> 15) - ((i_inh * scale) >> 15), extra, thr, fire)
    z = torch.zeros_like(s.i_exc)
    return spk, FixedState(v, z, z, refrac), seen


def exp_step(p: FixedParams, s: FixedState, in_exc, in_inh, extra, thr, fire):
    i_exc = s.i_exc + fx.decay(in_exc, p.init_e)     # int64, wrapped below
    i_inh = s.i_inh + fx.decay(in_inh, p.init_i)
    e32, i32 = i_exc.int(), i_inh.int()
    seen = FixedState(s.v, e32, i32, s.refrac)       # (record reads int32 bits the same)
    spk, v, refrac = _integrate(p, s, i_exc - i_inh, extra, thr, fire)
    dev = e32.device
    e, i = e32 * _const(p.decay_e, dev), i32 * _const(p.decay_i, dev)
    e >>= 32
    i >>= 32
    return spk, FixedState(v, e, i, refrac), seen


def record(p: FixedParams, s: FixedState, name: str) -> torch.Tensor:
    """Recorded values as the board reports them: bits / 2^15 (mV, nA), exact in float64."""
    if name == "v":
        return fx.from_bits(s.v)
    return fx.from_bits(s.i_exc if name == "isyn_exc" else s.i_inh)


register_cell(CellLowering(
    IF_curr_delta, "spinnaker", "fixed", delta_parameters, initial_state, delta_step, record, {
        "IF_curr_delta(weight_units=nA)": native("sPyNNaker's s16.15 tick: the weights over dt are the current of one tick"),
        "IF_curr_delta(weight_units=mV)": emulated(
            "the jump w becomes the one-tick current w·floor(2^30/(R(1−E))) in s16.15, so it lands within a few "
            "s16.15 LSBs of w mV (the board itself takes nA)"),
    }))

register_cell(CellLowering(
    IF_curr_exp, "spinnaker", "fixed", exp_parameters, initial_state, exp_step, record, {
        "IF_curr_exp": native("sPyNNaker's s16.15 tick (synaptic decay constants from libm exp: they may differ from "
                              "the board's expulr in the last bits, see backends/torch/fixed_point.py)"),
    }))
