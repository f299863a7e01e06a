"""Batch = separate runs (issue 2, "Done when" item 3).

64 trials with different SpikeSourceArray inputs (random, seeded per trial) into a small recurrent
network with STDP, run as one batched simulation, give exactly the spikes (and the plastic
weights) of 64 separate single-trial runs of the same network with that trial's inputs.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import neuromorph as nm

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference as ref  # noqa: E402

TRIALS = 64
DURATION = 60.0
N_IN, N_EXC, N_INH = 10, 14, 4


@pytest.fixture(autouse=True)
def _torch_backend():
    ref.require_torch_backend()


def _inputs(trial: int) -> list[list[float]]:
    rng = np.random.default_rng(10_000 + trial)
    rows = []
    for _ in range(N_IN):
        ticks = np.nonzero(rng.random(int(DURATION) - 5) < 0.06)[0] + 1
        rows.append([float(t) for t in ticks])
    return rows


def _network(inputs, cell_kind: str = "exp") -> tuple[nm.Network, list]:
    net = nm.Network(dt=1.0, seed=7)
    net.spike_source("inp", inputs)
    if cell_kind == "exp":
        exc = nm.IF_curr_exp(tau_refrac=2.0, tau_syn_E=3.0, tau_syn_I=6.0, i_offset=0.1)
        inh = nm.IF_curr_exp(tau_refrac=1.0, tau_syn_E=2.0, tau_syn_I=4.0)
        w_in, w_rec, w_ei, w_ie = 3.0, 2.0, 4.0, 3.0
    else:
        exc = nm.IF_curr_delta(tau_refrac=2.0, weight_units="nA")
        inh = nm.IF_curr_delta(tau_refrac=1.0, weight_units="nA")
        w_in, w_rec, w_ei, w_ie = 9.0, 5.0, 10.0, 6.0
    net.population("exc", N_EXC, exc, initial_values={"v": list(np.linspace(-65.0, -56.0, N_EXC))})
    net.population("inh", N_INH, inh)
    p_in = net.connect("inp", "exc", nm.FixedProbability(0.4, seed=11), weight=w_in, delay=1.0,
                       plasticity=nm.STDP(timing=nm.SpikePairRule(tau_plus=15.0, tau_minus=20.0, A_plus=0.4, A_minus=0.45),
                                          weight=nm.Additive(w_min=0.0, w_max=2 * w_in)))
    p_rec = net.connect("exc", "exc", nm.FixedProbability(0.3, seed=12, allow_self_connections=False), weight=w_rec,
                        delay=2.0,
                        plasticity=nm.STDP(timing=nm.SpikeNearestPairRule(tau_plus=10.0, tau_minus=12.0, A_plus=0.3, A_minus=-0.1),
                                           weight=nm.Additive(w_min=0.0, w_max=2 * w_rec)))
    net.connect("exc", "inh", nm.AllToAll(), weight=w_ei, delay=1.0)
    net.connect("inh", "exc", nm.AllToAll(), weight=w_ie, delay=1.0, receptor="inhibitory")
    net.record("exc", "spikes")
    net.record("inh", "spikes")
    net.record(p_in, "weights", every=5)
    net.record(p_rec, "weights", every=5)
    return net, [p_in, p_rec]


def _spike_key(per_neuron):
    return [np.asarray(s, dtype=np.float64) for s in per_neuron]


@pytest.mark.parametrize("profile,cell_kind", [("spinnaker-float", "exp"), ("exact", "exp"), ("spinnaker", "delta")])
def test_batch_equals_separate_runs(profile, cell_kind):
    inputs = [_inputs(k) for k in range(TRIALS)]

    # separate runs
    sep_spikes, sep_weights, sep_hist = [], [], []
    for k in range(TRIALS):
        net, projs = _network(inputs[k], cell_kind)
        sim = nm.build(net, backend="torch", numerics=profile, device="cpu")
        sim.run(DURATION)
        sep_spikes.append({lab: _spike_key(sim.spikes(lab)) for lab in ("exc", "inh")})
        sep_weights.append([np.asarray(sim.weights(p), dtype=np.float64) for p in projs])
        sep_hist.append([np.asarray(sim.weight_history(p)[1], dtype=np.float64) for p in projs])

    # one batched run: the description carries trial 0's inputs, then every trial's are set
    net, projs = _network(inputs[0], cell_kind)
    sim = nm.build(net, backend="torch", numerics=profile, device="cpu", batch=TRIALS)
    sim.set_spike_times("inp", inputs)
    sim.run(DURATION)

    total = 0
    distinct = set()
    for lab in ("exc", "inh"):
        got = sim.spikes(lab)
        assert len(got) == TRIALS, f"{lab}: spikes() gave {len(got)} trials"
        for k in range(TRIALS):
            g = _spike_key(got[k])
            e = sep_spikes[k][lab]
            assert len(g) == len(e)
            for j, (a, b) in enumerate(zip(g, e)):
                assert np.array_equal(a, b), f"{profile}: trial {k} {lab}[{j}] batched {a.tolist()} vs separate {b.tolist()}"
            total += sum(len(x) for x in e)
            distinct.add(tuple(tuple(x.tolist()) for x in e))
    # the test means something only if the network is active and the trials differ
    assert total >= 10 * TRIALS, f"only {total} spikes in {TRIALS} trials"
    assert len(distinct) > TRIALS // 2

    changed = 0
    for i, p in enumerate(projs):
        W = np.asarray(sim.weights(p), dtype=np.float64)
        assert W.shape[0] == TRIALS and W.shape[1:] == sep_weights[0][i].shape, f"batched weights shape {W.shape}"
        _, H = sim.weight_history(p)
        H = np.asarray(H, dtype=np.float64)
        n_samples = sep_hist[0][i].shape[0]
        assert H.ndim == 4 and TRIALS in H.shape[:2] and n_samples in H.shape[:2], f"batched history shape {H.shape}"
        if H.shape[0] == TRIALS and H.shape[1] == n_samples:  # [batch, samples, pre, post]
            H = np.swapaxes(H, 0, 1)                          # -> [samples, batch, pre, post] (base docstring)
        for k in range(TRIALS):
            np.testing.assert_array_equal(np.isnan(W[k]), np.isnan(sep_weights[k][i]))
            np.testing.assert_allclose(W[k], sep_weights[k][i], rtol=0, atol=1e-12,
                                       err_msg=f"{profile}: projection {i} weights, trial {k}")
            np.testing.assert_allclose(H[:, k], sep_hist[k][i], rtol=0, atol=1e-12,
                                       err_msg=f"{profile}: projection {i} weight history, trial {k}")
            m = ~np.isnan(W[k])
            changed += int(np.sum(W[k][m] != sep_hist[k][i][0][m]))
    assert changed > 0, "STDP changed no weight: the test would not see a batching error in plasticity"
