"""Refuse a network that will not fit before allocating it (issue: a 100k-neuron network at
p = 0.1 needs ~1 B synapses; torch would fail deep inside an allocation).

The estimate counts what the engine allocates per synapse and per neuron (bytes):

- every synapse: pre, post, delay (int64: 24) + static weights (dtype; per trial if batched
  per-trial weights are set later — counted once) + the plasticity column index (8); static
  synapses also their padded rows (~30);
- plastic synapses: committed and pending weight per trial (2 × 8 × batch);
- a dense static projection: n_pre·n_post weights (dtype);
- every neuron: ring buffers (2 receptors × (max delay + 1) × batch × dtype) + state
  (~5 tensors × batch × 8).
"""
from __future__ import annotations

import os

import torch

from neuromorph.errors import SimulationError


def available_bytes(device) -> int | None:
    """Free memory on the device: CUDA's free memory, or the host's MemAvailable."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def estimate_bytes(net, batch: int, dtype) -> int:
    from .synapses import DENSE_FRACTION, DENSE_MAX, DENSE_SMALL
    item = torch.finfo(dtype).bits // 8
    total = 0
    max_delay = 1
    for proj in net.projections.values():
        conn = net.connectivity(proj)
        n = int(conn.size)
        if n:
            max_delay = max(max_delay, int(conn.delays.max()))
        total += n * (24 + item + 8)
        if proj.plasticity is not None:
            total += n * 16 * batch
        pairs = conn.n_pre * conn.n_post
        if proj.plasticity is None:
            total += n * 30  # padded rows for the event path (~1.2 × 24 bytes per synapse; synapses.PAD_WASTE)
        if proj.plasticity is None and (pairs <= DENSE_SMALL or (n >= DENSE_FRACTION * pairs and pairs <= DENSE_MAX)):
            total += pairs * item
    neurons = sum(p.size for p in net.populations.values())
    total += neurons * batch * (2 * (max_delay + 1) * item + 5 * 8)
    return total


def check_fits(net, batch: int, dtype, device) -> None:
    need = estimate_bytes(net, batch, dtype)
    have = available_bytes(device)
    if have is not None and need > have:
        raise SimulationError(
            f"the network needs about {need / 2**30:.1f} GiB on {device} (synapse tables, weights, ring buffers and state "
            f"for batch={batch}, {dtype}) but only {have / 2**30:.1f} GiB is available; reduce the network or the batch, "
            "use dtype=torch.float32, or run on a device with more memory")
