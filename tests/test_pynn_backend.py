"""The PyNN backend's own behaviour on NEST: units, weights, segments, reset, detaching, errors.

Numbers are checked against closed forms (a voltage jump equals the weight, a PSC jumps by the
weight) and against NEST itself run differently (one run vs segments, a fresh build vs reset),
never against captured output of this code.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import neuromorph as nm
from neuromorph.errors import BackendUnavailableError, SimulationError, UnsupportedError, ValidationError

pytest.importorskip("pyNN.nest", reason="needs the [pynn] extra (PyNN + NEST)")

NEST = "pynn:nest"


def one_input(celltype, weight, receptor="excitatory", plastic=False, t=10.0, delay=1.0):
    net = nm.Network(dt=1.0)
    net.spike_source("src", [[t]])
    net.population("n", 1, celltype)
    stdp = nm.STDP(timing=nm.SpikePairRule(A_plus=0.0001, A_minus=0.0001), weight=nm.Additive(0.0, 10.0)) if plastic else None
    net.connect("src", "n", nm.OneToOne(), weight=weight, delay=delay, receptor=receptor, plasticity=stdp, label="p")
    net.record("n", "v", *(("isyn_exc", "isyn_inh") if isinstance(celltype, nm.IF_curr_exp) else ()))
    return net


@pytest.mark.parametrize("plastic", [False, True])
@pytest.mark.parametrize("receptor,sign", [("excitatory", 1.0), ("inhibitory", -1.0)])
def test_delta_weight_is_the_voltage_jump_in_mV(plastic, receptor, sign):
    """IF_curr_delta(weight_units="mV"): V jumps by exactly the weight at sample t+d (NEST
    iaf_psc_delta), static and plastic (where PyNN 0.13 gets Wmax and read-back 1000x wrong)."""
    sim = nm.build(one_input(nm.IF_curr_delta(weight_units="mV"), 3.0, receptor, plastic), backend=NEST)
    sim.run(20.0)
    v = sim.trace("n", "v")[:, 0]
    assert v[11] - v[10] == pytest.approx(sign * 3.0 + (v[10] - v[9]), abs=1e-9)
    assert sim.weights("p")[0, 0] == pytest.approx(3.0, rel=1e-6)


def test_delta_nA_weight_jump_is_R_times_one_minus_decay():
    """IF_curr_delta(weight_units="nA") on NEST: jump R·(1−e^(−dt/τm))·w (sPyNNaker's meaning)."""
    c = nm.IF_curr_delta(weight_units="nA", tau_m=10.0, cm=0.5)
    sim = nm.build(one_input(c, 2.0), backend=NEST)
    sim.run(20.0)
    v = sim.trace("n", "v")[:, 0]
    assert v[11] - v[10] == pytest.approx(20.0 * (1 - math.exp(-0.1)) * 2.0, rel=1e-12)
    assert sim.weights("p")[0, 0] == pytest.approx(2.0, rel=1e-12)


@pytest.mark.parametrize("receptor", ["excitatory", "inhibitory"])
def test_exp_current_jumps_by_the_weight(receptor):
    sim = nm.build(one_input(nm.IF_curr_exp(), 0.7, receptor), backend=NEST)
    sim.run(20.0)
    var = "isyn_exc" if receptor == "excitatory" else "isyn_inh"
    i = sim.trace("n", var)[:, 0]
    assert i[10] == 0.0 and i[11] == pytest.approx(0.7, rel=1e-12)  # magnitudes, also for inhibition
    assert i[12] == pytest.approx(0.7 * math.exp(-1 / 5.0), rel=1e-12)


@pytest.mark.parametrize("celltype", [nm.IF_curr_exp(), nm.IF_curr_delta(weight_units="mV")])
@pytest.mark.parametrize("plastic", [False, True])
@pytest.mark.parametrize("receptor", ["excitatory", "inhibitory"])
def test_set_weights_round_trip_and_effect(celltype, plastic, receptor):
    net = nm.Network(dt=1.0)
    net.spike_source("src", [[10.0], [20.0], []])
    net.population("n", 2, celltype)
    stdp = nm.STDP(timing=nm.SpikeNearestPairRule(A_plus=0.0, A_minus=0.0) if plastic else nm.SpikePairRule(),
                   weight=nm.Additive(0.0, 10.0)) if plastic else None
    net.connect("src", "n", nm.FromList([(0, 0), (1, 1), (2, 0)]), weight=1.0, receptor=receptor, plasticity=stdp, label="p")
    net.record("n", "v")
    sim = nm.build(net, backend=NEST)
    new = np.array([[0.25, 9.0], [9.0, 0.5], [2.0, 9.0]])
    sim.set_weights("p", new)
    w = sim.weights("p")
    expect = np.where(net.connectivity("p").dense_mask(), new, np.nan)
    np.testing.assert_allclose(w, expect, rtol=1e-12)
    sim.run(30.0)
    ref = nm.Network(dt=1.0)  # the same network built with those weights from the start
    ref.spike_source("src", [[10.0], [20.0], []])
    ref.population("n", 2, celltype)
    ref.connect("src", "n", nm.FromList([(0, 0, 0.25), (1, 1, 0.5), (2, 0, 2.0)]), receptor=receptor, plasticity=stdp, label="p")
    ref.record("n", "v")
    other = nm.build(ref, backend=NEST)
    other.run(30.0)
    np.testing.assert_allclose(sim.trace("n", "v"), other.trace("n", "v"), rtol=0, atol=1e-12)


def test_segments_equal_one_run():
    """run(30) + run(45) + run(25) gives the same spikes, V and weight samples as run(100)."""
    def make():
        net = nm.Network(dt=1.0, seed=3)
        net.poisson_source("in", 20, 80.0)
        net.population("n", 5, nm.IF_curr_exp())
        stdp = nm.STDP(timing=nm.SpikePairRule(A_plus=0.05, A_minus=0.05), weight=nm.Additive(0.0, 2.0))
        net.connect("in", "n", nm.AllToAll(), weight=0.8, plasticity=stdp, label="p")
        net.record("n", "spikes", "v")
        net.record("p", "weights", every=7)
        return net
    a = nm.build(make(), backend=NEST)
    for ms in (30.0, 45.0, 25.0):
        a.run(ms)
    sa = [x.copy() for x in a.spikes("n")]
    va, (ta, wa) = a.trace("n", "v"), a.weight_history("p")
    b = nm.build(make(), backend=NEST)
    b.run(100.0)
    assert a.time == b.time == 100.0
    for x, y in zip(sa, b.spikes("n")):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(va, b.trace("n", "v"))
    tb, wb = b.weight_history("p")
    np.testing.assert_array_equal(ta, np.arange(0.0, 100.0, 7.0))
    np.testing.assert_array_equal(ta, tb)
    np.testing.assert_array_equal(wa, wb)
    assert va.shape == (100, 5)
    assert sum(len(x) for x in sa) > 0


def test_reset_restarts_state_and_keeps_weights():
    net = nm.Network(dt=1.0, seed=1)
    net.spike_source("src", [[5.0, 15.0, 16.0, 17.0, 40.0]])
    net.population("n", 1, nm.IF_curr_exp(), initial_values={"v": -55.0})
    stdp = nm.STDP(timing=nm.SpikePairRule(A_plus=0.2, A_minus=0.1), weight=nm.Additive(0.0, 10.0))
    net.connect("src", "n", nm.OneToOne(), weight=6.0, plasticity=stdp, label="p")
    net.record("n", "spikes", "v")
    sim = nm.build(net, backend=NEST)
    sim.run(60.0)
    w_after = sim.weights("p")
    sim.reset()
    assert sim.time == 0.0 and sim.trace("n", "v").shape == (0, 1)
    np.testing.assert_array_equal(sim.weights("p"), w_after)
    sim.run(60.0)
    fresh = nm.Network(dt=1.0, seed=1)  # what reset must equal: a fresh build with the learnt weight
    fresh.spike_source("src", [[5.0, 15.0, 16.0, 17.0, 40.0]])
    fresh.population("n", 1, nm.IF_curr_exp(), initial_values={"v": -55.0})
    fresh.connect("src", "n", nm.OneToOne(), weight=float(w_after[0, 0]), plasticity=stdp, label="p")
    fresh.record("n", "spikes", "v")
    other = nm.build(fresh, backend=NEST)
    other.run(60.0)
    np.testing.assert_array_equal(sim.spikes("n")[0], other.spikes("n")[0])
    np.testing.assert_array_equal(sim.trace("n", "v"), other.trace("n", "v"))


def test_second_build_detaches_the_first_but_keeps_its_results():
    net = one_input(nm.IF_curr_delta(weight_units="mV"), 20.0)
    net.record("n", "spikes")
    first = nm.build(net, backend=NEST)
    first.run(20.0)
    spikes, v = first.spikes("n")[0].copy(), first.trace("n", "v").copy()
    second = nm.build(one_input(nm.IF_curr_exp(), 1.0), backend=NEST)
    second.run(5.0)
    np.testing.assert_array_equal(first.spikes("n")[0], spikes)
    np.testing.assert_array_equal(first.trace("n", "v"), v)
    with pytest.raises(SimulationError, match="replaced by a later build"):
        first.run(1.0)


def test_poisson_sources_are_deterministic_per_seed():
    def spikes(seed):
        net = nm.Network(dt=1.0, seed=seed)
        net.poisson_source("p", 10, 50.0)
        net.record("p", "spikes")
        sim = nm.build(net, backend=NEST)
        sim.run(500.0)
        return np.concatenate(sim.spikes("p"))
    a, b, c = spikes(4), spikes(4), spikes(5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert 150 < a.size < 350  # 10 x 50 Hz x 0.5 s = 250


# -- errors: one line, naming the construct, the value and the fix ------------------------------

def _one_line(exc):
    text = str(exc.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_unknown_backend_name():
    with pytest.raises(BackendUnavailableError) as exc:
        nm.build(nm.Network(), backend="pynn:neuron")
    assert "pynn:nest" in _one_line(exc)


def test_missing_extra_names_the_install_command(monkeypatch):
    from neuromorph.backends.pynn import loader, variants
    broken = variants.Variant("nest", "pyNN.no_such_simulator", "pynn", "exact", ("pyNN", "nest"))
    with pytest.raises(BackendUnavailableError) as exc:
        loader.import_simulator(broken)
    assert 'pip install -e ".[pynn]"' in _one_line(exc)


def test_unknown_option():
    with pytest.raises(ValidationError) as exc:
        nm.build(one_input(nm.IF_curr_exp(), 1.0), backend=NEST, codegen="cython")
    assert "codegen" in _one_line(exc)


@pytest.mark.parametrize("change,construct", [
    ("w_min", "STDP:w_min>0"),
    ("t0", "spike at t=0"),
    ("tdt", "spike at t=dt"),
    ("numerics", "numerics='spinnaker'"),
    ("a_plus0", "STDP:A_plus=0"),
])
def test_constructs_nest_cannot_run_are_refused_at_build(change, construct):
    net = nm.Network(dt=1.0)
    net.spike_source("src", [[0.0 if change == "t0" else (1.0 if change == "tdt" else 5.0)]])
    net.population("n", 1, nm.IF_curr_exp())
    stdp = nm.STDP(timing=nm.SpikePairRule(A_plus=0.0 if change == "a_plus0" else 0.01, A_minus=0.01),
                   weight=nm.Additive(w_min=0.1 if change == "w_min" else 0.0, w_max=1.0))
    net.connect("src", "n", nm.OneToOne(), weight=0.5, plasticity=stdp)
    opts = {"numerics": "spinnaker"} if change == "numerics" else {}
    with pytest.raises(UnsupportedError) as exc:
        nm.build(net, backend=NEST, **opts)
    text = _one_line(exc)
    assert construct in text and "pynn:nest" in text and ("use" in text or "move" in text or "shift" in text)


def test_failure_mid_run_keeps_what_was_recorded(monkeypatch):
    """A simulator error in the third chunk of a run (the run is cut in chunks of 10 steps to read
    weights): one-line SimulationError, and what the first two chunks recorded stays readable.
    The failure is injected at PyNN's run() because NEST offers no deterministic way to fail."""
    net = nm.Network(dt=1.0)
    net.population("n", 1, nm.IF_curr_exp(i_offset=1.0))
    net.spike_source("src", [[5.0]])
    net.connect("src", "n", nm.OneToOne(), weight=0.1, label="p")
    net.record("n", "spikes", "v")
    net.record("p", "weights", every=10)
    sim = nm.build(net, backend=NEST)
    real_run, calls = sim.sim.run, []

    def failing_run(ms):
        calls.append(ms)
        if len(calls) == 3:
            raise RuntimeError("NESTError: simulated kernel failure\nsecond line")
        return real_run(ms)
    monkeypatch.setattr(sim.sim, "run", failing_run)
    with pytest.raises(SimulationError) as exc:
        sim.run(50.0)
    text = _one_line(exc)
    assert "t=20" in text and "kept" in text
    assert sim.time == 20.0
    assert sim.trace("n", "v").shape == (20, 1)
    assert sim.spikes("n")[0].size == 0  # the first spike (28 ms, closed form) lies after the failure
    t, w = sim.weight_history("p")
    np.testing.assert_array_equal(t, [0.0, 10.0, 20.0])  # the sample at 20 ms precedes the failed chunk


def test_trace_every_k_steps_is_the_subsampled_trace():
    def make(every):
        net = nm.Network(dt=1.0)
        net.spike_source("src", [[5.0, 12.0, 13.0]])
        net.population("n", 2, nm.IF_curr_exp(i_offset=0.5))
        net.connect("src", "n", nm.AllToAll(), weight=2.0)
        net.record("n", "v", every=every)
        return net
    full = nm.build(make(1), backend=NEST)
    full.run(53.0)
    v1 = full.trace("n", "v")
    sub = nm.build(make(5), backend=NEST)
    sub.run(53.0)
    v5 = sub.trace("n", "v")
    assert v1.shape == (53, 2) and v5.shape == (11, 2)
    np.testing.assert_array_equal(v5, v1[::5])



def test_spike_times_arrive_in_their_step_at_dt_0_1():
    """A description spike time is its step on every backend. pyNN.nest subtracts min_delay from
    each time in float and NEST rounds a result just past a grid point up: written plainly, 10 of
    these 1000 times (e.g. 64.4 ms) and any time a rounding error off the grid
    (9.300000000000002) would arrive one step late there, while torch puts them in their step."""
    dt = 0.1
    ks = np.arange(2, 3000, 3)
    times = [round(k * dt, 10) for k in ks] + [float(np.nextafter(9.3, 10.0))]   # step 93, not in ks
    ks = np.sort(np.append(ks, 93))
    steps = {}
    for backend in ("torch", NEST):
        net = nm.Network(dt=dt, seed=1)
        net.spike_source("s", [sorted(times)])
        net.population("p", 1, nm.IF_curr_exp())
        net.connect("s", "p", nm.AllToAll(), weight=0.01, delay=dt)
        net.record("s", "spikes")
        sim = nm.build(net, backend=backend, **({"numerics": "exact"} if backend == "torch" else {}))
        sim.run(float(ks[-1]) * dt + 1.0)
        steps[backend] = np.rint(np.asarray(sim.spikes("s")[0]) / dt).astype(int)
    assert np.array_equal(steps[NEST], ks)
    assert np.array_equal(steps["torch"], ks)


@pytest.mark.parametrize("cell,var", [(nm.IF_curr_exp(), "isyn_exc"), (nm.IF_cond_exp(), "gsyn_inh")])
def test_initial_synaptic_state_is_refused_not_dropped(cell, var):
    """NEST through PyNN starts every synaptic current/conductance at 0; a description that starts
    elsewhere is refused by name (it used to run from 0 without a word)."""
    net = nm.Network(dt=1.0)
    net.population("p", 2, cell, initial_values={var: 0.5})
    with pytest.raises(UnsupportedError, match=f"initial {var} != 0.*pynn:nest"):
        nm.build(net, backend=NEST)
