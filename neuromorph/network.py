"""The network description: populations, projections and recordings on one time grid.

A Network is built like a PyNN script (``net.population``, ``net.connect``, ``net.record``); every
item it holds is a frozen, validated dataclass, and the whole network round-trips through
versioned JSON (``net.to_json()``, ``Network.from_json(text)``) without loss.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import serialization
from .cells import CellType, SourceType, SpikeSourceArray, SpikeSourcePoisson, recordables
from .connectors import Connector
from .errors import ValidationError
from .plasticity import STDP
from .registry import description_type
from .validation import (MAX_CURRENT, MAX_SIZE, MAX_TIME, MAX_VOLTAGE, MIN_DT, bounded_array, finite, finite_array,
                         integer, number, seed as _seed, steps)

RECEPTORS = ("excitatory", "inhibitory")


@dataclass(frozen=True)
class Population:
    """``size`` neurons of one type. ``initial_values`` maps a state variable (e.g. ``"v"`` in mV)
    to a scalar or one value per neuron; missing ones take ``celltype.initial_value(name)`` (v = v_rest,
    currents 0; Izhikevich v = −70 mV, u = −14 mV/ms)."""

    label: str
    size: int
    celltype: Any
    initial_values: dict = field(default_factory=dict)
    #: spatial structure (nm.Line, nm.Grid2D, nm.Grid3D, nm.RandomStructure; neuromorph/space.py) or
    #: None (PyNN's default, Line()): where the neurons are, read by distance-dependent connectors
    structure: Any = None

    @property
    def is_source(self) -> bool:
        return isinstance(self.celltype, SourceType)

    def initial(self, name: str) -> np.ndarray:
        """Initial value of a state variable, one per neuron (float64)."""
        if name in self.initial_values:
            return np.broadcast_to(np.asarray(self.initial_values[name], dtype=np.float64), (self.size,)).copy()
        return np.full(self.size, float(self.celltype.initial_value(name)))


@dataclass(frozen=True)
class Projection:
    """Synapses from ``pre`` to ``post`` (labels). ``weight`` is a magnitude in nA (mV for
    IF_curr_delta with weight_units="mV"): a scalar, an ``[n_pre, n_post]`` array (read at each
    synapse's (pre, post)), or one value per connection in connector order (FromList: the list's
    order; the others: sorted by (pre, post)); the ``receptor`` gives the sign. ``delay`` [ms] is a
    whole number of steps ≥ 1, scalar or array like the weight. ``Network.connectivity`` holds the
    synapses sorted by (pre, post), per-connection values moved along with their pairs."""

    label: str
    pre: str
    post: str
    connector: Connector
    weight: Any = 0.0
    delay: Any = None
    receptor: str = "excitatory"
    plasticity: Any = None


@dataclass(frozen=True)
class Recording:
    target: str
    variables: tuple[str, ...]
    every: int = 1


#: Largest projection (n_pre·n_post) that ``Connectivity.dense``/``dense_mask`` (and a backend's
#: ``format="array"``) turn into ``[n_pre, n_post]`` arrays: 2**26 pairs, 512 MiB of float64 per
#: matrix. Bigger projections are read as synapse lists.
DENSE_LIMIT = 1 << 26

#: Bytes the description holds per synapse: pre and post (int64), weight (float64) and delay
#: (int64). int64 throughout because backends index with it directly (torch wants int64 indices),
#: so no copy is made when they lower a projection.
BYTES_PER_SYNAPSE = 32


@dataclass(frozen=True, eq=False)
class Connectivity:
    """A projection resolved to synapse lists, one entry per synapse, sorted by (pre, post).

    ``pre``, ``post`` (int64 neuron indices), ``weights`` (float64 magnitudes in nA, or mV for
    IF_curr_delta with weight_units="mV"; the receptor gives the sign) and ``delays`` (int64 whole
    steps of dt, >= 1), all ``[size]`` and read-only. ``dense()`` / ``dense_mask()`` give the
    ``[n_pre, n_post]`` view for projections up to ``DENSE_LIMIT`` entries.
    """

    n_pre: int
    n_post: int
    pre: np.ndarray
    post: np.ndarray
    weights: np.ndarray
    delays: np.ndarray
    label: str = ""

    @property
    def size(self) -> int:
        """Number of synapses."""
        return int(self.pre.size)

    @property
    def distinct_delays(self) -> list[int]:
        """The delays in use, in steps, ascending."""
        return sorted(int(d) for d in np.unique(self.delays))

    def fan_in(self) -> np.ndarray:
        """Synapses onto each post neuron, int64 ``[n_post]``."""
        return np.bincount(self.post, minlength=self.n_post)

    def dense(self, values=None, fill=np.nan) -> np.ndarray:
        """``values`` (default: the weights) ``[..., size]`` in synapse order scattered into
        ``[..., n_pre, n_post]``, ``fill`` where there is no synapse. Refused (ValidationError)
        when n_pre·n_post exceeds ``DENSE_LIMIT``."""
        values = self.weights if values is None else np.asarray(values)
        if values.shape[-1:] != (self.size,):
            raise ValidationError(f"{self._owner()}: {values.shape} values do not match its {self.size} synapses (last axis)")
        self._check_dense()
        out = np.full(values.shape[:-1] + (self.n_pre, self.n_post), fill, dtype=np.result_type(values, np.asarray(fill)))
        out[..., self.pre, self.post] = values
        return out

    def dense_mask(self) -> np.ndarray:
        """bool ``[n_pre, n_post]``, True where a synapse exists (refused above ``DENSE_LIMIT``)."""
        self._check_dense()
        out = np.zeros((self.n_pre, self.n_post), dtype=bool)
        out[self.pre, self.post] = True
        return out

    def positions(self, pre, post) -> np.ndarray:
        """Index into the synapse lists of each (pre, post) pair, int64; ValidationError if a
        pair is not a synapse of this projection."""
        pre, post = np.asarray(pre, dtype=np.int64), np.asarray(post, dtype=np.int64)
        keys = self.pre * self.n_post + self.post  # sorted, since the lists are sorted by (pre, post)
        want = pre * self.n_post + post
        pos = np.searchsorted(keys, want)
        found = pos < keys.size
        found[found] = keys[pos[found]] == want[found]
        if not found.all():
            k = int(np.argmin(found))
            raise ValidationError(f"{self._owner()}: ({int(pre.ravel()[k])}, {int(post.ravel()[k])}) is not one of its synapses")
        return pos

    def _owner(self) -> str:
        return f"projection {self.label!r}" if self.label else "projection"

    def _check_dense(self):
        entries = self.n_pre * self.n_post
        if entries > DENSE_LIMIT:
            raise ValidationError(
                f"{self._owner()}: a dense [{self.n_pre}, {self.n_post}] array has {entries:,} entries, above the limit of {DENSE_LIMIT:,} "
                f"(neuromorph.network.DENSE_LIMIT) for {self.size:,} synapses; use the synapse lists "
                f"(connectivity .pre/.post/.weights/.delays, or format=\"list\" on a simulation)")


def available_memory() -> int | None:
    """Bytes of memory new allocations can get: ``MemAvailable`` of /proc/meminfo (Linux), else
    free physical pages × page size; None when neither is known (then nothing is refused)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


class Network:
    """A spiking network on a fixed time grid.

    ``dt`` [ms] is the step; every time (spikes, delays) must be a multiple of it. ``seed`` makes
    every random choice (fixed-probability connectors without a seed, Poisson sources)
    reproducible.
    """

    def __init__(self, dt: float = 1.0, seed: int = 0):
        self.dt = number("Network", "dt", dt, MIN_DT, MAX_TIME, "ms",
                         why=f"a step below {MIN_DT:g} ms makes runs of 10**6 steps per ms; times are at most {MAX_TIME:g} ms")
        self.seed = _seed("Network", "seed", seed)
        self.populations: dict[str, Population] = {}
        self.projections: dict[str, Projection] = {}
        self.recordings: list[Recording] = []
        self.extensions: list[Any] = []  # homeostasis, astrocytes, ... (docs/mechanisms.md)
        self._connectivity: dict[str, Connectivity] = {}

    # -- building ---------------------------------------------------------------------------
    def population(self, label: str, n: int, celltype, initial_values: dict | None = None, structure=None) -> Population:
        self._check_new_label(label)
        n = integer(f"population {label!r}", "size", n, 1, MAX_SIZE,
                    why=f"at most {MAX_SIZE:,} neurons per population; split larger ones")
        _check_neuron_memory(f"population {label!r}", n)
        if not isinstance(celltype, (CellType, SourceType)):
            raise ValidationError(f"population {label!r}: {celltype!r:.60} is not a neuron type; use e.g. nm.IF_curr_exp()")
        init = {}
        if initial_values is not None and not isinstance(initial_values, dict):
            raise ValidationError(f"population {label!r}: initial_values={initial_values!r:.60} must be a mapping "
                                  "of state variable to value, e.g. {'v': -65.0}")
        for name, value in (initial_values or {}).items():
            if not isinstance(name, str) or name not in celltype.state_variables:
                raise ValidationError(
                    f"population {label!r}: no state variable {name!r:.40} on {type(celltype).__name__} (has {', '.join(celltype.state_variables) or 'none'})")
            limit = MAX_CURRENT if name.startswith("isyn") else MAX_VOLTAGE
            a = bounded_array(f"population {label!r}", f"initial {name}", value, -limit, limit,
                              why="so that V and currents stay finite")
            if a.ndim > 1 or (a.ndim == 1 and a.size != n):
                raise ValidationError(f"population {label!r}: initial {name} has shape {a.shape}; give a scalar or {n} values")
            init[name] = float(a) if a.ndim == 0 else tuple(float(x) for x in a)
        if isinstance(celltype, SpikeSourceArray):
            if len(celltype.spike_times) != n:
                raise ValidationError(f"population {label!r}: {len(celltype.spike_times)} spike-time lists for {n} neurons")
            for row in celltype.spike_times:
                for t in row:
                    number(f"population {label!r}", "spike time", t, 0.0, MAX_TIME, "ms",
                           why="times are at most 1e9 ms so that each is an exact whole number of steps")
                    steps(f"population {label!r}", "spike time", t, self.dt)
        if structure is not None:
            from .space import Structure
            if not isinstance(structure, Structure):
                raise ValidationError(f"population {label!r}: structure={structure!r:.60} is not a spatial structure; use "
                                      "nm.Line(), nm.Grid2D(), nm.Grid3D() or nm.RandomStructure(boundary)")
            try:
                structure.check_size(int(n))
            except ValidationError as exc:
                raise ValidationError(f"population {label!r}: {exc}") from None
        pop = Population(label, int(n), celltype, init, structure)
        self.populations[label] = pop
        return pop

    def spike_source(self, label: str, spike_times) -> Population:
        """A SpikeSourceArray: one list of spike times (ms) per neuron."""
        times = tuple(tuple(row) for row in spike_times)
        return self.population(label, len(times), SpikeSourceArray(times))

    def poisson_source(self, label: str, n: int, rate_hz: float, start: float = 0.0, duration: float = 1e12) -> Population:
        return self.population(label, n, SpikeSourcePoisson(rate_hz, start, duration))

    def connect(self, pre, post, connector: Connector, weight=0.0, delay=None, receptor: str = "excitatory",
                plasticity=None, label: str | None = None) -> Projection:
        pre_pop, post_pop = self.get(pre), self.get(post)
        if label is not None and not isinstance(label, str):
            raise ValidationError(f"connect: label={label!r:.60} must be a string (or None for a generated one)")
        label = label or f"{pre_pop.label}->{post_pop.label}#{len(self.projections)}"
        self._check_new_label(label)
        owner = f"projection {label!r}"
        if post_pop.is_source:
            raise ValidationError(f"{owner}: post {post_pop.label!r} is a spike source and cannot receive synapses")
        if not isinstance(connector, Connector):
            raise ValidationError(f"{owner}: {connector!r} is not a connector; use nm.OneToOne(), nm.AllToAll(), nm.FromList(), nm.FixedProbability()")
        if not isinstance(receptor, str) or receptor not in RECEPTORS:
            raise ValidationError(f"{owner}: receptor={receptor!r:.60} must be 'excitatory' or 'inhibitory'")
        if plasticity is not None and not isinstance(plasticity, STDP) and not getattr(plasticity, "is_plasticity", False):
            raise ValidationError(f"{owner}: plasticity={plasticity!r} is not a plasticity rule; use nm.STDP(...)")
        delay = self.dt if delay is None else delay
        weight = _freeze_array(owner, "weight", weight, -np.inf, MAX_CURRENT,
                               why=f"weights are magnitudes of at most {MAX_CURRENT:g} nA (or mV) so that V and currents stay finite")
        delay = _freeze_array(owner, "delay", delay, -np.inf, MAX_TIME,
                              why=f"delays are at most {MAX_TIME:g} ms so that each is an exact whole number of steps")
        proj = Projection(label, pre_pop.label, post_pop.label, connector, weight, delay, receptor, plasticity)
        self._connectivity[label] = self._resolve(proj, len(self.projections))
        self.projections[label] = proj
        return proj

    def record(self, target, *variables: str, every: int = 1) -> None:
        """Record ``"spikes"``, state variables (``"v"``, ``"isyn_exc"``, ``"isyn_inh"``) of a
        population, or ``"weights"`` of a projection every ``every`` steps."""
        every = integer("record", "every", every, 1, 10 ** 9, why="a positive whole number of steps")
        label = target if isinstance(target, str) else getattr(target, "label", None)
        if not isinstance(label, str):
            raise ValidationError(f"record: target={target!r:.60} is not a population or projection (or its label)")
        for v in variables:
            if not isinstance(v, str):
                raise ValidationError(f"record: variable {v!r:.60} must be a name (a string) such as 'spikes' or 'v'")
        if label in self.projections:
            for v in variables:
                if v != "weights":
                    raise ValidationError(f"record: projection {label!r} records only 'weights', not {v!r}")
        else:
            pop = self.get(label)
            allowed = ("spikes",) + recordables(pop.celltype)
            for v in variables:
                if v not in allowed:
                    raise ValidationError(f"record: population {label!r} has no recordable {v!r} (has {', '.join(allowed)})")
        if not variables:
            raise ValidationError(f"record: name at least one variable for {label!r}")
        self.recordings.append(Recording(label, tuple(variables), int(every)))

    def add(self, construct) -> Any:
        """Add a network-level construct (homeostasis, astrocytes, ...); it validates itself
        against this network through ``construct.check(net)``."""
        check = getattr(construct, "check", None)
        if not callable(check) or isinstance(construct, type):
            raise ValidationError(f"add: {construct!r} is not a network construct")
        check(self)
        self.extensions.append(construct)
        return construct

    # -- queries ----------------------------------------------------------------------------
    def positions(self, target) -> np.ndarray:
        """``[3, size]`` float64 positions (x, y, z rows, PyNN's length units) of a population's
        neurons from its structure (Line() when it has none); a structure without its own seed draws
        from the network seed and the population's position."""
        from .space import Line, population_seed
        pop = self.get(target)
        structure = pop.structure if pop.structure is not None else Line()
        pos = structure.positions(pop.size, population_seed(self.seed, list(self.populations).index(pop.label)))
        pos.setflags(write=False)
        return pos

    def get(self, target) -> Population:
        label = target if isinstance(target, str) else getattr(target, "label", target)
        if not isinstance(label, str) or label not in self.populations:
            known = ", ".join(self.populations) or "none yet"
            raise ValidationError(f"no population labelled {label!r:.60} (known: {known})")
        return self.populations[label]

    def projection(self, target) -> Projection:
        label = target if isinstance(target, str) else getattr(target, "label", target)
        if not isinstance(label, str) or label not in self.projections:
            known = ", ".join(self.projections) or "none yet"
            raise ValidationError(f"no projection labelled {label!r:.60} (known: {known})")
        return self.projections[label]

    def connectivity(self, projection) -> Connectivity:
        """The projection's synapse lists (pre, post, weights, delays), sorted by (pre, post)."""
        return self._connectivity[self.projection(projection).label]

    def steps(self, ms: float, what: str = "duration") -> int:
        number("run", what, ms, 0.0, MAX_TIME, "ms", why=f"one run is at most {MAX_TIME:g} ms; run in segments")
        return steps("run", what, ms, self.dt)

    # -- JSON -------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return serialization.network_to_dict(self)

    def to_json(self, indent: int | None = 1) -> str:
        return serialization.dumps(self.to_dict(), indent)

    @classmethod
    def from_dict(cls, data: dict) -> "Network":
        """The network a ``to_dict()`` describes; a one-line ValidationError for anything invalid
        (checked against the schema neuromorph/schema/network-v1.json first, docs/schema.md)."""
        return serialization.network_from_dict(data, cls)

    @classmethod
    def from_json(cls, text: str) -> "Network":
        return cls.from_dict(serialization.loads(text))

    # -- internals --------------------------------------------------------------------------
    def _check_new_label(self, label):
        if not isinstance(label, str) or not label:
            raise ValidationError(f"label {label!r:.60} must be a non-empty string")
        if label in self.populations or label in self.projections:
            raise ValidationError(f"label {label!r} is already used; labels must be unique")

    def _resolve(self, proj: Projection, index: int) -> Connectivity:
        owner = f"projection {proj.label!r}"
        pre_pop, post_pop = self.populations[proj.pre], self.populations[proj.post]
        n_pre, n_post = pre_pop.size, post_pop.size
        same = proj.pre == proj.post
        _check_memory(owner, proj.connector, n_pre, n_post, same)
        try:
            if getattr(proj.connector, "uses_positions", False):  # distance-dependent connectors
                pre, post, w_list, d_list = proj.connector.connections_at(
                    self.positions(pre_pop.label), self.positions(post_pop.label), same, self.seed * 1_000_003 + index)
            else:
                pre, post, w_list, d_list = proj.connector.connections(n_pre, n_post, same, self.seed * 1_000_003 + index)
        except ValidationError as exc:
            raise ValidationError(f"{owner}: {exc}") from None
        pre, post = np.asarray(pre, dtype=np.int64), np.asarray(post, dtype=np.int64)
        # per-connection values are in connector order, so they are taken before the sort
        weight = w_list if w_list is not None else _per_connection(owner, "weight", proj.weight, pre, post, n_pre, n_post)
        delay = d_list if d_list is not None else (  # a scalar is converted once, not per synapse
            proj.delay if isinstance(proj.delay, float) else _per_connection(owner, "delay", proj.delay, pre, post, n_pre, n_post))
        weight = np.asarray(weight, dtype=np.float64)
        if weight.size and weight.min() < 0:
            raise ValidationError(f"{owner}: weight {weight.min()} < 0; give magnitudes, receptor='inhibitory' sets the sign")
        dsteps = _delay_steps(owner, delay, self.dt, pre.size)
        if not getattr(proj.connector, "sorted_pairs", False) and pre.size > 1:
            keys = pre * n_post + post
            if np.any(keys[1:] <= keys[:-1]):
                order = np.argsort(keys, kind="stable")
                pre, post, weight, dsteps = pre[order], post[order], weight[order], dsteps[order]
        for a in (pre, post, weight, dsteps):
            a.setflags(write=False)  # shared by every simulation built from this network
        return Connectivity(n_pre, n_post, pre, post, weight, dsteps, label=proj.label)


#: Bytes of description and simulation state per neuron counted by the size check (state
#: variables, spike flags, ring-buffer rows; a lower bound — backends check their own need).
BYTES_PER_NEURON = 64


def _check_neuron_memory(owner, n: int):
    available = available_memory()
    need = n * BYTES_PER_NEURON
    if available is not None and need > available:
        raise ValidationError(
            f"{owner}: size={n:,} neurons need at least {need / 2**30:.1f} GiB ({BYTES_PER_NEURON} bytes per neuron) but only "
            f"{available / 2**30:.1f} GiB are available; use fewer neurons or a machine with more memory")


def _check_memory(owner, connector, n_pre, n_post, same_population):
    """Refuse a projection whose synapse lists cannot fit, before anything is allocated."""
    estimate = connector.expected_size(n_pre, n_post, same_population)
    available = available_memory()
    if estimate is None or available is None:
        return
    need = int(estimate) * BYTES_PER_SYNAPSE
    if need > available:
        raise ValidationError(
            f"{owner}: {type(connector).__name__} from {n_pre:,} to {n_post:,} neurons makes about {int(estimate):,} synapses, "
            f"{need:,} bytes ({need / 2**30:.1f} GiB at {BYTES_PER_SYNAPSE} bytes per synapse) but only {available:,} bytes "
            f"({available / 2**30:.1f} GiB) are available; use fewer neurons or synapses (lower p) or a machine with more memory")


def _delay_steps(owner, delay, dt, n: int) -> np.ndarray:
    """Delays [ms] (a scalar or ``[n]``) to ``n`` whole steps (int64), refusing the first one off
    the dt grid or below 1 step with the same message as a scalar delay."""
    delay = np.asarray(delay, dtype=np.float64)
    if delay.ndim == 0 or (delay.size and np.all(delay == delay.flat[0])):
        value = float(delay) if delay.ndim == 0 else float(delay.flat[0])
        return np.full(n, steps(owner, "delay", value, dt, minimum=1), dtype=np.int64)
    k = np.rint(delay / dt)
    bad = (np.abs(k * dt - delay) > 1e-9 * np.maximum(1.0, np.abs(delay))) | (k < 1)
    if bad.any():
        steps(owner, "delay", float(delay[np.argmax(bad)]), dt, minimum=1)
    return k.astype(np.int64)


def _freeze_array(owner, name, value, lo=-np.inf, hi=np.inf, why=""):
    if np.isscalar(value) and not isinstance(value, (str, bool, np.bool_)):
        return number(owner, name, value, lo, hi, why=why)
    a = bounded_array(owner, name, value, lo, hi, why=why)
    if a.ndim == 0:
        return float(a)
    a.setflags(write=False)
    return a


def _per_connection(owner, name, value, pre, post, n_pre, n_post) -> np.ndarray:
    """``value`` per synapse in connector order: a scalar, an ``[n_pre, n_post]`` array read at
    (pre, post), or one value per connection in connector order."""
    if isinstance(value, float):
        return np.full(pre.shape, value)
    a = np.asarray(value)
    if a.shape == (n_pre, n_post):
        return a[pre, post].astype(np.float64)
    if a.ndim == 1 and a.size == pre.size:
        return a.astype(np.float64)
    raise ValidationError(
        f"{owner}: {name} array has shape {a.shape}; give a scalar, [{n_pre}, {n_post}] (pre × post) or {pre.size} values (one per connection)")
