"""The torch backend's capability table (data): construct -> native / emulated / unsupported."""
from __future__ import annotations

from neuromorph.capabilities import Capability, emulated, native, unsupported


def capabilities(variant=None, numerics: str | None = None) -> dict[str, Capability]:
    numerics = numerics or "spinnaker"
    exact = numerics == "exact"
    board = numerics == "spinnaker"
    table = {
        "IF_curr_exp": native("exact: NEST iaf_psc_exp propagators; spinnaker: sPyNNaker's per-tick update"),
        "IF_curr_delta(weight_units=nA)": (emulated("the one-step current w becomes NEST's voltage jump R(1-exp(-dt/tau_m))·w/dt")
                                           if exact else native("sPyNNaker: weights are the current of one tick")),
        "IF_curr_delta(weight_units=mV)": (native("NEST iaf_psc_delta: V jumps by w") if exact else
                                           emulated("the jump w becomes the one-tick current w/(R(1-exp(-dt/tau_m)))")),
        "SpikeSourceArray": native(),
        "SpikeSourcePoisson": emulated("Bernoulli per step (p = rate·dt/1000) from snntorch.spikegen.rate; statistically, "
                                       "not spike-for-spike, equal to the simulators' generators"),
        "spike at t=0": native("stamp 0 is delivered in step delay-1 (exact) or tick delay (spinnaker)"),
        "OneToOne": native(), "AllToAll": native(), "FromList": native(), "FixedProbability": native(),
        "heterogeneous delays": native("one ring-buffer slot per step, up to the largest delay"),
        "STDP:SpikePairRule": native("NEST stdp_synapse conventions" if exact else "sPyNNaker pair rule conventions"),
        "STDP:SpikeNearestPairRule": native("NEST stdp_nn_symm_synapse conventions" if exact else "sPyNNaker nearest-pair conventions"),
        "STDP:AdditiveWeightDependence": native(),
        "STDP:MultiplicativeWeightDependence": (emulated("float arithmetic floored to the board's s16.15 accumulator; "
                                                         "the board's fixed-point products are not reproduced") if board else native()),
        "STDP:w_min>0": (unsupported("NEST's stdp_synapse has no lower weight bound (w_min must be 0)") if exact else native()),
        "STDP:negative amplitude": native(),
        "STDP:inhibitory": native(),
        "record:spikes": native(), "record:v": native(), "record:isyn_exc": native(), "record:isyn_inh": native(),
        "record:weights": native("every k steps"),
        "batch>1": native("independent trials in one run; spike sources and weights may differ per trial"),
    }
    from neuromorph.mechanisms import mechanism_capabilities
    table.update(mechanism_capabilities("torch"))
    return table
