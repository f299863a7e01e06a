"""IF_curr_alpha and Izhikevich: closed forms, description (JSON, validation, initial values) and
capability tables.

The closed forms are independent of NEST and of the lowerings: the alpha PSP is the analytic
solution of ``τm dV/dt = −V + R·I(t)`` with ``I(t) = w·(t/τs)·e^(1 − t/τs)``; the Izhikevich trace
is a plain forward-Euler recursion written here in numpy. They run on the torch ``exact`` profile
and, where pyNN.nest is importable, on PyNN/NEST too.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

import neuromorph as nm
from neuromorph.errors import UnsupportedError, ValidationError


def _has_pynn_nest() -> bool:
    try:
        import pyNN.nest  # noqa: F401
    except Exception:
        return False
    return True


BACKENDS = [pytest.param("torch", id="torch-exact"),
            pytest.param("pynn:nest", id="pynn-nest", marks=pytest.mark.skipif(
                not _has_pynn_nest(), reason="pyNN.nest (PyNN + NEST) is not importable here"))]
DTS = [1.0, 0.5, 0.1]


def _run(net, backend, ms):
    sim = nm.build(net, backend=backend, **({"numerics": "exact"} if backend == "torch" else {}))
    sim.run(ms)
    return sim


# -- IF_curr_alpha: analytic PSP --------------------------------------------------------------

def alpha_psp(t, w, tau_s, tau_m, cm):
    """V − v_rest [mV] at ``t`` [ms] after an alpha current of peak ``w`` [nA] starts (0 before)."""
    t = np.asarray(t, dtype=float)
    scale = w * math.e / (cm * tau_s)  # (1/C)·w·e/τs
    if tau_s == tau_m:
        out = scale * t * t / 2 * np.exp(-t / tau_m)
    else:
        k = 1 / tau_s - 1 / tau_m
        out = scale * np.exp(-t / tau_m) * (1 - np.exp(-k * t) * (1 + k * t)) / (k * k)
    return np.where(t > 0, out, 0.0)


def alpha_peak_time(w, tau_s, tau_m, cm):
    """Time of the PSP maximum: the zero of dV/dt (bisection on the analytic curve)."""
    lo, hi = 1e-6, 20 * max(tau_s, tau_m)
    f = lambda t: alpha_psp(t + 1e-7, w, tau_s, tau_m, cm) - alpha_psp(t - 1e-7, w, tau_s, tau_m, cm)  # noqa: E731
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) > 0 else (lo, mid)
    return (lo + hi) / 2


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("tau_syn_E", [2.0, 15.0], ids=["tau_s<tau_m", "tau_s=tau_m"])
def test_alpha_psp_closed_form(backend, dt, tau_syn_E):
    """One excitatory spike (source at 10 ms, delay 1 step) and one inhibitory spike (80 ms,
    delay 2 steps): V − v_rest equals the superposed analytic PSPs at every sample; the current
    starts at the sample source + delay (NEST: the event is added after the V update of its step).
    The PSP peaks where the analytic curve does (within one step), and isyn peaks at w."""
    c = nm.IF_curr_alpha(cm=0.5, tau_m=15.0, tau_syn_E=tau_syn_E, tau_syn_I=3.0, v_thresh=0.0, v_reset=-70.0)
    w_e, w_i = 0.4, 0.25
    net = nm.Network(dt=dt)
    net.spike_source("e", [[10.0]])
    net.spike_source("i", [[80.0]])
    net.population("n", 1, c)
    net.connect("e", "n", nm.OneToOne(), weight=w_e, delay=dt)
    net.connect("i", "n", nm.OneToOne(), weight=w_i, delay=2 * dt, receptor="inhibitory")
    net.record("n", "v", "isyn_exc", "isyn_inh")
    sim = _run(net, backend, 120.0)
    t = np.arange(round(120.0 / dt)) * dt
    t0e, t0i = 10.0 + dt, 80.0 + 2 * dt
    expected = (alpha_psp(t - t0e, w_e, tau_syn_E, c.tau_m, c.cm) - alpha_psp(t - t0i, w_i, c.tau_syn_I, c.tau_m, c.cm))
    v = sim.trace("n", "v")[:, 0] - c.v_rest
    assert np.max(np.abs(v - expected)) < 1e-9
    # peak of the excitatory PSP (before the inhibitory one starts)
    before = t < t0i
    t_peak = alpha_peak_time(w_e, tau_syn_E, c.tau_m, c.cm)
    assert abs(t[before][np.argmax(v[before])] - (t0e + t_peak)) <= dt
    assert alpha_psp(t_peak, w_e, tau_syn_E, c.tau_m, c.cm) - 1e-9 <= v[before].max() + 0.01 * dt * dt
    assert v[before].max() <= alpha_psp(t_peak, w_e, tau_syn_E, c.tau_m, c.cm) + 1e-9
    # the synaptic currents are w·(t/τs)·e^(1−t/τs): peak w at t = τs
    ie, ii = sim.trace("n", "isyn_exc")[:, 0], sim.trace("n", "isyn_inh")[:, 0]
    k_e, k_i = round((t0e + tau_syn_E) / dt), round((t0i + c.tau_syn_I) / dt)
    assert ie[k_e] == pytest.approx(w_e, rel=1e-12) and ii[k_i] == pytest.approx(w_i, rel=1e-12)
    assert np.all(ie <= w_e * (1 + 1e-12)) and np.all(ii >= 0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_alpha_refractory_holds_v(backend):
    """After a spike V stays at v_reset for ceil(tau_refrac/dt) steps (NEST's t_ref in steps)."""
    dt = 0.5
    c = nm.IF_curr_alpha(tau_refrac=2.6, i_offset=2.0)
    net = nm.Network(dt=dt)
    net.population("n", 1, c)
    net.record("n", "spikes", "v")
    sim = _run(net, backend, 40.0)
    v = sim.trace("n", "v")[:, 0]
    k = round(sim.spikes("n")[0][0] / dt)
    n_ref = math.ceil(2.6 / dt)  # 6 steps
    assert np.all(v[k:k + n_ref + 1] == c.v_reset) and v[k + n_ref + 1] > c.v_reset


# -- Izhikevich: forward Euler in numpy -------------------------------------------------------

def izh_euler(a, b, c, d, I, v0, u0, dt, steps):
    """Forward Euler of dv/dt = 0.04v² + 5v + 140 − u + I, du/dt = a(bv − u); reset at v ≥ 30.
    Returns (v, u) rows 0..steps−1 (row k = after k steps) and the spike times of ``steps``
    updates (a crossing in update k is stamped (k+1)·dt, as NEST does)."""
    v, u = v0, u0
    vs, us, spikes = [v], [u], []
    for k in range(steps):
        dv = 0.04 * v * v + 5.0 * v + 140.0 - u + I
        du = a * (b * v - u)
        v, u = v + dt * dv, u + dt * du
        if v >= 30.0:
            v, u = c, u + d
            spikes.append((k + 1) * dt)
        vs.append(v)
        us.append(u)
    return np.array(vs[:steps]), np.array(us[:steps]), np.array(spikes)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("params", [dict(a=0.02, b=0.2, c=-65.0, d=8.0), dict(a=0.02, b=0.2, c=-50.0, d=2.0),
                                    dict(a=0.1, b=0.2, c=-65.0, d=2.0)], ids=["RS", "CH", "FS"])
def test_izhikevich_constant_current_euler(backend, dt, params):
    """Constant i_offset = 0.01 nA is I = 10 mV/ms (PyNN nA → NEST pA, read as mV/ms); from
    PyNN's initial v = −70 mV, u = −14 mV/ms the traces and spikes equal the Euler recursion."""
    cell = nm.Izhikevich(i_offset=0.01, **params)
    net = nm.Network(dt=dt)
    net.population("n", 1, cell)
    net.record("n", "spikes", "v", "u")
    sim = _run(net, backend, 100.0)
    steps = round(100.0 / dt)
    v, u, spikes = izh_euler(cell.a, cell.b, cell.c, cell.d, 10.0, -70.0, -14.0, dt, steps)
    assert len(spikes) >= 3
    np.testing.assert_array_equal(np.round(sim.spikes("n")[0] / dt).astype(int), np.round(spikes / dt).astype(int))
    assert np.max(np.abs(sim.trace("n", "v")[:, 0] - v)) < 1e-9
    assert np.max(np.abs(sim.trace("n", "u")[:, 0] - u)) < 1e-9


@pytest.mark.parametrize("backend", BACKENDS)
def test_izhikevich_weight_is_a_voltage_jump(backend):
    """A weight w [mV] moves v by exactly ±w in the sample source + delay, on top of the free
    Euler step (no current, no decay): +5 mV at 10 ms + 1 step, −3 mV at 10 ms + 2 steps."""
    dt = 1.0
    net = nm.Network(dt=dt)
    net.spike_source("s", [[10.0]])
    for label in ("e", "i", "free"):
        net.population(label, 1, nm.Izhikevich())
        net.record(label, "v")
    net.connect("s", "e", nm.OneToOne(), weight=5.0, delay=1.0)
    net.connect("s", "i", nm.OneToOne(), weight=3.0, delay=2.0, receptor="inhibitory")
    sim = _run(net, backend, 15.0)
    free = sim.trace("free", "v")[:, 0]
    for label, k, jump in (("e", 11, 5.0), ("i", 12, -3.0)):
        v = sim.trace(label, "v")[:, 0]
        assert np.all(v[:k] == free[:k])
        assert v[k] - free[k] == pytest.approx(jump, abs=1e-12)


# -- description ------------------------------------------------------------------------------

def _net_both():
    net = nm.Network(dt=0.5, seed=7)
    net.spike_source("s", [[1.0, 2.5]])
    net.population("a", 2, nm.IF_curr_alpha(cm=0.25, tau_syn_E=0.1 + 0.2, tau_syn_I=1 / 3, i_offset=0.05),
                   initial_values={"v": [-64.0, -63.5]})
    net.population("z", 3, nm.Izhikevich(a=0.1, b=0.25, c=-55.0, d=0.05, i_offset=0.003),
                   initial_values={"u": [-13.0, -12.5, -12.0]})
    net.connect("s", "a", nm.AllToAll(), weight=0.3, delay=1.0)
    net.connect("s", "z", nm.AllToAll(), weight=4.0, delay=0.5, receptor="inhibitory")
    net.record("a", "spikes", "v", "isyn_exc")
    net.record("z", "spikes", "v", "u")
    return net


def test_json_round_trip():
    net = _net_both()
    s1 = net.to_json()
    net2 = nm.Network.from_json(s1)
    assert net2.to_json() == s1
    assert net2.populations["a"].celltype == net.populations["a"].celltype
    assert net2.populations["z"].celltype == net.populations["z"].celltype
    assert net2.populations["a"].celltype.tau_syn_E == 0.1 + 0.2
    types = {p["celltype"]["type"] for p in json.loads(s1)["populations"]}
    assert {"IF_curr_alpha", "Izhikevich"} <= types
    sim1, sim2 = _run(net, "torch", 10.0), _run(net2, "torch", 10.0)
    for label, var in (("a", "v"), ("z", "v"), ("z", "u")):
        np.testing.assert_array_equal(sim1.trace(label, var), sim2.trace(label, var))


def test_initial_values():
    net = _net_both()
    z, a = net.populations["z"], net.populations["a"]
    np.testing.assert_array_equal(z.initial("v"), [-70.0] * 3)        # PyNN's Izhikevich default
    np.testing.assert_array_equal(z.initial("u"), [-13.0, -12.5, -12.0])
    np.testing.assert_array_equal(a.initial("v"), [-64.0, -63.5])
    np.testing.assert_array_equal(a.initial("isyn_inh"), [0.0, 0.0])
    net.population("z2", 2, nm.Izhikevich())
    np.testing.assert_array_equal(net.populations["z2"].initial("u"), [-14.0, -14.0])
    net.population("a2", 1, nm.IF_curr_alpha(v_rest=-61.0))
    np.testing.assert_array_equal(net.populations["a2"].initial("v"), [-61.0])
    sim = _run(net, "torch", 1.0)
    assert sim.trace("z", "u")[0].tolist() == [-13.0, -12.5, -12.0]
    assert sim.trace("z", "v")[0].tolist() == [-70.0] * 3


@pytest.mark.parametrize("make, name", [
    (lambda: nm.IF_curr_alpha(tau_syn_E=0.0), "tau_syn_E"),
    (lambda: nm.IF_curr_alpha(tau_syn_I=-1.0), "tau_syn_I"),
    (lambda: nm.IF_curr_alpha(tau_m=float("nan")), "tau_m"),
    (lambda: nm.IF_curr_alpha(cm=0.0), "cm"),
    (lambda: nm.IF_curr_alpha(tau_refrac=-0.1), "tau_refrac"),
    (lambda: nm.IF_curr_alpha(v_thresh=-70.0), "v_thresh"),
    (lambda: nm.Izhikevich(a=float("inf")), "a"),
    (lambda: nm.Izhikevich(d="2"), "d"),
    (lambda: nm.Izhikevich(c=30.0), "c"),
    (lambda: nm.Izhikevich(i_offset=float("nan")), "i_offset"),
])
def test_validation(make, name):
    with pytest.raises(ValidationError) as err:
        make()
    msg = str(err.value)
    assert "\n" not in msg and f"{name}=" in msg


def test_unknown_state_variable():
    net = nm.Network(dt=1.0)
    with pytest.raises(ValidationError, match="no state variable 'isyn_exc' on Izhikevich"):
        net.population("z", 1, nm.Izhikevich(), initial_values={"isyn_exc": 0.0})
    with pytest.raises(ValidationError, match="no recordable 'u'"):
        net.population("a", 1, nm.IF_curr_alpha())
        net.record("a", "u")


# -- capabilities -----------------------------------------------------------------------------

def test_torch_capabilities():
    from neuromorph.backends.torch import capabilities
    exact = capabilities(numerics="exact")
    assert exact["IF_curr_alpha"].status == "native" and exact["Izhikevich"].status == "native"
    assert exact["record:u"].supported
    spin = capabilities(numerics="spinnaker")
    assert not spin["IF_curr_alpha"].supported and "no torch lowering" in spin["IF_curr_alpha"].how
    net = nm.Network(dt=1.0)
    net.population("z", 1, nm.Izhikevich())
    with pytest.raises(UnsupportedError, match="Izhikevich"):
        nm.build(net, backend="torch", numerics="spinnaker")


def test_pynn_capabilities():
    from neuromorph.backends.pynn.capabilities import TABLES
    for sim in ("nest", "brian2", "spinnaker"):
        assert "IF_curr_alpha" in TABLES[sim] and "Izhikevich" in TABLES[sim] and "record:u" in TABLES[sim]
    assert TABLES["nest"]["Izhikevich"].status == "native" and TABLES["nest"]["IF_curr_alpha"].status == "native"
    assert not TABLES["spinnaker"]["Izhikevich"].supported


@pytest.mark.skipif(not _has_pynn_nest(), reason="pyNN.nest (PyNN + NEST) is not importable here")
def test_pynn_nest_izhikevich_weights_read_back_in_mV():
    """PyNN's NEST module scales Izhikevich weights by 1000 then 1e-3: the weights read back are
    the description's mV magnitudes (not 1000× too small)."""
    net = nm.Network(dt=1.0)
    net.spike_source("s", [[5.0], [6.0]])
    net.population("z", 2, nm.Izhikevich())
    net.connect("s", "z", nm.OneToOne(), weight=np.array([4.0, 2.5]), label="p", receptor="inhibitory")
    sim = nm.build(net, backend="pynn:nest")
    w = sim.weights("p")
    assert w[0, 0] == pytest.approx(4.0, rel=1e-12) and w[1, 1] == pytest.approx(2.5, rel=1e-12)
