"""Current sources (neuromorph.current_sources): DC, step, AC and noisy currents.

- torch ``numerics="exact"`` against PyNN 0.13 + NEST 3.10 (backend ``pynn:nest``, i.e. PyNN's own
  DCSource/StepCurrentSource/ACSource on dc/step_current/ac_generator, and a plain ``pyNN.nest``
  script for the front-end): V to 1e-9 mV (DC and step bit-identical) and identical spikes, on
  IF_curr_exp and IF_curr_delta; skipped cleanly without pyNN.nest;
- closed forms: a DC current relaxes V to v_rest + R·I (R = tau_m/cm); the step at which each
  current starts and stops;
- NoisyCurrentSource statistics: mean and std of the injected current within stated bounds, and
  against NEST's noise_generator (statistical: different RNGs);
- JSON round trip, the shipped schema, bad input refused with the field, value and fix;
- the PyNN front-end: ``neuromorph.pynn.DCSource(...).inject_into(pop)`` on torch gives NEST's spikes.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import neuromorph as nm
from neuromorph.errors import ValidationError


from native_nest import has_pynn_nest as _has_pynn_nest, needs_nest  # noqa: E402

DT = 0.1
CELLS = {
    "IF_curr_exp": lambda: nm.IF_curr_exp(cm=0.25, tau_m=15.0, tau_syn_E=3.0, tau_syn_I=6.0, tau_refrac=2.0,
                                          v_thresh=-55.0, v_reset=-70.0, i_offset=0.05),
    "IF_curr_delta": lambda: nm.IF_curr_delta(cm=0.25, tau_m=15.0, tau_refrac=2.0, v_thresh=-55.0, v_reset=-70.0,
                                              weight_units="mV"),
}

SOURCES = {
    "dc": lambda: [nm.DCSource("dc", "n", amplitude=0.6, start=5.0, stop=25.0, neurons=(0, 2)),
                   nm.DCSource("dc_early", "n", amplitude=0.45, start=0.0, stop=40.0, neurons=(1,))],
    "step": lambda: [nm.StepCurrentSource("step", "n", times=(0.0, 0.1, 3.0, 12.5, 20.0, 31.0),
                                          amplitudes=(0.2, 0.3, 0.7, -0.2, 0.9, 0.0))],
    "ac": lambda: [nm.ACSource("ac", "n", amplitude=0.5, offset=0.35, frequency=37.0, phase=30.0, start=2.0, stop=35.0,
                               neurons=(0, 1)),
                   nm.ACSource("ac0", "n", amplitude=0.8, offset=0.3, frequency=80.0, phase=-45.0, neurons=(2,))],
}


def _net(cell: str, source: str) -> nm.Network:
    net = nm.Network(dt=DT, seed=1)
    net.population("n", 3, CELLS[cell]())
    for s in SOURCES[source]():
        net.add(s)
    net.record("n", "spikes", "v")
    return net


def _run(net, backend, ms=40.0):
    sim = nm.build(net, backend=backend, **({"numerics": "exact"} if backend == "torch" else {}))
    sim.run(ms)
    out = sim.trace("n", "v"), [np.asarray(t) for t in sim.spikes("n")]
    if hasattr(sim, "close"):
        sim.close()
    return out


# -- parity with NEST --------------------------------------------------------------------------------
@needs_nest
@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("source", list(SOURCES))
def test_torch_exact_matches_nest(cell, source):
    """Same network on torch (exact) and on PyNN + NEST: V to 1e-9 mV at every sample (DC and step
    bit-identical), identical spike trains, and the current really made the cells fire."""
    net = _net(cell, source)
    v_t, s_t = _run(net, "torch")
    v_n, s_n = _run(net, "pynn:nest")
    assert v_t.shape == v_n.shape
    err = np.max(np.abs(v_t - v_n))
    assert err <= (0.0 if source in ("dc", "step") else 1e-9), f"max |ΔV| = {err} mV"
    _same_spikes(s_t, s_n)
    assert sum(len(s) for s in s_t) > 0


def _same_spikes(a, b, dt=DT):
    """Identical spike trains: the same step of every spike (times as ms differ in the last bit)."""
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(np.rint(np.asarray(x) / dt), np.rint(np.asarray(y) / dt))


@needs_nest
def test_noisy_source_matches_nest_statistically():
    """NoisyCurrentSource: NEST's noise_generator and torch draw different numbers, so compare the
    injected current recovered from V (I_k = C·(V_{k+1} − P22·V_k)/(τm·(1 − P22)), exact for
    IF_curr_exp without synaptic input) over 100 neurons × 2000 steps: means within 0.02 nA,
    standard deviations within 3 %, and no current before t = 2·dt on both."""
    stats = {}
    for backend in ("torch", "pynn:nest"):
        net = nm.Network(dt=DT, seed=5)
        net.population("n", 100, nm.IF_curr_exp(v_thresh=1e5, tau_m=20.0, cm=1.0, v_rest=-65.0))
        net.add(nm.NoisyCurrentSource("noise", "n", mean=0.3, stdev=0.8, dt=0.2))
        net.record("n", "spikes", "v")
        v, _ = _run(net, backend, ms=200.0)
        p22 = math.exp(-DT / 20.0)
        vr = v + 65.0
        current = (vr[1:] - vr[:-1] * p22) / (20.0 * (1 - p22))  # nA (R = tau_m/cm = 20 MΩ)
        assert np.all(np.abs(current[:2]) < 1e-12), f"{backend}: current before t = 2·dt"
        body = current[2:]
        # held for dt=0.2 ms = 2 steps: consecutive pairs equal
        assert np.allclose(body[0:-1:2], body[1::2], atol=1e-9), f"{backend}: draws not held for 2 steps"
        stats[backend] = (body.mean(), body.std())
    (m_t, s_t), (m_n, s_n) = stats["torch"], stats["pynn:nest"]
    assert abs(m_t - 0.3) < 0.02 and abs(m_n - 0.3) < 0.02
    assert abs(s_t / s_n - 1) < 0.03 and abs(s_t - 0.8) < 0.03


# -- closed forms (torch, every profile) ---------------------------------------------------------------
@pytest.mark.parametrize("numerics", ["exact", "spinnaker-float"])
def test_dc_relaxes_to_v_rest_plus_r_i(numerics):
    """A DC current I on a cell without threshold: V → v_rest + R·I, R = tau_m/cm, and V follows
    v_rest + R·I·(1 − exp(−(t − t_on)/tau_m)) from the step the current starts in (exact: t_on = start;
    the first current step is 2 on NEST's convention when start < 2·dt)."""
    c = nm.IF_curr_exp(cm=0.5, tau_m=10.0, v_thresh=1e4, v_rest=-60.0)
    net = nm.Network(dt=DT)
    net.population("n", 1, c)
    net.add(nm.DCSource("dc", "n", amplitude=0.3, start=4.0, stop=150.0))
    net.record("n", "v")
    sim = nm.build(net, backend="torch", numerics=numerics)
    sim.run(150.0)
    v = sim.trace("n", "v")[:, 0]
    t = np.arange(v.size) * DT
    expected = -60.0 + 20.0 * 0.3 * np.where(t > 4.0, 1 - np.exp(-(t - 4.0) / 10.0), 0.0)
    assert np.max(np.abs(v - expected)) < 1e-9
    assert v[-1] == pytest.approx(-54.0, abs=1e-5)  # v_rest + R·I = -60 + 20 MΩ · 0.3 nA


@pytest.mark.parametrize("numerics,first", [("exact", 2), ("spinnaker-float", 0), ("spinnaker", 0)])
def test_step_timing(numerics, first):
    """A step current's value j acts on V in the steps k with times[j] ≤ k·dt < times[j+1]; on NEST's
    convention (exact) nothing acts before step 2, and the last value given at or before 2·dt holds
    there (PyNN's own rule for NEST). Checked through the injected current recovered from V."""
    c = nm.IF_curr_exp(cm=1.0, tau_m=20.0, v_thresh=1e4, v_rest=0.0, v_reset=0.0)
    net = nm.Network(dt=DT)
    net.population("n", 1, c)
    net.add(nm.StepCurrentSource("s", "n", times=(0.0, 0.1, 1.0, 2.5), amplitudes=(0.25, 0.5, 1.0, 0.0)))
    net.record("n", "v")
    sim = nm.build(net, backend="torch", numerics=numerics)
    sim.run(4.0)
    v = sim.trace("n", "v")[:, 0]
    p22 = math.exp(-DT / 20.0)
    current = (v[1:] - v[:-1] * p22) / (20.0 * (1 - p22))
    k = np.arange(current.size)
    expected = np.select([k >= 25, k >= 10, k >= 1, k >= 0], [0.0, 1.0, 0.5, 0.25])
    if first:
        expected = np.where(k < first, 0.0, expected)
    tol = 5e-3 if numerics == "spinnaker" else 1e-9  # s16.15 V (the recovered current's error), far below the steps
    assert np.max(np.abs(current - expected)) < tol


def test_ac_spinnaker_profile_is_the_description_value():
    """Spinnaker profiles: I_k = offset + amp·sin(2πf(k·dt − start) + phase) in tick k."""
    from neuromorph.current_sources import waveform_value
    src = nm.ACSource("ac", "n", amplitude=0.5, offset=0.1, frequency=50.0, phase=90.0, start=1.0, stop=3.0)
    assert waveform_value(src, 9, DT, nest=False) is None
    assert waveform_value(src, 10, DT, nest=False) == pytest.approx(0.6)
    assert waveform_value(src, 15, DT, nest=False) == pytest.approx(0.1 + 0.5 * math.cos(2 * math.pi * 50 * 0.5e-3))
    assert waveform_value(src, 30, DT, nest=False) is None
    # NEST convention: from step start/dt with the phase at start
    assert waveform_value(src, 10, DT, nest=True) == pytest.approx(0.6, abs=1e-12)


@pytest.mark.parametrize("numerics", ["exact", "spinnaker-float"])
def test_noisy_source_statistics(numerics):
    """torch NoisyCurrentSource: over 200 neurons × 1000 draws the current's mean is within 0.01 nA
    (≈ 5 standard errors) of ``mean`` and its std within 1.5 % of ``stdev``; draws are independent
    across neurons and trials, reproducible for a seed, and zero outside [start, stop)."""
    net = nm.Network(dt=DT, seed=11)
    net.population("n", 200, nm.IF_curr_exp())
    net.add(nm.NoisyCurrentSource("noise", "n", mean=-0.2, stdev=0.5, start=1.0, stop=101.0))
    sim = nm.build(net, backend="torch", numerics=numerics, batch=2)
    mech = sim.mechanisms[0]
    rows = []
    for k in range(1100):
        x = sim.extra_current["n"]
        rows.append(np.zeros((2, 200)) if x is None else x.detach().cpu().numpy().copy())
        mech.step(sim, k, {})
    cur = np.stack(rows)          # [step, trial, neuron]
    assert np.all(cur[:10] == 0) and np.all(cur[1010:] == 0)
    body = cur[10:1010]
    assert abs(body.mean() + 0.2) < 0.01
    assert abs(body.std() / 0.5 - 1) < 0.015
    assert not np.allclose(body[:, 0], body[:, 1])                      # trials differ
    assert abs(np.corrcoef(body[:, 0, 0], body[:, 0, 1])[0, 1]) < 0.15  # neurons independent
    sim.reset()
    again = sim.extra_current["n"]
    assert again is None   # step 0 is before start again, and the generator is re-seeded
    for k in range(10):
        mech.step(sim, k, {})
    np.testing.assert_array_equal(sim.extra_current["n"].cpu().numpy(), cur[10])


def test_several_sources_on_one_population_add_up():
    """Two sources on one population (and another mechanism's share of the hook) add up."""
    net = nm.Network(dt=1.0)
    net.population("n", 2, nm.IF_curr_exp())
    net.add(nm.DCSource("a", "n", amplitude=0.5, start=2.0, stop=6.0))
    net.add(nm.StepCurrentSource("b", "n", times=(4.0,), amplitudes=(0.25,), neurons=(1,)))
    sim = nm.build(net, backend="torch", numerics="spinnaker-float")
    seen = []
    for k in range(8):
        x = sim.extra_current["n"]
        seen.append([0.0, 0.0] if x is None else x.detach().cpu().numpy().reshape(-1, 2)[0].tolist())
        for m in sim.mechanisms:
            m.step(sim, k, {})
    assert seen == [[0, 0], [0, 0], [0.5, 0.5], [0.5, 0.5], [0.5, 0.75], [0.5, 0.75], [0, 0.25], [0, 0.25]]


@pytest.mark.parametrize("numerics", ["exact", "spinnaker"])
def test_checkpoint_resumes_every_source(tmp_path, numerics):
    """``sim.save`` mid-run and ``nm.load``: the rest of the run (DC switching off, step changes, the
    AC wave, the noise draws) is identical to an uninterrupted one."""
    def net():
        n = nm.Network(dt=DT, seed=2)
        n.population("n", 4, nm.IF_curr_exp(v_thresh=-60.0))
        n.add(nm.DCSource("dc", "n", amplitude=0.4, start=1.0, stop=8.0, neurons=(0, 1)))
        n.add(nm.StepCurrentSource("st", "n", times=(2.0, 6.0, 9.0), amplitudes=(0.3, 0.0, 0.5), neurons=(2,)))
        n.add(nm.ACSource("ac", "n", amplitude=0.5, offset=0.2, frequency=120.0, neurons=(3,)))
        n.add(nm.NoisyCurrentSource("noise", "n", mean=0.1, stdev=0.3, dt=0.3))
        n.record("n", "spikes", "v")
        return n

    whole = nm.build(net(), backend="torch", numerics=numerics)
    whole.run(12.0)
    first = nm.build(net(), backend="torch", numerics=numerics)
    first.run(5.0)
    first.save(tmp_path / "c")
    resumed = nm.load(tmp_path / "c")
    resumed.run(7.0)
    np.testing.assert_array_equal(resumed.trace("n", "v")[-70:], whole.trace("n", "v")[-70:])


# -- description: JSON, schema, errors ------------------------------------------------------------------
def test_json_round_trip_and_schema():
    from neuromorph import model_schema
    net = nm.Network(dt=DT, seed=3)
    net.population("n", 3, nm.IF_curr_exp())
    for s in SOURCES["dc"]() + SOURCES["step"]() + SOURCES["ac"]():
        net.add(s)
    net.add(nm.NoisyCurrentSource("noise", "n", mean=0.1, stdev=0.2, dt=0.5, neurons=[2], seed=7))
    data = net.to_dict()
    model_schema.check(data, 1)
    back = nm.Network.from_dict(data)
    assert back.extensions == net.extensions
    assert back.to_json() == net.to_json()


@pytest.mark.parametrize("make,match", [
    (lambda: nm.DCSource("x", "n", amplitude="1"), r"amplitude='1' is not a number"),
    (lambda: nm.DCSource("x", "n", amplitude=2e6), r"amplitude=2e\+06 nA is outside"),
    (lambda: nm.DCSource("x", "n", start=5.0, stop=2.0), r"stop=2 ms is before start=5 ms; give stop >= start"),
    (lambda: nm.DCSource("x", "n", start=-1.0), r"start=-1 ms is outside"),
    (lambda: nm.DCSource("", "n"), r"label=''"),
    (lambda: nm.DCSource("x", "n", neurons=(0, 0)), r"neurons lists index 0 twice"),
    (lambda: nm.DCSource("x", "n", neurons=(-1,)), r"neurons holds -1"),
    (lambda: nm.StepCurrentSource("x", "n", times=(1.0, 1.0), amplitudes=(0.1, 0.2)), r"times\[1\]=1 ms is not after"),
    (lambda: nm.StepCurrentSource("x", "n", times=(1.0,), amplitudes=(0.1, 0.2)), r"1 times but 2 amplitudes"),
    (lambda: nm.StepCurrentSource("x", "n", times=(1.0,), amplitudes=(float("nan"),)), r"amplitudes\[0\]=nan"),
    (lambda: nm.ACSource("x", "n", frequency=-1.0), r"frequency=-1 Hz is outside"),
    (lambda: nm.NoisyCurrentSource("x", "n", stdev=-0.1), r"stdev=-0.1 nA is outside"),
    (lambda: nm.NoisyCurrentSource("x", "n", dt=0.0), r"dt=0 ms must be > 0"),
    (lambda: nm.NoisyCurrentSource("x", "n", seed=-3), r"seed=-3 must be an integer"),
])
def test_bad_values_are_refused(make, match):
    with pytest.raises(ValidationError, match=match):
        make()


@pytest.mark.parametrize("construct,match", [
    (lambda: nm.DCSource("x", "nope"), r"no population labelled 'nope'"),
    (lambda: nm.DCSource("x", "src"), r"'src' is a spike source"),
    (lambda: nm.DCSource("x", "n", neurons=(3,)), r"neurons holds index 3, but population 'n' has 3 neurons"),
    (lambda: nm.DCSource("x", "n", start=0.05), r"start=0.05 ms is not a multiple of dt=0.1 ms; use a multiple such as 0.1 ms"),
    (lambda: nm.StepCurrentSource("x", "n", times=(1.0, 1.25), amplitudes=(1, 2)), r"times\[1\]=1.25 ms is not a multiple"),
    (lambda: nm.NoisyCurrentSource("x", "n", dt=0.25), r"dt=0.25 ms is not a multiple of dt=0.1"),
])
def test_bad_targets_are_refused(construct, match):
    net = nm.Network(dt=DT)
    net.spike_source("src", [[1.0]])
    net.population("n", 3, nm.IF_curr_exp())
    with pytest.raises(ValidationError, match=match):
        net.add(construct())


def test_bad_json_is_refused_with_its_path():
    net = nm.Network(dt=DT)
    net.population("n", 3, nm.IF_curr_exp())
    net.add(nm.DCSource("dc", "n"))
    data = net.to_dict()
    data["extensions"][0]["amplitude"] = "big"
    with pytest.raises(ValidationError, match=r"extensions\[0\]"):
        nm.Network.from_dict(data)
    data["extensions"][0]["amplitude"] = 1.0
    data["extensions"][0]["neurons"] = [0.5]
    with pytest.raises(ValidationError, match=r"extensions\[0\]"):
        nm.Network.from_dict(data)


def test_spinnaker_noise_interval_is_refused_there():
    """sPyNNaker's NoisyCurrentSource takes dt = the time step only: the capability says so."""
    from neuromorph.capabilities import required_constructs
    from neuromorph.mechanisms import mechanism_capabilities
    net = nm.Network(dt=1.0)
    net.population("n", 1, nm.IF_curr_exp())
    net.add(nm.NoisyCurrentSource("x", "n", dt=2.0))
    assert "NoisyCurrentSource:dt>timestep" in required_constructs(net)
    assert not mechanism_capabilities("pynn:spinnaker")["NoisyCurrentSource:dt>timestep"].supported
    assert mechanism_capabilities("torch")["NoisyCurrentSource:dt>timestep"].supported


# -- the PyNN front-end ------------------------------------------------------------------------------------
def _script(sim, backend=None):
    """A PyNN script with every deterministic current source (runs unchanged on pyNN.nest)."""
    kw = {"backend": backend} if backend else {"spike_precision": "on_grid"}
    sim.setup(timestep=0.1, min_delay=0.1, **kw)
    pop = sim.Population(3, sim.IF_curr_exp(tau_m=12.0, cm=0.3, v_thresh=-56.0, tau_refrac=1.5), label="cells")
    pop.record(["spikes", "v"])
    dc = sim.DCSource(amplitude=0.5, start=3.0, stop=30.0)
    dc.inject_into(pop)
    steps = sim.StepCurrentSource(times=[5.0, 15.0, 22.0], amplitudes=[0.1, 0.4, -0.2])
    pop.inject(steps)
    ac = sim.ACSource(amplitude=0.3, offset=0.05, frequency=60.0, phase=10.0, start=8.0, stop=38.0)
    ac.inject_into(pop)
    sim.run(25.0)
    sim.run(15.0)
    block = pop.get_data()
    sim.end()
    seg = block.segments[0]
    v = np.asarray(seg.analogsignals[0].magnitude)
    spikes = [np.asarray(st.magnitude) for st in seg.spiketrains]
    return v, spikes


def test_frontend_script_runs_on_torch():
    import neuromorph.pynn as sim
    v, spikes = _script(sim, backend="torch")
    assert v.shape[0] == 400 and sum(len(s) for s in spikes) > 0


@needs_nest
def test_frontend_script_gives_nests_spikes():
    """The same PyNN script on native pyNN.nest and on neuromorph.pynn (torch): identical spikes,
    V to 1e-9 mV (the AC current agrees to rounding)."""
    import pyNN.nest as native

    import neuromorph.pynn as front
    v_n, s_n = _script(native)
    v_t, s_t = _script(front, backend="torch")
    assert v_n.shape[0] == v_t.shape[0] + 1  # PyNN adds a sample at the end time; neuromorph stops one step before
    assert np.max(np.abs(v_t - v_n[:v_t.shape[0]])) < 1e-9
    _same_spikes(s_t, s_n)
    assert sum(len(s) for s in s_t) > 0


def test_frontend_refuses_what_it_cannot_do():
    import neuromorph.pynn as sim
    sim.setup(timestep=0.1)
    pop = sim.Population(2, sim.IF_curr_exp())
    src = sim.SpikeSourceArray(spike_times=[1.0])
    spop = sim.Population(1, src)
    with pytest.raises(nm.UnsupportedError, match="spike source"):
        sim.DCSource(amplitude=1.0).inject_into(spop)
    with pytest.raises(ValidationError, match="unknown parameter"):
        sim.DCSource(amplitud=1.0)
    dc = sim.DCSource(amplitude=1.0)
    dc.inject_into(pop)
    sim.run(1.0)
    with pytest.raises(nm.UnsupportedError, match="after the first run"):
        dc.amplitude = 2.0
    sim.end()
