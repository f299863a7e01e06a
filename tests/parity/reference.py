"""Independent references for the parity scenarios, written from the documented semantics only.

Three semantics, one per family of backends:

- ``exact``: NEST 3.10 ``iaf_psc_exp`` / ``iaf_psc_delta`` / ``stdp_synapse`` /
  ``stdp_nn_symm_synapse`` (shared/simulators.md §1, §3, §4, §5.2, §5.3) — pynn:nest and torch
  ``numerics="exact"``.
- ``spinnaker``: sPyNNaker's event order in float64 (shared/design.md §3, simulators.md §7, §9.4
  without fixed point) — torch ``numerics="spinnaker-float"``.
- ``brian2``: PyNN 0.13's brian2 models as Brian2 schedules them (pyNN/brian2/cells.py,
  standardmodels/{cells,receptors,synapses}.py; Brian2's default schedule groups → thresholds →
  synapses → resets): per step the state update, the threshold ``v > v_thresh`` (strict), the
  synaptic events of the step, then the reset (which overwrites a voltage jump received in the
  spike step); the update of step k is skipped while ``k − last_spike < floor(tau_refrac/dt)``
  and a voltage jump arriving in a skipped step is lost; all delays axonal. These rules were
  derived from PyNN/Brian2's code and confirmed by Brian2 runs in this suite.

Plain Python ``math`` per step (a test reference, not a hot path). Times in ms, V in mV, currents
in nA; weights are magnitudes with the receptor giving the sign.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neuromorph.conversions import delta_jump_per_nA

SEMANTICS = ("exact", "spinnaker", "brian2")


@dataclass(frozen=True)
class Input:
    """One source spike at ``time`` [ms] through a synapse of ``weight`` (magnitude) and
    ``delay`` [steps] on ``receptor``."""

    time: float
    weight: float
    delay: int
    receptor: str = "excitatory"


@dataclass
class NeuronResult:
    spikes: np.ndarray   # ms
    v: np.ndarray        # [steps] row k = state after k steps
    isyn_exc: np.ndarray  # [steps] nA (0 for IF_curr_delta)
    isyn_inh: np.ndarray  # [steps] nA, magnitude


def _arrivals(inputs, n: int, dt: float, semantics: str):
    """Summed excitatory and inhibitory weights per step, indexed by the step whose update (exact,
    spinnaker) or end-of-step event phase (brian2) handles them."""
    exc, inh = np.zeros(n + 2), np.zeros(n + 2)
    for inp in inputs:
        s = int(round(inp.time / dt))
        k = s + inp.delay - 1 if semantics == "exact" else s + inp.delay
        if 0 <= k < n + 2:
            (exc if inp.receptor == "excitatory" else inh)[k] += inp.weight
    return exc, inh


def _expm1_propagator(tau_s: float, tau_m: float, c_pf: float, h: float) -> float:
    """P21: the V response [mV per pA] after one step to a unit exponential current (NEST §3)."""
    if tau_s == tau_m:
        return h / c_pf * math.exp(-h / tau_m)
    beta = tau_s * tau_m / (tau_m - tau_s)
    return beta / c_pf * math.exp(-h / tau_s) * math.expm1(h * (tau_m - tau_s) / (tau_s * tau_m))


def nest_refractory_steps(tau_refrac: float, dt: float) -> int:
    """NEST: ceil(t_ref / h) on a 1 µs tic grid (simulators.md §1)."""
    tics = int(tau_refrac * 1000 + 0.5)
    per_step = int(round(dt * 1000))
    return -(-tics // per_step)


def neuron(celltype, semantics: str, dt: float, n: int, inputs=(), v0: float | None = None) -> NeuronResult:
    """Simulate one IF_curr_exp / IF_curr_delta neuron for ``n`` steps under ``semantics``."""
    c = celltype
    kind = type(c).__name__
    exc, inh = _arrivals(inputs, n, dt, semantics)
    v = c.v_rest if v0 is None else v0
    ie = ii = 0.0
    refr = 0
    last = None  # brian2: step of the last spike
    spikes, vs, ies, iis = [], np.zeros(n), np.zeros(n), np.zeros(n)
    R = c.tau_m / c.cm
    P22 = math.exp(-dt / c.tau_m)
    if kind == "IF_curr_delta":
        # one "nA" weight: a current of 1/dt nA held for one step (sPyNNaker), a jump of
        # R(1 - P22)/dt mV; a current I held one step moves V by R(1 - P22)·I = jump·dt·I
        jump = delta_jump_per_nA(c.tau_m, c.cm, dt)  # mV per nA of weight
        w_to_mv = 1.0 if c.weight_units == "mV" else jump   # exact, brian2: voltage jumps
        w_to_na = 1.0 / (jump * dt) if c.weight_units == "mV" else 1.0 / dt  # spinnaker: one-step current
    else:
        P11e, P11i = math.exp(-dt / c.tau_syn_E), math.exp(-dt / c.tau_syn_I)
        P21e = _expm1_propagator(c.tau_syn_E, c.tau_m, c.cm * 1000, dt) * 1000  # mV per nA
        P21i = _expm1_propagator(c.tau_syn_I, c.tau_m, c.cm * 1000, dt) * 1000
        init_e, init_i = (c.tau_syn_E / dt) * (1 - P11e), (c.tau_syn_I / dt) * (1 - P11i)
    n_ref = nest_refractory_steps(c.tau_refrac, dt) if semantics == "exact" else math.ceil(c.tau_refrac / dt - 1e-9)
    b_ref = int(math.floor(c.tau_refrac / dt + 1e-3))  # brian2: free once (k - last) >= timestep(tau_refrac)
    for k in range(n):
        if semantics == "exact":
            vs[k], ies[k], iis[k] = v, ie, ii
            if kind == "IF_curr_exp":
                if refr == 0:
                    v = c.v_rest + (v - c.v_rest) * P22 + ie * P21e - ii * P21i + c.i_offset * R * (1 - P22)
                else:
                    refr -= 1
                ie, ii = ie * P11e + exc[k], ii * P11i + inh[k]
            else:
                if refr == 0:
                    v = c.v_rest + (v - c.v_rest) * P22 + c.i_offset * R * (1 - P22) + (exc[k] - inh[k]) * w_to_mv
                else:
                    refr -= 1  # input during refractoriness is discarded
            if v >= c.v_thresh:
                spikes.append((k + 1) * dt)
                v, refr = c.v_reset, n_ref
        elif semantics == "spinnaker":
            if kind == "IF_curr_exp":
                ie, ii = ie + init_e * exc[k], ii + init_i * inh[k]
                drive = ie - ii + c.i_offset
            else:
                drive = (exc[k] - inh[k]) * w_to_na + c.i_offset  # lost if refractory
            vs[k], ies[k], iis[k] = v, ie, ii
            if refr > 0:
                refr -= 1
            else:
                alpha = c.v_rest + R * drive
                v = alpha - P22 * (alpha - v)
            if v >= c.v_thresh:
                spikes.append(k * dt)
                v, refr = c.v_reset, n_ref
            if kind == "IF_curr_exp":
                ie, ii = ie * P11e, ii * P11i
        else:  # brian2: state update, threshold, synaptic events, reset
            vs[k], ies[k], iis[k] = v, ie, ii
            free = last is None or (k - last) >= b_ref
            if kind == "IF_curr_exp":
                if free:
                    v = c.v_rest + (v - c.v_rest) * P22 + ie * P21e - ii * P21i + c.i_offset * R * (1 - P22)
                ie, ii = ie * P11e + exc[k], ii * P11i + inh[k]
            elif free:
                v = c.v_rest + (v - c.v_rest) * P22 + c.i_offset * R * (1 - P22)
            fired = free and v > c.v_thresh
            if kind == "IF_curr_delta" and free:
                v += (exc[k] - inh[k]) * w_to_mv  # lost while refractory (V held)
            if fired:  # the reset comes after the synaptic events, so it also wipes this step's jump
                spikes.append(k * dt)
                v, last = c.v_reset, k
    return NeuronResult(np.asarray(spikes), vs, ies, iis)


# ---------------------------------------------------------------------------------------------
# STDP on one synapse, given the pre and post spike times each backend reports
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """An STDP rule in physical form: steps in weight units per unit trace."""

    nearest: bool
    multiplicative: bool
    tau_plus: float
    tau_minus: float
    A_plus: float
    A_minus: float
    w_min: float
    w_max: float
    step: str = "absolute"  # additive: "absolute" (A in weight units) or "times_w_max"

    @classmethod
    def of(cls, stdp) -> "Rule":
        t, w = stdp.timing, stdp.weight
        mult = type(w).__name__.startswith("Multiplicative")
        return cls(bool(getattr(t, "nearest", False)), mult, t.tau_plus, t.tau_minus, t.A_plus, t.A_minus,
                   w.w_min, w.w_max, getattr(w, "step", "absolute"))

    @property
    def scale(self) -> float:
        return self.w_max if (not self.multiplicative and self.step == "times_w_max") else 1.0

    def potentiate(self, w: float, k: float, clamp_multiplicative: bool = True) -> float:
        if self.multiplicative:
            w = w + self.A_plus * (self.w_max - w) * k
            return min(w, self.w_max) if clamp_multiplicative else w
        return min(max(w + self.A_plus * self.scale * k, self.w_min), self.w_max)

    def depress(self, w: float, k: float, clamp_multiplicative: bool = True) -> float:
        """NEST clamps multiplicative updates to [0, Wmax]; sPyNNaker does not (simulators.md §7.2)."""
        if self.multiplicative:
            w = w - self.A_minus * (w - self.w_min) * k
            return max(w, self.w_min) if clamp_multiplicative else w
        return min(max(w - self.A_minus * self.scale * k, self.w_min), self.w_max)


def stdp_exact(rule: Rule, w0: float, pre, post, d: float, eps: float = 1e-6) -> float:
    """NEST stdp_synapse (all pairs) or stdp_nn_symm_synapse (nearest) after the last pre spike
    (simulators.md §5.2-5.3): updates at pre spikes only; posts seen at t_post + d."""
    post = sorted(post)
    kminus = []  # Kminus at each post (all-pairs trace, +1 per post)
    k, t_prev = 0.0, None
    for tp in post:
        k = (k * math.exp((t_prev - tp) / rule.tau_minus) if t_prev is not None else 0.0) + 1.0
        kminus.append(k)
        t_prev = tp
    w, kplus, t_last = w0, 0.0, 0.0
    for t in sorted(pre):
        for tp in post:  # facilitation: posts in (t_last - d, t - d]
            if t_last - d + eps <= tp < t - d + eps:
                x = math.exp((t_last - (tp + d)) / rule.tau_plus)
                w = rule.potentiate(w, x if rule.nearest else kplus * x)
        before = [j for j, tp in enumerate(post) if (t - d) - tp > eps]
        if before:
            j = before[-1]
            x = math.exp((post[j] - (t - d)) / rule.tau_minus)
            w = rule.depress(w, x if rule.nearest else kminus[j] * x)
        kplus = kplus * math.exp((t_last - t) / rule.tau_plus) + 1.0
        t_last = t
    return w


def stdp_spinnaker(rule: Rule, w0: float, pre, post, d: int, dt: float = 1.0) -> float:
    """sPyNNaker's pair / nearest-pair rule in float64 (design.md §3.6, simulators.md §9.4):
    posts seen at tick t_post + d; LTP for posts in (last_pre - d, t - d] (the first-ever pre pairs
    with a phantom pre at tick 0); LTD against the latest post at or before t - d, also at 0."""
    pre_t = [int(round(t / dt)) for t in sorted(pre)]
    post_t = [int(round(t / dt)) for t in sorted(post)]
    o = []  # post trace at each post (all pairs: +1 per post with decay; nearest: 1)
    val, prev = 0.0, None
    for tp in post_t:
        val = (val * math.exp(-(tp - prev) * dt / rule.tau_minus) if prev is not None else 0.0) + 1.0
        o.append(1.0 if rule.nearest else val)
        prev = tp
    w, r, last = w0, 0.0, 0
    for t in pre_t:
        lo, hi = max(last - d, 0), max(t - d, 0)
        for j, tp in enumerate(post_t):
            if lo < tp <= hi:
                dplus = tp + d - last
                if rule.nearest:
                    prev_post = post_t[j - 1] if j > 0 else 0
                    if tp + d - prev_post < dplus:
                        continue  # only the first post after the last pre potentiates
                    x = math.exp(-dplus * dt / rule.tau_plus)
                else:
                    x = r * math.exp(-dplus * dt / rule.tau_plus)
                w = rule.potentiate(w, x, clamp_multiplicative=False)
        latest = [j for j, tp in enumerate(post_t) if tp <= hi]
        if latest:
            j = latest[-1]
            w = rule.depress(w, o[j] * math.exp(-(t - post_t[j] - d) * dt / rule.tau_minus), clamp_multiplicative=False)
        r = 1.0 if rule.nearest else r * math.exp(-(t - last) * dt / rule.tau_plus) + 1.0
        last = t
    return w


def stdp_brian2(rule: Rule, w0: float, pre, post, d: float) -> float:
    """PyNN 0.13's brian2 STDPMechanism (additive only): all delay axonal, so a pre spike acts at
    t_pre + d; on_pre: P += A+, w += w_max·M, clip below at w_min; on_post: M -= A−,
    w += w_max·P, clip above at w_max. Pre events before post events at equal times."""
    # times rounded to 1e-9 ms so that t_pre + d and t_post meet exactly on the grid (at dt = 0.1:
    # 20.0 + 0.1 and 19.9 + 0.2 must be the same event time, pre first)
    events = sorted([(round(t + d, 9), 0) for t in pre] + [(round(t, 9), 1) for t in post])
    a_plus, a_minus = (rule.A_plus, rule.A_minus) if rule.step == "times_w_max" else (
        (rule.A_plus / rule.w_max, rule.A_minus / rule.w_max) if rule.w_max else (0.0, 0.0))
    w, P, M, t_prev = w0, 0.0, 0.0, None
    for t, kind in events:
        if t_prev is not None:
            P *= math.exp(-(t - t_prev) / rule.tau_plus)
            M *= math.exp(-(t - t_prev) / rule.tau_minus)
        t_prev = t
        if kind == 0:
            P += a_plus
            w = max(w + rule.w_max * M, rule.w_min)
        else:
            M -= a_minus
            w = min(w + rule.w_max * P, rule.w_max)
    return w


def stdp_reference(semantics: str, rule: Rule, w0: float, pre, post, delay_steps: int, dt: float) -> float:
    if semantics == "exact":
        return stdp_exact(rule, w0, pre, post, delay_steps * dt)
    if semantics == "spinnaker":
        return stdp_spinnaker(rule, w0, pre, post, delay_steps, dt)
    return stdp_brian2(rule, w0, pre, post, delay_steps * dt)


# ---------------------------------------------------------------------------------------------
# network statistics
# ---------------------------------------------------------------------------------------------


def rates(spike_lists, t_ms: float) -> np.ndarray:
    """Firing rate of each neuron [Hz]."""
    return np.array([len(s) for s in spike_lists], dtype=float) / (t_ms / 1000.0)


def cvs(spike_lists, min_spikes: int = 3) -> np.ndarray:
    """Coefficient of variation of the inter-spike intervals of neurons with >= min_spikes."""
    out = []
    for s in spike_lists:
        if len(s) >= min_spikes:
            isi = np.diff(np.sort(s))
            if isi.mean() > 0:
                out.append(isi.std() / isi.mean())
    return np.asarray(out)


def pairwise_correlations(spike_lists, t_ms: float, bin_ms: float = 10.0, max_pairs: int = 2000,
                          seed: int = 0) -> np.ndarray:
    """Pearson correlation of binned spike counts for random pairs of active neurons."""
    edges = np.arange(0.0, t_ms + bin_ms, bin_ms)
    counts = np.array([np.histogram(s, edges)[0] for s in spike_lists], dtype=float)
    active = np.nonzero(counts.std(axis=1) > 0)[0]
    if active.size < 2:
        return np.zeros(0)
    rng = np.random.default_rng(seed)
    i = rng.choice(active, size=max_pairs)
    j = rng.choice(active, size=max_pairs)
    keep = i != j
    i, j = i[keep], j[keep]
    x = counts[i] - counts[i].mean(axis=1, keepdims=True)
    y = counts[j] - counts[j].mean(axis=1, keepdims=True)
    return (x * y).sum(axis=1) / np.sqrt((x * x).sum(axis=1) * (y * y).sum(axis=1))
