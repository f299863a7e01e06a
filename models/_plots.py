"""Report figures of the two paper tasks (matplotlib, Agg backend: no display needed)."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt


def cam_raster(trace: dict, operations: list[dict], cues: int, bits: int, path, title: str = "CA3 CAM") -> Path:
    """All recorded populations of the CAM over time, one band per population, with every
    operation's start marked and labelled."""
    plt = _plt()
    labels = list(trace)
    fig, ax = plt.subplots(figsize=(12, 7))
    base, ticks = 0, []
    sizes = {"CA3cueCueRecall": cues, "CA3cueContRecall": cues, "CA3mergeCue": cues, "OUTcue": cues,
             "CA3contCueRecall": bits, "CA3contContRecall": bits, "CA3contCond": bits,
             "CA3mergeCont": bits, "OUTcont": bits, "CA3contCondInt": 1}
    for k, label in enumerate(labels):
        pts = trace[label]
        n = sizes.get(label, max([i for _, i in pts], default=0) + 1)
        if pts:
            t = np.array([p[0] for p in pts])
            i = np.array([p[1] for p in pts])
            ax.scatter(t, base + i, s=40, marker="|", linewidths=1.2, color=f"C{k % 10}")
        ticks.append((base + (n - 1) / 2, label))
        base += n + 1
        ax.axhline(base - 1, color="0.85", lw=0.5)
    for op in operations:
        ax.axvline(op["t"], color="0.6", ls="--", lw=0.7)
        arg = op.get("cue", "") if op["op"] != "recall_by_content" else op.get("content")
        name = {"learn": "L", "recall_by_cue": "RC", "recall_by_content": "RF"}[op["op"]]
        ax.text(op["t"] + 0.3, base + 0.2, f"{name} {arg}", fontsize=7, va="bottom")
    ax.set_yticks([t for t, _ in ticks], [lab for _, lab in ticks], fontsize=8)
    ax.set_xlabel("time (ms)")
    ax.set_title(title + "  (L = learn, RC = recall by cue, RF = recall by content fragment)", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    from neuromorph.atomic import savefig

    savefig(fig, path, dpi=120)
    plt.close(fig)
    return path


def score_plot(scores: np.ndarray, threshold: float, trained: list[int], detected: list[int], path,
               title: str = "spatial-pattern detector") -> Path:
    """The net input of every test word (h·Σexc − h·Σinh, nA) against the output neuron's
    threshold current; trained words in red, detected words filled."""
    plt = _plt()
    scores = np.asarray(scores, dtype=np.float64)
    words = np.arange(scores.size)
    det = np.zeros(scores.size, dtype=bool)
    det[list(detected)] = True
    fig, ax = plt.subplots(figsize=(11, 4))
    ax.scatter(words[~det], scores[~det], s=3, color="0.6", label="not detected")
    ax.scatter(words[det], scores[det], s=9, color="C0", label="detected")
    ax.scatter(trained, scores[list(trained)], s=40, facecolors="none", edgecolors="C3", label="trained")
    ax.axhline(threshold, color="C3", ls="--", lw=0.8, label=f"threshold {threshold:.4g} nA")
    ax.set_xlabel("test word")
    ax.set_ylabel("net input h·(Σexc − Σinh) (nA)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path = Path(path)
    from neuromorph.atomic import savefig

    savefig(fig, path, dpi=120)
    plt.close(fig)
    return path
