"""Vogels et al. (2011) inhibitory STDP (nm.Vogels2011; PyNN's Vogels2011Rule in the front-end).

The torch lowering (backends/torch/plasticity/vogels.py) follows NEST 3.10's
``vogels_sprekeler_synapse`` (alpha = 2·rho·tau, both traces with time constant tau). PyNN 0.13's
nest backend has no Vogels2011Rule, so pynn:nest lowers to NEST's model through
``pyNN.nest.native_synapse_type`` and the native reference scripts below do the same by hand.
Checked: torch ``exact`` against pynn:nest (IF_curr_exp and IF_cond_exp, Poisson-drawn inhibitory
trains, heterogeneous delays: identical spikes, weights to 1e-12); closed forms (constant
depression without post spikes; one pre/post pairing); a front-end script against a native
pyNN.nest script; refusals; JSON; capability entries.

Input times are multiples of dt = 0.25 ms: pyNN.nest hands SpikeSourceArray times to NEST one
min_delay early, and a time like 9.200000000000001 − 0.1 lands one step late in NEST's
spike_generator, which is a source-timing difference, not the rule's.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import neuromorph as nm
from neuromorph.errors import UnsupportedError, ValidationError


from native_nest import has_pynn_nest as _has_pynn_nest, needs_nest  # noqa: E402

DT = 0.25
T = 1000.0


def _trains(rng, n, rate_hz, t_stop):
    """Poisson trains [ms] on the dt grid (duplicates on one step merged)."""
    out = []
    for _ in range(n):
        t = rng.uniform(2.0, t_stop, rng.poisson(rate_hz * t_stop / 1000.0))
        out.append(sorted({round(float(k) * DT, 6) for k in np.rint(t / DT)}))
    return out


def _net(cell: str, rule: nm.Vogels2011, w_inh: float):
    """40 excitatory and 10 inhibitory Poisson-drawn trains onto 3 cells; the inhibitory synapses
    are plastic, with delays 1, 1.5 or 2 ms."""
    rng = np.random.default_rng(5)
    net = nm.Network(dt=DT, seed=1)
    net.spike_source("exc", _trains(rng, 40, 20.0, T))
    net.spike_source("inh", _trains(rng, 10, 30.0, T))
    if cell == "IF_curr_exp":
        net.population("n", 3, nm.IF_curr_exp(tau_syn_E=3.0, tau_syn_I=7.0))
        w_exc = 1.0
    else:
        net.population("n", 3, nm.IF_cond_exp())
        w_exc = 0.01
    net.connect("exc", "n", nm.AllToAll(), weight=w_exc, delay=1.0)
    net.connect("inh", "n", nm.AllToAll(), weight=w_inh, delay=list(rng.choice([1.0, 1.5, 2.0], 30)),
                receptor="inhibitory", plasticity=rule, label="ie")
    net.record("n", "spikes", "v")
    return net


def _run(net, backend, ms=T, **kw):
    sim = nm.build(net, backend=backend, **({"numerics": "exact"} if backend == "torch" else {}), **kw)
    sim.run(ms)
    return sim


CASES = [
    # (cell, rule, initial weight): the rate target and learning rate keep weights inside (0, w_max)
    pytest.param("IF_curr_exp", nm.Vogels2011(tau=20.0, eta=0.1, rho=0.01, w_min=0.0, w_max=2.5), 0.5, id="curr"),
    pytest.param("IF_cond_exp", nm.Vogels2011(tau=15.0, eta=0.0005, rho=0.1, w_min=0.0, w_max=0.03), 0.005, id="cond"),
]


@needs_nest
@pytest.mark.parametrize("cell, rule, w0", CASES)
def test_torch_exact_matches_nest(cell, rule, w0):
    net = _net(cell, rule, w0)
    a, b = _run(net, "torch"), _run(net, "pynn:nest")
    sa, sb = a.spikes("n"), b.spikes("n")
    assert [list(np.rint(np.asarray(s) / DT).astype(int)) for s in sa] == \
        [list(np.rint(np.asarray(s) / DT).astype(int)) for s in sb]
    assert sum(len(s) for s in sa) > 10
    wa, wb = np.asarray(a.weights("ie")), np.asarray(b.weights("ie"))
    np.testing.assert_allclose(wa, wb, rtol=0, atol=1e-12 * rule.w_max)
    # the rule really acted, in both directions, without every weight pinned to a bound
    assert (wa > w0).any() and (wa < w0).any()
    assert ((wa > 0) & (wa < rule.w_max)).sum() >= wa.size // 2
    np.testing.assert_allclose(a.trace("n", "v"), b.trace("n", "v"), rtol=0, atol=1e-9)


def _single(pre, teacher, rule, w0=0.5, d=1.0, ms=None):
    """One inhibitory plastic synapse onto one cell; a teacher source makes the cell fire."""
    net = nm.Network(dt=DT, seed=1)
    net.spike_source("pre", [pre])
    net.spike_source("teach", [teacher])
    net.population("n", 1, nm.IF_curr_exp(tau_refrac=0.5))
    net.connect("teach", "n", nm.OneToOne(), weight=30.0, delay=0.5)
    net.connect("pre", "n", nm.OneToOne(), weight=w0, delay=d, receptor="inhibitory", plasticity=rule, label="ie")
    net.record("n", "spikes")
    return _run(net, "torch", ms=ms or max(pre + teacher) + 10.0)


def test_constant_depression_without_post_spikes():
    """No post spike: each pre spike subtracts alpha·eta = 2·rho·tau·eta, down to 0."""
    rule = nm.Vogels2011(tau=20.0, eta=0.05, rho=0.02, w_min=0.0, w_max=2.0)   # alpha·eta = 0.04
    pre = [5.0 + 7.0 * i for i in range(15)]
    net = nm.Network(dt=DT)
    net.spike_source("pre", [pre])
    net.population("n", 1, nm.IF_curr_exp())
    net.connect("pre", "n", nm.OneToOne(), weight=0.5, delay=1.0, receptor="inhibitory", plasticity=rule, label="ie")
    sim = nm.build(net, backend="torch", numerics="exact")
    ws = []
    for t in pre:   # read after each pre spike's commit
        sim.run(t + DT - (ws and pre[len(ws) - 1] + DT or 0.0))
        ws.append(float(np.asarray(sim.weights("ie")).ravel()[0]))
    expected = [max(0.5 - (k + 1) * rule.alpha * rule.eta, 0.0) for k in range(len(pre))]
    np.testing.assert_allclose(ws, expected, rtol=0, atol=1e-14)
    assert ws[-1] == 0.0 and ws[10] == pytest.approx(0.06)   # 15 · 0.04 > 0.5: clipped at 0, never negative


def test_one_pairing_closed_form():
    """pre at t1, post spikes tp (t1 < tp + d < t2 − d), pre at t2: at t2 each post spike reaching the
    synapse at tp + d adds eta·e^(−(tp+d−t1)/tau), the pre spike adds eta·K_post(t2 − d) with
    K_post = Σ e^(−(t2−d−tp)/tau), and both pre spikes subtract alpha·eta."""
    rule = nm.Vogels2011(tau=20.0, eta=0.1, rho=0.01, w_min=0.0, w_max=3.0)
    d, w0, t1, t2 = 1.0, 0.5, 5.0, 40.0
    sim = _single([t1, t2], [10.0], rule, w0=w0, d=d)
    post = list(sim.spikes("n")[0])
    assert 1 <= len(post) and all(t1 < tp + d < t2 - d for tp in post)
    tau, eta, ae = rule.tau, rule.eta, rule.alpha * rule.eta
    expected = (w0 - ae + sum(eta * math.exp(-(tp + d - t1) / tau) for tp in post)
                + eta * sum(math.exp(-(t2 - d - tp) / tau) for tp in post) - ae)
    assert float(np.asarray(sim.weights("ie")).ravel()[0]) == pytest.approx(expected, abs=1e-14)


def test_potentiation_clips_at_w_max():
    rule = nm.Vogels2011(tau=20.0, eta=1.0, rho=0.001, w_min=0.0, w_max=0.6)
    sim = _single([5.0, 12.0], [6.0, 9.0, 11.0], rule, w0=0.5)
    # the last step is −alpha·eta after clipping at w_max
    assert float(np.asarray(sim.weights("ie")).ravel()[0]) == pytest.approx(0.6 - rule.alpha * rule.eta, abs=1e-14)


@pytest.mark.parametrize("kwargs, match", [
    (dict(tau=0.0), "tau=0.0 ms must be >="),
    (dict(eta=-0.1), "eta=-0.1 must be >= 0"),
    (dict(rho=float("nan")), "rho"),
    (dict(w_min=1.0, w_max=0.5), "w_max=0.5 is below w_min=1.0"),
    (dict(w_min=-0.1), "w_min=-0.1 < 0"),
])
def test_bad_parameters_are_refused(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        nm.Vogels2011(**kwargs)


def test_unsupported_uses_are_refused_with_reasons():
    rule = nm.Vogels2011(tau=20.0, eta=0.1, rho=0.01, w_min=0.0, w_max=2.5)
    net = _net("IF_curr_exp", rule, 0.5)
    for numerics in ("spinnaker", "spinnaker-float"):
        with pytest.raises(UnsupportedError, match="Vogels2011.*binary only.*numerics='exact'"):
            nm.build(net, backend="torch", numerics=numerics)
    with pytest.raises(UnsupportedError, match="w_min=0.1.*clips at 0"):
        nm.build(_net("IF_curr_exp", nm.Vogels2011(w_min=0.1, w_max=2.5), 0.5), backend="torch", numerics="exact")
    from backends.pynn.capabilities import BRIAN2, NEST, SPINNAKER
    from backends.torch.capabilities import capabilities
    assert NEST["Vogels2011"].supported and SPINNAKER["Vogels2011"].supported
    assert not BRIAN2["Vogels2011"].supported
    assert capabilities(numerics="exact")["Vogels2011"].supported
    assert not capabilities(numerics="spinnaker-float")["Vogels2011"].supported
    assert not capabilities(numerics="spinnaker")["Vogels2011"].supported


@needs_nest
def test_nest_refuses_w_min():
    with pytest.raises(UnsupportedError, match="w_min=0.1.*clips at 0"):
        nm.build(_net("IF_curr_exp", nm.Vogels2011(w_min=0.1, w_max=2.5), 0.5), backend="pynn:nest")


def test_json_round_trip():
    rule = nm.Vogels2011(tau=15.0, eta=0.02, rho=0.005, w_min=0.0, w_max=1.5)
    net = _net("IF_curr_exp", rule, 0.5)
    text = net.to_json()
    back = nm.Network.from_json(text)
    assert back.projections["ie"].plasticity == rule
    assert back.to_json() == text
    data = net.to_dict()
    plast = next(p for p in data["projections"] if p.get("label") == "ie")["plasticity"]
    plast["eta"] = -1.0
    with pytest.raises(ValidationError, match="eta"):
        nm.Network.from_dict(data)
    plast["eta"], plast["alpha"] = 0.02, 0.4
    with pytest.raises(ValidationError, match="alpha"):
        nm.Network.from_dict(data)


# -- the PyNN front-end --------------------------------------------------------------------------
TAU, ETA, RHO, W_MAX, W0 = 20.0, 0.1, 0.01, 2.5, 0.5
FE_RNG = np.random.default_rng(9)
FE_EXC = _trains(FE_RNG, 20, 20.0, 300.0)
FE_INH = _trains(FE_RNG, 6, 30.0, 300.0)


def _script(sim, synapse, **setup):
    """Inhibitory plastic projection from 6 sources onto 2 cells, 20 excitatory sources; weights
    read after each of three runs."""
    sim.setup(timestep=DT, **setup)
    exc = sim.Population(20, sim.SpikeSourceArray(spike_times=FE_EXC), label="exc")
    inh = sim.Population(6, sim.SpikeSourceArray(spike_times=FE_INH), label="inh")
    cell = sim.Population(2, sim.IF_curr_exp(tau_syn_E=3.0, tau_syn_I=7.0), label="cell")
    cell.record(["v", "spikes"])
    sim.Projection(exc, cell, sim.AllToAllConnector(), sim.StaticSynapse(weight=1.0, delay=1.0))
    prj = sim.Projection(inh, cell, sim.AllToAllConnector(), synapse, receptor_type="inhibitory")
    ws = []
    for t in (100.0, 200.0, 300.0):
        sim.run_until(t)
        ws.append(np.asarray(prj.get("weight", format="array"), dtype=float))
    seg = cell.get_data().segments[0]
    v = np.asarray(seg.filter(name="v")[0].magnitude, dtype=float)[:int(300.0 / DT)]
    spikes = [np.asarray(st, dtype=float) for st in seg.spiketrains]
    sim.end()
    return v, spikes, ws


def _frontend_synapse(fe):
    return fe.STDPMechanism(timing_dependence=fe.Vogels2011Rule(tau=TAU, eta=ETA, rho=RHO),
                            weight_dependence=fe.AdditiveWeightDependence(w_min=0.0, w_max=W_MAX),
                            weight=-W0, delay=1.0)


def test_frontend_script_on_torch():
    import neuromorph.pynn as fe
    v, spikes, ws = _script(fe, _frontend_synapse(fe), backend="torch", numerics="exact")
    assert sum(len(s) for s in spikes) > 0
    assert not np.allclose(ws[-1], ws[0])
    with pytest.raises(UnsupportedError, match="AdditiveWeightDependence"):
        fe.STDPMechanism(timing_dependence=fe.Vogels2011Rule(), weight_dependence=fe.MultiplicativeWeightDependence())
    fe.end()


@needs_nest
def test_frontend_script_matches_native_pynn_nest():
    """The front-end script (Vogels2011Rule) on torch and on pynn:nest against the same script on
    real pyNN.nest written with NEST's own model (pyNN.nest 0.13 has no Vogels2011Rule): weight, eta
    and Wmax in pA there (native synapse types take NEST units), tau_minus = tau on the post cells."""
    import pyNN.nest as real

    import neuromorph.pynn as fe
    warnings.simplefilter("ignore")
    VS = real.native_synapse_type("vogels_sprekeler_synapse")
    native = VS(weight=-W0 * 1000.0, delay=1.0, tau=TAU, eta=ETA * 1000.0, alpha=2.0 * RHO * TAU,
                Wmax=-W_MAX * 1000.0, tau_minus=TAU)
    rv, rspikes, rws = _script(real, native, spike_precision="on_grid", min_delay=DT)
    # (pyNN.nest takes a native synapse's weights in NEST units but reads them back in nA)
    assert sum(len(s) for s in rspikes) > 0
    for backend, extra in (("torch", {"numerics": "exact"}), ("pynn:nest", {})):
        v, spikes, ws = _script(fe, _frontend_synapse(fe), backend=backend, **extra)
        for a, b in zip(spikes, rspikes):
            np.testing.assert_array_equal(np.rint(a / DT), np.rint(b / DT))
        np.testing.assert_allclose(v, rv, rtol=0, atol=1e-9)
        for a, b in zip(ws, rws):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    assert not np.allclose(rws[-1], rws[0])


def test_nest_refuses_a_second_post_trace_time_constant():
    """NEST keeps the post trace's time constant (tau_minus) on the neuron; a Vogels2011 projection
    sets it to its tau, so a pair-STDP projection onto the same cells with another tau_minus cannot
    run on pynn:nest (it runs on torch)."""
    from backends.pynn.capabilities import extra_constructs
    net = _net("IF_curr_exp", nm.Vogels2011(tau=15.0, eta=0.1, rho=0.01, w_min=0.0, w_max=2.5), 0.5)
    net.connect("exc", "n", nm.AllToAll(), weight=0.5, delay=1.0, label="stdp",
                plasticity=nm.STDP(nm.SpikePairRule(20.0, 20.0, 0.01, 0.01), nm.Additive(0.0, 2.0)))
    assert "STDP:tau_minus differs onto one population" in extra_constructs(net)
    same = _net("IF_curr_exp", nm.Vogels2011(tau=20.0, eta=0.1, rho=0.01, w_min=0.0, w_max=2.5), 0.5)
    same.connect("exc", "n", nm.AllToAll(), weight=0.5, delay=1.0, label="stdp",
                 plasticity=nm.STDP(nm.SpikePairRule(20.0, 20.0, 0.01, 0.01), nm.Additive(0.0, 2.0)))
    assert "STDP:tau_minus differs onto one population" not in extra_constructs(same)
    nm.build(net, backend="torch", numerics="exact").run(20.0)
