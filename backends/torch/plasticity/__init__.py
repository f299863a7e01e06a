"""Plasticity lowerings of the torch backend, registered by (description type, arithmetic): STDP
on sparse synapses in float (stdp.py: eager potentiation, every post spike kept) and the board's
integer STDP (board_stdp.py: lazy at pre spikes over the core's 15-spike post history), both built
from a registered weight dependence per arithmetic (weight_dependence.py) and a registered event
convention per profile (conventions.py); Vogels 2011 inhibitory STDP (vogels.py) on the float STDP's machinery."""
from neuromorph.plasticity import STDP, TsodyksMarkram, Vogels2011

from .board_stdp import BoardPlasticSynapses
from .short_term import ShortTermSynapses
from .stdp import PlasticSynapses
from .vogels import VogelsSynapses

#: (plasticity description type, profile arithmetic) -> torch lowering; other plasticity
#: constructs (SAL, gates) are network mechanisms acting on a projection's live weights
PLASTICITY = {(STDP, "float"): PlasticSynapses, (STDP, "fixed"): BoardPlasticSynapses,
              (TsodyksMarkram, "float"): ShortTermSynapses, (Vogels2011, "float"): VogelsSynapses}

__all__ = ["PLASTICITY", "PlasticSynapses", "BoardPlasticSynapses", "ShortTermSynapses", "VogelsSynapses"]
