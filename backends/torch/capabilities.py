"""The torch backend's capability table, generated from what is registered: cells (registry.py),
sources (sources.SOURCES), plasticity (plasticity/), mechanisms (mechanisms.TORCH_MECHANISMS).
A construct without a lowering cannot be listed as supported."""
from __future__ import annotations

from neuromorph.capabilities import Capability, emulated, native, unsupported
from neuromorph.cells import recordables
from neuromorph.connectors import Connector
from neuromorph.numerics import get_profile
from neuromorph.plasticity import SpikeNearestPairRule, SpikePairRule, TsodyksMarkram, Vogels2011
from neuromorph.registry import DESCRIPTION_TYPES

from .plasticity import PLASTICITY
from .plasticity.conventions import CONVENTIONS
from .plasticity.vogels import VOGELS_RULES
from .plasticity.weight_dependence import WEIGHT_DEPENDENCES
from .registry import CELLS, cell_capabilities
from .sources import SOURCES

_SOURCE_HOW = {
    "SpikeSourceArray": native(),
    "SpikeSourcePoisson": emulated("Bernoulli per step (p = rate·dt/1000) from snntorch.spikegen.rate; statistically, "
                                   "not spike-for-spike, equal to the simulators' generators"),
}


def capabilities(variant=None, numerics: str | None = None) -> dict[str, Capability]:
    profile = get_profile(numerics or "spinnaker")
    nest = profile.stdp_convention == "nest"
    table: dict[str, Capability] = {}
    table.update(cell_capabilities(profile))
    for t in SOURCES:
        table[t.__name__] = _SOURCE_HOW.get(t.__name__, native())
    table["spike at t=0"] = native("stamp 0 is delivered in step delay-1 (exact) or tick delay (spinnaker)")
    for name, t in DESCRIPTION_TYPES.items():
        if isinstance(t, type) and issubclass(t, Connector):
            table[name] = native("resolved to a synapse list by the description")
    table["heterogeneous delays"] = native("per-synapse delays; all delays of a projection delivered by one scatter")
    conv = CONVENTIONS.get((profile.stdp_convention, profile.board_weights))
    if conv is not None:
        table["STDP:SpikePairRule"] = native("NEST stdp_synapse conventions" if nest else "sPyNNaker pair rule conventions")
        table["STDP:SpikeNearestPairRule"] = native("NEST stdp_nn_symm_synapse conventions" if nest else
                                                    "sPyNNaker nearest-pair conventions")
        for (wd, arith) in WEIGHT_DEPENDENCES:
            if arith == conv.arithmetic:
                table[f"STDP:{wd.__name__}"] = native()
        if conv.arithmetic == "board" and "STDP:MultiplicativeWeightDependence" in table:
            table["STDP:MultiplicativeWeightDependence"] = emulated(
                "float arithmetic floored to the board's s16.15 accumulator; the board's fixed-point products are not reproduced")
        table["STDP:w_min>0"] = unsupported("NEST's stdp_synapse has no lower weight bound (w_min must be 0)") if nest else native()
        table["STDP:negative amplitude"] = native()
        table["STDP:inhibitory"] = native()
    table["TsodyksMarkram"] = (
        native("NEST tsodyks_synapse equations (u, x, y propagated exactly between pre spikes, tau_psc = the post "
               "cell's tau_syn of the receptor), state in float64")
        if (TsodyksMarkram, profile.arithmetic) in PLASTICITY else
        unsupported(f"no fixed-point lowering: sPyNNaker 7.4.1 has no Tsodyks–Markram synapse for its current-based "
                    f"cells, so numerics={profile.name!r} has nothing to reproduce; use numerics='exact' or 'spinnaker-float'"))
    table["Vogels2011"] = (
        native("NEST vogels_sprekeler_synapse: pair-rule events with both traces at tau, at each pre spike "
               "+eta·K_post then −alpha·eta, clipped to [0, w_max] after each")
        if (Vogels2011, profile.arithmetic) in PLASTICITY and profile.stdp_convention in VOGELS_RULES else
        unsupported(f"numerics={profile.name!r}: sPyNNaker 7.4.1 ships its Vogels 2011 kernel as a binary only, so its "
                    "conventions (and board arithmetic) cannot be reproduced; use numerics='exact' (NEST's rule)"))
    here = {"spikes"} | {v for (t, c, a) in CELLS if (c, a) == (profile.convention, profile.arithmetic)
                         for v in recordables(t)}
    for v in sorted(here | {v for (t, c, a) in CELLS for v in recordables(t)}):
        table[f"record:{v}"] = native() if v in here else unsupported(
            f"no cell with a torch lowering for numerics={profile.name!r} has the state variable {v!r}")
    table["record:weights"] = native("every k steps")
    table["batch>1"] = native("independent trials in one run; spike sources and weights may differ per trial")
    from neuromorph.mechanisms import mechanism_capabilities
    from .mechanisms import TORCH_MECHANISMS
    have = {t.__name__ for t in TORCH_MECHANISMS}
    for key, cap in mechanism_capabilities("torch").items():
        table[key] = cap if key.split(":")[0] in have or not cap.supported else unsupported("no torch lowering registered")
    return table


assert SpikePairRule.nearest is False and SpikeNearestPairRule.nearest is True  # the conventions read `nearest`
