"""Tsodyks–Markram short-term plasticity on sparse synapses: NEST 3.10's ``tsodyks_synapse``
(what PyNN 0.13 maps ``TsodyksMarkramSynapse`` to), event-driven and vectorised over the event
synapses of a step.

Per synapse: utilisation ``u``, available resources ``x``, active resources ``y`` (initially
``u = 0, x = 1, y = 0``) and the stamp of its last pre spike (initially 0). At a pre spike, with
``h`` the time since the synapse's last pre spike [ms] and ``tau_psc`` the post cell's ``tau_syn``
of the projection's receptor (PyNN copies it into the NEST synapse):

    Puu = exp(-h/tau_facil)  (0 when tau_facil = 0)     Pyy = exp(-h/tau_psc)
    Pzz = exp(-h/tau_rec)    Pxy = ((Pzz-1)·tau_rec - (Pyy-1)·tau_psc) / (tau_psc - tau_rec)
    Pxz = 1 - Pzz            z = 1 - x - y
    u ← u·Puu;  x ← x + Pxy·y + Pxz·z;  y ← y·Pyy        (exact propagation since the last spike)
    u ← u + U·(1 - u);  Δ = u·x;  x ← x - Δ;  y ← y + Δ
    transmitted weight = w·Δ

(established on NEST 3.10 with its weight_recorder: regular, Poisson-like and burst trains, four
parameter sets, agreement to 7e-16). The stored weight ``W`` never changes. The state is kept in
float64 whatever the simulation's dtype; what is transmitted is cast to it.
"""
from __future__ import annotations


import torch

from neuromorph.errors import UnsupportedError

from ..synapses import SynapseTable, flat2


class ShortTermSynapses:
    #: tensors a checkpoint saves and restores
    STATE_ATTRS = ("W", "u", "x", "y", "last")

    def __init__(self, label: str, table: SynapseTable, rule, profile, dt: float, batch: int, device, dtype,
                 shift: int | None):
        self.label, self.table = label, table
        if profile.board_weights:
            raise UnsupportedError(f"projection {label!r}: TsodyksMarkram has no fixed-point (board) lowering; "
                                   f"numerics={profile.name!r} is refused")
        self.rule = rule
        self.U, self.tau_rec, self.tau_facil = float(rule.U), float(rule.tau_rec), float(rule.tau_facil)
        self.dt, self.batch, self.device, self.dtype, self.shift = float(dt), batch, device, dtype, shift
        self.n_pre, self.n_post = table.n_pre, table.n_post
        self.tau_psc = None   # the post cell's tau_syn: the engine calls bind() once it knows the target
        self.set_weights(torch.as_tensor(table.weights0, dtype=torch.float64, device=device).expand(batch, -1))
        self.reset_traces()

    def bind(self, celltype, receptor: str):
        """Take ``tau_psc`` from the post cell type's ``tau_syn_E`` / ``tau_syn_I`` (as PyNN does
        for NEST)."""
        self.tau_psc = self.rule.tau_psc(celltype, receptor, self.label)

    # -- weights ----------------------------------------------------------------------------
    def set_weights(self, w: torch.Tensor):
        """w: magnitudes [batch, nsyn] in weight units (the stored, not the transmitted, weights)."""
        self.W = w.to(self.device, torch.float64).to(self.dtype).clone()

    def weights(self) -> torch.Tensor:
        """Stored weights in weight units ``[batch, nsyn]`` (short-term plasticity leaves them)."""
        return self.W

    def state_tensors(self) -> list[torch.Tensor]:
        """The tensors whose change a step makes (restore them to undo it)."""
        return [self.u, self.x, self.y, self.last]

    # -- state ------------------------------------------------------------------------------
    def reset_traces(self):
        shape, dev = (self.batch, self.table.nsyn), self.device
        self.u = torch.zeros(shape, dtype=torch.float64, device=dev)
        self.x = torch.ones(shape, dtype=torch.float64, device=dev)
        self.y = torch.zeros(shape, dtype=torch.float64, device=dev)
        self.last = torch.zeros(shape, dtype=torch.int64, device=dev)   # stamp of the last pre spike

    def record_post(self, u: int, spk, any_spike=None):
        """Post spikes play no part in short-term plasticity."""

    def post_arrivals(self, u: int):
        """Post spikes play no part in short-term plasticity."""

    def pre_spikes(self, u: int, spk: torch.Tensor, events=None):
        """spk: [batch, n_pre] bool. Propagate and update the event synapses' (u, x, y) to stamp
        ``u``; returns ``(post, transmitted weight)`` of the events' synapses, or None."""
        if self.tau_psc is None:
            raise UnsupportedError(f"projection {self.label!r}: TsodyksMarkram needs the post cell's tau_syn "
                                   "(ShortTermSynapses.bind was not called)")
        bb, syn = events if events is not None else self.table.fan_out_events(spk)
        if not syn.numel():
            return None
        idx = flat2(self.u, bb, syn)
        uu = self.u.view(-1).index_select(0, idx)
        x = self.x.view(-1).index_select(0, idx)
        y = self.y.view(-1).index_select(0, idx)
        last = self.last.view(-1).index_select(0, idx)
        h = u * self.dt - last.to(torch.float64) * self.dt          # t_spike − t_last [ms], as NEST's difference
        Pyy = torch.exp(-h / self.tau_psc)
        Pzz = torch.exp(-h / self.tau_rec)
        Pxy = ((Pzz - 1.0) * self.tau_rec - (Pyy - 1.0) * self.tau_psc) / (self.tau_psc - self.tau_rec)
        z = 1.0 - x - y
        uu = uu * torch.exp(-h / self.tau_facil) if self.tau_facil > 0 else torch.zeros_like(uu)
        x = x + Pxy * y + (1.0 - Pzz) * z
        y = y * Pyy
        uu = uu + self.U * (1.0 - uu)
        delta = uu * x
        x = x - delta
        y = y + delta
        self.u.view(-1).index_copy_(0, idx, uu)
        self.x.view(-1).index_copy_(0, idx, x)
        self.y.view(-1).index_copy_(0, idx, y)
        self.last.view(-1).index_fill_(0, idx, u)
        w = self.W.view(-1).index_select(0, flat2(self.W, bb, syn))
        post = self.table.post.index_select(0, syn)
        return post, (w.to(torch.float64) * delta).to(self.dtype)

