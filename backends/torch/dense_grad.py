"""The weight gradient of a trainable dense projection as one matrix product per backward pass.

Delivered per step as ``x_k = s_k @ W`` (synapses.deliver's dense branch), autograd's gradient of
W is ``Σ_k s_kᵀ g_k``: one thin product ``[n_pre, batch] @ [batch, n_post]`` per step, each
written out W-sized and added into the sum — at batch 16 a memory-bound loop that costs as much as
the whole forward pass. Here the steps' backward only keeps ``(s_k, g_k)`` and one node upstream
of every step (``WeightGradSink``, which autograd runs after all of them) forms
``[s_1; …; s_K]ᵀ @ [g_1; …; g_K]`` — the same sum, as one GEMM (summed in another order: equal to
autograd's to rounding; tests/test_training_fused.py checks 1e-12 in float64).

The pairs are tagged with the autograd graph task that produced them, so a backward pass that
stops short of the sink (``torch.autograd.grad`` for other inputs) leaves nothing the next one
would pick up.
"""
from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

_task_id = getattr(torch._C, "_current_graph_task_id", None)

#: False where this torch has no graph-task id: deliveries then use plain autograd
AVAILABLE = _task_id is not None
#: weight matrices with fewer entries keep plain autograd: their per-step gradients are small, and
#: a Python autograd node per step costs more than it saves
MIN_ENTRIES = 1 << 16


class WeightGradSink(torch.autograd.Function):
    """``(W [1, n_pre, n_post], stash) -> token`` (a 0-d zero every step's delivery takes as an
    input); its backward is W's gradient from the ``(task, s, g)`` pairs the steps stashed."""

    @staticmethod
    def forward(ctx, w, stash):
        ctx.stash, ctx.shape = stash, w.shape
        return w.new_zeros(())

    @staticmethod
    @once_differentiable
    def backward(ctx, _g):
        task = _task_id()
        mine = [(s, g) for t, s, g in ctx.stash if t == task]
        ctx.stash.clear()   # pairs of another task are left over from a pass that never got here
        if not mine:
            return None, None
        s = torch.cat([p[0] for p in mine])
        g = torch.cat([p[1] for p in mine])
        return (s.t() @ g).view(ctx.shape), None


class DenseDelivery(torch.autograd.Function):
    """``(s [batch, n_pre], W [1, n_pre, n_post], token, stash) -> s @ W[0]`` with the forward
    value of ``s @ W.squeeze(0)``; the backward gives the spikes' gradient ``g @ W[0]ᵀ`` (what
    ``MmBackward`` computes) and stashes ``(s, g)`` for the sink instead of a W-sized gradient."""

    @staticmethod
    def forward(ctx, s, w, token, stash):
        w2 = w.squeeze(0)
        ctx.save_for_backward(s, w2)
        ctx.stash = stash
        return s @ w2

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        s, w2 = ctx.saved_tensors
        g_s = g.mm(w2.t()) if ctx.needs_input_grad[0] else None
        ctx.stash.append((_task_id(), s, g))
        return g_s, None, g.new_zeros(()), None


def deliver_dense(sinks: dict, s: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``s @ W[0]`` for a shared trainable dense ``w`` ``[1, n_pre, n_post]`` while autograd
    records, through the run's sink of ``w`` (``sinks``: ``id(w) -> (w, token, stash)``, kept per
    run by the ring buffers)."""
    entry = sinks.get(id(w))
    if entry is None or entry[0] is not w:
        stash = []
        entry = sinks[id(w)] = (w, WeightGradSink.apply(w, stash), stash)
    return DenseDelivery.apply(s, w, entry[1], entry[2])
