"""PyNN cell types for each simulator, with the fixes PyNN 0.13 needs.

- NEST ``IF_curr_exp``: PyNN lists only spikes/v as recordable although it maps isyn_exc/isyn_inh
  to ``I_syn_ex``/``I_syn_in``; we extend ``recordable``.
- NEST ``IF_curr_delta``: PyNN 0.13 has no ``variable_map`` (fixed on PyNN master), so the initial
  v is silently ignored and ``record('v')`` fails (simulators.md §0.3); we add ``{'v': 'V_m'}``.
- Brian2 ``IF_curr_exp``: same ``recordable`` gap (its translations know ``ie``/``ii``).

The fixes are subclasses built once per PyNN module, so PyNN itself is never patched.
"""
from __future__ import annotations

import numpy as np

from neuromorph.cells import IF_curr_delta, IF_curr_exp, SpikeSourceArray, SpikeSourcePoisson
from neuromorph.errors import UnsupportedError

_CACHE: dict = {}

#: description recordable -> name the simulator's PyNN uses
RECORD_NAMES = {
    "nest": {"spikes": "spikes", "v": "v", "isyn_exc": "isyn_exc", "isyn_inh": "isyn_inh"},
    "brian2": {"spikes": "spikes", "v": "v", "isyn_exc": "isyn_exc", "isyn_inh": "isyn_inh"},
    # sPyNNaker calls the synaptic input of current-based models gsyn_* (in nA)
    "spinnaker": {"spikes": "spikes", "v": "v", "isyn_exc": "gsyn_exc", "isyn_inh": "gsyn_inh"},
}

#: sign that turns a recorded synaptic current into a magnitude (NEST and Brian2 store inhibition negative)
RECORD_SIGNS = {
    "nest": {"isyn_inh": -1.0},
    "brian2": {"isyn_inh": -1.0},
    "spinnaker": {},
}


def cell_classes(sim, simulator: str) -> dict:
    """``{"IF_curr_exp": cls, "IF_curr_delta": cls}`` for a PyNN module, fixed as above."""
    key = (sim.__name__, simulator)
    if key not in _CACHE:
        exp, delta = sim.IF_curr_exp, sim.IF_curr_delta
        if simulator in ("nest", "brian2"):
            exp = type("IF_curr_exp", (sim.IF_curr_exp,),
                       {"recordable": ["spikes", "v", "isyn_exc", "isyn_inh"], "__module__": __name__})
        if simulator == "nest":
            delta = type("IF_curr_delta", (sim.IF_curr_delta,),
                         {"variable_map": {"v": "V_m"}, "scale_factors": {"v": 1}, "__module__": __name__})
        _CACHE[key] = {"IF_curr_exp": exp, "IF_curr_delta": delta}
    return _CACHE[key]


def pynn_celltype(sim, simulator: str, celltype):
    """The PyNN cell type (an instance) for a description cell or source type."""
    if isinstance(celltype, (IF_curr_exp, IF_curr_delta)):
        params = celltype.parameters()
        params.pop("weight_units", None)
        return cell_classes(sim, simulator)[type(celltype).__name__](**params)
    if isinstance(celltype, SpikeSourceArray):
        if simulator == "spinnaker":  # sPyNNaker takes plain lists, one per neuron
            return sim.SpikeSourceArray(spike_times=[[float(t) for t in row] for row in celltype.spike_times])
        from pyNN.parameters import Sequence
        rows = [Sequence(np.asarray(row, dtype=float)) for row in celltype.spike_times]
        # PyNN takes one Sequence per neuron; for a single neuron PyNN's brian2 module only accepts
        # the bare Sequence (a one-element list fails in its SpikeGeneratorGroup)
        return sim.SpikeSourceArray(spike_times=rows[0] if len(rows) == 1 else rows)
    if isinstance(celltype, SpikeSourcePoisson):
        return sim.SpikeSourcePoisson(rate=celltype.rate, start=celltype.start, duration=celltype.duration)
    raise UnsupportedError(f"{type(celltype).__name__} is unsupported on backend 'pynn:{simulator}': no PyNN lowering exists; use backend='torch'")
