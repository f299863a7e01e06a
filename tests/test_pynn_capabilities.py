"""The PyNN capability tables: complete for what networks need, reasons given, and the claims
behind the 'unsupported' entries checked against the simulators themselves (by lowering anyway,
with the check switched off, and watching the simulator fail or misbehave)."""
from __future__ import annotations

import numpy as np
import pytest

import neuromorph as nm
from neuromorph.backends.pynn import capabilities, extra_constructs
from neuromorph.backends.pynn.capabilities import EXTRA_KEYS
from neuromorph.capabilities import required_constructs

SIMULATORS = ("nest", "brian2", "spinnaker")


def everything_network():
    """A network using every construct the PyNN tables describe."""
    net = nm.Network(dt=1.0, seed=0)
    net.spike_source("src", [[0.0, 1.0, 5.0], [7.0]])
    net.poisson_source("noise", 3, 5.0)
    net.population("exp", 3, nm.IF_curr_exp())
    net.population("dmv", 2, nm.IF_curr_delta(weight_units="mV"))
    net.population("dna", 2, nm.IF_curr_delta(weight_units="nA"))
    pair_add = nm.STDP(timing=nm.SpikePairRule(A_plus=0.0, A_minus=-0.1), weight=nm.Additive(0.1, 1.0))
    near_mul = nm.STDP(timing=nm.SpikeNearestPairRule(tau_minus=7.0), weight=nm.Multiplicative(0.0, 1.0))
    net.connect("src", "exp", nm.AllToAll(), weight=0.1, delay=np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]]))
    net.connect("noise", "exp", nm.FixedProbability(0.5, seed=1), weight=0.1, receptor="inhibitory", plasticity=pair_add)
    net.connect("src", "dmv", nm.OneToOne(), weight=1.0, plasticity=near_mul)
    net.connect("exp", "dna", nm.FromList([(0, 0, 0.2), (1, 1, 0.3)]), plasticity=pair_add)
    net.connect("exp", "dna", nm.AllToAll(), weight=0.1, plasticity=near_mul, label="second rule")
    net.record("exp", "spikes", "v", "isyn_exc", "isyn_inh")
    net.record("second rule", "weights", every=5)
    return net


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_table_covers_every_construct(simulator):
    table = capabilities(simulator)
    net = everything_network()
    needed = required_constructs(net) + extra_constructs(net)
    missing = [k for k in needed if k not in table]
    assert not missing
    assert set(EXTRA_KEYS) <= set(table)
    for key, cap in table.items():
        assert cap.status in ("native", "emulated", "unsupported")
        if cap.status != "native":
            assert len(cap.how) > 20, key  # says how, or why not


def test_extra_constructs_found():
    got = set(extra_constructs(everything_network()))
    assert {"spike at t=dt", "STDP:A_plus=0", "STDP:tau_minus differs onto one population",
            "STDP:rules differ onto one population"} <= got


def test_numerics_other_than_the_simulators_own_is_unsupported():
    table = capabilities("pynn:nest", numerics="spinnaker")
    assert all(not c.supported for c in table.values())
    assert all(c.supported or "torch" in c.how for c in table.values())
    assert capabilities("pynn:nest", numerics="exact")["IF_curr_exp"].supported


def test_backend_names():
    assert capabilities("pynn") == capabilities("nest") == capabilities("pynn:nest")
    with pytest.raises(nm.BackendUnavailableError):
        capabilities("pynn:neuron")


# -- the claims, checked on the simulators ----------------------------------------------------

@pytest.fixture
def unchecked(monkeypatch):
    """Build without the capability check, to see what the simulator itself does."""
    from neuromorph.backends.pynn import simulation
    monkeypatch.setattr(simulation, "supported_check", lambda *a, **k: None)


def test_nest_drops_a_source_spike_at_t0_silently(unchecked):
    pytest.importorskip("pyNN.nest")
    net = nm.Network(dt=1.0)
    net.spike_source("src", [[0.0, 5.0]])
    net.population("n", 1, nm.IF_curr_delta(weight_units="mV"))
    net.connect("src", "n", nm.OneToOne(), weight=3.0)
    net.record("n", "v")
    sim = nm.build(net, backend="pynn:nest")
    sim.run(10.0)
    v = sim.trace("n", "v")[:, 0]
    assert v[1] == v[0]  # no jump from the spike at 0 (delay 1): it was dropped
    assert v[6] - v[5] > 2.9  # the one at 5 arrives


def test_nest_refuses_a_source_spike_at_dt(unchecked):
    pytest.importorskip("pyNN.nest")
    net = nm.Network(dt=1.0)
    net.spike_source("src", [[1.0]])
    net.population("n", 1, nm.IF_curr_exp())
    net.connect("src", "n", nm.OneToOne(), weight=3.0)
    with pytest.raises(nm.SimulationError, match="spike time cannot be set to 0"):
        nm.build(net, backend="pynn:nest")


def test_pynn_nest_refuses_w_min_above_zero():
    """The claim behind 'STDP:w_min>0': PyNN's NEST weight dependences refuse it themselves."""
    sim = pytest.importorskip("pyNN.nest")
    for cls in (sim.AdditiveWeightDependence, sim.MultiplicativeWeightDependence):
        with pytest.raises(Exception, match="Non-zero minimum weight is not supported by NEST"):
            cls(w_min=0.1, w_max=1.0)


def _teacher_net(stdp, receptor="excitatory"):
    net = nm.Network(dt=1.0)
    net.spike_source("pre", [[10.0, 14.0, 18.0, 40.0, 44.0, 260.0]])
    net.spike_source("teacher", [[15.0, 17.0, 24.0, 42.0]])
    net.population("post", 1, nm.IF_curr_delta(weight_units="mV"))
    net.connect("teacher", "post", nm.OneToOne(), weight=30.0)
    net.connect("pre", "post", nm.OneToOne(), weight=2.0, receptor=receptor, plasticity=stdp, label="syn")
    net.record("post", "spikes")
    return net


@pytest.mark.slow
def test_brian2_multiplicative_is_additive(unchecked):
    """PyNN 0.13's brian2 STDP: a multiplicative rule ends exactly where the additive rule with
    step A±·w_max does."""
    pytest.importorskip("pyNN.brian2")
    timing = nm.SpikePairRule(tau_plus=20.0, tau_minus=15.0, A_plus=0.3, A_minus=0.4)
    mult = nm.build(_teacher_net(nm.STDP(timing=timing, weight=nm.Multiplicative(0.0, 4.0))), backend="pynn:brian2")
    mult.run(300.0)
    w_mult = mult.weights("syn")[0, 0]
    add = nm.build(_teacher_net(nm.STDP(timing=timing, weight=nm.Additive(0.0, 4.0, step="times_w_max"))), backend="pynn:brian2")
    add.run(300.0)
    assert w_mult == pytest.approx(add.weights("syn")[0, 0], rel=1e-12)


@pytest.mark.slow
def test_brian2_inhibitory_stdp_moves_the_signed_weight(unchecked):
    pytest.importorskip("pyNN.brian2")
    stdp = nm.STDP(timing=nm.SpikePairRule(tau_plus=20.0, tau_minus=15.0, A_plus=0.4, A_minus=0.5), weight=nm.Additive(0.0, 4.0))
    exc = nm.build(_teacher_net(stdp), backend="pynn:brian2")
    exc.run(300.0)
    inh = nm.build(_teacher_net(stdp, "inhibitory"), backend="pynn:brian2")
    inh.run(300.0)
    assert exc.weights("syn")[0, 0] > 2.5  # potentiated
    # the inhibitory synapse is clipped at w_min = 0 at its first pre spike and then potentiated:
    # its signed PyNN weight ends positive, i.e. the synapse has become excitatory
    raw = inh.lowered.projections["syn"].pynn.get("weight", format="array")[0, 0]
    assert raw > 0
