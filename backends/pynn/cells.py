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
- ``IF_cond_alpha`` (NEST ``iaf_cond_alpha``, Brian2): PyNN's class as it is (as IF_cond_exp).
- ``EIF_cond_exp_isfa_ista`` / ``EIF_cond_alpha_isfa_ista`` (NEST ``aeif_cond_exp`` /
  ``aeif_cond_alpha``, Brian2): PyNN's classes (weights in µS as for
  IF_cond_exp; w recordable in nA). PyNN 0.13's Brian2 group fires at ``v > v_thresh + 5·delta_T``
  and ignores ``v_spike``; our Brian2 class fires at ``v >= v_spike`` as NEST does. sPyNNaker 7.4.1
  has no AdEx model: refused by its capability table.

The fixes are subclasses built once per PyNN module, so PyNN itself is never patched.
"""
from __future__ import annotations

import numpy as np

from neuromorph.cells import (EIF_cond_alpha_isfa_ista, EIF_cond_exp_isfa_ista, IF_cond_alpha, IF_cond_exp, IF_curr_alpha, IF_curr_delta, IF_curr_exp, Izhikevich, SpikeSourceArray,
                              SpikeSourcePoisson)
from neuromorph.errors import UnsupportedError

_CACHE: dict = {}

#: description recordable -> name the simulator's PyNN uses
RECORD_NAMES = {
    "nest": {"spikes": "spikes", "v": "v", "isyn_exc": "isyn_exc", "isyn_inh": "isyn_inh", "u": "u",
             "gsyn_exc": "gsyn_exc", "gsyn_inh": "gsyn_inh", "w": "w"},
    "brian2": {"spikes": "spikes", "v": "v", "isyn_exc": "isyn_exc", "isyn_inh": "isyn_inh", "u": "u",
               "gsyn_exc": "gsyn_exc", "gsyn_inh": "gsyn_inh", "w": "w"},
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


def _brian2_adex_group():
    """PyNN 0.13's Brian2 AdaptiveNeuronGroup (rk2, reset v = v_reset, w += b) with NEST's spike
    condition ``v >= v_spike`` instead of PyNN's ``v > v_thresh + 5·delta_T``."""
    import brian2
    from pyNN.brian2.cells import AdaptiveNeuronGroup, BaseNeuronGroup

    class AdExNeuronGroup(AdaptiveNeuronGroup):
        def __init__(self, n, equations, **parameters):
            self._resetvalue = parameters.pop("v_reset")[0]
            self._bvalue = parameters.pop("b")[0]
            self._refracvalue = parameters.pop("tau_refrac")[0]
            reset = f"v = {float(self._resetvalue / brian2.mV)!r}*mV; w += {float(self._bvalue / brian2.amp)!r}*amp"
            BaseNeuronGroup.__init__(self, n, equations, threshold="v >= v_spike", reset=reset,
                                     refractory=self._refracvalue, method="rk2", **parameters)

    return AdExNeuronGroup


def cell_classes(sim, simulator: str) -> dict:
    """``{"IF_curr_exp": cls, "IF_curr_delta": cls, "IF_curr_alpha": cls, "Izhikevich": cls,
    "IF_cond_exp": cls, "IF_cond_alpha": cls, "EIF_cond_exp_isfa_ista": cls, "EIF_cond_alpha_isfa_ista": cls}`` for a PyNN module, fixed as above (None where the module lacks the type)."""
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
                       "IF_cond_exp": getattr(sim, "IF_cond_exp", None),
                       # sPyNNaker 7.4.1 has no AdEx model (its capability table refuses it first)
                       "EIF_cond_exp_isfa_ista": getattr(sim, "EIF_cond_exp_isfa_ista", None),
                       "EIF_cond_alpha_isfa_ista": getattr(sim, "EIF_cond_alpha_isfa_ista", None),
                       "IF_cond_alpha": getattr(sim, "IF_cond_alpha", None)}
        if simulator == "brian2":
            for name in ("EIF_cond_exp_isfa_ista", "EIF_cond_alpha_isfa_ista"):
                _CACHE[key][name] = type(name, (getattr(sim, name),),
                                         {"brian2_model": _brian2_adex_group(), "__module__": __name__})
    return _CACHE[key]


#: ms below its step's time that a spike time is handed to pyNN.nest (far below NEST's 1 µs tic)
NEST_STAMP_MARGIN = 1e-6


def on_grid(rows, dt: float, simulator: str) -> list:
    """Spike times (ms) that the simulator emits in the step the description means (the nearest
    step to each time, as on torch). pyNN.nest subtracts min_delay (= dt) from every time and
    stamps the result on NEST's grid, rounding *up* a time a float error puts just past a grid
    point: 64.4 ms at dt = 0.1 (64.4 − 0.1 = 64.30000000000001) arrives at 64.5, as would
    9.200000000000001. A time a hair (NEST_STAMP_MARGIN) below the step's time is stamped in that
    step whatever the float error; times ≤ dt are PyNN's own case and stay as they are."""
    out = []
    for row in rows:
        t = np.round(np.round(np.asarray(row, dtype=float) / dt) * dt, 9)
        if simulator == "nest":
            t = np.where(t > dt, t - NEST_STAMP_MARGIN, t)
        out.append(t)
    return out


def pynn_celltype(sim, simulator: str, celltype):
    """The PyNN cell type (an instance) for a description cell or source type."""
    if isinstance(celltype, (IF_curr_exp, IF_curr_delta, IF_curr_alpha, Izhikevich, IF_cond_exp,
                             IF_cond_alpha, EIF_cond_exp_isfa_ista, EIF_cond_alpha_isfa_ista)):
        params = celltype.parameters()
        params.pop("weight_units", None)
        cls = cell_classes(sim, simulator)[type(celltype).__name__]
        if cls is None:
            raise UnsupportedError(f"{type(celltype).__name__} is unsupported on backend 'pynn:{simulator}': "
                                   "its PyNN module has no such cell type; use backend='torch'")
        return cls(**params)
    if isinstance(celltype, SpikeSourceArray):
        times = on_grid(celltype.spike_times, sim.get_time_step(), simulator)
        if simulator == "spinnaker":  # sPyNNaker takes plain lists, one per neuron
            return sim.SpikeSourceArray(spike_times=[[float(t) for t in row] for row in times])
        from pyNN.parameters import Sequence
        rows = [Sequence(row) for row in times]
        # PyNN takes one Sequence per neuron; for a single neuron PyNN's brian2 module only accepts
        # the bare Sequence (a one-element list fails in its SpikeGeneratorGroup)
        return sim.SpikeSourceArray(spike_times=rows[0] if len(rows) == 1 else rows)
    if isinstance(celltype, SpikeSourcePoisson):
        return sim.SpikeSourcePoisson(rate=celltype.rate, start=celltype.start, duration=celltype.duration)
    raise UnsupportedError(f"{type(celltype).__name__} is unsupported on backend 'pynn:{simulator}': no PyNN lowering exists; use backend='torch'")
