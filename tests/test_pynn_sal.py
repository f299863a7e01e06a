"""Host-in-the-loop SAL on the PyNN backend (neuromorph.backends.pynn.host_sal).

- the host replay of SAL equals the torch rule (``sal_step``) on identical spike trains, split into
  segments or not (a closed comparison, no simulator needed);
- on NEST: the weights NEST holds after a run equal ``sal_step`` replayed over the spikes NEST
  recorded, W_xy + W_yx is conserved, ``run`` splitting does not matter, ``reset`` restarts;
- the two-neuron alignment (models.sal, Poisson-driven IF_curr_exp, one description for torch and
  pynn:nest) reaches gap ratio ≤ 0.15 on pynn:nest; the lag each segment length causes is reported
  (``HostSAL.lag``) and compared with torch under ``slow``.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import math

import numpy as np
import pytest
import torch

import neuromorph as nm
from neuromorph.backends.pynn.host_sal import SALReplay, partner_index
from neuromorph.backends.torch.mechanisms.sal import SALParameters, sal_initial_state, sal_step
from neuromorph.mechanisms import SAL
from neuromorph.models.sal import PoissonSALConfig, two_neuron_alignment, two_neuron_network

NEST = "pynn:nest"
HAVE_NEST = importlib.util.find_spec("pyNN") is not None and importlib.util.find_spec("nest") is not None
needs_nest = pytest.mark.skipif(not HAVE_NEST, reason="PyNN on NEST is not installed")
CFG = PoissonSALConfig()


def _torch_rule(sx, sy, mask, w_xy, w_yx, c: SAL, dt):
    """sal_step over rasters sx [T, n_x], sy [T, n_y]; dense weights [n_x, n_y], [n_y, n_x]."""
    p = SALParameters(c.tau, c.eta, dt, c.w_min, c.upper)
    state = sal_initial_state(1, sx.shape[1], sy.shape[1])
    a, b = torch.as_tensor(w_xy, dtype=torch.float64)[None], torch.as_tensor(w_yx, dtype=torch.float64)[None]
    m = torch.as_tensor(mask, dtype=torch.float64)
    for t in range(sx.shape[0]):
        a, b, state, _ = sal_step(torch.as_tensor(sx[t], dtype=torch.float64)[None],
                                  torch.as_tensor(sy[t], dtype=torch.float64)[None], a, b, state, p, m)
    return a[0].numpy(), b[0].numpy()


def _events(raster, t0, t1):
    """(neuron, step) arrays of the spikes of steps t0 <= n < t1 of ``raster`` [T, n]."""
    steps, idx = np.nonzero(raster[t0:t1])
    return idx.astype(np.int64), (steps + t0).astype(np.int64)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("w_max", [None, 0.8])
def test_host_replay_equals_the_torch_rule_on_the_same_spike_trains(seed, w_max):
    rng = np.random.default_rng(seed)
    n_x, n_y, T = 4, 3, 400
    mask = rng.random((n_x, n_y)) < 0.7
    mask[0, 0] = True
    sx = (rng.random((T, n_x)) < 0.08).astype(float)
    sy = (rng.random((T, n_y)) < 0.08).astype(float)
    sx[50:60] = 1.0   # a burst: the bounds (w_min = 0, w_max) clip for some pairs
    c = SAL("s", "f", "b", tau=7.0, eta=0.05, w_min=0.0, w_max=w_max)
    w_xy = np.where(mask, rng.uniform(0.1, 0.7, (n_x, n_y)), 0.0)
    w_yx = np.where(mask.T, rng.uniform(0.1, 0.7, (n_y, n_x)), 0.0)
    ref_xy, ref_yx = _torch_rule(sx, sy, mask, w_xy, w_yx, c, dt=0.5)
    pre, post = np.nonzero(mask)
    for cuts in ([0, T], [0, 37, 100, 101, 250, T]):       # one segment, or several (traces carried)
        rule = SALReplay(c, 0.5, pre, post, n_x, n_y)
        a, b = w_xy[pre, post], w_yx[post, pre]
        for t0, t1 in zip(cuts[:-1], cuts[1:]):
            a, b, lag = rule.replay(a, b, _events(sx, t0, t1), _events(sy, t0, t1))
        np.testing.assert_allclose(a, ref_xy[pre, post], rtol=0, atol=1e-12)
        np.testing.assert_allclose(b, ref_yx[post, pre], rtol=0, atol=1e-12)
        np.testing.assert_allclose(a + b, w_xy[pre, post] + w_yx[post, pre], rtol=0, atol=1e-13)
    assert np.any(np.abs(a - w_xy[pre, post]) > 1e-3)    # the rule really acted


def test_partner_index_pairs_each_synapse_with_its_reverse():
    net = nm.Network(dt=1.0)
    net.population("x", 3, nm.IF_curr_exp())
    net.population("y", 2, nm.IF_curr_exp())
    pairs = [(0, 1), (2, 0), (1, 1), (0, 0)]
    net.connect("x", "y", nm.FromList([(i, j, 0.1 * k) for k, (i, j) in enumerate(pairs)]), label="f")
    net.connect("y", "x", nm.FromList([(j, i, 0.2) for i, j in reversed(pairs)]), label="b")
    cf, cb = net.connectivity("f"), net.connectivity("b")
    k = partner_index(cf, cb)
    np.testing.assert_array_equal(cb.pre[k], cf.post)
    np.testing.assert_array_equal(cb.post[k], cf.pre)


# -- on NEST ------------------------------------------------------------------------------------
def _raster(spikes, n_steps, dt):
    out = np.zeros((n_steps + 1, len(spikes)))
    for i, t in enumerate(spikes):
        out[np.rint(np.asarray(t) / dt).astype(int), i] = 1.0
    return out


def _sum(sim):
    return np.nansum(sim.weights("xy")) + np.nansum(sim.weights("yx"))


@needs_nest
def test_nest_weights_equal_the_torch_rule_on_the_recorded_spikes():
    """NEST runs 2 s in segments of 100 ms; the weights NEST holds at the end equal sal_step
    replayed step by step over the spike trains NEST recorded, and the sum is conserved at every
    segment end."""
    cfg = dataclasses.replace(CFG, eta=2e-2)
    sim = nm.build(two_neuron_network(cfg=cfg, seed=3), backend=NEST, segment_ms=100.0)
    sums = []
    for _ in range(20):
        sim.run(100.0)
        sums.append(_sum(sim))
    np.testing.assert_allclose(sums, 2.0, rtol=0, atol=1e-12)
    host = sim.mechanisms[0]
    assert len(host.lag_history) == 20 and host.lag == max(host.lag_history) > 0
    n = int(round(sim.time / cfg.dt))
    sx, sy = (_raster(sim.spikes(p), n, cfg.dt) for p in ("x", "y"))
    assert sx.sum() > 10 and sy.sum() > 10
    c = sim.net.extensions[0]
    ref_xy, ref_yx = _torch_rule(sx, sy, np.ones((1, 1)), [[1.5]], [[0.5]], c, cfg.dt)
    got_xy, got_yx = sim.weights("xy")[0, 0], sim.weights("yx")[0, 0]   # read back from NEST
    assert got_xy == pytest.approx(ref_xy[0, 0], abs=1e-12) and got_yx == pytest.approx(ref_yx[0, 0], abs=1e-12)
    assert abs(got_xy - 1.5) > 1e-2                                   # SAL really moved the weights
    sim.close()


@needs_nest
def test_run_splitting_does_not_matter_and_reset_restarts():
    a = nm.build(two_neuron_network(seed=1), backend=NEST, segment_ms=200.0)
    a.run(1000.0)
    wa, sa = a.weights("xy").copy(), [s.copy() for s in a.spikes("y")]
    a.close()
    b = nm.build(two_neuron_network(seed=1), backend=NEST, segment_ms=200.0)
    for ms in (130.0, 70.0, 500.0, 300.0):
        b.run(ms)
    np.testing.assert_array_equal(b.weights("xy"), wa)
    np.testing.assert_array_equal(b.spikes("y")[0], sa[0])
    b.reset()                                                       # weights kept, traces restarted
    assert b.mechanisms[0].rule.last == -1 and b.mechanisms[0].lag == 0.0
    np.testing.assert_array_equal(b.weights("xy"), wa)
    b.set_weights("xy", 1.0)                                        # honoured by the next segment
    expected = 1.0 + float(np.nansum(b.weights("yx")))
    b.run(200.0)
    assert _sum(b) == pytest.approx(expected, abs=1e-12)
    assert b.weights("xy")[0, 0] != 1.0
    b.close()


@needs_nest
def test_two_neuron_alignment_on_nest_reaches_the_gap_ratio_target():
    """Gap ratio |W01 − W10| end/start ≤ 0.15 after 100 s (segments of 1 s), sum conserved."""
    r = two_neuron_alignment(epochs=100, seed=0, backend=NEST)
    assert r.difference[0] == pytest.approx(1.0) and r.total[0] == pytest.approx(2.0)
    assert r.final_ratio <= 0.15, r.difference
    assert r.sum_drift <= 1e-9
    assert 15.0 <= min(r.rates) and max(r.rates) <= 30.0        # the fluctuation-driven regime of the config
    assert 0.0 < r.lag <= 0.05                                   # weight lag of a 1 s segment at η = 2.5e-3


@needs_nest
def test_torch_and_nest_run_the_description_alike():
    """The same description (SAL on) for 5 s: both neurons' rates agree within 10 % between torch
    (online SAL) and pynn:nest (host loop), and the difference W01 − W10 falls on both."""
    t = two_neuron_alignment(epochs=5, seed=0, backend="torch")
    n = two_neuron_alignment(epochs=5, seed=0, backend=NEST)
    np.testing.assert_allclose(n.rates, t.rates, rtol=0.1)
    assert t.difference[-1] < 0.95 and n.difference[-1] < 0.95
    assert t.sum_drift <= 1e-9 and n.sum_drift <= 1e-9


@needs_nest
def test_segment_length_sets_the_lag():
    """Within a segment NEST runs with the previous weights: the largest |W(t) − W(segment
    start)| (the distance to the weights online SAL would use) shrinks with the segment."""
    lags = {}
    for seg in (100.0, 1000.0):
        r = two_neuron_alignment(epochs=5, seed=0, backend=NEST, segment_ms=seg)
        lags[seg] = r.lag
    assert 0.0 < lags[100.0] < lags[1000.0]


@pytest.mark.slow
@needs_nest
def test_torch_and_nest_align_alike():
    """The same description on torch (online SAL) and pynn:nest (host in the loop, 1 s and 100 ms
    segments): over 4 seeds, mean gap ratio after 100 s ≤ 0.15 on each, and the mean |W01 − W10|
    over epochs 10..100 within 0.1 of torch's."""
    out = {}
    for backend, seg in (("torch", None), (NEST, 1000.0), (NEST, 100.0)):
        runs = [two_neuron_alignment(epochs=100, seed=s, backend=backend, segment_ms=seg) for s in range(4)]
        out[(backend, seg)] = (np.mean([r.final_ratio for r in runs]),
                               np.mean([np.abs(r.difference[10:]).mean() for r in runs]))
        assert max(r.sum_drift for r in runs) <= 1e-9
    ref = out[("torch", None)]
    for key, (ratio, tail) in out.items():
        assert ratio <= 0.15, out
        assert abs(tail - ref[1]) <= 0.1, out
