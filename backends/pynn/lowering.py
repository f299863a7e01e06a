"""Lower a neuromorph Network to PyNN objects on one simulator.

Connections are resolved by neuromorph (``net.connectivity``) and handed to PyNN as one
``FromListConnector`` list per projection, built with numpy (pre, post, weight, delay columns),
so every backend connects exactly the same pairs. Weights become signed simulator values here
(``units``); STDP parameters are converted to each simulator's conventions.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neuromorph.cells import IF_curr_delta, Izhikevich
from neuromorph.errors import UnsupportedError
from neuromorph.plasticity import AdditiveWeightDependence, SpikeNearestPairRule

from . import units
from .cells import RECORD_NAMES, pynn_celltype


@dataclass
class LoweredProjection:
    """A PyNN projection and how to convert its weights: description magnitude × ``scale`` ×
    ``sign`` = the weight PyNN is given (nA, or mV for voltage-jump synapses)."""

    pynn: object
    scale: float
    sign: float
    native_nest: bool = False  # built from a NEST native synapse type (weights in NEST units)
    delta_post: bool = False   # post is IF_curr_delta (NEST weights in mV)


@dataclass
class Lowered:
    sim: object
    populations: dict = field(default_factory=dict)
    projections: dict = field(default_factory=dict)


def _refuse_initial_state(pop, simulator: str) -> None:
    """Initial values PyNN cannot hand over are refused, not dropped: synaptic currents and
    conductances (NEST's models take none through PyNN) and the AdEx w (PyNN 0.13 passes it
    unscaled, nA as pA; checked)."""
    from neuromorph.errors import UnsupportedError
    for name in pop.celltype.state_variables:
        if name in ("v", "u") or not np.any(pop.initial(name) != 0):
            continue
        why = ("PyNN 0.13 passes it unscaled, nA as pA" if name == "w" else
               "PyNN cannot set initial synaptic currents or conductances")
        raise UnsupportedError(f"population {pop.label!r}: an initial {name} != 0 is unsupported on backend "
                               f"'pynn:{simulator}' ({why}); start from {name} = 0 or use backend='torch'")


def lower(net, sim, simulator: str) -> Lowered:
    """Create every population and projection of ``net`` in the (already set up) PyNN module."""
    out = Lowered(sim)
    for pop in net.populations.values():
        p = sim.Population(pop.size, pynn_celltype(sim, simulator, pop.celltype), label=pop.label)
        if not pop.is_source:
            # v, and u for Izhikevich (PyNN cannot set the initial synaptic currents on NEST)
            p.initialize(**{name: pop.initial(name) for name in ("v", "u") if name in pop.celltype.state_variables})
            _refuse_initial_state(pop, simulator)
        if pop.structure is not None and simulator != "spinnaker":
            # positions are the description's (PyNN's own draw would differ for random structures);
            # only connectors read them, and those are resolved by neuromorph (sPyNNaker's
            # Population has no positions setter)
            p.positions = net.positions(pop.label)
        out.populations[pop.label] = p
    for proj in net.projections.values():
        out.projections[proj.label] = _projection(net, sim, simulator, proj, out.populations)
    for rec in net.recordings:
        if rec.target in out.populations:
            cell = net.populations[rec.target].celltype
            extra = [v for v in rec.variables if v in getattr(cell, "extra_recordables", ())]
            if extra and simulator != "spinnaker":
                from neuromorph.errors import UnsupportedError
                raise UnsupportedError(
                    f"record {extra[0]!r} of {rec.target!r} ({type(cell).__name__}) on pynn:{simulator}: the simulator's "
                    f"model has no synaptic-input variable to record; record it on the torch backend or pynn:spinnaker")
            names = [RECORD_NAMES[simulator][v] for v in rec.variables]
            kwargs = {} if rec.every == 1 else {"sampling_interval": rec.every * net.dt}
            out.populations[rec.target].record(names, **kwargs)
    return out


def connection_list(conn, dt: float, weight_factor: float) -> np.ndarray:
    """``[nsyn, 4]`` array of (pre, post, weight, delay [ms]) for every synapse of a projection, in
    the order of its synapse lists (so PyNN's connections follow neuromorph's)."""
    return np.column_stack([conn.pre.astype(float), conn.post.astype(float),
                            conn.weights * weight_factor, conn.delays * dt])


def _projection(net, sim, simulator, proj, pops) -> LoweredProjection:
    post_type = net.populations[proj.post].celltype
    scale = units.weight_scale(post_type, simulator, net.dt)
    sign = units.signed(proj.receptor, simulator, post_type)
    # voltage-jump weights (IF_curr_delta, Izhikevich): PyNN's NEST module applies receptor_scale 1e-3
    delta_post = isinstance(post_type, (IF_curr_delta, Izhikevich))
    conn = net.connectivity(proj)
    st = proj.plasticity
    native = False
    factor = scale * sign
    if st is None:
        synapse = sim.StaticSynapse()
    elif type(st).__name__ == "STDP":
        synapse, native = _stdp(sim, simulator, st, scale, sign, delta_post, net.dt)
        if native:
            # NEST native synapse types take the weight in NEST units (pA; PyNN only applies the
            # IF_curr_delta receptor_scale of 1e-3), while PyNN's standard types multiply by 1000
            factor = scale * sign * 1000.0
    elif type(st).__name__ == "TsodyksMarkram":
        synapse = _tsodyks_markram(sim, simulator, st, post_type, proj)
    elif type(st).__name__ == "Vogels2011":
        synapse, native = _vogels2011(sim, simulator, st, scale, proj.receptor, delta_post, net.dt)
        if native:   # NEST native synapse: weights in NEST units, as for the nearest-pair rule above
            factor = scale * sign * (1.0 if delta_post else 1000.0)
    else:
        raise UnsupportedError(f"{type(st).__name__} is unsupported on backend 'pynn:{simulator}': no PyNN lowering exists; use backend='torch'")
    rows = connection_list(conn, net.dt, factor)
    connector = sim.FromListConnector(rows, column_names=["weight", "delay"])
    p = sim.Projection(pops[proj.pre], pops[proj.post], connector, synapse,
                       receptor_type=proj.receptor, label=proj.label)
    return LoweredProjection(p, scale, sign, native, delta_post)


def _tsodyks_markram(sim, simulator, st, post_type, proj):
    """PyNN's TsodyksMarkramSynapse (pyNN.nest: NEST tsodyks_synapse, weights ×1000, tau_psc
    copied by PyNN from the post cell's tau_syn of the receptor)."""
    if simulator != "nest":   # the capability tables refuse it first, with the reason
        raise UnsupportedError(f"TsodyksMarkram is unsupported on backend 'pynn:{simulator}'; use backend='pynn:nest' or 'torch'")
    st.tau_psc(post_type, proj.receptor, proj.label)   # refuses what NEST cannot take (PyNN copies tau_psc itself)
    return sim.TsodyksMarkramSynapse(U=st.U, tau_rec=st.tau_rec, tau_facil=st.tau_facil)


def _vogels2011(sim, simulator, st, scale, receptor, delta_post, dt):
    """Vogels 2011 inhibitory STDP; returns (synapse, is_nest_native). pyNN.nest 0.13 has no
    Vogels2011Rule: NEST's vogels_sprekeler_synapse through native_synapse_type, in NEST units
    (eta and Wmax ×1000 for currents), with tau_minus = tau, which PyNN sets on the post cells."""
    if simulator == "nest":
        if st.w_min != 0:
            raise UnsupportedError(f"Vogels2011 w_min={st.w_min} on backend 'pynn:nest': NEST's vogels_sprekeler_synapse "
                                   "clips at 0; use w_min=0 or backend='pynn:spinnaker'")
        to_nest = scale * (1.0 if delta_post else 1000.0)
        # NEST sees inhibitory weights negative (current synapses: from the list; conductances: PyNN
        # negates them), and vogels_sprekeler_synapse wants Wmax with the weights' sign
        w_max = st.w_max * to_nest * (-1.0 if receptor == "inhibitory" else 1.0)
        VS = sim.native_synapse_type("vogels_sprekeler_synapse")
        # the default weight only has to share Wmax's sign (NEST checks it); every weight comes from the list
        return VS(weight=w_max, delay=dt, tau=st.tau, eta=st.eta * to_nest, alpha=st.alpha, Wmax=w_max,
                  tau_minus=st.tau), True
    if simulator == "spinnaker":
        td = sim.extra_models.Vogels2011Rule(alpha=st.alpha, tau=st.tau, A_plus=st.eta * scale, A_minus=st.eta * scale)
        wd = sim.AdditiveWeightDependence(w_min=st.w_min * scale, w_max=st.w_max * scale)
        return sim.STDPMechanism(timing_dependence=td, weight_dependence=wd), False
    raise UnsupportedError(f"Vogels2011 is unsupported on backend 'pynn:{simulator}': PyNN 0.13's {simulator} backend has "
                           "no Vogels2011Rule; use backend='pynn:nest' or 'torch'")


def _stdp(sim, simulator, st, scale, sign, delta_post, dt=1.0):
    """PyNN synapse type of an STDP rule; returns (synapse, is_nest_native)."""
    timing, wdep = st.timing, st.weight
    additive = isinstance(wdep, AdditiveWeightDependence)
    if additive:
        a_plus, a_minus = units.additive_amplitudes(wdep, timing, simulator)
    else:
        a_plus, a_minus = timing.A_plus, timing.A_minus
    w_min, w_max = wdep.w_min * scale, wdep.w_max * scale
    nearest = isinstance(timing, SpikeNearestPairRule)
    if simulator == "nest":
        if nearest:
            # NEST's symmetric nearest-neighbour model through PyNN's native-synapse mechanism:
            # lambda = A+, alpha = A-/A+, Wmax in NEST units (pA for currents, mV for jumps)
            NN = sim.native_synapse_type("stdp_nn_symm_synapse")
            w_max_nest = w_max * sign * (1.0 if delta_post else 1000.0)
            # every connection's weight comes from the list; the default only has to share Wmax's sign
            params = {"weight": w_max_nest, "tau_plus": timing.tau_plus, "tau_minus": timing.tau_minus, "lambda": a_plus,
                      "alpha": a_minus / a_plus if a_plus != 0 else 0.0, "Wmax": w_max_nest,
                      "mu_plus": 0.0 if additive else 1.0, "mu_minus": 0.0 if additive else 1.0,
                      # NEST's default delay (1 ms) is refused when max_delay < 1 ms (dt < 0.5 ms
                      # with short delays); every connection's delay comes from the list anyway
                      "delay": dt}
            return NN(**params), True
        # PyNN multiplies w_max by 1000 but, for IF_curr_delta, forgets the 1e-3 receptor scale it
        # applies to the weights; divide here so NEST's Wmax is in mV like the weights
        w_max_pynn = w_max * sign / (1000.0 if delta_post else 1.0)
        wd = (sim.AdditiveWeightDependence if additive else sim.MultiplicativeWeightDependence)(w_min=0.0, w_max=w_max_pynn)
        td = sim.SpikePairRule(tau_plus=timing.tau_plus, tau_minus=timing.tau_minus, A_plus=a_plus, A_minus=a_minus)
        # NEST checks that the default weight has Wmax's sign (inhibitory: both negative)
        return sim.STDPMechanism(timing_dependence=td, weight_dependence=wd, weight=w_max_pynn,
                                 dendritic_delay_fraction=1.0), False
    if simulator == "brian2":
        wd = (sim.AdditiveWeightDependence if additive else sim.MultiplicativeWeightDependence)(w_min=w_min, w_max=w_max)
        td = sim.SpikePairRule(tau_plus=timing.tau_plus, tau_minus=timing.tau_minus, A_plus=a_plus, A_minus=a_minus)
        # PyNN's brian2 backend only has axonal delays
        return sim.STDPMechanism(timing_dependence=td, weight_dependence=wd, dendritic_delay_fraction=0.0), False
    # sPyNNaker
    rule = sim.extra_models.SpikeNearestPairRule if nearest else sim.SpikePairRule
    td = rule(tau_plus=timing.tau_plus, tau_minus=timing.tau_minus, A_plus=a_plus, A_minus=a_minus)
    wd = (sim.AdditiveWeightDependence if additive else sim.MultiplicativeWeightDependence)(w_min=w_min, w_max=w_max)
    return sim.STDPMechanism(timing_dependence=td, weight_dependence=wd), False
