"""Refuse a network that will not fit before allocating it (issue: a 100k-neuron network at
p = 0.1 needs ~1 B synapses; torch would fail deep inside an allocation).

The estimate counts what the engine allocates per synapse and per neuron (bytes):

- every synapse: pre, post, delay (int64: 24) + static weights (dtype; per trial if batched
  per-trial weights are set later — counted once) + the plasticity column index (8); static
  synapses also their padded rows (~30);
- plastic synapses: committed and pending weight per trial (2 × 8 × batch) and, at most, their padded
  (delay, post) rows (12 per entry, ≤ 1.5 entries per synapse and ≤ 2^24 entries per projection:
  plasticity/stdp.py COL_PAD_WASTE, COL_PAD_MAX);
- a dense static projection: n_pre·n_post weights (dtype);
- every neuron: ring buffers (2 receptors × ring slots × batch × dtype; slots as the engine
  takes them, ``synapses.ring_slots``) + state (~5 tensors × batch × 8).

Each ``run(ms)`` is checked again before it allocates anything (:func:`check_run`): what the run
will add to the recordings — state-variable traces (samples × batch × n × 8 bytes per variable),
weight history (samples × (batch or 1) × nsyn × 8), plus ``ROW_BYTES`` per stored sample (each is
a small torch tensor in a list: ~560 bytes measured), the boolean spike buffer of one chunk
(``min(CHUNK, steps)`` × batch × n) and, for ``forward``, the collected output spikes. The run
length itself allocates nothing up front, so an unrecorded network may run for any length.
Recorded spike *events* (24 bytes per spike) depend on activity and are not counted.

``max_memory`` (bytes, or a string such as ``"8G"``, ``"512MiB"``) replaces the available memory
as the budget: the build estimate plus everything recorded so far plus the run's recordings must
fit in it. Without it, the build estimate and each run's new recordings are compared with what
is available at that moment (CUDA's free memory, or the host's MemAvailable).
"""
from __future__ import annotations

import math
import re

import torch

from neuromorph.errors import SimulationError, ValidationError
from neuromorph.network import available_memory

_UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def parse_size(value, what: str = "max_memory") -> int | None:
    """Bytes from an int/float or a string like ``"8G"``, ``"512M"``, ``"1.5GiB"``, ``"100k"``
    (binary units: k = 1024); None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValidationError(f"{what}={value!r} is not a size; give bytes or a string such as '8G'")
    if isinstance(value, (int, float)):
        n = float(value)
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMgGtT]?)(?:i?[bB])?\s*", value)
        if m is None:
            raise ValidationError(f"{what}={value!r:.60} is not a size; give bytes or a number with K, M, G or T (e.g. '8G')")
        n = float(m.group(1)) * _UNITS[m.group(2).lower()]
    else:
        raise ValidationError(f"{what}={value!r:.60} is not a size; give bytes or a string such as '8G'")
    if not math.isfinite(n) or n <= 0:
        raise ValidationError(f"{what}={value!r:.60} must be a positive size (bytes, or e.g. '8G')")
    return int(n)


#: bytes of one recorded row besides its values (each sample is a small torch tensor in a list)
ROW_BYTES = 600


def _gib(n: int) -> str:
    return (f"{n / 2**30:.1f} GiB" if n >= 2**28 else f"{n / 2**20:.1f} MiB" if n >= 2**20
            else f"{n / 2**10:.1f} KiB")


def available_bytes(device) -> int | None:
    """Free memory on the device: CUDA's free memory, or the host's (the description's reading)."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    return available_memory()


def estimate_bytes(net, batch: int, dtype) -> int:
    from .plasticity.stdp import COL_PAD_MAX, COL_PAD_WASTE
    from .synapses import DENSE_FRACTION, DENSE_MAX, DENSE_SMALL, ring_slots
    item = torch.finfo(dtype).bits // 8
    total = 0
    max_delay, several = 1, False
    for proj in net.projections.values():
        conn = net.connectivity(proj)
        n = int(conn.size)
        if n:
            d_max = int(conn.delays.max())
            max_delay, several = max(max_delay, d_max), several or int(conn.delays.min()) != d_max
        total += n * (24 + item + 8)
        if proj.plasticity is not None:
            total += n * 16 * batch + int(min(COL_PAD_WASTE * n + 4096, COL_PAD_MAX)) * 12
        pairs = conn.n_pre * conn.n_post
        if proj.plasticity is None:
            total += n * 30  # padded rows for the event path (~1.2 × 24 bytes per synapse; synapses.PAD_WASTE)
        if proj.plasticity is None and (pairs <= DENSE_SMALL or (n >= DENSE_FRACTION * pairs and pairs <= DENSE_MAX)):
            total += pairs * item
    neurons = sum(p.size for p in net.populations.values())
    total += neurons * batch * (2 * ring_slots(max_delay, several, 2 * batch * neurons * item) * item + 5 * 8)
    return total


def check_fits(net, batch: int, dtype, device, max_memory: int | None = None) -> int:
    """Refuse a build beyond the budget (``max_memory`` or what is available); returns the estimate."""
    need = estimate_bytes(net, batch, dtype)
    have = max_memory if max_memory is not None else available_bytes(device)
    where = f"max_memory={max_memory:,} bytes" if max_memory is not None else "available"
    if have is not None and need > have:
        raise SimulationError(
            f"the network needs about {need / 2**30:.1f} GiB ({need:,} bytes) on {device} (synapse tables, weights, ring "
            f"buffers and state for batch={batch}, {dtype}) but only {have / 2**30:.1f} GiB ({have:,} bytes) is {where}; reduce the network or the batch, "
            "use dtype=torch.float32, or run on a device with more memory"
            + (" (or raise max_memory)" if max_memory is not None else ""))
    return need


def _samples(k0: int, n: int, every: int) -> int:
    """How many k in [k0, k0 + n) are multiples of ``every``."""
    return (k0 + n - 1) // every - (k0 - 1) // every if n > 0 else 0


def run_estimate(sim, n: int) -> dict:
    """Bytes a run of ``n`` steps from ``sim.k`` adds: ``{"traces", "weights", "spike buffers", "outputs"}``."""
    from .engine import CHUNK
    k0, B = sim.k, sim.batch
    sizes = {label: p.size for label, p in sim.net.populations.items()}
    traces = sum(_samples(k0, n, every) * (B * sizes[label] * 8 + ROW_BYTES) for (label, _), (every, _) in sim._traces.items())
    weights = 0
    for label, (every, _, _) in sim._weights.items():
        rows = B if label in sim.plastic else int(sim.static[label].W.shape[0])
        weights += _samples(k0, n, every) * (rows * sim.tables[label].nsyn * 8 + ROW_BYTES)
    spikes = min(CHUNK, n) * B * sum(sizes[label] for label in sim._events)
    item = torch.finfo(sim.dtype).bits // 8
    outputs = n * sum(B * sizes[label] * item + ROW_BYTES for label in (sim._collect or {}))
    return {"traces": traces, "weights": weights, "spike buffers": spikes, "outputs": outputs}


def held_bytes(sim) -> int:
    """Bytes of the traces and weight history recorded so far."""
    total = 0
    for _, rows in sim._traces.values():
        total += sum(r.numel() * r.element_size() + ROW_BYTES for r in rows)
    for _, _, rows in sim._weights.values():
        total += sum(r.numel() * r.element_size() + ROW_BYTES for r in rows)
    return total


def check_run(sim, n: int, ms: float) -> None:
    """Refuse a run whose recordings will not fit, before it allocates anything (module doc)."""
    parts = run_estimate(sim, n)
    need = sum(parts.values())
    if need == 0:
        return
    max_memory = getattr(sim, "max_memory", None)
    if max_memory is not None:
        base = getattr(sim, "build_bytes", 0) + held_bytes(sim)
        have, where = max_memory - base, (f"left of max_memory={max_memory:,} bytes after the network and recordings so far "
                                          f"({_gib(base)})")
    else:
        have, where = available_bytes(sim.device), f"available on {sim.device}"
    if have is None or need <= have:
        return
    shown = ", ".join(f"{k} {_gib(v)}" for k, v in parts.items() if v)
    raise SimulationError(
        f"run({ms:g} ms): its recordings need about {_gib(need)} ({shown}) but only {_gib(max(have, 0))} is {where}; "
        "run a shorter time (and read the results between runs), record every k steps (net.record(..., every=k)), "
        "or record fewer variables or populations")
