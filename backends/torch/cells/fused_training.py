"""Fused training steps of the NEST float lowerings (iaf_psc_delta, iaf_psc_exp): one autograd
node per cell step instead of ~25 (arithmetic, ``free_update``'s two ``where``, the spike
function's surrogate pieces, the reset's ``masked_fill``), with the backward written by hand.

Used only while autograd records (training). The forward computes the unfused step's values: its
arithmetic op for op in the same order (so V and the spikes are the same bits; only the sign of a
zero may differ where an addition of 0 is skipped), with the comparison, reset and refractory
bookkeeping written in faster kernels that give the same values. The backward is the derivative
autograd takes of the unfused step; its surrogate part is the simulation's own snnTorch
``spike_grad`` applied to ``v - thr`` exactly as ``make_fire`` (engine.py) builds it and
differentiated by its own backward (node by node for a chain such as ``atan``'s, else
``torch.autograd.grad``). tests/test_training_fused.py compares both with plain autograd of the
unfused steps (float64; gradients to 1e-12 relative). First derivatives only
(``once_differentiable``: asking for a second one raises, where the unfused steps would give it).

Units are the lowerings' (if_curr_delta.py, if_curr_exp.py): V relative to E_L [mV], currents
[pA], input in weight units (nA; mV for iaf_psc_delta's jumps), ``extra`` [nA].
"""
from __future__ import annotations

import weakref

import torch
from torch.autograd.function import once_differentiable


def fused_spike_grad(fire, v, thr, *inputs):
    """The snnTorch surrogate to use in a fused step, or None when the unfused step must run: no
    gradient is recorded, ``fire`` does not say its surrogate (``make_fire`` sets
    ``fire.spike_grad``), or the threshold itself needs a gradient (a trainable threshold shift)."""
    if not torch.is_grad_enabled():
        return None
    spike_grad = getattr(fire, "spike_grad", None)
    if spike_grad is None or (isinstance(thr, torch.Tensor) and thr.requires_grad):
        return None
    if not any(isinstance(x, torch.Tensor) and x.requires_grad for x in (v,) + inputs):
        return None
    return spike_grad


def _surrogate_backward(spike_grad, v_pre, thr, dtype, g_spk):
    """d loss / d v_pre through the spike function: the gradient autograd gives for
    ``spike_grad(v - thr).to(dtype)`` (make_fire's differentiable part) with output gradient
    ``g_spk``."""
    with torch.enable_grad():
        u = (v_pre - thr).requires_grad_()
        out = spike_grad(u).to(dtype)
    g = _chain_vjp(out, u, g_spk)
    if g is None:
        (g,) = torch.autograd.grad(out, u, g_spk)
    return g


def _chain_vjp(out, u, g):
    """The backward of ``out`` with respect to ``u`` when the graph between them is a chain of
    one-input nodes (snnTorch's surrogates: ``ATanBackward`` and the ``to(dtype)`` copy): each
    node's own backward, called in turn, is what the autograd engine would run — without a
    re-entrant engine call (~0.1 ms a step). None for any other graph (the caller asks autograd)."""
    node = out.grad_fn
    while node is not None:
        live = [i for i, (f, _) in enumerate(node.next_functions) if f is not None]
        if len(live) != 1:
            return None
        nxt = node.next_functions[live[0]][0]
        res = node.apply(g) if isinstance(node, torch.autograd.function.BackwardCFunction) else node(g)
        g = res[live[0]] if isinstance(res, (tuple, list)) else res
        if g is None:
            return None
        if type(nxt).__name__ == "AccumulateGrad":   # a leaf: u itself, or the chain left u's graph
            return g if getattr(nxt, "variable", None) is u else None
        node = nxt
    return None


#: refractory counters found all 0 (by identity): with n_ref = 0 the fast path hands the same
#: tensor on, so it is checked once, not every step (no lowering changes counters in place)
_ZERO_COUNTERS: "weakref.WeakValueDictionary[int, torch.Tensor]" = weakref.WeakValueDictionary()


def _all_zero(refrac) -> bool:
    """Whether every counter is 0 — asked on the CPU only (on CUDA it would synchronise)."""
    if _ZERO_COUNTERS.get(id(refrac)) is refrac:
        return True
    if refrac.device.type != "cpu" or bool(refrac.any()):
        return False
    _ZERO_COUNTERS[id(refrac)] = refrac
    return True


def _integrate(v_new, v, refrac, p):
    """free_update (common.py): where not refractory V takes ``v_new``, elsewhere it is kept and
    the counter counts down. Returns (v_pre, refrac, free). With no refractory period (n_ref = 0)
    and no counter left running (from an earlier tau_refrac: set_parameters), every neuron is
    free: ``free`` is None and the two ``where`` are skipped — the same values (on the CPU, where
    asking costs no synchronisation)."""
    if p.n_ref == 0 and _all_zero(refrac):
        return v_new, refrac, None
    free = refrac <= 0
    return torch.where(free, v_new, v), torch.where(free, refrac, refrac - 1), free


def _threshold_and_reset(ctx, v_pre, refrac, free, p, thr, spike_grad):
    """The spike test (``v >= thr``: both simulators spike on equality) and the reset to v_reset
    with n_ref refractory steps where it fired; saves what the backward needs. Returns (spikes,
    v, refrac)."""
    # the same values as (v >= thr).to(dtype) and masked_fill, in kernels that are 2-4x faster on
    # the CPU (a comparison written as floats; where instead of masked_fill)
    fired = v_pre >= thr
    spk = torch.ge(v_pre, thr, out=torch.empty_like(v_pre))
    v_out = torch.where(fired, p.v_reset, v_pre)
    if free is not None:   # (else every counter is 0 and n_ref = 0: the fill changes nothing)
        refrac = refrac.masked_fill(fired, p.n_ref)
    ctx.save_for_backward(fired, v_pre, free)
    ctx.p, ctx.thr, ctx.spike_grad = p, thr, spike_grad
    ctx.mark_non_differentiable(refrac)
    ctx.set_materialize_grads(False)
    return spk, v_out, refrac


def _v_grads(ctx, g_spk, g_v):
    """From the gradients of the step's spikes and new V: the gradients of V before the step
    through the integration (``g_new``, where the neuron was free) and around it (``g_kept``,
    where it was refractory and V was kept). None stands for zero."""
    fired, v_pre, free = ctx.saved_tensors
    g_pre = None
    if g_v is not None:
        g_pre = torch.where(fired, 0.0, g_v)          # the reset's masked_fill
    if g_spk is not None:
        g_sg = _surrogate_backward(ctx.spike_grad, v_pre, ctx.thr, v_pre.dtype, g_spk)
        g_pre = g_sg if g_pre is None else g_pre + g_sg
    if g_pre is None or free is None:
        return g_pre, None
    zero = torch.zeros((), dtype=g_pre.dtype, device=g_pre.device)
    return torch.where(free, g_pre, zero), torch.where(free, zero, g_pre)   # free_update's where


def _plus(a, b):
    return a if b is None else a + b


class NestDeltaStep(torch.autograd.Function):
    """NEST iaf_psc_delta step (if_curr_delta.nest_delta_step) as one autograd node:
    ``(v, in_exc, in_inh, extra, refrac, p, thr, spike_grad) -> (spikes, v, refrac)``."""

    @staticmethod
    def forward(ctx, v, in_exc, in_inh, extra, refrac, p, thr, spike_grad):
        # v_new = P30·ie + P33·v + (in_exc − in_inh)·jump, evaluated as the unfused step does
        # (adding P30·i_offset = 0 or multiplying by jump = 1 changes no value — the sign of a
        # zero at most: skipped)
        if extra is None:
            a = v * p.P33
            c = p.P30 * p.i_offset
            if c != 0.0:
                a = c + a
        else:
            a = p.P30 * (p.i_offset + extra * 1000.0) + v * p.P33
        b = in_exc - in_inh
        if p.jump != 1.0:
            b = b * p.jump
        v_pre, refrac, free = _integrate(a + b, v, refrac, p)
        ctx.has_extra = extra is not None
        return _threshold_and_reset(ctx, v_pre, refrac, free, p, thr, spike_grad)

    @staticmethod
    @once_differentiable
    def backward(ctx, g_spk, g_v, _g_refrac):
        g_new, g_kept = _v_grads(ctx, g_spk, g_v)
        if g_new is None:
            return (None,) * 8
        p, need = ctx.p, ctx.needs_input_grad
        g_v0 = _plus(g_new * p.P33, g_kept) if need[0] else None
        g_b = g_new * p.jump if p.jump != 1.0 else g_new
        g_extra = (g_new * p.P30) * 1000.0 if ctx.has_extra and need[3] else None
        return g_v0, g_b if need[1] else None, -g_b if need[2] else None, g_extra, None, None, None, None


class NestExpStep(torch.autograd.Function):
    """NEST iaf_psc_exp step (if_curr_exp.nest_exp_step) as one autograd node: ``(v, i_exc,
    i_inh, in_exc, in_inh, extra, refrac, p, thr, spike_grad) -> (spikes, v, i_exc, i_inh,
    refrac)``."""

    @staticmethod
    def forward(ctx, v, i_exc, i_inh, in_exc, in_inh, extra, refrac, p, thr, spike_grad):
        # v_new = v·P22 + i_exc·P21e − i_inh·P21i + ie·P20, left to right as the unfused step
        v_new = v * p.P22 + i_exc * p.P21e - i_inh * p.P21i
        if extra is None:
            c = p.i_offset * p.P20
            if c != 0.0:   # adding 0 changes no value (the sign of a zero at most): skipped
                v_new = v_new + c
        else:
            v_new = v_new + (p.i_offset + extra * 1000.0) * p.P20
        v_pre, refrac, free = _integrate(v_new, v, refrac, p)
        i_exc = i_exc * p.P11e + in_exc * 1000.0
        i_inh = i_inh * p.P11i + in_inh * 1000.0
        ctx.has_extra = extra is not None
        spk, v_out, refrac = _threshold_and_reset(ctx, v_pre, refrac, free, p, thr, spike_grad)
        return spk, v_out, i_exc, i_inh, refrac

    @staticmethod
    @once_differentiable
    def backward(ctx, g_spk, g_v, g_ie, g_ii, _g_refrac):
        p, need = ctx.p, ctx.needs_input_grad
        g_new, g_kept = _v_grads(ctx, g_spk, g_v)
        g_v0 = g_ie0 = g_ii0 = g_in_e = g_in_i = g_extra = None
        if g_new is not None:
            g_v0 = _plus(g_new * p.P22, g_kept) if need[0] else None
            g_ie0 = g_new * p.P21e if need[1] else None
            g_ii0 = -(g_new * p.P21i) if need[2] else None
            if ctx.has_extra and need[5]:
                g_extra = (g_new * p.P20) * 1000.0
        if g_ie is not None:
            g_ie0 = (g_ie * p.P11e if g_ie0 is None else g_ie0 + g_ie * p.P11e) if need[1] else None
            g_in_e = g_ie * 1000.0 if need[3] else None
        if g_ii is not None:
            g_ii0 = (g_ii * p.P11i if g_ii0 is None else g_ii0 + g_ii * p.P11i) if need[2] else None
            g_in_i = g_ii * 1000.0 if need[4] else None
        return g_v0, g_ie0, g_ii0, g_in_e, g_in_i, g_extra, None, None, None, None
