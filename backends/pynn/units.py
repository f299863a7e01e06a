"""Unit and convention conversions between the model description and each PyNN simulator.

The description holds weight *magnitudes* (nA, or mV for ``IF_curr_delta(weight_units="mV")``);
the receptor gives the sign. Each simulator wants something slightly different:

- NEST via PyNN: current-based inhibitory weights must be negative; ``IF_curr_delta`` weights are
  voltage jumps in mV (``iaf_psc_delta``).
- sPyNNaker: magnitudes on the receptor; ``IF_curr_delta`` weights are a current held for one
  tick as a current w/dt (nA), i.e. a jump of ``R·(1−exp(−dt/τm))·w/dt`` mV
  (``neuromorph.conversions.delta_jump_per_nA``, the one formula every backend and test uses).
- Additive STDP: PyNN's standard (NEST, Brian2) step is ``A±·w_max``; sPyNNaker's is ``A±``.
"""
from __future__ import annotations

from neuromorph.cells import IF_curr_delta
from neuromorph.conversions import delta_jump_per_nA


def weight_scale(celltype, simulator: str, dt: float) -> float:
    """Factor from a description weight to the simulator's weight magnitude for a post type.

    IF_curr_delta meanings differ (see module doc): "nA" on NEST/Brian2 becomes mV, "mV" on
    sPyNNaker becomes nA. Everything else passes as is (PyNN handles nA → pA).
    """
    if isinstance(celltype, IF_curr_delta):
        if celltype.weight_units == "nA" and simulator in ("nest", "brian2"):
            return delta_jump_per_nA(celltype.tau_m, celltype.cm, dt)
        if celltype.weight_units == "mV" and simulator == "spinnaker":
            return 1.0 / delta_jump_per_nA(celltype.tau_m, celltype.cm, dt)
    return 1.0


def signed(receptor: str, simulator: str, celltype=None) -> float:
    """Sign PyNN needs on a weight onto ``celltype``: conductances (µS) are magnitudes on both
    receptors everywhere (PyNN negates inhibitory ones for NEST itself); a current-based weight is
    negative on inhibitory receptors for NEST and Brian2 (PyNN refuses positive ones); sPyNNaker
    takes magnitudes."""
    if getattr(celltype, "weight_units", None) == "uS":
        return 1.0
    return -1.0 if receptor == "inhibitory" and simulator in ("nest", "brian2") else 1.0


def additive_amplitudes(weight_dep, timing, simulator: str) -> tuple[float, float]:
    """A+ and A− as the simulator's PyNN expects them for an additive weight dependence.

    The description says what its A± mean (``step``): ``"absolute"`` (weight units, sPyNNaker) or
    ``"times_w_max"`` (PyNN standard). NEST and Brian2 multiply by w_max; sPyNNaker does not.
    A w_max of 0 pins every weight to 0, so the amplitudes do not matter there.
    """
    a_plus, a_minus = timing.A_plus, timing.A_minus
    w_max = weight_dep.w_max
    if simulator == "spinnaker":
        if weight_dep.step == "times_w_max":
            return a_plus * w_max, a_minus * w_max
        return a_plus, a_minus
    if weight_dep.step == "absolute":
        if w_max == 0:
            return 0.0, 0.0
        return a_plus / w_max, a_minus / w_max
    return a_plus, a_minus
