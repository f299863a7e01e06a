"""Spatial structures (nm.Line, Grid2D, Grid3D, RandomStructure in a Cuboid or Sphere), nm.Space and
the DistanceDependentProbability connector (neuromorph/space.py, connectors.py).

References are independent: positions and distances against pyNN.space itself, connection lists
against native pyNN.nest runs of the same PyNN script (neuromorph draws as PyNN does, so with the
same NumpyRNG seed the pairs are identical), the realised connection probability against the
expression (binned counts within binomial bounds), and spikes torch (exact) against pynn:nest.
"""
from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pytest

import neuromorph as nm
from neuromorph import connectors
from neuromorph.errors import UnsupportedError, ValidationError

HAVE_PYNN = importlib.util.find_spec("pyNN") is not None
HAVE_NEST = HAVE_PYNN and importlib.util.find_spec("nest") is not None
needs_pynn = pytest.mark.skipif(not HAVE_PYNN, reason="PyNN is not installed (the [pynn] extra)")
needs_nest = pytest.mark.skipif(not HAVE_NEST, reason="pyNN.nest is not installed (the [pynn] extra)")


# -- positions against pyNN.space ---------------------------------------------------------------------
def _structures():
    """(description structure, factory of the same pyNN.space structure, n)."""
    return [
        (nm.Line(dx=2.5, x0=-3.0, y=1.0, z=4.0), lambda S, R: S.Line(dx=2.5, x0=-3.0, y=1.0, z=4.0), 7),
        (nm.Grid2D(dx=10.0, dy=15.0, x0=1.0, y0=2.0, z=3.0), lambda S, R: S.Grid2D(dx=10.0, dy=15.0, x0=1.0, y0=2.0, z=3.0), 36),
        (nm.Grid2D(aspect_ratio=4.0, dx=0.5), lambda S, R: S.Grid2D(aspect_ratio=4.0, dx=0.5), 100),
        (nm.Grid2D(aspect_ratio=0.25, fill_order="random", seed=5),
         lambda S, R: S.Grid2D(aspect_ratio=0.25, fill_order="random", rng=R(seed=5)), 64),
        (nm.Grid3D(2.0, 0.5, dx=3.0, dy=2.0, dz=1.5, x0=-1.0, y0=1.0, z0=2.0),
         lambda S, R: S.Grid3D(2.0, 0.5, dx=3.0, dy=2.0, dz=1.5, x0=-1.0, y0=1.0, z0=2.0), 64),
        (nm.Grid3D(fill_order="random", seed=6), lambda S, R: S.Grid3D(fill_order="random", rng=R(seed=6)), 125),
        (nm.RandomStructure(nm.Cuboid(30.0, 20.0, 10.0), origin=(1.0, 2.0, 3.0), seed=7),
         lambda S, R: S.RandomStructure(S.Cuboid(30.0, 20.0, 10.0), origin=(1.0, 2.0, 3.0), rng=R(seed=7)), 200),
        (nm.RandomStructure(nm.Sphere(25.0), origin=(0.0, 0.0, -5.0), seed=8),
         lambda S, R: S.RandomStructure(S.Sphere(25.0), origin=(0.0, 0.0, -5.0), rng=R(seed=8)), 300),
    ]


@needs_pynn
@pytest.mark.parametrize("ours, theirs, n", _structures(), ids=lambda x: type(x).__name__ if not callable(x) else "")
def test_positions_identical_to_pynn_space(ours, theirs, n):
    import pyNN.space as S
    from pyNN.random import NumpyRNG
    expected = theirs(S, NumpyRNG).generate_positions(n)
    got = ours.positions(n, seed=123)  # the network seed plays no part when the structure has its own
    assert got.shape == (3, n) and got.dtype == np.float64
    np.testing.assert_array_equal(got, expected)


@needs_pynn
def test_grid_sizes_pynn_refuses_are_refused():
    import pyNN.space as S
    with pytest.raises(Exception):
        S.Grid2D().generate_positions(10)
    with pytest.raises(ValidationError, match=r"Grid2D\(aspect_ratio=1\): 10 neurons do not fill a grid"):
        nm.Grid2D().positions(10)
    with pytest.raises(AssertionError):
        S.Grid3D(2.0, 1.0).generate_positions(30)
    with pytest.raises(ValidationError, match=r"Grid3D\(aspect_ratioXY=2, aspect_ratioXZ=1\): 30 neurons do not fill a grid"):
        nm.Grid3D(2.0, 1.0).positions(30)
    net = nm.Network()
    with pytest.raises(ValidationError, match=r"population 'g': Grid2D\(aspect_ratio=1\): 10 neurons do not fill a grid"):
        net.population("g", 10, nm.IF_curr_exp(), structure=nm.Grid2D())


def test_random_structure_without_seed_follows_the_network_seed():
    def pos(seed, first=None):
        net = nm.Network(seed=seed)
        if first:
            net.population("x", 3, nm.IF_curr_exp())
        net.population("r", 50, nm.IF_curr_exp(), structure=nm.RandomStructure(nm.Sphere(10.0)))
        return net.positions("r")
    a = pos(1)
    np.testing.assert_array_equal(a, pos(1))
    assert not np.array_equal(a, pos(2))
    assert not np.array_equal(a, pos(1, first=True))  # the population's position in the network counts
    assert np.all(np.sum(a ** 2, axis=0) < 100.0)
    assert not a.flags.writeable
    # no structure: PyNN's default Line()
    net = nm.Network()
    net.population("p", 4, nm.IF_curr_exp())
    np.testing.assert_array_equal(net.positions("p"), [[0, 1, 2, 3], [0] * 4, [0] * 4])


# -- Space ------------------------------------------------------------------------------------------------
@needs_pynn
@pytest.mark.parametrize("kw", [{}, {"axes": "x"}, {"axes": "yz"}, {"axes": "xz", "scale_factor": 2.0, "offset": 1.5},
                                {"periodic_boundaries": ((0.0, 50.0), (-10.0, 10.0), None)},
                                {"axes": "xy", "periodic_boundaries": ((0.0, 50.0), None, (0.0, 7.0)), "offset": (1.0, -2.0, 0.5)}],
                         ids=str)
def test_space_distances_identical_to_pynn(kw):
    import pyNN.space as S
    rng = np.random.RandomState(0)
    A, B = rng.uniform(-20, 40, (30, 3)), rng.uniform(-20, 40, (17, 3))
    pynn_kw = dict(kw)
    if isinstance(kw.get("offset"), tuple):
        pynn_kw["offset"] = np.array(kw["offset"])
    expected = S.Space(**pynn_kw).distances(A, B).reshape(30, 17)
    got = nm.Space(**kw).distances(A, B)  # [post, pre]
    np.testing.assert_array_equal(got.T, expected)


def test_space_and_structure_arguments_are_checked():
    with pytest.raises(ValidationError, match="Space: axes='w' must be one of x, y, z, xy, yz, xz, xyz or None"):
        nm.Space(axes="w")
    with pytest.raises(ValidationError, match=r"Space: periodic_boundaries\[0\]=\(5, 5\) must have hi > lo"):
        nm.Space(periodic_boundaries=((5, 5), None, None))
    with pytest.raises(ValidationError, match="Space: periodic_boundaries=.* must be None or three entries"):
        nm.Space(periodic_boundaries=((0, 1),))
    with pytest.raises(ValidationError, match="Grid2D: fill_order='diagonal' must be 'sequential' or 'random'"):
        nm.Grid2D(fill_order="diagonal")
    with pytest.raises(ValidationError, match="Grid2D: aspect_ratio=0.0 must be > 0"):
        nm.Grid2D(aspect_ratio=0.0)
    with pytest.raises(ValidationError, match="Line: dx=nan"):
        nm.Line(dx=float("nan"))
    with pytest.raises(ValidationError, match="RandomStructure: boundary=.* must be nm.Cuboid"):
        nm.RandomStructure((1, 2, 3))
    with pytest.raises(ValidationError, match=r"RandomStructure: origin=\(1, 2\) must be three numbers"):
        nm.RandomStructure(nm.Sphere(1.0), origin=(1, 2))
    with pytest.raises(ValidationError, match="Sphere: radius=-1.0 must be > 0"):
        nm.Sphere(-1.0)
    with pytest.raises(ValidationError, match="population 'p': structure='grid' is not a spatial structure"):
        nm.Network().population("p", 4, nm.IF_curr_exp(), structure="grid")


# -- the expression --------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, ref", [
    ("exp(-d/50)", lambda d: np.exp(-d / 50)),
    ("0.3", lambda d: np.full_like(d, 0.3)),
    ("d < 3", lambda d: (d < 3).astype(float)),
    ("0.5*((d > 1) & (d <= 4))", lambda d: 0.5 * ((d > 1) & (d <= 4))),
    ("maximum(0, 1 - d/10)", lambda d: np.maximum(0, 1 - d / 10)),
    ("abs(sin(pi*d/8))**2 * e**(-d)", lambda d: np.abs(np.sin(np.pi * d / 8)) ** 2 * np.e ** (-d)),
])
def test_expressions_evaluate_as_numpy(text, ref):
    d = np.linspace(0, 20, 81)
    conn = nm.DistanceDependentProbability(text)
    np.testing.assert_array_equal(conn._expression(d), ref(d))


@pytest.mark.parametrize("text, why", [
    ("__import__('os').system('true')", "only calls of the listed functions"),
    ("__builtins__", "unknown name '__builtins__'"),
    ("d.real", "Attribute is not allowed"),
    ("exp(-d)[0]", "Subscript is not allowed"),
    ("(lambda x: x)(d)", "only calls of the listed functions"),
    ("d < 3 and d > 1", "'and'/'or' do not work element by element"),
    ("x * 2", "unknown name 'x'"),
    ("'abc'", "the constant 'abc' is not a number"),
    ("exp(d, out=d)", "positional arguments only"),
    ("exp(-d", "is not a valid expression"),
    ("", "must be an expression in d"),
])
def test_unsafe_or_invalid_expressions_are_refused(text, why):
    with pytest.raises(ValidationError, match=r"DistanceDependentProbability: d_expression.*" + why.replace("(", r"\(").replace(")", r"\)")):
        nm.DistanceDependentProbability(text)


def test_negative_or_nan_probabilities_are_refused():
    with pytest.raises(ValidationError, match=r"d_expression='1 - d/100' is -1e\+10 at d=1e\+12, not a probability"):
        nm.DistanceDependentProbability("1 - d/100")  # PyNN refuses it too (p(1e12) < 0)
    conn = nm.DistanceDependentProbability("where(d < 5, 1.0, (d - 5) * (d - 20))")  # >= 0 at 0 and 1e12, < 0 between
    with pytest.raises(ValidationError, match=r"is -\d+(\.\d+)? at d=\d+.*not a probability"):
        conn.connections(30, 30, False, 0)
    with pytest.raises(ValidationError, match=r"is nan at d=0, not a probability"):
        nm.DistanceDependentProbability("log(d) * 0")


# -- the connector ----------------------------------------------------------------------------------------
def test_threshold_expression_connects_exactly_the_pairs_in_range():
    """``d < r`` is 1 inside r and 0 outside: the pairs are determined, whatever the draw."""
    net = nm.Network(seed=4)
    net.population("g", 100, nm.IF_curr_exp(), structure=nm.Grid2D(dx=10.0, dy=10.0))
    net.connect("g", "g", nm.DistanceDependentProbability("d < 15", allow_self_connections=False), weight=1.0, label="p")
    c = net.connectivity("p")
    pos = net.positions("g").T
    d = np.sqrt(((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1))
    want = (d < 15) & ~np.eye(100, dtype=bool)
    np.testing.assert_array_equal(c.dense_mask(), want)
    # a periodic 100×100 square: every neuron has its 8 neighbours (4 at 10, 4 at 14.1)
    net.connect("g", "g", nm.DistanceDependentProbability("d < 15", allow_self_connections=False,
                                                          space=nm.Space(periodic_boundaries=((0, 100), (0, 100), None))),
                weight=1.0, label="torus")
    assert np.all(net.connectivity("torus").fan_in() == 8)
    # only x counts
    net.connect("g", "g", nm.DistanceDependentProbability("d < 5", space=nm.Space(axes="x")), weight=1.0, label="col")
    c = net.connectivity("col")
    np.testing.assert_array_equal(pos[c.pre, 0], pos[c.post, 0])
    assert c.size == 100 * 10


def test_realised_probability_matches_the_expression():
    """2,000 × 1,000 pairs on two lines: per distance bin, the connections made are within 5
    binomial standard deviations of Σp (a false alarm has probability < 1e-5 per bin); an
    expression off by 10 % would fail several bins."""
    pre_s, post_s = nm.Line(dx=1.0), nm.Line(dx=1.5, y=3.0)
    conn = nm.DistanceDependentProbability("0.8*exp(-d/50)", seed=21)
    pre, post, _, _ = conn.connections_at(pre_s.positions(2000), post_s.positions(1000), False, 0)
    i, j = np.meshgrid(np.arange(2000), np.arange(1000), indexing="ij")
    d = np.sqrt((i - 1.5 * j) ** 2 + 9.0)  # the distance written out, not through nm.Space
    p = 0.8 * np.exp(-d / 50)
    made = np.zeros((2000, 1000), dtype=bool)
    made[pre, post] = True
    edges = [0, 5, 10, 20, 40, 80, 160, 320, 3000]
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (d >= lo) & (d < hi)
        mean, sd = p[sel].sum(), np.sqrt((p[sel] * (1 - p[sel])).sum())
        assert abs(made[sel].sum() - mean) < 5 * sd + 1e-9, (lo, hi, made[sel].sum(), mean, sd)
    assert pre.size > 50_000


def test_blocks_give_the_same_pairs(monkeypatch):
    """Drawn a block of post neurons at a time: any block size gives the same pairs."""
    conn = nm.DistanceDependentProbability("exp(-d/5)", allow_self_connections=False, seed=3)
    ref = conn.connections(300, 300, True, 0)
    for chunk in (1, 299, 1000, 7 * 300 + 11):
        monkeypatch.setattr(connectors, "CHUNK", chunk)
        got = conn.connections(300, 300, True, 0)
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])
    keys = ref[0] * 300 + ref[1]
    assert np.all(np.diff(keys) > 0) and not np.any(ref[0] == ref[1])


def test_connector_pickles_and_copies():
    import copy
    import pickle
    conn = nm.DistanceDependentProbability("exp(-d/5)", seed=1, space=nm.Space(axes="x"))
    for other in (pickle.loads(pickle.dumps(conn)), copy.deepcopy(conn)):
        assert other == conn
        np.testing.assert_array_equal(other.connections(20, 20, False, 0)[1], conn.connections(20, 20, False, 0)[1])


def test_seeds_and_default_line_positions():
    a = nm.DistanceDependentProbability("exp(-d/5)", seed=3)
    r1 = a.connections(40, 30, False, 0)
    np.testing.assert_array_equal(r1[0], a.connections(40, 30, False, 99)[0])  # its own seed wins
    b = nm.DistanceDependentProbability("exp(-d/5)")
    assert not np.array_equal(b.connections(40, 30, False, 1)[1], b.connections(40, 30, False, 2)[1])
    # without structures the network uses PyNN's default Line() positions
    net = nm.Network()
    net.population("a", 40, nm.IF_curr_exp())
    net.population("b", 30, nm.IF_curr_exp())
    net.connect("a", "b", a, weight=1.0, label="p")
    np.testing.assert_array_equal(net.connectivity("p").pre, r1[0])
    np.testing.assert_array_equal(net.connectivity("p").post, r1[1])


def _network():
    """A source line and a 5×5 grid: distance-dependent feed-forward and recurrent projections."""
    net = nm.Network(dt=1.0, seed=5)
    rows = [[2.0 + 3 * k, 20.0 + 2 * k] for k in range(10)]
    net.spike_source("src", rows)
    net.population("g", 25, nm.IF_curr_exp(tau_m=10.0, v_thresh=-60.0),
                   structure=nm.Grid2D(dx=20.0, dy=20.0, x0=-40.0, y0=-40.0, z=5.0))
    net.connect("src", "g", nm.DistanceDependentProbability("exp(-d/40)", seed=9), weight=1.2, delay=1.0, label="ff")
    net.connect("g", "g", nm.DistanceDependentProbability("0.6*(d < 30)", allow_self_connections=False), weight=0.8,
                delay=2.0, label="rec")
    net.connect("g", "g", nm.DistanceDependentProbability("0.2", space=nm.Space(axes="y")), weight=0.6, delay=1.0,
                receptor="inhibitory", label="inh")
    net.record("g", "spikes")
    return net


def test_json_round_trip():
    net = _network()
    text = net.to_json()
    back = nm.Network.from_json(text)
    assert back.to_dict() == net.to_dict()
    for label in ("ff", "rec", "inh"):
        np.testing.assert_array_equal(back.connectivity(label).pre, net.connectivity(label).pre)
        np.testing.assert_array_equal(back.connectivity(label).post, net.connectivity(label).post)
    d = net.to_dict()
    assert d["populations"][1]["structure"]["type"] == "Grid2D" and "structure" not in d["populations"][0]
    conn = d["projections"][2]["connector"]
    assert conn["type"] == "DistanceDependentProbability" and conn["space"]["axes"] == "y"
    d["populations"][1]["structure"]["fill_order"] = "diagonal"
    with pytest.raises(ValidationError, match=r'model JSON: \$.populations\[1\].structure.fill_order="diagonal" is not allowed'):
        nm.Network.from_dict(d)
    d = net.to_dict()
    d["projections"][0]["connector"]["d_expression"] = "__import__('os')"
    with pytest.raises(ValidationError, match=r"projections\[0\].connector: DistanceDependentProbability: .*only calls of the listed"):
        nm.Network.from_dict(d)


BACKENDS = ["torch", pytest.param("pynn:nest", marks=needs_nest)]


@needs_nest
def test_lowered_to_pynn_nest_same_lists_and_spikes_as_torch():
    """The network built by neuromorph: NEST holds exactly the description's pairs (read back from
    NEST), the native population has the description's positions, and the spikes are identical."""
    net = _network()
    ours = nm.build(net, backend="torch", numerics="exact")
    ours.run(60.0)
    nest = nm.build(net, backend="pynn:nest")
    nest.run(60.0)
    for label in ("ff", "rec", "inh"):
        c = net.connectivity(label)
        rows = np.array(nest.lowered.projections[label].pynn.get("weight", format="list"))
        got = np.sort(rows[:, 0].astype(np.int64) * c.n_post + rows[:, 1].astype(np.int64))
        np.testing.assert_array_equal(got, c.pre * c.n_post + c.post)
        assert c.size > 10
    np.testing.assert_array_equal(nest.lowered.populations["g"].positions, net.positions("g"))
    a, b = ours.spikes("g"), nest.spikes("g")
    assert sum(len(s) for s in a) > 10
    for x, y in zip(a, b):
        np.testing.assert_array_equal(np.asarray(x, float), np.asarray(y, float))


# -- the PyNN front-end against native pyNN.nest --------------------------------------------------------------
def _script(sim, S, rng_cls, views=False):
    """A PyNN script with structures and distance-dependent projections; returns positions and
    connection lists (sorted (i, j) pairs)."""
    a = sim.Population(36, sim.IF_curr_exp(), structure=S.Grid2D(dx=20.0, dy=15.0, x0=3.0), label="a")
    b = sim.Population(50, sim.IF_curr_exp(), label="b",
                       structure=S.RandomStructure(S.Sphere(60.0), origin=(10.0, 0.0, 5.0), rng=rng_cls(seed=4)))
    c = sim.Population(27, sim.IF_curr_exp(), label="c", structure=S.Grid3D(fill_order="random", dx=30.0, rng=rng_cls(seed=2)))
    syn = sim.StaticSynapse(weight=0.3, delay=1.0)
    projs = [
        sim.Projection(a, b, sim.DistanceDependentProbabilityConnector("exp(-d/40)", rng=rng_cls(seed=11)), syn),
        sim.Projection(b, b, sim.DistanceDependentProbabilityConnector("0.8*(d<50)", allow_self_connections=False,
                                                                       rng=rng_cls(seed=12)), syn,
                       space=S.Space(axes="xy", periodic_boundaries=((-60, 60), (-60, 60), None))),
        sim.Projection(c, a, sim.DistanceDependentProbabilityConnector("exp(-(d/60)**2)", rng=rng_cls(seed=13)), syn,
                       space=S.Space(scale_factor=2.0, offset=1.0)),
    ]
    if views:
        projs.append(sim.Projection(b[10:40], a[[3, 7, 1, 30, 22]],
                                    sim.DistanceDependentProbabilityConnector("exp(-d/50)", rng=rng_cls(seed=14)), syn))
    lists = [np.array(sorted((int(i), int(j)) for i, j, _ in p.get("weight", format="list"))) for p in projs]
    return [a.positions, b.positions, c.positions, b[5:9].positions], lists


@needs_nest
def test_frontend_positions_and_pairs_identical_to_native_pynn_nest():
    import pyNN.space as S
    from pyNN.random import NumpyRNG

    import neuromorph.pynn as fe
    from neuromorph.pynn import space as fs
    real = pytest.importorskip("pyNN.nest")
    warnings.simplefilter("ignore")
    real.setup(timestep=1.0, spike_precision="on_grid")
    try:
        theirs = _script(real, S, NumpyRNG, views=True)
    finally:
        real.end()
    fe.setup(timestep=1.0, backend="torch", numerics="exact")
    try:
        ours = _script(fe, fs, fe.NumpyRNG, views=True)
    finally:
        fe.end()
    for x, y in zip(ours[0], theirs[0]):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(ours[1], theirs[1]):
        assert len(x) > 5
        np.testing.assert_array_equal(x, y)


@needs_nest
def test_frontend_script_same_pairs_and_spikes_on_torch_and_pynn_nest():
    pytest.importorskip("neo", reason="Neo results need the [pynn] extra")
    import neuromorph.pynn as fe
    out = {}
    for backend in ("torch", "pynn:nest"):
        fe.setup(timestep=1.0, backend=backend, **({"numerics": "exact"} if backend == "torch" else {}))
        try:
            src = fe.Population(9, fe.SpikeSourceArray(spike_times=[[2.0 + 2 * k, 15.0 + k] for k in range(9)]),
                                structure=fe.Grid2D(dx=30.0, dy=30.0))
            g = fe.Population(16, fe.IF_curr_exp(tau_m=10.0, v_thresh=-60.0),
                              structure=fe.space.Grid2D(dx=20.0, dy=20.0, x0=-5.0))
            fe.Projection(src, g, fe.DistanceDependentProbabilityConnector("exp(-d/30)", rng=fe.NumpyRNG(seed=1)),
                          fe.StaticSynapse(weight=1.5, delay=1.0))
            rec = fe.Projection(g, g, fe.DistanceDependentProbabilityConnector("0.7*(d<25)", allow_self_connections=False),
                                fe.StaticSynapse(weight=0.8, delay=2.0))
            g.record("spikes")
            fe.run(50.0)
            out[backend] = (rec.get("weight", format="list"),
                            [np.asarray(st.magnitude) for st in g.get_data().segments[0].spiketrains])
        finally:
            fe.end()
    np.testing.assert_array_equal(out["torch"][0], out["pynn:nest"][0])
    assert sum(len(s) for s in out["torch"][1]) > 5
    for x, y in zip(out["torch"][1], out["pynn:nest"][1]):
        np.testing.assert_array_equal(x, y)


def test_frontend_refusals():
    pytest.importorskip("neo", reason="Neo results need the [pynn] extra")
    import neuromorph.pynn as fe
    with pytest.raises(UnsupportedError, match=r"DistanceDependentProbabilityConnector\(d_expression=<function>\)"):
        fe.DistanceDependentProbabilityConnector(lambda d: d < 3)
    with pytest.raises(UnsupportedError, match="allow_self_connections='NoMutual'"):
        fe.DistanceDependentProbabilityConnector("d<3", allow_self_connections="NoMutual")
    with pytest.raises(ValidationError, match="unknown name 'x'"):
        fe.DistanceDependentProbabilityConnector("x<3")
    fe.setup(timestep=1.0)
    try:
        with pytest.raises(UnsupportedError, match="Population.structure=str.: use neuromorph.pynn.space"):
            fe.Population(4, fe.IF_curr_exp(), structure="grid")
        with pytest.raises(ValidationError, match="Grid2D.aspect_ratio=1.: 10 neurons do not fill a grid"):
            fe.Population(10, fe.IF_curr_exp(), structure=fe.Grid2D())
        p = fe.Population(4, fe.IF_curr_exp())
        np.testing.assert_array_equal(p.positions, [[0, 1, 2, 3], [0] * 4, [0] * 4])  # PyNN's default Line()
        with pytest.raises(UnsupportedError, match=r"Projection\(space=tuple\)"):
            fe.Projection(p, p, fe.DistanceDependentProbabilityConnector("d<2"), space=(1, 2))
    finally:
        fe.end()


@needs_nest
@pytest.mark.parametrize("size", [(5,), (4, 6), (2, 3, 4)])
def test_tuple_sizes_make_grids_as_pynn(size):
    """PyNN: Population((nx, ny), ...) is a Grid2D(nx/ny) of nx·ny cells, (nx, ny, nz) a Grid3D."""
    import neuromorph.pynn as fe
    real = pytest.importorskip("pyNN.nest")
    warnings.simplefilter("ignore")
    real.setup(timestep=1.0)
    try:
        theirs = real.Population(size, real.IF_curr_exp()).positions
    finally:
        real.end()
    fe.setup(timestep=1.0)
    try:
        p = fe.Population(size, fe.IF_curr_exp())
        assert p.size == int(np.prod(size))
        np.testing.assert_array_equal(p.positions, theirs)
    finally:
        fe.end()


def test_no_dense_pair_matrix_is_built(monkeypatch):
    """3,000 × 3,000 pairs drawn in blocks of 2**16: the peak allocation stays far below one dense
    float64 matrix (72 MB) — a few block-sized arrays and the synapse lists."""
    import tracemalloc
    monkeypatch.setattr(connectors, "CHUNK", 1 << 16)
    conn = nm.DistanceDependentProbability("exp(-d/3)", seed=2)
    pos = nm.Line().positions(3000)
    tracemalloc.start()
    try:
        pre, post, _, _ = conn.connections_at(pos, pos, True, 0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert pre.size > 10_000
    assert peak < 8e6, peak  # dense: 9e6 pairs × 8 bytes = 72 MB per array
