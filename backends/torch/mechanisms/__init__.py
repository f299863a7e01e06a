"""Torch implementations of the mechanism constructs (homeostasis, astrocytes, SAL).

Pure step functions with explicit parameter and state tuples (Norse style) live in the modules;
``TORCH_MECHANISMS`` maps a construct's class name to a factory ``factory(construct, sim)`` that
returns an object with

- ``step(sim, k, spikes)`` — called once per step k after the neuron update and event processing;
  ``spikes`` maps population label → tensor ``[batch, n]`` of that step's spikes;
- ``reset(sim)`` — back to the initial state (called by ``sim.reset()``);
- ``sync(sim)`` — re-read weights set from outside between segments (call after set_weights).

The mechanisms act through the simulation's hooks: ``extra_current[label]`` [nA] and
``threshold_shift[label]`` [mV] (``[batch, n]``), ``weight_gain[proj]`` (a gain per post neuron,
``[batch, 1, n_post]``), and the synapse weights in synapse order (``sim.synapse_weights`` /
``sim.write_synapse_weights``, ``[batch, nsyn]``; ``sim.synapse_table(label).post`` maps a synapse
to its post neuron).
"""
import neuromorph.current_sources as _cs
import neuromorph.mechanisms as _m

from .astrocyte import AstrocytesMechanism, lr1994_initial_state, lr1994_parameters, lr1994_step
from .current_sources import CurrentSourceMechanism
from .escape import EscapeLeaky, escape_probability
from .homeostasis import (SynapticScalingMechanism, ThresholdAdaptationMechanism, synaptic_scaling_step,
                          threshold_adaptation_step)
from .sal import SALMechanism, sal_step

class _HostSide:
    """WeightFactorCalibration is a host-side search (neuromorph.mechanisms.calibrate); inside a
    run it does nothing."""

    def __init__(self, construct, sim):
        self.construct, self.label = construct, construct.label

    def step(self, sim, k, spikes):
        pass

    def reset(self, sim):
        pass

    def sync(self, sim):
        pass


TORCH_MECHANISMS = {
    _m.WeightFactorCalibration: _HostSide,
    _m.SynapticScaling: SynapticScalingMechanism,
    _m.ThresholdAdaptation: ThresholdAdaptationMechanism,
    _m.Astrocytes: AstrocytesMechanism,
    _m.SAL: SALMechanism,
    **{cls: CurrentSourceMechanism for cls in _cs.CURRENT_SOURCES.values()},
}

__all__ = ["TORCH_MECHANISMS", "AstrocytesMechanism", "SynapticScalingMechanism", "ThresholdAdaptationMechanism",
           "SALMechanism", "CurrentSourceMechanism", "EscapeLeaky", "escape_probability", "lr1994_step", "lr1994_parameters",
           "lr1994_initial_state", "synaptic_scaling_step", "threshold_adaptation_step", "sal_step"]
