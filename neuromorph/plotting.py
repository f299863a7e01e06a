"""Plots of simulation results (matplotlib with the Agg backend: no display needed).

Imported lazily by the CLI and the demo, so ``import neuromorph`` never imports matplotlib.
Times on every x axis are in ms.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

#: colours of successive populations in a raster (grey first: usually the input)
COLOURS = ("0.55", "tab:blue", "tab:red", "tab:green", "tab:purple", "tab:orange", "tab:brown", "tab:olive")


def pyplot():
    """matplotlib.pyplot on the Agg backend (files only, works on a headless machine)."""
    import matplotlib

    if matplotlib.get_backend().lower() != "agg":
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def raster_axes(ax, groups: Iterable[tuple[str, Sequence[np.ndarray]]], duration_ms: float) -> None:
    """Draw a spike raster on ``ax``: ``groups`` is ``[(label, spikes), ...]`` with ``spikes`` one
    array of spike times [ms] per neuron (``sim.spikes(label)`` for ``batch == 1``). Populations are
    stacked bottom-up in the given order, one row per neuron, each in its own colour and named on
    the right."""
    offset = 0
    for k, (label, spikes) in enumerate(groups):
        times = [np.asarray(t, dtype=float).ravel() for t in spikes]
        if times:
            xs = np.concatenate(times)
            ys = np.concatenate([np.full(len(t), offset + i, dtype=float) for i, t in enumerate(times)])
            ax.scatter(xs, ys, s=3, marker="|", linewidths=0.7, color=COLOURS[k % len(COLOURS)], rasterized=True)
        ax.text(1.01, offset + max(len(times), 1) / 2 - 0.5, label, va="center", fontsize=9,
                transform=ax.get_yaxis_transform())
        if k:
            ax.axhline(offset - 0.5, color="0.85", linewidth=0.6)
        offset += len(times)
    ax.set_xlim(0, duration_ms)
    ax.set_ylim(-0.5, max(offset, 1) - 0.5)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron")


def raster(groups: Iterable[tuple[str, Sequence[np.ndarray]]], duration_ms: float, path: str | Path,
           title: str = "", dpi: int = 110) -> Path:
    """Write a spike raster PNG of ``groups`` (see :func:`raster_axes`) to ``path``."""
    plt = pyplot()
    groups = [(label, list(spikes)) for label, spikes in groups]
    total = sum(len(s) for _, s in groups)
    fig, ax = plt.subplots(figsize=(9, 2.5 + min(6.0, total / 40.0)))
    raster_axes(ax, groups, duration_ms)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    path = Path(path)
    from .atomic import savefig

    savefig(fig, path, dpi=dpi)
    plt.close(fig)
    return path
