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


#: at most this many rows in a raster get one tick (and one label) per neuron
TICK_EVERY_NEURON = 24


def raster_axes(ax, groups: Iterable[tuple[str, Sequence[np.ndarray]]], duration_ms: float) -> None:
    """Draw a spike raster on ``ax``: ``groups`` is ``[(label, spikes), ...]`` with ``spikes`` one
    array of spike times [ms] per neuron (``sim.spikes(label)`` for ``batch == 1``). Populations are
    stacked bottom-up in the given order, one row per neuron, each in its own colour and named on
    the right. Markers grow as the rows get fewer (a 2-neuron raster shows bars, not dots); the
    neuron axis has integer ticks, and with at most ``TICK_EVERY_NEURON`` rows one tick per neuron
    labelled with its index in its population."""
    from matplotlib.ticker import MaxNLocator

    groups = [(label, [np.asarray(t, dtype=float).ravel() for t in spikes]) for label, spikes in groups]
    rows = max(sum(len(t) for _, t in groups), 1)
    # the axis is about 150-400 points high: make a marker about 70 % of a row, within limits
    height = 0.7 * max(150.0, min(400.0, 150.0 + rows)) / rows
    size, width = float(np.clip(height, 2.0, 14.0)) ** 2, (1.6 if rows <= 40 else 0.8)
    offset, ticks, tick_labels = 0, [], []
    for k, (label, times) in enumerate(groups):
        if times:
            xs = np.concatenate(times)
            ys = np.concatenate([np.full(len(t), offset + i, dtype=float) for i, t in enumerate(times)])
            ax.scatter(xs, ys, s=size, marker="|", linewidths=width, color=COLOURS[k % len(COLOURS)],
                       rasterized=rows > 200)
        ticks.extend(range(offset, offset + len(times)))
        tick_labels.extend(str(i) for i in range(len(times)))
        ax.text(1.01, offset + max(len(times), 1) / 2 - 0.5, label, va="center", fontsize=9,
                transform=ax.get_yaxis_transform())
        if k:
            ax.axhline(offset - 0.5, color="0.85", linewidth=0.6)
        offset += len(times)
    ax.set_xlim(0, duration_ms)
    ax.set_ylim(-0.5, max(offset, 1) - 0.5)
    if 0 < offset <= TICK_EVERY_NEURON:
        ax.set_yticks(ticks, tick_labels, fontsize=8 if offset > 12 else 9)
    else:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron")


def raster(groups: Iterable[tuple[str, Sequence[np.ndarray]]], duration_ms: float, path: str | Path,
           title: str = "", dpi: int = 110, note: str = "") -> Path:
    """Write a spike raster PNG of ``groups`` (see :func:`raster_axes`) to ``path``; ``note``, when
    given, is written across the axes (e.g. why the raster is empty)."""
    plt = pyplot()
    groups = [(label, list(spikes)) for label, spikes in groups]
    total = sum(len(s) for _, s in groups)
    fig, ax = plt.subplots(figsize=(9, 2.5 + min(6.0, total / 40.0)))
    raster_axes(ax, groups, duration_ms)
    if title:
        ax.set_title(title)
    if note:
        import textwrap

        ax.text(0.5, 0.5, textwrap.fill(note, 90), transform=ax.transAxes, ha="center", va="center",
                fontsize=9, color="0.25", bbox={"boxstyle": "round", "facecolor": "#fff6d5", "edgecolor": "0.6"})
    fig.tight_layout()
    path = Path(path)
    from .atomic import savefig

    savefig(fig, path, dpi=dpi)
    plt.close(fig)
    return path


#: at most this many neurons of a trace are drawn one line each; more are drawn as mean and range
TRACE_LINES = 10


def _save(fig, path, dpi):
    plt = pyplot()
    fig.tight_layout()
    path = Path(path)
    from .atomic import savefig

    savefig(fig, path, dpi=dpi)
    plt.close(fig)
    return path


def traces(panels: Sequence[tuple[str, str, np.ndarray, np.ndarray, str]], path: str | Path, title: str = "",
           dpi: int = 110, duration_ms: float | None = None) -> Path:
    """Write recorded state traces as a PNG, one panel per ``(label, variable, times_ms,
    values [steps, n], unit)``: one line per neuron for up to ``TRACE_LINES`` neurons, else the
    mean over the neurons with the min-max range shaded."""
    plt = pyplot()
    panels = list(panels)
    if not panels:
        raise ValueError("traces: nothing to plot")
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 1.0 + 2.0 * len(panels)), sharex=True, squeeze=False)
    for ax, (label, var, times, values, unit) in zip(axes[:, 0], panels):
        times = np.asarray(times, dtype=float)
        values = np.asarray(values, dtype=float).reshape(len(times), -1)
        n = values.shape[1]
        if n <= TRACE_LINES:
            for i in range(n):
                ax.plot(times, values[:, i], lw=1.0, label=f"{label}[{i}]")
            if n > 1:
                ax.legend(fontsize=7, ncol=min(n, 5), loc="upper right")
        else:
            ax.fill_between(times, values.min(1), values.max(1), color="tab:blue", alpha=0.25, lw=0,
                            label=f"range over {n} neurons")
            ax.plot(times, values.mean(1), color="tab:blue", lw=1.0, label="mean")
            ax.legend(fontsize=7, loc="upper right")
        ax.set_ylabel(f"{label} {var}" + (f" ({unit})" if unit else ""))
    return _finish_panels(fig, axes, path, dpi, duration_ms, title)


def weights(histories: Sequence[tuple[str, np.ndarray, np.ndarray, str]], path: str | Path, title: str = "",
            dpi: int = 110, duration_ms: float | None = None) -> Path:
    """Write the evolution of recorded weights as a PNG, one panel per ``(projection label,
    times_ms, weights [samples, n_synapses], unit)``: the mean over the synapses, with the
    min-max range shaded (NaN entries, i.e. absent synapses, ignored)."""
    plt = pyplot()
    histories = list(histories)
    if not histories:
        raise ValueError("weights: nothing to plot")
    fig, axes = plt.subplots(len(histories), 1, figsize=(9, 1.0 + 2.0 * len(histories)), sharex=True, squeeze=False)
    for k, (ax, (label, times, w, unit)) in enumerate(zip(axes[:, 0], histories)):
        times = np.asarray(times, dtype=float)
        w = np.asarray(w, dtype=float).reshape(len(times), -1)
        colour = COLOURS[1 + k % (len(COLOURS) - 1)]
        if w.shape[1] and len(times):
            with np.errstate(all="ignore"):
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    lo, mean, hi = np.nanmin(w, 1), np.nanmean(w, 1), np.nanmax(w, 1)
            ax.fill_between(times, lo, hi, color=colour, alpha=0.25, lw=0, label="min-max")
            ax.plot(times, mean, color=colour, lw=1.2, marker="." if len(times) <= 30 else None,
                    label=f"mean of {w.shape[1]} synapses")
            ax.legend(fontsize=7, loc="best")
        ax.set_ylabel(f"{label}\nweight ({unit})")
    return _finish_panels(fig, axes, path, dpi, duration_ms, title)


def _finish_panels(fig, axes, path, dpi: int, duration_ms, title: str) -> Path:
    """Time axis, title and save for a column of panels sharing the time axis (ms)."""
    axes[-1, 0].set_xlabel("time (ms)")
    if duration_ms:
        axes[-1, 0].set_xlim(0, duration_ms)
    if title:
        axes[0, 0].set_title(title)
    return _save(fig, path, dpi)


def _trial0(x, batch: int):
    x = np.asarray(x)
    return x[0] if batch > 1 else x


def run_figures(sim, traces_path: str | Path, weights_path: str | Path, title: str = "") -> list[Path]:
    """The plots of ``neuromorph run --plot`` besides the raster: every recorded state variable
    (``v``, ``isyn_exc``, ...; trial 0 when batched) into ``traces_path`` and the weight evolution
    of every projection recorded with ``"weights"`` into ``weights_path``. Returns the paths
    written (none for what the network does not record)."""
    net = sim.net
    batch = int(getattr(sim, "batch", 1) or 1)
    units = {"v": "mV", "isyn_exc": "nA", "isyn_inh": "nA", "u": "mV/ms"}
    panels, hist, done = [], [], []
    for rec in net.recordings:
        for var in rec.variables:
            if var == "spikes":
                continue
            if var == "weights":
                proj = net.projections[rec.target]
                times, _pre, _post, w = sim.weight_history(rec.target, format="list")
                if np.asarray(w).size == 0 or len(times) == 0:
                    continue
                ct = net.populations[proj.post].celltype
                hist.append((rec.target, np.asarray(times, dtype=float), _trial0(w, batch),
                             "mV" if getattr(ct, "weight_units", "nA") == "mV" else "nA"))
                continue
            values = _trial0(sim.trace(rec.target, var), batch)
            if values.size == 0:  # nothing ran (e.g. a virtual SpiNNaker board)
                continue
            values = values.reshape(values.shape[0], -1)
            times = np.arange(values.shape[0]) * rec.every * net.dt
            panels.append((rec.target, var, times, values, units.get(var, "")))
    suffix = " (trial 0)" if batch > 1 else ""
    if panels:
        done.append(traces(panels, traces_path, title=(title + suffix) if title else "", duration_ms=sim.time))
    if hist:
        done.append(weights(hist, weights_path, title=(title + suffix) if title else "", duration_ms=sim.time))
    return done
