"""FixedNumberPre, FixedNumberPost and FixedTotalNumber (PyNN's fixed-number connectors): exact
structure, uniform choice, determinism per seed, JSON round trip, messages, the PyNN front-end,
and the same lists giving the same spikes on torch (exact) and pynn:nest."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import neuromorph as nm
from neuromorph.errors import UnsupportedError, ValidationError

HAVE_NEST = importlib.util.find_spec("pyNN") is not None and importlib.util.find_spec("nest") is not None
KINDS = (nm.FixedNumberPre, nm.FixedNumberPost, nm.FixedTotalNumber)


def _pairs(connector, n_pre, n_post, same=False, seed=7):
    pre, post, w, d = connector.connections(n_pre, n_post, same, seed)
    assert w is None and d is None
    assert pre.dtype == np.int64 and post.dtype == np.int64 and pre.shape == post.shape
    assert (pre.size == 0) or (pre.min() >= 0 and pre.max() < n_pre and post.min() >= 0 and post.max() < n_post)
    return pre, post


def _repeats(pre, post, n_post):
    keys = np.sort(pre * n_post + post)
    return int(np.sum(keys[1:] == keys[:-1]))


# -- structure ------------------------------------------------------------------------------------
@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("same, allow_self", [(False, True), (True, True), (True, False)])
@pytest.mark.parametrize("n", [0, 1, 7, 25, 39])  # 25, 39 > half of 40: the complement draw
def test_fixed_number_pre_and_post_exact_counts(n, same, allow_self, replace):
    size = 40
    for cls, counted, other in ((nm.FixedNumberPre, 1, 0), (nm.FixedNumberPost, 0, 1)):
        pairs = _pairs(cls(n, allow_self_connections=allow_self, with_replacement=replace), size, size, same)
        # every post (Pre) / every pre (Post) has exactly n connections
        np.testing.assert_array_equal(np.bincount(pairs[counted], minlength=size), np.full(size, n))
        if same and not allow_self:
            assert not np.any(pairs[0] == pairs[1])
        if not replace:
            assert _repeats(*pairs, size) == 0


def test_fixed_number_with_replacement_repeats_and_can_exceed_the_population():
    pre, post = _pairs(nm.FixedNumberPre(30, with_replacement=True), 10, 50)
    assert _repeats(pre, post, 50) > 0 and np.all(np.bincount(post) == 30)
    pre, post = _pairs(nm.FixedNumberPost(30, with_replacement=True, allow_self_connections=False), 10, 10, same=True)
    assert _repeats(pre, post, 10) > 0 and not np.any(pre == post)
    # n = the whole population without replacement: every pair once, AllToAll's pairs
    pre, post = _pairs(nm.FixedNumberPre(9, allow_self_connections=False), 10, 10, same=True)
    ref = nm.AllToAll(allow_self_connections=False).connections(10, 10, True, 0)
    np.testing.assert_array_equal(np.sort(pre * 10 + post), ref[0] * 10 + ref[1])


@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("same, allow_self", [(False, True), (True, False)])
@pytest.mark.parametrize("n", [0, 1, 300, 1500, 1560])  # 1560 = every pair of 40×40 without i→i
def test_fixed_total_number_exact_count(n, same, allow_self, replace):
    pre, post = _pairs(nm.FixedTotalNumber(n, allow_self_connections=allow_self, with_replacement=replace), 40, 40, same)
    assert pre.size == n
    if same and not allow_self:
        assert not np.any(pre == post)
    if not replace:
        assert _repeats(pre, post, 40) == 0
    if replace and n >= 300:
        assert _repeats(pre, post, 40) > 0  # 1500 draws from 1600 pairs repeat some


# -- uniformity -------------------------------------------------------------------------------------
# Pearson's X² of a histogram against its expectation, with k cells (k - 1 degrees of freedom,
# mean k - 1, sd sqrt(2(k - 1))): we require X² < (k - 1) + 6 sd — a false alarm has probability
# below 1e-6 (and the seeds are fixed, so the tests are deterministic anyway); a connector that
# favoured part of the candidates by even 10 % over these sample sizes exceeds it.
def _x2(counts, expected):
    counts = np.asarray(counts, dtype=float)
    return float(np.sum((counts - expected) ** 2 / expected)), counts.size - 1


def _bound(dof):
    return dof + 6 * np.sqrt(2 * dof)


@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("n", [10, 40])  # 40 of 50: the complement draw
def test_pre_index_histogram_is_uniform(n, replace):
    pre, post = _pairs(nm.FixedNumberPre(n, with_replacement=replace), 50, 4000, seed=11)
    x2, dof = _x2(np.bincount(pre, minlength=50), 4000 * n / 50)
    assert x2 < _bound(dof), (x2, dof)
    pre, post = _pairs(nm.FixedNumberPost(n, with_replacement=replace), 4000, 50, seed=12)
    x2, dof = _x2(np.bincount(post, minlength=50), 4000 * n / 50)
    assert x2 < _bound(dof), (x2, dof)


@pytest.mark.parametrize("kind, n", [(nm.FixedNumberPre, 10), (nm.FixedNumberPre, 40), (nm.FixedNumberPost, 10),
                                     (nm.FixedTotalNumber, 600), (nm.FixedTotalNumber, 2000)])
def test_pair_histogram_without_self_connections_is_uniform(kind, n):
    """Over 60 seeds of a 50-neuron recurrent projection: every allowed (pre, post) pair equally
    often, the diagonal never."""
    counts = np.zeros((50, 50))
    for seed in range(60):
        pre, post = _pairs(kind(n, allow_self_connections=False, with_replacement=False), 50, 50, True, seed)
        np.add.at(counts, (pre, post), 1)
    assert np.all(np.diag(counts) == 0)
    off = counts[~np.eye(50, dtype=bool)]
    x2, dof = _x2(off, off.sum() / off.size)
    assert x2 < _bound(dof), (x2, dof)


# -- determinism, JSON ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_deterministic_per_seed(kind):
    a = _pairs(kind(5, seed=3), 30, 20)
    np.testing.assert_array_equal(a, _pairs(kind(5, seed=3), 30, 20, seed=99))  # its own seed wins
    assert not np.array_equal(a, _pairs(kind(5, seed=4), 30, 20))
    # seed=None: the network seed and the projection's position decide
    def lists(seed):
        net = nm.Network(dt=1.0, seed=seed)
        net.population("a", 30, nm.IF_curr_exp())
        net.population("b", 20, nm.IF_curr_exp())
        c = net.connectivity(net.connect("a", "b", kind(5), label="p"))
        return c.pre, c.post
    np.testing.assert_array_equal(lists(1), lists(1))
    assert not np.array_equal(np.stack(lists(1)), np.stack(lists(2)))


def _network(summed_input=False):
    net = nm.Network(dt=1.0, seed=5)
    net.spike_source("src", [[2.0, 9.0, 17.0], [4.0], [6.0, 11.0], [], [3.0, 13.0], [8.0], [5.0, 15.0], [7.0]])
    net.population("n", 12, nm.IF_curr_exp(tau_m=10.0, v_thresh=-60.0))
    connector = nm.FixedNumberPre(3, with_replacement=True, seed=2)
    if summed_input:  # each repeated pair as one synapse of the summed weight
        pre, post, _, _ = connector.connections(8, 12, False, 0)
        pairs, count = np.unique(np.stack([pre, post], 1), axis=0, return_counts=True)
        connector = nm.FromList([(int(i), int(j), 1.4 * int(c)) for (i, j), c in zip(pairs, count)])
    net.connect("src", "n", connector, weight=1.4, delay=1.0, label="in")
    net.connect("n", "n", nm.FixedNumberPost(2, allow_self_connections=False), weight=0.9, delay=2.0, label="rec")
    net.connect("n", "n", nm.FixedTotalNumber(20, with_replacement=True), weight=0.5, delay=1.0,
                receptor="inhibitory", label="inh")
    net.record("n", "spikes")
    return net


def test_json_round_trip_gives_the_same_lists():
    net = _network()
    back = nm.Network.from_json(net.to_json())
    assert back.to_dict() == net.to_dict()
    for label in ("in", "rec", "inh"):
        a, b = net.connectivity(label), back.connectivity(label)
        np.testing.assert_array_equal(a.pre, b.pre)
        np.testing.assert_array_equal(a.post, b.post)
    d = net.to_dict()
    conn = next(p for p in d["projections"] if p["label"] == "rec")["connector"] if isinstance(d["projections"], list) \
        else d["projections"]["rec"]["connector"]
    assert conn["type"] == "FixedNumberPost" and conn["n"] == 2 and conn["allow_self_connections"] is False


# -- messages ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_bad_arguments_are_refused(kind):
    name = kind.__name__
    with pytest.raises(ValidationError, match=f"{name}: n=-1 must be >= 0"):
        kind(-1)
    with pytest.raises(ValidationError, match=f"{name}: n=2.5 is not a whole number"):
        kind(2.5)
    with pytest.raises(ValidationError, match=f"{name}: n='3' is not an integer"):
        kind("3")
    with pytest.raises(ValidationError, match=f"{name}: with_replacement"):
        kind(1, with_replacement="yes")
    with pytest.raises(ValidationError, match=f"{name}: seed"):
        kind(1, seed=-1)
    assert kind(3.0).n == 3


def test_too_many_without_replacement_is_refused():
    with pytest.raises(ValidationError, match=r"FixedNumberPre: n=10 is more than the 9 pre neurons to choose from without "
                                              r"replacement \(self connections excluded\); use a smaller n or with_replacement=True"):
        nm.FixedNumberPre(10, allow_self_connections=False).connections(10, 10, True, 0)
    with pytest.raises(ValidationError, match="FixedNumberPost: n=6 is more than the 5 post neurons"):
        nm.FixedNumberPost(6).connections(3, 5, False, 0)
    with pytest.raises(ValidationError, match="FixedTotalNumber: n=16 is more than the 15 .pre, post. pairs"):
        nm.FixedTotalNumber(16, with_replacement=False).connections(3, 5, False, 0)
    with pytest.raises(ValidationError, match="FixedNumberPre: n=1 but there are no pre neurons to choose from"):
        nm.FixedNumberPre(1, with_replacement=True, allow_self_connections=False).connections(1, 1, True, 0)
    net = nm.Network(dt=1.0)
    net.population("a", 4, nm.IF_curr_exp())
    with pytest.raises(ValidationError, match="projection 'p': FixedNumberPost: n=5 is more than the 4 post neurons"):
        net.connect("a", "a", nm.FixedNumberPost(5), label="p")
        net.connectivity("p")


# -- the same lists on every backend ------------------------------------------------------------------------
def _run(backend, summed_input=False):
    net = _network(summed_input)
    sim = nm.build(net, backend=backend, **({"numerics": "exact"} if backend == "torch" else {}))
    sim.run(30.0)
    return [np.asarray(s, dtype=float) for s in sim.spikes("n")]


BACKENDS = ["torch", pytest.param("pynn:nest", marks=pytest.mark.skipif(not HAVE_NEST, reason="pyNN.nest is not installed"))]


def test_repeated_pairs_are_separate_synapses_on_torch():
    """A pair connected twice delivers twice the weight (the dense path would keep one)."""
    net = _network()
    c = net.connectivity("in")
    assert _repeats(c.pre, c.post, 12) > 0  # this seed repeats a pair: the test covers multapses
    spikes, summed = _run("torch"), _run("torch", summed_input=True)
    assert sum(len(s) for s in spikes) > 5
    for a, b in zip(spikes, summed):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(not HAVE_NEST, reason="pyNN.nest is not installed")
def test_identical_spikes_on_torch_and_pynn_nest():
    ours, nest = _run("torch"), _run("pynn:nest")
    assert sum(len(s) for s in ours) > 5
    assert len(ours) == len(nest)
    for a, b in zip(ours, nest):
        np.testing.assert_array_equal(a, b)


# -- the PyNN front-end -------------------------------------------------------------------------------------
def test_frontend_script():
    pytest.importorskip("neo", reason="Neo results need the [pynn] extra")
    import neuromorph.pynn as sim
    sim.setup(timestep=1.0, backend="torch", numerics="exact")
    try:
        a = sim.Population(30, sim.IF_curr_exp(), label="a")
        b = sim.Population(20, sim.IF_curr_exp(), label="b")
        syn = sim.StaticSynapse(weight=0.5, delay=1.0)
        p1 = sim.Projection(a, b, sim.FixedNumberPreConnector(4, rng=sim.NumpyRNG(seed=8)), syn)
        p2 = sim.Projection(a, a, sim.FixedNumberPostConnector(3, allow_self_connections=False), syn)
        p3 = sim.Projection(a, b, sim.FixedTotalNumberConnector(50, rng=sim.NumpyRNG(seed=8)), syn)
        sim.run(5.0)
        rows = np.array(p1.get("weight", format="list"))
        assert len(p1) == 80 and np.all(np.bincount(rows[:, 1].astype(int), minlength=20) == 4)
        pre, _, _, _ = nm.FixedNumberPre(4, seed=8).connections(30, 20, False, 0)
        np.testing.assert_array_equal(np.sort(rows[:, 0]), np.sort(pre))  # the rng's seed is the connector's
        rows = np.array(p2.get("weight", format="list"))
        assert len(p2) == 90 and not np.any(rows[:, 0] == rows[:, 1])
        assert np.all(np.bincount(rows[:, 0].astype(int), minlength=30) == 3)
        assert len(p3) == 50
    finally:
        sim.end()
    with pytest.raises(UnsupportedError, match="FixedNumberPreConnector.n=RandomDistribution"):
        sim.FixedNumberPreConnector(sim.RandomDistribution("uniform", (1, 5)))
    with pytest.raises(UnsupportedError, match="FixedNumberPostConnector.allow_self_connections='NoMutual'"):
        sim.FixedNumberPostConnector(2, allow_self_connections="NoMutual")
    with pytest.raises(UnsupportedError, match="FixedTotalNumberConnector.rng=int.: use neuromorph.pynn.NumpyRNG"):
        sim.FixedTotalNumberConnector(2, rng=3)
    with pytest.raises(ValidationError, match="FixedNumberPre: n=-2 must be >= 0"):
        sim.FixedNumberPreConnector(-2)


@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_lists_come_sorted_by_pre_then_post(kind, replace):
    """What the connector returns is already in the network's (pre, post) order (no re-sort)."""
    connector = kind(7, with_replacement=replace, allow_self_connections=False)
    pre, post = _pairs(connector, 30, 30, same=True)
    keys = pre * 30 + post
    assert np.all(keys[1:] >= keys[:-1])
    assert connector.sorted_pairs == (not replace)
