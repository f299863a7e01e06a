"""Mechanism constructs of the model description: homeostasis, astrocytes, SAL.

Each is a frozen, validated dataclass added to a network with ``net.add(construct)`` (it checks
itself against the network) and serialised with the network's JSON. Equations, parameters, units
and the backend table: docs/mechanisms.md.
"""
from .astrocytes import AstrocyteLR1994, Astrocytes, SlowInwardCurrent, STDPGate, SynapticGain
from .capabilities import mechanism_capabilities
from .homeostasis import (CalibrationResult, SynapticScaling, ThresholdAdaptation, WeightFactorCalibration,
                          calibrate, smallest_firing_factor)
from .sal import SAL, EscapeNoise

__all__ = ["SynapticScaling", "ThresholdAdaptation", "WeightFactorCalibration", "calibrate",
           "smallest_firing_factor", "CalibrationResult", "AstrocyteLR1994", "Astrocytes",
           "SlowInwardCurrent", "SynapticGain", "STDPGate", "SAL", "EscapeNoise", "mechanism_capabilities"]
