"""STDP closed-form checks (issue 2, "Done when" item 2), float64.

One plastic synapse per pre neuron (SpikeSourceArray pre -> IF_curr_exp post). The post neuron is
driven by a separate strong static input so its spike times are scripted (and asserted), and the
plastic weight is recorded every step. The weight after every event must equal the rule's closed
form from tests/reference.py:

- "spinnaker-float": sPyNNaker's conventions (design §3 item 6, simulators.md §9.4 without the
  fixed point): dendritic delay, phantom pre at t = 0, depression at the synaptic coincidence
  (Δt = 0) with the full A-, nearest vs all-pairs, one-sided clamps per term, multiplicative.
- "exact": NEST stdp_synapse / stdp_nn_symm_synapse (simulators.md §5.2, §5.3), including the
  single-pair table printed in §5.2 (d = 1 ms, tau = 20 ms, lambda = 0.01, Wmax = 100 pA).

Sample k of the weight history (time k·dt) is the weight after k steps, i.e. after every pre
spike emitted in a tick < k.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

import neuromorph as nm

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference as ref  # noqa: E402

TOL = 1e-9


@pytest.fixture
def backend():
    return ref.require_torch_backend()


# ---------------------------------------------------------------------------------------------
# network with scripted post spikes
# ---------------------------------------------------------------------------------------------

SPIN_POST = dict(cm=1.0, tau_m=20.0, tau_syn_E=1.0, tau_syn_I=1.0, tau_refrac=2.0)
EXACT_POST = dict(cm=1.0, tau_m=20.0, tau_syn_E=0.5, tau_syn_I=0.5, tau_refrac=2.0)


def _stdp_sim(pre_trains_ms, post_ms, *, dt, delay_ms, plasticity, w0, numerics, receptor="excitatory",
              one_to_one=False, record_every=1):
    """pre neuron i spikes at pre_trains_ms[i]; the post neuron(s) spike at post_ms (one list
    shared, or one list per post when one_to_one). Returns (sim, projection)."""
    net = nm.Network(dt=dt, seed=0)
    net.spike_source("pre", [list(t) for t in pre_trains_ms])
    n_post = len(pre_trains_ms) if one_to_one else 1
    posts = post_ms if one_to_one else [post_ms]
    if numerics == "exact":
        # NEST: the drive arrives at T + d_drive, V crosses in the next step, stamp + dt
        lead, w_drive, cell = 2 * dt, 300.0, nm.IF_curr_exp(**EXACT_POST)
    else:
        # sPyNNaker: consumed in tick T/dt + 1 and the crossing in that tick is stamped there
        lead, w_drive, cell = dt, 30.0 / dt, nm.IF_curr_exp(**SPIN_POST)
    net.spike_source("drive", [[round((t - lead) / dt) * dt for t in p] for p in posts])
    net.population("post", n_post, cell)
    net.connect("drive", "post", nm.OneToOne(), weight=w_drive, delay=dt)
    conn = nm.OneToOne() if one_to_one else nm.AllToAll()
    proj = net.connect("pre", "post", conn, weight=w0, delay=delay_ms, receptor=receptor, plasticity=plasticity)
    net.record("post", "spikes", "isyn_exc", "isyn_inh")
    net.record(proj, "weights", every=record_every)
    sim = nm.build(net, backend="torch", numerics=numerics, device="cpu")
    return sim, proj


def _check_post_spikes(sim, post_ms, one_to_one=False):
    got = sim.spikes("post")
    posts = post_ms if one_to_one else [post_ms]
    for j, expected in enumerate(posts):
        g = np.asarray(got[j], dtype=np.float64)
        assert g.shape == (len(expected),) and np.allclose(g, expected, atol=TOL), \
            f"post {j} spiked at {g.tolist()}, scripted {list(expected)} (test set-up broken)"


def _history(sim, proj, n_pre, n_post):
    times, hist = sim.weight_history(proj)
    times = np.asarray(times, dtype=np.float64)
    hist = np.asarray(hist, dtype=np.float64)
    assert hist.ndim == 3 and hist.shape[1:] == (n_pre, n_post), f"weight history shape {hist.shape}"
    assert hist.shape[0] == times.shape[0]
    return times, hist


# ---------------------------------------------------------------------------------------------
# spinnaker-float
# ---------------------------------------------------------------------------------------------

# (pre ticks, post ticks, delay in ticks)
SCENARIOS = {
    "pre_then_post": ([10, 60], [15], 1),
    "post_then_pre": ([5, 20, 50], [10], 1),
    "dt0_soma": ([5, 20, 45], [20], 1),             # post and pre in the same tick
    "dt0_synapse": ([5, 20, 45], [19], 1),          # post + d == pre: full A- depression
    "dt0_synapse_d3": ([5, 20, 45], [17], 3),
    "phantom_pre": ([30, 55], [10], 1),             # first pre pairs an earlier post with t = 0
    "several_pairs": ([5, 12, 20, 26, 33, 41, 60, 70], [9, 17, 24, 36, 52], 1),
    "bursts": ([5, 8, 11, 30, 33, 47], [14, 18, 22, 40], 1),   # nearest and all-pairs differ
    "delay3": ([5, 12, 20, 30, 50], [9, 17, 22, 27], 3),
}

BASE = dict(tau_plus=16.8, tau_minus=33.7, A_plus=0.1, A_minus=0.12)


def _rule(nearest, **p):
    return nm.SpikeNearestPairRule(**p) if nearest else nm.SpikePairRule(**p)


def _run_spinnaker_case(pre_ticks_list, post_ticks, *, d, dt=1.0, timing, dep, w0, nearest, dependence,
                        step_scale=1.0, receptor="excitatory", extra=5):
    plasticity = nm.STDP(timing=_rule(nearest, **timing), weight=dep)
    n_steps = max(max(max(p) for p in pre_ticks_list), max(post_ticks)) + d + extra
    sim, proj = _stdp_sim([[t * dt for t in p] for p in pre_ticks_list], [t * dt for t in post_ticks], dt=dt,
                          delay_ms=d * dt, plasticity=plasticity, w0=w0, numerics="spinnaker-float", receptor=receptor)
    sim.run(n_steps * dt)
    _check_post_spikes(sim, [t * dt for t in post_ticks])
    times, hist = _history(sim, proj, len(pre_ticks_list), 1)
    ticks = [round(t / dt) for t in times]
    assert max(ticks) >= n_steps - 1
    expected_all = []
    for i, pre_ticks in enumerate(pre_ticks_list):
        updates = ref.spinnaker_stdp(pre_ticks, post_ticks, d=d, dt=dt, w0=w0, w_min=dep.w_min, w_max=dep.w_max,
                                     nearest=nearest, dependence=dependence, step_scale=step_scale, **timing)
        expected = ref.weights_at_samples(updates, w0, ticks)
        err = np.abs(hist[:, i, 0] - expected)
        if not np.all(err <= TOL):
            k = int(np.argmax(err > TOL))
            raise AssertionError(
                f"pre {i}: weight at t={times[k]} ms is {hist[k, i, 0]!r}, closed form {expected[k]!r}; "
                f"closed-form updates (tick, w) = {[(t, round(w, 12)) for t, w in updates]}")
        final = np.asarray(sim.weights(proj), dtype=np.float64)
        assert final.shape == (len(pre_ticks_list), 1)
        assert abs(final[i, 0] - updates[-1][1]) <= TOL
        expected_all.append(updates)
    return sim, expected_all


@pytest.mark.parametrize("nearest", [True, False], ids=["nearest", "all_pairs"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_spinnaker_additive(backend, scenario, nearest):
    pre, post, d = SCENARIOS[scenario]
    _run_spinnaker_case([pre], post, d=d, timing=BASE, dep=nm.Additive(w_min=0.0, w_max=2.0), w0=0.5,
                        nearest=nearest, dependence="additive")


@pytest.mark.parametrize("nearest", [True, False], ids=["nearest", "all_pairs"])
@pytest.mark.parametrize("scenario", ["post_then_pre", "several_pairs", "bursts", "dt0_synapse"])
def test_spinnaker_negative_A_minus(backend, scenario, nearest):
    """A_minus < 0: the depression term is subtracted, so post-before-pre also potentiates."""
    pre, post, d = SCENARIOS[scenario]
    timing = dict(BASE, A_minus=-0.07)
    _run_spinnaker_case([pre], post, d=d, timing=timing, dep=nm.Additive(w_min=0.0, w_max=2.0), w0=0.5,
                        nearest=nearest, dependence="additive")


@pytest.mark.parametrize("nearest", [True, False], ids=["nearest", "all_pairs"])
def test_spinnaker_clip_upper(backend, nearest):
    pre, post = [5, 15, 25, 35, 45], [7, 17, 27, 37]
    timing = dict(BASE, A_plus=0.45, A_minus=0.05)
    dep = nm.Additive(w_min=0.0, w_max=1.0)
    _, (updates,) = _run_spinnaker_case([pre], post, d=1, timing=timing, dep=dep, w0=0.8, nearest=nearest,
                                        dependence="additive")
    # scenario sanity: the upper bound is reached and the closed form sits on it after a potentiation
    ref_pot_only = ref.spinnaker_stdp(pre, post, d=1, dt=1.0, w0=0.8, w_min=0.0, w_max=1.0, nearest=nearest,
                                      **dict(timing, A_minus=0.0))
    assert any(w == 1.0 for _, w in ref_pot_only)


@pytest.mark.parametrize("nearest", [True, False], ids=["nearest", "all_pairs"])
def test_spinnaker_clip_lower(backend, nearest):
    pre, post = [8, 18, 28, 38, 48], [5, 15, 25, 35]
    timing = dict(BASE, A_plus=0.02, A_minus=0.4)
    dep = nm.Additive(w_min=0.3, w_max=1.0)
    _, (updates,) = _run_spinnaker_case([pre], post, d=1, timing=timing, dep=dep, w0=0.6, nearest=nearest,
                                        dependence="additive")
    assert any(w == 0.3 for _, w in updates), "scenario should hit w_min"


@pytest.mark.parametrize("nearest", [True, False], ids=["nearest", "all_pairs"])
def test_spinnaker_one_sided_clamps(backend, nearest):
    """Clamps are one-sided per term (simulators.md §9.4, the brief): upper after potentiation,
    lower after depression. With A_minus < 0 a depression term can lift w above w_max; the next
    potentiation term brings it back to w_max."""
    pre, post = [8, 18, 40], [5, 15]
    timing = dict(BASE, A_plus=0.05, A_minus=-0.3)
    dep = nm.Additive(w_min=0.0, w_max=1.0)
    _, (updates,) = _run_spinnaker_case([pre], post, d=1, timing=timing, dep=dep, w0=0.9, nearest=nearest,
                                        dependence="additive")
    assert any(w > 1.0 for _, w in updates), "scenario should exceed w_max through depression"


@pytest.mark.parametrize("nearest", [True, False], ids=["nearest", "all_pairs"])
@pytest.mark.parametrize("scenario", ["several_pairs", "bursts", "dt0_synapse", "phantom_pre"])
def test_spinnaker_multiplicative(backend, scenario, nearest):
    pre, post, d = SCENARIOS[scenario]
    timing = dict(BASE, A_plus=0.3, A_minus=0.25)
    _run_spinnaker_case([pre], post, d=d, timing=timing, dep=nm.Multiplicative(w_min=0.1, w_max=1.5), w0=0.7,
                        nearest=nearest, dependence="multiplicative")


@pytest.mark.parametrize("nearest", [True, False], ids=["nearest", "all_pairs"])
def test_spinnaker_step_times_w_max(backend, nearest):
    """Additive(step="times_w_max"): the step is A±·w_max (PyNN's standard meaning)."""
    pre, post, d = SCENARIOS["several_pairs"]
    timing = dict(BASE, A_plus=0.05, A_minus=0.06)
    _run_spinnaker_case([pre], post, d=d, timing=timing, dep=nm.Additive(w_min=0.0, w_max=2.0, step="times_w_max"),
                        w0=0.5, nearest=nearest, dependence="additive", step_scale=2.0)


@pytest.mark.parametrize("nearest", [True, False], ids=["nearest", "all_pairs"])
def test_spinnaker_dt_half_ms(backend, nearest):
    """dt = 0.5 ms, delay 2 steps: the exponents use tick differences × dt."""
    pre, post = [10, 24, 40, 52, 80], [16, 30, 45, 58]
    _run_spinnaker_case([pre], post, d=2, dt=0.5, timing=BASE, dep=nm.Additive(w_min=0.0, w_max=2.0), w0=0.5,
                        nearest=nearest, dependence="additive")


def test_spinnaker_several_synapses_one_post(backend):
    """Three plastic synapses onto one post (all-pairs), each with its own pre train."""
    pres = [[5, 12, 20, 26], [3, 17, 30], [22, 40]]
    _run_spinnaker_case(pres, [9, 17, 24, 36], d=1, timing=BASE, dep=nm.Additive(w_min=0.0, w_max=2.0), w0=0.5,
                        nearest=False, dependence="additive")


def test_spinnaker_paper_float_weights(backend):
    """The spatial-pattern paper's training presentation (simulators.md §9.5), float64:
    nearest-pair, tau± = 5, A+ = 1, A- = -1, w in [0, 20], d = 1, post at tick 31.
    "1" line: e^-1 + e^-5 + e^-6.8; "0" line: e^-5 + e^-1 + e^-5.6 + e^-6.8; an inactive line
    (first pre at 66, phantom pre at 0): e^-6.4 + e^-6.8."""
    timing = dict(tau_plus=5.0, tau_minus=5.0, A_plus=1.0, A_minus=-1.0)
    pres = [[2, 27, 57, 66], [7, 37, 60, 66], [66]]
    expected = [math.exp(-1) + math.exp(-5) + math.exp(-6.8),
                math.exp(-5) + math.exp(-1) + math.exp(-5.6) + math.exp(-6.8),
                math.exp(-6.4) + math.exp(-6.8)]
    for p, e in zip(pres, expected):  # self-check of the reference against the documented numbers
        got = ref.spinnaker_stdp(p, [31], d=1, dt=1.0, w0=0.0, w_min=0.0, w_max=20.0, nearest=True, **timing)
        assert got[-1][1] == pytest.approx(e, abs=1e-15)
    assert expected[0] == pytest.approx(0.3757312, abs=1e-7) and expected[1] == pytest.approx(0.3794290, abs=1e-7)
    sim, _ = _run_spinnaker_case(pres, [31], d=1, timing=timing, dep=nm.Additive(w_min=0.0, w_max=20.0), w0=0.0,
                                 nearest=True, dependence="additive")


def test_spinnaker_transmits_updated_weight(backend):
    """The weight a pre spike transmits is the one updated by that spike (design §3 item 6):
    inhibitory plastic synapse, the post's isyn_inh at row t + d jumps by
    (tau_s/dt)(1 - e^(-dt/tau_s))·w_after(t) (compared as a magnitude)."""
    pre, post, d = SCENARIOS["several_pairs"]
    dep = nm.Additive(w_min=0.0, w_max=2.0)
    sim, (updates,) = _run_spinnaker_case([pre], post, d=d, timing=BASE, dep=dep, w0=0.5, nearest=False,
                                          dependence="additive", receptor="inhibitory")
    isyn = np.abs(np.asarray(sim.trace("post", "isyn_inh"), dtype=np.float64)[:, 0])
    tau_s, dt = SPIN_POST["tau_syn_I"], 1.0
    expected = np.zeros(len(isyn))
    for t, w in updates:
        for k in range(len(isyn)):
            expected[k] += ref.spinnaker_exp_isyn(k - (t + d), w, tau_syn=tau_s, dt=dt)
    np.testing.assert_allclose(isyn, expected, atol=TOL, rtol=0)


def test_reference_self_checks():
    """Hand-computed values for the spinnaker reference, so a wrong reference cannot agree with a
    wrong backend."""
    tp, tm = BASE["tau_plus"], BASE["tau_minus"]
    Ap, Am = BASE["A_plus"], BASE["A_minus"]
    kw = dict(d=1, dt=1.0, w0=0.5, w_min=0.0, w_max=2.0, **BASE)
    # pre 10, post 15, pre 60: LTP at 60 with Δ+ = 15 + 1 - 10 = 6, then LTD Δ- = 60 - 16 = 44
    for nearest in (True, False):
        u = ref.spinnaker_stdp([10, 60], [15], nearest=nearest, **kw)
        assert u[0] == (10, 0.5)
        assert u[1][1] == pytest.approx(0.5 + Ap * math.exp(-6 / tp) - Am * math.exp(-44 / tm), abs=1e-15)
    # coincidence at the synapse: post 19, pre 20, d = 1: full A- (all-pairs: no LTP, trace 1 at 5)
    u = ref.spinnaker_stdp([5, 20], [19], nearest=False, **kw)
    assert u[1][1] == pytest.approx(0.5 + Ap * math.exp(-15 / tp) - Am, abs=1e-15)
    # phantom pre: nearest pairs post 10 with t = 0 (Δ+ = 11), all-pairs does not
    u = ref.spinnaker_stdp([30], [10], nearest=True, **kw)
    assert u[0][1] == pytest.approx(0.5 + Ap * math.exp(-11 / tp) - Am * math.exp(-19 / tm), abs=1e-15)
    u = ref.spinnaker_stdp([30], [10], nearest=False, **kw)
    assert u[0][1] == pytest.approx(0.5 - Am * math.exp(-19 / tm), abs=1e-15)
    # no post ever: nothing happens
    assert ref.spinnaker_stdp([5, 9, 30], [], nearest=True, **kw)[-1][1] == 0.5
    # all-pairs bursts: 3 pres (5, 8, 11) then post 14 → LTP at pre 30 sums 3 pairs
    u = ref.spinnaker_stdp([5, 8, 11, 30], [14], nearest=False, **kw)
    ltp = Ap * sum(math.exp(-(15 - p) / tp) for p in (5, 8, 11))
    assert u[3][1] == pytest.approx(0.5 + ltp - Am * math.exp(-15 / tm), abs=1e-15)
    u = ref.spinnaker_stdp([5, 8, 11, 30], [14], nearest=True, **kw)
    assert u[3][1] == pytest.approx(0.5 + Ap * math.exp(-4 / tp) - Am * math.exp(-15 / tm), abs=1e-15)


# ---------------------------------------------------------------------------------------------
# exact (NEST)
# ---------------------------------------------------------------------------------------------

# simulators.md §5.2: t_post - t_pre -> Δw in pA (d = 1 ms, tau± = 20, lambda = 0.01, alpha = 1,
# Wmax = 100 pA, additive), measured in NEST 3.10
NEST_TABLE = {-3.0: -0.904837, -1.5: -0.975310, -1.1: -0.995012, -1.0: 0.0, -0.9: 0.995012,
              -0.5: 0.975310, 0.0: 0.951229, 0.5: 0.927743, 1.0: 0.904837, 3.0: 0.818731}


def test_nest_reference_reproduces_table():
    for dt_pp, dw in NEST_TABLE.items():
        u = ref.nest_stdp([10.0, 1010.0], [10.0 + dt_pp], d=1.0, tau_plus=20.0, tau_minus=20.0, lam=0.01, alpha=1.0,
                          Wmax=100.0, w0=50.0)
        assert u[-1][1] - 50.0 == pytest.approx(dw, abs=6e-7), dt_pp


def test_exact_single_pair_table(backend):
    """The §5.2 table through the torch "exact" profile: ten independent pre/post pairs (one
    synapse each), dt = 0.1, d = 1 ms, SpikePairRule(20, 20, 0.01, 0.01) ×
    Additive(0, 0.1 nA, step="times_w_max") (= NEST lambda 0.01, alpha 1, Wmax 100 pA). A second
    pre 300 ms later collects the LTP (its extra depression is < 4e-10 nA). Δw [nA] = table/1000."""
    dt = 0.1
    cases = sorted(NEST_TABLE)
    t1, gap, w0 = 10.0, 300.0, 0.05
    pres = [[t1, t1 + gap] for _ in cases]
    posts = [[round((t1 + c) / dt) * dt] for c in cases]
    stdp = nm.STDP(timing=nm.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.01),
                   weight=nm.Additive(w_min=0.0, w_max=0.1, step="times_w_max"))
    sim, proj = _stdp_sim(pres, posts, dt=dt, delay_ms=1.0, plasticity=stdp, w0=w0, numerics="exact",
                          one_to_one=True, record_every=100)
    sim.run(t1 + gap + 5.0)
    _check_post_spikes(sim, posts, one_to_one=True)
    W = np.asarray(sim.weights(proj), dtype=np.float64)
    assert W.shape == (len(cases), len(cases))
    for i, c in enumerate(cases):
        dw = W[i, i] - w0
        assert dw == pytest.approx(NEST_TABLE[c] / 1000.0, abs=1.5e-9), \
            f"t_post - t_pre = {c} ms: Δw = {dw!r} nA, NEST table {NEST_TABLE[c] / 1000.0!r} nA"
        u = ref.nest_stdp(pres[i], posts[i], d=1.0, tau_plus=20.0, tau_minus=20.0, lam=0.01, alpha=1.0,
                          Wmax=0.1, w0=w0)
        assert W[i, i] == pytest.approx(u[-1][1], abs=1e-12)
    off = W[~np.eye(len(cases), dtype=bool)]
    assert np.all(np.isnan(off)), "weights() must be NaN where there is no synapse"


EXACT_PRE = [10.0, 14.3, 20.0, 31.1, 40.0, 60.0]
EXACT_POST_TIMES = [7.0, 13.3, 19.0, 25.0, 38.7]   # 13.3 and 19.0 are coincident at the synapse (t_pre - d)


@pytest.mark.parametrize("nearest", [False, True], ids=["stdp_synapse", "stdp_nn_symm_synapse"])
@pytest.mark.parametrize("dependence", ["additive", "multiplicative"])
def test_exact_scripted_train(backend, nearest, dependence):
    """Several pairs through the "exact" profile, weights read between run segments after every
    pre spike, against NEST's stdp_synapse (SpikePairRule) / stdp_nn_symm_synapse
    (SpikeNearestPairRule). Includes posts exactly at t_pre - d (no depression in NEST, LTP only
    for earlier pres)."""
    dt, d, w0 = 0.1, 1.0, 0.05
    A_plus, A_minus, w_max = 0.3, 0.35, 0.1
    if dependence == "additive":
        dep = nm.Additive(w_min=0.0, w_max=w_max, step="times_w_max")
        mu = 0.0
    else:
        dep = nm.Multiplicative(w_min=0.0, w_max=w_max)
        mu = 1.0
    timing = (nm.SpikeNearestPairRule if nearest else nm.SpikePairRule)(tau_plus=12.0, tau_minus=25.0,
                                                                         A_plus=A_plus, A_minus=A_minus)
    sim, proj = _stdp_sim([EXACT_PRE], EXACT_POST_TIMES, dt=dt, delay_ms=d, plasticity=nm.STDP(timing=timing, weight=dep),
                          w0=w0, numerics="exact")
    updates = ref.nest_stdp(EXACT_PRE, EXACT_POST_TIMES, d=d, tau_plus=12.0, tau_minus=25.0, lam=A_plus,
                            alpha=A_minus / A_plus, Wmax=w_max, w0=w0, mu_plus=mu, mu_minus=mu,
                            model="nn_symm" if nearest else "stdp_synapse")
    t_now = 0.0
    for t_pre, w_after in updates:
        stop = t_pre + d + 1.5
        sim.run(round((stop - t_now) / dt) * dt)
        t_now = stop
        W = np.asarray(sim.weights(proj), dtype=np.float64)
        assert W[0, 0] == pytest.approx(w_after, abs=1e-12), \
            f"after the pre spike at {t_pre} ms: w = {W[0, 0]!r}, NEST closed form {w_after!r}; all = {updates}"
    _check_post_spikes(sim, EXACT_POST_TIMES)


@pytest.mark.parametrize("nearest", [False, True], ids=["stdp_synapse", "stdp_nn_symm_synapse"])
def test_exact_coincident_post_potentiates_with_earlier_pre(backend, nearest):
    """simulators.md §5.2 edge case: a post exactly at t_pre - d is inside the facilitation window
    of that pre (t_post < t - d + eps) and pairs with the *earlier* pre: pre 10.0, post 13.3,
    pre 14.3, d = 1 → Δw = λ·Wmax·e^(-(13.3 + 1 - 10)/tau+) at the pre at 14.3 (and no depression).
    """
    dt, d, w0, tau_p = 0.1, 1.0, 0.05, 12.0
    timing = (nm.SpikeNearestPairRule if nearest else nm.SpikePairRule)(tau_plus=tau_p, tau_minus=25.0,
                                                                         A_plus=0.03, A_minus=0.035)
    stdp = nm.STDP(timing=timing, weight=nm.Additive(w_min=0.0, w_max=0.1, step="times_w_max"))
    sim, proj = _stdp_sim([[10.0, 14.3]], [13.3], dt=dt, delay_ms=d, plasticity=stdp, w0=w0, numerics="exact")
    sim.run(20.0)
    _check_post_spikes(sim, [13.3])
    expected = w0 + 0.03 * 0.1 * math.exp(-4.3 / tau_p)
    got = float(np.asarray(sim.weights(proj))[0, 0])
    assert got == pytest.approx(expected, abs=1e-12), \
        f"w after pre 14.3 = {got!r}; NEST: {expected!r} (post at t_pre - d must pair with the earlier pre)"
