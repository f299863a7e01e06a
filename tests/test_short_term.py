"""Tsodyks–Markram short-term plasticity (nm.TsodyksMarkram, PyNN's TsodyksMarkramSynapse).

The torch lowering (backends/torch/plasticity/short_term.py) follows NEST 3.10's
``tsodyks_synapse``, which PyNN 0.13 maps TsodyksMarkramSynapse to (tau_psc = the post cell's
tau_syn of the receptor, weights ×1000). Checked here: torch ``exact`` against PyNN + NEST (V to
1e-9 mV, identical spike steps) for a depression-dominated and a facilitation-dominated synapse,
excitatory and inhibitory, driven by a regular train and then bursts; a closed form (the steady
state of u and x under a regular train, derived from the model's ODEs); trials of a batch against
single runs; refusals; JSON; and a PyNN front-end script against real pyNN.nest.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import neuromorph as nm
from neuromorph.errors import UnsupportedError, ValidationError


from native_nest import has_pynn_nest as _has_pynn_nest, needs_nest  # noqa: E402

DEPRESSING = nm.TsodyksMarkram(U=0.5, tau_rec=300.0, tau_facil=0.0)
FACILITATING = nm.TsodyksMarkram(U=0.05, tau_rec=50.0, tau_facil=500.0)
RULES = [pytest.param(DEPRESSING, id="depressing"), pytest.param(FACILITATING, id="facilitating")]
DT = 0.1
REGULAR = [5.0 + 20.0 * i for i in range(10)]
BURSTS = [260.0 + 3.0 * i for i in range(8)] + [300.0, 301.0, 302.0]


def _net(rule, receptor="excitatory", trains=None, weight=(12.0, 6.0)):
    net = nm.Network(dt=DT, seed=1)
    net.spike_source("s", trains or [REGULAR + BURSTS, [10.0, 50.0, 51.0, 52.0, 120.0]])
    net.population("n", 2, nm.IF_curr_exp(tau_syn_E=3.0, tau_syn_I=7.0, v_thresh=-60.0, tau_refrac=2.0))
    net.connect("s", "n", nm.OneToOne(), weight=list(weight), delay=1.0, receptor=receptor, plasticity=rule, label="tm")
    net.record("n", "v", "spikes", "isyn_exc" if receptor == "excitatory" else "isyn_inh")
    return net


def _run(net, backend, ms=350.0, **kw):
    sim = nm.build(net, backend=backend, **({"numerics": "exact"} if backend == "torch" else {}), **kw)
    sim.run(ms)
    return sim


def _steps(spikes):
    return [list(np.rint(np.asarray(s) / DT).astype(int)) for s in spikes]


@needs_nest
@pytest.mark.parametrize("receptor", ["excitatory", "inhibitory"])
@pytest.mark.parametrize("rule", RULES)
def test_torch_exact_matches_nest(rule, receptor):
    net = _net(rule, receptor)
    a, b = _run(net, "torch"), _run(net, "pynn:nest")
    va, vb = np.asarray(a.trace("n", "v")), np.asarray(b.trace("n", "v"))
    assert va.shape == vb.shape == (3500, 2)
    np.testing.assert_allclose(va, vb, rtol=0, atol=1e-9)
    assert _steps(a.spikes("n")) == _steps(b.spikes("n"))
    var = "isyn_exc" if receptor == "excitatory" else "isyn_inh"
    np.testing.assert_allclose(a.trace("n", var), b.trace("n", var), rtol=0, atol=1e-12)
    if receptor == "excitatory":
        assert sum(len(s) for s in a.spikes("n")) > 0
    # the synapse really is dynamic: a static one gives other traces
    static = _run(_net(None, receptor), "torch")
    assert np.abs(np.asarray(static.trace("n", "v")) - va).max() > 0.5


def _jumps(sim, var, tau_syn, arrivals):
    """What each arriving spike adds to the synaptic current (the trace after the arrival step
    minus the decayed value before it)."""
    i = np.asarray(sim.trace("n", var))[:, 0]
    ks = [int(round(t / DT)) for t in arrivals]
    return np.array([i[k] - i[k - 1] * math.exp(-DT / tau_syn) for k in ks])


def test_closed_form_steady_state_regular_train():
    """Regular train, period T: the steady state just after a spike is
    u+ = U / (1 − (1−U)·e^(−T/τf)), and x just before it x− = (1−a) / (1 − a(1−u+) − (Pxy − 1 + a)·u+/(1−b))
    with a = e^(−T/τrec), b = e^(−T/τpsc), Pxy = ((a−1)τrec − (b−1)τpsc)/(τpsc − τrec) (the model's
    ODEs solved over one period). The transmitted weight converges to w·u+·x−."""
    U, tau_rec, tau_f, tau_psc, T, w = 0.2, 120.0, 60.0, 3.0, 10.0, 2.0
    times = [2.0 + T * i for i in range(120)]
    net = nm.Network(dt=DT)
    net.spike_source("s", [times])
    net.population("n", 1, nm.IF_curr_exp(tau_syn_E=tau_psc, v_thresh=1e6))
    net.connect("s", "n", nm.OneToOne(), weight=w, delay=1.0,
                plasticity=nm.TsodyksMarkram(U=U, tau_rec=tau_rec, tau_facil=tau_f))
    net.record("n", "isyn_exc")
    sim = _run(net, "torch", ms=times[-1] + 5.0)
    jumps = _jumps(sim, "isyn_exc", tau_psc, [t + 1.0 for t in times])
    a, b = math.exp(-T / tau_rec), math.exp(-T / tau_psc)
    pxy = ((a - 1) * tau_rec - (b - 1) * tau_psc) / (tau_psc - tau_rec)
    u_ss = U / (1 - (1 - U) * math.exp(-T / tau_f))
    x_ss = (1 - a) / (1 - a * (1 - u_ss) - (pxy - 1 + a) * u_ss / (1 - b))
    assert jumps[0] == pytest.approx(w * U, abs=1e-12)        # first spike: u = U, x = 1
    assert jumps[-1] == pytest.approx(w * u_ss * x_ss, rel=1e-9)
    assert jumps[1] > jumps[0] and jumps[-1] < jumps[1]        # facilitates first, then depresses


def test_no_facilitation_uses_U_at_every_spike():
    """tau_facil = 0: u = U at every spike, so the first jump is w·U; with τpsc ≪ τrec the classic
    x recursion (τpsc → 0) x ← 1 − (1 − x(1−U))·e^(−T/τrec) holds to O(τpsc/τrec) (resources pass
    through y for about τpsc before they start to recover)."""
    U, tau_rec, T = 0.4, 200.0, 40.0
    times = [2.0 + T * i for i in range(6)]
    net = nm.Network(dt=DT)
    net.spike_source("s", [times])
    net.population("n", 1, nm.IF_curr_exp(tau_syn_E=0.1, v_thresh=1e6))
    net.connect("s", "n", nm.OneToOne(), weight=1.0, delay=1.0, plasticity=nm.TsodyksMarkram(U=U, tau_rec=tau_rec))
    net.record("n", "isyn_exc")
    jumps = _jumps(_run(net, "torch", ms=250.0), "isyn_exc", 0.1, [t + 1.0 for t in times])
    x, want = 1.0, []
    for _ in times:
        want.append(U * x)
        x = 1 - (1 - x * (1 - U)) * math.exp(-T / tau_rec)
    assert jumps[0] == pytest.approx(U, abs=1e-12)
    np.testing.assert_allclose(jumps, want, rtol=2 * 0.1 / tau_rec)
    assert np.abs(jumps / want - 1).max() > 1e-6   # and the finite τpsc is not ignored


def test_batch_trials_equal_single_runs():
    trains = [[REGULAR + BURSTS, [10.0, 50.0, 51.0, 52.0, 120.0]],
              [[3.0, 4.0, 5.0, 6.0, 100.0], [20.0, 21.0]],
              [[], [7.0 + 2.0 * i for i in range(30)]]]
    weights = [[12.0, 6.0], [20.0, 3.0], [5.0, 30.0]]
    batched = nm.build(_net(FACILITATING), backend="torch", numerics="exact", batch=3)
    batched.set_spike_times("s", trains)
    batched.set_weights("tm", np.array(weights))
    batched.run(350.0)
    vb = batched.trace("n", "v")
    for b in range(3):
        single = _run(_net(FACILITATING, trains=trains[b], weight=weights[b]), "torch")
        np.testing.assert_array_equal(vb[b], single.trace("n", "v"))
        assert _steps(batched.spikes("n")[b]) == _steps(single.spikes("n"))
    # weights are not changed by short-term plasticity
    np.testing.assert_array_equal(batched.weights("tm", format="list")[2], np.array(weights))


def test_reset_restarts_the_synapse_state():
    sim = _run(_net(DEPRESSING), "torch")
    first = np.asarray(sim.trace("n", "v")).copy()
    sim.reset()
    sim.run(350.0)
    np.testing.assert_array_equal(sim.trace("n", "v"), first)


def test_checkpoint_resumes_the_synapse_state(tmp_path):
    whole = _run(_net(FACILITATING), "torch")
    half = _run(_net(FACILITATING), "torch", ms=270.0)   # inside the first burst
    half.save(tmp_path / "tm.pt")
    resumed = nm.load(tmp_path / "tm.pt")
    resumed.run(80.0)
    np.testing.assert_array_equal(np.asarray(resumed.trace("n", "v"))[-800:], np.asarray(whole.trace("n", "v"))[-800:])


@pytest.mark.parametrize("kwargs,match", [
    ({"U": 0.0}, "U=0.0 must be > 0"),
    ({"U": 1.5}, "U=1.5 must be <= 1"),
    ({"U": float("nan")}, "U"),
    ({"tau_rec": 0.0}, "tau_rec=0.0 ms must be >="),
    ({"tau_facil": -1.0}, "tau_facil=-1.0 ms must be >= 0"),
    ({"tau_facil": 1e-9}, "must be 0 \\(no facilitation\\) or >="),
    ({"U": "0.5"}, "U"),
])
def test_bad_parameters_are_refused(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        nm.TsodyksMarkram(**kwargs)


@pytest.mark.filterwarnings("ignore::neuromorph.errors.SpinnakerWarning")
def test_unsupported_uses_are_refused_with_reasons():
    # a cell without tau_syn: NEST takes tau_psc from it
    net = nm.Network(dt=DT)
    net.spike_source("s", [[2.0]])
    net.population("n", 1, nm.IF_curr_delta())
    net.connect("s", "n", nm.OneToOne(), weight=1.0, plasticity=DEPRESSING)
    with pytest.raises(UnsupportedError, match="IF_curr_delta, which has no tau_syn_E"):
        nm.build(net, backend="torch", numerics="exact")
    # tau_rec equal to the post's tau_syn: NEST's propagator divides by their difference
    net = nm.Network(dt=DT)
    net.spike_source("s", [[2.0]])
    net.population("n", 1, nm.IF_curr_exp(tau_syn_E=5.0))
    net.connect("s", "n", nm.OneToOne(), weight=1.0, plasticity=nm.TsodyksMarkram(tau_rec=5.0))
    with pytest.raises(UnsupportedError, match="tau_rec=5.0 ms equals the post cell's tau_syn_E"):
        nm.build(net, backend="torch", numerics="exact")
    # the board's fixed point has no Tsodyks–Markram synapse
    with pytest.raises(UnsupportedError, match="TsodyksMarkram is unsupported.*no fixed-point lowering"):
        nm.build(_net(DEPRESSING), backend="torch", numerics="spinnaker")
    from backends.pynn.capabilities import BRIAN2, NEST, SPINNAKER
    from backends.torch.capabilities import capabilities
    assert NEST["TsodyksMarkram"].supported and not SPINNAKER["TsodyksMarkram"].supported
    assert not BRIAN2["TsodyksMarkram"].supported
    assert capabilities(numerics="exact")["TsodyksMarkram"].supported
    assert capabilities(numerics="spinnaker-float")["TsodyksMarkram"].supported


def test_json_round_trip():
    net = _net(FACILITATING, "inhibitory")
    text = net.to_json()
    back = nm.Network.from_json(text)
    assert back.projections["tm"].plasticity == FACILITATING
    assert back.to_json() == text
    data = net.to_dict()
    data["projections"][0]["plasticity"]["U"] = 2.0
    with pytest.raises(ValidationError, match="U"):
        nm.Network.from_dict(data)
    data["projections"][0]["plasticity"] = {"type": "TsodyksMarkram", "U": 0.5, "tau_psc": 3.0}
    with pytest.raises(ValidationError, match="tau_psc"):
        nm.Network.from_dict(data)


# -- the PyNN front-end --------------------------------------------------------------------------
def _script(sim, **setup):
    sim.setup(timestep=DT, **setup)
    # two cells: real PyNN 0.13's OneToOneConnector fails on one-neuron populations
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[5.0, 25.0, 45.0, 65.0, 85.0, 150.0, 152.0, 154.0, 156.0]),
                         label="src")
    cell = sim.Population(2, sim.IF_curr_exp(tau_syn_E=2.0, v_thresh=-58.0), label="cell")
    cell.record(["v", "spikes"])
    syn = sim.TsodyksMarkramSynapse(U=0.2, tau_rec=80.0, tau_facil=300.0, weight=9.0, delay=1.0)
    prj = sim.Projection(src, cell, sim.OneToOneConnector(), syn, receptor_type="excitatory")
    sim.run(200.0)
    seg = cell.get_data().segments[0]
    v = np.asarray(seg.filter(name="v")[0].magnitude, dtype=float)[:2000]   # real PyNN adds a sample at the end time
    spikes = np.asarray(seg.spiketrains[0], dtype=float)
    w = np.asarray(prj.get("weight", format="array"), dtype=float)
    sim.end()
    return v, spikes, w


def test_frontend_script_on_torch():
    import neuromorph.pynn as fe
    v, spikes, w = _script(fe, backend="torch", numerics="exact")
    assert len(spikes) > 0 and w[0, 0] == 9.0 and np.isnan(w[0, 1])
    with pytest.raises(ValidationError, match="U=0.0 must be > 0"):
        fe.TsodyksMarkramSynapse(U=0.0)


@needs_nest
def test_frontend_script_matches_real_pynn_nest():
    import pyNN.nest as real

    import neuromorph.pynn as fe
    warnings.simplefilter("ignore")
    v, spikes, w = _script(fe, backend="torch", numerics="exact")
    rv, rspikes, rw = _script(real, spike_precision="on_grid", min_delay=DT)   # neuromorph: min_delay = dt
    np.testing.assert_allclose(v, rv, rtol=0, atol=1e-9)
    assert list(np.rint(spikes / DT)) == list(np.rint(rspikes / DT)) and len(spikes) > 0
    np.testing.assert_array_equal(w, rw)
    nv, nspikes, _ = _script(fe, backend="pynn:nest")
    np.testing.assert_allclose(nv, rv, rtol=0, atol=1e-9)
