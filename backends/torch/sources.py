"""Spike sources for the torch backend.

Spike-source arrays become sparse (stamp, trial, neuron) lists that fill a dense window per run
segment. Poisson sources use ``snntorch.spikegen.rate`` (Bernoulli per step, p = rate·dt/1000),
drawn on the CPU in fixed chunks of steps, each seeded from (network seed, label, trial, chunk): a
trial's spikes depend neither on the batch size, the segmentation of the run, nor the device.
"""
from __future__ import annotations

import hashlib

import numpy as np
import torch
from snntorch import spikegen

from neuromorph.cells import SpikeSourceArray, SpikeSourcePoisson
from neuromorph.errors import ValidationError
from neuromorph.validation import finite

CHUNK = 1000  # steps per Poisson chunk


def _seed(*parts) -> int:
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


class ArraySource:
    """A SpikeSourceArray's spikes as (stamp, trial, neuron) lists."""

    def __init__(self, pop, batch: int, dt: float, device, net_seed: int = 0):
        self.label, self.n, self.batch, self.dt, self.device = pop.label, pop.size, batch, dt, device
        self.set_times(pop.celltype.spike_times)

    def set_times(self, times):
        """Per-neuron lists, or (batch > 1) per-trial lists of per-neuron lists [ms]."""
        owner = f"spike times of {self.label!r}"
        trials = _as_trials(times, self.n, self.batch, owner)
        stamps, trial_idx, neuron_idx = [], [], []
        for b, rows in enumerate(trials):
            for i, row in enumerate(rows):
                for t in row:
                    t = finite(owner, "spike time", t)
                    k = round(t / self.dt)
                    if t < 0 or abs(k * self.dt - t) > 1e-9 * max(1.0, abs(t)):
                        raise ValidationError(f"{owner}: {t} ms must be >= 0 and a multiple of dt={self.dt} ms")
                    stamps.append(k)
                    trial_idx.append(b)
                    neuron_idx.append(i)
        self.stamps = np.asarray(stamps, dtype=np.int64)
        self.trial = np.asarray(trial_idx, dtype=np.int64)
        self.neuron = np.asarray(neuron_idx, dtype=np.int64)

    def window(self, u0: int, u1: int, dtype) -> torch.Tensor:
        """Dense spikes for stamps u0 <= u < u1: [u1 - u0, batch, n]."""
        out = torch.zeros(u1 - u0, self.batch, self.n, dtype=dtype)
        sel = (self.stamps >= u0) & (self.stamps < u1)
        if sel.any():
            idx = (torch.as_tensor(self.stamps[sel] - u0), torch.as_tensor(self.trial[sel]), torch.as_tensor(self.neuron[sel]))
            out.index_put_(idx, torch.ones(int(sel.sum()), dtype=dtype))
        return out.to(self.device)


class PoissonSource:
    """A SpikeSourcePoisson drawn per chunk of CHUNK steps (see the module docstring)."""

    def __init__(self, pop, batch: int, dt: float, device, net_seed: int):
        ct = pop.celltype
        self.label, self.n, self.batch, self.dt, self.device = pop.label, pop.size, batch, dt, device
        self.p = ct.rate * dt / 1000.0
        if self.p > 1:
            raise ValidationError(f"SpikeSourcePoisson {pop.label!r}: rate={ct.rate} Hz exceeds one spike per step of dt={dt} ms")
        self.start, self.stop = ct.start / dt, (ct.start + ct.duration) / dt
        self.seed = net_seed
        self._cache: dict[int, torch.Tensor] = {}

    def _chunk(self, c: int) -> torch.Tensor:
        if c not in self._cache:
            probs = torch.full((self.n,), self.p, dtype=torch.float64)
            trials = []
            for b in range(self.batch):  # per trial so a trial does not depend on the batch size
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(_seed(self.seed, self.label, b, c))
                    trials.append(spikegen.rate(probs, num_steps=CHUNK))
            chunk = torch.stack(trials, dim=1)                   # [CHUNK, batch, n]
            u = torch.arange(c * CHUNK, (c + 1) * CHUNK, dtype=torch.float64)
            active = (u >= self.start) & (u < self.stop)
            self._cache = {c: chunk * active[:, None, None]}
        return self._cache[c]

    def window(self, u0: int, u1: int, dtype) -> torch.Tensor:
        parts = []
        u = u0
        while u < u1:
            c = u // CHUNK
            end = min(u1, (c + 1) * CHUNK)
            parts.append(self._chunk(c)[u - c * CHUNK:end - c * CHUNK])
            u = end
        return torch.cat(parts).to(self.device, dtype) if parts else torch.zeros(0, self.batch, self.n, dtype=dtype, device=self.device)


def _as_trials(times, n: int, batch: int, owner: str):
    rows = list(times)
    if batch > 1 and len(rows) == batch and all(hasattr(r, "__len__") and len(r) == n and all(hasattr(x, "__len__") for x in r) for r in rows):
        return [list(r) for r in rows]
    if len(rows) != n:
        raise ValidationError(f"{owner}: got {len(rows)} lists; give {n} per-neuron lists" + (f" or {batch} per-trial lists of {n}" if batch > 1 else ""))
    return [rows] * batch


#: spike-source description type -> torch lowering, built as ``cls(pop, batch, dt, device, net_seed)``
SOURCES = {SpikeSourceArray: ArraySource, SpikeSourcePoisson: PoissonSource}
