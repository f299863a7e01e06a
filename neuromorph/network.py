"""The network description: populations, projections and recordings on one time grid.

A Network is built like a PyNN script (``net.population``, ``net.connect``, ``net.record``); every
item it holds is a frozen, validated dataclass, and the whole network round-trips through
versioned JSON (``net.to_json()``, ``Network.from_json(text)``) without loss.
"""
from __future__ import annotations

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
    to a scalar or one value per neuron; missing ones start at rest (v = v_rest)."""

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
        if name == "v":
            return np.full(self.size, self.celltype.v_rest)
        return np.zeros(self.size)


@dataclass(frozen=True)
class Projection:
    """Synapses from ``pre`` to ``post`` (labels). ``weight`` is a magnitude in nA (mV for
    IF_curr_delta with weight_units="mV"): a scalar, an ``[n_pre, n_post]`` array, or one value per
    connection in connector order; the ``receptor`` gives the sign. ``delay`` [ms] is a whole
    number of steps ≥ 1, scalar or array like the weight."""

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


@dataclass(frozen=True)
class Connectivity:
    """A projection resolved to dense matrices ``[n_pre, n_post]``: ``mask`` (connected),
    ``weight`` (magnitude, 0 where unconnected) and ``delay_steps`` (0 where unconnected)."""

    mask: np.ndarray
    weight: np.ndarray
    delay_steps: np.ndarray

    @property
    def distinct_delays(self) -> list[int]:
        return sorted(int(d) for d in np.unique(self.delay_steps[self.mask]))


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
        try:
            pre, post, w_list, d_list = proj.connector.connections(n_pre, n_post, proj.pre == proj.post, self.seed * 1_000_003 + index)
        except ValidationError as exc:
            raise ValidationError(f"{owner}: {exc}") from None
        mask = np.zeros((n_pre, n_post), dtype=bool)
        mask[pre, post] = True
        weight = _per_connection(owner, "weight", proj.weight, pre, post, n_pre, n_post)
        delay = _per_connection(owner, "delay", proj.delay, pre, post, n_pre, n_post)
        if w_list is not None:
            weight = w_list
        if d_list is not None:
            delay = d_list
        if np.any(weight < 0):
            raise ValidationError(f"{owner}: weight {weight.min()} < 0; give magnitudes, receptor='inhibitory' sets the sign")
        dsteps = np.zeros(delay.shape, dtype=np.int64)
        for d in np.unique(delay):
            dsteps[delay == d] = steps(owner, "delay", float(d), self.dt, minimum=1)
        W = np.zeros((n_pre, n_post))
        D = np.zeros((n_pre, n_post), dtype=np.int64)
        W[pre, post] = weight
        D[pre, post] = dsteps
        return Connectivity(mask, W, D)


def _freeze_array(owner, name, value):
    if np.isscalar(value) and not isinstance(value, (str, bool)):
        return finite(owner, name, value)
    a = finite_array(owner, name, value)
    if a.ndim == 0:
        return float(a)
    a.setflags(write=False)
    return a


def _per_connection(owner, name, value, pre, post, n_pre, n_post) -> np.ndarray:
    if isinstance(value, float):
        return np.full(pre.shape, value)
    a = np.asarray(value)
    if a.shape == (n_pre, n_post):
        return a[pre, post].astype(np.float64)
    if a.ndim == 1 and a.size == pre.size:
        return a.astype(np.float64)
    raise ValidationError(
        f"{owner}: {name} array has shape {a.shape}; give a scalar, [{n_pre}, {n_post}] (pre × post) or {pre.size} values (one per connection)")
