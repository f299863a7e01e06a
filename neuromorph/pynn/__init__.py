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

__all__ = [
    "setup", "run", "run_until", "reset", "end", "get_current_time", "get_time_step", "get_min_delay",
    "get_max_delay", "num_processes", "rank",
    "Population", "Projection", "IF_curr_exp", "IF_curr_delta", "IF_curr_alpha", "IF_cond_exp", "Izhikevich",
    "SpikeSourceArray",
    "SpikeSourcePoisson", "OneToOneConnector", "AllToAllConnector", "FromListConnector", "FixedProbabilityConnector",
    "StaticSynapse", "STDPMechanism", "SpikePairRule", "AdditiveWeightDependence", "MultiplicativeWeightDependence",
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
            net.population(p.label, p.size, p.celltype._nm(self.semantics), initial_values=p._initial_values())
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
                "projections, record(), initialize() and parameter set() come before it (weights can be set between runs "
                "with Projection.set(weight=...)); call end() and setup() to start a new network")


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
    for name in ("spike_precision", "verbosity"):
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
    if callbacks:
        raise UnsupportedError("run(callbacks=...): PyNN callbacks are not supported by neuromorph.pynn; "
                               "run in segments (run(t1); ...; run(t2)) and act between them")
    s = _current("run")
    sim = s.build()
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
    delays = [s.net.connectivity(j.label).delays for j in s.projections]
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


_CELL_TYPES = (IF_curr_exp, IF_curr_alpha, IF_curr_delta, IF_cond_exp, Izhikevich, SpikeSourceArray, SpikeSourcePoisson)


# -- populations ---------------------------------------------------------------------------------
class Population:
    """PyNN's Population: ``size`` cells of one type, ``initial_values`` (scalars, arrays or
    RandomDistributions), ``label``."""

    _count = 0

    def __init__(self, size, cellclass, cellparams=None, structure=None, initial_values=None, label=None,
                 constraints=None, additional_parameters=None):
        s = _current("Population")
        s.check_not_built("Population(...)")
        if structure is not None:
            raise UnsupportedError("Population(structure=...): PyNN spatial structures (Line, Grid2D, Grid3D, RandomStructure) "
                                   "are not supported by neuromorph.pynn; positions have no effect on its connectors")
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

    def __len__(self):
        return self.size

    @property
    def local_size(self):
        return self.size

    @property
    def all_cells(self):
        """Neuron indices 0..size−1 (neuromorph has no global cell ids)."""
        return np.arange(self.size)

    def initialize(self, **initial_values):
        """Initial state variables (``v`` mV, ``u`` for Izhikevich): scalars, ``[size]`` arrays or
        RandomDistributions (drawn now)."""
        self._session.check_not_built(f"Population {self.label!r}.initialize()")
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
            self._init[k] = _values(f"Population {self.label!r}.initialize", k, v, self.size)

    def set(self, **parameters):
        """Change cell parameters (one value for the whole population) before the first run."""
        self._session.check_not_built(f"Population {self.label!r}.set()")
        new = dict(self.celltype.parameter_space)
        new.update(parameters)
        if isinstance(self.celltype, _ArrayCell):
            self.celltype = _ArrayCell(SpikeSourceArray(**new), self.size)
        else:
            self.celltype = type(self.celltype)(**new)

    def get(self, parameter_names, gather=False, simplify=True):
        names = [parameter_names] if isinstance(parameter_names, str) else list(parameter_names)
        out = [self.celltype.parameter_space[n] for n in names]
        return out[0] if isinstance(parameter_names, str) else out

    def record(self, variables, to_file=None, sampling_interval=None):
        """Record ``"spikes"`` and state variables (``"v"``, ``"isyn_exc"``, ``"isyn_inh"``, ``"u"``),
        or ``"all"``, every ``sampling_interval`` ms (a multiple of dt)."""
        self._session.check_not_built(f"Population {self.label!r}.record()")
        if to_file is not None:
            raise UnsupportedError("record(to_file=...) is not supported by neuromorph.pynn; call write_data(filename) after the run")
        if variables is None:
            self._recorded = []
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
            if self._recorded and int(round(every)) != self._every:
                raise UnsupportedError("record: one sampling_interval per population in neuromorph.pynn")
            self._every = int(round(every))
        for v in names:
            if v not in self._recorded:
                self._recorded.append(v)

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

    # refused -------------------------------------------------------------------------------------
    def __getitem__(self, index):
        raise UnsupportedError("Population[...] makes a PyNN PopulationView, which neuromorph.pynn does not support; "
                               "make separate Populations, or connect with FromListConnector to the neurons you want")

    def sample(self, n, rng=None):
        self.__getitem__(None)

    def __add__(self, other):
        raise UnsupportedError("Population + Population makes a PyNN Assembly, which neuromorph.pynn does not support; "
                               "make one Projection per population")

    def inject(self, current_source):
        """PyNN's ``Population.inject(source)``: the same as ``source.inject_into(population)``."""
        if not isinstance(current_source, _CurrentSource):
            raise UnsupportedError(f"Population.inject({type(current_source).__name__}): not one of neuromorph.pynn's current sources "
                                   "(DCSource, StepCurrentSource, ACSource, NoisyCurrentSource)")
        current_source.inject_into(self)

    def __repr__(self):
        return f"Population({self.size}, {self.celltype!r}, label={self.label!r})"


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
        return self.source._nm_rows(self.n)

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
        if rng is not None and not isinstance(rng, NumpyRNG):
            raise UnsupportedError(f"FixedProbabilityConnector(rng={type(rng).__name__}): use neuromorph.pynn.NumpyRNG(seed=...)")
        self.p_connect, self.allow_self_connections, self.rng = p_connect, allow_self_connections, rng

    def _nm(self, n_pre, n_post, same, seed):
        if self.rng is not None and self.rng.seed is not None:
            seed = int(self.rng.seed)
        return nm.FixedProbability(self.p_connect, seed=seed, allow_self_connections=self.allow_self_connections), None


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


class StaticSynapse:
    def __init__(self, weight=0.0, delay=None):
        self.weight, self.delay = weight, delay


class SpikePairRule:
    def __init__(self, tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.01):
        self.params = dict(tau_plus=tau_plus, tau_minus=tau_minus, A_plus=A_plus, A_minus=A_minus)


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
        if not isinstance(timing_dependence, SpikePairRule):
            raise UnsupportedError(f"STDPMechanism(timing_dependence={type(timing_dependence).__name__}): only SpikePairRule "
                                   "is supported by neuromorph.pynn")
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
        timing = nm.SpikePairRule(**self.timing_dependence.params)
        if type(wd) is MultiplicativeWeightDependence:
            weight = nm.Multiplicative(w_min, w_max)
        else:
            weight = nm.Additive(w_min, w_max, step="times_w_max" if semantics == "nest" else "absolute")
        return nm.STDP(timing, weight)


# -- projections ---------------------------------------------------------------------------------------
class Projection:
    """PyNN's Projection: ``connector`` and ``synapse_type`` (StaticSynapse or STDPMechanism)
    from ``presynaptic_population`` to ``postsynaptic_population`` on ``receptor_type``."""

    def __init__(self, presynaptic_population, postsynaptic_population, connector, synapse_type=None, source=None,
                 receptor_type=None, space=None, label=None):
        s = _current("Projection")
        s.check_not_built("Projection(...)")
        for p in (presynaptic_population, postsynaptic_population):
            if not isinstance(p, Population) or p._session is not s:
                raise UnsupportedError(f"Projection: {type(p).__name__} is not a Population of this setup(); PopulationView and "
                                       "Assembly are not supported by neuromorph.pynn")
        if not isinstance(connector, _Connector):
            raise UnsupportedError(f"Projection: connector {type(connector).__name__} is not supported by neuromorph.pynn "
                                   "(supported: OneToOneConnector, AllToAllConnector, FromListConnector, FixedProbabilityConnector); "
                                   "build the pairs with numpy and use FromListConnector")
        synapse_type = synapse_type if synapse_type is not None else StaticSynapse()
        if not isinstance(synapse_type, (StaticSynapse, STDPMechanism)):
            raise UnsupportedError(f"Projection: synapse type {type(synapse_type).__name__} is not supported by neuromorph.pynn "
                                   "(supported: StaticSynapse, STDPMechanism)")
        if source is not None or space is not None:
            raise UnsupportedError("Projection(source=..., space=...): not supported by neuromorph.pynn")
        receptor = receptor_type or "excitatory"
        if receptor not in ("excitatory", "inhibitory"):
            raise UnsupportedError(f"Projection(receptor_type={receptor!r}): neuromorph.pynn has 'excitatory' and 'inhibitory'")
        self.pre, self.post = presynaptic_population, postsynaptic_population
        self.receptor_type, self.synapse_type, self.connector = receptor, synapse_type, connector
        self.label = label if label is not None else f"{self.pre.label}→{self.post.label}#{len(s.projections)}"
        self._session = s
        index = len(s.projections)
        same = self.pre is self.post
        seed = (s.seed * 1_000_003 + index) % (2 ** 63 - 1)  # as the Network derives it
        self._nm_connector, columns = connector._nm(self.pre.size, self.post.size, same, seed)
        pre, post, _, _ = self._nm_connector.connections(self.pre.size, self.post.size, same, seed)
        self._pre, self._post = np.asarray(pre, np.int64), np.asarray(post, np.int64)
        n = self._pre.size
        columns = columns or {}
        owner = f"Projection {self.label!r}"
        w = columns["weight"] if "weight" in columns else self._per_synapse(owner, "weight", synapse_type.weight)
        d = columns["delay"] if "delay" in columns else self._per_synapse(
            owner, "delay", synapse_type.delay if synapse_type.delay is not None else s.dt)
        if isinstance(synapse_type.delay, RandomDistribution) and "delay" not in columns:
            d = np.maximum(np.rint(np.asarray(d) / s.dt), 1) * s.dt  # drawn delays go to the grid, as on NEST
        self._weights = self._magnitudes(owner, np.broadcast_to(np.asarray(w, dtype=np.float64), (n,)).copy())
        self._delays = np.broadcast_to(np.asarray(d, dtype=np.float64), (n,)).copy()
        s.projections.append(self)

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
                and not getattr(self.post.celltype, "conductance_based", False))

    def _magnitudes(self, owner, w):
        """PyNN weights of this script's semantics -> description magnitudes."""
        if getattr(self.post.celltype, "conductance_based", False):
            if w.size and w.min() < 0:
                raise ValidationError(f"{owner}: weight {w.min()} < 0 onto {type(self.post.celltype).__name__}; "
                                      "conductance weights are >= 0 µS on both receptors (as PyNN requires)")
            return w
        if self._negative_inhibition():
            if w.size and w.max() > 0:
                raise ValidationError(f"{owner}: weight {w.max()} > 0 on an inhibitory receptor; under NEST semantics "
                                      "(setup(semantics='nest')) inhibitory weights are negative, as PyNN on NEST requires")
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
        plasticity = st._nm(self._session.semantics, self.receptor_type) if isinstance(st, STDPMechanism) else None
        w = self._weights
        d = self._delays
        net.connect(self.pre.label, self.post.label, self._nm_connector,
                    weight=float(w[0]) if w.size and np.all(w == w[0]) else w,
                    delay=float(d[0]) if d.size and np.all(d == d[0]) else d,
                    receptor=self.receptor_type, plasticity=plasticity, label=self.label)

    def __len__(self):
        return int(self._pre.size)

    def size(self, gather=True):
        return len(self)

    def get(self, attribute_names, format="list", gather=True, with_address=True, multiple_synapses="sum"):
        """``"weight"`` (this script's signs) and/or ``"delay"`` (ms): ``format="list"``: rows
        ``(i, j, value...)`` sorted by (i, j); ``format="array"``: ``[n_pre, n_post]``, NaN where no
        synapse (``[batch, ...]`` of weights on a batched torch run)."""
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
                values[n] = (s.net.connectivity(self.label).delays * s.dt) if s.sim is not None else self._delays
            elif s.sim is not None:
                values[n] = self._signed(s.sim.weights(self.label, format="list")[2])
            else:
                values[n] = self._signed(self._weights)
        if format == "array":
            out = []
            for n in names:
                v = np.asarray(values[n])
                a = np.full(v.shape[:-1] + (self.pre.size, self.post.size), np.nan)
                a[..., self._pre, self._post] = v
                out.append(a)
            return out[0] if isinstance(attribute_names, str) else out
        if any(np.ndim(values[n]) > 1 for n in names):
            raise UnsupportedError("Projection.get(format='list') of a batched run: use format='array' ([batch, n_pre, n_post])")
        cols = [values[n] for n in names]
        if with_address:
            cols = [self._pre, self._post] + cols
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
        else:
            s.sim.set_weights(self.label, w)

    def __repr__(self):
        return f"Projection({self.pre.label!r} → {self.post.label!r}, {len(self)} synapses, label={self.label!r})"


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
        rng = parameters.pop("rng", None)
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
        if not isinstance(cells, Population):
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
    "IF_cond_alpha": "alpha-shaped conductances are not modelled; use IF_cond_exp (exponential conductances) or IF_curr_alpha",
    "IF_cond_exp_gsfa_grr": "adapting conductance-based cells are not modelled; use IF_cond_exp",
    "IF_facets_hardware1": "use IF_curr_exp",
    "EIF_cond_exp_isfa_ista": "adaptive exponential cells are not modelled; use Izhikevich or IF_curr_exp",
    "EIF_cond_alpha_isfa_ista": "adaptive exponential cells are not modelled; use Izhikevich or IF_curr_exp",
    "HH_cond_exp": "Hodgkin-Huxley cells are not modelled; use Izhikevich or IF_curr_exp",
    "Izhikevich_cond": "use Izhikevich (current-based, mV-jump weights)",
    "GIF_cond_exp": "use IF_curr_exp",
    "PointNeuron": "multi-synapse point neurons are not modelled; use IF_curr_exp / IF_curr_alpha",
    "SpikeSourceGamma": "use SpikeSourceArray with times drawn by numpy, or SpikeSourcePoisson",
    "SpikeSourceInhGamma": "use SpikeSourceArray with times drawn by numpy",
    "SpikeSourcePoissonRefractory": "use SpikeSourcePoisson or SpikeSourceArray",
    # groups
    "PopulationView": "make separate Populations, or use FromListConnector", "Assembly": "make one Projection per Population",
    # connectors
    "FixedNumberPreConnector": "build the pairs with numpy and use FromListConnector",
    "FixedNumberPostConnector": "build the pairs with numpy and use FromListConnector",
    "FixedTotalNumberConnector": "build the pairs with numpy and use FromListConnector",
    "DistanceDependentProbabilityConnector": "build the pairs with numpy and use FromListConnector",
    "DisplacementDependentProbabilityConnector": "build the pairs with numpy and use FromListConnector",
    "IndexBasedProbabilityConnector": "build the pairs with numpy and use FromListConnector",
    "SmallWorldConnector": "build the pairs with numpy and use FromListConnector",
    "FromFileConnector": "read the file with numpy and use FromListConnector",
    "ArrayConnector": "use FromListConnector", "CSAConnector": "use FromListConnector", "CloneConnector": "use FromListConnector",
    # synapses and plasticity
    "TsodyksMarkramSynapse": "short-term plasticity is not modelled; use StaticSynapse or STDPMechanism",
    "ElectricalSynapse": "gap junctions are not modelled", "SimpleStochasticSynapse": "use StaticSynapse",
    "StochasticTsodyksMarkramSynapse": "use StaticSynapse", "MultiQuantalSynapse": "use StaticSynapse",
    "Vogels2011Rule": "use STDPMechanism with SpikePairRule", "SpikePairRuleMultiplicative": "use SpikePairRule",
    "GutigWeightDependence": "use AdditiveWeightDependence or MultiplicativeWeightDependence",
    "AdditivePotentiationMultiplicativeDepression": "use AdditiveWeightDependence or MultiplicativeWeightDependence",
    # random numbers and structures
    "GSLRNG": "use NumpyRNG(seed=...)", "NativeRNG": "use NumpyRNG(seed=...)",
    "Line": "spatial structures are not modelled", "Grid2D": "spatial structures are not modelled",
    "Grid3D": "spatial structures are not modelled", "RandomStructure": "spatial structures are not modelled",
    "Space": "spatial structures are not modelled",
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
