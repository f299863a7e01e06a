"""PyNN cell types for each simulator, with the fixes PyNN 0.13 needs.

- NEST ``IF_curr_exp``: PyNN lists only spikes/v as recordable although it maps isyn_exc/isyn_inh
  to ``I_syn_ex``/``I_syn_in``; we extend ``recordable``.
- NEST ``IF_curr_delta``: PyNN 0.13 has no ``variable_map`` (fixed on PyNN master), so the initial
  v is silently ignored and ``record('v')`` fails (simulators.md §0.3); we add ``{'v': 'V_m'}``.
- Brian2 ``IF_curr_exp``: same ``recordable`` gap (its translations know ``ie``/``ii``).
- ``IF_curr_alpha`` (NEST ``iaf_psc_alpha``, Brian2): the same ``recordable`` gap. PyNN 0.13's
  Brian2 alpha synapses integrate the inhibitory current with ``tau_syn_e`` (a typo in
  pyNN/brian2/standardmodels/receptors.py), so ``tau_syn_I`` was ignored; our Brian2 class uses
  ``tau_syn_i`` for the inhibitory pair.
- ``Izhikevich`` (NEST ``izhikevich``, Brian2): used as PyNN defines it (v and u recordable and
  initialisable; weights are voltage jumps in mV: PyNN's NEST module multiplies by 1000 and then
  by its ``receptor_scale`` 1e-3).
- ``IF_cond_exp`` (NEST ``iaf_cond_exp``, Brian2, sPyNNaker): PyNN's class as it is (weights are
  conductances in µS, positive on both receptors; gsyn_exc/gsyn_inh recordable in µS).

The fixes are subclasses built once per PyNN module, so PyNN itself is never patched.
"""
from __future__ import annotations

import numpy as np

from neuromorph.cells import (IF_cond_exp, IF_curr_alpha, IF_curr_delta, IF_curr_exp, Izhikevich, SpikeSourceArray,
                              SpikeSourcePoisson)
from neuromorph.errors import UnsupportedError

_CACHE: dict = {}

#: description recordable -> name the simulator's PyNN uses
RECORD_NAMES = {
    "nest": {"spikes": "spikes", "v": "v", "isyn_exc": "isyn_exc", "isyn_inh": "isyn_inh", "u": "u",
             "gsyn_exc": "gsyn_exc", "gsyn_inh": "gsyn_inh"},
    "brian2": {"spikes": "spikes", "v": "v", "isyn_exc": "isyn_exc", "isyn_inh": "isyn_inh", "u": "u",
               "gsyn_exc": "gsyn_exc", "gsyn_inh": "gsyn_inh"},
    # sPyNNaker calls the synaptic input of current-based models gsyn_* (in nA); conductances (µS)
    # of IF_cond_exp have the same names
    "spinnaker": {"spikes": "spikes", "v": "v", "isyn_exc": "gsyn_exc", "isyn_inh": "gsyn_inh", "u": "u",
                  "gsyn_exc": "gsyn_exc", "gsyn_inh": "gsyn_inh"},
}

#: sign that turns a recorded synaptic current into a magnitude (NEST and Brian2 store inhibition negative)
RECORD_SIGNS = {
    "nest": {"isyn_inh": -1.0},
    "brian2": {"isyn_inh": -1.0},
    "spinnaker": {},
}


def _brian2_alpha_equations():
    """PyNN 0.13's Brian2 leaky IAF + alpha current synapses with the inhibitory pair on tau_syn_i."""
    import brian2
    from pyNN.brian2.standardmodels.cells import leaky_iaf
    return leaky_iaf + brian2.Equations('''
    die/dt = (2.7182818284590451*ye-ie)/tau_syn_e : amp
    dye/dt = -ye/tau_syn_e                        : amp
    dii/dt = (2.7182818284590451*yi-ii)/tau_syn_i : amp
    dyi/dt = -yi/tau_syn_i                        : amp
    i_syn = ie + ii                               : amp
    tau_syn_e                                     : second
    tau_syn_i                                     : second
''')


def cell_classes(sim, simulator: str) -> dict:
    """``{"IF_curr_exp": cls, "IF_curr_delta": cls, "IF_curr_alpha": cls, "Izhikevich": cls,
    "IF_cond_exp": cls}`` for a PyNN module, fixed as above (None where the module lacks the type)."""
    key = (sim.__name__, simulator)
    if key not in _CACHE:
        exp, delta = sim.IF_curr_exp, sim.IF_curr_delta
        alpha, izh = getattr(sim, "IF_curr_alpha", None), getattr(sim, "Izhikevich", None)
        currents = ["spikes", "v", "isyn_exc", "isyn_inh"]
        if simulator in ("nest", "brian2"):
            exp = type("IF_curr_exp", (sim.IF_curr_exp,), {"recordable": currents, "__module__": __name__})
            extra = {"eqs": _brian2_alpha_equations()} if simulator == "brian2" else {}
            alpha = type("IF_curr_alpha", (sim.IF_curr_alpha,), {"recordable": currents, "__module__": __name__, **extra})
        if simulator == "nest":
            delta = type("IF_curr_delta", (sim.IF_curr_delta,),
                         {"variable_map": {"v": "V_m"}, "scale_factors": {"v": 1}, "__module__": __name__})
        _CACHE[key] = {"IF_curr_exp": exp, "IF_curr_delta": delta, "IF_curr_alpha": alpha, "Izhikevich": izh,
                       "IF_cond_exp": getattr(sim, "IF_cond_exp", None)}
    return _CACHE[key]


def pynn_celltype(sim, simulator: str, celltype):
    """The PyNN cell type (an instance) for a description cell or source type."""
    if isinstance(celltype, (IF_curr_exp, IF_curr_delta, IF_curr_alpha, Izhikevich, IF_cond_exp)):
        params = celltype.parameters()
        params.pop("weight_units", None)
        cls = cell_classes(sim, simulator)[type(celltype).__name__]
        if cls is None:
            raise UnsupportedError(f"{type(celltype).__name__} is unsupported on backend 'pynn:{simulator}': "
                                   "its PyNN module has no such cell type; use backend='torch'")
        return cls(**params)
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
