"""Vogels et al. (2011) inhibitory STDP on sparse synapses, NEST's ``vogels_sprekeler_synapse``.

The rule has the event structure of the pair rules (stdp.py: post spikes reaching a synapse at
``t_post + delay`` potentiate a pending weight eagerly, by ``eta·K_pre``; a pre spike commits),
with NEST's conventions for the traces (conventions.NestConvention, both with time constant
``tau``: the post trace is the neuron's ``K_minus`` with ``tau_minus = tau``, which pyNN.nest sets
on the post cells). At a pre spike NEST does two steps, each clipped (simulators.md §5):

    w = min(|w| + eta·K_post(t_pre − d), Wmax)      K_post of the post spikes strictly before
    w = max(w − alpha·eta, 0)                        (0 without any), alpha = 2·rho·tau

so, unlike the pair rules, the depression acts at every pre spike (``depress_without_post``).
Only NEST's convention is registered: sPyNNaker 7.4.1 ships its Vogels kernel as binaries only
(``synapses_stdp_mad_vogels_2011_additive.aplx``), so there is no board rule to reproduce.
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from neuromorph.errors import UnsupportedError
from neuromorph.plasticity import STDP, AdditiveWeightDependence, SpikePairRule

from .stdp import PlasticSynapses
from .weight_dependence import ScaledRule


class VogelsConstants(NamedTuple):
    eta: float        # weight units per unit trace
    alpha_eta: float  # the constant depression alpha·eta, in weight units (NEST's product)
    w_max: float


def _nest_potentiate(c, p, k):
    # NEST facilitate_: new = |w| + eta·K; new < Wmax ? new : Wmax (magnitudes; the sign is Wmax's)
    return _scaled_potentiate(c, p, c.eta * k)


def _nest_depress(c, p, k):
    # NEST at a pre spike: facilitate_(w, K_post(t − d)) then depress_: new = w − alpha·eta; new > 0 ? new : 0
    return _scaled_depress(c, p, c.eta * k)


def _scaled_potentiate(c, p, s):   # s = eta·K
    return torch.clamp(p + s, max=c.w_max)


def _scaled_depress(c, p, s):
    return torch.clamp(_scaled_potentiate(c, p, s) - c.alpha_eta, min=0.0)


#: profile.stdp_convention -> (potentiate, depress); why the others are missing: module docstring
VOGELS_RULES = {"nest": (_nest_potentiate, _nest_depress)}
#: the same with eta·K taken by the caller (weight_dependence.SCALED)
VOGELS_SCALED = {"nest": ScaledRule(lambda c: c.eta, lambda c: c.eta, _scaled_potentiate, _scaled_depress)}


class VogelsSynapses(PlasticSynapses):
    """A projection with the Vogels2011 rule (description: neuromorph.plasticity.Vogels2011)."""

    depress_without_post = True

    def __init__(self, label: str, table, rule, profile, dt: float, batch: int, device, dtype, shift: int | None):
        fns = VOGELS_RULES.get(profile.stdp_convention)
        if fns is None or profile.board_weights:
            raise UnsupportedError(
                f"projection {label!r}: Vogels2011 has no torch lowering for numerics={profile.name!r} (sPyNNaker 7.4.1 "
                "ships its Vogels kernel as a binary only, so its conventions cannot be reproduced); use numerics='exact'")
        if rule.w_min != 0:
            raise UnsupportedError(
                f"projection {label!r}: Vogels2011 w_min={rule.w_min} under numerics={profile.name!r} — NEST's "
                "vogels_sprekeler_synapse clips at 0; use w_min=0")
        # the pair-rule machinery with both trace time constants = tau (amplitudes are unused)
        pair = STDP(SpikePairRule(rule.tau, rule.tau, 0.0, 0.0), AdditiveWeightDependence(0.0, rule.w_max))
        super().__init__(label, table, pair, profile, dt, batch, device, dtype, shift)
        self.potentiate, self.depress = fns
        eta = rule.eta * self.unit   # NEST's units (PyNN's eta ×1000), its alpha·eta product
        self.c = VogelsConstants(eta, rule.alpha * eta, rule.w_max * self.unit)
        self.set_scaled(VOGELS_SCALED[profile.stdp_convention])
