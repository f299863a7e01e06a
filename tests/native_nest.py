"""Tests that need PyNN with NEST (the ``[pynn]`` extra): the skip mark, and a description run
through native ``pyNN.nest`` — PyNN's own API, independent of neuromorph's PyNN lowering — with
the torch ``exact`` run it is compared with."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import neuromorph as nm


def has_pynn_nest() -> bool:
    """Whether ``pyNN.nest`` imports here (PyNN 0.13 with nest-simulator)."""
    try:
        import pyNN.nest  # noqa: F401
    except Exception:
        return False
    return True


needs_nest = pytest.mark.skipif(not has_pynn_nest(), reason="pyNN.nest (PyNN + NEST) is not importable here")


class NativeRun:
    def __init__(self, spikes, traces):
        self._spikes, self._traces = spikes, traces

    def spikes(self, label):
        return self._spikes[label]

    def trace(self, label, var):
        return self._traces[(label, var)]


def native_pynn_nest(net: nm.Network, ms: float) -> NativeRun:
    import pyNN.nest as sim
    from pyNN.parameters import Sequence
    warnings.simplefilter("ignore")
    sim.setup(timestep=net.dt, min_delay=net.dt, max_delay=10 * net.dt, spike_precision="on_grid")
    pops = {}
    for pop in net.populations.values():
        ct = pop.celltype
        if isinstance(ct, nm.SpikeSourceArray):
            rows = [Sequence(np.asarray(r, dtype=float)) for r in ct.spike_times]
            pops[pop.label] = sim.Population(pop.size, sim.SpikeSourceArray(spike_times=rows), label=pop.label)
        else:
            p = sim.Population(pop.size, getattr(sim, type(ct).__name__)(**ct.parameters()), label=pop.label)
            p.initialize(**{k: np.asarray(pop.initial(k)) for k in ("v", "w") if k in ct.state_variables})
            pops[pop.label] = p
    for proj in net.projections.values():
        c = net.connectivity(proj)
        rows = np.column_stack([c.pre, c.post, c.weights, c.delays * net.dt]).astype(float)
        sim.Projection(pops[proj.pre], pops[proj.post], sim.FromListConnector(rows, column_names=["weight", "delay"]),
                       sim.StaticSynapse(), receptor_type=proj.receptor)
    recorded = {}
    for rec in net.recordings:
        pops[rec.target].record(list(rec.variables))
        recorded[rec.target] = rec.variables
    sim.run(ms)
    steps = round(ms / net.dt)
    spikes, traces = {}, {}
    for label, variables in recorded.items():
        seg = pops[label].get_data().segments[-1]
        if "spikes" in variables:
            spikes[label] = [np.asarray(st.rescale("ms").magnitude) for st in seg.spiketrains]
        for var in variables:
            if var != "spikes":
                traces[(label, var)] = np.asarray(seg.filter(name=var)[0].magnitude)[:steps]
    sim.end()
    return NativeRun(spikes, traces)


def assert_same(ours, theirs, label: str, size: int, dt: float, variables, tol: dict) -> dict:
    """Identical spike stamps (in steps) of ``label``'s ``size`` neurons; each trace in
    ``variables`` within ``tol[var]``. Returns {var: max |Δ|}."""
    a, b = ours.spikes(label), theirs.spikes(label)
    assert len(a) == len(b) == size
    for x, y in zip(a, b):
        np.testing.assert_array_equal(np.round(np.asarray(x) / dt).astype(int), np.round(np.asarray(y) / dt).astype(int))
    worst = {}
    for var in variables:
        x, y = np.asarray(ours.trace(label, var)), np.asarray(theirs.trace(label, var))
        assert x.shape == y.shape, (var, x.shape, y.shape)
        worst[var] = float(np.max(np.abs(x - y)))
        assert worst[var] <= tol[var], f"{var}: max |Δ| = {worst[var]:.3g}"
    return worst


def with_params(cell, **changes):
    """The same cell type with some parameters changed."""
    return type(cell)(**{**cell.parameters(), **changes})


def run_exact(net: nm.Network, ms: float, **options):
    """``net`` built on torch with the ``exact`` profile (NEST's arithmetic) and run for ``ms``."""
    sim = nm.build(net, backend="torch", numerics="exact", **options)
    sim.run(ms)
    return sim
