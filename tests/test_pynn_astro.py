"""Host-in-the-loop astrocytes on the PyNN backend (NEST): neuromorph.backends.pynn.host_astro.

- the astrocyte state the host integrates from NEST's recorded input spikes equals torch's
  (``numerics="exact"``: NEST's conventions) step for step: IP3, Ca_astro, SIC (1e-12);
- SlowInwardCurrent: NEST's i_offset during a segment is i_offset + weight·SIC of the previous
  segment's last step; SynapticGain: NEST's weights are w·max(1 + gain·SIC, 1e-6), ``sim.weights``
  reports w;
- the deviation the segment length causes against torch (spikes of the driven neurons) shrinks
  with the segment: ≤ 1 % of torch's spike count at 10 ms segments.
"""
from __future__ import annotations

import numpy as np
import pytest

import neuromorph as nm
from neuromorph.errors import UnsupportedError
from neuromorph.mechanisms import Astrocytes, SlowInwardCurrent, SynapticGain

pytest.importorskip("pyNN.nest", reason="PyNN on NEST is not installed")

NEST = "pynn:nest"
T = 2000.0
SEG = 100.0
RECORD = ("Ca_astro", "IP3", "SIC")


def _net(*coupling, plastic=False):
    """4 spike sources (200 random spike times each in 2 s) → 4 IF_curr_exp neurons, one to one;
    2 astrocytes cover the projection (input_weight 40: Ca crosses the SIC threshold in ~1 s)."""
    net = nm.Network(dt=1.0, seed=1)
    rng = np.random.default_rng(0)
    net.spike_source("src", [sorted(set(np.round(rng.uniform(2.0, T, 200)).tolist())) for _ in range(4)])
    net.population("n", 4, nm.IF_curr_exp())
    stdp = nm.STDP(nm.SpikePairRule(20.0, 20.0, 0.01, 0.012), nm.Additive(0.0, 5.0)) if plastic else None
    net.connect("src", "n", nm.OneToOne(), weight=1.5, plasticity=stdp, label="in")
    net.add(Astrocytes("astro", 2, covers=("in",), coupling=coupling, input_weight=40.0, record=RECORD))
    net.record("n", "spikes")
    return net


def _torch(net):
    sim = nm.build(net, backend="torch", numerics="exact")
    sim.run(T)
    return sim


def test_astrocyte_state_equals_torch_given_the_spikes():
    ref = _torch(_net()).mechanisms[0]
    sim = nm.build(_net(), backend=NEST, segment_ms=SEG)
    for ms in (250.0, 750.0, 1000.0):          # how run is split does not matter
        sim.run(ms)
    host = sim.mechanisms[0]
    for name in RECORD:
        got, want = host.trace(name), ref.trace(name)
        assert got.shape == want.shape == (int(T), 1, 2)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12, err_msg=name)
    assert host.trace("SIC").max() > 1.0       # Ca crossed the SIC threshold: the couplings act
    sim.close()


def test_slow_inward_current_sets_i_offset_between_segments():
    w = 0.1
    sim = nm.build(_net(SlowInwardCurrent(w, 1.0)), backend=NEST, segment_ms=SEG)
    host = sim.mechanisms[0]
    domain = np.array([0, 0, 1, 1])
    seen = 0
    for _ in range(int(T / SEG)):
        sim.run(SEG)
        sic_last = host.trace("SIC")[-1, 0]
        got = np.asarray(sim.lowered.populations["n"].get("i_offset", gather=True), dtype=float)
        np.testing.assert_allclose(got, w * sic_last[domain], rtol=1e-12, atol=1e-15)
        seen += bool(np.any(got > 0))
    assert seen >= 5
    assert 0.0 < host.lag == max(host.lag_history)
    sim.close()


def test_synaptic_gain_rewrites_the_covered_weights():
    from neuromorph.backends.pynn import weights as wio
    g = 0.5
    sim = nm.build(_net(SynapticGain(g)), backend=NEST, segment_ms=SEG)
    host = sim.mechanisms[0]
    for _ in range(int(T / SEG)):
        sim.run(SEG)
        sic_last = host.trace("SIC")[-1, 0]
        want = 1.5 * np.maximum(1.0 + g * sic_last[[0, 0, 1, 1]], 1e-6)
        got = wio.read(sim.lowered.projections["in"], "nest", sim.net.connectivity("in"))
        np.testing.assert_allclose(got, want, rtol=1e-12)
        np.testing.assert_array_equal(np.nan_to_num(sim.weights("in")), np.diag([1.5] * 4))   # stored w
    assert np.all(got > 1.5 * 1.5)
    sim.close()


@pytest.mark.parametrize("coupling", [SlowInwardCurrent(0.1, 1.0), SynapticGain(0.5)], ids=["SIC", "gain"])
def test_segment_deviation_against_torch(coupling):
    """Spikes of the driven neurons against torch (online coupling): the deviation shrinks with
    the segment; at 10 ms segments the totals agree within 1 %."""
    want = sum(len(s) for s in _torch(_net(coupling)).spikes("n"))
    dev = {}
    for seg in (10.0, 100.0, 1000.0):
        sim = nm.build(_net(coupling), backend=NEST, segment_ms=seg)
        sim.run(T)
        dev[seg] = abs(sum(len(s) for s in sim.spikes("n")) - want) / want
        sim.close()
    print(type(coupling).__name__, "relative spike-count deviation by segment:", dev)
    assert dev[10.0] <= 0.01
    assert dev[10.0] <= dev[100.0] <= dev[1000.0]


def test_gain_on_a_plastic_projection_is_refused():
    with pytest.raises(UnsupportedError, match="plastic projection"):
        nm.build(_net(SynapticGain(0.5), plastic=True), backend=NEST, segment_ms=SEG)
