"""neuromorph: one spiking-network description, run on snnTorch/PyTorch or PyNN.

>>> import neuromorph as nm
>>> net = nm.Network(dt=1.0, seed=0)

Imports no backend at import time; ``nm.build(net, backend=...)`` loads the one asked for.
"""
from .cells import IF_curr_alpha, IF_curr_delta, IF_curr_exp, Izhikevich, SpikeSourceArray, SpikeSourcePoisson
from .connectors import AllToAll, FixedProbability, FromList, OneToOne
from .errors import (BackendUnavailableError, NeuromorphError, SimulationError, UnsupportedError,
                     ValidationError)
from .network import Network, Population, Projection
from .mechanisms import (SAL, AstrocyteLR1994, Astrocytes, EscapeNoise, SlowInwardCurrent, STDPGate,
                         SynapticGain, SynapticScaling, ThresholdAdaptation, WeightFactorCalibration)
from .numerics import PROFILES
from .plasticity import (STDP, Additive, AdditiveWeightDependence, Multiplicative,
                         MultiplicativeWeightDependence, SpikeNearestPairRule, SpikePairRule)
from .simulation import BACKENDS, Simulation, build, simulate

__version__ = "0.1.0"

__all__ = [
    "Network", "Population", "Projection", "IF_curr_exp", "IF_curr_delta", "IF_curr_alpha", "Izhikevich",
    "SpikeSourceArray",
    "SpikeSourcePoisson", "OneToOne", "AllToAll", "FromList", "FixedProbability", "STDP",
    "SpikePairRule", "SpikeNearestPairRule", "Additive", "Multiplicative", "AdditiveWeightDependence",
    "MultiplicativeWeightDependence", "build", "simulate", "Simulation", "BACKENDS", "PROFILES",
    "SynapticScaling", "ThresholdAdaptation", "WeightFactorCalibration", "AstrocyteLR1994", "Astrocytes",
    "SlowInwardCurrent", "SynapticGain", "STDPGate", "SAL", "EscapeNoise",
    "NeuromorphError", "ValidationError", "UnsupportedError", "BackendUnavailableError", "SimulationError",
]
