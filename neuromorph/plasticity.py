"""Synaptic plasticity of the model description: STDP = timing rule × weight dependence.

Parameter names follow PyNN (``tau_plus``, ``tau_minus`` [ms], ``A_plus``, ``A_minus``, ``w_min``,
``w_max`` [weight units: nA, or mV for IF_curr_delta with weight_units="mV"]). A negative
``A_minus`` is legal (post-before-pre then potentiates, as in the spatial-pattern paper).
How each numerics profile pairs spikes is in docs/semantics.md.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .errors import ValidationError
from .registry import description_type
from .validation import MAX_CURRENT, MAX_FACTOR, MAX_TAU, MIN_TAU, number


class TimingRule:
    nearest: bool = False

    def __post_init__(self):
        owner = type(self).__name__
        for name in ("tau_plus", "tau_minus"):
            object.__setattr__(self, name, number(owner, name, getattr(self, name), MIN_TAU, MAX_TAU, "ms",
                                                  why="time constants are bounded (docs/schema.md)"))
        for name in ("A_plus", "A_minus"):
            object.__setattr__(self, name, number(owner, name, getattr(self, name), -MAX_FACTOR, MAX_FACTOR,
                                                  why="so that weights stay finite"))


@description_type
@dataclass(frozen=True)
class SpikePairRule(TimingRule):
    """All-pairs rule: every pre spike pairs with every post spike through exponential traces."""

    tau_plus: float = 20.0
    tau_minus: float = 20.0
    A_plus: float = 0.01
    A_minus: float = 0.01


@description_type
@dataclass(frozen=True)
class SpikeNearestPairRule(TimingRule):
    """Nearest-pair rule (sPyNNaker's ``SpikeNearestPairRule``): a pre spike pairs with the latest
    post spike only, and a post spike with the latest pre spike only."""

    tau_plus: float = 20.0
    tau_minus: float = 20.0
    A_plus: float = 0.01
    A_minus: float = 0.01
    nearest = True


class WeightDependence:
    def __post_init__(self):
        owner = type(self).__name__
        w_min = number(owner, "w_min", self.w_min, -MAX_CURRENT, MAX_CURRENT, why="weights are at most 1e6 nA or mV")
        w_max = number(owner, "w_max", self.w_max, -MAX_CURRENT, MAX_CURRENT, why="weights are at most 1e6 nA or mV")
        if w_max < w_min:
            raise ValidationError(f"{owner}: w_max={w_max} is below w_min={w_min}")
        if w_min < 0:
            raise ValidationError(f"{owner}: w_min={w_min} < 0; weights are magnitudes (the receptor sets the sign)")
        object.__setattr__(self, "w_min", w_min)
        object.__setattr__(self, "w_max", w_max)


@description_type
@dataclass(frozen=True)
class AdditiveWeightDependence(WeightDependence):
    """Additive: ``Δw = ±A±·K`` then clipped to ``[w_min, w_max]`` after each term.

    ``step`` says what A± mean: ``"absolute"`` — A± are in weight units (sPyNNaker's meaning);
    ``"times_w_max"`` — the step is ``A±·w_max`` (PyNN's standard and NEST's meaning). Lowerings
    convert between the two.
    """

    w_min: float = 0.0
    w_max: float = 1.0
    step: Literal["absolute", "times_w_max"] = "absolute"

    def __post_init__(self):
        super().__post_init__()
        if not isinstance(self.step, str) or self.step not in ("absolute", "times_w_max"):
            raise ValidationError(f"AdditiveWeightDependence: step={self.step!r} must be 'absolute' or 'times_w_max'")

    def scale(self) -> float:
        """Factor that turns A± into weight units."""
        return self.w_max if self.step == "times_w_max" else 1.0


@description_type
@dataclass(frozen=True)
class MultiplicativeWeightDependence(WeightDependence):
    """Multiplicative: ``Δw+ = A+·(w_max − w)·K``, ``Δw− = −A−·(w − w_min)·K`` (sPyNNaker;
    NEST's has w_min = 0)."""

    w_min: float = 0.0
    w_max: float = 1.0

    def scale(self) -> float:
        return 1.0


Additive = AdditiveWeightDependence
Multiplicative = MultiplicativeWeightDependence


@description_type
@dataclass(frozen=True)
class STDP:
    """Spike-timing-dependent plasticity: a timing rule and a weight dependence.

    The whole synaptic delay is dendritic: a post spike at t_post is seen by the synapse at
    ``t_post + delay`` (PyNN's ``dendritic_delay_fraction = 1``, sPyNNaker's default).
    """

    timing: TimingRule = SpikePairRule()
    weight: WeightDependence = AdditiveWeightDependence()

    def __post_init__(self):
        if not isinstance(self.timing, TimingRule):
            raise ValidationError(f"STDP: timing={self.timing!r} is not a timing rule; use nm.SpikePairRule or nm.SpikeNearestPairRule")
        if not isinstance(self.weight, WeightDependence):
            raise ValidationError(f"STDP: weight={self.weight!r} is not a weight dependence; use nm.Additive or nm.Multiplicative")


@description_type
@dataclass(frozen=True)
class TsodyksMarkram:
    """Tsodyks–Markram short-term plasticity (PyNN's ``TsodyksMarkramSynapse``, NEST's
    ``tsodyks_synapse``): a pre spike transmits ``weight·u·x``, where ``u`` (utilisation) jumps
    by ``U·(1 − u)`` at each spike and decays to 0 with ``tau_facil``, and ``x`` (available
    resources) loses the transmitted fraction ``u·x`` into the active pool ``y``, which decays with
    the post cell's ``tau_syn`` (of the projection's receptor) and recovers into ``x`` with
    ``tau_rec``. ``tau_facil = 0``: no facilitation (``u = U`` at every spike). Initial state
    ``u = 0, x = 1, y = 0``; the state is updated only at the synapse's pre spikes (exact solution
    of the linear ODEs between them). ``U`` in (0, 1]; time constants in ms. The stored weight does
    not change.
    """

    U: float = 0.5
    tau_rec: float = 100.0
    tau_facil: float = 0.0
    is_plasticity = True   # accepted by Network.connect(plasticity=...)

    def __post_init__(self):
        owner = "TsodyksMarkram"
        object.__setattr__(self, "U", number(owner, "U", self.U, 0.0, 1.0, strict_lo=True,
                                             why="U is the fraction of resources used by a spike, in (0, 1]"))
        object.__setattr__(self, "tau_rec", number(owner, "tau_rec", self.tau_rec, MIN_TAU, MAX_TAU, "ms",
                                                   why="time constants are bounded (docs/schema.md)"))
        tau_facil = number(owner, "tau_facil", self.tau_facil, 0.0, MAX_TAU, "ms",
                           why="0 switches facilitation off; time constants are bounded (docs/schema.md)")
        if 0.0 < tau_facil < MIN_TAU:
            raise ValidationError(f"{owner}: tau_facil={tau_facil} ms must be 0 (no facilitation) or >= {MIN_TAU:g} ms")
        object.__setattr__(self, "tau_facil", tau_facil)

    def tau_psc(self, celltype, receptor: str, projection: str) -> float:
        """NEST's ``tau_psc`` for a projection onto ``celltype`` through ``receptor``: the cell's
        tau_syn_E / tau_syn_I, as PyNN copies it. Refused (UnsupportedError) for a cell without one
        and when it equals ``tau_rec`` (tsodyks_synapse divides by their difference)."""
        from .errors import UnsupportedError
        name = "tau_syn_E" if receptor == "excitatory" else "tau_syn_I"
        tau = getattr(celltype, name, None)
        if tau is None:
            raise UnsupportedError(
                f"projection {projection!r}: TsodyksMarkram onto {type(celltype).__name__}, which has no {name}: NEST's "
                "tsodyks_synapse takes tau_psc from the post cell's synaptic time constant (PyNN copies tau_syn_E/I); "
                "use a cell with exponential or alpha synapses such as IF_curr_exp")
        if float(tau) == self.tau_rec:
            raise UnsupportedError(
                f"projection {projection!r}: TsodyksMarkram tau_rec={self.tau_rec} ms equals the post cell's {name}: "
                "NEST's tsodyks_synapse divides by tau_psc − tau_rec (it transmits NaN); change one of them slightly")
        return float(tau)


@description_type
@dataclass(frozen=True)
class Vogels2011:
    """Vogels et al. (2011) inhibitory STDP (PyNN's ``Vogels2011Rule`` with an additive weight
    dependence, NEST's ``vogels_sprekeler_synapse``): a symmetric rule with constant depression.

    Both spikes leave exponential traces with time constant ``tau`` [ms] (+1 per spike). A post
    spike reaching the synapse potentiates by ``eta·K_pre``; a pre spike potentiates by
    ``eta·K_post`` and then depresses by the constant ``eta·alpha``, ``alpha = 2·rho·tau``
    (``rho`` the target post rate in spikes/ms = kHz, as PyNN passes it on unchanged). Weights are
    magnitudes clipped to ``[w_min, w_max]`` after each term (weight units: nA, or mV for
    IF_curr_delta with weight_units="mV"); NEST clips at 0, so the exact profile needs w_min = 0.
    The whole delay is dendritic, as for ``STDP``.
    """

    tau: float = 20.0
    eta: float = 0.01
    rho: float = 0.003
    w_min: float = 0.0
    w_max: float = 1.0
    is_plasticity = True   # accepted by Network.connect(plasticity=...)

    def __post_init__(self):
        owner = "Vogels2011"
        object.__setattr__(self, "tau", number(owner, "tau", self.tau, MIN_TAU, MAX_TAU, "ms",
                                               why="time constants are bounded (docs/schema.md)"))
        object.__setattr__(self, "eta", number(owner, "eta", self.eta, 0.0, MAX_FACTOR,
                                               why="the learning rate is a step in weight units, >= 0"))
        object.__setattr__(self, "rho", number(owner, "rho", self.rho, 0.0, MAX_FACTOR, "1/ms",
                                               why="the target rate in spikes/ms (kHz): 5 Hz is rho=0.005"))
        WeightDependence.__post_init__(self)

    @property
    def alpha(self) -> float:
        """The constant depression in trace units, ``2·rho·tau`` (NEST's ``alpha``)."""
        return 2.0 * self.rho * self.tau
