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
from .cells import CellType, SourceType, SpikeSourceArray, SpikeSourcePoisson
from .connectors import Connector
from .errors import ValidationError
from .plasticity import STDP
from .registry import description_type
from .validation import finite, finite_array, positive, steps

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
        self.dt = positive("Network", "dt", dt, "ms")
        if isinstance(seed, bool) or int(seed) != seed:
            raise ValidationError(f"Network: seed={seed!r} must be an integer")
        self.seed = int(seed)
        self.populations: dict[str, Population] = {}
        self.projections: dict[str, Projection] = {}
        self.recordings: list[Recording] = []
        self.extensions: list[Any] = []  # homeostasis, astrocytes, ... (docs/mechanisms.md)
        self._connectivity: dict[str, Connectivity] = {}

    # -- building ---------------------------------------------------------------------------
    def population(self, label: str, n: int, celltype, initial_values: dict | None = None) -> Population:
        self._check_new_label(label)
        if isinstance(n, bool) or int(n) != n or n < 1:
            raise ValidationError(f"population {label!r}: size={n!r} must be a positive integer")
        if not isinstance(celltype, (CellType, SourceType)):
            raise ValidationError(f"population {label!r}: {celltype!r} is not a neuron type; use e.g. nm.IF_curr_exp()")
        init = {}
        for name, value in (initial_values or {}).items():
            if name not in celltype.state_variables:
                raise ValidationError(
                    f"population {label!r}: no state variable {name!r} on {type(celltype).__name__} (has {', '.join(celltype.state_variables) or 'none'})")
            a = finite_array(f"population {label!r}", f"initial {name}", value)
            if a.ndim > 1 or (a.ndim == 1 and a.size != n):
                raise ValidationError(f"population {label!r}: initial {name} has shape {a.shape}; give a scalar or {n} values")
            init[name] = float(a) if a.ndim == 0 else tuple(float(x) for x in a)
        if isinstance(celltype, SpikeSourceArray):
            if len(celltype.spike_times) != n:
                raise ValidationError(f"population {label!r}: {len(celltype.spike_times)} spike-time lists for {n} neurons")
            for row in celltype.spike_times:
                for t in row:
                    steps(f"population {label!r}", "spike time", t, self.dt)
        pop = Population(label, int(n), celltype, init)
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
        label = label or f"{pre_pop.label}->{post_pop.label}#{len(self.projections)}"
        self._check_new_label(label)
        owner = f"projection {label!r}"
        if post_pop.is_source:
            raise ValidationError(f"{owner}: post {post_pop.label!r} is a spike source and cannot receive synapses")
        if not isinstance(connector, Connector):
            raise ValidationError(f"{owner}: {connector!r} is not a connector; use nm.OneToOne(), nm.AllToAll(), nm.FromList(), nm.FixedProbability()")
        if receptor not in RECEPTORS:
            raise ValidationError(f"{owner}: receptor={receptor!r} must be 'excitatory' or 'inhibitory'")
        if plasticity is not None and not isinstance(plasticity, STDP) and not getattr(plasticity, "is_plasticity", False):
            raise ValidationError(f"{owner}: plasticity={plasticity!r} is not a plasticity rule; use nm.STDP(...)")
        delay = self.dt if delay is None else delay
        weight = _freeze_array(owner, "weight", weight)
        delay = _freeze_array(owner, "delay", delay)
        proj = Projection(label, pre_pop.label, post_pop.label, connector, weight, delay, receptor, plasticity)
        self._connectivity[label] = self._resolve(proj, len(self.projections))
        self.projections[label] = proj
        return proj

    def record(self, target, *variables: str, every: int = 1) -> None:
        """Record ``"spikes"``, state variables (``"v"``, ``"isyn_exc"``, ``"isyn_inh"``) of a
        population, or ``"weights"`` of a projection every ``every`` steps."""
        if isinstance(every, bool) or int(every) != every or every < 1:
            raise ValidationError(f"record: every={every!r} must be a positive whole number of steps")
        label = target if isinstance(target, str) else target.label
        if label in self.projections:
            for v in variables:
                if v != "weights":
                    raise ValidationError(f"record: projection {label!r} records only 'weights', not {v!r}")
        else:
            pop = self.get(label)
            allowed = ("spikes",) + tuple(pop.celltype.state_variables)
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
        if check is None:
            raise ValidationError(f"add: {construct!r} is not a network construct")
        check(self)
        self.extensions.append(construct)
        return construct

    # -- queries ----------------------------------------------------------------------------
    def get(self, target) -> Population:
        label = target if isinstance(target, str) else getattr(target, "label", target)
        if label not in self.populations:
            known = ", ".join(self.populations) or "none yet"
            raise ValidationError(f"no population labelled {label!r} (known: {known})")
        return self.populations[label]

    def projection(self, target) -> Projection:
        label = target if isinstance(target, str) else getattr(target, "label", target)
        if label not in self.projections:
            known = ", ".join(self.projections) or "none yet"
            raise ValidationError(f"no projection labelled {label!r} (known: {known})")
        return self.projections[label]

    def connectivity(self, projection) -> Connectivity:
        """The projection's synapse lists (pre, post, weights, delays), sorted by (pre, post)."""
        return self._connectivity[self.projection(projection).label]

    def steps(self, ms: float, what: str = "duration") -> int:
        return steps("run", what, ms, self.dt)

    # -- JSON -------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return serialization.network_to_dict(self)

    def to_json(self, indent: int | None = 1) -> str:
        return serialization.dumps(self.to_dict(), indent)

    @classmethod
    def from_dict(cls, data: dict) -> "Network":
        return serialization.network_from_dict(data, cls)

    @classmethod
    def from_json(cls, text: str) -> "Network":
        return cls.from_dict(serialization.loads(text))

    # -- internals --------------------------------------------------------------------------
    def _check_new_label(self, label):
        if not isinstance(label, str) or not label:
            raise ValidationError(f"label {label!r} must be a non-empty string")
        if label in self.populations or label in self.projections:
            raise ValidationError(f"label {label!r} is already used; labels must be unique")

    def _resolve(self, proj: Projection, index: int) -> Connectivity:
        owner = f"projection {proj.label!r}"
        pre_pop, post_pop = self.populations[proj.pre], self.populations[proj.post]
        n_pre, n_post = pre_pop.size, post_pop.size
        same = proj.pre == proj.post
        _check_memory(owner, proj.connector, n_pre, n_post, same)
        try:
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


def _freeze_array(owner, name, value):
    if np.isscalar(value) and not isinstance(value, (str, bool)):
        return finite(owner, name, value)
    a = finite_array(owner, name, value)
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
