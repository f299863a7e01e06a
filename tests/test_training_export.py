"""Signed trainable weights, trainable biases and exporting a trained network (issue 12 §1)."""
import importlib.util
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import neuromorph as nm
from neuromorph.errors import ValidationError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "train_then_nest.py"
has_nest = importlib.util.find_spec("pyNN") is not None and importlib.util.find_spec("nest") is not None


def _net(tau_syn_I=5.0):
    net = nm.Network(dt=1.0)
    net.spike_source("in", [[2, 3, 5, 8, 12], [2, 4, 9]])
    net.population("out", 3, nm.IF_curr_exp(tau_m=10, tau_syn_I=tau_syn_I))
    net.connect("in", "out", nm.AllToAll(), weight=3.0, delay=1, label="in->out")
    net.record("out", "spikes")
    return net


def _signed(sim):
    with torch.no_grad():
        sim.trainable["in->out"][0, 0, 1] = -2.0       # one negative weight: the opposite receptor
        sim.trainable["in->out"][0, 1, 1] = -1.0


def test_trained_network_splits_signed_weights_and_reproduces_the_run():
    sim = nm.build(_net(), numerics="exact", trainable=["in->out"])
    _signed(sim)
    sim.run(30)
    net2 = nm.Network.from_json(sim.trained_network().to_json())
    assert list(net2.projections) == ["in->out", "in->out:inh"]
    exc, inh = net2.projections["in->out"], net2.projections["in->out:inh"]
    assert (exc.receptor, inh.receptor) == ("excitatory", "inhibitory")
    c = net2.connectivity(inh)
    assert list(zip(c.pre, c.post, c.weights)) == [(0, 1, 2.0), (1, 1, 1.0)]
    assert net2.connectivity(exc).weights.min() >= 0 and net2.connectivity(exc).pre.size == 4
    sim2 = nm.build(net2, numerics="exact")
    sim2.run(30)
    for a, b in zip(sim.spikes("out"), sim2.spikes("out")):
        np.testing.assert_array_equal(a, b)
    assert sim.to_network is not None  # alias


def test_all_negative_projection_flips_receptor_and_untrained_parts_are_kept():
    net = _net()
    net.connect("in", "out", nm.FixedProbability(0.5, seed=3), weight=0.5, delay=2, label="fixed")
    sim = nm.build(net, numerics="exact", trainable=["in->out"])
    with torch.no_grad():
        sim.trainable["in->out"].mul_(-1.0)
    net2 = sim.trained_network()
    assert list(net2.projections) == ["in->out", "fixed"]
    assert net2.projections["in->out"].receptor == "inhibitory"
    assert net2.projections["fixed"] is net.projections["fixed"]
    assert net2.recordings == net.recordings


def test_clamp_weights_is_the_fixed_sign_policy():
    sim = nm.build(_net(), numerics="exact", trainable=["in->out"])
    _signed(sim)
    sim.clamp_weights()
    assert sim.trainable["in->out"].min().item() == 0.0
    assert list(sim.trained_network().projections) == ["in->out"]


def test_split_with_different_synaptic_time_constants_warns():
    sim = nm.build(_net(tau_syn_I=10.0), numerics="exact", trainable=["in->out"])
    _signed(sim)
    with pytest.warns(UserWarning, match="tau_syn"):
        sim.trained_network()


def test_trainable_biases_get_gradients_and_export_to_i_offset():
    sim = nm.build(_net(), numerics="exact", trainable_biases={"out": "shared"})
    assert tuple(sim.biases["out"].shape) == (1, 1)
    spikes = sim(20.0, outputs=["out"])["out"]
    spikes.sum().backward()
    assert sim.biases["out"].grad is not None and sim.biases["out"].grad.abs().item() > 0
    with torch.no_grad():
        sim.biases["out"].fill_(0.4)
    sim.reset()
    sim.run(30)
    net2 = nm.Network.from_json(sim.trained_network().to_json())
    assert net2.populations["out"].celltype.i_offset == pytest.approx(0.4)
    sim2 = nm.build(net2, numerics="exact")
    sim2.run(30)
    for a, b in zip(sim.spikes("out"), sim2.spikes("out")):
        np.testing.assert_array_equal(a, b)


def test_per_neuron_biases_that_differ_are_refused_on_export():
    sim = nm.build(_net(), numerics="exact", trainable_biases=["out"])
    assert tuple(sim.biases["out"].shape) == (1, 3)
    with torch.no_grad():
        sim.biases["out"][0, 0] = 0.1
    with pytest.raises(ValidationError, match="'shared'"):
        sim.trained_network()
    with pytest.raises(ValidationError, match="no i_offset"):
        nm.build(_net(), trainable_biases=["in"])
    with pytest.raises(ValidationError, match="'neuron' or 'shared'"):
        nm.build(_net(), trainable_biases={"out": "row"})


@pytest.mark.skipif(not has_nest, reason="needs the [pynn] extra (PyNN + NEST)")
def test_signed_export_runs_identically_on_nest():
    sim = nm.build(_net(), numerics="exact", trainable=["in->out"], trainable_biases={"out": "shared"})
    _signed(sim)
    with torch.no_grad():
        sim.biases["out"].fill_(0.3)
    sim.run(30)
    ns = nm.build(nm.Network.from_json(sim.trained_network().to_json()), backend="pynn:nest")
    ns.run(30)
    for a, b in zip(sim.spikes("out"), ns.spikes("out")):
        np.testing.assert_array_equal(a, b)


def _example():
    sys.path.insert(0, str(EXAMPLE.parent))
    try:
        return runpy.run_path(str(EXAMPLE), run_name="example")
    finally:
        sys.path.remove(str(EXAMPLE.parent))


@pytest.mark.skipif(not has_nest, reason="needs the [pynn] extra (PyNN + NEST)")
def test_train_then_nest_example_quick(tmp_path):
    out = _example()["main"](quick=True, json_path=str(tmp_path / "net.json"), log=lambda *a: None)
    assert out["torch_batched"] >= 0.8
    assert abs(out["torch"] - out["nest"]) <= 0.02 and out["spikes_equal"]
    nm.Network.from_json((tmp_path / "net.json").read_text())


@pytest.mark.slow
@pytest.mark.skipif(not has_nest, reason="needs the [pynn] extra (PyNN + NEST)")
def test_train_then_nest_example_full():
    out = _example()["main"](quick=False, log=lambda *a: None)
    assert out["torch_batched"] >= 0.9
    assert abs(out["torch"] - out["nest"]) <= 0.02


def test_checkpoint_keeps_trainable_biases(tmp_path):
    sim = nm.build(_net(), numerics="exact", trainable=["in->out"], trainable_biases={"out": "shared"})
    with torch.no_grad():
        sim.biases["out"].fill_(0.25)
    sim.save(tmp_path / "b.ckpt")
    sim2 = nm.load(tmp_path / "b.ckpt")
    assert sim2.bias_modes == {"out": "shared"} and sim2.biases["out"].item() == 0.25
    assert isinstance(sim2.biases["out"], torch.nn.Parameter)
