"""Plasticity lowerings of the torch backend, registered by (description type, arithmetic): STDP
on sparse synapses in float (stdp.py: eager potentiation, every post spike kept) and the board's
integer STDP (board_stdp.py: lazy at pre spikes over the core's 15-spike post history), both built
from a registered weight dependence per arithmetic (weight_dependence.py) and a registered event
convention per profile (conventions.py)."""
from neuromorph.plasticity import STDP, TsodyksMarkram

from .board_stdp import BoardPlasticSynapses
from .short_term import ShortTermSynapses
from .stdp import PlasticSynapses

#: (plasticity description type, profile arithmetic) -> torch lowering; other plasticity
#: constructs (SAL, gates) are network mechanisms acting on a projection's live weights
PLASTICITY = {(STDP, "float"): PlasticSynapses, (STDP, "fixed"): BoardPlasticSynapses,
              (TsodyksMarkram, "float"): ShortTermSynapses}

__all__ = ["PLASTICITY", "PlasticSynapses", "BoardPlasticSynapses", "ShortTermSynapses"]
