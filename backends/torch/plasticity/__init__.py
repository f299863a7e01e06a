"""Plasticity lowerings of the torch backend: STDP on sparse synapses (stdp.py) built from a
registered weight dependence per arithmetic (weight_dependence.py) and a registered event
convention per profile (conventions.py)."""
from .stdp import PlasticSynapses

__all__ = ["PlasticSynapses"]
