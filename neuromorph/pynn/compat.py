"""Names PyNN and sPyNNaker scripts use that the core of ``neuromorph.pynn`` does not define (issue 11).

Published PyNN / sPyNNaker example scripts should run with only their import line changed
(``import pyNN.nest as sim`` / ``import pyNN.spiNNaker as p`` -> ``import neuromorph.pynn as sim``).
This module holds what those scripts call beyond the core API, kept apart from
``neuromorph/pynn/__init__.py`` (which calls :func:`install` once, at its end):

- sPyNNaker's ``set_number_of_neurons_per_core(cell_type, n)``: a mapping hint, passed to
  sPyNNaker on ``backend="pynn:spinnaker"`` (the build option ``neurons_per_core``), no effect on
  the other backends;
- PyNN's ``run(t, callbacks=[...])`` loop, ``run_for`` (= ``run``), procedural
  ``set(cells, **parameters)``, ``list_standard_models()``;
- introspection PyNN's objects offer: ``celltype.default_parameters`` as a dict (on the class and
  on instances), ``receptor_types``, ``injectable``, ``can_record``; ``Population.describe()``,
  ``can_record``, ``conductance_based``, ``injectable``, ``receptor_types``, ``annotate``,
  ``local_cells``, ``first_id``, ``last_id``, ``is_local``, ``id_to_local_index``; ``Projection.save`` (PyNN's
  ``StandardTextFile`` format), ``describe``, ``annotate``, ``shape``; PyNN's deprecated
  ``getSpikes`` / ``get_v`` / ``get_gsyn`` / ``printSpikes`` / ``print_v`` / ``print_gsyn`` /
  ``meanSpikeCount`` and ``printWeights`` / ``printDelays`` / ``getDelays`` / ``weightHistogram``;
- real ``pyNN.random`` objects (``from pyNN.random import NumpyRNG, RandomDistribution``, as most
  PyNN scripts import them): :func:`from_pynn_random` turns them into the front-end's, drawing from
  the same ``RandomState`` stream, so the values are the ones PyNN draws;
- refusals with the sPyNNaker name and the reason: ``external_devices`` (live input/output with a
  running machine) and ``extra_models``;
- :func:`as_pynn_nest_delivers`: SpikeSourceArray times on the steps PyNN on NEST delivers them at
  (torch, NEST semantics).
"""
from __future__ import annotations

import numpy as np

from neuromorph.errors import UnsupportedError, ValidationError


# -- sPyNNaker's mapping hint ---------------------------------------------------------------------------
def set_number_of_neurons_per_core(neuron_type, max_permitted):
    """sPyNNaker's ``set_number_of_neurons_per_core(cell_type, n)``: at most ``n`` neurons of that
    type on one SpiNNaker core. On ``backend="pynn:spinnaker"`` it becomes the build option
    ``neurons_per_core`` (one number for every cell type there: the smallest given wins, which is
    never more neurons per core than any script line asked for); on the other backends it has no
    effect (there are no cores to map to). Before the first run."""
    from . import _StandardType, _current
    s = _current("set_number_of_neurons_per_core")
    s.check_not_built("set_number_of_neurons_per_core()")
    cls = neuron_type if isinstance(neuron_type, type) else type(neuron_type)
    if not issubclass(cls, _StandardType):
        raise ValidationError(f"set_number_of_neurons_per_core({getattr(cls, '__name__', cls)!r}, ...): give a "
                              "neuromorph.pynn cell type such as IF_curr_exp")
    if isinstance(max_permitted, tuple):  # sPyNNaker 7 also takes (n,) or (nx, ny) shapes
        max_permitted = int(np.prod(max_permitted))
    if isinstance(max_permitted, bool) or not isinstance(max_permitted, (int, np.integer)) or max_permitted < 1:
        raise ValidationError(f"set_number_of_neurons_per_core({cls.__name__}, {max_permitted!r}): give a whole number >= 1")
    if s.backend == "pynn:spinnaker":
        s.options["neurons_per_core"] = min(int(max_permitted), s.options.get("neurons_per_core") or int(max_permitted))


# -- procedural PyNN ------------------------------------------------------------------------------------
def run_for(duration, callbacks=None):
    """PyNN's ``run_for``: the same as ``run(duration)``."""
    from . import run
    return run(duration, callbacks)


def procedural_set(cells, **parameters):
    """PyNN's procedural ``set(cells, **parameters)`` (``sim.set``): ``cells.set(**parameters)``.
    Not named ``set`` here, so that the builtin stays usable in this module."""
    if not hasattr(cells, "set"):
        raise ValidationError(f"set({type(cells).__name__}, ...): give a Population, PopulationView or Assembly")
    cells.set(**parameters)


def list_standard_models():
    """The PyNN cell types neuromorph.pynn supports, by name (as PyNN's ``list_standard_models``)."""
    from . import _CELL_TYPES
    return [c.__name__ for c in _CELL_TYPES]


# -- PyNN's random numbers ---------------------------------------------------------------------------------
def from_pynn_random(value):
    """A real ``pyNN.random.RandomDistribution`` / ``NumpyRNG`` as the front-end's, sharing the
    ``numpy.random.RandomState`` stream (so the draws are PyNN's, and a script that draws from the
    same rng elsewhere continues the one stream); anything else is returned unchanged.
    ``GSLRNG``/``NativeRNG`` and distributions other than uniform and normal are refused with the
    front-end's messages."""
    module = type(value).__module__ or ""
    if not module.startswith("pyNN.random") and not module.startswith("pyNN.nest.random"):
        return value
    from . import NumpyRNG, RandomDistribution
    name = type(value).__name__
    if name == "RandomDistribution":
        return RandomDistribution(value.name, rng=from_pynn_random(value.rng), **dict(value.parameters))
    if name == "NumpyRNG":
        rng = NumpyRNG(seed=value.seed, parallel_safe=value.parallel_safe)
        rng._rng = value.rng  # the same RandomState: PyNN's stream, continued where the script left it
        return rng
    raise UnsupportedError(f"{name} (pyNN.random) is not supported by neuromorph.pynn; use NumpyRNG(seed=...)")


# -- refused sPyNNaker namespaces ---------------------------------------------------------------------------
class _RefusedNamespace:
    """A sPyNNaker sub-module (``p.external_devices``, ``p.extra_models``): every name in it is
    refused with that name and the reason."""

    def __init__(self, name, why):
        self._name, self._why = name, why

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise UnsupportedError(f"{self._name}.{attr} (sPyNNaker) is not supported by neuromorph.pynn: {self._why}")

    def __repr__(self):
        return f"<refused sPyNNaker namespace {self._name}>"


external_devices = _RefusedNamespace(
    "external_devices",
    "live input and output (spike injection, live spike/voltage output, robot and retina devices, "
    "database notification) talk to a running SpiNNaker machine during the run, and neuromorph runs "
    "a model description to completion; give the input as a SpikeSourceArray and read the output with "
    "get_data() after run(), or run segment by segment (run(t); read; set weights; run(t))")
extra_models = _RefusedNamespace(
    "extra_models",
    "sPyNNaker's extra models are not part of the model description; use the PyNN standard types "
    "(e.g. Vogels2011Rule, TsodyksMarkramSynapse, IF_cond_exp), see docs/pynn_frontend.md")


# -- introspection --------------------------------------------------------------------------------------------
class _Defaults(dict):
    """A cell type's default parameters: a dict, as PyNN's ``default_parameters`` class attribute;
    calling it returns a copy (the front-end's older ``default_parameters()`` form)."""

    def __call__(self):
        return dict(self)


class _DefaultParameters:
    """``default_parameters`` as PyNN has it: a dict on the class and on instances, computed by the
    front-end's function for that class."""

    def __init__(self, compute):
        self._compute = compute

    def __get__(self, obj, cls):
        return _Defaults(self._compute(cls))


def _celltype(cells):
    return cells.celltype if not hasattr(cells, "populations") else cells.populations[0].celltype


def _receptor_types(celltype):
    """PyNN's standard receptors of a cell type; spike sources have none (and take no current)."""
    name = celltype.__name__ if isinstance(celltype, type) else type(celltype).__name__
    return () if name.startswith("SpikeSource") else ("excitatory", "inhibitory")


def _describe_population(self, template="population_default.txt", engine="default"):
    """A human-readable description (PyNN's ``describe``); ``template=None``: the context dict."""
    context = {"label": self.label, "celltype": type(self.celltype).__name__, "size": self.size,
               "parameters": dict(getattr(self.celltype, "parameter_space", {})),
               "structure": type(self.structure).__name__, "recorded": list(self._root._recorded)}
    if template is None:
        return context
    params = ", ".join(f"{k}={v!r}" for k, v in context["parameters"].items())
    return (f"Population {self.label!r} of {self.size} {context['celltype']} cells"
            f" ({context['structure']} structure)\n    parameters: {params or 'none'}\n"
            f"    recorded: {', '.join(context['recorded']) or 'nothing'}")


def _describe_projection(self, template="projection_default.txt", engine="default"):
    """A human-readable description (PyNN's ``describe``); ``template=None``: the context dict."""
    context = {"label": self.label, "pre": self.pre.label, "post": self.post.label,
               "connector": type(self.connector).__name__, "synapse_type": type(self.synapse_type).__name__,
               "receptor_type": self.receptor_type, "size": len(self)}
    if template is None:
        return context
    return (f"Projection {self.label!r} from {self.pre.label!r} ({self.pre.size} cells) to {self.post.label!r} "
            f"({self.post.size} cells)\n    connector: {context['connector']}\n    synapse type: "
            f"{context['synapse_type']} onto the {self.receptor_type} receptor\n    {len(self)} connections")


def _save(self, attribute_names, file, format="list", gather=True, with_address=True):
    """PyNN's ``Projection.save``: write ``get(attribute_names, format, with_address)`` to ``file``
    (a file name or a ``pyNN.recording.files`` object) with PyNN's own ``StandardTextFile``: a
    ``# columns = [...]`` header and tab-separated rows; in the array format, 0 where there is no
    connection. A file name needs PyNN installed (the [pynn] extra)."""
    if attribute_names in ("all", "connections"):
        attribute_names = ["weight", "delay"]
    if isinstance(file, str):
        try:
            from pyNN.recording.files import StandardTextFile
        except ImportError:
            raise UnsupportedError(f"Projection.save(..., {file!r}): writing PyNN's text format uses PyNN's "
                                   "pyNN.recording.files (pip install neuromorph[pynn]); or write "
                                   "numpy.savetxt(file, proj.get(...)) yourself") from None
        file = StandardTextFile(file, mode="w")
    values = self.get(attribute_names, format=format, with_address=with_address)
    if format == "array":
        values = [np.where(np.isnan(v), 0.0, v) for v in values]  # as PyNN: the rows of one array
    names = [attribute_names] if isinstance(attribute_names, str) else list(attribute_names)
    metadata = {"columns": (["i", "j"] if with_address and format == "list" else []) + names}
    file.write(values, metadata)
    file.close()


def _annotate(self, **annotations):
    if not hasattr(self, "_annotations"):
        self._annotations = {}
    self._annotations.update(annotations)


def install(ns: dict) -> None:
    """Add the compatibility names to the front-end module namespace ``ns`` and its classes (names
    a class already defines are left alone)."""
    names = ("set_number_of_neurons_per_core", "run_for", "list_standard_models", "external_devices", "extra_models")
    for name in names:
        ns.setdefault(name, globals()[name])
    # PyNN's procedural `set` must not become a global of the front-end module, whose code uses the
    # builtin set(): the module's __getattr__ (called for names it lacks) gives it to `sim.set`
    fallback = ns["__getattr__"]

    def __getattr__(name):
        if name == "set":
            return procedural_set
        return fallback(name)

    ns["__getattr__"] = __getattr__
    ns["__all__"] = list(ns["__all__"]) + [n for n in names + ("set",) if n not in ns["__all__"]]  # `import *` scripts
    base = ns["_StandardType"]
    stack = [base]
    while stack:  # every cell type class that defines its own default_parameters(cls)
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        own = cls.__dict__.get("default_parameters")
        if isinstance(own, classmethod):
            setattr(cls, "default_parameters", _DefaultParameters(own.__func__))
    celltype_extras = {
        "receptor_types": property(lambda self: _receptor_types(self)),
        "injectable": property(lambda self: bool(_receptor_types(self))),
        "can_record": lambda self, variable, location=None: variable in self.recordable,
    }
    for cls in (base, ns["_ArrayCell"]):  # (a SpikeSourceArray population's cell type is an _ArrayCell)
        for name, value in celltype_extras.items():
            if name not in cls.__dict__:
                setattr(cls, name, value)
    cells_extras = {
        "can_record": lambda self, variable, location=None: variable in _celltype(self).recordable,
        "conductance_based": property(lambda self: bool(getattr(_celltype(self), "conductance_based", False))),
        "receptor_types": property(lambda self: _receptor_types(_celltype(self))),
        "injectable": property(lambda self: bool(_receptor_types(_celltype(self)))),
        "annotate": _annotate,
        "annotations": property(lambda self: getattr(self, "_annotations", {})),
        "local_cells": property(lambda self: self.all_cells),
        "first_id": property(lambda self: self[0]),
        "last_id": property(lambda self: self[self.size - 1]),
        "is_local": lambda self, id: True,  # one process: every cell is local
        "id_to_local_index": lambda self, id: self.id_to_index(id),
        "describe": _describe_population,
        # PyNN 0.13's deprecated names, as PyNN defines them (pyNN/common/populations.py)
        "getSpikes": lambda self, gather=True, compatible_output=True: self.get_data("spikes", gather),
        "get_v": lambda self, gather=True, compatible_output=True: self.get_data("v", gather),
        "get_gsyn": lambda self, gather=True, compatible_output=True: self.get_data(["gsyn_exc", "gsyn_inh"], gather),
        "printSpikes": lambda self, file, gather=True, compatible_output=True: self.write_data(file, "spikes", gather),
        "print_v": lambda self, file, gather=True, compatible_output=True: self.write_data(file, "v", gather),
        "print_gsyn": lambda self, file, gather=True, compatible_output=True: self.write_data(
            file, ["gsyn_exc", "gsyn_inh"], gather),
        "meanSpikeCount": lambda self, gather=True: self.mean_spike_count(gather),
    }
    for cls in (ns["Population"], ns["PopulationView"]):
        for name, value in cells_extras.items():
            if not hasattr(cls, name):
                setattr(cls, name, value)
    projection_extras = {
        "save": _save,
        "describe": _describe_projection,
        "annotate": _annotate,
        "annotations": property(lambda self: getattr(self, "_annotations", {})),
        "shape": property(lambda self: (self.pre.size, self.post.size)),
        "printWeights": lambda self, file, format="list", gather=True: _save(self, "weight", file, format),
        "printDelays": lambda self, file, format="list", gather=True: _save(self, "delay", file, format),
        "getDelays": lambda self, format="list", gather=True: self.get("delay", format=format),
        "weightHistogram": lambda self, min=None, max=None, nbins=10: np.histogram(
            w := np.asarray(self.get("weight", format="list", with_address=False), dtype=float).ravel(),
            np.linspace(w.min() if min is None else min, w.max() if max is None else max, nbins + 1)),
    }
    for name, value in projection_extras.items():
        if not hasattr(ns["Projection"], name):
            setattr(ns["Projection"], name, value)


# -- run(..., callbacks=[...]) --------------------------------------------------------------------------------
def run_until_with_callbacks(time_point, callbacks, advance_to, now, dt):
    """PyNN's ``run_until(t, callbacks)`` loop (pyNN/common/control.py): each callback takes the
    current time and returns the next time it wants to be called; the run advances from one call
    time to the next (``advance_to(t)``), callbacks due within one step of each other run together.
    Running in segments changes nothing in the results (the network state carries over)."""
    events = [(callback(now()), callback) for callback in callbacks]
    while now() + 1e-9 < time_point:
        events.sort(key=lambda e: e[0], reverse=True)
        t_next, callback = events.pop()
        active = [callback]
        while events and abs(t_next - events[-1][0]) < dt:
            active.append(events.pop()[1])
        if t_next < now() + dt / 2:  # PyNN would loop for ever
            raise ValidationError(f"run(callbacks=...): {getattr(callback, '__name__', type(callback).__name__)} asked to "
                                  f"be called at t={t_next} ms, not after the current time {now()} ms; return a later time")
        advance_to(min(t_next, time_point))
        events.extend((cb(now()), cb) for cb in active)
    return now()


# -- SpikeSourceArray times where PyNN on NEST delivers them ------------------------------------------------------
def _nest_stamp_step(t: float, dt: float) -> int:
    """The step NEST's precise ``spike_generator`` puts a spike at time ``t`` [ms] in: NEST's
    ``Time::fromstamp`` (nestkernel/nest_time.cpp; 1000 tics per ms, NEST's default): the tics
    truncated, floored to the step grid, then one step up unless that grid time is >= t."""
    tics_per_step = int(round(dt * 1000))
    n = int(t * 1000.0)  # C++ static_cast<tic_t>(t * TICS_PER_MS)
    n -= n % tics_per_step
    s = n // tics_per_step
    if s * (tics_per_step / 1000.0) < t:
        s += 1
    return s


def as_pynn_nest_delivers(cell, dt: float):
    """A description ``SpikeSourceArray`` with each time moved to the step PyNN 0.13 on NEST emits
    it at. PyNN's NEST module sets the ``spike_generator`` to precise times, subtracts
    ``min_delay`` from every time and relays the spikes through parrot neurons with delay
    ``min_delay``; a time that the float subtraction puts just past a grid point (64.4 − 0.1 =
    64.30000000000001) is stamped one step later (64.5 instead of 64.4 at dt = 0.1). With
    neuromorph's min_delay = dt the step is ``stamp(t − dt) + 1``; for on-grid times that survive the
    subtraction it is t/dt, as before. Times ≤ dt are left as they are."""
    import neuromorph as nm
    rows = tuple(tuple(t if t <= dt else (_nest_stamp_step(t - dt, dt) + 1) * dt for t in row) for row in cell.spike_times)
    for k, row in enumerate(rows):
        steps = np.rint(np.asarray(row, dtype=np.float64) / dt)
        if np.unique(steps).size < steps.size:
            t = cell.spike_times[k][int(np.flatnonzero(np.diff(steps) == 0)[0]) + 1]
            raise UnsupportedError(
                f"SpikeSourceArray neuron {k}: two spike times in the step of {t} ms (dt={dt} ms; PyNN on NEST "
                "delivers both, each with the full weight); the torch engine emits one spike per neuron per "
                "step; give the second spike to another source neuron, or double the weight")
    return nm.SpikeSourceArray(rows) if rows != cell.spike_times else cell
