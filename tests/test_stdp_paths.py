"""The float STDP's evaluation paths give the same bits (backends/torch/plasticity/stdp.py).

``PlasticSynapses`` chooses per step between equivalent evaluations: timing factors per neuron
gathered per synapse, or per event from gathered stamps and traces (``FACTOR_RATIO``; here also
switched at random per call); the spiking (delay, post) groups expanded from padded rows or by
``expand_groups`` (``COL_PAD_WASTE``); and the masks "a pre before this post arrival" / "a post
before this pre" skipped when the host knows they are all true. The reference here is the plain per-event evaluation with every mask applied
(the rule as docs/semantics.md §3 states it, and as tests/parity and test_stdp_closed_form check
against NEST and the closed forms): every other choice must reproduce its spikes and weights
exactly (``np.array_equal``, not allclose), in float64 and float32, one trial and a batch.
"""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch

import neuromorph as nm
from neuromorph.backends.torch.plasticity import stdp

MS = 300.0


class _Coin:
    """FACTOR_RATIO that picks per call at random (seeded) between per-neuron tables and per-event
    factors: the kept k_minus rows must stay right across steps that skipped them."""

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def __mul__(self, n):
        return self.rng.choice([-(1 << 40), 1 << 40])


def _network(rule, wd, delay, seed=3):
    """A small recurrent network with a plastic exc->exc projection (weights nA, delays ms)."""
    net = nm.Network(dt=1.0, seed=seed)
    inp = net.poisson_source("input", 120, 25.0)
    e = net.population("exc", 60, nm.IF_curr_exp(tau_refrac=2.0), initial_values={"v": -65.0})
    i = net.population("inh", 15, nm.IF_curr_exp(tau_refrac=2.0))
    net.connect(inp, e, nm.FixedProbability(0.25), weight=1.2, delay=1, label="input->exc")
    net.connect(inp, i, nm.FixedProbability(0.25), weight=1.2, delay=1, label="input->inh")
    ee = net.connect(e, e, nm.FixedProbability(0.3, allow_self_connections=False), weight=0.2, delay=delay,
                     label="exc->exc", plasticity=nm.STDP(rule, wd))
    net.connect(e, i, nm.FixedProbability(0.2), weight=0.3, delay=1, label="exc->inh")
    net.connect(i, e, nm.FixedProbability(0.2), weight=0.8, delay=1, receptor="inhibitory", label="inh->exc")
    net.record(e, "spikes")
    net.record(ee, "weights", every=10)
    return net, ee


def _run(monkeypatch, net, ee, numerics, dtype, batch, path):
    """Spikes and weight history of one run with the path choice ``path``."""
    with monkeypatch.context() as m:
        if path in ("per_event", "reference"):
            m.setattr(stdp, "FACTOR_RATIO", -1)
            m.setattr(stdp, "FACTOR_SLACK", -1)
        if path == "mixed":
            m.setattr(stdp, "FACTOR_RATIO", _Coin(5))
            m.setattr(stdp, "FACTOR_SLACK", 0)
        if path in ("no_pad", "reference"):
            m.setattr(stdp.PlasticSynapses, "_padded_columns", lambda self: None)
        if path == "reference":   # every mask evaluated, as if the host knew nothing
            m.setattr(stdp.PlasticSynapses, "_pres_before", lambda self, u: False)
            m.setattr(stdp.PlasticSynapses, "_posted_by", lambda self, v: False)
        sim = nm.build(net, backend="torch", numerics=numerics, dtype=dtype, batch=batch)
        pp = sim.plastic["exc->exc"]
        padded = pp.col_rows is not None
        sim.run(MS / 2)
        sim.run(MS / 2)
    spikes = sim.spikes("exc")
    trials = spikes if batch > 1 else [spikes]
    flat = [np.asarray(t, dtype=np.float64) for trial in trials for t in trial]
    return flat, sim.weight_history(ee, format="list")[3], padded


RULES = {
    "all": nm.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.02, A_minus=0.024),
    "nearest": nm.SpikeNearestPairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.02, A_minus=0.024),
}


@pytest.mark.parametrize("numerics", ["exact", "spinnaker-float"])
@pytest.mark.parametrize("rule", ["all", "nearest"])
@pytest.mark.parametrize("wd", ["additive", "multiplicative"])
@pytest.mark.parametrize("delay", ["2", "1..3"])
def test_paths_bit_identical(monkeypatch, numerics, rule, wd, delay):
    w_min = 0.0 if numerics == "exact" else 0.05   # NEST's stdp_synapse has no lower bound
    wdep = (nm.Additive(w_min=w_min, w_max=0.45) if wd == "additive" else nm.Multiplicative(w_min=w_min, w_max=0.45))
    d = 2.0 if delay == "2" else np.random.default_rng(7).integers(1, 4, size=(60, 60)).astype(np.float64)
    net, ee = _network(RULES[rule], wdep, d)
    for dtype, batch in ((torch.float64, 1), (torch.float32, 2)):
        ref_spikes, ref_w, _ = _run(monkeypatch, net, ee, numerics, dtype, batch, "reference")
        assert sum(t.size for t in ref_spikes) > 100, "the network must be active for the comparison to mean anything"
        assert np.ptp(ref_w[..., -1, :]) > 0, "the weights must have moved"
        for path in ("default", "per_event", "no_pad", "mixed"):
            spikes, w, padded = _run(monkeypatch, net, ee, numerics, dtype, batch, path)
            assert padded == (path != "no_pad"), path   # (every (delay, post) group has a synapse here)
            assert len(spikes) == len(ref_spikes) and all(np.array_equal(a, b) for a, b in zip(spikes, ref_spikes)), path
            assert np.array_equal(w, ref_w), (path, float(np.abs(w - ref_w).max()))


def test_vogels_paths_bit_identical(monkeypatch):
    """Vogels 2011 (depression at every pre spike, factor 0 without a post) on the same paths."""
    net = nm.Network(dt=1.0, seed=4)
    inp = net.poisson_source("input", 120, 25.0)
    e = net.population("exc", 60, nm.IF_curr_exp(tau_refrac=2.0), initial_values={"v": -65.0})
    i = net.population("inh", 30, nm.IF_curr_exp(tau_refrac=2.0))
    net.connect(inp, e, nm.FixedProbability(0.25), weight=1.2, delay=1, label="input->exc")
    net.connect(inp, i, nm.FixedProbability(0.25), weight=1.2, delay=1, label="input->inh")
    net.connect(e, i, nm.FixedProbability(0.2), weight=0.3, delay=1, label="exc->inh")
    ie = net.connect(i, e, nm.FixedProbability(0.4), weight=0.3, delay=2, receptor="inhibitory", label="exc->exc",
                     plasticity=nm.Vogels2011(tau=20.0, eta=0.05, rho=0.01, w_min=0.0, w_max=2.0))
    net.record(e, "spikes")
    net.record(ie, "weights", every=10)
    ref_spikes, ref_w, _ = _run(monkeypatch, net, ie, "exact", torch.float64, 2, "reference")
    assert np.ptp(ref_w[..., -1, :]) > 0
    for path in ("default", "per_event", "no_pad", "mixed"):
        spikes, w, _ = _run(monkeypatch, net, ie, "exact", torch.float64, 2, path)
        assert all(np.array_equal(a, b) for a, b in zip(spikes, ref_spikes)), path
        assert np.array_equal(w, ref_w), path
