"""EIF_cond_exp_isfa_ista (PyNN; NEST ``aeif_cond_exp``, AdEx) and EIF_cond_alpha_isfa_ista
(``aeif_cond_alpha``): the torch ``exact`` lowerings against native PyNN 0.13 on NEST 3.10 and NEST
itself; the descriptions, the capability tables, neuromorph's PyNN lowerings and the PyNN front-end.

NEST integrates aeif_cond_exp with GSL's adaptive rkf45 under the ``yp`` error control
(gsl_error_tol = 1e-6), detects the spike after every accepted sub-step and resets V and w there.
The torch lowering reproduces that per neuron (backends/torch/cells/eif_cond_exp.py), so against
NEST (float64) spike stamps are identical everywhere below, and every single-neuron trace (V, w,
g_ex, g_in; DC drive, inputs on both receptors, refractoriness, dt = 0.1 and 1 ms) and the
network at dt = 0.1 ms are bit-identical; the network at dt = 1 ms sums coincident inputs in
another order than NEST and stays within ``NET_TOL``.

Native PyNN runs use ``spike_precision="on_grid"``; the PyNN scripts are built here from the same
network description with PyNN's own API (not neuromorph's PyNN lowering), an independent reference.
"""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import neuromorph as nm
from neuromorph.errors import SimulationError, UnsupportedError, ValidationError

TOL_V = 1e-9    # mV
TOL_W = 1e-12   # nA
TOL_G = 1e-12   # µS
#: the recurrent network at dt = 1 ms: coincident inputs are summed in another order than NEST's
#: (weights summed, then ×1000, vs. each ×1000 in delivery order), an ulp of g that the adaptive
#: step sizes and the exponential carry into V and w (measured: 4.7e-9 mV, 3.6e-10 nA, 2.6e-14 µS)
NET_TOL = {"v": 1e-7, "w": 1e-8, "gsyn_exc": 1e-12, "gsyn_inh": 1e-12}
VARS = ("v", "w", "gsyn_exc", "gsyn_inh")
DTS = [pytest.param(0.1, id="dt=0.1"), pytest.param(1.0, id="dt=1")]
#: PyNN's defaults except a stronger spike-triggered adaptation and a longer refractory period
CELL = nm.EIF_cond_exp_isfa_ista(b=0.2, tau_refrac=2.0)


from native_nest import assert_same as same_as_native, has_pynn_nest as _has_pynn_nest, native_pynn_nest, needs_nest  # noqa: E402
from native_nest import run_exact as _torch, with_params as _with  # noqa: E402


# -- scenarios ------------------------------------------------------------------------------------
def single_net(scenario: str, dt: float, cls=nm.EIF_cond_exp_isfa_ista) -> nm.Network:
    """One AdEx neuron: ``dc`` (i_offset alone: regular firing that adapts), ``inputs``
    (excitatory and inhibitory source spikes with delays of 1-3 steps on a subthreshold offset),
    ``refractory`` (strong input fires it, more input arrives while it is refractory), ``no_exp``
    (delta_T = 0: no exponential, the spike at v_thresh, no refractory period). ``cls``: the AdEx
    type (exponential or alpha conductances)."""
    def _with(cell, **changes):
        return cls(**{**cell.parameters(), **changes})
    net = nm.Network(dt=dt, seed=3)
    if scenario == "dc":
        net.population("n", 1, _with(CELL, i_offset=1.0))
    elif scenario == "inputs":
        net.population("n", 1, _with(CELL, i_offset=0.3, tau_refrac=0.5), initial_values={"v": -65.0})
        net.spike_source("exc", [[10.0, 40.0, 41.0, 60.0, 61.0, 62.0, 63.0], [25.0, 70.0, 71.0]])
        net.spike_source("inh", [[20.0, 50.0], [62.0, 75.0]])
        net.connect("exc", "n", nm.FromList([(0, 0, 0.02, 1 * dt), (1, 0, 0.04, 3 * dt)]), label="e")
        net.connect("inh", "n", nm.FromList([(0, 0, 0.03, 2 * dt), (1, 0, 0.02, 1 * dt)]), receptor="inhibitory",
                    label="i")
    elif scenario == "no_exp":
        net.population("n", 1, _with(CELL, delta_T=0.0, tau_refrac=0.0, i_offset=0.5))
        net.spike_source("exc", [[30.0, 31.0, 32.0]])
        net.connect("exc", "n", nm.FromList([(0, 0, 0.05, 1 * dt)]), label="e")
    else:  # refractory
        net.population("n", 1, _with(CELL, tau_refrac=5.0))
        net.spike_source("exc", [[10.0, 12.0, 13.0, 40.0, 42.0, 43.0, 44.0]])
        net.spike_source("inh", [[12.0, 41.0]])
        net.connect("exc", "n", nm.FromList([(0, 0, 0.2, 1 * dt)]), label="e")
        net.connect("inh", "n", nm.FromList([(0, 0, 0.05, 2 * dt)]), receptor="inhibitory", label="i")
    net.record("n", "spikes", *VARS)
    return net


def small_network(dt: float) -> nm.Network:
    """16 excitatory + 4 inhibitory AdEx cells, recurrent FixedProbability connections with
    delays of 1-4 steps, driven by 5 spike-source neurons; the inhibitory cells have a DC offset."""
    rng = np.random.RandomState(5)
    net = nm.Network(dt=dt, seed=9)
    steps = [sorted(set(np.round(rng.uniform(2.0, 180.0, 15) / dt).astype(int))) for _ in range(5)]
    net.spike_source("src", [[round(k * dt, 9) for k in row if k >= 2] for row in steps])
    net.population("E", 16, _with(CELL, i_offset=0.3), initial_values={"v": list(rng.uniform(-72.0, -60.0, 16))})
    net.population("I", 4, _with(CELL, a=0.0, b=0.0, tau_refrac=1.0, i_offset=0.5))
    net.connect("src", "E", nm.FixedProbability(0.5, seed=1), weight=0.03, delay=dt, label="src-E")
    net.connect("E", "E", nm.FixedProbability(0.3, seed=2), weight=0.01, delay=2 * dt, label="E-E")
    net.connect("E", "I", nm.FixedProbability(0.5, seed=3), weight=0.02, delay=3 * dt, label="E-I")
    net.connect("I", "E", nm.FixedProbability(0.5, seed=4), weight=0.04, delay=4 * dt, receptor="inhibitory",
                label="I-E")
    for label in ("E", "I"):
        net.record(label, "spikes", *VARS)
    return net


def assert_same(ours, theirs, label, size, dt, variables=VARS, tol=None):
    """Identical spike stamps; traces within the tolerances. Returns {var: max |Δ|}."""
    return same_as_native(ours, theirs, label, size, dt, variables,
                          tol or {"v": TOL_V, "w": TOL_W, "gsyn_exc": TOL_G, "gsyn_inh": TOL_G})


@needs_nest
@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("scenario", ["dc", "inputs", "refractory", "no_exp"])
def test_single_neuron_equals_native_pynn_nest(scenario, dt):
    """Spike stamps identical, V, w, g_ex, g_in bit-identical to NEST's aeif_cond_exp."""
    net = single_net(scenario, dt)
    ours = _torch(net, 200.0)
    theirs = native_pynn_nest(net, 200.0)
    assert len(theirs.spikes("n")[0]) > 1, "the scenario should make the neuron fire"
    worst = assert_same(ours, theirs, "n", 1, dt)
    assert all(d == 0.0 for d in worst.values()), worst   # bit-identical (float64)


@needs_nest
@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("scenario", ["dc", "inputs", "refractory", "no_exp"])
def test_alpha_single_neuron_equals_native_pynn_nest(scenario, dt):
    """EIF_cond_alpha_isfa_ista (NEST aeif_cond_alpha): spike stamps identical, V, w, g_ex, g_in
    bit-identical."""
    net = single_net(scenario, dt, cls=nm.EIF_cond_alpha_isfa_ista)
    ours = _torch(net, 200.0)
    theirs = native_pynn_nest(net, 200.0)
    assert len(theirs.spikes("n")[0]) > 1
    worst = assert_same(ours, theirs, "n", 1, dt)
    assert all(d == 0.0 for d in worst.values()), worst


def test_alpha_conductance_peaks_at_the_weight_after_tau_syn():
    """One input of w µS onto an EIF_cond_alpha_isfa_ista: g(t) = w·(t/τ)·e^(1−t/τ), peak w at τ
    (RKF45's tolerance bounds the error)."""
    dt, tau, w = 0.1, 2.0, 0.01
    net = nm.Network(dt=dt)
    net.spike_source("s", [[5.0]])
    net.population("n", 1, nm.EIF_cond_alpha_isfa_ista(tau_syn_E=tau))
    net.connect("s", "n", nm.AllToAll(), weight=w, delay=1.0)
    net.record("n", "gsyn_exc")
    g = np.asarray(_torch(net, 30.0).trace("n", "gsyn_exc"))[:, 0]
    t = np.arange(len(g)) * dt - 6.0   # the input reaches g at sample 5 + 1 ms
    exact = np.where(t >= 0, w * (t / tau) * np.exp(1 - t / tau), 0.0)
    assert np.max(np.abs(g - exact)) < 1e-7 and abs(g.max() - w) < 1e-6 and abs(t[g.argmax()] - tau) <= dt


@needs_nest
def test_adaptation_interspike_intervals_grow_and_w_is_nests():
    """Under constant drive the AdEx cell adapts: each spike adds b to w, so successive interspike
    intervals grow; w recorded (nA) is NEST's, and w jumps by b at each spike."""
    dt = 0.1
    net = single_net("dc", dt)
    ours = _torch(net, 300.0)
    theirs = native_pynn_nest(net, 300.0)
    spikes = np.asarray(ours.spikes("n")[0])
    isi = np.diff(spikes)
    assert len(isi) >= 4 and np.all(np.diff(isi) > 0), isi
    np.testing.assert_array_equal(ours.trace("n", "w"), theirs.trace("n", "w"))
    w = np.asarray(ours.trace("n", "w"))[:, 0]
    # row k is the state at k·dt; the spike stamped at t = k·dt was reset within step k-1 → row k
    for t in spikes:
        k = int(round(t / dt))
        assert w[k] - w[k - 1] == pytest.approx(CELL.b, abs=0.01 * CELL.b)   # b plus a little decay/drive
    assert w[-1] > 0


@needs_nest
@pytest.mark.parametrize("dt", DTS)
def test_refractory_holds_v_at_reset(dt):
    """After a spike V is held at v_reset for tau_refrac (NEST: ceil(t_ref/h) whole steps after the
    spike step), in NEST and here."""
    net = single_net("refractory", dt)
    ours = _torch(net, 100.0)
    theirs = native_pynn_nest(net, 100.0)
    k = int(round(theirs.spikes("n")[0][0] / dt))
    n_ref = int(np.ceil(5.0 / dt - 1e-9))
    for run in (ours, theirs):
        v = np.asarray(run.trace("n", "v"))[:, 0]
        assert np.all(v[k:k + n_ref + 1] == CELL.v_reset)
    assert np.asarray(ours.trace("n", "v"))[k + n_ref + 1, 0] == np.asarray(theirs.trace("n", "v"))[k + n_ref + 1, 0]


@needs_nest
@pytest.mark.parametrize("dt", DTS)
def test_small_network_equals_native_pynn_nest(dt):
    net = small_network(dt)
    ours = _torch(net, 200.0)
    theirs = native_pynn_nest(net, 200.0)
    assert sum(len(s) for s in theirs.spikes("E")) > 10 and sum(len(s) for s in theirs.spikes("I")) > 0
    assert_same(ours, theirs, "E", 16, dt, tol=NET_TOL)
    assert_same(ours, theirs, "I", 4, dt, tol=NET_TOL)


@needs_nest
def test_nest_directly():
    """NEST's aeif_cond_exp driven through nest itself (no PyNN): DC plus a spike_generator on both
    receptors, parameters in NEST's units; the torch lowering of the equivalent description gives
    the same spike times and the same V and w."""
    import nest
    warnings.simplefilter("ignore")
    dt, ms = 0.1, 150.0
    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.resolution = dt
    cell = nm.EIF_cond_exp_isfa_ista(cm=0.2, tau_m=10.0, a=2.0, b=0.1, delta_T=3.0, tau_w=80.0, v_thresh=-52.0,
                                     v_spike=-30.0, v_reset=-60.0, v_rest=-68.0, tau_refrac=1.0, i_offset=0.5,
                                     tau_syn_E=3.0, tau_syn_I=6.0, e_rev_I=-85.0)
    n = nest.Create("aeif_cond_exp", params={
        "C_m": 200.0, "g_L": cell.cm / cell.tau_m * 1000.0, "a": 2.0, "b": 100.0, "Delta_T": 3.0, "tau_w": 80.0,
        "V_th": -52.0, "V_peak": -30.0, "V_reset": -60.0, "E_L": -68.0, "t_ref": 1.0, "I_e": 500.0,
        "tau_syn_ex": 3.0, "tau_syn_in": 6.0, "E_in": -85.0, "E_ex": 0.0, "V_m": -68.0})
    gen = nest.Create("spike_generator", params={"spike_times": [20.0, 21.0, 60.0]})
    nest.Connect(gen, n, syn_spec={"weight": 30.0, "delay": 0.2})     # nS, excitatory
    nest.Connect(gen, n, syn_spec={"weight": -20.0, "delay": 0.5})    # nS, inhibitory (negative in NEST)
    mm = nest.Create("multimeter", params={"record_from": ["V_m", "w"], "interval": dt})
    sr = nest.Create("spike_recorder")
    nest.Connect(mm, n)
    nest.Connect(n, sr)
    nest.Simulate(ms + dt)
    ev = mm.get("events")
    v_nest, w_nest = np.asarray(ev["V_m"]), np.asarray(ev["w"]) * 0.001   # rows at dt, 2dt, ...
    t_nest = np.asarray(sr.get("events")["times"])
    assert len(t_nest) > 2
    # the same in the description: a source spike at t reaches the cell after its delay, as a
    # spike_generator's does
    net = nm.Network(dt=dt)
    net.population("n", 1, cell)
    net.spike_source("s", [[20.0, 21.0, 60.0]])
    net.connect("s", "n", nm.AllToAll(), weight=0.03, delay=0.2)
    net.connect("s", "n", nm.AllToAll(), weight=0.02, delay=0.5, receptor="inhibitory")
    net.record("n", "spikes", "v", "w")
    ours = _torch(net, ms + dt)
    np.testing.assert_array_equal(np.round(np.asarray(ours.spikes("n")[0]) / dt), np.round(t_nest / dt))
    v = np.asarray(ours.trace("n", "v"))[1:, 0]
    w = np.asarray(ours.trace("n", "w"))[1:, 0]
    k = min(len(v), len(v_nest))
    assert np.max(np.abs(v[:k] - v_nest[:k])) <= TOL_V and np.max(np.abs(w[:k] - w_nest[:k])) <= TOL_W


# -- neuromorph's PyNN lowerings --------------------------------------------------------------------------
@needs_nest
@pytest.mark.parametrize("cls", [nm.EIF_cond_exp_isfa_ista, nm.EIF_cond_alpha_isfa_ista])
def test_pynn_nest_backend_lowering(cls):
    """neuromorph's own PyNN lowering (backend='pynn:nest') of a network with both receptors: the
    same as the torch exact run (conductances positive on both receptors, w in nA)."""
    dt = 0.1
    net = single_net("inputs", dt, cls)
    theirs = nm.build(net, backend="pynn:nest")
    theirs.run(100.0)
    assert len(theirs.spikes("n")[0]) > 0 and np.asarray(theirs.trace("n", "gsyn_inh")).max() > 0
    assert_same(_torch(net, 100.0), theirs, "n", 1, dt)


@pytest.mark.parametrize("cls", [nm.EIF_cond_exp_isfa_ista, nm.EIF_cond_alpha_isfa_ista])
def test_pynn_brian2_and_spinnaker_lowerings(cls):
    """Brian2 runs PyNN's own AdEx types (its equations, Brian2's integrator: close to NEST, not
    equal; the spike at v_spike); sPyNNaker 7.4.1 has no AdEx model and refuses with the reason."""
    from neuromorph.backends.pynn.capabilities import TABLES
    name = cls.__name__
    assert TABLES["brian2"][name].supported
    assert not TABLES["spinnaker"][name].supported and "sPyNNaker" in TABLES["spinnaker"][name].how
    net = single_net("dc", 0.1, cls)
    with pytest.raises(UnsupportedError, match=name):
        nm.build(net, backend="pynn:spinnaker")
    try:
        import pyNN.brian2  # noqa: F401
    except Exception:
        pytest.skip("pyNN.brian2 is not importable here")
    b2 = nm.build(net, backend="pynn:brian2")
    b2.run(100.0)
    ours = _torch(net, 100.0)
    a, b = np.asarray(ours.spikes("n")[0]), np.asarray(b2.spikes("n")[0])
    assert len(a) == len(b) > 1 and np.max(np.abs(a - b)) < 1.0   # a different integrator: close, not equal
    assert np.asarray(b2.trace("n", "w")).max() > 0


@needs_nest
def test_pynn_backends_refuse_an_initial_w():
    """PyNN 0.13 hands an initial w to NEST unscaled (nA read as pA): refused, not run wrongly."""
    net = nm.Network(dt=0.1)
    net.population("n", 1, nm.EIF_cond_exp_isfa_ista(), initial_values={"w": 0.05})
    with pytest.raises(UnsupportedError, match="initial w"):
        nm.build(net, backend="pynn:nest").run(1.0)


# -- NEST-free checks --------------------------------------------------------------------------------------
def test_relaxation_without_exponential_to_rest_plus_R_i():
    """delta_T = 0, a = b = 0: a leaky integrator (spike at v_thresh) that relaxes to
    v_rest + (tau_m/cm)·i_offset below threshold; the integrator's tolerance (1e-6) bounds the error."""
    net = nm.Network(dt=0.5)
    cell = nm.EIF_cond_exp_isfa_ista(delta_T=0.0, a=0.0, b=0.0, cm=0.25, tau_m=10.0, i_offset=0.2, v_thresh=-50.0)
    net.population("n", 1, cell, initial_values={"v": -70.6})
    net.record("n", "spikes", "v", "w")
    sim = _torch(net, 50.0)
    v = np.asarray(sim.trace("n", "v"))[:, 0]
    t = np.arange(len(v)) * 0.5
    target = cell.v_rest + cell.tau_m / cell.cm * cell.i_offset   # −62.6 mV < v_thresh
    exact = target + (-70.6 - target) * np.exp(-t / cell.tau_m)
    assert np.max(np.abs(v - exact)) < 1e-5 and len(sim.spikes("n")[0]) == 0
    assert np.all(np.asarray(sim.trace("n", "w")) == 0.0)


def test_split_runs_batches_and_float32():
    """run(50) + run(50) equals run(100) bit for bit (the integration step and the refractory
    counter are state); a batch of 2 equals the single run; float32 gives the same spikes."""
    torch = pytest.importorskip("torch")
    net = single_net("dc", 0.1)
    whole = _torch(net, 100.0)
    split = nm.build(net, backend="torch", numerics="exact")
    split.run(50.0)
    split.run(50.0)
    for var in VARS:
        np.testing.assert_array_equal(whole.trace("n", var), split.trace("n", var))
    batched = _torch(net, 100.0, batch=2)
    for trial in range(2):
        np.testing.assert_array_equal(np.asarray(batched.trace("n", "v"))[trial], whole.trace("n", "v"))
    f32 = _torch(net, 100.0, dtype=torch.float32)
    np.testing.assert_allclose(np.asarray(f32.spikes("n")[0]), np.asarray(whole.spikes("n")[0]), atol=0.11)


def test_two_spikes_in_one_step_are_refused():
    """tau_refrac = 0 and a strong drive: NEST's aeif_cond_exp fires twice within one 1 ms step
    (checked below where NEST is importable); the engine has one spike per neuron and step, so the
    torch lowering refuses instead of dropping one."""
    net = nm.Network(dt=1.0)
    net.population("n", 1, nm.EIF_cond_exp_isfa_ista(tau_refrac=0.0, i_offset=20.0, b=0.0))
    net.record("n", "spikes")
    with pytest.raises(SimulationError, match="twice within one step"):
        _torch(net, 10.0)
    if _has_pynn_nest():
        times = native_pynn_nest(net, 10.0).spikes("n")[0]
        assert len(times) > len(set(np.round(times, 6)))


def test_numerical_instability_is_refused():
    """NEST stops with NumericalInstability when |w| exceeds 1e6 pA; so does the torch lowering."""
    net = nm.Network(dt=0.1)
    net.population("n", 1, nm.EIF_cond_exp_isfa_ista(b=2000.0, i_offset=5.0))
    net.record("n", "spikes")
    with pytest.raises(SimulationError, match="instability"):
        _torch(net, 50.0)


# -- description ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [nm.EIF_cond_exp_isfa_ista, nm.EIF_cond_alpha_isfa_ista])
def test_defaults_are_pynns(cls):
    c = cls()
    assert c.state_variables == ("v", "w", "gsyn_exc", "gsyn_inh") and c.weight_units == "uS"
    try:
        from pyNN.standardmodels import cells
    except Exception:
        pytest.skip("PyNN is not importable here")
    assert c.parameters() == getattr(cells, cls.__name__).default_parameters


def test_json_round_trip_and_initial_values():
    net = nm.Network(dt=0.5, seed=7)
    net.spike_source("s", [[1.0, 2.5]])
    net.population("c", 2, nm.EIF_cond_exp_isfa_ista(a=2.0, tau_w=100.0, i_offset=0.05),
                   initial_values={"v": [-64.0, -63.5], "w": 0.01})
    net.connect("s", "c", nm.AllToAll(), weight=0.03, delay=1.0)
    net.connect("s", "c", nm.AllToAll(), weight=0.02, delay=0.5, receptor="inhibitory")
    net.record("c", "spikes", *VARS)
    s1 = net.to_json()
    net2 = nm.Network.from_json(s1)
    assert net2.to_json() == s1 and net2.populations["c"].celltype == net.populations["c"].celltype
    assert "EIF_cond_exp_isfa_ista" in {p["celltype"]["type"] for p in json.loads(s1)["populations"]}
    sim1, sim2 = _torch(net, 10.0), _torch(net2, 10.0)
    np.testing.assert_array_equal(sim1.trace("c", "v"), sim2.trace("c", "v"))
    assert np.asarray(sim1.trace("c", "w"))[0].tolist() == [0.01, 0.01]


@pytest.mark.parametrize("make, name", [
    (lambda: nm.EIF_cond_exp_isfa_ista(tau_w=0.0), "tau_w"),
    (lambda: nm.EIF_cond_exp_isfa_ista(delta_T=-1.0), "delta_T"),
    (lambda: nm.EIF_cond_exp_isfa_ista(cm=-1.0), "cm"),
    (lambda: nm.EIF_cond_exp_isfa_ista(tau_refrac=-0.1), "tau_refrac"),
    (lambda: nm.EIF_cond_exp_isfa_ista(a=float("nan")), "a"),
    (lambda: nm.EIF_cond_exp_isfa_ista(b="0.1"), "b"),
    (lambda: nm.EIF_cond_exp_isfa_ista(v_spike=-60.0), "v_spike"),
    (lambda: nm.EIF_cond_exp_isfa_ista(v_reset=-30.0), "v_reset"),
    (lambda: nm.EIF_cond_exp_isfa_ista(delta_T=0.01, v_spike=100.0), "delta_T"),
])
def test_validation(make, name):
    with pytest.raises(ValidationError) as err:
        make()
    msg = str(err.value)
    assert "\n" not in msg and f"{name}=" in msg and "EIF_cond_exp_isfa_ista" in msg


@needs_nest
def test_validation_matches_nests_refusals():
    """The cross-parameter checks are NEST's: it refuses the same combinations."""
    import nest
    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    n = nest.Create("aeif_cond_exp")
    for bad in ({"V_peak": -60.0, "V_th": -50.4}, {"V_reset": -30.0, "V_peak": -40.0},
                {"Delta_T": 0.01, "V_peak": 100.0, "V_th": -50.4}, {"Delta_T": -1.0}, {"tau_w": 0.0}):
        with pytest.raises(Exception):
            n.set(bad)


@pytest.mark.parametrize("cls", [nm.EIF_cond_exp_isfa_ista, nm.EIF_cond_alpha_isfa_ista])
def test_capabilities(cls):
    from neuromorph.backends.pynn.capabilities import TABLES
    from neuromorph.backends.torch import capabilities
    name = cls.__name__
    exact = capabilities(numerics="exact")
    assert exact[name].status == "native" and exact["record:w"].supported
    for profile in ("spinnaker", "spinnaker-float"):
        spin = capabilities(numerics=profile)
        assert not spin[name].supported and "numerics='exact'" in spin[name].how
    net = nm.Network(dt=1.0)
    net.population("c", 1, cls())
    with pytest.raises(UnsupportedError, match=name):
        nm.build(net, backend="torch", numerics="spinnaker")
    for table in TABLES.values():
        assert name in table and "record:w" in table


# -- PyNN front-end -----------------------------------------------------------------------------------------
def adex_script(sim, name="EIF_cond_exp_isfa_ista"):
    """A PyNN script: AdEx cells with different offsets driven by excitatory and inhibitory spike
    sources (positive µS weights on both receptors), run in two segments."""
    stim = sim.Population(2, sim.SpikeSourceArray(spike_times=[[2.0, 10.0, 11.0, 40.0, 41.0, 42.0], [20.0, 45.0]]),
                          label="stim")
    cells = sim.Population(3, getattr(sim, name)(i_offset=0.6, b=0.1, tau_refrac=1.0), label="cells")
    cells.record(["spikes", "v", "w", "gsyn_exc", "gsyn_inh"])
    cells.initialize(v=np.array([-70.6, -65.0, -60.0]))
    sim.Projection(stim, cells, sim.FromListConnector([(0, 0, 0.05, 1.0), (0, 1, 0.08, 2.0), (0, 2, 0.03, 1.0)]),
                   sim.StaticSynapse())
    sim.Projection(stim, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.04, delay=1.0),
                   receptor_type="inhibitory")
    sim.run(30.0)
    sim.run(30.0)
    return cells.get_data()


@pytest.mark.parametrize("name", ["EIF_cond_exp_isfa_ista", "EIF_cond_alpha_isfa_ista"])
def test_frontend_script_on_torch_equals_pynn_nest(name):
    fe = pytest.importorskip("neuromorph.pynn")
    pytest.importorskip("neo", reason="Neo results need the [pynn] extra")
    # min_delay given: PyNN 0.13 on NEST with min_delay="auto" delivers the sources' spikes 0.9 ms
    # later here (checked), which is not what this test is about
    fe.setup(timestep=0.1, min_delay=0.1, backend="torch", numerics="exact")
    try:
        ours = adex_script(fe, name)
    finally:
        fe.end()
    seg = ours.segments[-1]
    spikes = [np.asarray(st.rescale("ms").magnitude) for st in seg.spiketrains]
    assert sum(len(s) for s in spikes) > 0
    assert str(seg.filter(name="w")[0].units.dimensionality) == "nA"
    with pytest.raises(ValidationError, match="conductance weights are >= 0"):
        fe.setup(timestep=1.0, backend="torch")
        src = fe.Population(1, fe.SpikeSourceArray(spike_times=[2.0]))
        fe.Projection(src, fe.Population(1, fe.EIF_cond_exp_isfa_ista()), fe.AllToAllConnector(),
                      fe.StaticSynapse(weight=-0.01), receptor_type="inhibitory")
    fe.end()
    fe.setup(timestep=1.0, backend="pynn:nest")   # refused before anything is built: NEST is not needed
    with pytest.raises(UnsupportedError, match="w=") as err:
        fe.Population(1, fe.EIF_cond_exp_isfa_ista()).initialize(w=0.05)
    assert "unscaled" in str(err.value)
    fe.end()
    if not _has_pynn_nest():
        pytest.skip("pyNN.nest (PyNN + NEST) is not importable here")
    import pyNN.nest as real
    warnings.simplefilter("ignore")
    real.setup(timestep=0.1, min_delay=0.1, spike_precision="on_grid")
    theirs = adex_script(real, name)
    real.end()
    tseg = theirs.segments[-1]
    for x, y in zip(spikes, tseg.spiketrains):   # the same steps (the ms values may differ in the last bit)
        np.testing.assert_array_equal(np.round(x / 0.1), np.round(np.asarray(y.rescale("ms").magnitude) / 0.1))
    for var, tol in (("v", TOL_V), ("w", TOL_W), ("gsyn_exc", TOL_G), ("gsyn_inh", TOL_G)):
        a = np.asarray(seg.filter(name=var)[0].magnitude)
        b = np.asarray(tseg.filter(name=var)[0].magnitude)
        assert b.shape[0] == a.shape[0] + 1
        assert np.max(np.abs(a - b[:a.shape[0]])) <= tol, var


# -- IF_cond_alpha (NEST iaf_cond_alpha): the same GSL integration as IF_cond_exp, alpha conductances ------
ALPHA_CELL = nm.IF_cond_alpha(cm=0.5, tau_m=15.0, tau_syn_E=2.0, tau_syn_I=4.0, tau_refrac=3.0, e_rev_I=-75.0,
                              v_rest=-62.0, v_reset=-68.0, v_thresh=-52.0)


def alpha_net(scenario: str, dt: float) -> nm.Network:
    """One IF_cond_alpha neuron: ``offset`` (DC only), ``inputs`` (both receptors, delays of 1-3
    steps), ``strong`` (15× the weights: the RKF45 control rejects and shrinks steps)."""
    net = nm.Network(dt=dt, seed=3)
    if scenario == "offset":
        net.population("n", 1, _with(ALPHA_CELL, i_offset=0.5), initial_values={"v": -60.0})
    else:
        w = 0.02 if scenario == "inputs" else 0.3
        net.population("n", 1, _with(ALPHA_CELL, i_offset=0.2))
        net.spike_source("exc", [[10.0, 40.0, 41.0, 60.0, 61.0, 62.0], [25.0, 70.0]])
        net.spike_source("inh", [[20.0, 50.0], [75.0]])
        net.connect("exc", "n", nm.FromList([(0, 0, w, 1 * dt), (1, 0, 2.5 * w, 3 * dt)]), label="e")
        net.connect("inh", "n", nm.FromList([(0, 0, 1.5 * w, 2 * dt), (1, 0, 3 * w, 1 * dt)]), receptor="inhibitory",
                    label="i")
    net.record("n", "spikes", "v", "gsyn_exc", "gsyn_inh")
    return net


@needs_nest
@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("scenario", ["offset", "inputs", "strong"])
def test_if_cond_alpha_equals_native_pynn_nest(scenario, dt):
    """Spike stamps identical, V, g_ex, g_in bit-identical to NEST's iaf_cond_alpha."""
    net = alpha_net(scenario, dt)
    ours = _torch(net, 100.0)
    theirs = native_pynn_nest(net, 100.0)
    assert len(theirs.spikes("n")[0]) > 1
    worst = assert_same(ours, theirs, "n", 1, dt, variables=("v", "gsyn_exc", "gsyn_inh"))
    assert all(d == 0.0 for d in worst.values()), worst


@needs_nest
def test_if_cond_alpha_pynn_lowerings():
    """neuromorph's pynn:nest lowering equals torch exact; Brian2 (forward Euler) is close;
    sPyNNaker refuses; the description's defaults are PyNN's."""
    from pyNN.standardmodels.cells import IF_cond_alpha
    from neuromorph.backends.pynn.capabilities import TABLES
    assert nm.IF_cond_alpha().parameters() == IF_cond_alpha.default_parameters
    net = alpha_net("inputs", 0.1)
    ours = _torch(net, 100.0)
    nest = nm.build(net, backend="pynn:nest")
    nest.run(100.0)
    assert_same(ours, nest, "n", 1, 0.1, variables=("v", "gsyn_exc", "gsyn_inh"))
    assert not TABLES["spinnaker"]["IF_cond_alpha"].supported
    with pytest.raises(UnsupportedError, match="IF_cond_alpha"):
        nm.build(net, backend="pynn:spinnaker")
    with pytest.raises(UnsupportedError, match="numerics='exact'"):
        nm.build(net, backend="torch", numerics="spinnaker")
    try:
        import pyNN.brian2  # noqa: F401
    except Exception:
        return
    b2 = nm.build(net, backend="pynn:brian2")
    b2.run(100.0)
    a, b = np.asarray(ours.spikes("n")[0]), np.asarray(b2.spikes("n")[0])
    assert len(a) == len(b) > 0 and np.max(np.abs(a - b)) < 1.0


@needs_nest
def test_if_cond_alpha_frontend_equals_pynn_nest():
    """A PyNN script with IF_cond_alpha (PyNN's defaults: tau_syn_E 0.3 ms, tau_syn_I 0.5 ms) on
    backend='torch' gives native pyNN.nest's spikes and V."""
    fe = pytest.importorskip("neuromorph.pynn")
    pytest.importorskip("neo", reason="Neo results need the [pynn] extra")

    def script(sim):
        stim = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0, 6.0, 20.0, 21.0, 22.0]), label="stim")
        cells = sim.Population(2, sim.IF_cond_alpha(i_offset=0.5, tau_refrac=2.0), label="cells")
        cells.record(["spikes", "v", "gsyn_exc"])
        sim.Projection(stim, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.2, delay=1.0))
        sim.Projection(stim, cells, sim.FromListConnector([(0, 1, 0.1, 2.0)]), sim.StaticSynapse(),
                       receptor_type="inhibitory")
        sim.run(60.0)
        return cells.get_data().segments[-1]

    fe.setup(timestep=0.1, min_delay=0.1, backend="torch", numerics="exact")
    try:
        ours = script(fe)
    finally:
        fe.end()
    import pyNN.nest as real
    warnings.simplefilter("ignore")
    real.setup(timestep=0.1, min_delay=0.1, spike_precision="on_grid")
    theirs = script(real)
    real.end()
    assert sum(len(s) for s in theirs.spiketrains) > 0
    for x, y in zip(ours.spiketrains, theirs.spiketrains):
        np.testing.assert_array_equal(np.round(np.asarray(x.magnitude) / 0.1), np.round(np.asarray(y.magnitude) / 0.1))
    for var in ("v", "gsyn_exc"):
        a = np.asarray(ours.filter(name=var)[0].magnitude)
        b = np.asarray(theirs.filter(name=var)[0].magnitude)
        assert np.max(np.abs(a - b[:a.shape[0]])) <= (TOL_V if var == "v" else TOL_G), var
