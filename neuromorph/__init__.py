"""neuromorph: one spiking-network description, run on snnTorch/PyTorch or PyNN.

>>> import neuromorph as nm
>>> net = nm.Network(dt=1.0, seed=0)

Imports no backend at import time; ``nm.build(net, backend=...)`` loads the one asked for.
"""
from .cells import EIF_cond_alpha_isfa_ista, EIF_cond_exp_isfa_ista, IF_cond_alpha, IF_cond_exp, IF_curr_alpha, IF_curr_delta, IF_curr_exp, Izhikevich, SpikeSourceArray, SpikeSourcePoisson
from .connectors import (AllToAll, DistanceDependentProbability, FixedNumberPost, FixedNumberPre, FixedProbability,
                         FixedTotalNumber, FromList, OneToOne)
from .current_sources import ACSource, DCSource, NoisyCurrentSource, StepCurrentSource
from .errors import (BackendUnavailableError, NeuromorphError, SimulationError, SpinnakerWarning, UnsupportedError,
                     ValidationError)
from .network import Network, Population, Projection
from .mechanisms import (SAL, AstrocyteLR1994, Astrocytes, EscapeNoise, SlowInwardCurrent, STDPGate,
                         SynapticGain, SynapticScaling, ThresholdAdaptation, WeightFactorCalibration)
from .numerics import PROFILES
from .plasticity import (STDP, Additive, AdditiveWeightDependence, Multiplicative, TsodyksMarkram, Vogels2011,
                         MultiplicativeWeightDependence, SpikeNearestPairRule, SpikePairRule)
from .space import Cuboid, Grid2D, Grid3D, Line, RandomStructure, Space, Sphere
from .simulation import BACKENDS, Simulation, build, load, simulate

__version__ = "0.1.0"


def to_nir(net, dt=None, discretization="exact", outputs=None):
    """The network as a ``nir.NIRGraph`` (needs the ``[nir]`` extra; see neuromorph.nir, docs/nir.md)."""
    from .nir import to_nir as _to_nir
    return _to_nir(net, dt=dt, discretization=discretization, outputs=outputs)


def from_nir(graph, dt=1.0, nir_dt=None, discretization=None, seed=None, record=True, split=False):
    """A Network from a ``nir.NIRGraph`` (needs the ``[nir]`` extra; see neuromorph.nir, docs/nir.md)."""
    from .nir import from_nir as _from_nir
    return _from_nir(graph, dt=dt, nir_dt=nir_dt, discretization=discretization, seed=seed, record=record,
                     split=split)


__all__ = [
    "Network", "Population", "Projection", "IF_curr_exp", "IF_curr_delta", "IF_curr_alpha", "IF_cond_exp", "IF_cond_alpha", "EIF_cond_exp_isfa_ista",
    "EIF_cond_alpha_isfa_ista", "Izhikevich",
    "SpikeSourceArray",
    "SpikeSourcePoisson", "OneToOne", "AllToAll", "FromList", "FixedProbability", "FixedNumberPre", "FixedNumberPost", "FixedTotalNumber",
    "DistanceDependentProbability", "Line", "Grid2D", "Grid3D", "RandomStructure", "Cuboid", "Sphere", "Space", "STDP",
    "SpikePairRule", "SpikeNearestPairRule", "Additive", "Multiplicative", "AdditiveWeightDependence",
    "MultiplicativeWeightDependence", "TsodyksMarkram", "Vogels2011", "build", "simulate", "load", "Simulation", "BACKENDS", "PROFILES",
    "SynapticScaling", "ThresholdAdaptation", "WeightFactorCalibration", "AstrocyteLR1994", "Astrocytes",
    "SlowInwardCurrent", "SynapticGain", "STDPGate", "SAL", "EscapeNoise",
    "DCSource", "StepCurrentSource", "ACSource", "NoisyCurrentSource",
    "to_nir", "from_nir",
    "NeuromorphError", "ValidationError", "UnsupportedError", "BackendUnavailableError", "SimulationError",
    "SpinnakerWarning",
]
