"""PyNN 0.13's API on top of the neuromorph model description: ``import neuromorph.pynn as sim``.

A PyNN script written against ``pyNN.nest`` runs unchanged (for the subset below) on every
neuromorph backend::

    import neuromorph.pynn as sim
    sim.setup(timestep=1.0, backend="torch")          # or backend="pynn:nest", "pynn:spinnaker"
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0, 15.0]))
    out = sim.Population(1, sim.IF_curr_exp(tau_m=10.0), label="out")
    out.record(["spikes", "v"])
    sim.Projection(src, out, sim.OneToOneConnector(), sim.StaticSynapse(weight=5.0, delay=1.0))
    sim.run(50.0)
    block = out.get_data()                            # a neo.Block, as PyNN returns
    sim.end()

The script builds a ``neuromorph.Network``; the network is lowered (``nm.build``) at the first
``run``, so populations, projections, recordings, ``initialize`` and ``set`` of parameters come
before it. Weights may be changed between runs (``Projection.set(weight=...)``).

``semantics`` ("nest" | "spinnaker"; default "spinnaker" for backend pynn:spinnaker, "nest"
otherwise) says which simulator's meaning of a PyNN number the script uses:

- "nest": inhibitory weights are negative (positive ones are refused), additive STDP steps are
  ``A±·w_max`` (``Additive(step="times_w_max")``), IF_curr_delta weights are mV jumps; the torch
  backend defaults to ``numerics="exact"``.
- "spinnaker": every weight is a magnitude ≥ 0 (the receptor gives the sign), additive STDP steps
  are ``A±`` in weight units (``step="absolute"``), IF_curr_delta weights are nA held for one step;
  the torch backend defaults to ``numerics="spinnaker"``.

Anything of PyNN not implemented here raises ``neuromorph.UnsupportedError`` naming the PyNN class
or function and what to use instead; nothing is approximated silently. See docs/pynn_frontend.md.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

import neuromorph as nm
from neuromorph.errors import UnsupportedError, ValidationError

from .compat import from_pynn_random  # real pyNN.random objects -> the front-end's (compat.py)

__all__ = [
    "setup", "run", "run_until", "reset", "end", "get_current_time", "get_time_step", "get_min_delay",
    "get_max_delay", "num_processes", "rank",
    "Population", "PopulationView", "Assembly", "ID", "Projection", "IF_curr_exp", "IF_curr_delta", "IF_curr_alpha", "IF_cond_exp", "Izhikevich",
    "IF_cond_alpha", "EIF_cond_exp_isfa_ista", "EIF_cond_alpha_isfa_ista", "SpikeSourceArray",
    "SpikeSourcePoisson", "OneToOneConnector", "AllToAllConnector", "FromListConnector", "FixedProbabilityConnector",
    "FixedNumberPreConnector", "FixedNumberPostConnector", "FixedTotalNumberConnector",
    "DistanceDependentProbabilityConnector", "space", "Space", "Line", "Grid2D", "Grid3D", "RandomStructure", "Cuboid", "Sphere",
    "StaticSynapse", "STDPMechanism", "TsodyksMarkramSynapse", "SpikePairRule", "Vogels2011Rule", "AdditiveWeightDependence", "MultiplicativeWeightDependence",
    "RandomDistribution", "NumpyRNG", "UnsupportedError",
    "DCSource", "StepCurrentSource", "ACSource", "NoisyCurrentSource",
]

SEMANTICS = ("nest", "spinnaker")
_session: "_Session | None" = None


# -- the simulator state --------------------------------------------------------------------------
class _Session:
    def __init__(self, dt, backend, numerics, device, semantics, seed, options):
        self.dt, self.backend, self.numerics, self.device = dt, backend, numerics, device
        self.semantics, self.seed, self.options = semantics, seed, options
        self.populations: list[Population] = []
        self.projections: list[Projection] = []
        self.current_sources: list = []  # (source, population, neuron indices or None), in inject order
        self.net: nm.Network | None = None
        self.sim = None
        self.archive: dict[str, list] = {}  # segments of runs before a reset(), per population

    @property
    def built(self) -> bool:
        return self.sim is not None

    def build(self):
        if self.sim is not None:
            return self.sim
        net = nm.Network(dt=self.dt, seed=self.seed)
        for p in self.populations:
            net.population(p.label, p.size, p.celltype._nm(self.semantics), initial_values=p._initial_values(),
                           structure=p._structure._nm if p._structure is not None else None)
            if p._recorded:
                net.record(p.label, *p._recorded, every=p._every)
        for j in self.projections:
            j._connect(net)
        for i, (source, pop, neurons) in enumerate(self.current_sources):
            net.add(source._nm(f"{type(source).__name__}{i}", pop.label, neurons, self.seed, i))
        options = dict(self.options)
        if self.backend == "torch":
            options["numerics"] = self.numerics or ("exact" if self.semantics == "nest" else "spinnaker")
            if self.device is not None:
                options["device"] = self.device
        else:
            if self.numerics is not None:
                options["numerics"] = self.numerics
            if self.device is not None:
                raise ValidationError(f"setup: device={self.device!r} is a torch option; backend {self.backend!r} takes none")
        self.net = net
        self.sim = nm.build(net, backend=self.backend, **options)
        return self.sim

    def check_not_built(self, what: str):
        if self.sim is not None:
            raise UnsupportedError(
                f"{what} after the first run(): neuromorph.pynn builds the network at the first run(), so populations, "
                "projections, record(), initialize() and spike times come before it (between runs: weights with "
                "Projection.set(weight=...), cell parameters and Poisson rates with Population.set(...)); call end() and "
                "setup() to start a new network")


def _current(what="this") -> _Session:
    if _session is None:
        raise ValidationError(f"{what}: call neuromorph.pynn.setup(timestep=...) first")
    return _session


def setup(timestep=1.0, min_delay="auto", max_delay="auto", backend="torch", numerics=None, device=None,
          semantics=None, **options) -> int:
    """Start a new network (ending any previous one). ``timestep`` [ms] is dt; ``min_delay``,
    ``max_delay`` are checked (every delay is a whole number of steps ≥ 1, so min_delay is dt) but
    need not be given. ``backend`` as ``nm.build``; ``numerics`` (torch: default "exact" under
    NEST semantics, "spinnaker" under sPyNNaker semantics), ``device`` (torch). ``seed`` (or PyNN's
    ``rng_seed``) seeds the network (Poisson sources, connectors without an rng); the remaining
    ``options`` go to ``nm.build`` (torch: ``batch``, ``dtype``, ``threads``; NEST: ``threads``)."""
    global _session
    if _session is not None:
        end()
    if backend not in nm.BACKENDS:
        raise ValidationError(f"setup: backend {backend!r} does not exist; choose one of {', '.join(nm.BACKENDS)}")
    if semantics is None:
        semantics = "spinnaker" if backend == "pynn:spinnaker" else "nest"
    if semantics not in SEMANTICS:
        raise ValidationError(f"setup: semantics={semantics!r} must be 'nest' (PyNN on NEST: inhibitory weights negative, "
                              "additive STDP steps A±·w_max) or 'spinnaker' (sPyNNaker: weight magnitudes, steps A±)")
    for name, value in (("min_delay", min_delay), ("max_delay", max_delay)):
        if value != "auto" and (not isinstance(value, (int, float)) or value < timestep):
            raise ValidationError(f"setup: {name}={value!r} must be 'auto' or a delay >= timestep={timestep} ms")
    for name in ("spike_precision", "verbosity", "t_flush"):  # t_flush: pyNN.nest's reset() workaround, not needed here
        if name in options:
            value = options.pop(name)
            if name == "spike_precision" and value != "on_grid":
                raise UnsupportedError(f"setup: spike_precision={value!r}: neuromorph runs on the time grid "
                                       "(spike_precision='on_grid', NEST's iaf_psc_* models); off-grid spike times are not modelled")
    seed = options.pop("seed", options.pop("rng_seed", 0))
    nm.Network(dt=timestep, seed=seed)  # validates dt and seed now, with the Network's messages
    _session = _Session(float(timestep), backend, numerics, device, semantics, int(seed), options)
    return 0


def end(compatible_output=True):
    """End the simulation (releases the simulator; results already read stay valid)."""
    global _session
    s, _session = _session, None
    if s is not None and s.sim is not None and hasattr(s.sim, "close"):
        s.sim.close()


def run(simtime, callbacks=None) -> float:
    """Advance by ``simtime`` ms (building the network at the first call); returns the time."""
    s = _current("run")
    sim = s.build()
    if callbacks:  # PyNN's loop: run from one callback time to the next (compat.py)
        from .compat import run_until_with_callbacks
        return run_until_with_callbacks(get_current_time() + float(simtime), callbacks,
                                        lambda t: sim.run(t - get_current_time()), get_current_time, s.dt)
    sim.run(float(simtime))
    return get_current_time()


def run_until(tstop, callbacks=None) -> float:
    """Advance to time ``tstop`` ms."""
    return run(float(tstop) - get_current_time(), callbacks)


def reset(annotations=None):
    """Back to t = 0: initial state, recordings restarted in a new Segment (PyNN keeps the earlier
    ones in the Blocks get_data returns), weights kept (PyNN's meaning)."""
    s = _current("reset")
    if s.sim is None:
        return
    from neuromorph.backends.torch.neo_results import to_neo
    if s.sim.time > 0:
        for p in s.populations:
            if p._recorded:
                s.archive.setdefault(p.label, []).extend(to_neo(s.sim, p.label, "all").segments)
    s.sim.reset()


def get_current_time() -> float:
    s = _current("get_current_time")
    return 0.0 if s.sim is None else float(s.sim.time)


def get_time_step() -> float:
    return _current("get_time_step").dt


def get_min_delay() -> float:
    return _current("get_min_delay").dt


def get_max_delay() -> float:
    s = _current("get_max_delay")
    if s.net is None:
        return float("inf")
    delays = [s.net.connectivity(lab).delays for j in s.projections for lab in j._net_labels()]
    return max([1] + [int(d.max()) for d in delays if d.size]) * s.dt


def num_processes() -> int:
    return 1


def rank() -> int:
    return 0


# -- random numbers ---------------------------------------------------------------------------------
class NumpyRNG:
    """PyNN's NumpyRNG: a ``numpy.random.RandomState(seed)`` stream (seed None: the setup seed).
    Each draw continues the stream, so a script draws the same numbers every time it runs."""

    def __init__(self, seed=None, parallel_safe=True):
        self.seed = seed
        self._rng = None

    @property
    def rng(self):
        if self._rng is None:
            seed = self.seed if self.seed is not None else (_session.seed if _session is not None else 0)
            self._rng = np.random.RandomState(seed)
        return self._rng

    def next(self, n=None, distribution="uniform", parameters=None, mask_local=None):
        return RandomDistribution(distribution, rng=self, **(parameters or {})).next(n)

    def permutation(self, x):
        """numpy's ``RandomState.permutation`` on this stream (what PyNN's ``sample`` draws)."""
        return self.rng.permutation(x)


_DISTRIBUTIONS = {"uniform": ("low", "high"), "normal": ("mu", "sigma")}


class RandomDistribution:
    """PyNN's RandomDistribution for ``"uniform"`` (low, high) and ``"normal"`` (mu, sigma), drawn
    from ``rng`` (a NumpyRNG) when a population or projection needs the values."""

    def __init__(self, distribution, parameters_pos=None, rng=None, **parameters_named):
        if distribution not in _DISTRIBUTIONS:
            raise UnsupportedError(f"RandomDistribution({distribution!r}) is not supported by neuromorph.pynn "
                                   f"(supported: {', '.join(_DISTRIBUTIONS)}); draw the values with numpy and give the array")
        names = _DISTRIBUTIONS[distribution]
        params = dict(zip(names, parameters_pos or ()))
        for k, v in parameters_named.items():
            if k not in names:
                raise ValidationError(f"RandomDistribution({distribution!r}): unknown parameter {k!r} (has {', '.join(names)})")
            params[k] = v
        rng = from_pynn_random(rng)
        if set(params) != set(names):
            raise ValidationError(f"RandomDistribution({distribution!r}) needs {', '.join(names)}")
        if rng is not None and not isinstance(rng, NumpyRNG):
            raise UnsupportedError(f"RandomDistribution(rng={type(rng).__name__}): only neuromorph.pynn.NumpyRNG is supported "
                                   "(GSLRNG and NativeRNG are not); use NumpyRNG(seed=...)")
        self.name, self.parameters, self.rng = distribution, params, rng or NumpyRNG()

    def next(self, n=None):
        r = self.rng.rng
        p = self.parameters
        if self.name == "uniform":
            return r.uniform(p["low"], p["high"], size=n)
        return r.normal(p["mu"], p["sigma"], size=n)

    def __repr__(self):
        return f"RandomDistribution({self.name!r}, {self.parameters})"


def _values(owner, name, value, n):
    """A scalar, ``[n]`` values or a RandomDistribution drawn now, as float64 ``[n]`` (or a float)."""
    value = from_pynn_random(value)
    if isinstance(value, RandomDistribution):
        return np.asarray(value.next(n), dtype=np.float64)
    if callable(value):
        raise UnsupportedError(f"{owner}: {name} given as a function (PyNN's distance-dependent expressions) is not supported "
                               "by neuromorph.pynn; compute the values with numpy and give the array")
    a = np.asarray(value, dtype=np.float64)
    return float(a) if a.ndim == 0 else a


# -- cell types ----------------------------------------------------------------------------------
class _StandardType:
    nm_type = None
    conductance_based = False
    default_initial_values: dict = {}
    recordable: tuple = ("spikes",)

    def __init__(self, **parameters):
        names = self.default_parameters()
        for k in parameters:
            if k not in names:
                raise ValidationError(f"{type(self).__name__}: unknown parameter {k!r} (PyNN's are {', '.join(names)})")
        self.parameter_space = {**names, **parameters}
        self._check()

    @classmethod
    def default_parameters(cls) -> dict:
        from dataclasses import fields
        default = cls.nm_type()
        return {f.name: getattr(default, f.name) for f in fields(default) if f.name != "weight_units"}

    def _check(self):
        for k, v in self.parameter_space.items():
            if isinstance(v, RandomDistribution) or (np.ndim(v) > 0):
                raise UnsupportedError(
                    f"{type(self).__name__}({k}=...): heterogeneous parameter values are not supported by neuromorph.pynn "
                    "(a description cell type has one value per population); make one Population per value")
        self._nm("nest")  # validate now, with the description's messages

    def _nm(self, semantics):
        return self.nm_type(**{k: float(v) for k, v in self.parameter_space.items()})

    def get_parameter_names(self):
        return tuple(self.parameter_space)

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.parameter_space.items())})"


class IF_curr_exp(_StandardType):
    """PyNN's IF_curr_exp (nm.IF_curr_exp; NEST iaf_psc_exp). Initial v −65 mV as in PyNN."""
    nm_type = nm.IF_curr_exp
    default_initial_values = {"v": -65.0, "isyn_exc": 0.0, "isyn_inh": 0.0}
    recordable = ("spikes", "v", "isyn_exc", "isyn_inh")


class IF_curr_alpha(_StandardType):
    """PyNN's IF_curr_alpha (nm.IF_curr_alpha; NEST iaf_psc_alpha)."""
    nm_type = nm.IF_curr_alpha
    default_initial_values = {"v": -65.0, "isyn_exc": 0.0, "isyn_inh": 0.0}
    recordable = ("spikes", "v", "isyn_exc", "isyn_inh")


class IF_cond_exp(_StandardType):
    """PyNN's IF_cond_exp (nm.IF_cond_exp; NEST iaf_cond_exp): weights are conductances in µS,
    positive on both receptors (as PyNN requires of conductance-based cells on every simulator)."""
    nm_type = nm.IF_cond_exp
    conductance_based = True
    default_initial_values = {"v": -65.0, "gsyn_exc": 0.0, "gsyn_inh": 0.0}
    recordable = ("spikes", "v", "gsyn_exc", "gsyn_inh")


class IF_cond_alpha(IF_cond_exp):
    """PyNN's IF_cond_alpha (nm.IF_cond_alpha; NEST iaf_cond_alpha): alpha-shaped conductances,
    otherwise as IF_cond_exp (PyNN's defaults tau_syn_E = 0.3 ms, tau_syn_I = 0.5 ms)."""
    nm_type = nm.IF_cond_alpha


class EIF_cond_exp_isfa_ista(_StandardType):
    """PyNN's EIF_cond_exp_isfa_ista (nm.EIF_cond_exp_isfa_ista; NEST aeif_cond_exp, AdEx): weights
    are conductances in µS, positive on both receptors; w (nA) recordable and initialisable."""
    nm_type = nm.EIF_cond_exp_isfa_ista
    conductance_based = True
    default_initial_values = {"v": -70.6, "w": 0.0, "gsyn_exc": 0.0, "gsyn_inh": 0.0}
    recordable = ("spikes", "v", "w", "gsyn_exc", "gsyn_inh")


class EIF_cond_alpha_isfa_ista(EIF_cond_exp_isfa_ista):
    """PyNN's EIF_cond_alpha_isfa_ista (nm.EIF_cond_alpha_isfa_ista; NEST aeif_cond_alpha): AdEx
    with alpha-shaped conductances, otherwise as EIF_cond_exp_isfa_ista."""
    nm_type = nm.EIF_cond_alpha_isfa_ista


class IF_curr_delta(_StandardType):
    """PyNN's IF_curr_delta: weights are mV jumps under NEST semantics (iaf_psc_delta), nA held
    for one step under sPyNNaker semantics (nm.IF_curr_delta's ``weight_units``)."""
    nm_type = nm.IF_curr_delta
    default_initial_values = {"v": -65.0}
    recordable = ("spikes", "v")

    def _nm(self, semantics):
        params = {k: float(v) for k, v in self.parameter_space.items()}
        return nm.IF_curr_delta(**params, weight_units="mV" if semantics == "nest" else "nA")


class Izhikevich(_StandardType):
    """PyNN's Izhikevich (nm.Izhikevich; NEST izhikevich): weights are mV jumps."""
    nm_type = nm.Izhikevich
    default_initial_values = {"v": -70.0, "u": -14.0}
    recordable = ("spikes", "v", "u")


class SpikeSourceArray(_StandardType):
    """PyNN's SpikeSourceArray: ``spike_times`` one list for every neuron, or one per neuron."""
    recordable = ("spikes",)

    @classmethod
    def default_parameters(cls):
        return {"spike_times": []}

    def _check(self):
        pass

    def _rows(self, n):
        times = getattr(self.parameter_space["spike_times"], "value", self.parameter_space["spike_times"])
        if isinstance(times, np.ndarray) or len(times) == 0 or np.ndim(getattr(times[0], "value", times[0])) == 0:
            rows = [np.asarray(times, dtype=np.float64).ravel()] * n  # one list for every neuron
        else:
            rows = [np.asarray(getattr(r, "value", r), dtype=np.float64).ravel() for r in times]
        if len(rows) != n:
            raise ValidationError(f"SpikeSourceArray: {len(rows)} spike-time lists for {n} neurons; give one list, or one per neuron")
        return [tuple(float(t) for t in r) for r in rows]

    def _nm_rows(self, n):
        return nm.SpikeSourceArray(tuple(self._rows(n)))


class SpikeSourcePoisson(_StandardType):
    """PyNN's SpikeSourcePoisson (rate Hz, start and duration ms); neuromorph draws it per step
    with probability rate·dt/1000 from the setup seed, so its trains differ from NEST's."""
    nm_type = nm.SpikeSourcePoisson
    recordable = ("spikes",)


_CELL_TYPES = (IF_curr_exp, IF_curr_alpha, IF_curr_delta, IF_cond_exp, IF_cond_alpha, EIF_cond_exp_isfa_ista, EIF_cond_alpha_isfa_ista,
               Izhikevich, SpikeSourceArray, SpikeSourcePoisson)


# -- populations ---------------------------------------------------------------------------------
class _Sized:
    """``len()`` and ``local_size`` (one process: every cell is local) from ``size``; shared by
    Population, PopulationView and Assembly."""

    def __len__(self):
        return self.size

    @property
    def local_size(self):
        return self.size


class _Cells(_Sized):
    """What Population and PopulationView share: indexing into views and IDs, iteration, sampling,
    ``+`` into an Assembly (subclasses give ``_root`` and ``_indices``)."""

    @property
    def all_cells(self):
        """The cells' IDs: their indices in the root Population (neuromorph has no global cell ids)."""
        return self._indices.copy()

    def __getitem__(self, index):
        """An int: that cell's ID (PyNN's); a slice, index list/array or boolean mask: a PopulationView."""
        return _getitem(self, index)

    def __iter__(self):
        return (ID(self._root, int(i)) for i in self._indices)

    def sample(self, n, rng=None):
        """``n`` cells drawn as PyNN draws them (``rng.permutation``, the first n), as a PopulationView."""
        return _sample(self, n, rng)

    def __add__(self, other):
        """Population/PopulationView/Assembly + ... makes an Assembly, as in PyNN."""
        if isinstance(other, Assembly):
            return Assembly(self, *other.populations)
        return Assembly(self, other)

    def id_to_index(self, id):
        """neuromorph's cell IDs are the neuron indices of the Population."""
        return _id_to_index(self, id)

    @property
    def positions(self):
        """``[3, size]`` positions (x, y, z rows, PyNN's length units) from the root Population's
        structure, as PyNN's ``positions`` (read-only here)."""
        return self._root._all_positions()[:, self._indices]

    @property
    def structure(self):
        """The root Population's structure (neuromorph.pynn.space; Line() when none was given)."""
        from .space import Line
        return self._root._structure if self._root._structure is not None else Line()


class Population(_Cells):
    """PyNN's Population: ``size`` cells of one type, ``initial_values`` (scalars, arrays or
    RandomDistributions), ``label``."""

    _count = 0

    def __init__(self, size, cellclass, cellparams=None, structure=None, initial_values=None, label=None,
                 constraints=None, additional_parameters=None):
        s = _current("Population")
        s.check_not_built("Population(...)")
        from .space import BaseStructure, Grid2D, Grid3D, Line  # spatial structures (neuromorph/pynn/space.py)
        if isinstance(size, tuple):  # PyNN: size=(nx, ny) means structure=Grid2D(nx/ny), (nx, ny, nz) Grid3D
            if structure is not None or not 1 <= len(size) <= 3:
                raise ValidationError(f"Population(size={size!r}): a tuple size is (n,), (nx, ny) or (nx, ny, nz), without structure=")
            structure = (Line(), Grid2D(size[0] / float(size[1])) if len(size) > 1 else None,
                         Grid3D(size[0] / float(size[1]), size[0] / float(size[2])) if len(size) > 2 else None)[len(size) - 1]
            size = int(np.prod(size))
        if structure is not None and not isinstance(structure, BaseStructure):
            raise UnsupportedError(f"Population(structure={type(structure).__name__}): use neuromorph.pynn.space's Line, Grid2D, "
                                   "Grid3D or RandomStructure")
        if structure is not None:
            structure._nm.check_size(int(size))  # a grid the size does not fill is refused now, as PyNN does on use
        self._structure = structure
        if isinstance(cellclass, type) and issubclass(cellclass, _StandardType):
            cellclass = cellclass(**(cellparams or {}))
        if not isinstance(cellclass, _StandardType):
            raise UnsupportedError(f"Population: cell type {getattr(cellclass, '__name__', type(cellclass).__name__)} is not "
                                   f"supported by neuromorph.pynn (supported: {', '.join(c.__name__ for c in _CELL_TYPES)})")
        self.size = int(size)
        self.celltype = cellclass
        self.label = label if label is not None else f"population{len(s.populations)}"
        self._session = s
        self._init: dict = {}
        self._recorded: list[str] = []
        self._rec_cells: dict = {}  # variable -> None (every neuron) or the set of neurons recorded through views
        self._every = 1
        if isinstance(cellclass, SpikeSourceArray):
            cellclass._nm_rows(self.size)  # validate the rows now
            self.celltype = _ArrayCell(cellclass, self.size)
        if any(p.label == self.label for p in s.populations):
            raise ValidationError(f"Population: label {self.label!r} is already used; labels must be unique")
        s.populations.append(self)
        if initial_values:
            self.initialize(**initial_values)

    # description ------------------------------------------------------------------------------
    def _initial_values(self) -> dict:
        if self.celltype.nm_type is None:
            return {}
        out = {k: v for k, v in self.celltype.default_initial_values.items() if not k.startswith("isyn")}
        out.update(self._init)
        return {k: (v if np.ndim(v) == 0 else tuple(np.asarray(v, dtype=float))) for k, v in out.items()}

    def initialize(self, **initial_values):
        """Initial state variables (``v`` mV, ``u`` for Izhikevich): scalars, ``[size]`` arrays or
        RandomDistributions (drawn now)."""
        self._initialize(initial_values, None, f"Population {self.label!r}")

    def _initialize(self, initial_values, cells, owner):
        """Initial values for every neuron (``cells`` None) or for neurons ``cells`` (a view's)."""
        self._session.check_not_built(f"{owner}.initialize()")
        allowed = tuple(k for k in self.celltype.default_initial_values)
        for k, v in initial_values.items():
            if k not in allowed:
                raise ValidationError(f"Population {self.label!r}.initialize: no state variable {k!r} on "
                                      f"{type(self.celltype).__name__} (has {', '.join(allowed) or 'none'})")
            if k.startswith("isyn") and self._session.backend != "torch":
                raise UnsupportedError(f"Population {self.label!r}.initialize({k}=...): NEST cannot set an initial synaptic "
                                       "current (PyNN ignores it there); start from 0 or use backend='torch'")
            if k.startswith("gsyn") and self._session.backend != "torch":
                raise UnsupportedError(f"Population {self.label!r}.initialize({k}=...): neuromorph's PyNN backends start "
                                       "the conductances at 0 (PyNN 0.13 hands an initial gsyn to NEST unscaled: 0.02 µS "
                                       "becomes 0.02 nS); start from 0 or use backend='torch'")
            if k == "w" and self._session.backend != "torch":
                raise UnsupportedError(f"Population {self.label!r}.initialize(w=...): neuromorph's PyNN backends start "
                                       "w at 0 (PyNN 0.13 hands an initial w to NEST unscaled: 0.05 nA becomes 0.05 pA); "
                                       "start from 0 or use backend='torch'")
            if cells is None:
                self._init[k] = _values(f"{owner}.initialize", k, v, self.size)
                continue
            values = _values(f"{owner}.initialize", k, v, len(cells))
            if np.ndim(values) and np.shape(values) != (len(cells),):
                raise ValidationError(f"{owner}.initialize({k}=...): {np.shape(values)} values for {len(cells)} neurons")
            current = self._init.get(k, self.celltype.default_initial_values[k])
            current = np.broadcast_to(np.asarray(current, dtype=np.float64), (self.size,)).copy()
            current[np.asarray(cells, dtype=np.int64)] = values
            self._init[k] = current

    def set(self, **parameters):
        """Change cell parameters (one value for the whole population), or a SpikeSourcePoisson's
        rate/start/duration. Between runs as on pyNN.nest: from the current time on, the state kept
        (``Simulation.set_parameters``); a SpikeSourceArray's times only before the first run."""
        s = self._session
        if s.built and isinstance(self.celltype, _ArrayCell):
            s.check_not_built(f"Population {self.label!r}.set(spike_times=...)")
        new = dict(self.celltype.parameter_space)
        new.update(parameters)
        if isinstance(self.celltype, _ArrayCell):
            self.celltype = _ArrayCell(SpikeSourceArray(**new), self.size)
            return
        celltype = type(self.celltype)(**new)
        if s.built:
            described = celltype._nm(s.semantics)
            s.sim.set_parameters(self.label, **{k: getattr(described, k) for k in parameters})
        self.celltype = celltype

    def get(self, parameter_names, gather=False, simplify=True):
        names = [parameter_names] if isinstance(parameter_names, str) else list(parameter_names)
        out = [self.celltype.parameter_space[n] for n in names]
        return out[0] if isinstance(parameter_names, str) else out

    def record(self, variables, to_file=None, sampling_interval=None):
        """Record ``"spikes"`` and state variables (``"v"``, ``"isyn_exc"``, ``"isyn_inh"``, ``"u"``),
        or ``"all"``, every ``sampling_interval`` ms (a multiple of dt)."""
        self._record(variables, to_file, sampling_interval, None)

    def _record(self, variables, to_file, sampling_interval, cells):
        """Record every neuron (``cells`` None) or add neurons ``cells`` (a view's) to what
        get_data reports; the description records the whole population either way."""
        self._session.check_not_built(f"Population {self.label!r}.record()")
        if to_file is not None:
            raise UnsupportedError("record(to_file=...) is not supported by neuromorph.pynn; call write_data(filename) after the run")
        if variables is None:
            if cells is not None:
                raise UnsupportedError("PopulationView.record(None): neuromorph.pynn stops recording whole populations only; "
                                       "call record(None) on the parent Population")
            self._recorded = []
            self._rec_cells = {}
            return
        names = list(self.celltype.recordable) if variables == "all" else (
            [variables] if isinstance(variables, str) else list(variables))
        for v in names:
            if v not in self.celltype.recordable:
                raise ValidationError(f"Population {self.label!r}.record: {type(self.celltype).__name__} cannot record {v!r} "
                                      f"(recordable: {', '.join(self.celltype.recordable)})")
        if sampling_interval is not None:
            every = float(sampling_interval) / self._session.dt
            if every < 1 or abs(every - round(every)) > 1e-9:
                raise ValidationError(f"record: sampling_interval={sampling_interval} ms must be a whole multiple of dt={self._session.dt} ms")
            # spikes are events, not samples: record("spikes") then record("v", sampling_interval=...) is fine
            if any(r != "spikes" for r in self._recorded) and int(round(every)) != self._every:
                raise UnsupportedError("record: one sampling_interval per population in neuromorph.pynn")
            self._every = int(round(every))
        for v in names:
            if v not in self._recorded:
                self._recorded.append(v)
            if cells is None:
                self._rec_cells[v] = None
            elif v not in self._rec_cells:
                self._rec_cells[v] = set(int(i) for i in cells)
            elif self._rec_cells[v] is not None:
                self._rec_cells[v] |= set(int(i) for i in cells)

    # results -----------------------------------------------------------------------------------
    def get_data(self, variables="all", gather=True, clear=False, annotations=None):
        """The recorded ``variables`` as a neo.Block: segments of runs before each reset(), then the
        current one (one Segment per trial when batch > 1). Spike times in ms; v in mV, isyn_* in
        nA (magnitudes), u in mV/ms; sampling period dt·every."""
        if clear:
            raise UnsupportedError("get_data(clear=True) is not supported by neuromorph.pynn; read with clear=False")
        from neuromorph.backends.torch.neo_results import to_neo
        s = self._session
        if variables != "all" and variables is not None:
            wanted = [variables] if isinstance(variables, str) else list(variables)
            for v in wanted:
                if v not in self._recorded:
                    raise ValidationError(f"get_data: {v!r} of {self.label!r} was not recorded; call record({v!r}) before the first run")
        if s.sim is None:  # nothing ran yet: an empty Block, without building the network
            import neo
            block = neo.Block(name=self.label, label=self.label)
            block.segments.append(neo.Segment(name="segment000"))
            return block
        sim = s.sim
        block = to_neo(sim, self.label, variables)
        earlier = list(s.archive.get(self.label, []))
        if earlier:
            import copy
            for seg in earlier:
                seg = copy.copy(seg)
                if variables not in ("all", None):
                    wanted = [variables] if isinstance(variables, str) else list(variables)
                    if "spikes" not in wanted:
                        seg.spiketrains = []
                    seg.analogsignals = [a for a in seg.analogsignals if a.name in wanted]
                seg.block = block
                block.segments.insert(len(block.segments) - _n_current(block, sim), seg)
        if any(c is not None for c in self._rec_cells.values()):
            # recorded through views only: report those neurons, as PyNN does
            block = _select(block, {v: (range(self.size) if c is None else sorted(c)) for v, c in self._rec_cells.items()})
        if annotations:
            block.annotate(**annotations)
        return block

    def write_data(self, io, variables="all", gather=True, clear=False, annotations=None):
        """Write get_data(variables) to ``io``: a file name (``.pkl``/``.pickle``: neo's PickleIO,
        which needs nothing else; ``.nix``/``.h5``: neo's NixIO, which needs the ``nixio`` package)
        or a neo IO object."""
        block = self.get_data(variables, gather, clear, annotations)
        if hasattr(io, "write_block"):
            io.write_block(block)
            return
        import neo
        path = Path(io)
        if path.suffix in (".pkl", ".pickle"):
            neo.io.PickleIO(str(path)).write_block(block)
        elif path.suffix in (".nix", ".h5"):
            try:
                import nixio  # noqa: F401
            except ImportError:
                raise UnsupportedError(f"write_data({str(path)!r}): neo's NixIO needs the nixio package (pip install nixio); "
                                       "or write a .pkl file (neo's PickleIO)") from None
            with neo.io.NixIO(str(path), mode="ow") as f:
                f.write_block(block)
        else:
            raise ValidationError(f"write_data({str(path)!r}): give a .pkl (neo PickleIO) or .nix/.h5 (neo NixIO) file, or a neo IO object")

    def get_spike_counts(self, gather=True):
        """``{neuron index: spike count}`` of the current segment (per trial arrays when batch > 1)."""
        s = self._session
        if "spikes" not in self._recorded:
            raise ValidationError(f"get_spike_counts: spikes of {self.label!r} were not recorded; call record('spikes') first")
        if s.sim is None:
            return {i: 0 for i in range(self.size)}
        sim = s.sim
        spikes = sim.spikes(self.label)
        if getattr(sim, "batch", 1) > 1:
            return {i: np.array([len(trial[i]) for trial in spikes]) for i in range(self.size)}
        return {i: len(t) for i, t in enumerate(spikes)}

    def mean_spike_count(self, gather=True):
        counts = self.get_spike_counts()
        return float(np.mean([np.mean(c) for c in counts.values()]))

    def _all_positions(self):
        """Every neuron's position, as the description computes it (Network.positions)."""
        if getattr(self, "_pos", None) is None:
            from neuromorph.space import Line, population_seed
            s = self._session
            structure = self._structure._nm if self._structure is not None else Line()
            index = next(k for k, p in enumerate(s.populations) if p is self)
            self._pos = structure.positions(self.size, population_seed(s.seed, index))
            self._pos.setflags(write=False)
        return self._pos

    # views and assemblies ---------------------------------------------------------------------------
    @property
    def _root(self):
        return self

    @property
    def _indices(self):
        return np.arange(self.size)

    def inject(self, current_source):
        """PyNN's ``Population.inject(source)``: the same as ``source.inject_into(population)``."""
        if not isinstance(current_source, _CurrentSource):
            raise UnsupportedError(f"{type(self).__name__}.inject({type(current_source).__name__}): not one of neuromorph.pynn's "
                                   "current sources (DCSource, StepCurrentSource, ACSource, NoisyCurrentSource)")
        current_source.inject_into(self)

    def __repr__(self):
        return f"Population({self.size}, {self.celltype!r}, label={self.label!r})"


def _select(block, cells_by_variable):
    """``block`` restricted to the neurons ``cells_by_variable[variable]`` (parent indices, in that
    order), per variable ("spikes" for the spike trains), as PyNN's get_data of a view reports them:
    ``source_index`` / ``channel_index`` stay the parent's indices."""
    import neo
    out = neo.Block(name=block.name, **{k: v for k, v in block.annotations.items() if k != "name"})
    for seg in block.segments:
        new = neo.Segment(name=seg.name, **{k: v for k, v in seg.annotations.items() if k != "name"})
        trains = list(seg.spiketrains)
        if trains:
            by_index = {int(st.annotations.get("source_index", k)): st for k, st in enumerate(trains)}
            new.spiketrains.extend([by_index[int(i)] for i in cells_by_variable.get("spikes", ()) if int(i) in by_index])
        for sig in seg.analogsignals:
            cols = np.asarray(list(cells_by_variable.get(sig.name, ())), dtype=np.int64)
            channels = np.asarray(sig.array_annotations.get("channel_index", np.arange(sig.shape[1])))
            where = {int(c): k for k, c in enumerate(channels)}
            cols = np.array([where[int(c)] for c in cols if int(c) in where], dtype=np.int64)
            piece = neo.AnalogSignal(np.asarray(sig.magnitude)[:, cols], units=sig.units, t_start=sig.t_start,
                                     sampling_period=sig.sampling_period, name=sig.name,
                                     **{k: v for k, v in sig.annotations.items() if k != "name"})
            piece.array_annotate(channel_index=channels[cols])
            new.analogsignals.append(piece)
        new.block = out
        out.segments.append(new)
    return out


class ID(int):
    """PyNN's ID: one cell, what ``population[i]`` returns. neuromorph has no global cell ids, so
    the value is the neuron's index in its Population (``parent``); ``as_view()`` gives the
    one-neuron PopulationView, which Projections, record and inject take."""

    def __new__(cls, parent, index):
        self = int.__new__(cls, int(index))
        self.parent = parent
        return self

    @property
    def local(self):
        return True

    def as_view(self):
        return PopulationView(self.parent, [int(self)])

    def inject(self, current_source):
        self.as_view().inject(current_source)

    def get_initial_value(self, variable):
        v = self.parent._initial_values().get(variable)
        if v is None:
            raise ValidationError(f"ID.get_initial_value: no state variable {variable!r} on {type(self.parent.celltype).__name__}")
        return v if np.ndim(v) == 0 else v[int(self)]

    def __repr__(self):
        return f"ID({self.parent.label!r}, {int(self)})"


def _group(owner, g, session=None):
    if isinstance(g, ID):
        g = g.as_view()
    if not isinstance(g, (Population, PopulationView, Assembly)):
        raise UnsupportedError(f"{owner}: {type(g).__name__} is not a Population, PopulationView or Assembly of neuromorph.pynn")
    if session is not None and g._session is not session:
        raise ValidationError(f"{owner}: {g.label!r} is not of this setup()")
    return g


def _getitem(group, index):
    if isinstance(index, (int, np.integer)):
        n = group.size
        if not -n <= int(index) < n:
            raise IndexError(f"{group.label!r}[{index}]: index out of range for {n} neurons")
        return ID(group._root, int(group._indices[int(index)]))
    if isinstance(index, (slice, list, np.ndarray, tuple)):
        return PopulationView(group, list(index) if isinstance(index, tuple) else index)
    raise TypeError(f"indices must be integers, slices, lists, arrays or tuples, not {type(index).__name__}")


def _sample(group, n, rng):
    rng = from_pynn_random(rng)
    if rng is not None and not isinstance(rng, NumpyRNG):
        raise UnsupportedError(f"sample(rng={type(rng).__name__}): use neuromorph.pynn.NumpyRNG(seed=...)")
    rng = rng if rng is not None else NumpyRNG()
    return PopulationView(group, rng.permutation(np.arange(group.size, dtype=int))[0:int(n)])


def _id_to_index(group, id):
    cells = np.asarray(group.all_cells)
    ids = np.atleast_1d(np.asarray(id, dtype=np.int64))
    out = []
    for i in ids:
        hit = np.flatnonzero(cells == i)
        if hit.size == 0:
            raise IndexError(f"ID {int(i)} is not in {group.label!r}")
        out.append(int(hit[0]))
    return out[0] if np.ndim(id) == 0 else np.asarray(out)


class PopulationView(_Cells):
    """PyNN's PopulationView: neurons ``selector`` (a slice, index list/array or boolean mask) of
    ``parent`` (a Population or another view). As in PyNN, index arrays are sorted and duplicates
    dropped; view-local index i is parent index ``mask[i]``. Projections, record/get_data,
    initialize and inject act on those neurons of the parent Population."""

    def __init__(self, parent, selector, label=None):
        if isinstance(parent, Assembly):
            raise UnsupportedError("PopulationView(Assembly, ...): index the Assembly (assembly[i:j]) to get an Assembly of views")
        if not isinstance(parent, (Population, PopulationView)):
            raise UnsupportedError(f"PopulationView: parent {type(parent).__name__} must be a Population or PopulationView of "
                                   "neuromorph.pynn")
        n = parent.size
        if isinstance(selector, slice):
            local = np.arange(n)[selector]
            mask = selector
        else:
            a = np.asarray(selector)
            if a.dtype == bool:
                if a.shape != (n,):
                    raise ValidationError(f"PopulationView: a boolean mask must have the parent's size {n} (got {a.shape})")
                local = np.flatnonzero(a)
            else:
                if a.size and not np.issubdtype(a.dtype, np.integer):
                    raise ValidationError(f"PopulationView: selector {selector!r:.60} must be a slice, integer indices or a boolean mask")
                a = a.astype(np.int64).ravel()
                if a.size and (a.min() < -n or a.max() >= n):
                    raise IndexError(f"PopulationView: index out of range for {parent.label!r} of {n} neurons")
                local = np.unique(a % n if n else a)  # PyNN sorts and drops duplicates
                if local.size != a.size:
                    import warnings
                    warnings.warn("PopulationView can contain each cell only once; duplicates are removed (as in PyNN)")
            mask = local
        self.parent, self.mask = parent, mask
        self._local = np.asarray(local, dtype=np.int64)
        self._root = parent._root
        self._indices = parent._indices[self._local]
        self._session = self._root._session
        self.size = int(self._local.size)
        self.label = label or f"view of {parent.label!r} with size {self.size}"

    # what PyNN's views have -------------------------------------------------------------------------
    @property
    def celltype(self):
        return self._root.celltype

    @property
    def grandparent(self):
        """The Population at the root (the parent may be a view)."""
        return self._root

    def index_in_grandparent(self, indices):
        return self._indices[indices]

    # acting on the parent's neurons ------------------------------------------------------------------
    def record(self, variables, to_file=None, sampling_interval=None):
        """Record these neurons (the description records the whole root Population; get_data of the
        root then reports the neurons recorded, as PyNN's does)."""
        self._root._record(variables, to_file, sampling_interval, self._indices)

    def get_data(self, variables="all", gather=True, clear=False, annotations=None):
        """The root Population's data restricted to this view's recorded neurons, in the root's
        index order (as PyNN reports them), ``source_index`` / ``channel_index`` the root's indices."""
        root = self._root
        block = root.get_data(variables, gather, clear)
        mine = set(int(i) for i in self._indices)
        cells = {v: sorted(mine if c is None else mine & c) for v, c in root._rec_cells.items()}
        block = _select(block, cells)
        block.name = self.label
        if annotations:
            block.annotate(**annotations)
        return block

    def write_data(self, io, variables="all", gather=True, clear=False, annotations=None):
        return Population.write_data(self, io, variables, gather, clear, annotations)

    def get_spike_counts(self, gather=True):
        counts = self._root.get_spike_counts(gather)
        return {int(i): counts[int(i)] for i in self._indices}

    def mean_spike_count(self, gather=True):
        counts = self.get_spike_counts()
        return float(np.mean([np.mean(c) for c in counts.values()])) if counts else float("nan")

    def initialize(self, **initial_values):
        """Initial values of these neurons (scalars, ``[size]`` arrays, RandomDistributions drawn
        for the view's size)."""
        self._root._initialize(initial_values, self._indices, f"PopulationView {self.label!r}")

    def set(self, **parameters):
        """Cell parameters of these neurons: a SpikeSourceArray's ``spike_times`` (one list per
        neuron in the description), or any parameter when the view covers its whole Population.
        Other cell parameters are one value per Population in neuromorph: refused."""
        root = self._root
        root._session.check_not_built(f"PopulationView {self.label!r}.set()")
        if np.array_equal(np.sort(self._indices), np.arange(root.size)):
            root.set(**parameters)
            return
        if isinstance(root.celltype, _ArrayCell) and set(parameters) <= {"spike_times"}:
            if "spike_times" in parameters:
                rows = root.celltype.source._rows(root.size)
                new = SpikeSourceArray(spike_times=parameters["spike_times"])._rows(self.size)
                for i, r in zip(self._indices, new):
                    rows[int(i)] = r
                root.celltype = _ArrayCell(SpikeSourceArray(spike_times=[list(r) for r in rows]), root.size)
            return
        names = ", ".join(parameters)
        raise UnsupportedError(f"PopulationView.set({names}=...) on part of {root.label!r}: neuromorph.pynn cell parameters are "
                               "one value per Population (the description has no per-neuron parameters); make a separate "
                               "Population for these neurons (only a SpikeSourceArray's spike_times can be set per neuron)")

    def get(self, parameter_names, gather=False, simplify=True):
        return self._root.get(parameter_names, gather, simplify)

    def inject(self, current_source):
        Population.inject(self, current_source)

    @property
    def initial_values(self):
        raise UnsupportedError("PopulationView.initial_values is not supported by neuromorph.pynn (nor by PyNN); "
                               "use initialize(...) to set them")

    def __repr__(self):
        return f"PopulationView(parent={self.parent.label!r}, selector={self.mask!r}, label={self.label!r})"


class Assembly(_Sized):
    """PyNN's Assembly: Populations and PopulationViews taken together in order (``p1 + p2`` or
    ``Assembly(p1, p2)``). record / get_data / initialize act on each; get_data concatenates the
    spike trains and the signals (channel_index offset by the earlier members' sizes), as PyNN's
    does; a Projection from or to an Assembly becomes one projection per member pair, with the
    connector run over the whole Assembly's index range."""

    _count = 0

    def __init__(self, *populations, label=None):
        import warnings
        self.populations: list = []
        session = None
        for p in populations:
            if isinstance(p, Assembly):
                members = p.populations
            else:
                members = [_group("Assembly", p)]
            for m in members:
                if session is None:
                    session = m._session
                elif m._session is not session:
                    raise ValidationError(f"Assembly: {m.label!r} is not of the same setup() as the other members")
                if any(m is q for q in self.populations):
                    warnings.warn(f"Assembly: {m.label!r} is already in the Assembly; not added twice (as in PyNN)")
                    continue
                taken = set()
                for q in self.populations:
                    if q._root is m._root:
                        taken |= set(int(i) for i in q._indices)
                if taken & set(int(i) for i in m._indices):
                    warnings.warn(f"Assembly: {m.label!r} has cells already in the Assembly; not added (as in PyNN)")
                    continue
                self.populations.append(m)
        if session is None:
            raise ValidationError("Assembly: give at least one Population or PopulationView")
        self._session = session
        Assembly._count += 1
        self.label = label or f"Assembly {Assembly._count}"

    @property
    def size(self):
        return sum(p.size for p in self.populations)

    @property
    def all_cells(self):
        """The members' cell IDs in order (indices in each member's root Population)."""
        return np.concatenate([p.all_cells for p in self.populations])

    @property
    def positions(self):
        """``[3, size]``: the members' positions side by side, as PyNN's Assembly.positions."""
        return np.hstack([p.positions for p in self.populations])

    def _members(self):
        """[(offset, member)] in order."""
        out, off = [], 0
        for p in self.populations:
            out.append((off, p))
            off += p.size
        return out

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)):
            i = int(index) + (self.size if int(index) < 0 else 0)
            for off, p in self._members():
                if off <= i < off + p.size:
                    return p[i - off]
            raise IndexError(f"{self.label!r}[{index}]: index out of range for {self.size} neurons")
        if isinstance(index, (slice, list, np.ndarray, tuple)):
            a = np.asarray(list(index) if isinstance(index, tuple) else index)
            idx = np.arange(self.size)[index] if isinstance(index, slice) or a.dtype == bool else a.astype(np.int64)
            views = []
            for off, p in self._members():
                mine = idx[(idx >= off) & (idx < off + p.size)] - off
                if mine.size:
                    views.append(p[mine])
            return Assembly(*views)
        raise TypeError(f"indices must be integers, slices, lists, arrays or tuples, not {type(index).__name__}")

    def __iter__(self):
        for p in self.populations:
            yield from p

    def __add__(self, other):
        if isinstance(other, Assembly):
            return Assembly(*self.populations, *other.populations)
        return Assembly(*self.populations, other)

    def __iadd__(self, other):
        new = self + other
        self.populations = new.populations
        return self

    def get_population(self, label):
        for p in self.populations:
            if p.label == label:
                return p
        raise KeyError(f"Assembly does not contain a population with the label {label}")

    def id_to_index(self, id):
        raise UnsupportedError("Assembly.id_to_index: neuromorph's IDs are indices within each Population, so they are "
                               "ambiguous in an Assembly; use the members' id_to_index")

    def record(self, variables, to_file=None, sampling_interval=None):
        for p in self.populations:
            p.record(variables, to_file, sampling_interval)

    def initialize(self, **initial_values):
        for k, v in initial_values.items():
            if np.ndim(v) > 0 and not isinstance(v, RandomDistribution):
                a = np.asarray(v)
                if a.shape != (self.size,):
                    raise ValidationError(f"Assembly.initialize({k}=...): {a.shape} values for {self.size} neurons")
        for off, p in self._members():
            p.initialize(**{k: (v[off:off + p.size] if np.ndim(v) > 0 and not isinstance(v, RandomDistribution) else v)
                            for k, v in initial_values.items()})

    def set(self, **parameters):
        for p in self.populations:
            p.set(**parameters)

    def inject(self, current_source):
        for p in self.populations:
            p.inject(current_source)

    def get_data(self, variables="all", gather=True, clear=False, annotations=None):
        """The members' get_data merged as PyNN's Assembly does: per segment, the spike trains in
        member order and one signal per variable with the channels side by side (channel_index
        offset by the earlier members' sizes)."""
        import neo
        blocks = [(off, p.get_data(variables, gather, clear)) for off, p in self._members()]
        out = neo.Block(name=self.label, label=self.label)
        n_seg = max(len(b.segments) for _, b in blocks)
        for k in range(n_seg):
            segs = [(off, b.segments[k]) for off, b in blocks if k < len(b.segments)]
            new = neo.Segment(name=segs[0][1].name, **{k: v for k, v in segs[0][1].annotations.items() if k != "name"})
            signals: dict = {}
            for off, seg in segs:
                new.spiketrains.extend(seg.spiketrains)
                for sig in seg.analogsignals:
                    signals.setdefault(sig.name, []).append((off, sig))
            for name, parts in signals.items():
                first = parts[0][1]
                if any(s.shape[0] != first.shape[0] or s.sampling_period != first.sampling_period for _, s in parts):
                    raise UnsupportedError(f"Assembly.get_data: the members' {name!r} signals differ in length or sampling "
                                           "interval; read each member's get_data")
                data = np.concatenate([np.asarray(s.magnitude) for _, s in parts], axis=1)
                channels = np.concatenate([np.asarray(s.array_annotations.get("channel_index", np.arange(s.shape[1]))) + off
                                           for off, s in parts])
                sig = neo.AnalogSignal(data, units=first.units, t_start=first.t_start, sampling_period=first.sampling_period,
                                       name=name)
                sig.array_annotate(channel_index=channels)
                new.analogsignals.append(sig)
            new.block = out
            out.segments.append(new)
        if annotations:
            out.annotate(**annotations)
        return out

    def write_data(self, io, variables="all", gather=True, clear=False, annotations=None):
        return Population.write_data(self, io, variables, gather, clear, annotations)

    def get_spike_counts(self, gather=True):
        raise UnsupportedError("Assembly.get_spike_counts: neuromorph's IDs are indices within each Population, so the "
                               "counts would collide; use each member's get_spike_counts")

    def __repr__(self):
        return f"Assembly({', '.join(repr(p.label) for p in self.populations)}, label={self.label!r})"


def _n_current(block, sim):
    return int(getattr(sim, "batch", 1) or 1)


class _ArrayCell:
    """A SpikeSourceArray fixed to its population's size."""

    nm_type = None
    recordable = ("spikes",)
    default_initial_values: dict = {}

    def __init__(self, source: SpikeSourceArray, n: int):
        self.source, self.n = source, n
        self.parameter_space = source.parameter_space

    def _nm(self, semantics):
        cell = self.source._nm_rows(self.n)
        if semantics == "nest" and _session is not None:
            # the steps PyNN on NEST delivers the times at; the description's times are then exact
            # steps on every backend (pynn:nest lowers them so that NEST keeps them)
            from .compat import as_pynn_nest_delivers
            cell = as_pynn_nest_delivers(cell, _session.dt)
        return cell

    def __repr__(self):
        return repr(self.source)


_ArrayCell.__name__ = "SpikeSourceArray"  # what messages call it


# -- connectors and synapses -------------------------------------------------------------------------
class _Connector:
    def _nm(self, n_pre, n_post, same, seed):
        raise NotImplementedError


class OneToOneConnector(_Connector):
    def __init__(self, safe=True, callback=None):
        pass

    def _nm(self, n_pre, n_post, same, seed):
        return nm.OneToOne(), None


class AllToAllConnector(_Connector):
    def __init__(self, allow_self_connections=True, safe=True, callback=None):
        self.allow_self_connections = allow_self_connections

    def _nm(self, n_pre, n_post, same, seed):
        return nm.AllToAll(allow_self_connections=self.allow_self_connections), None


class FixedProbabilityConnector(_Connector):
    """Each pair with probability ``p_connect``, drawn by neuromorph's FixedProbability from the
    seed of ``rng`` (a NumpyRNG; without one, from the setup seed) — not PyNN's draw."""

    def __init__(self, p_connect, allow_self_connections=True, rng=None, safe=True, callback=None):
        rng = from_pynn_random(rng)
        if rng is not None and not isinstance(rng, NumpyRNG):
            raise UnsupportedError(f"FixedProbabilityConnector(rng={type(rng).__name__}): use neuromorph.pynn.NumpyRNG(seed=...)")
        self.p_connect, self.allow_self_connections, self.rng = p_connect, allow_self_connections, rng

    def _nm(self, n_pre, n_post, same, seed):
        if self.rng is not None and self.rng.seed is not None:
            seed = int(self.rng.seed)
        return nm.FixedProbability(self.p_connect, seed=seed, allow_self_connections=self.allow_self_connections), None


def check_connector_options(name: str, allow_self_connections, location_selector) -> None:
    """Refuse the connector options neuromorph.pynn does not model, naming them."""
    if isinstance(allow_self_connections, str):
        raise UnsupportedError(f"{name}(allow_self_connections={allow_self_connections!r}): only True or False is supported "
                               "by neuromorph.pynn; build the pairs with numpy and use FromListConnector")
    if location_selector is not None:
        raise UnsupportedError(f"{name}(location_selector=...): multi-compartment cells are not supported by neuromorph.pynn")


class _FixedNumberConnector(_Connector):
    """PyNN's fixed-number connectors, drawn by neuromorph's connector of the same name from the
    seed of ``rng`` (a NumpyRNG; without one, from the setup seed) — not PyNN's draw."""

    _with_replacement = False

    def __init__(self, n, allow_self_connections=True, with_replacement=None, location_selector=None,
                 rng=None, safe=True, callback=None):
        name = type(self).__name__
        rng = from_pynn_random(rng)
        if rng is not None and not isinstance(rng, NumpyRNG):
            raise UnsupportedError(f"{name}(rng={type(rng).__name__}): use neuromorph.pynn.NumpyRNG(seed=...)")
        if isinstance(n, RandomDistribution):
            raise UnsupportedError(f"{name}(n=RandomDistribution(...)): a random number of connections per neuron is not "
                                   "supported by neuromorph.pynn; give an integer n, or build the pairs with numpy and use FromListConnector")
        check_connector_options(name, allow_self_connections, location_selector)
        self.n, self.allow_self_connections, self.rng = n, allow_self_connections, rng
        self.with_replacement = self._with_replacement if with_replacement is None else with_replacement
        self._nm(1, 1, False, 0)  # validate now, with the description's messages

    def _nm(self, n_pre, n_post, same, seed):
        if self.rng is not None and self.rng.seed is not None:
            seed = int(self.rng.seed)
        return self._type(self.n, seed=seed, allow_self_connections=self.allow_self_connections,
                          with_replacement=self.with_replacement), None


class FixedNumberPreConnector(_FixedNumberConnector):
    """Each post neuron gets exactly ``n`` pre neurons (neuromorph's FixedNumberPre); without
    replacement n above the pre population is refused (PyNN would repeat whole populations)."""
    _type = nm.FixedNumberPre


class FixedNumberPostConnector(_FixedNumberConnector):
    """Each pre neuron connects to exactly ``n`` post neurons (neuromorph's FixedNumberPost)."""
    _type = nm.FixedNumberPost


class FixedTotalNumberConnector(_FixedNumberConnector):
    """Exactly ``n`` connections in all (neuromorph's FixedTotalNumber); with replacement by
    default as PyNN; ``allow_self_connections=False`` is honoured (PyNN 0.13 ignores it)."""
    _type = nm.FixedTotalNumber
    _with_replacement = True


class FromListConnector(_Connector):
    """``(i, j[, values...])`` rows; ``column_names`` names the value columns (default: weight,
    delay for 4-column rows, weight for 3)."""

    def __init__(self, conn_list, column_names=None, safe=True, callback=None):
        rows = [tuple(r) for r in conn_list]
        width = len(rows[0]) if rows else 2
        if any(len(r) != width for r in rows):
            raise ValidationError("FromListConnector: every row must have the same length")
        names = list(column_names) if column_names is not None else ["weight", "delay"][:width - 2]
        if len(names) != width - 2:
            raise ValidationError(f"FromListConnector: rows have {width - 2} value columns but column_names={names}")
        for n in names:
            if n not in ("weight", "delay"):
                raise UnsupportedError(f"FromListConnector column {n!r}: only 'weight' and 'delay' columns are supported by neuromorph.pynn")
        self.rows, self.names = rows, names

    def _nm(self, n_pre, n_post, same, seed):
        a = np.array(self.rows, dtype=np.float64).reshape(len(self.rows), -1)
        if a.shape[0] == 0:
            return nm.FromList(()), {}
        order = np.lexsort((a[:, 1], a[:, 0]))  # connector order = sorted by (pre, post)
        a = a[order]
        conn = nm.FromList(tuple((int(i), int(j)) for i, j in a[:, :2]))
        return conn, {n: a[:, 2 + k] for k, n in enumerate(self.names)}


#: PyNN's ``Projection.get(..., multiple_synapses=)``: how synapses repeated on one (pre, post) pair
#: (FixedNumber* connectors with replacement, FromList duplicates) fill one array entry
_COMBINE = {"sum": np.add, "min": np.minimum, "max": np.maximum}


def _pair_array(v: np.ndarray, pre: np.ndarray, post: np.ndarray, n_pre: int, n_post: int, how: str) -> np.ndarray:
    """Per-synapse values ``v`` (``[..., nsyn]``) as ``[..., n_pre, n_post]``, NaN where there is no
    synapse; repeated pairs combined as ``how`` says ("sum", "min", "max", "first", "last")."""
    if how not in ("sum", "min", "max", "first", "last"):
        raise ValidationError(f"Projection.get: multiple_synapses={how!r} must be one of 'sum', 'min', 'max', 'first', 'last'")
    shape = v.shape[:-1] + (n_pre, n_post)
    if how in _COMBINE:
        start = {"sum": 0.0, "min": np.inf, "max": -np.inf}[how]
        a = np.full(shape, start)
        _COMBINE[how].at(a, (Ellipsis, pre, post), v)
        present = np.zeros((n_pre, n_post), dtype=bool)
        present[pre, post] = True
        a[..., ~present] = np.nan
        return a
    # the first or last synapse of each pair in list order (a stable sort groups the pairs)
    key = pre.astype(np.int64) * n_post + post
    order = np.argsort(key, kind="stable")
    k = key[order]
    ends = np.flatnonzero(np.r_[k[1:] != k[:-1], True]) if how == "last" else np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    pick = order[ends]
    a = np.full(shape, np.nan)
    a[..., pre[pick], post[pick]] = v[..., pick]
    return a


class StaticSynapse:
    def __init__(self, weight=0.0, delay=None):
        self.weight, self.delay = weight, delay


class SpikePairRule:
    def __init__(self, tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.01):
        self.params = dict(tau_plus=tau_plus, tau_minus=tau_minus, A_plus=A_plus, A_minus=A_minus)


class Vogels2011Rule:
    """PyNN's Vogels2011Rule (inhibitory STDP, nm.Vogels2011): ``tau`` [ms], ``eta`` (learning
    rate, weight units), ``rho`` (target rate in spikes/ms; alpha = 2·rho·tau). PyNN's defaults.
    Only with AdditiveWeightDependence, which gives w_min and w_max."""

    def __init__(self, tau=20.0, eta=1e-10, rho=3.0):
        self.params = dict(tau=tau, eta=eta, rho=rho)


class AdditiveWeightDependence:
    def __init__(self, w_min=0.0, w_max=1.0):
        self.w_min, self.w_max = w_min, w_max


class MultiplicativeWeightDependence(AdditiveWeightDependence):
    pass


class STDPMechanism:
    """PyNN's STDPMechanism with SpikePairRule and Additive/MultiplicativeWeightDependence; the
    whole delay is dendritic (``dendritic_delay_fraction=1``, PyNN's default)."""

    def __init__(self, timing_dependence=None, weight_dependence=None, voltage_dependence=None,
                 dendritic_delay_fraction=1.0, weight=0.0, delay=None):
        if voltage_dependence is not None:
            raise UnsupportedError("STDPMechanism(voltage_dependence=...) is not supported by neuromorph.pynn; use a SpikePairRule")
        if dendritic_delay_fraction != 1.0:
            raise UnsupportedError(f"STDPMechanism(dendritic_delay_fraction={dendritic_delay_fraction}): neuromorph's STDP "
                                   "treats the whole delay as dendritic; use dendritic_delay_fraction=1.0")
        if not isinstance(timing_dependence, (SpikePairRule, Vogels2011Rule)):
            raise UnsupportedError(f"STDPMechanism(timing_dependence={type(timing_dependence).__name__}): only SpikePairRule "
                                   "and Vogels2011Rule are supported by neuromorph.pynn")
        if isinstance(timing_dependence, Vogels2011Rule) and type(weight_dependence) is not AdditiveWeightDependence:
            raise UnsupportedError(f"STDPMechanism(Vogels2011Rule, weight_dependence={type(weight_dependence).__name__}): "
                                   "the rule's steps are additive; use AdditiveWeightDependence(w_min, w_max)")
        if not isinstance(weight_dependence, AdditiveWeightDependence):
            raise UnsupportedError(f"STDPMechanism(weight_dependence={type(weight_dependence).__name__}): only "
                                   "AdditiveWeightDependence and MultiplicativeWeightDependence are supported by neuromorph.pynn")
        self.timing_dependence, self.weight_dependence = timing_dependence, weight_dependence
        self.weight, self.delay = weight, delay

    def _nm(self, semantics, receptor):
        wd = self.weight_dependence
        w_min, w_max = float(wd.w_min), float(wd.w_max)
        if semantics == "nest" and receptor == "inhibitory" and w_max <= 0 and w_min <= 0:
            # NEST-style bounds on an inhibitory synapse (w_max=-2 or w_min=-2, w_max=0): magnitudes
            w_min, w_max = sorted((-w_min + 0.0, -w_max + 0.0))
        if isinstance(self.timing_dependence, Vogels2011Rule):
            return nm.Vogels2011(**self.timing_dependence.params, w_min=w_min, w_max=w_max)
        timing = nm.SpikePairRule(**self.timing_dependence.params)
        if type(wd) is MultiplicativeWeightDependence:
            weight = nm.Multiplicative(w_min, w_max)
        else:
            weight = nm.Additive(w_min, w_max, step="times_w_max" if semantics == "nest" else "absolute")
        return nm.STDP(timing, weight)


class TsodyksMarkramSynapse:
    """PyNN's TsodyksMarkramSynapse (short-term depression and facilitation; NEST's
    ``tsodyks_synapse``, whose ``tau_psc`` is the post cell's ``tau_syn`` of the receptor):
    ``U`` in (0, 1], ``tau_rec`` and ``tau_facil`` [ms] (``tau_facil=0``: no facilitation)."""

    def __init__(self, weight=0.0, delay=None, U=0.5, tau_rec=100.0, tau_facil=0.0):
        self.rule = nm.TsodyksMarkram(U=U, tau_rec=tau_rec, tau_facil=tau_facil)   # validated here
        self.weight, self.delay = weight, delay

    def _nm(self, semantics, receptor):
        return self.rule


# -- projections ---------------------------------------------------------------------------------------
class Projection:
    """PyNN's Projection: ``connector`` and ``synapse_type`` (StaticSynapse, STDPMechanism or
    TsodyksMarkramSynapse)
    from ``presynaptic_population`` to ``postsynaptic_population`` on ``receptor_type``."""

    def __init__(self, presynaptic_population, postsynaptic_population, connector, synapse_type=None, source=None,
                 receptor_type=None, space=None, label=None):
        s = _current("Projection")
        s.check_not_built("Projection(...)")
        presynaptic_population = _group("Projection", presynaptic_population, s)
        postsynaptic_population = _group("Projection", postsynaptic_population, s)
        if not isinstance(connector, _Connector):
            raise UnsupportedError(f"Projection: connector {type(connector).__name__} is not supported by neuromorph.pynn "
                                   "(supported: OneToOneConnector, AllToAllConnector, FromListConnector, FixedProbabilityConnector, "
                                   "FixedNumberPreConnector, FixedNumberPostConnector, FixedTotalNumberConnector); "
                                   "build the pairs with numpy and use FromListConnector")
        synapse_type = synapse_type if synapse_type is not None else StaticSynapse()
        if not isinstance(synapse_type, (StaticSynapse, STDPMechanism, TsodyksMarkramSynapse)):
            raise UnsupportedError(f"Projection: synapse type {type(synapse_type).__name__} is not supported by neuromorph.pynn "
                                   "(supported: StaticSynapse, STDPMechanism, TsodyksMarkramSynapse)")
        if source is not None:
            raise UnsupportedError("Projection(source=...): not supported by neuromorph.pynn")
        receptor = receptor_type or "excitatory"
        if receptor not in ("excitatory", "inhibitory"):
            raise UnsupportedError(f"Projection(receptor_type={receptor!r}): neuromorph.pynn has 'excitatory' and 'inhibitory'")
        self.pre, self.post = presynaptic_population, postsynaptic_population
        self.receptor_type, self.synapse_type, self.connector = receptor, synapse_type, connector
        self.label = label if label is not None else f"{self.pre.label}→{self.post.label}#{len(s.projections)}"
        self._session = s
        post_types = {getattr(m.celltype, "conductance_based", False) for m in _members(self.post)}
        if len(post_types) > 1:
            raise UnsupportedError(f"Projection onto Assembly {self.post.label!r}: its members mix conductance-based and "
                                   "current-based cells, whose weights mean different things; make one Projection per member")
        self._post_celltype = _members(self.post)[0].celltype
        index = len(s.projections)
        plain = isinstance(self.pre, Population) and isinstance(self.post, Population)
        same = self.pre is self.post
        seed = (s.seed * 1_000_003 + index) % (2 ** 63 - 1)  # as the Network derives it
        self._nm_connector, columns = connector._nm(self.pre.size, self.post.size, same if plain else False, seed)
        from .space import with_space
        self._nm_connector = with_space(self._nm_connector, space)  # read by distance-dependent connectors only
        if getattr(self._nm_connector, "uses_positions", False):  # view-local pairs from the views' positions
            pre, post, _, _ = self._nm_connector.connections_at(self.pre.positions, self.post.positions,
                                                                same if plain else False, seed)
        else:
            pre, post, _, _ = self._nm_connector.connections(self.pre.size, self.post.size, same if plain else False, seed)
        self._pre, self._post = np.asarray(pre, np.int64), np.asarray(post, np.int64)
        self._parts = None  # plain Population -> Population: one description projection, this one
        if not plain:
            columns = self._split(columns)
        n = self._pre.size
        columns = columns or {}
        owner = f"Projection {self.label!r}"
        w = columns["weight"] if "weight" in columns else self._per_synapse(owner, "weight", synapse_type.weight)
        d = columns["delay"] if "delay" in columns else self._per_synapse(
            owner, "delay", synapse_type.delay if synapse_type.delay is not None else s.dt)
        if isinstance(from_pynn_random(synapse_type.delay), RandomDistribution) and "delay" not in columns:
            d = np.maximum(np.rint(np.asarray(d) / s.dt), 1) * s.dt  # drawn delays go to the grid, as on NEST
        self._weights = self._magnitudes(owner, np.broadcast_to(np.asarray(w, dtype=np.float64), (n,)).copy())
        self._delays = np.broadcast_to(np.asarray(d, dtype=np.float64), (n,)).copy()
        s.projections.append(self)

    def _split(self, columns):
        """Views / Assemblies: the connector ran on the view-local index ranges (so it draws what it
        draws for Populations of those sizes); map the pairs to root Populations and indices, drop
        i→i pairs of the same root cell when self-connections are refused (PyNN compares cell IDs),
        and group them into one FromList projection per (pre root member, post root member) pair,
        each sorted by root (pre, post) as the description stores it."""
        pre_member, pre_root = _index_map(self.pre)
        post_member, post_root = _index_map(self.post)
        pre_pops, post_pops = [m._root for m in _members(self.pre)], [m._root for m in _members(self.post)]
        lp, lq = self._pre, self._post
        if getattr(self.connector, "allow_self_connections", True) is False and lp.size:
            same_root = np.array([[a is b for b in post_pops] for a in pre_pops])
            keep = ~(same_root[pre_member[lp], post_member[lq]] & (pre_root[lp] == post_root[lq]))
            lp, lq = lp[keep], lq[keep]
            columns = {k: np.asarray(v)[keep] for k, v in (columns or {}).items()}
            self._pre, self._post = lp, lq
        # several members of one root in an Assembly go to the same description projection
        roots_pre = list(dict.fromkeys(id(r) for r in pre_pops))
        roots_post = list(dict.fromkeys(id(r) for r in post_pops))
        by_id = {id(r): r for r in pre_pops + post_pops}
        rp_of = np.array([roots_pre.index(id(r)) for r in pre_pops], dtype=np.int64)
        rq_of = np.array([roots_post.index(id(r)) for r in post_pops], dtype=np.int64)
        a_syn, b_syn = rp_of[pre_member[lp]], rq_of[post_member[lq]]
        parts = []
        for a in range(len(roots_pre)):
            for b in range(len(roots_post)):
                sel = np.flatnonzero((a_syn == a) & (b_syn == b))
                if sel.size == 0:
                    continue
                rp, rq = pre_root[lp[sel]], post_root[lq[sel]]
                order = np.lexsort((rq, rp))
                parts.append([by_id[roots_pre[a]], by_id[roots_post[b]], sel[order], rp[order], rq[order]])
        multi = len(parts) > 1
        self._parts = [(f"{self.label}[{k}]" if multi else self.label, *part) for k, part in enumerate(parts)]
        return columns

    def _net_labels(self):
        return [self.label] if self._parts is None else [part[0] for part in self._parts]

    def _gather(self, read):
        """Per-synapse values (connector order) from the description projections: ``read(label)``
        gives one part's values in its stored order (``[..., nsyn]``)."""
        if self._parts is None:
            return np.asarray(read(self.label))
        out = None
        for lab, _, _, sel, _, _ in self._parts:
            v = np.asarray(read(lab))
            if out is None:
                out = np.zeros(v.shape[:-1] + (len(self),), dtype=np.float64)
            out[..., sel] = v
        return out if out is not None else np.zeros(0)

    def _per_synapse(self, owner, name, value):
        v = _values(owner, name, value, self._pre.size)
        a = np.asarray(v)
        if a.ndim == 2:
            if a.shape != (self.pre.size, self.post.size):
                raise ValidationError(f"{owner}: {name} array {a.shape}; give [{self.pre.size}, {self.post.size}]")
            return a[self._pre, self._post]
        return v

    def _negative_inhibition(self) -> bool:
        """Whether this script writes inhibitory weights negative: NEST semantics onto a
        current-based cell (conductances are positive on every receptor and simulator)."""
        return (self._session.semantics == "nest" and self.receptor_type == "inhibitory"
                and not getattr(self._post_celltype, "conductance_based", False))

    def _magnitudes(self, owner, w):
        """PyNN weights of this script's semantics -> description magnitudes."""
        if getattr(self._post_celltype, "conductance_based", False):
            if w.size and w.min() < 0:
                raise ValidationError(f"{owner}: weight {w.min()} < 0 onto {type(self._post_celltype).__name__}; "
                                      "conductance weights are >= 0 µS on both receptors (as PyNN requires)")
            return w
        if self._negative_inhibition():
            if w.size and w.max() > 0:
                raise ValidationError(f"{owner}: weight {w.max()} > 0 on an inhibitory receptor; under NEST semantics "
                                      "(setup(semantics='nest')) inhibitory weights are negative, as PyNN on NEST requires; "
                                      "a sPyNNaker script (weights as magnitudes) runs with setup(..., semantics='spinnaker')")
            return -w + 0.0
        if w.size and w.min() < 0:
            why = ("excitatory weights are >= 0 (inhibitory ones negative)" if self._session.semantics == "nest"
                   else "every weight is a magnitude >= 0 and receptor_type gives the sign (sPyNNaker)")
            raise ValidationError(f"{owner}: weight {w.min()} < 0; under {self._session.semantics} semantics {why}")
        return w

    def _signed(self, magnitudes):
        if self._negative_inhibition():
            return -np.asarray(magnitudes) + 0.0
        return np.asarray(magnitudes)

    def _connect(self, net):
        st = self.synapse_type
        plasticity = (st._nm(self._session.semantics, self.receptor_type)
                      if isinstance(st, (STDPMechanism, TsodyksMarkramSynapse)) else None)
        w = self._weights
        d = self._delays
        if self._parts is None:
            net.connect(self.pre.label, self.post.label, self._nm_connector,
                        weight=float(w[0]) if w.size and np.all(w == w[0]) else w,
                        delay=float(d[0]) if d.size and np.all(d == d[0]) else d,
                        receptor=self.receptor_type, plasticity=plasticity, label=self.label)
            return
        for lab, pre, post, sel, rp, rq in self._parts:
            wp, dp = w[sel], d[sel]
            net.connect(pre.label, post.label, nm.FromList(tuple(zip(rp.tolist(), rq.tolist()))),
                        weight=float(wp[0]) if np.all(wp == wp[0]) else wp,
                        delay=float(dp[0]) if np.all(dp == dp[0]) else dp,
                        receptor=self.receptor_type, plasticity=plasticity, label=lab)

    def __len__(self):
        return int(self._pre.size)

    def size(self, gather=True):
        return len(self)

    def get(self, attribute_names, format="list", gather=True, with_address=True, multiple_synapses="sum"):
        """``"weight"`` (this script's signs) and/or ``"delay"`` (ms): ``format="list"``: rows
        ``(i, j, value...)`` sorted by (i, j); ``format="array"``: ``[n_pre, n_post]``, NaN where no
        synapse (``[batch, ...]`` of weights on a batched torch run), synapses repeated on one pair
        combined as ``multiple_synapses`` says ("sum", PyNN's default, "min", "max", "first", "last")."""
        names = [attribute_names] if isinstance(attribute_names, str) else list(attribute_names)
        for n in names:
            if n not in ("weight", "delay"):
                raise UnsupportedError(f"Projection.get({n!r}): neuromorph.pynn reads 'weight' and 'delay'")
        if format not in ("list", "array"):
            raise ValidationError(f"Projection.get: format={format!r} must be 'list' or 'array'")
        s = self._session
        values = {}
        for n in names:
            if n == "delay":
                values[n] = (self._gather(lambda lab: s.net.connectivity(lab).delays * s.dt)
                             if s.sim is not None else self._delays)
            elif s.sim is not None:
                values[n] = self._signed(self._gather(lambda lab: s.sim.weights(lab, format="list")[2]))
            else:
                values[n] = self._signed(self._weights)
        if format == "array":
            out = [_pair_array(np.asarray(values[n]), self._pre, self._post, self.pre.size, self.post.size,
                               multiple_synapses) for n in names]
            return out[0] if isinstance(attribute_names, str) else out
        if any(np.ndim(values[n]) > 1 for n in names):
            raise UnsupportedError("Projection.get(format='list') of a batched run: use format='array' ([batch, n_pre, n_post])")
        cols = [values[n] for n in names]
        if with_address:
            cols = [self._pre, self._post] + cols
        elif isinstance(attribute_names, str):  # PyNN: one name without addresses is a flat list of values
            return [x.item() for x in np.asarray(cols[0])]
        return [tuple(r) for r in zip(*[[x.item() for x in np.asarray(c)] for c in cols])]

    def getWeights(self, format="list", gather=True):
        return self.get("weight", format=format)

    def set(self, **attributes):
        """``weight=`` a scalar, ``[n_pre, n_post]``, one value per synapse (get(format='list')
        order) or a RandomDistribution; before the first run or between runs."""
        for n in attributes:
            if n != "weight":
                raise UnsupportedError(f"Projection.set({n}=...): neuromorph.pynn sets 'weight' only (delays and STDP "
                                       "parameters are fixed once the network is built)")
        owner = f"Projection {self.label!r}.set"
        w = self._per_synapse(owner, "weight", attributes["weight"])
        w = self._magnitudes(owner, np.broadcast_to(np.asarray(w, dtype=np.float64), (len(self),)).copy())
        s = self._session
        if s.sim is None:
            self._weights = w
        elif self._parts is None:
            s.sim.set_weights(self.label, w)
        else:
            self._weights = w
            for lab, _, _, sel, _, _ in self._parts:
                s.sim.set_weights(lab, w[sel])

    def __repr__(self):
        return f"Projection({self.pre.label!r} → {self.post.label!r}, {len(self)} synapses, label={self.label!r})"


def _members(group):
    """The Populations / PopulationViews of a group, in order."""
    return list(group.populations) if isinstance(group, Assembly) else [group]


def _index_map(group):
    """``(member, root index)`` of each group-local index."""
    members = _members(group)
    member = np.concatenate([np.full(m.size, k, dtype=np.int64) for k, m in enumerate(members)])
    root = np.concatenate([np.asarray(m._indices, dtype=np.int64) for m in members])
    return member, root


# -- current sources -------------------------------------------------------------------------------------
class _CurrentSource:
    """PyNN's current sources (nA, ms, Hz, degrees): built into ``neuromorph.current_sources``
    constructs at the first run, one per ``inject_into``. Under both semantics the numbers mean
    the same (PyNN's): a current acts on V from the step at ``start``; on torch ``numerics="exact"``
    and NEST, never before t = 2·dt (docs/pynn_frontend.md §"Current sources")."""

    _defaults: dict = {}

    def __init__(self, **parameters):
        for k in parameters:
            if k not in self._defaults and k != "rng":
                raise ValidationError(f"{type(self).__name__}: unknown parameter {k!r} (PyNN's are {', '.join(self._defaults)})")
        rng = from_pynn_random(parameters.pop("rng", None))
        if rng is not None and not isinstance(rng, NumpyRNG):
            raise UnsupportedError(f"{type(self).__name__}(rng={type(rng).__name__}): only neuromorph.pynn.NumpyRNG seeds "
                                   "the noise (its seed is used; the draws are the backend's own)")
        object.__setattr__(self, "_rng", rng)
        object.__setattr__(self, "_params", {**self._defaults, **parameters})
        object.__setattr__(self, "_session", _current(type(self).__name__))
        self._nm("check", "n", (), 0, 0)  # validate now, with the description's messages

    def __getattr__(self, name):
        params = self.__dict__.get("_params", {})
        if name in params:
            return params[name]
        raise AttributeError(name)

    def __setattr__(self, name, value):
        if name not in self._params:
            raise AttributeError(f"{type(self).__name__} has no parameter {name!r} (has {', '.join(self._params)})")
        self.set_parameters(**{name: value})

    def set_parameters(self, **parameters):
        """Change parameters before the first run (the network is built then)."""
        if self._session.sim is not None:
            raise UnsupportedError(f"{type(self).__name__}.set_parameters after the first run(): neuromorph.pynn builds the "
                                   "current sources with the network; give the values before run(), or make a "
                                   "StepCurrentSource with the changes at their times")
        for k in parameters:
            if k not in self._params:
                raise ValidationError(f"{type(self).__name__}: unknown parameter {k!r} (PyNN's are {', '.join(self._params)})")
        new = {**self._params, **parameters}
        old = self._params
        object.__setattr__(self, "_params", new)
        try:
            self._nm("check", "n", (), 0, 0)
        except Exception:
            object.__setattr__(self, "_params", old)
            raise

    def inject_into(self, cells):
        """Inject into a Population (every neuron), or a PopulationView-like object with
        ``parent`` and ``mask``/``indices`` (those neurons)."""
        s = self._session
        s.check_not_built(f"{type(self).__name__}.inject_into")
        pop, neurons = cells, None
        if isinstance(cells, ID):
            cells = cells.as_view()
        if isinstance(cells, Assembly):
            for member in cells.populations:
                self.inject_into(member)
            return
        if isinstance(cells, PopulationView):
            pop, neurons = cells._root, tuple(int(i) for i in cells._indices)
        elif not isinstance(cells, Population):
            parent = getattr(cells, "parent", None)
            if not isinstance(parent, Population):
                raise UnsupportedError(f"{type(self).__name__}.inject_into({type(cells).__name__}): give a Population of this "
                                       "setup() (PyNN ID lists and Assemblies are not supported by neuromorph.pynn)")
            idx = getattr(cells, "indices", None)
            if idx is None:
                idx = np.arange(parent.size)[getattr(cells, "mask")]
            pop, neurons = parent, tuple(int(i) for i in np.asarray(idx).ravel())
        if pop._session is not s:
            raise ValidationError(f"{type(self).__name__}.inject_into: population {pop.label!r} is not of this setup()")
        if isinstance(pop.celltype, (SpikeSourcePoisson, _ArrayCell)):
            raise UnsupportedError(f"{type(self).__name__}.inject_into({pop.label!r}): can't inject current into a spike source "
                                   "(PyNN refuses it too); inject into a neuron population")
        s.current_sources.append((self, pop, neurons))

    def record(self):
        raise UnsupportedError(f"{type(self).__name__}.record(): recording a current source is not supported by "
                               "neuromorph.pynn; record the cells' v (the current is the description's value, see "
                               "docs/pynn_frontend.md)")

    def get_data(self):
        self.record()

    def _seed(self, session_seed, i):
        rng = self._rng
        if rng is not None and rng.seed is not None:
            return int(rng.seed) % (2 ** 63)
        return None

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self._params.items())})"


class DCSource(_CurrentSource):
    """PyNN's DCSource: ``amplitude`` [nA] from ``start`` to ``stop`` [ms] (nm.DCSource)."""
    _defaults = {"amplitude": 1.0, "start": 0.0, "stop": 1e12}

    def _nm(self, label, pop, neurons, seed, i):
        p = self._params
        return nm.DCSource(label, pop, amplitude=p["amplitude"], start=p["start"], stop=p["stop"], neurons=neurons or ())


class ACSource(_CurrentSource):
    """PyNN's ACSource: ``offset + amplitude·sin(2π·frequency·(t − start) + phase)`` [nA, Hz,
    degrees] from ``start`` to ``stop`` (nm.ACSource)."""
    _defaults = {"amplitude": 1.0, "start": 0.0, "stop": 1e12, "frequency": 10.0, "offset": 0.0, "phase": 0.0}

    def _nm(self, label, pop, neurons, seed, i):
        p = self._params
        return nm.ACSource(label, pop, amplitude=p["amplitude"], offset=p["offset"], frequency=p["frequency"],
                           phase=p["phase"], start=p["start"], stop=p["stop"], neurons=neurons or ())


class StepCurrentSource(_CurrentSource):
    """PyNN's StepCurrentSource: ``amplitudes[j]`` [nA] from ``times[j]`` [ms] (nm.StepCurrentSource).
    Times off the dt grid are placed as PyNN's NEST module places them under "nest" semantics
    (``rint((t − dt)/dt) + 1`` steps, a later time landing on the same step wins); under "spinnaker"
    semantics on tick ``int(t/dt)`` as sPyNNaker does."""
    _defaults = {"times": (), "amplitudes": ()}

    def _nm(self, label, pop, neurons, seed, i):
        p = self._params
        times = np.asarray(getattr(p["times"], "value", p["times"]), dtype=np.float64).ravel()
        amps = np.asarray(getattr(p["amplitudes"], "value", p["amplitudes"]), dtype=np.float64).ravel()
        if times.size == amps.size and times.size and np.all(np.diff(times) > 0) and times.min() >= 0:
            times, amps = self._on_grid(times, amps)
        return nm.StepCurrentSource(label, pop, times=tuple(times.tolist()), amplitudes=tuple(amps.tolist()),
                                    neurons=neurons or ())

    def _on_grid(self, times, amps):
        s = self._session
        dt = s.dt
        k = np.rint(times / dt)
        if np.all(np.abs(k * dt - times) <= 1e-9 * np.maximum(1.0, times)):
            return k * dt, amps   # on the grid already: the same meaning everywhere
        if s.semantics == "nest":
            corrected = np.where(times - dt > 0, times - dt, 0.0)
            k = np.rint(corrected / dt) + 1
        else:
            k = np.floor(times / dt + 1e-9)
        # a later time on the same step wins (PyNN's NEST module keeps the last amplitude)
        last = np.append(k[1:] != k[:-1], True)
        return k[last] * dt, amps[last]


class NoisyCurrentSource(_CurrentSource):
    """PyNN's NoisyCurrentSource: ``mean + stdev·N(0, 1)`` [nA] redrawn every ``dt`` ms from ``start``
    to ``stop`` (nm.NoisyCurrentSource; the backend's RNG, seeded from ``rng``'s seed or setup's)."""
    _defaults = {"mean": 0.0, "stdev": 1.0, "start": 0.0, "stop": 1e12, "dt": None}

    def _nm(self, label, pop, neurons, seed, i):
        p = self._params
        return nm.NoisyCurrentSource(label, pop, mean=p["mean"], stdev=p["stdev"], start=p["start"], stop=p["stop"],
                                     dt=p["dt"], neurons=neurons or (), seed=self._seed(seed, i))


# -- PyNN names that are refused ---------------------------------------------------------------------------
_REFUSED = {
    # cell types
    "IF_cond_exp_gsfa_grr": "adapting conductance-based cells are not modelled; use IF_cond_exp",
    "IF_facets_hardware1": "use IF_curr_exp",
    "HH_cond_exp": "Hodgkin-Huxley cells are not modelled; use Izhikevich or IF_curr_exp",
    "Izhikevich_cond": "use Izhikevich (current-based, mV-jump weights)",
    "GIF_cond_exp": "use IF_curr_exp",
    "PointNeuron": "multi-synapse point neurons are not modelled; use IF_curr_exp / IF_curr_alpha",
    "SpikeSourceGamma": "use SpikeSourceArray with times drawn by numpy, or SpikeSourcePoisson",
    "SpikeSourceInhGamma": "use SpikeSourceArray with times drawn by numpy",
    "SpikeSourcePoissonRefractory": "use SpikeSourcePoisson or SpikeSourceArray",
    # connectors
    "DisplacementDependentProbabilityConnector": "build the pairs with numpy and use FromListConnector",
    "IndexBasedProbabilityConnector": "build the pairs with numpy and use FromListConnector",
    "SmallWorldConnector": "build the pairs with numpy and use FromListConnector",
    "FromFileConnector": "read the file with numpy and use FromListConnector",
    "ArrayConnector": "use FromListConnector", "CSAConnector": "use FromListConnector", "CloneConnector": "use FromListConnector",
    # synapses and plasticity
    "ElectricalSynapse": "gap junctions are not modelled", "SimpleStochasticSynapse": "use StaticSynapse",
    "StochasticTsodyksMarkramSynapse": "use StaticSynapse", "MultiQuantalSynapse": "use StaticSynapse",
    "SpikePairRuleMultiplicative": "use SpikePairRule",
    "GutigWeightDependence": "use AdditiveWeightDependence or MultiplicativeWeightDependence",
    "AdditivePotentiationMultiplicativeDepression": "use AdditiveWeightDependence or MultiplicativeWeightDependence",
    # random numbers and structures
    "GSLRNG": "use NumpyRNG(seed=...)", "NativeRNG": "use NumpyRNG(seed=...)",
    # functions
    "record": "call Population.record(...) and get_data()/write_data()",
    "native_cell_type": "NEST-native models are not part of the description; use the supported PyNN cell types",
    "native_synapse_type": "NEST-native models are not part of the description; use StaticSynapse or STDPMechanism",
    "connect": "use Projection(pre, post, connector, synapse_type)", "create": "use Population(size, cell_type)",
    "initialize": "use Population.initialize(...)",
}


def _refused(name, how):
    message = f"{name} (PyNN) is not supported by neuromorph.pynn: {how}"

    def refuse(*args, **kwargs):
        raise UnsupportedError(message)

    cls = type(name, (), {"__init__": lambda self, *a, **k: refuse(), "__doc__": message,
                          "__call__": lambda self, *a, **k: refuse(), "__module__": __name__})
    return cls


for _name, _how in _REFUSED.items():
    globals()[_name] = _refused(_name, _how)
del _name, _how


class _NotInFrontend(UnsupportedError, AttributeError):
    """A PyNN name neuromorph.pynn does not have (an AttributeError too, so hasattr() works)."""


def __getattr__(name):
    if name.startswith("_"):
        raise AttributeError(name)
    raise _NotInFrontend(f"{name} (PyNN) is not part of neuromorph.pynn; see docs/pynn_frontend.md for what is supported")


from . import space  # noqa: E402 - PyNN's pyNN.space: sim.space.Grid2D, and the names below as sim.Grid2D
from .space import (Cuboid, DistanceDependentProbabilityConnector, Grid2D, Grid3D, Line, RandomStructure,  # noqa: E402
                    Space, Sphere)

from .compat import install as _install_compat  # noqa: E402 - names PyNN/sPyNNaker scripts call (issue 11)
_install_compat(globals())
