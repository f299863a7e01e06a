"""Projections resolve to synapse lists (pre, post, weights, delays) sorted by (pre, post), without
dense [n_pre, n_post] intermediates: the lists equal what the old dense construction gave, big
projections fit in memory, and impossible ones are refused before allocation."""
from __future__ import annotations

import importlib.util
import tracemalloc

import numpy as np
import pytest

import neuromorph as nm
from neuromorph import connectors, network
from neuromorph.errors import ValidationError


def _two(n_pre, n_post, same=False):
    net = nm.Network(dt=1.0, seed=3)
    a = net.population("a", n_pre, nm.IF_curr_exp())
    b = a if same else net.population("b", n_post, nm.IF_curr_exp())
    return net, a, b


# -- connectors --------------------------------------------------------------------------------

@pytest.mark.parametrize("chunk", [connectors.CHUNK, 64, 5])
@pytest.mark.parametrize("n_pre, n_post, p, seed, same, allow_self", [
    (7, 13, 0.3, 1, False, True),
    (300, 170, 0.05, 2, False, True),
    (50, 50, 0.2, 5, True, False),
    (40, 40, 0.9, 3, True, False),
    (6, 6, 1.0, 4, True, False),
    (9, 4, 0.0, 6, False, True),
])
def test_fixed_probability_equals_the_dense_draw(monkeypatch, chunk, n_pre, n_post, p, seed, same, allow_self):
    """Drawn a few rows at a time, bit-identical to rng.random((n_pre, n_post)) < p (the chunk of 5
    numbers is smaller than a row, so every row is its own chunk)."""
    monkeypatch.setattr(connectors, "CHUNK", chunk)
    net, a, b = _two(n_pre, n_post, same)
    conn = net.connectivity(net.connect(a, b, nm.FixedProbability(p, seed=seed, allow_self_connections=allow_self)))
    mask = np.random.default_rng(seed).random((n_pre, n_post)) < p
    if same and not allow_self:
        np.fill_diagonal(mask, False)
    pre, post = np.nonzero(mask)
    np.testing.assert_array_equal(conn.pre, pre)
    np.testing.assert_array_equal(conn.post, post)
    assert conn.pre.dtype == conn.post.dtype == conn.delays.dtype == np.int64 and conn.weights.dtype == np.float64
    np.testing.assert_array_equal(conn.dense_mask(), mask)


def test_fixed_probability_without_seed_uses_the_network_seed():
    net, a, b = _two(30, 40)
    conn = net.connectivity(net.connect(a, b, nm.FixedProbability(0.2)))
    mask = np.random.default_rng(net.seed * 1_000_003 + 0).random((30, 40)) < 0.2
    np.testing.assert_array_equal(conn.dense_mask(), mask)


def test_fixed_probability_grows_past_its_first_guess(monkeypatch):
    """The in-place lists start at mean + 10 sd; a (monkeypatched) too-small guess still works."""
    monkeypatch.setattr(connectors, "CHUNK", 100)
    monkeypatch.setattr(nm.FixedProbability, "expected_size", lambda self, *a: 0.0)
    net, a, b = _two(200, 300)
    conn = net.connectivity(net.connect(a, b, nm.FixedProbability(0.5, seed=9)))
    pre, post = np.nonzero(np.random.default_rng(9).random((200, 300)) < 0.5)
    assert conn.size == pre.size > 1024
    np.testing.assert_array_equal(conn.pre, pre)
    np.testing.assert_array_equal(conn.post, post)


@pytest.mark.parametrize("allow_self", [True, False])
def test_all_to_all(allow_self):
    net, a, b = _two(5, 5, same=True)
    conn = net.connectivity(net.connect(a, a, nm.AllToAll(allow_self_connections=allow_self)))
    mask = np.ones((5, 5), bool)
    if not allow_self:
        np.fill_diagonal(mask, False)
    pre, post = np.nonzero(mask)
    np.testing.assert_array_equal(conn.pre, pre)
    np.testing.assert_array_equal(conn.post, post)
    # between different populations there is no "self", so nothing is removed
    net, a, b = _two(3, 4)
    conn = net.connectivity(net.connect(a, b, nm.AllToAll(allow_self_connections=False)))
    assert conn.size == 12
    np.testing.assert_array_equal(conn.dense_mask(), np.ones((3, 4), bool))


def test_one_to_one():
    net, a, b = _two(4, 4)
    conn = net.connectivity(net.connect(a, b, nm.OneToOne(), weight=[1.0, 2.0, 3.0, 4.0], delay=2.0))
    assert list(conn.pre) == list(conn.post) == [0, 1, 2, 3]
    assert list(conn.weights) == [1.0, 2.0, 3.0, 4.0] and conn.distinct_delays == [2]


def test_from_list_is_sorted_with_its_weights_and_delays():
    rows = [(2, 0, 0.5, 3.0), (0, 1, 0.25, 1.0), (1, 1, 2.0, 2.0), (0, 0, 1.5, 4.0)]
    net, a, b = _two(3, 2)
    conn = net.connectivity(net.connect(a, b, nm.FromList(rows)))
    assert list(zip(conn.pre.tolist(), conn.post.tolist())) == [(0, 0), (0, 1), (1, 1), (2, 0)]
    by_pair = {(i, j): (w, d) for i, j, w, d in rows}
    for i, j, w, d in zip(conn.pre, conn.post, conn.weights, conn.delays):
        assert by_pair[(int(i), int(j))] == (w, float(d))


def test_per_connection_projection_values_follow_their_pairs():
    """weight/delay given one value per connection are in connector order and move with the sort;
    an [n_pre, n_post] array is read at (pre, post)."""
    net, a, b = _two(3, 2)
    pairs = [(2, 0), (0, 1), (1, 1)]
    conn = net.connectivity(net.connect(a, b, nm.FromList(pairs), weight=[0.1, 0.2, 0.3], delay=[3.0, 1.0, 2.0]))
    assert list(zip(conn.pre.tolist(), conn.post.tolist())) == [(0, 1), (1, 1), (2, 0)]
    assert list(conn.weights) == [0.2, 0.3, 0.1] and list(conn.delays) == [1, 2, 3]
    matrix = np.arange(6, dtype=float).reshape(3, 2)
    conn = net.connectivity(net.connect(a, b, nm.FromList(pairs), weight=matrix))
    np.testing.assert_array_equal(conn.weights, matrix[conn.pre, conn.post])


def test_per_connection_delays_off_grid_are_refused_as_before():
    net, a, b = _two(2, 2)
    with pytest.raises(ValidationError, match=r"delay=1\.5 ms is not a multiple of dt=1\.0 ms"):
        net.connect(a, b, nm.OneToOne(), delay=[1.0, 1.5])
    with pytest.raises(ValidationError, match="below 1 step"):
        net.connect(a, b, nm.OneToOne(), delay=[0.0, 1.0])


# -- Connectivity ------------------------------------------------------------------------------

def test_connectivity_views_and_read_only_lists():
    net, a, b = _two(3, 4)
    conn = net.connectivity(net.connect(a, b, nm.FromList([(0, 1, 0.5, 2.0), (2, 1, 1.5, 1.0), (2, 3, 2.5, 3.0)])))
    assert conn.size == 3 and conn.distinct_delays == [1, 2, 3]
    assert list(conn.fan_in()) == [0, 2, 0, 1]
    dense = conn.dense()
    assert dense.shape == (3, 4) and np.isnan(dense).sum() == 9 and dense[2, 3] == 2.5
    assert conn.dense(conn.delays, fill=0)[0, 1] == 2
    stacked = conn.dense(np.stack([conn.weights, 2 * conn.weights]))
    assert stacked.shape == (2, 3, 4) and stacked[1, 2, 1] == 3.0
    assert list(conn.positions([2, 0], [3, 1])) == [2, 0]
    with pytest.raises(ValidationError, match=r"\(1, 1\) is not one of its synapses"):
        conn.positions([1], [1])
    for name in ("pre", "post", "weights", "delays"):
        with pytest.raises(ValueError):
            getattr(conn, name)[0] = 0
    for old in ("mask", "weight", "delay_steps"):
        assert not hasattr(conn, old)


def test_dense_is_refused_above_the_limit(monkeypatch):
    monkeypatch.setattr(network, "DENSE_LIMIT", 11)
    net, a, b = _two(3, 4)
    conn = net.connectivity(net.connect(a, b, nm.AllToAll(), label="big"))
    for call in (conn.dense, conn.dense_mask):
        with pytest.raises(ValidationError) as info:
            call()
        msg = str(info.value)
        assert "\n" not in msg and "'big'" in msg and "[3, 4]" in msg and 'format="list"' in msg


# -- memory ------------------------------------------------------------------------------------

def test_too_big_for_memory_is_refused_before_allocation(monkeypatch):
    monkeypatch.setattr(network, "available_memory", lambda: 10_000_000)
    net, a, b = _two(50_000, 50_000)
    with pytest.raises(ValidationError) as info:
        net.connect(a, b, nm.FixedProbability(0.02), label="huge")  # would take ~30 s to draw
    msg = str(info.value)
    assert "\n" not in msg and "'huge'" in msg
    assert "50,000,000 synapses" in msg and "1,600,000,000 bytes" in msg and "10,000,000 bytes" in msg
    assert "huge" not in net.projections
    with pytest.raises(ValidationError, match="2,500,000,000 synapses"):
        net.connect(a, b, nm.AllToAll())
    net.connect(a, b, nm.OneToOne())  # 1.6 MB fits


def test_available_memory_is_read():
    avail = network.available_memory()
    assert avail is None or avail > 0


def test_fixed_probability_memory_is_the_lists_not_the_matrix():
    """8,000 × 8,000 at p = 0.02: the old dense draw peaked above 512 MB (float64 matrix); now the
    peak is the lists (32 bytes per synapse) plus one chunk of random numbers."""
    net, a, b = _two(8_000, 8_000)
    tracemalloc.start()
    try:
        conn = net.connectivity(net.connect(a, b, nm.FixedProbability(0.02, seed=1)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    held = conn.size * network.BYTES_PER_SYNAPSE
    assert 1_200_000 < conn.size < 1_360_000
    assert peak < held * 1.1 + connectors.CHUNK * 9 + 2**20, (peak, held)


@pytest.mark.slow
def test_fixed_probability_50k_by_50k_fits_in_a_few_gb():
    """The issue's case: 50,000 × 50,000 at p = 0.02 (5·10^7 synapses, ~20 s on one core)."""
    import resource
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    net, a, _ = _two(50_000, 50_000, same=True)
    conn = net.connectivity(net.connect(a, a, nm.FixedProbability(0.02, seed=1), weight=0.1))
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    assert abs(conn.size - 50_000_000) < 50_000
    assert np.all(np.diff(conn.pre) >= 0)
    assert grown < 2.5 * 2**30, grown  # 1.6 GB of lists (the dense float64 draw alone was 20 GB)


# -- PyNN --------------------------------------------------------------------------------------

HAVE_NEST = importlib.util.find_spec("pyNN") is not None and importlib.util.find_spec("nest") is not None


@pytest.mark.skipif(not HAVE_NEST, reason="pyNN.nest is not installed (pip install -e '.[pynn]')")
def test_pynn_list_format_agrees_with_array():
    net = nm.Network(dt=1.0, seed=2)
    net.spike_source("src", [[5.0, 15.0], [8.0], [], [12.0]])
    net.population("n", 3, nm.IF_curr_exp())
    stdp = nm.STDP(timing=nm.SpikePairRule(A_plus=0.05, A_minus=0.05), weight=nm.Additive(0.0, 2.0))
    net.connect("src", "n", nm.FromList([(3, 2, 0.4), (0, 0, 0.9), (1, 2, 0.7), (0, 1, 0.3), (2, 0, 1.1)]),
                plasticity=stdp, label="p")
    net.record("p", "weights", every=5)
    sim = nm.build(net, backend="pynn:nest")
    sim.run(30.0)
    conn = net.connectivity("p")
    pre, post, w = sim.weights("p", format="list")
    np.testing.assert_array_equal(pre, conn.pre)
    np.testing.assert_array_equal(post, conn.post)
    dense = sim.weights("p")
    np.testing.assert_array_equal(w, dense[pre, post])
    assert np.isnan(dense).sum() == 4 * 3 - 5
    times, hpre, hpost, samples = sim.weight_history("p", format="list")
    times2, hdense = sim.weight_history("p")
    np.testing.assert_array_equal(times, times2)
    assert samples.shape == (len(times), 5) and hdense.shape == (len(times), 4, 3)
    np.testing.assert_array_equal(samples, hdense[:, hpre, hpost])
    sim.set_weights("p", np.arange(5) * 0.25)  # one per synapse, in list order
    np.testing.assert_allclose(sim.weights("p", format="list")[2], np.arange(5) * 0.25, rtol=1e-12)
    for call in (lambda: sim.weights("p", format="csr"), lambda: sim.weight_history("p", format="dense")):
        with pytest.raises(ValidationError, match="format='list'"):
            call()
