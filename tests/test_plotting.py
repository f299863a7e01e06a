"""Plots render to PNG (Agg) from a short run: rasters, state traces, weight evolution."""
import numpy as np
import pytest

import neuromorph as nm
from neuromorph import plotting

pytest.importorskip("matplotlib")
ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def _png(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000, path
    return data


@pytest.fixture(scope="module")
def sim():
    net = nm.Network.from_json((ROOT / "examples" / "two_neurons.json").read_text())
    s = nm.build(net, backend="torch", numerics="exact")
    s.run(100.0)
    return s


def test_raster_small_population_has_visible_markers_and_integer_ticks(sim, tmp_path):
    plt = plotting.pyplot()
    fig, ax = plt.subplots()
    groups = [("input", sim.spikes("input")), ("neurons", sim.spikes("neurons"))]
    plotting.raster_axes(ax, groups, sim.time)
    assert list(ax.get_yticks()) == [0, 1, 2, 3]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1", "0", "1"]
    sizes = [c.get_sizes()[0] for c in ax.collections]
    assert min(sizes) >= 100  # a marker of ~10 points or more for 4 rows
    plt.close(fig)
    _png(plotting.raster(groups, sim.time, tmp_path / "raster.png", title="two neurons"))


def test_raster_large_population_integer_ticks(tmp_path):
    plt = plotting.pyplot()
    fig, ax = plt.subplots()
    rng = np.random.default_rng(0)
    plotting.raster_axes(ax, [("big", [rng.uniform(0, 100, 3) for _ in range(300)])], 100.0)
    fig.canvas.draw()
    ticks = ax.get_yticks()
    assert np.all(ticks == np.round(ticks))
    plt.close(fig)


def test_run_figures_traces_and_weights(sim, tmp_path):
    written = plotting.run_figures(sim, tmp_path / "traces.png", tmp_path / "weights.png", title="two neurons")
    assert written == [tmp_path / "traces.png", tmp_path / "weights.png"]
    for p in written:
        _png(p)


def test_traces_many_neurons_and_weights_with_nan(tmp_path):
    t = np.arange(50.0)
    _png(plotting.traces([("E", "v", t, -65 + np.random.default_rng(0).normal(size=(50, 40)), "mV")], tmp_path / "t.png"))
    w = np.full((5, 3), 0.5)
    w[:, 1] = np.nan
    _png(plotting.weights([("E->E", np.arange(5.0), w, "nA")], tmp_path / "w.png"))


def test_run_figures_nothing_recorded(tmp_path):
    net = nm.Network(dt=1.0)
    net.spike_source("in", [[1.0]])
    net.record("in", "spikes")
    s = nm.build(net)
    s.run(5.0)
    assert plotting.run_figures(s, tmp_path / "a.png", tmp_path / "b.png") == []
    assert not list(tmp_path.iterdir())
