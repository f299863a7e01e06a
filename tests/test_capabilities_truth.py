"""The capability tables must not claim what does not exist.

For every backend available here — torch under each numerics profile, pynn:nest (and, under
``slow``, pynn:brian2) — every *mechanism* key of its capability table (the entries of
``neuromorph.mechanisms.mechanism_capabilities``) is exercised with a minimal network that needs it:

- the key must be one the network really derives (``required_constructs``), so no entry is dead;
- declared native/emulated: ``nm.build`` accepts the network and it runs 20 ms;
- declared unsupported: ``nm.build`` refuses it with ``UnsupportedError`` carrying the table's
  reason (of the first unsupported key of the network, which is this one or its parent, e.g.
  ``Astrocytes`` before ``Astrocytes:SlowInwardCurrent``).

Every network below uses only constructs all these backends support apart from the one under
test (IF_curr_exp, SpikeSourceArray with spikes from 2·dt on, additive pair STDP with w_min = 0).
"""
from __future__ import annotations

import numpy as np
import pytest

import neuromorph as nm
from neuromorph.capabilities import required_constructs
from neuromorph.errors import BackendUnavailableError, UnsupportedError
from neuromorph.mechanisms import (SAL, Astrocytes, SlowInwardCurrent, STDPGate, SynapticGain, SynapticScaling,
                                   ThresholdAdaptation, WeightFactorCalibration, mechanism_capabilities)
from neuromorph.numerics import PROFILES

T_RUN = 20.0


def _base(plastic: bool = False) -> nm.Network:
    net = nm.Network(dt=1.0, seed=3)
    net.spike_source("src", [[2.0, 5.0, 9.0], [3.0, 7.0]])
    net.population("n", 2, nm.IF_curr_exp())
    stdp = nm.STDP(nm.SpikePairRule(20.0, 20.0, 0.01, 0.012), nm.Additive(0.0, 5.0)) if plastic else None
    net.connect("src", "n", nm.OneToOne(), weight=1.5, plasticity=stdp, label="in")
    net.record("n", "spikes")
    return net


def _scaling(plastic=False):
    net = _base(plastic)
    net.add(SynapticScaling("scaling", "n", target_rate=10.0, tau=100.0))
    return net


def _threshold():
    net = _base()
    net.add(ThresholdAdaptation("adapt", "n", target_rate=10.0, tau=100.0))
    return net


def _calibration():
    net = _base()
    net.add(WeightFactorCalibration("cal", projections=("in",), source="src", output="n",
                                    patterns=(((2.0,), (3.0,)), ((4.0,), ())), run_ms=10.0))
    return net


def _astrocytes(*coupling, plastic=False):
    net = _base(plastic)
    net.add(Astrocytes("astro", 1, covers=("in",), coupling=coupling, record=("Ca_astro",)))
    return net


def _sal():
    net = nm.Network(dt=1.0, seed=3)
    net.spike_source("src", [[2.0, 6.0], [4.0]])
    net.population("x", 2, nm.IF_curr_exp())
    net.population("y", 2, nm.IF_curr_exp())
    net.connect("src", "x", nm.OneToOne(), weight=3.0, label="drive")
    net.connect("x", "y", nm.AllToAll(), weight=0.5, label="xy")
    net.connect("y", "x", nm.AllToAll(), weight=0.5, label="yx")
    net.add(SAL("sal", forward="xy", backward="yx", tau=10.0, eta=1e-3, w_max=2.0))
    net.record("x", "spikes")
    return net


def _current(source):
    net = _base()
    net.add(source)
    return net


#: mechanism capability key -> a minimal network that needs it
NETWORKS = {
    "DCSource": lambda: _current(nm.DCSource("dc", "n", amplitude=0.5, start=2.0, stop=15.0)),
    "StepCurrentSource": lambda: _current(nm.StepCurrentSource("step", "n", times=(1.0, 8.0), amplitudes=(0.3, -0.1))),
    "ACSource": lambda: _current(nm.ACSource("ac", "n", amplitude=0.4, frequency=50.0, start=3.0, neurons=(1,))),
    "NoisyCurrentSource": lambda: _current(nm.NoisyCurrentSource("noise", "n", mean=0.1, stdev=0.2)),
    "NoisyCurrentSource:dt>timestep": lambda: _current(nm.NoisyCurrentSource("noise", "n", mean=0.1, stdev=0.2, dt=2.0)),
    "SynapticScaling": _scaling,
    "SynapticScaling:plastic projection": lambda: _scaling(plastic=True),
    "ThresholdAdaptation": _threshold,
    "WeightFactorCalibration": _calibration,
    "Astrocytes": _astrocytes,
    "Astrocytes:SlowInwardCurrent": lambda: _astrocytes(SlowInwardCurrent(0.05, 1.0)),
    "Astrocytes:SynapticGain": lambda: _astrocytes(SynapticGain(0.1)),
    "Astrocytes:STDPGate": lambda: _astrocytes(STDPGate(), plastic=True),
    "SAL": _sal,
}

#: (id, backend name, build options, mechanism_capabilities name, marks); PyNN's homeostasis
#: segment is 10 ms here so that the host loop really updates within the 20 ms run
BACKENDS = [(f"torch:{p}", "torch", {"numerics": p}, "torch", ()) for p in PROFILES] + [
    ("pynn:nest", "pynn:nest", {"segment_ms": 10.0}, "pynn:nest", ()),
    ("pynn:brian2", "pynn:brian2", {"segment_ms": 10.0}, "pynn:brian2", (pytest.mark.slow,)),
]


def _table(backend: str, options: dict) -> dict:
    try:
        if backend == "torch":
            from neuromorph.backends.torch import capabilities
            return capabilities(numerics=options["numerics"])
        from neuromorph.backends.pynn import capabilities
        return capabilities(backend)
    except ImportError as exc:
        pytest.skip(f"{backend}: not importable here ({exc})")


def _needed(net, backend: str) -> list[str]:
    need = required_constructs(net)
    if backend.startswith("pynn"):
        from neuromorph.backends.pynn import extra_constructs
        need += [k for k in extra_constructs(net) if k not in need]
    return need


def _cases():
    out = []
    for bid, backend, options, mech_name, marks in BACKENDS:
        for key in mechanism_capabilities(mech_name):
            out.append(pytest.param(backend, options, key, id=f"{bid}-{key}", marks=marks))
    return out


def test_every_mechanism_key_has_a_network():
    """A new mechanism key must come with a network here (or this test cannot check it)."""
    keys = {k for _, _, _, name, _ in BACKENDS for k in mechanism_capabilities(name)}
    keys |= {k for name in ("pynn:spinnaker",) for k in mechanism_capabilities(name)}
    assert keys <= set(NETWORKS), f"no network for {sorted(keys - set(NETWORKS))}"


@pytest.mark.parametrize("backend,options,key", _cases())
def test_mechanism_capability_is_true(backend, options, key):
    table = _table(backend, options)
    cap = table.get(key)
    assert cap is not None, f"{key} is in mechanism_capabilities but not in the {backend} table"
    net = NETWORKS[key]()
    need = _needed(net, backend)
    assert key in need, f"the network for {key!r} does not derive it (derives {need}): the key is dead"
    missing = [k for k in need if k not in table]
    assert not missing, f"{backend} table lacks {missing}"
    if cap.supported:
        blockers = [k for k in need if not table[k].supported]
        assert not blockers, f"test network for {key!r} also needs {blockers}, unsupported on {backend}"
        try:
            sim = nm.build(net, backend=backend, **options)
        except BackendUnavailableError as exc:
            pytest.skip(f"{backend}: {exc}")
        sim.run(T_RUN)
        assert sim.time == pytest.approx(T_RUN)
        if key in ("SynapticScaling", "ThresholdAdaptation"):  # the mechanism acted (10 Hz target, 0 spikes: up)
            m = next(m for m in sim.mechanisms if type(m).__name__.endswith(key + "Mechanism")
                     or type(m).__name__ == "Host" + key)
            state = m.factor if key == "SynapticScaling" else m.shift
            state = state.detach().cpu().numpy() if hasattr(state, "detach") else np.asarray(state)
            assert np.all(state != (1.0 if key == "SynapticScaling" else 0.0)), f"{key} did not act on {backend}"
        if hasattr(sim, "close"):
            sim.close()
    else:
        first = next(k for k in need if not table[k].supported)
        assert first == key or key.startswith(first + ":"), (
            f"test network for {key!r} is refused for {first!r} first; it must need only supported constructs otherwise")
        with pytest.raises(UnsupportedError) as err:
            nm.build(net, backend=backend, **options)
        assert table[first].how in str(err.value), f"refused with {err.value!r}, not the table's reason {table[first].how!r}"


def test_pynn_spinnaker_mechanism_table_matches_its_lowering():
    """pynn:spinnaker cannot run here without a board, but its supported mechanism entries must be
    the ones the PyNN host loop implements (the same code runs on every PyNN simulator)."""
    from neuromorph.backends.pynn.homeostasis import HOST_MECHANISMS
    host = {t.__name__ for t in HOST_MECHANISMS}
    for name in ("pynn:nest", "pynn:brian2", "pynn:spinnaker"):
        for key, cap in mechanism_capabilities(name).items():
            if cap.supported:
                assert key.split(":")[0] in host, f"{name}: {key} declared {cap.status} but the PyNN backend has no lowering for it"
