"""Capability entries of the mechanism constructs, per backend (merged by each backend into its
table; keys are the construct names ``required_constructs`` derives: the class name, plus the keys
a construct derives itself (``construct_keys``): ``Astrocytes:<coupling>`` for each coupling kind,
``SynapticScaling:plastic projection`` when a scaled projection has STDP).

Every entry marked supported must build (tests/test_capabilities_truth.py builds a minimal network
per entry on every backend available): on the PyNN simulators SynapticScaling and
ThresholdAdaptation run host-in-the-loop (neuromorph.backends.pynn.homeostasis)."""
from __future__ import annotations

from ..capabilities import Capability, emulated, native, unsupported

#: default length of a PyNN run segment for host-in-the-loop homeostasis [ms] (build option
#: ``segment_ms``)
PYNN_SEGMENT_MS = 1000.0

_COUPLINGS = ("SlowInwardCurrent", "SynapticGain", "STDPGate")
_PLASTIC_SCALED = ("a PyNN synapse holds one weight: the host would write g·w into the synapse STDP changes, "
                   "so STDP would act on (and clip) the scaled weight; scale static projections only, or use backend='torch'")
_NO_ASTRO_LOWERING = ("the PyNN backend does not lower astrocytes: PyNN cannot create or connect NEST's "
                      "astrocyte_lr_1994 (PyNN 0.13 has no astrocyte cell type; the parity suite drives it through nest.Connect "
                      "directly), and none of the couplings reaches IF_curr_exp/IF_curr_delta on NEST; use backend='torch'")


def mechanism_capabilities(backend: str, segment_ms: float = PYNN_SEGMENT_MS) -> dict[str, Capability]:
    """Capability entries for ``backend`` ("torch", "pynn:nest", "pynn:brian2", "pynn:spinnaker")."""
    if backend == "torch":
        return {
            "SynapticScaling": native("online, every step (weight_gain on the afferent projections)"),
            "SynapticScaling:plastic projection": native("the factor multiplies the transmitted weight; STDP changes the stored weight within its own bounds"),
            "ThresholdAdaptation": native("online, every step (threshold_shift)"),
            "WeightFactorCalibration": emulated("host-side bisection, one short run per pattern and step"),
            "Astrocytes": native("Li-Rinzel/Nadkarni-Jung, one RKF45 step per dt (matches NEST astrocyte_lr_1994 to ~1e-13)"),
            "Astrocytes:SlowInwardCurrent": native("extra_current into the domain's neurons"),
            "Astrocytes:SynapticGain": native("weight_gain on covered synapses"),
            "Astrocytes:STDPGate": native("undoes the step's STDP change where the gate is closed"),
            "SAL": native("trace-based antisymmetric window on the live weights; W_xy + W_yx conserved"),
        }
    seg = (f"host in the loop between run segments of {segment_ms:g} ms (build option segment_ms): rates from the "
           "spike counts of each segment, rate_tau unused")
    scaling = seg + "; the scaled weights are rewritten as w·g (sim.weights reports w)"
    threshold = seg + "; v_thresh set per neuron"
    if backend in ("pynn", "pynn:nest"):
        return {
            "SynapticScaling": emulated(scaling),
            "SynapticScaling:plastic projection": unsupported(_PLASTIC_SCALED),
            "ThresholdAdaptation": emulated(threshold),
            "WeightFactorCalibration": emulated("host-side bisection, one short run per pattern and step"),
            "Astrocytes": unsupported(_NO_ASTRO_LOWERING),
            "Astrocytes:SlowInwardCurrent": unsupported(
                "NEST delivers SICEvents only to aeif_cond_alpha_astro; IF_curr_exp/IF_curr_delta cannot receive them"),
            "Astrocytes:SynapticGain": unsupported("NEST has no astrocyte-controlled synaptic gain"),
            "Astrocytes:STDPGate": unsupported("NEST has no astrocyte gate on stdp_synapse"),
            "SAL": unsupported(
                "needs an antisymmetric window applied identically to both synapses of a pair; NEST's stdp_synapse "
                "shifts its window by the dendritic delay (models/stdp_synapse.h), which breaks W_xy + W_yx conservation"),
        }
    if backend == "pynn:brian2":
        return {
            "SynapticScaling": emulated(scaling), "ThresholdAdaptation": emulated(threshold),
            "SynapticScaling:plastic projection": unsupported(_PLASTIC_SCALED),
            "WeightFactorCalibration": emulated("host-side bisection, one short run per pattern and step"),
            "Astrocytes": unsupported("Brian2 through PyNN has no astrocyte model"),
            **{f"Astrocytes:{k}": unsupported("Brian2 through PyNN has no astrocyte model") for k in _COUPLINGS},
            "SAL": unsupported("PyNN's STDP models cannot express the paired antisymmetric update"),
        }
    if backend == "pynn:spinnaker":
        return {
            "SynapticScaling": emulated(scaling + "; every segment reloads weights onto the board (a virtual board runs "
                                        "nothing, so nothing is updated)"),
            "SynapticScaling:plastic projection": unsupported(_PLASTIC_SCALED),
            "ThresholdAdaptation": emulated(threshold),
            "WeightFactorCalibration": emulated("host-side bisection between runs (the spatial-pattern paper's protocol)"),
            "Astrocytes": unsupported("sPyNNaker has no astrocyte model"),
            **{f"Astrocytes:{k}": unsupported("sPyNNaker has no astrocyte model") for k in _COUPLINGS},
            "SAL": unsupported("sPyNNaker's STDP cannot couple the updates of two synapses"),
        }
    return {}
