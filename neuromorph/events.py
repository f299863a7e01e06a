"""Event-camera / event-sensor input through tonic (``tonic==1.7.0``, the ``[events]`` extra).

An event stream is a tonic-style structured array with fields ``x``, ``y`` (optional: a 1-D
sensor has none), ``p`` (polarity) and ``t`` (timestamp in **µs**, as tonic uses). The functions
here turn it into the two inputs a neuromorph spike source takes:

- :func:`events_to_spike_times` → one list of spike times [ms] per neuron, for
  ``net.spike_source(label, times)`` or ``sim.set_spike_times(label, times)`` (a list of streams →
  one such list per trial);
- :func:`events_to_tensor` → a tensor ``[steps, batch, n]`` for ``sim.forward(ms, inputs={label:
  x})`` / ``sim.set_input(label, x)`` on the torch backend.

Conventions:

- **Neuron index.** ``sensor_size = (W, H, P)`` (tonic's order); neuron ``i = (p·H + y)·W + x`` —
  the C-order flattening of ``(p, y, x)``, i.e. of tonic's frames ``[P, H, W]``: all polarity-0
  pixels first, row by row. A 1-D sensor (no ``y`` field) uses ``H = 1``: ``i = p·W + x``.
  ``n = W·H·P`` neurons.
- **Time bins.** Step ``k`` collects the events with ``t0 + k·dt·1000 <= t < t0 + (k+1)·dt·1000``
  [µs] (``dt`` in ms, the network's step; ``t0`` [µs] defaults to 0, so absolute event times are
  kept — tonic's own default is the first event) and becomes spike time ``k·dt`` [ms]. Events
  before ``t0`` or from step ``n_steps`` on are dropped. The binning is tonic's
  :class:`tonic.transforms.ToFrame` with ``time_window = dt·1000`` (µs), ``start_time = t0``.
- **Several events of one neuron in one step** give one spike. ``events_to_tensor(...,
  counts=True)`` keeps the count instead (the torch engine uses input values as given, so a count
  c delivers c times the weight); spike-time lists cannot hold counts (a source emits at most one
  spike per neuron and step).
- **Tensor row vs spike time.** Row ``k`` of the tensor is what the source emits in step ``k`` of
  the run; with the ``spinnaker`` / ``spinnaker-float`` profiles (stamp offset 0) that is exactly
  the spike time ``k·dt`` of the list form, so both paths give the same spikes. Under ``exact``
  (stamp offset 1) row k carries stamp k + 1: list times ``(k+1)·dt`` are the same spikes.

Which tonic transforms to chain before the conversion (``tonic.transforms.Compose([...])``):

=====================================================  ==============================================
``Denoise(filter_time=us)``                            drop isolated (noise) events: an event survives
                                                       when a 4-neighbour pixel fired within
                                                       ``filter_time`` µs before it
``Downsample(spatial_factor=0.5)``                     halve the resolution (x, y floor-divided for
                                                       integer fields): pass the halved
                                                       ``sensor_size`` to the conversion
``Downsample(time_factor=f)``                          rescale time (keep t in µs for the conversion)
``RefractoryPeriod``, ``Decimation``, ``DropEvent``    thin the stream / augment for training
``ToFrame(time_window=dt*1000, ...)``                  what the conversion itself runs (counts per
                                                       step, ``[T, P, H, W]``); use it directly only
                                                       for dense frames outside neuromorph
``ToTimesurface(sensor_size, dt=dt*1000, tau=us)``     analog time surfaces ``[T, P, H, W]`` in [0, 1]:
                                                       not spikes; pass them through
                                                       :func:`frames_to_tensor` as graded inputs
                                                       (``sim.set_input`` uses values as given) or
                                                       threshold them first
=====================================================  ==============================================

``import neuromorph`` does not import tonic; these functions import it when called.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .errors import BackendUnavailableError, ValidationError

__all__ = ["events_to_spike_times", "events_to_tensor", "frames_to_tensor", "n_neurons", "neuron_index",
           "make_events"]

EVENT_DTYPE = np.dtype([("x", np.int16), ("y", np.int16), ("p", np.int8), ("t", np.int64)])
EVENT_DTYPE_1D = np.dtype([("x", np.int16), ("p", np.int8), ("t", np.int64)])


def _tonic():
    try:
        import tonic.transforms  # noqa: F401
        import tonic
    except ImportError:
        raise BackendUnavailableError(
            "event inputs need the tonic package; install the extra: pip install -e \".[events]\" (tonic==1.7.0)") from None
    return tonic


def make_events(x, p, t, y=None) -> np.ndarray:
    """A tonic-style structured event array from columns (``t`` in µs); without ``y`` a 1-D sensor."""
    x, p, t = np.asarray(x).reshape(-1), np.asarray(p).reshape(-1), np.asarray(t).reshape(-1)
    ev = np.zeros(x.size, dtype=EVENT_DTYPE_1D if y is None else EVENT_DTYPE)
    ev["x"], ev["p"], ev["t"] = x, p, t
    if y is not None:
        ev["y"] = np.asarray(y).reshape(-1)
    return ev


def _sensor(owner, sensor_size):
    try:
        size = tuple(int(s) for s in sensor_size)
    except (TypeError, ValueError):
        size = ()
    if len(size) != 3 or any(s < 1 for s in size) or any(s != v for s, v in zip(size, sensor_size)):
        raise ValidationError(f"{owner}: sensor_size={sensor_size!r} must be tonic's (W, H, P), three positive integers")
    return size


def n_neurons(sensor_size) -> int:
    """Neurons a stream of this sensor drives: ``W·H·P``."""
    W, H, P = _sensor("events.n_neurons", sensor_size)
    return W * H * P


def neuron_index(x, y, p, sensor_size):
    """The neuron of pixel (x, y) at polarity p: ``(p·H + y)·W + x`` (module docstring)."""
    W, H, P = _sensor("events.neuron_index", sensor_size)
    return (np.asarray(p) * H + np.asarray(y)) * W + np.asarray(x)


def _check_events(owner, events, size):
    if not isinstance(events, np.ndarray) or events.dtype.names is None:
        raise ValidationError(f"{owner}: give a tonic-style structured event array (fields x, [y,] p, t), "
                              f"got {type(events).__name__}")
    missing = [f for f in ("x", "p", "t") if f not in events.dtype.names]
    if missing:
        raise ValidationError(f"{owner}: the event array lacks field(s) {missing}; tonic's fields are x, y, p, t (t in µs)")
    W, H, P = size
    checks = [("x", W), ("p", P)] + ([("y", H)] if "y" in events.dtype.names else [])
    if "y" not in events.dtype.names and H != 1:
        raise ValidationError(f"{owner}: events without a y field are a 1-D sensor; give sensor_size=(W, 1, P), got H={H}")
    for field, bound in checks:
        v = events[field]
        if v.size and (v.min() < 0 or v.max() >= bound):
            raise ValidationError(f"{owner}: event field {field!r} spans {v.min()}..{v.max()}, outside the sensor's "
                                  f"0..{bound - 1} (sensor_size={size}); did a Downsample change the size?")


def _frames(owner, events, sensor_size, dt, n_steps, t0):
    """Counts ``[n_steps, n]`` per step and neuron, through tonic's ToFrame."""
    tonic = _tonic()
    size = _sensor(owner, sensor_size)
    _check_events(owner, events, size)
    if isinstance(dt, bool) or not isinstance(dt, (int, float, np.integer, np.floating)) or not dt > 0 or not math.isfinite(dt):
        raise ValidationError(f"{owner}: dt={dt!r} must be the network's step in ms (> 0)")
    window = float(dt) * 1000.0
    events = np.sort(events, order="t", kind="stable")          # a copy: ToFrame slices sorted times and may edit p
    if n_steps is None:
        late = events["t"][events["t"] >= t0]
        n_steps = int((late.max() - t0) // window) + 1 if late.size else 0
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 0:
        raise ValidationError(f"{owner}: n_steps={n_steps!r} must be a whole number of steps >= 0")
    n = size[0] * size[1] * size[2]
    if n_steps == 0 or events.size == 0:
        return np.zeros((int(n_steps), n), dtype=np.int64)
    # end_time half a window past the last bin: ToFrame counts floor((end - start - window)/window) + 1
    # slices, which float rounding of n·window could otherwise make n_steps - 1 (the bins are the same)
    frames = tonic.transforms.ToFrame(sensor_size=size, time_window=window, start_time=t0,
                                      end_time=t0 + (n_steps + 0.5) * window)(events)
    frames = np.asarray(frames, dtype=np.int64).reshape(frames.shape[0], -1)   # [T, P·H·W], C order of (p, y, x)
    out = np.zeros((int(n_steps), n), dtype=np.int64)
    m = min(int(n_steps), frames.shape[0])
    out[:m] = frames[:m]
    return out


def _streams(events):
    if isinstance(events, np.ndarray):
        return [events], False
    if isinstance(events, (list, tuple)):
        return list(events), True
    raise ValidationError(f"events: give a structured event array or a list of them (one per trial), got {type(events).__name__}")


def events_to_spike_times(events, sensor_size, dt: float, n_steps: int | None = None, t0: float = 0):
    """Spike times [ms] per neuron from an event stream (module docstring: index order, bins).

    ``events``: one structured array → ``[[times of neuron 0], ...]`` (``n_neurons(sensor_size)``
    lists, for ``net.spike_source``); a list of arrays (one per trial) → one such list per trial
    (for ``sim.set_spike_times`` with ``batch``). Several events of a neuron in one step give one
    spike. ``n_steps`` (default: up to the last event) bounds the steps; ``t0`` [µs] is the event
    time of step 0.
    """
    streams, many = _streams(events)
    out = []
    for ev in streams:
        counts = _frames("events_to_spike_times", ev, sensor_size, dt, n_steps, t0)
        rows = [[] for _ in range(counts.shape[1])]
        for k, i in zip(*np.nonzero(counts)):
            rows[i].append(float(k) * float(dt))
        out.append(rows)
    return out if many else out[0]


def events_to_tensor(events, sensor_size, dt: float, n_steps: int, t0: float = 0, counts: bool = False,
                     dtype=None, device=None):
    """A tensor ``[n_steps, batch, n]`` from an event stream (batch 1) or a list of streams (one per
    trial), for ``sim.forward(n_steps·dt, inputs={label: x})``. 0/1 (one spike per neuron and step)
    unless ``counts=True``. Same bins and neuron order as :func:`events_to_spike_times`."""
    import torch

    streams, _ = _streams(events)
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
        raise ValidationError(f"events_to_tensor: n_steps={n_steps!r} must be a whole number of steps >= 1 (the run's length)")
    frames = [_frames("events_to_tensor", ev, sensor_size, dt, n_steps, t0) for ev in streams]
    x = np.stack(frames, axis=1) if frames else np.zeros((n_steps, 0, n_neurons(sensor_size)), dtype=np.int64)
    if not counts:
        x = np.minimum(x, 1)
    return torch.as_tensor(x, dtype=dtype or torch.float32, device=device)


def frames_to_tensor(frames, dtype=None, device=None):
    """Dense tonic frames (``ToFrame``, ``ToTimesurface``: ``[T, P, H, W]`` or ``[T, P, W]``; or a list
    of them, one per trial) → ``[T, batch, n]`` in this module's neuron order. Values as given:
    clamp or threshold them for 0/1 spikes."""
    import torch

    items = frames if isinstance(frames, (list, tuple)) else [frames]
    arrs = [np.asarray(f, dtype=np.float64) for f in items]
    if not arrs or any(a.ndim < 2 for a in arrs) or len({a.shape for a in arrs}) != 1:
        raise ValidationError("frames_to_tensor: give frames [T, P, H, W] (or a list of equal-shape ones)")
    x = np.stack([a.reshape(a.shape[0], -1) for a in arrs], axis=1)
    return torch.as_tensor(x, dtype=dtype or torch.float32, device=device)
