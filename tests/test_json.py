"""Versioned JSON round trip without loss (issue 2, model description).

A network that uses every construct of the description (both neuron types and both IF_curr_delta
weight meanings, both spike sources, every connector incl. FromList with 2/3/4-tuples and
fixed-probability with and without its own seed, scalar / [pre, post] / per-connection weight and
delay arrays, both receptors, STDP with both timing rules × both weight dependences × both
additive step meanings, negative A_minus, initial values scalar and per neuron, recordings with
``every``) must give: the same JSON text after to_json → from_json → to_json; equal description
objects and resolved connectivity; and, after reload, bit-identical simulation results.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import neuromorph as nm

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference as ref  # noqa: E402

AWKWARD = 0.1 + 0.2          # 0.30000000000000004: must survive exactly
THIRD = 1.0 / 3.0


def full_network() -> tuple[nm.Network, dict]:
    net = nm.Network(dt=0.5, seed=42)
    net.spike_source("ssa", [[1.0, 3.5, 10.0], [], [0.5, 20.0, 20.5]])
    net.poisson_source("poi", 4, 80.0, start=2.0, duration=30.0)
    net.population("exc", 5, nm.IF_curr_exp(cm=0.25, tau_m=15.0, tau_refrac=2.0, tau_syn_E=3.0, tau_syn_I=6.0,
                                             v_rest=-62.0, v_reset=-70.0, v_thresh=-52.0, i_offset=AWKWARD),
                   initial_values={"v": [-62.0, -61.1, -60.3, -64.9, THIRD - 65.0]})
    net.population("dn", 3, nm.IF_curr_delta(weight_units="nA", tau_refrac=1.0, v_thresh=-55.0),
                   initial_values={"v": -63.0})
    net.population("dm", 2, nm.IF_curr_delta(weight_units="mV", tau_m=THIRD * 30.0))
    p = {}
    p["arr_w"] = net.connect("ssa", "exc", nm.AllToAll(), weight=np.arange(15.0).reshape(3, 5) * 0.1 + 1.0, delay=1.0)
    p["fp_seed"] = net.connect("poi", "exc", nm.FixedProbability(0.5, seed=3), weight=0.7, delay=1.5,
                               receptor="inhibitory")
    p["rec_pair_add"] = net.connect(
        "exc", "exc", nm.AllToAll(allow_self_connections=False), weight=0.2, delay=np.full((5, 5), 2.0),
        plasticity=nm.STDP(timing=nm.SpikePairRule(tau_plus=16.8, tau_minus=33.7, A_plus=0.05, A_minus=0.06),
                           weight=nm.Additive(w_min=0.0, w_max=1.0, step="absolute")))
    p["fromlist4_nearest"] = net.connect(
        "exc", "dn", nm.FromList([(0, 0, 0.5, 1.0), (1, 2, 0.25, 2.5), (4, 1, 0.125, 0.5)]),
        plasticity=nm.STDP(timing=nm.SpikeNearestPairRule(tau_plus=5.0, tau_minus=5.0, A_plus=1.0, A_minus=-1.0),
                           weight=nm.Additive(w_min=0.0, w_max=20.0, step="times_w_max")))
    p["fromlist2"] = net.connect("ssa", "dn", nm.FromList([(0, 1), (2, 0)]), weight=12.0, delay=1.0)
    p["fromlist3_mult"] = net.connect(
        "exc", "dm", nm.FromList([(0, 0, 1.5), (3, 1, 2.5), (2, 1, AWKWARD)]), delay=1.0,
        plasticity=nm.STDP(timing=nm.SpikePairRule(tau_plus=10.0, tau_minus=12.0, A_plus=0.1, A_minus=0.12),
                           weight=nm.Multiplicative(w_min=0.0, w_max=3.0)))
    p["one_to_one_percon"] = net.connect("ssa", "dn", nm.OneToOne(), weight=np.array([10.0, 11.0, 15.5]),
                                         delay=np.array([0.5, 1.0, 1.5]), receptor="excitatory")
    p["fp_noseed"] = net.connect("dn", "dm", nm.FixedProbability(0.4, allow_self_connections=True), weight=3.0,
                                 receptor="inhibitory", delay=0.5)
    p["a2a_inh"] = net.connect("poi", "dm", nm.AllToAll(), weight=1.25, receptor="inhibitory")
    net.record("exc", "spikes", "v", "isyn_exc", "isyn_inh")
    net.record("dn", "spikes", "v")
    net.record("dm", "v", every=3)
    net.record("ssa", "spikes")
    net.record(p["rec_pair_add"], "weights", every=4)
    net.record(p["fromlist4_nearest"], "weights", every=1)
    net.record(p["fromlist3_mult"], "weights", every=2)
    return net, p


def test_round_trip_text_identical():
    net, _ = full_network()
    s1 = net.to_json()
    net2 = nm.Network.from_json(s1)
    s2 = net2.to_json()
    assert s1 == s2
    assert json.loads(s1)["version"] == 1
    # compact text reloads too, and a second trip is still identical
    assert nm.Network.from_json(net.to_json(indent=None)).to_json() == s1
    assert nm.Network.from_json(s2).to_json() == s1


def test_round_trip_objects_equal():
    net, _ = full_network()
    net2 = nm.Network.from_json(net.to_json())
    assert (net2.dt, net2.seed) == (net.dt, net.seed)
    assert list(net2.populations) == list(net.populations)
    for label, pop in net.populations.items():
        pop2 = net2.populations[label]
        assert pop2.size == pop.size
        assert pop2.celltype == pop.celltype, label
        assert type(pop2.celltype) is type(pop.celltype)
        for var in pop.celltype.state_variables:
            if var in pop.initial_values:
                np.testing.assert_array_equal(pop2.initial(var), pop.initial(var))
    assert list(net2.projections) == list(net.projections)
    for label, proj in net.projections.items():
        proj2 = net2.projections[label]
        assert (proj2.pre, proj2.post, proj2.receptor) == (proj.pre, proj.post, proj.receptor)
        assert proj2.connector == proj.connector, label
        assert proj2.plasticity == proj.plasticity, label
        c1, c2 = net.connectivity(label), net2.connectivity(label)
        assert (c1.n_pre, c1.n_post) == (c2.n_pre, c2.n_post), label
        for name in ("pre", "post", "weights", "delays"):
            np.testing.assert_array_equal(getattr(c1, name), getattr(c2, name), err_msg=f"{label}.{name}")
        for name in ("weight", "delay"):
            a, b = getattr(proj, name), getattr(proj2, name)
            np.testing.assert_array_equal(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    assert [(r.target, r.variables, r.every) for r in net2.recordings] == \
           [(r.target, r.variables, r.every) for r in net.recordings]


def test_floats_exact():
    net, p = full_network()
    net2 = nm.Network.from_json(net.to_json())
    assert net2.populations["exc"].celltype.i_offset == AWKWARD
    assert net2.populations["exc"].initial("v")[4] == THIRD - 65.0
    assert net2.populations["dm"].celltype.tau_m == THIRD * 30.0
    assert net2.connectivity(p["fromlist3_mult"].label).dense()[2, 1] == AWKWARD


def test_connectivity_meaningful():
    """The network really exercises what it claims (so the round trip is not vacuous)."""
    net, p = full_network()
    fp = net.connectivity(p["fp_seed"])
    assert 0 < fp.size < fp.n_pre * fp.n_post
    noseed = net.connectivity(p["fp_noseed"])
    assert 0 < noseed.size < noseed.n_pre * noseed.n_post
    rec = net.connectivity(p["rec_pair_add"])
    assert not np.any(rec.pre == rec.post) and rec.size == 20
    fl = net.connectivity(p["fromlist4_nearest"])
    assert fl.dense(fl.delays)[1, 2] == 5 and fl.dense()[4, 1] == 0.125
    o2o = net.connectivity(p["one_to_one_percon"])
    assert list(o2o.pre) == list(o2o.post) == [0, 1, 2]
    assert list(o2o.delays) == [1, 2, 3] and list(o2o.weights) == [10.0, 11.0, 15.5]


@pytest.mark.parametrize("profile", ["spinnaker-float", "spinnaker", "exact"])
def test_reloaded_simulation_identical(profile):
    ref.require_torch_backend()
    net, p = full_network()
    net2 = nm.Network.from_json(net.to_json())
    results = []
    for n in (net, net2):
        try:
            sim = nm.build(n, backend="torch", numerics=profile, device="cpu")
        except nm.UnsupportedError as exc:
            pytest.skip(f"{profile} does not run every construct: {exc}")
        sim.run(40.0)
        r = {}
        for label in ("exc", "dn", "ssa"):
            r[f"spikes:{label}"] = [np.asarray(s, dtype=np.float64) for s in sim.spikes(label)]
        for label, var in (("exc", "v"), ("exc", "isyn_exc"), ("exc", "isyn_inh"), ("dn", "v"), ("dm", "v")):
            r[f"{label}:{var}"] = np.asarray(sim.trace(label, var), dtype=np.float64)
        for key in ("rec_pair_add", "fromlist4_nearest", "fromlist3_mult", "fp_noseed"):
            r[f"w:{key}"] = np.asarray(sim.weights(p[key].label), dtype=np.float64)
        r["hist:fromlist4_nearest"] = np.asarray(sim.weight_history(p["fromlist4_nearest"].label)[1], dtype=np.float64)
        results.append(r)
    a, b = results
    assert a.keys() == b.keys()
    for key in a:
        if key.startswith("spikes:"):
            assert len(a[key]) == len(b[key])
            for x, y in zip(a[key], b[key]):
                np.testing.assert_array_equal(x, y, err_msg=key)
        else:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert sum(len(s) for s in a["spikes:exc"]) + sum(len(s) for s in a["spikes:dn"]) > 0, "network is silent"
