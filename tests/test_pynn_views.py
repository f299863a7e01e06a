"""PopulationView and Assembly in ``neuromorph.pynn``: slices, index arrays, boolean masks and
``sample`` make views; ``p1 + p2`` / ``Assembly(...)`` make assemblies; Projections between them
connect the parent populations at the view's neurons. The scripts run through the front-end
(torch ``exact`` and pynn:nest) and through real ``pyNN.nest``, with identical spike trains and
connection lists (deterministic inputs: SpikeSourceArray).
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import neuromorph.pynn as fe
from neuromorph.errors import UnsupportedError, ValidationError

pytest.importorskip("neo", reason="Neo results need the [pynn] extra")

sys.path.insert(0, str(Path(__file__).resolve().parent))
# the front-end tests' fixture (fe.end() after each test), backends and PyNN helpers
from test_pynn_frontend import _end, BACKEND_PARAMS, real_pynn, spikes  # noqa: E402,F401
from test_pynn_frontend import setup_frontend as _setup  # noqa: E402


def setup_frontend(backend="torch"):
    _setup(backend)


def signal(block, name="v", seg=0):
    return block.segments[seg].filter(name=name)[0]


def assert_same(ours, theirs):
    """Identical spike trains (same neurons, same order, same source_index); v to 1e-9 mV on the
    samples both have (PyNN adds one at the end time), same channel_index."""
    a, b = spikes(ours), spikes(theirs)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    ia = [int(st.annotations["source_index"]) for st in ours.segments[0].spiketrains]
    ib = [int(st.annotations["source_index"]) for st in theirs.segments[0].spiketrains]
    assert ia == ib
    if theirs.segments[0].filter(name="v"):
        va, vb = signal(ours), signal(theirs)
        assert vb.shape[0] == va.shape[0] + 1 and va.shape[1] == vb.shape[1]
        np.testing.assert_allclose(np.asarray(va.magnitude), np.asarray(vb.magnitude)[:va.shape[0]], rtol=0, atol=1e-9)
        np.testing.assert_array_equal(va.array_annotations["channel_index"], vb.array_annotations["channel_index"])


def pairs(rows):
    """Connection list rows as {(i, j): (values...)} (PyNN's list order is NEST's, ours sorted)."""
    return {(int(r[0]), int(r[1])): tuple(round(float(x), 12) for x in r[2:]) for r in rows}


# -- the scripts ------------------------------------------------------------------------------------------
def views_net(sim, seq=list, view_init=True):
    """Six array sources into eight IF_curr_exp cells through views of every kind: slices, an
    unsorted index list with a duplicate, a boolean mask, a strided slice and views of views;
    overlapping views of one population connected without self-connections; spike times of part
    of the sources replaced through a view; a DC current into two cells; recorded through a view."""
    times = [[2.0, 9.0], [3.0, 14.0], [4.0, 20.0], [5.0, 11.0, 30.0], [6.0], [7.0, 8.0]]
    src = sim.Population(6, sim.SpikeSourceArray(spike_times=[seq(t) for t in times]), label="src")
    src[4:6].set(spike_times=[seq([12.0, 13.0]), seq([25.0])])
    out = sim.Population(8, sim.IF_curr_exp(tau_m=10.0, tau_syn_E=2.0, tau_syn_I=4.0, v_thresh=-55.0), label="out")
    mask = np.array([True, False, True, False, False, True, False, True])
    rec = out[1:7]
    rec.record(["spikes", "v"])
    if view_init:
        out[0:4].initialize(v=-58.0)
        out[[3, 5]].initialize(v=np.array([-62.0, -57.0]))
    else:  # real PyNN 0.13's PopulationView.initialize fails on NEST (no _set_initial_value_array): the same values
        out.initialize(v=np.array([-58.0, -58.0, -58.0, -62.0, -65.0, -57.0, -65.0, -65.0]))
    c = {}
    c["one"] = sim.Projection(src[0:3], out[[6, 2, 4, 2]], sim.OneToOneConnector(), sim.StaticSynapse(weight=6.0, delay=1.0))
    c["all"] = sim.Projection(src[3:], out[mask], sim.AllToAllConnector(), sim.StaticSynapse(weight=1.5, delay=2.0))
    c["list"] = sim.Projection(src[::2], out[5:8][1:], sim.FromListConnector(
        [(0, 1, 2.0, 1.0), (2, 0, 3.0, 3.0), (1, 1, 2.5, 2.0)], column_names=["weight", "delay"]), sim.StaticSynapse())
    c["self"] = sim.Projection(out[0:4], out[2:6], sim.AllToAllConnector(allow_self_connections=False),
                               sim.StaticSynapse(weight=0.4, delay=1.0))
    c["inh"] = sim.Projection(out[6:8], out[0:2], sim.OneToOneConnector(), sim.StaticSynapse(weight=-2.0, delay=1.0),
                              receptor_type="inhibitory")
    sim.DCSource(amplitude=0.6, start=5.0, stop=25.0).inject_into(out[[0, 7]])
    sim.run(40.0)
    return {"rec": rec.get_data(), "out": out.get_data(),
            "lists": {k: j.get(["weight", "delay"], format="list") for k, j in c.items()},
            "sizes": {k: len(j) for k, j in c.items()}}


def assembly_net(sim):
    """Two populations taken together as an Assembly (p1 + p2, and Assembly(...)): driven one-to-one
    from five sources, recorded through the Assembly, projecting onto a third population with a
    FromList in Assembly indices."""
    src = sim.Population(5, sim.SpikeSourceArray(spike_times=[[2.0, 10.0], [3.0], [4.0, 15.0], [6.0], [8.0, 9.0]]),
                         label="src")
    cell = sim.IF_curr_exp(tau_m=10.0, v_thresh=-55.0)
    a = sim.Population(3, cell, label="a")
    b = sim.Population(2, cell, label="b")
    c = sim.Population(2, cell, label="c")
    asm = a + b
    asm.record(["spikes", "v"])
    c.record("spikes")
    sim.Assembly(a, b).initialize(v=-60.0)
    # real PyNN 0.13 takes the default receptor_type of a projection onto an Assembly from an unordered
    # set (it can be 'inhibitory'), so the script names it
    j1 = sim.Projection(src, asm, sim.OneToOneConnector(), sim.StaticSynapse(weight=8.0, delay=1.0),
                        receptor_type="excitatory")
    j2 = sim.Projection(asm, c, sim.FromListConnector([(0, 0, 5.0, 1.0), (4, 1, 6.0, 2.0), (2, 1, 4.0, 3.0)],
                                                      column_names=["weight", "delay"]), sim.StaticSynapse())
    j3 = sim.Projection(asm, asm[3:5], sim.AllToAllConnector(allow_self_connections=False),
                        sim.StaticSynapse(weight=0.2, delay=1.0), receptor_type="excitatory")
    sim.run(30.0)
    return {"asm": asm.get_data(), "c": c.get_data(), "size": asm.size,
            "lists": [j.get(["weight", "delay"], format="list") for j in (j1, j2, j3)]}


# -- identical to real PyNN -------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_views_identical_to_pynn_nest(backend):
    setup_frontend(backend)
    ours = views_net(fe)
    fe.end()
    real = real_pynn()
    from pyNN.parameters import Sequence
    theirs = views_net(real, seq=Sequence, view_init=False)
    real.end()
    assert_same(ours["rec"], theirs["rec"])
    assert_same(ours["out"], theirs["out"])  # recorded through the view only: neurons 1..6, as PyNN
    assert len(ours["out"].segments[0].spiketrains) == 6
    assert sum(len(t) for t in spikes(ours["rec"])) > 0
    for k in ours["lists"]:
        assert pairs(ours["lists"][k]) == pairs(theirs["lists"][k]), k
        assert ours["sizes"][k] == theirs["sizes"][k], k
    # view-local indices, as PyNN reports them: src[0:3] -> out[[2, 4, 6]] one-to-one
    assert sorted(pairs(ours["lists"]["one"])) == [(0, 0), (1, 1), (2, 2)]
    assert ours["sizes"]["self"] == 16 - 2  # out[2], out[3] are in both views


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_assembly_identical_to_pynn_nest(backend):
    setup_frontend(backend)
    ours = assembly_net(fe)
    fe.end()
    real = real_pynn()
    theirs = assembly_net(real)
    real.end()
    assert ours["size"] == 5
    assert_same(ours["asm"], theirs["asm"])
    assert_same(ours["c"], theirs["c"])
    assert [st.annotations["source_population"] for st in ours["asm"].segments[0].spiketrains] == ["a"] * 3 + ["b"] * 2
    np.testing.assert_array_equal(signal(ours["asm"]).array_annotations["channel_index"], np.arange(5))
    for x, y in zip(ours["lists"], theirs["lists"]):
        assert pairs(x) == pairs(y)


def test_sample_draws_what_pynn_draws():
    real = real_pynn()
    p = real.Population(10, real.IF_curr_exp())
    theirs = [np.asarray(p.sample(4, real.NumpyRNG(seed=s)).mask) for s in (1, 2, 3)]
    real.end()
    setup_frontend()
    q = fe.Population(10, fe.IF_curr_exp())
    ours = [np.asarray(q.sample(4, fe.NumpyRNG(seed=s)).mask) for s in (1, 2, 3)]
    for x, y in zip(ours, theirs):
        np.testing.assert_array_equal(x, y)


# -- front-end only ------------------------------------------------------------------------------------------
def test_view_indexing_follows_pynn():
    setup_frontend()
    p = fe.Population(10, fe.IF_curr_exp(), label="p")
    assert isinstance(p[3], fe.ID) and int(p[3]) == 3 and p[3].parent is p and int(p[-1]) == 9
    v = p[[7, 2, 2, 5]]
    assert isinstance(v, fe.PopulationView) and v.size == 3 and list(v.mask) == [2, 5, 7]  # sorted, deduplicated
    assert v.parent is p and v.grandparent is p and list(v.all_cells) == [2, 5, 7]
    assert list(p[np.arange(10) % 3 == 0].all_cells) == [0, 3, 6, 9]
    vv = p[2:9][::3]
    assert vv.parent.parent is p and list(vv.all_cells) == [2, 5, 8] and list(vv.index_in_grandparent([0, 2])) == [2, 8]
    assert int(vv[1]) == 5 and vv.id_to_index(8) == 2 and len(vv) == 3
    assert [int(i) for i in vv] == [2, 5, 8]
    assert vv.celltype is p.celltype and "view of" in vv.label
    with pytest.raises(ValidationError, match="boolean mask"):
        p[np.array([True, False])]
    with pytest.raises(IndexError):
        p[10]


def test_fixed_probability_on_views_draws_as_populations_of_the_view_size():
    """The connector runs on the view-local index ranges with the projection's seed, so a view
    connection equals the one between populations of the views' sizes, mapped to the parent."""
    def local(make_views):
        setup_frontend()
        pre = fe.Population(10, fe.IF_curr_exp(), label="pre")
        post = fe.Population(9, fe.IF_curr_exp(), label="post")
        a, b = make_views(pre, post)
        j = fe.Projection(a, b, fe.FixedProbabilityConnector(0.5, rng=fe.NumpyRNG(seed=4)), fe.StaticSynapse(weight=0.1))
        k = fe.Projection(a, b, fe.FixedProbabilityConnector(0.3), fe.StaticSynapse(weight=0.1))  # setup seed
        fe.run(1.0)
        out = [sorted(pairs(x.get("weight", format="list"))) for x in (j, k)]
        fe.end()
        return out
    views = local(lambda pre, post: (pre[2:8], post[[1, 3, 4, 6, 8]]))
    pops = local(lambda pre, post: (fe.Population(6, fe.IF_curr_exp(), label="a"), fe.Population(5, fe.IF_curr_exp(), label="b")))
    assert views == pops and len(views[0]) > 0
    assert views == local(lambda pre, post: (pre[2:8], post[[1, 3, 4, 6, 8]]))  # deterministic


def test_fixed_probability_without_self_connections_on_overlapping_views():
    setup_frontend()
    p = fe.Population(8, fe.IF_curr_exp(), label="p")
    a, b = p[0:6], p[2:8]
    j = fe.Projection(a, b, fe.FixedProbabilityConnector(1.0, allow_self_connections=False), fe.StaticSynapse(weight=0.1))
    got = pairs(j.get("weight", format="list"))
    assert len(got) == 36 - 4 and all(a.all_cells[i] != b.all_cells[k] for i, k in got)


def test_view_weights_set_and_read_between_runs_in_view_order():
    setup_frontend()
    src = fe.Population(4, fe.SpikeSourceArray(spike_times=[1.0]), label="src")
    out = fe.Population(5, fe.IF_curr_exp(), label="out")
    j = fe.Projection(src[[1, 3]], out[[4, 0]], fe.AllToAllConnector(), fe.StaticSynapse(weight=0.5))
    fe.run(5.0)
    w = np.array([[1.0, 2.0], [3.0, 4.0]])  # view-local [pre, post] = [[1->0, 1->4], [3->0, 3->4]]
    j.set(weight=w)
    fe.run(5.0)
    assert j.get("weight", format="list") == [(0, 0, 1.0), (0, 1, 2.0), (1, 0, 3.0), (1, 1, 4.0)]
    np.testing.assert_array_equal(j.get("weight", format="array"), w)
    # the description holds them at the parent indices
    pre, post, ww = fe._session.sim.weights(j.label, format="list")
    assert sorted(zip(pre.tolist(), post.tolist(), ww.tolist())) == [(1, 0, 1.0), (1, 4, 2.0), (3, 0, 3.0), (3, 4, 4.0)]
    assert fe.get_max_delay() == 1.0


def test_assembly_of_views_and_indexing():
    setup_frontend()
    p = fe.Population(4, fe.IF_curr_exp(), label="p")
    q = fe.Population(3, fe.IF_curr_exp(), label="q")
    asm = p[1:3] + q
    assert asm.size == 5 and [m.label for m in asm.populations][1] == "q"
    assert int(asm[0]) == 1 and asm[0].parent is p and int(asm[4]) == 2 and asm[4].parent is q
    sub = asm[1:4]
    assert [m.size for m in sub.populations] == [1, 2]
    asm2 = fe.Assembly(p, q)
    asm2 += fe.Population(2, fe.IF_curr_exp(), label="r")
    assert asm2.size == 9 and asm2.get_population("r").size == 2
    with pytest.warns(UserWarning, match="already"):
        assert fe.Assembly(p, p).size == 4


def test_view_and_assembly_refusals_name_the_feature():
    setup_frontend()
    p = fe.Population(4, fe.IF_curr_exp(), label="p")
    g = fe.Population(2, fe.IF_cond_exp(), label="g")
    with pytest.raises(UnsupportedError, match=r"PopulationView.set\(tau_m=...\).*separate Population"):
        p[0:2].set(tau_m=12.0)
    p[0:4].set(tau_m=12.0)  # the whole population: fine
    assert p.get("tau_m") == 12.0
    with pytest.raises(UnsupportedError, match="mix conductance-based and current-based"):
        fe.Projection(p, p + g, fe.AllToAllConnector())
    with pytest.raises(UnsupportedError, match="PopulationView\\(Assembly"):
        fe.PopulationView(p + g, [0])
    with pytest.raises(UnsupportedError, match="Assembly.get_spike_counts"):
        (p + g).get_spike_counts()
    with pytest.raises(UnsupportedError, match="record\\(None\\)"):
        p[0:2].record(None)
    with pytest.raises(ValidationError, match="2 neurons"):
        p[0:2].initialize(v=np.array([-60.0, -61.0, -62.0]))
    fe.run(1.0)
    with pytest.raises(UnsupportedError, match="after the first run"):
        p[0:2].initialize(v=-60.0)
