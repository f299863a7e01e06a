"""Capability entries of the mechanism constructs, per backend (merged by each backend into its
table; keys are the construct names ``required_constructs`` derives: the class name, plus the keys
a construct derives itself (``construct_keys``): ``Astrocytes:<coupling>`` for each coupling kind,
``SynapticScaling:plastic projection`` when a scaled projection has STDP).

Every entry marked supported must build (tests/test_capabilities_truth.py builds a minimal network
per entry on every backend available): on the PyNN simulators SynapticScaling and
ThresholdAdaptation run host-in-the-loop (neuromorph.backends.pynn.homeostasis), SAL
(neuromorph.backends.pynn.host_sal) and astrocytes with their SIC / gain couplings
(neuromorph.backends.pynn.host_astro) too."""
from __future__ import annotations

from ..capabilities import Capability, emulated, native, unsupported

#: default length of a PyNN run segment for host-in-the-loop homeostasis [ms] (build option
#: ``segment_ms``)
PYNN_SEGMENT_MS = 1000.0

_PLASTIC_SCALED = ("a PyNN synapse holds one weight: the host would write g·w into the synapse STDP changes, "
                   "so STDP would act on (and clip) the scaled weight; scale static projections only, or use backend='torch'")
_HOST_GATE = ("the gate keeps or undoes each step's STDP change inside the synapse; the host sees the weights only at "
              "segment ends and no PyNN STDP model takes a per-step gate; use backend='torch'")


def current_source_capabilities(backend: str) -> dict[str, Capability]:
    """Entries of the current sources (neuromorph.current_sources) for ``backend``."""
    kinds = ("DCSource", "StepCurrentSource", "ACSource", "NoisyCurrentSource")
    if backend == "torch":
        how = ("extra_current hook, per step; numerics='exact': as PyNN + NEST deliver the generator current (nothing "
               "before t = 2·dt, then the description's value; DC/step bit-identical V, AC to rounding); spinnaker "
               "profiles: the value in tick k (fixed point: rounded to s16.15)")
        out = {k: native(how) for k in kinds}
        out["NoisyCurrentSource"] = native(how + "; Gaussian draws from a torch.Generator seeded by seed or the network "
                                           "seed (statistically, not draw-for-draw, equal to NEST's noise_generator)")
        out["NoisyCurrentSource:dt>timestep"] = native("each draw held for dt/timestep steps")
        return out
    if backend in ("pynn", "pynn:nest"):
        how = ("PyNN {} → NEST {} (PyNN connects it with delay min_delay = dt and shifts start/stop/times by it): the "
               "current acts on V from the step at start (never before t = 2·dt)")
        out = {"DCSource": native(how.format("DCSource", "dc_generator")),
               "StepCurrentSource": native(how.format("StepCurrentSource", "step_current_generator")),
               "ACSource": native(how.format("ACSource", "ac_generator") + "; PyNN corrects the phase to start"),
               "NoisyCurrentSource": native(how.format("NoisyCurrentSource", "noise_generator") + "; NEST's RNG "
                                            "(rng_seed from the network seed), one draw per neuron per interval")}
        out["NoisyCurrentSource:dt>timestep"] = native("noise_generator dt")
        return out
    if backend == "pynn:brian2":
        how = ("PyNN's brian2 {} (a network-operation current): checked to act in the same steps as on NEST for "
               "start >= 2·dt (Brian2 has no generator delay, so earlier currents are not cut off)")
        out = {k: native(how.format(k)) for k in kinds}
        out["NoisyCurrentSource:dt>timestep"] = native("PyNN's brian2 NoisyCurrentSource dt")
        return out
    if backend == "pynn:spinnaker":
        how = ("sPyNNaker {} (s16.15 amplitudes, start/stop/times as whole ticks; the current is applied in the tick it "
               "is on); on a virtual board nothing runs")
        out = {k: native(how.format(k)) for k in kinds}
        out["NoisyCurrentSource:dt>timestep"] = unsupported(
            "sPyNNaker 7.4.1's NoisyCurrentSource refuses dt other than the machine time step; use dt=None (every step) "
            "or backend='torch'/'pynn:nest'")
        return out
    return {}


def mechanism_capabilities(backend: str, segment_ms: float = PYNN_SEGMENT_MS) -> dict[str, Capability]:
    """Capability entries for ``backend`` ("torch", "pynn:nest", "pynn:brian2", "pynn:spinnaker")."""
    return {**_mechanism_capabilities(backend, segment_ms), **current_source_capabilities(backend)}


def _mechanism_capabilities(backend: str, segment_ms: float = PYNN_SEGMENT_MS) -> dict[str, Capability]:
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
    astro = (f"host in the loop between run segments of {segment_ms:g} ms (build option segment_ms): the host steps "
             "the torch Li-Rinzel/Nadkarni-Jung integrator (one RKF45 step per dt) over each segment's recorded input spikes, "
             "so Ca, IP3, h and SIC equal torch's given the spikes (PyNN has no astrocyte cell type, NEST's "
             "astrocyte_lr_1994 is not reachable through it)")
    astro_sic = ("host in the loop: at each segment end i_offset of the domain's neurons is set to the cell's i_offset + "
                 "weight·SIC (SIC of the segment's last step), held through the next segment (torch: SIC(t − delay) every "
                 "step; the lag is reported as lag). NEST's sic_connection reaches only aeif_cond_alpha_astro")
    astro_gain = ("host in the loop: at each segment end the covered synapses are rewritten as w·max(1 + gain·SIC, 1e-6), "
                  "held through the next segment (torch: every step); static projections only (sim.weights reports w)")
    sal = (f"host in the loop between run segments of {segment_ms:g} ms (build option segment_ms): the segment's "
           "recorded spike times replay the online rule exactly (traces carried across segments) and both weights are "
           "rewritten at each segment end, so within a segment the network runs with the previous weights (the lag is "
           "reported as lag); W_xy + W_yx conserved")
    if backend in ("pynn", "pynn:nest"):
        return {
            "SynapticScaling": emulated(scaling),
            "SynapticScaling:plastic projection": unsupported(_PLASTIC_SCALED),
            "ThresholdAdaptation": emulated(threshold),
            "WeightFactorCalibration": emulated("host-side bisection, one short run per pattern and step"),
            "Astrocytes": emulated(astro),
            "Astrocytes:SlowInwardCurrent": emulated(astro_sic),
            "Astrocytes:SynapticGain": emulated(astro_gain),
            "Astrocytes:STDPGate": unsupported(_HOST_GATE),
            "SAL": emulated(sal + " (not NEST's stdp_synapse: it shifts its window by the dendritic delay, "
                            "models/stdp_synapse.h, and cannot couple the two synapses of a pair)"),
        }
    if backend == "pynn:brian2":
        return {
            "SynapticScaling": emulated(scaling), "ThresholdAdaptation": emulated(threshold),
            "SynapticScaling:plastic projection": unsupported(_PLASTIC_SCALED),
            "WeightFactorCalibration": emulated("host-side bisection, one short run per pattern and step"),
            "Astrocytes": emulated(astro), "Astrocytes:SlowInwardCurrent": emulated(astro_sic),
            "Astrocytes:SynapticGain": emulated(astro_gain), "Astrocytes:STDPGate": unsupported(_HOST_GATE),
            "SAL": emulated(sal + " (PyNN's STDP models cannot express the paired antisymmetric update)"),
        }
    if backend == "pynn:spinnaker":
        return {
            "SynapticScaling": emulated(scaling + "; every segment reloads weights onto the board (a virtual board runs "
                                        "nothing, so nothing is updated)"),
            "SynapticScaling:plastic projection": unsupported(_PLASTIC_SCALED),
            "ThresholdAdaptation": emulated(threshold),
            "WeightFactorCalibration": emulated("host-side bisection between runs (the spatial-pattern paper's protocol)"),
            "Astrocytes": emulated(astro + "; a virtual board runs nothing, so nothing is integrated"),
            "Astrocytes:SlowInwardCurrent": emulated(astro_sic + "; every segment reloads the neuron parameters onto the board"),
            "Astrocytes:SynapticGain": emulated(astro_gain + "; every segment reloads weights onto the board"),
            "Astrocytes:STDPGate": unsupported(
                _HOST_GATE + "; sPyNNaker 7.4.1's native neuromodulated STDP (SynapseDynamicsNeuromodulation: an "
                "eligibility trace times a reward/punishment concentration) is another learning rule, not plain STDP "
                "kept or undone per step"),
            "SAL": emulated(sal + "; every segment reloads weights onto the board (a virtual board runs nothing, so "
                            "nothing is updated; sPyNNaker's STDP cannot couple the updates of two synapses)"),
        }
    return {}
