"""Capability entries of the mechanism constructs, per backend (merged by each backend into its
table; keys are the construct names ``required_constructs`` derives: the class name, plus
``Astrocytes:<coupling>`` for each coupling kind)."""
from __future__ import annotations

from ..capabilities import Capability, emulated, native, unsupported

#: default length of a PyNN run segment for host-in-the-loop homeostasis [ms]
PYNN_SEGMENT_MS = 1000.0


def mechanism_capabilities(backend: str, segment_ms: float = PYNN_SEGMENT_MS) -> dict[str, Capability]:
    """Capability entries for ``backend`` ("torch", "pynn:nest", "pynn:brian2", "pynn:spinnaker")."""
    if backend == "torch":
        return {
            "SynapticScaling": native("online, every step (weight_gain on the afferent projections)"),
            "ThresholdAdaptation": native("online, every step (threshold_shift)"),
            "WeightFactorCalibration": emulated("host-side bisection, one short run per pattern and step"),
            "Astrocytes": native("Li-Rinzel/Nadkarni-Jung, one RKF45 step per dt (matches NEST astrocyte_lr_1994 to ~1e-13)"),
            "Astrocytes:SlowInwardCurrent": native("extra_current into the domain's neurons"),
            "Astrocytes:SynapticGain": native("weight_gain on covered synapses"),
            "Astrocytes:STDPGate": native("undoes the step's STDP change where the gate is closed"),
            "SAL": native("trace-based antisymmetric window on the live weights; W_xy + W_yx conserved"),
        }
    seg = f"host in the loop between run segments of {segment_ms:g} ms (rates from spike counts per segment)"
    if backend in ("pynn", "pynn:nest"):
        return {
            "SynapticScaling": emulated(seg),
            "ThresholdAdaptation": emulated(seg),
            "WeightFactorCalibration": emulated("host-side bisection, one short run per pattern and step"),
            "Astrocytes": native("NEST astrocyte_lr_1994 wired with nest.Connect (PyNN cannot build sic_connection)"),
            "Astrocytes:SlowInwardCurrent": unsupported(
                "NEST delivers SICEvents only to aeif_cond_alpha_astro; IF_curr_exp/IF_curr_delta cannot receive them"),
            "Astrocytes:SynapticGain": unsupported("NEST has no astrocyte-controlled synaptic gain"),
            "Astrocytes:STDPGate": unsupported("NEST has no astrocyte gate on stdp_synapse"),
            "SAL": unsupported(
                "needs an antisymmetric window applied identically to both synapses of a pair; NEST's stdp_synapse "
                "shifts its window by the dendritic delay (simulators.md §0.4), which breaks W_xy + W_yx conservation"),
        }
    if backend == "pynn:brian2":
        return {
            "SynapticScaling": emulated(seg), "ThresholdAdaptation": emulated(seg),
            "WeightFactorCalibration": emulated("host-side bisection, one short run per pattern and step"),
            "Astrocytes": unsupported("Brian2 through PyNN has no astrocyte model"),
            "SAL": unsupported("PyNN's STDP models cannot express the paired antisymmetric update"),
        }
    if backend == "pynn:spinnaker":
        return {
            "SynapticScaling": emulated(seg + "; every segment reloads weights onto the board"),
            "ThresholdAdaptation": emulated(seg),
            "WeightFactorCalibration": emulated("host-side bisection between runs (the spatial-pattern paper's protocol)"),
            "Astrocytes": unsupported("sPyNNaker has no astrocyte model"),
            "SAL": unsupported("sPyNNaker's STDP cannot couple the updates of two synapses"),
        }
    return {}
