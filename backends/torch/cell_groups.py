"""Cell groups: populations of one cell lowering with equal parameters, stepped as one.

Why: outside training a small network's step is dominated by per-call overhead, not arithmetic —
a cell step is ~20 small torch kernels per population per step (the demo's 80 + 20 IF_curr_exp
neurons: ~40 of its ~111 calls per step), and models built of many small populations of one type
(spatial pattern, SAL, CA3) pay it once per population. Populations whose lowering is the same
object and whose lowering parameters are equal run the same elementwise float/int operations per
element, so one call of the lowering's step on the concatenated ``[batch, N_group]`` tensors gives
every element bit for bit what separate calls give (tests/test_cell_groups.py checks it against
the ungrouped loop, ``engine.CELL_GROUPS = False``).

Scope (engine.TorchSimulation._run_chunk forms groups per chunk):

- only outside autograd (``buffers.grad`` False) and for chunks of at least ``MIN_STEPS`` steps
  (forming a group and writing it back costs about one step's worth of calls);
- members: no pending parameters (``set_parameters`` between runs: left out for that chunk), no
  trainable bias, lowering parameters a NamedTuple of Python numbers (a tensor field: no
  grouping), state a NamedTuple of ``[batch, n]`` tensors; at least 2 members per group;
- the group holds the concatenated member states for the chunk; at its end (also on an error)
  each member's ``sim.state[label]`` gets *clones* of its columns (a checkpoint saves
  ``sim.state``: a view would save the group's whole storage). Nothing reads ``sim.state`` within
  a chunk (mechanisms keep their own state and act through the hooks).

Per step: the members' ring-buffer slots are concatenated into a preallocated buffer (fixed point:
one ``ring_input`` after the concatenation when every member has the same integer shifts — it is
elementwise — else each member's slot converted at its own shifts first); extra currents and
threshold shifts (the mechanisms' hooks, read every step) are ``None`` / the scalar threshold
when no member has one, else concatenated with zeros / the member's own threshold for the
others. A hook whose dtype is not the simulation's (concatenation would promote the others'
arithmetic) dissolves the group: its members are stepped separately from then on.
"""
from __future__ import annotations

import torch

from . import fixed_point

MIN_STEPS = 2   # chunks shorter than this are stepped population by population


def _scalars(params) -> bool:
    """Whether a lowering's parameters are a NamedTuple of plain Python numbers (== compares
    values, and every element sees the same numbers)."""
    return hasattr(params, "_fields") and all(isinstance(x, (int, float)) for x in params)


def _columns(state, batch: int, n: int) -> bool:
    """Whether a state is a NamedTuple of ``[batch, n]`` tensors (concatenable along dim 1)."""
    return hasattr(state, "_fields") and all(isinstance(x, torch.Tensor) and tuple(x.shape) == (batch, n)
                                             for x in state)


def form_groups(sim, steps: int) -> list:
    """The plan of a chunk of ``steps`` steps: ``(label, _Population)`` for each population stepped
    alone and ``(None, CellGroup)`` for each group (at its first member's place)."""
    plan = list(sim.pops.items())
    if steps < MIN_STEPS or sim.buffers.grad or len(plan) < 2:
        return plan
    from .engine import param_name   # (here: engine imports this module)
    candidates: list = []   # [(lowering, params, [labels])]
    for label, p in plan:
        if (p.pending is not None or param_name(label) in sim.biases
                or not _scalars(p.params) or not _columns(sim.state[label], sim.batch, p.n)):
            continue
        for lowering, params, members in candidates:
            if lowering is p.lowering and params == p.params:
                members.append(label)
                break
        else:
            candidates.append((p.lowering, p.params, [label]))
    groups = {members[0]: members for _, _, members in candidates if len(members) >= 2}
    if not groups:
        return plan
    grouped = {label for members in groups.values() for label in members}
    out = []
    for label, p in plan:
        if label in groups:
            out.append((None, CellGroup(sim, groups[label])))
        elif label not in grouped:
            out.append((label, p))
    return out


def write_back(sim, plan) -> None:
    """Each group's member states into ``sim.state`` (clones of their columns)."""
    for label, g in plan:
        if label is None:
            g.write_back(sim)


class CellGroup:
    """Populations ``labels`` stepped as one (module docstring)."""

    def __init__(self, sim, labels):
        self.labels = list(labels)
        self.pops = [sim.pops[label] for label in self.labels]
        p0 = self.pops[0]
        self.params, self.lowering, self.cell_step = p0.params, p0.lowering, p0.step
        B, dt, dev = sim.batch, sim.dtype, sim.device
        self.batch, self.dtype = B, dt
        self.bounds, n = [], 0
        for p in self.pops:
            self.bounds.append((n, n + p.n))
            n += p.n
        states = [sim.state[label] for label in self.labels]
        self.state = type(states[0])(*(torch.cat(fields, dim=1) for fields in zip(*states)))
        self.dissolved = False
        # this step's (excitatory, inhibitory) slots, concatenated into these
        self.in_exc, self.in_inh = torch.empty(B, n, dtype=dt, device=dev), torch.empty(B, n, dtype=dt, device=dev)
        self.fixed = sim.fixed
        self.shifts = self.shared_shifts = None
        if self.fixed:
            self.shifts = [sim._ring_shifts(label) for label in self.labels]
            plain = all(isinstance(s, int) for member in self.shifts for s, _ in member)
            if plain and all(member == self.shifts[0] for member in self.shifts):
                self.shared_shifts = self.shifts[0]
        # what a member without a hook contributes: zeros (extra current) and its own threshold
        # (the fixed-point lowering reads a tensor threshold as float64 mV: fixed_lif._threshold)
        self.thr_dtype = torch.float64 if self.fixed else dt
        self.zeros = [torch.zeros(B, p.n, dtype=dt, device=dev) for p in self.pops]
        self.thresholds = [torch.full((B, p.n), p.params.threshold, dtype=self.thr_dtype, device=dev) for p in self.pops]
        self.quiet = None   # per member, the spikes of a step without any (see _zeros)
        self.traced = []   # (member index, [(variable, trace entry)]) of the members recorded
        for i, (label, p) in enumerate(zip(self.labels, self.pops)):
            entries = [(var, sim._traces[(label, var)]) for var in p.recordables if (label, var) in sim._traces]
            if entries:
                self.traced.append((i, entries))

    @staticmethod
    def _zeros(spk: torch.Tensor, a: int, b: int) -> torch.Tensor:
        """A member's spikes of a step in which the group did not fire: zeros with the bool mask
        and host answer the event path reads (nothing changes spikes in place)."""
        z = torch.zeros(spk.shape[0], b - a, dtype=spk.dtype, device=spk.device)
        z._fired, z._any = torch.zeros(z.shape, dtype=torch.bool, device=z.device), False
        return z

    def write_back(self, sim) -> None:
        if self.dissolved:
            return
        for label, (a, b) in zip(self.labels, self.bounds):
            sim.state[label] = type(self.state)(*(x[:, a:b].clone(memory_format=torch.contiguous_format)
                                                  for x in self.state))

    def step(self, sim, k: int, spikes: dict) -> None:
        """One step of every member; their spikes into ``spikes`` (views of the group's)."""
        if self.dissolved:
            for label, p in zip(self.labels, self.pops):
                sim._step_population(label, p, k, spikes)
            return
        B, labels = self.batch, self.labels
        extras = [sim.extra_current[label] for label in labels]
        shifts = [sim.threshold_shift[label] for label in labels]
        if any(x is not None and x.dtype != self.dtype for x in extras + shifts):   # (module docstring)
            self.write_back(sim)
            self.dissolved = True
            self.step(sim, k, spikes)
            return
        buffers = sim.buffers
        ex, ih = [], []
        for label in labels:
            e, i = buffers.slot(label, k)
            ex.append(e)
            ih.append(i)
        if self.shifts is None or self.shared_shifts is not None:
            in_exc = torch.cat(ex, dim=1, out=self.in_exc)
            in_inh = torch.cat(ih, dim=1, out=self.in_inh)
            if self.fixed:   # 16-bit saturating slots -> s16.15 input, elementwise: once for all members
                in_exc, in_inh = fixed_point.ring_inputs(in_exc, in_inh, self.shared_shifts)
        else:   # each member's slots at its own receptors' shifts
            parts = [fixed_point.ring_inputs(e, i, shifts) for e, i, shifts in zip(ex, ih, self.shifts)]
            in_exc = torch.cat([e for e, _ in parts], dim=1)
            in_inh = torch.cat([i for _, i in parts], dim=1)
        extra = None
        if any(x is not None for x in extras):
            extra = torch.cat([z if x is None else x.expand(B, z.shape[1]) for x, z in zip(extras, self.zeros)], dim=1)
        thr = self.params.threshold
        if any(s is not None for s in shifts):   # the engine's thr + shift per member (the same adds)
            thr = torch.cat([t if s is None else (thr + s).expand(B, t.shape[1]).to(self.thr_dtype)
                             for s, t in zip(shifts, self.thresholds)], dim=1)
        spk, new, seen = self.cell_step(self.params, self.state, in_exc, in_inh, extra, thr, sim._fire)
        for label in labels:
            buffers.clear(label, k)
        for i, entries in self.traced:
            a, b = self.bounds[i]
            part = None
            for var, entry in entries:
                if k % entry[0] == 0:
                    if part is None:
                        part = type(seen)(*(x[:, a:b] for x in seen))
                    entry[1].append(self.lowering.record(self.params, part, var).detach())
        self.state = new
        # each member's spikes: a view of the group's with its own slice of the bool mask and its
        # own host answer (cells/common.reset), which the event path reads instead of kernels
        fired = getattr(spk, "_fired", None)
        known = getattr(spk, "_any", None)
        if known is False:   # no member fired (most steps): each member's zeros, made once per chunk
            if self.quiet is None or self.quiet[0].dtype != spk.dtype:
                self.quiet = [self._zeros(spk, a, b) for a, b in self.bounds]
            for label, z in zip(labels, self.quiet):
                spikes[label] = z
            return
        for label, (a, b) in zip(labels, self.bounds):
            s = spk[:, a:b]
            if fired is not None:
                f = fired[:, a:b]
                s._fired = f
                if known is not None:
                    s._any = bool(f.any()) if known else False
            spikes[label] = s
