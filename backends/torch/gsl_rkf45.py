"""GSL 1.15's Runge–Kutta–Fehlberg 4(5) (``ode-initval/rkf45.c``, the GSL bundled with the NEST
3.10 wheel), its standard step-size control (``cstd.c``) and its evolve loop (``evolve.c``): what
NEST's ``iaf_cond_exp``, ``aeif_cond_exp`` and ``astrocyte_lr_1994`` integrate with. The exact
float64 values of the tableau's quotients and GSL's operation order matter for bit-identical
results, so every torch lowering that reproduces a GSL-integrated NEST model takes them from here
(cells/if_cond_exp.py, cells/eif_cond_exp.py, mechanisms/astrocyte.py).

The vectorised evolve (:func:`evolve`) runs GSL's loop per neuron: every neuron has its own
sequence of trial sub-steps (a masked loop that ends when every neuron has covered dt), its own
step size carried from one NEST step to the next (NEST's ``IntegrationStep_``), and may run a
hook after each accepted sub-step (``aeif_cond_exp`` detects spikes there).
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np
import torch

AH = (1.0 / 4.0, 3.0 / 8.0, 12.0 / 13.0, 1.0, 1.0 / 2.0)
B3 = (3.0 / 32.0, 9.0 / 32.0)
B4 = (1932.0 / 2197.0, -7200.0 / 2197.0, 7296.0 / 2197.0)
B5 = (8341.0 / 4104.0, -32832.0 / 4104.0, 29440.0 / 4104.0, -845.0 / 4104.0)
B6 = (-6080.0 / 20520.0, 41040.0 / 20520.0, -28352.0 / 20520.0, 9295.0 / 20520.0, -5643.0 / 20520.0)
C1 = 902880.0 / 7618050.0
C3 = 3953664.0 / 7618050.0
C4 = 3855735.0 / 7618050.0
C5 = -1371249.0 / 7618050.0
C6 = 277020.0 / 7618050.0
#: error estimate coefficients (fifth minus fourth order)
EC = (1.0 / 360.0, -128.0 / 4275.0, -2197.0 / 75240.0, 1.0 / 50.0, 2.0 / 55.0)

#: rkf45's order, as the standard control reads it
ORDER = 5
_DBL_MIN = 2.2250738585072014e-308
#: more trial sub-steps than this in one NEST step means the controller is stuck (GSL would go on
#: shrinking h towards 1 ulp of t); refuse instead of looping for ever
MAX_TRIALS = 100_000


class Control(NamedTuple):
    """GSL's standard control ``gsl_odeiv_control_standard_new(eps_abs, eps_rel, a_y, a_dydt)``:
    the tolerated error of component i is ``D_i = eps_rel·(a_y·|y_i| + a_dydt·|h·y'_i|) + eps_abs``."""
    eps_abs: float
    eps_rel: float
    a_y: float
    a_dydt: float

    @property
    def needs_dydt(self) -> bool:
        """Whether D depends on the derivative at the step's end (GSL's ``dydt_out``)."""
        return self.eps_rel != 0.0 and self.a_dydt != 0.0


def control_y(eps_abs: float, eps_rel: float) -> Control:
    """``gsl_odeiv_control_y_new`` (a_y = 1, a_dydt = 0): ``iaf_cond_exp`` uses (1e-3, 0)."""
    return Control(eps_abs, eps_rel, 1.0, 0.0)


def control_yp(eps_abs: float, eps_rel: float) -> Control:
    """``gsl_odeiv_control_yp_new`` (a_y = 0, a_dydt = 1): the ``aeif_*`` models use
    (gsl_error_tol, gsl_error_tol), gsl_error_tol = 1e-6 by default."""
    return Control(eps_abs, eps_rel, 0.0, 1.0)


def rkf45_apply(f: Callable, y: torch.Tensor, h: torch.Tensor, k1: torch.Tensor):
    """GSL ``rkf45_apply`` from the stacked state ``y`` (``[components, batch, n]``) over ``h``
    (``[batch, n]``: one step size per neuron) with the derivative ``k1`` at ``y`` and the
    right-hand side ``f(stacked y) -> stacked dy/dt``: (5th-order solution, error estimate), in
    GSL's operation order."""
    k2 = f(y + (AH[0] * h) * k1)
    k3 = f(y + h * (B3[0] * k1 + B3[1] * k2))
    k4 = f(y + h * (B4[0] * k1 + B4[1] * k2 + B4[2] * k3))
    k5 = f(y + h * (B5[0] * k1 + B5[1] * k2 + B5[2] * k3 + B5[3] * k4))
    k6 = f(y + h * (B6[0] * k1 + B6[1] * k2 + B6[2] * k3 + B6[3] * k4 + B6[4] * k5))
    out = y + h * (C1 * k1 + C3 * k3 + C4 * k4 + C5 * k5 + C6 * k6)
    err = h * (EC[0] * k1 + EC[1] * k3 + EC[2] * k4 + EC[3] * k5 + EC[4] * k6)
    return out, err


def libm_pow(x: torch.Tensor, exponent: float, exact: torch.Tensor | None) -> torch.Tensor:
    """``x**exponent``; where ``exact`` is set, with libm's ``pow`` (Python's math.pow = glibc, as
    GSL calls it; torch.pow differs from it by an ulp for ~2 % of arguments)."""
    y = torch.pow(x, exponent)
    if exact is not None:
        idx = exact.nonzero(as_tuple=True)
        y[idx] = _host_map(lambda v: math.pow(v, exponent), x[idx])
    return y


def _host_map(fn, x: torch.Tensor) -> torch.Tensor:
    """``fn`` (a libm function of one float) of every element of ``x``, on the host, as a tensor
    like ``x`` (numpy buffers: much cheaper than Python lists for large populations)."""
    a = x.detach().to("cpu", torch.float64).numpy().ravel()
    out = np.fromiter(map(fn, a), dtype=np.float64, count=a.size)
    return torch.from_numpy(out).reshape(x.shape).to(dtype=x.dtype, device=x.device)


def libm_exp(x: torch.Tensor) -> torch.Tensor:
    """``exp(x)`` with libm's ``exp`` (math.exp = glibc, what NEST's ``std::exp`` calls) in float64
    on the CPU: torch.exp differs from it by an ulp for ~0.5 % of arguments, which a model with
    ``exp`` in its right-hand side (aeif) would carry into V. Elsewhere (float32, CUDA) torch.exp."""
    if x.dtype != torch.float64 or x.device.type != "cpu" or x.requires_grad:
        return torch.exp(x)
    return _host_map(math.exp, x)


def hadjust(control: Control, y, err, yp, h_old, dt: float, short):
    """GSL ``std_control_hadjust`` (order 5) for trial steps ``h_old`` (``[batch, n]``) that ended
    at the new state ``y`` with error estimate ``err`` and derivative ``yp`` there (``None`` unless
    ``control.needs_dydt``), short of dt where ``short`` is set: (decrease?, suggested h, whether
    every neuron simply completed its step). The suggestion matters only after a decrease or after
    a step shorter than dt (a longer suggestion is cut to what is left of the next step), so only
    those neurons take libm's pow (a host round trip for the few concerned)."""
    with torch.no_grad():
        if control.eps_rel == 0.0:
            # D = 0·(...) + eps_abs = eps_abs exactly for finite y
            ratio = err.detach().abs() / control.eps_abs
        else:
            d0 = control.eps_rel * (control.a_y * y.detach().abs()
                                    + control.a_dydt * (h_old * yp.detach()).abs()) + control.eps_abs
            ratio = err.detach().abs() / d0.abs()
        rmax = torch.clamp(torch.amax(ratio, dim=0), min=_DBL_MIN)
        dec = rmax > 1.1
        inc = rmax < 0.5
        exact = dec | (inc & (h_old < dt))
        use_libm, any_short = torch.stack([exact.any(), short.any()]).tolist()
        if not (use_libm or any_short):
            # every neuron took one full step of dt without a decrease: GSL suggests r·dt with r >= 1,
            # and the next step cuts any suggestion >= dt to dt, so dt itself behaves identically
            return dec, h_old, True
        exact = exact if use_libm else None
        # (a tensor numerator: torch computes ``0.9 / x`` as ``0.9 · (1/x)``, not one IEEE division)
        safety = torch.full_like(rmax, 0.9)
        r_dec = torch.clamp(safety / libm_pow(rmax, 1.0 / ORDER, exact), min=0.2)
        r_inc = torch.clamp(safety / libm_pow(rmax, 1.0 / (ORDER + 1.0), exact), min=1.0, max=5.0)
        h_new = torch.where(dec, r_dec * h_old, torch.where(inc, r_inc * h_old, h_old))
    return dec, h_new, False


def evolve(f: Callable, y: torch.Tensor, h_int: torch.Tensor, dt: float, control: Control,
           on_accept: Callable | None = None, what: str = "the model"):
    """GSL's ``gsl_odeiv_evolve_apply`` looped until every neuron has covered ``(0, dt]`` (NEST's
    ``while (t < step)``), for the stacked state ``y`` (``[components, batch, n]``) with the
    right-hand side ``f(stacked y) -> stacked dy/dt`` and each neuron's carried step size ``h_int``
    (``[batch, n]``, ms). A trial step longer than what is left is cut to it; a step the control
    decreases is retried from its start when that moves t by at least 1 ulp. ``on_accept(y, mask)``
    (optional) runs after each accepted sub-step of the neurons in ``mask`` and returns the state
    to continue from (``f`` may read state the hook changes). Returns (y, h_int)."""
    t = torch.zeros_like(h_int)
    h_try = h_int
    active = None
    for _ in range(MAX_TRIALS):
        k1 = f(y)
        rem = dt - t
        final = h_try > rem
        h0 = torch.where(final, rem, h_try)
        out, err = rkf45_apply(f, y, h0, k1)
        yp = f(out) if control.needs_dydt else None
        tn = torch.where(final, torch.full_like(t, dt), t + h0)
        dec, h_new, done = hadjust(control, out, err, yp, h0, dt, tn < dt)
        if active is None and done:  # the usual case: one sub-step of dt for every neuron
            if on_accept is not None:
                out = on_accept(out, torch.ones_like(tn, dtype=torch.bool))
            return out, h_new
        retry = dec & (h_new.abs() < h0.abs()) & (tn + h_new != tn)
        h_new = torch.where(dec & ~retry, h0, h_new)
        accept = ~retry if active is None else active & ~retry
        y = torch.where(accept, out, y)
        if on_accept is not None:
            y = on_accept(y, accept)
        t = torch.where(accept, tn, t)
        h_int = torch.where(accept, h_new, h_int)
        h_try = torch.where(retry, h_new, h_int)
        active = t < dt
        if not bool(active.any()):
            return y, h_int
    raise RuntimeError(f"{what}: the adaptive RKF45 needed more than {MAX_TRIALS} trial steps in one step of "
                       f"{dt} ms; the state is too stiff for the tolerance ({control.eps_abs}, {control.eps_rel})")
