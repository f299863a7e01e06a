"""Host-in-the-loop astrocytes on the PyNN simulators (docs/mechanisms.md §2, §5).

PyNN has no astrocyte cell type (and NEST's SICEvents reach only aeif_cond_alpha_astro), so the
host integrates the astrocytes between run segments (the segments of ``homeostasis.HostLoop``:
``segment_ms``, counted from t = 0). At each segment end it reads the segment's spikes of the
covered neurons / the covered projections' presynaptic neurons (t in (t_previous_end, t_end]; the
spike stamped t was produced by the update of step round(t/dt) − 1, NEST's convention = the
torch profile "exact"), builds each step's input (``Astrocytes.input_matrix`` × input_weight),
and steps the Li–Rinzel/Nadkarni–Jung dynamics exactly as torch does — the same functions
(``backends/torch/mechanisms/astrocyte.lr1994_step``: one RKF45 step per dt, the input delay line
of ``input_delay``) — over every step of the segment. Given the spikes, the astrocyte state and
its recorded traces equal torch's (``trace(name)``: ``[steps, 1, size]``).

The couplings act between segments: at a segment end the last step's SIC_j sets

    SlowInwardCurrent   i_offset of each domain neuron ← i_offset (the cell's) + weight·SIC_j
    SynapticGain        every covered synapse onto domain j is rewritten as w·max(1 + gain·SIC_j, 1e-6)

held through the next segment, where torch applies SIC(t − delay) at every step. ``lag`` is the
largest |SIC(t) − SIC(segment start)| seen (how far the coupling the network ran with was from
the astrocytes' output; SIC units), ``lag_history`` one value per segment. The STDP gate acts on
each step's STDP change inside the synapse, which the host never sees (it reads weights only at
segment ends): unsupported. A gained projection must be static (a PyNN synapse holds one weight;
STDP would act on w·g). On a virtual SpiNNaker board nothing runs, so nothing is updated.
"""
from __future__ import annotations

import numpy as np
import torch

from neuromorph.backends.torch.mechanisms.astrocyte import lr1994_initial_state, lr1994_parameters, lr1994_step
from neuromorph.errors import UnsupportedError
from neuromorph.mechanisms import Astrocytes, SlowInwardCurrent, STDPGate, SynapticGain

from .host_sal import SegmentSpikes


class HostAstrocytes:
    """An Astrocytes construct integrated on the host between segments. ``state``: IP3, Ca_astro,
    h_IP3R ``[1, size]`` (torch float64); ``sic`` ``[size]`` (numpy, last step)."""

    def __init__(self, construct: Astrocytes, sim):
        net = sim.net
        self.construct = construct
        self.label = construct.label
        if construct.coupling_of(STDPGate) is not None:
            raise UnsupportedError(f"Astrocytes {construct.label!r}: STDPGate is unsupported on {sim.backend!r}")
        self.params = lr1994_parameters(construct.dynamics)
        self.dt = float(net.dt)
        self.size = construct.size
        self.domain = construct.domain_array(net)
        self.inputs = [(construct.source_of(net, lab), construct.input_matrix(net, lab) * construct.input_weight)
                       for lab in construct.covers]
        self.in_delay = net.steps(construct.input_delay if construct.input_delay is not None else net.dt, "input_delay")
        self.sic_coupling = construct.coupling_of(SlowInwardCurrent)
        self.gain_coupling = construct.coupling_of(SynapticGain)
        self.covered_projs = [lab for lab in construct.covers if lab in net.projections]
        self.projections = self.covered_projs if self.gain_coupling is not None else []
        for p in self.projections:
            if net.projections[p].plasticity is not None:
                raise UnsupportedError(
                    f"Astrocytes {construct.label!r}: SynapticGain on the plastic projection {p!r} is unsupported on "
                    f"{sim.backend!r}: a PyNN synapse holds one weight, the host would write g·w into the synapse STDP "
                    "changes, so STDP would act on (and clip) the gained weight; use backend='torch'")
        self._post = {p: net.connectivity(p).post for p in self.projections}
        self.targets = construct.target_population(net) if self.sic_coupling is not None else []
        self._i_offset = {}
        for pop in self.targets:
            celltype = net.populations[pop].celltype
            if not hasattr(celltype, "i_offset"):
                raise UnsupportedError(f"Astrocytes {construct.label!r}: {type(celltype).__name__} has no i_offset the "
                                       f"host could drive with the slow inward current on {sim.backend!r}; use backend='torch'")
            self._i_offset[pop] = float(celltype.i_offset)
        self.state = lr1994_initial_state(construct.dynamics, (1, self.size))
        self.sic = np.zeros(self.size)
        self._in_buf = torch.zeros((self.in_delay, 1, self.size), dtype=torch.float64)
        self._k = 0
        self._t0 = 0.0
        self.records = {r: [] for r in construct.record}
        self.lag = 0.0
        self.lag_history: list[float] = []
        self._spikes = {src: SegmentSpikes(sim, src) for src in {s for s, _ in self.inputs}}

    # -- results --------------------------------------------------------------------------
    def trace(self, name: str) -> np.ndarray:
        """Recorded variable ``[steps, 1, size]`` (numpy), one row per step integrated so far."""
        if name not in self.records:
            from neuromorph.errors import ValidationError
            have = ", ".join(self.records) or "none"
            raise ValidationError(f"astrocytes {self.label!r}: {name!r} was not recorded (recorded: {have}); "
                                  f"add it to Astrocytes(..., record=({name!r},))")
        rows = self.records[name]
        return np.stack(rows) if rows else np.zeros((0, 1, self.size))

    def gain(self, label) -> np.ndarray:
        """Per-synapse gain of a covered projection ``[nsyn]`` (SynapticGain)."""
        g = np.maximum(1.0 + self.gain_coupling.gain * self.sic, 1e-6)
        return g[self.domain[self._post[label]]]

    # -- one segment ----------------------------------------------------------------------
    def _input(self, sim, t1: float, n: int) -> torch.Tensor:
        """Summed input weight per step of the segment ``[n, 1, size]``."""
        s = np.zeros((n, self.size))
        for src, m in self.inputs:
            idx, steps = self._spikes[src].between(sim, self._t0, t1)
            k = steps - 1 - self._k              # step of the update that produced the spike, in the segment
            ok = (k >= 0) & (k < n)
            np.add.at(s, k[ok], m[idx[ok]])
        return torch.as_tensor(s, dtype=torch.float64).unsqueeze(1)

    def segment_end(self, sim) -> None:
        t1 = sim.time
        n = int(round((t1 - self._t0) / self.dt))
        s = self._input(sim, t1, n)
        start = self.sic.copy()
        lag = 0.0
        state = self.state
        for i in range(n):
            k = self._k + i
            slot = k % self.in_delay
            s_in = self._in_buf[slot].clone()
            self._in_buf[slot] = s[i]
            state, sic = lr1994_step(self.params, state, s_in, self.dt)
            for r in self.records:
                self.records[r].append((sic if r == "SIC" else getattr(state, r)).numpy().copy())
            lag = max(lag, float(torch.max(torch.abs(sic[0] - torch.as_tensor(start)))))
        self.state = state
        if n:
            self.sic = sic[0].numpy().copy()
        self._k += n
        self._t0 = t1
        self.lag = max(self.lag, lag)
        self.lag_history.append(lag)
        self.apply(sim)

    def apply(self, sim) -> None:
        for pop in self.targets:
            cur = self._i_offset[pop] + self.sic_coupling.weight * self.sic[self.domain]
            sim.lowered.populations[pop].set(i_offset=cur)
        for label in self.projections:
            sim._write_weights(label, sim._loaded[label])
            sim._cache.pop(("w", label), None)
