"""Current sources (neuromorph.current_sources) on the torch backend, through ``extra_current``.

The mechanism's ``step(sim, k, ...)`` runs at the end of step k and sets the current [nA] the
cells add to ``i_offset`` in step k + 1 (``reset`` sets step 0's). Timing per numerics profile:

- ``exact`` (NEST): as PyNN 0.13 + NEST 3.10 deliver dc/step/ac/noise_generator currents to
  iaf_psc_*: nothing in steps 0 and 1, I_k = the description's value from step 2 on (the generator
  emits in step k − 2, the current reaches the neuron's buffer after the min_delay (= dt)
  connection and acts on V one step later); ACSource with NEST's phase arithmetic (its phase is
  taken at max(start, dt)). The cells compute ``i_offset_pA + I·1000`` as NEST computes
  ``I_e + i_0``, so a DC or step current gives bit-identical V; an AC current agrees to rounding.
- ``spinnaker`` / ``spinnaker-float`` (sPyNNaker): I_k in tick k, from tick start/dt; the fixed-point
  profile rounds the current to s16.15 like every ``extra`` current (cells/fixed_lif.py).

A current changes ``extra_current`` only when its value changes (a DC source twice per run). When it
is the only contribution to its population's hook it writes the tensor itself (no ``cur + new −
old`` rounding); otherwise it replaces its own part additively (``_hooks.replace_additive``).
NoisyCurrentSource draws N(mean, stdev) per trial and neuron from a CPU ``torch.Generator`` seeded
with ``construct.rng_seed(net.seed)`` (re-seeded by ``reset``), in float64; the generator state is
kept as a tensor attribute, so a checkpoint (``sim.save``/``nm.load``) resumes the same draws.
"""
from __future__ import annotations

import bisect

import torch

from neuromorph.current_sources import (ACSource, DCSource, NoisyCurrentSource, StepCurrentSource, nest_ac_value,
                                        waveform_value)

__all__ = ["CurrentSourceMechanism"]


class CurrentSourceMechanism:
    """One current-source construct on one population (``extra_current[population]``)."""

    def __init__(self, construct, sim):
        self.construct = construct
        self.label = construct.label
        self.pop = construct.population
        self.dt = float(sim.net.dt)
        self.nest = sim.profile.convention == "nest"
        self.kmin = 2 if self.nest else 0
        n = sim.net.populations[self.pop].size
        self.n = n
        idx = construct.indices(n)
        self.idx = torch.as_tensor(idx, dtype=torch.long)
        self.all = len(idx) == n and not construct.neurons
        self.mask = None
        if not isinstance(construct, StepCurrentSource):
            self.k_start = construct.step_of("start", self.dt)
            self.k_stop = construct.step_of("stop", self.dt)
        else:
            self.k_times = [construct.step_of("times", self.dt, t) for t in construct.times]
        if isinstance(construct, NoisyCurrentSource):
            self.every = construct.interval_steps(self.dt)
            self.k_first = max(self.k_start, self.kmin)
            self.seed = construct.rng_seed(sim.net.seed)
        self._applied = None   # the tensor this source last added (None: nothing)
        self._noise = None     # the noise held now [batch, n] (NoisyCurrentSource)

    # -- values ---------------------------------------------------------------------------
    def value(self, k: int):
        """Deterministic sources: the current [nA] in step k (None: none)."""
        c = self.construct
        if k < self.kmin:
            return None
        if isinstance(c, StepCurrentSource):
            j = bisect.bisect_right(self.k_times, k) - 1
            return c.amplitudes[j] if j >= 0 else None
        if not self.k_start <= k < self.k_stop:
            return None
        if isinstance(c, DCSource):
            return c.amplitude
        if isinstance(c, ACSource):
            return nest_ac_value(c, k, self.dt) if self.nest else waveform_value(c, k, self.dt, False)
        raise TypeError(type(c).__name__)

    def _tensor(self, sim, value) -> torch.Tensor:
        """``value`` (a float, or a ``[batch, n_targets]`` tensor) spread over ``[rows, n]``."""
        dtype, device = getattr(sim, "dtype", torch.float64), getattr(sim, "device", None)
        if isinstance(value, torch.Tensor):
            v = value.to(dtype=dtype, device=device)
            if self.all:
                return v
            out = torch.zeros(v.shape[0], self.n, dtype=dtype, device=device)
            out[:, self.idx.to(out.device)] = v
            return out
        if self.all:
            return torch.full((1, self.n), float(value), dtype=dtype, device=device)
        out = torch.zeros(1, self.n, dtype=dtype, device=device)
        out[:, self.idx.to(out.device)] = float(value)
        return out

    def _set(self, sim, new: torch.Tensor | None) -> None:
        table = sim.extra_current
        cur = table.get(self.pop)
        old = self._applied
        if new is None and old is None:
            return
        if cur is None or cur is old:
            table[self.pop] = new           # the only contribution: exact
        elif new is None:
            table[self.pop] = cur - old
        else:
            table[self.pop] = cur + (new if old is None else new - old)
        self._applied = new

    def _noise_at(self, sim, k: int):
        if k < self.k_first or k >= self.k_stop:
            self._noise = None
            return None
        if (k - self.k_first) % self.every == 0 or self._noise is None:
            c = self.construct
            # the generator state is kept as a tensor attribute, so a checkpoint (which saves a
            # mechanism's tensors) resumes the same draws
            self._gen.set_state(self._gen_state)
            z = torch.randn((sim.batch, len(self.idx)), generator=self._gen, dtype=torch.float64)
            self._gen_state = self._gen.get_state()
            self._noise = self._tensor(sim, c.mean + c.stdev * z)
        return self._noise

    def _update(self, sim, k: int, force: bool = False) -> None:
        if isinstance(self.construct, NoisyCurrentSource):
            before = self._noise
            new = self._noise_at(sim, k)
            if new is not before:
                self._set(sim, new)
            return
        v = self.value(k)
        if not force and k > 0 and v == self.value(k - 1):   # unchanged since the previous step (None == None too)
            return
        self._set(sim, None if v is None else self._tensor(sim, v))

    # -- the mechanism protocol -------------------------------------------------------------
    def reset(self, sim) -> None:
        self._set(sim, None)   # take back this source's part (the batch may have changed)
        self._noise = None
        if isinstance(self.construct, NoisyCurrentSource):
            self._gen = torch.Generator(device="cpu")
            self._gen.manual_seed(self.seed)
            self._gen_state = self._gen.get_state()
        self._update(sim, int(sim.k), force=True)

    def step(self, sim, k, spikes) -> None:
        self._update(sim, k + 1)

    def sync(self, sim) -> None:
        pass
