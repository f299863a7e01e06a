"""LIF neurons for the torch backend, in snnTorch's idiom.

Each population is one ``snntorch.SpikingNeuron`` subclass instance: spikes come from snnTorch's
surrogate spike function (``spike_grad``, default ``snntorch.surrogate.atan()``), so a network is
differentiable where the user trains it, and the forward value is the exact ``V >= threshold`` test
(snnTorch's Heaviside is ``> 0``; a straight-through correction makes equality spike, as on both
simulators). snnTorch's Leaky/Synaptic have no refractoriness, no non-zero rest/reset and a
different update order, so the per-step arithmetic is written here as pure functions of explicit
parameter and state tuples, one per (cell type, numerics profile); the modules only wrap them.

Units: V in mV; synaptic currents in nA (``spinnaker`` profiles) or pA (``exact``, NEST's units, V
relative to E_L as NEST stores it, so results are bit-identical to NEST); refractory counters in
steps.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import snntorch
import torch

from neuromorph.cells import IF_curr_delta, IF_curr_exp
from neuromorph.errors import UnsupportedError


class LIFState(NamedTuple):
    v: torch.Tensor        # [batch, n] mV (exact profile: relative to v_rest)
    i_exc: torch.Tensor    # [batch, n] nA (exact: pA)
    i_inh: torch.Tensor    # [batch, n] nA (exact: pA), magnitude
    refrac: torch.Tensor   # [batch, n] steps left to skip (int64)


def nest_expm1(x: float) -> float:
    """NEST 3.10 wheel's ``numerics::expm1`` (Taylor fallback; simulators.md §0.2)."""
    if x == 0:
        return 0.0
    if abs(x) > math.log(2.0):
        return math.exp(x) - 1.0
    total, term, n = x, x * x / 2, 2
    while abs(term) > abs(total) * 2.220446049250313e-16:
        total += term
        n += 1
        term *= x / n
    return total


def nest_p21(tau_s: float, tau_m: float, c_m: float, h: float) -> float:
    """NEST's IAFPropagatorExp P21 (simulators.md §3), in pF/ms units."""
    with_inf = tau_m - tau_s
    beta = tau_s * tau_m / with_inf if with_inf != 0 else math.inf
    gamma = beta / c_m
    inv_beta = (tau_m - tau_s) / (tau_s * tau_m) if with_inf != 0 else 0.0
    p21 = gamma * math.exp(-h * (1 / tau_s)) * nest_expm1(h * inv_beta)
    if not (math.isfinite(p21) and p21 > 0 and p21 >= 2.2250738585072014e-308):
        p21 = h * (1 / c_m) * math.exp(-h * (1 / tau_m))
    return p21


def refractory_steps(tau_refrac: float, dt: float, profile: str) -> int:
    if profile == "exact":  # NEST: Time(ms(t_ref)).get_steps(), on tics of 1 µs
        tics = int(tau_refrac * 1000 + 0.5)
        tics_per_step = int(round(dt * 1000))
        return -(-tics // tics_per_step)
    return math.ceil(tau_refrac / dt - 1e-9)  # sPyNNaker: ceil(tau_refrac / dt)


class LIFPopulation(snntorch.SpikingNeuron):
    """One population's neurons: holds constants (python floats, computed with libm so propagators
    match the simulators bit for bit) and applies one step of the chosen profile."""

    def __init__(self, celltype, n: int, dt: float, profile: str, spike_grad=None):
        self.kind = type(celltype).__name__
        self.profile = profile
        self.exact = profile == "exact"
        c = celltype
        threshold = (c.v_thresh - c.v_rest) if self.exact else c.v_thresh
        super().__init__(threshold=threshold, spike_grad=spike_grad, reset_mechanism="none")
        SpikingNeuron_instances_cleanup(self)
        self.n = n
        self.celltype = c
        self.n_ref = refractory_steps(c.tau_refrac, dt, profile)
        if self.exact:
            self.v_offset = c.v_rest            # recorded V = V_rel + E_L
            self.v_reset = c.v_reset - c.v_rest
            cm_pf, tau_m = c.cm * 1000.0, c.tau_m
            self.i_offset = c.i_offset * 1000.0  # pA
            if isinstance(c, IF_curr_exp):
                self.P22 = math.exp(-dt / tau_m)
                self.P20 = tau_m / cm_pf * (1.0 - self.P22)
                self.P11e = math.exp(-dt / c.tau_syn_E)
                self.P11i = math.exp(-dt / c.tau_syn_I)
                self.P21e = nest_p21(c.tau_syn_E, tau_m, cm_pf, dt)
                self.P21i = nest_p21(c.tau_syn_I, tau_m, cm_pf, dt)
            elif isinstance(c, IF_curr_delta):
                self.P33 = math.exp(-dt / tau_m)
                self.P30 = 1 / cm_pf * (1 - self.P33) * tau_m
                # weight (as consumed from the ring buffer) -> voltage jump in mV
                self.jump = 1.0 if c.weight_units == "mV" else (c.tau_m / c.cm) * (1 - math.exp(-dt / c.tau_m)) / dt
            else:
                raise UnsupportedError(f"{self.kind} has no 'exact' profile on the torch backend")
        else:
            self.v_offset = 0.0
            self.v_reset = c.v_reset
            self.v_rest = c.v_rest
            self.E = math.exp(-dt / c.tau_m)
            self.R = c.tau_m / c.cm
            self.i_offset = c.i_offset
            if isinstance(c, IF_curr_exp):
                self.decay_e = math.exp(-dt / c.tau_syn_E)
                self.decay_i = math.exp(-dt / c.tau_syn_I)
                self.init_e = (c.tau_syn_E / dt) * (1 - self.decay_e)
                self.init_i = (c.tau_syn_I / dt) * (1 - self.decay_i)
            elif isinstance(c, IF_curr_delta):
                # sPyNNaker: weight w (nA) is the current w/dt held for one tick (its delta input type
                # scales by 1/dt, simulators.md §9.6); "mV" weights become the current that gives that
                # jump, R(1 - E)·I = w
                self.current_per_weight = 1.0 / dt if c.weight_units == "nA" else 1.0 / (self.R * (1 - self.E))
            else:
                raise UnsupportedError(f"{self.kind} has no spinnaker profile on the torch backend")

    # -- state ------------------------------------------------------------------------------
    def initial_state(self, v0: torch.Tensor, batch: int) -> LIFState:
        """v0: [n] absolute mV."""
        v = (v0 - self.v_offset).expand(batch, self.n).clone()
        z = torch.zeros_like(v)
        return LIFState(v, z.clone(), z.clone(), torch.zeros(v.shape, dtype=torch.int64, device=v.device))

    def recorded(self, state: LIFState, name: str) -> torch.Tensor:
        """A state variable in PyNN units (mV, nA)."""
        if name == "v":
            return state.v + self.v_offset if self.v_offset else state.v.clone()
        i = state.i_exc if name == "isyn_exc" else state.i_inh
        return i * 0.001 if self.exact else i.clone()

    def fire_exact(self, v: torch.Tensor, threshold) -> torch.Tensor:
        """Spike = snnTorch surrogate of (v - threshold) with the forward value fixed to v >= thr."""
        spk = self.spike_grad(v - threshold).to(v.dtype)
        hard = (v >= threshold).to(v.dtype)
        return hard + (spk - spk.detach())

    # -- one step ---------------------------------------------------------------------------
    def forward(self, state: LIFState, in_exc: torch.Tensor, in_inh: torch.Tensor,
                extra_current=None, threshold_shift=None):
        """Advance one step. ``in_exc``/``in_inh``: summed weight magnitudes consumed this step
        (nA, or mV for IF_curr_delta(weight_units="mV")). ``extra_current`` [nA] adds to i_offset;
        ``threshold_shift`` [mV] to v_thresh. Returns (spikes, new state, recordable state), the last
        being the state the step starts from after input transfer (what the simulators record)."""
        threshold = self.threshold if threshold_shift is None else self.threshold + threshold_shift
        step = _STEPS[(self.kind, self.exact)]
        return step(self, state, in_exc, in_inh, extra_current, threshold)


def SpikingNeuron_instances_cleanup(neuron):
    # snnTorch keeps every instance in a class list for init_hidden bookkeeping; we never use
    # hidden-state mode, so drop the reference instead of leaking one per build
    try:
        snntorch.SpikingNeuron.instances.remove(neuron)
    except ValueError:
        pass


def _free_update(state, v_new, n_ref):
    free = state.refrac <= 0
    v = torch.where(free, v_new, state.v)
    refrac = torch.where(free, state.refrac, state.refrac - 1)
    return v, refrac


def _reset(p, v, refrac, spk):
    fired = spk.detach() > 0
    v = torch.where(fired, torch.as_tensor(p.v_reset, dtype=v.dtype, device=v.device), v)
    refrac = torch.where(fired, torch.full_like(refrac, p.n_ref), refrac)
    return v, refrac


def _spinnaker_integrate(p, s: LIFState, input_current, extra, thr):
    """sPyNNaker's LIF update with the input current held over the tick, then threshold/reset."""
    drive = input_current + p.i_offset
    if extra is not None:
        drive = drive + extra
    alpha = p.v_rest + p.R * drive
    v, refrac = _free_update(s, alpha - p.E * (alpha - s.v), p.n_ref)
    spk = p.fire_exact(v, thr)
    v, refrac = _reset(p, v, refrac, spk)
    return spk, v, refrac


def spinnaker_exp_step(p, s: LIFState, in_exc, in_inh, extra, thr):
    """sPyNNaker IF_curr_exp tick: input transfer (×init), update V with currents held constant,
    threshold/reset/refractory, then decay the currents (design.md §3)."""
    i_exc = s.i_exc + p.init_e * in_exc
    i_inh = s.i_inh + p.init_i * in_inh
    seen = LIFState(s.v, i_exc, i_inh, s.refrac)
    spk, v, refrac = _spinnaker_integrate(p, s, i_exc - i_inh, extra, thr)
    return spk, LIFState(v, i_exc * p.decay_e, i_inh * p.decay_i, refrac), seen


def spinnaker_delta_step(p, s: LIFState, in_exc, in_inh, extra, thr):
    """sPyNNaker IF_curr_delta tick: the weights consumed this tick (over dt) are the current of
    this tick only; input during refractoriness is lost."""
    current = (in_exc - in_inh) * p.current_per_weight
    spk, v, refrac = _spinnaker_integrate(p, s, current, extra, thr)
    return spk, LIFState(v, s.i_exc, s.i_inh, refrac), s


def exact_exp_step(p, s: LIFState, in_exc, in_inh, extra, thr):
    """NEST iaf_psc_exp step (simulators.md §3): exact V update with the currents of the previous
    step, decay, add this step's input (pA), then threshold."""
    ie_drive = p.i_offset if extra is None else p.i_offset + extra * 1000.0
    v_new = s.v * p.P22 + s.i_exc * p.P21e - s.i_inh * p.P21i + ie_drive * p.P20
    v, refrac = _free_update(s, v_new, p.n_ref)
    i_exc = s.i_exc * p.P11e + in_exc * 1000.0
    i_inh = s.i_inh * p.P11i + in_inh * 1000.0
    spk = p.fire_exact(v, thr)
    v, refrac = _reset(p, v, refrac, spk)
    return spk, LIFState(v, i_exc, i_inh, refrac), s


def exact_delta_step(p, s: LIFState, in_exc, in_inh, extra, thr):
    """NEST iaf_psc_delta step (simulators.md §4): V jumps by this step's input in its arrival
    step; input during refractoriness is discarded."""
    ie_drive = p.i_offset if extra is None else p.i_offset + extra * 1000.0
    v_new = p.P30 * ie_drive + p.P33 * s.v + (in_exc - in_inh) * p.jump
    v, refrac = _free_update(s, v_new, p.n_ref)
    spk = p.fire_exact(v, thr)
    v, refrac = _reset(p, v, refrac, spk)
    return spk, LIFState(v, s.i_exc, s.i_inh, refrac), s


_STEPS = {
    ("IF_curr_exp", False): spinnaker_exp_step,
    ("IF_curr_delta", False): spinnaker_delta_step,
    ("IF_curr_exp", True): exact_exp_step,
    ("IF_curr_delta", True): exact_delta_step,
}
