"""Parameter and rate changes between runs: ``Population.set(...)`` after ``run()`` in the PyNN
front-end, ``Simulation.set_parameters`` underneath (torch, pynn:nest).

Reference: real pyNN.nest running the same script. pyNN.nest runs NEST one min_delay (= dt) past
the time it reports, so NEST takes new values from the step after the current one; torch's
``exact`` profile does the same, and V is kept (NEST shifts its V relative to E_L when E_L
changes). Deterministic inputs: identical spike trains, v to 1e-9 mV. Poisson rates: neuromorph
draws Bernoulli per step and NEST its own generator, so the trains differ; the counts before and
after a rate change are checked against the Poisson bounds (5 σ) on every backend.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import neuromorph as nm
import neuromorph.pynn as fe
from neuromorph.errors import UnsupportedError, ValidationError

pytest.importorskip("neo", reason="Neo results need the [pynn] extra")

DT = 0.1


from native_nest import has_pynn_nest as _has_pynn_nest, needs_nest  # noqa: E402


@pytest.fixture(autouse=True)
def _end():
    yield
    fe.end()


# -- description level: one change at a time, torch exact against pynn:nest --------------------
CHANGES = [dict(tau_m=8.0), dict(v_rest=-60.0), dict(tau_syn_E=2.0), dict(i_offset=1.2), dict(tau_refrac=4.0),
           dict(v_thresh=-52.0), dict(cm=0.5), dict(v_reset=-70.0)]


def _net(cell):
    net = nm.Network(dt=DT, seed=1)
    net.spike_source("s", [[5.0, 30.0, 31.0, 60.0, 90.0, 91.0, 92.0]])
    net.population("n", 2, getattr(nm, cell)(i_offset=0.5))
    net.connect("s", "n", nm.AllToAll(), weight=0.02 if cell == "IF_cond_exp" else 2.0, delay=1.0)
    net.record("n", "v", "spikes")
    return net


def _changed_run(net, backend, change, t_change=33.0, t_end=110.0):
    sim = nm.build(net, backend=backend, **({"numerics": "exact"} if backend == "torch" else {}))
    sim.run(t_change)
    sim.set_parameters("n", **change)
    sim.run(t_end - t_change)
    return sim


@needs_nest
@pytest.mark.parametrize("cell", ["IF_curr_exp", "IF_cond_exp", "IF_curr_alpha"])
def test_each_parameter_change_matches_nest(cell):
    net = _net(cell)
    for change in CHANGES:
        a, b = _changed_run(net, "torch", change), _changed_run(net, "pynn:nest", change)
        va, vb = np.asarray(a.trace("n", "v")), np.asarray(b.trace("n", "v"))
        np.testing.assert_allclose(va, vb, rtol=0, atol=1e-9, err_msg=str(change))
        assert [list(np.rint(s / DT)) for s in a.spikes("n")] == [list(np.rint(s / DT)) for s in b.spikes("n")], change
        # the change acted: an unchanged run differs after t_change and equals before it
        plain = nm.build(net, backend="torch", numerics="exact")
        plain.run(110.0)
        vp = np.asarray(plain.trace("n", "v"))
        np.testing.assert_array_equal(vp[:331], va[:331])
        if "tau_refrac" not in change and "v_reset" not in change:   # those act at the next spike only
            assert np.abs(vp - va).max() > 1e-3, change


def test_v_is_kept_when_v_rest_changes():
    """NEST keeps V (absolute) when E_L is set; the torch exact lowering stores V − v_rest, so it
    must shift it by the change: in the first step with v_rest 10 mV higher, V moves by the leak's
    share only, 10·(1 − e^(−dt/tau_m)) mV, not by 10 mV."""
    net = _net("IF_curr_exp")
    sim = _changed_run(net, "torch", dict(v_rest=-55.0), t_end=40.0)
    plain = nm.build(net, backend="torch", numerics="exact")
    plain.run(40.0)
    v, vp = np.asarray(sim.trace("n", "v"))[:, 0], np.asarray(plain.trace("n", "v"))[:, 0]
    # the change acts from step 331 (NEST: t + dt); row 331 reads V through the new v_rest (1 ulp)
    np.testing.assert_allclose(v[:332], vp[:332], rtol=0, atol=1e-12)
    assert v[332] - vp[332] == pytest.approx(10.0 * (1.0 - np.exp(-DT / 20.0)), rel=1e-9)


def test_reset_keeps_the_new_parameters():
    net = _net("IF_curr_exp")
    sim = _changed_run(net, "torch", dict(tau_m=8.0, i_offset=1.0))
    sim.reset()
    sim.run(110.0)
    fresh_net = nm.Network(dt=DT, seed=1)
    fresh_net.spike_source("s", [[5.0, 30.0, 31.0, 60.0, 90.0, 91.0, 92.0]])
    fresh_net.population("n", 2, nm.IF_curr_exp(tau_m=8.0, i_offset=1.0))
    fresh_net.connect("s", "n", nm.AllToAll(), weight=2.0, delay=1.0)
    fresh_net.record("n", "v", "spikes")
    fresh = nm.build(fresh_net, backend="torch", numerics="exact")
    fresh.run(110.0)
    np.testing.assert_array_equal(np.asarray(sim.trace("n", "v")), np.asarray(fresh.trace("n", "v")))
    assert net.populations["n"].celltype.tau_m == 20.0   # the caller's description is untouched


def test_bad_changes_are_refused():
    sim = nm.build(_net("IF_curr_exp"), backend="torch", numerics="exact")
    sim.run(5.0)
    with pytest.raises(ValidationError, match="'tau_x' is not a parameter of IF_curr_exp"):
        sim.set_parameters("n", tau_x=3.0)
    with pytest.raises(ValidationError, match="tau_m=-1.0 ms must be >="):
        sim.set_parameters("n", tau_m=-1.0)
    with pytest.raises(ValidationError, match="spike_times' cannot change between runs"):
        sim.set_parameters("s", spike_times=[[1.0]])
    with pytest.raises(ValidationError, match="one number for the whole population"):
        sim.set_parameters("n", tau_m=[10.0, 12.0])
    with pytest.raises(ValidationError, match="at least one parameter"):
        sim.set_parameters("n")


# -- the PyNN front-end against real pyNN.nest -----------------------------------------------------
def _script(sim, **setup):
    """Two populations driven by a spike-source array; parameters changed between three runs."""
    sim.setup(timestep=DT, **setup)
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[5.0, 30.0, 31.0, 60.0, 90.0, 91.0, 92.0, 130.0, 131.0]),
                         label="src")
    curr = sim.Population(2, sim.IF_curr_exp(i_offset=0.5), label="curr")
    cond = sim.Population(2, sim.IF_cond_exp(i_offset=0.5), label="cond")
    for p in (curr, cond):
        p.record(["v", "spikes"])
    sim.Projection(src, curr, sim.AllToAllConnector(), sim.StaticSynapse(weight=2.0, delay=1.0))
    sim.Projection(src, cond, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.02, delay=1.0))
    sim.run(33.0)
    curr.set(tau_m=8.0, v_rest=-60.0, i_offset=1.2)
    # cm with tau_m: pyNN.nest's set(cm=...) alone keeps NEST's g_L, i.e. changes tau_m too
    cond.set(cm=0.5, tau_m=20.0, tau_syn_E=2.0)
    sim.run(40.0)
    curr.set(v_thresh=-52.0, tau_refrac=4.0, v_reset=-70.0)
    cond.set(v_rest=-60.0)
    sim.run(67.0)
    out = {}
    n = int(round(140.0 / DT))
    for p in (curr, cond):
        seg = p.get_data().segments[0]
        out[p.label] = (np.asarray(seg.filter(name="v")[0].magnitude, dtype=float)[:n],
                        [np.asarray(st, dtype=float) for st in seg.spiketrains])
    out["tau_m"] = curr.get("tau_m")
    sim.end()
    return out


@needs_nest
def test_frontend_script_matches_native_pynn_nest():
    import pyNN.nest as real
    warnings.simplefilter("ignore")
    ref = _script(real, spike_precision="on_grid", min_delay=DT)
    assert sum(len(s) for s in ref["curr"][1]) > 3 and sum(len(s) for s in ref["cond"][1]) > 3
    for backend, extra in (("torch", {"numerics": "exact"}), ("pynn:nest", {})):
        ours = _script(fe, backend=backend, **extra)
        for label in ("curr", "cond"):
            np.testing.assert_allclose(ours[label][0], ref[label][0], rtol=0, atol=1e-9, err_msg=f"{backend} {label}")
            for a, b in zip(ours[label][1], ref[label][1]):
                np.testing.assert_array_equal(np.rint(a / DT), np.rint(b / DT))
        assert ours["tau_m"] == 8.0


def test_frontend_refusals():
    fe.setup(timestep=DT, backend="torch", numerics="exact")
    src = fe.Population(1, fe.SpikeSourceArray(spike_times=[5.0]), label="src")
    p = fe.Population(2, fe.IF_curr_exp(), label="p")
    p.record("spikes")
    fe.run(10.0)
    with pytest.raises(UnsupportedError, match="spike_times"):
        src.set(spike_times=[20.0])
    p.set(tau_m=12.0)
    assert p.get("tau_m") == 12.0


# -- Poisson rate changes ----------------------------------------------------------------------------
N_SRC, T_SEG, R1, R2 = 200, 1000.0, 20.0, 60.0


def _poisson_script(sim, **setup):
    sim.setup(timestep=DT, **setup)
    src = sim.Population(N_SRC, sim.SpikeSourcePoisson(rate=R1), label="src")
    src.record("spikes")
    sim.run(T_SEG)
    src.set(rate=R2)
    sim.run(T_SEG)
    trains = [np.asarray(st, dtype=float) for st in src.get_data().segments[0].spiketrains]
    sim.end()
    before = sum(int((t < T_SEG).sum()) for t in trains)
    after = sum(int(((t >= T_SEG) & (t < 2 * T_SEG)).sum()) for t in trains)
    return before, after


def _within_poisson_bounds(count, rate_hz):
    mean = N_SRC * T_SEG * rate_hz / 1000.0
    return abs(count - mean) < 5.0 * np.sqrt(mean), (count, mean)


@pytest.mark.parametrize("backend", ["torch", pytest.param("pynn:nest", marks=needs_nest), pytest.param("native", marks=needs_nest)])
def test_poisson_rate_change_between_runs(backend):
    if backend == "native":
        import pyNN.nest as real
        warnings.simplefilter("ignore")
        before, after = _poisson_script(real, spike_precision="on_grid", min_delay=DT)
    else:
        before, after = _poisson_script(fe, backend=backend, **({"numerics": "exact"} if backend == "torch" else {}))
    ok1, info1 = _within_poisson_bounds(before, R1)
    ok2, info2 = _within_poisson_bounds(after, R2)
    assert ok1, info1
    assert ok2, info2
