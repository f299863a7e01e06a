"""Pre-flight checks of a network against a SpiNNaker board, before sPyNNaker maps it.

sPyNNaker stores the synapses of one pre-synaptic neuron onto one post-synaptic core as a *row*;
its master population table accepts rows of at most 256 words (sPyNNaker 7.4.1
``POP_TABLE_MAX_ROW_LENGTH``), i.e. 256 static or 254 plastic (pair/nearest STDP) synapses. A
longer row makes sPyNNaker raise deep inside mapping; we refuse it here with the projection, the
row and the fix. Delays longer than 16 steps go to extra delayed rows, one per 16-step stage (we
count per stage). Core counts are an estimate (one core per ``neurons_per_core`` neurons of each
population); the authoritative numbers come from sPyNNaker's own placement (``sim.resources()``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neuromorph.errors import UnsupportedError

from .boards import BoardProfile, load_board

#: delays handled by the neuron core's own ring buffer; longer ones use delay-extension stages
DELAY_STAGE_STEPS = 16


@dataclass
class RowReport:
    """The longest row of one projection [synapses], where it is, and the row limit."""

    projection: str
    longest_row: int
    pre_neuron: int
    post_core: int
    delay_stage: int
    limit: int
    plastic: bool

    @property
    def ok(self) -> bool:
        return self.longest_row <= self.limit


@dataclass
class PreflightReport:
    """What the network needs of the board: rows per projection and an estimate of cores."""

    board: str
    neurons_per_core: int
    rows: list[RowReport] = field(default_factory=list)
    cores_estimate: int = 0
    cores_available: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def longest_row(pre: np.ndarray, post: np.ndarray, delay_steps: np.ndarray, neurons_per_core: int) -> tuple[int, int, int, int]:
    """``(length, pre, post_core, stage)`` of the longest row [synapses] of a projection given as
    synapse lists: ``pre``, ``post`` neuron indices and ``delay_steps`` (whole steps >= 1), one
    entry per synapse. ``(0, -1, -1, -1)`` for a projection without synapses."""
    pre, post = np.asarray(pre, dtype=np.int64), np.asarray(post, dtype=np.int64)
    if pre.size == 0:
        return 0, -1, -1, -1
    core = post // neurons_per_core
    stage = (np.asarray(delay_steps, dtype=np.int64) - 1) // DELAY_STAGE_STEPS
    n_core = int(core.max()) + 1
    n_stage = int(stage.max()) + 1
    key = (pre.astype(np.int64) * n_core + core) * n_stage + stage
    keys, counts = np.unique(key, return_counts=True)
    best = int(np.argmax(counts))
    k = int(keys[best])
    return int(counts[best]), k // (n_core * n_stage), (k // n_stage) % n_core, k % n_stage


def preflight(net, board: BoardProfile | str = "SpiNN-5", neurons_per_core: int | None = None,
              row_limits: dict[str, int] | None = None, raise_errors: bool = True) -> PreflightReport:
    """Check rows, STDP time step and a core estimate; raise UnsupportedError on the first problem
    (``raise_errors``) or return the report. ``row_limits`` overrides the profile's
    ``{"static": n, "plastic": n}`` (the PyNN backend passes sPyNNaker's own numbers)."""
    profile = board if isinstance(board, BoardProfile) else load_board(board)
    npc = int(neurons_per_core or profile.neurons_per_core_default)
    limits = {"static": profile.max_static_synapses_per_row, "plastic": profile.max_plastic_synapses_per_row}
    limits.update(row_limits or {})
    report = PreflightReport(profile.name, npc, cores_available=profile.application_cores)
    for proj in net.projections.values():
        conn = net.connectivity(proj)
        plastic = proj.plasticity is not None
        length, pre, core, stage = longest_row(conn.pre, conn.post, conn.delays, npc)
        limit = limits["plastic" if plastic else "static"]
        row = RowReport(proj.label, length, pre, core, stage, limit, plastic)
        report.rows.append(row)
        if not row.ok:
            first, last = core * npc, min((core + 1) * npc, net.populations[proj.post].size) - 1
            report.problems.append(
                f"projection {proj.label!r}: a synaptic row holds {length} synapses (pre neuron {pre} onto post neurons "
                f"{first}-{last} of {proj.post!r}); sPyNNaker accepts at most {limit} {'plastic' if plastic else 'static'} "
                f"synapses per row on {profile.name}: pass neurons_per_core={limit} (or fewer) or split {proj.post!r}")
        if plastic and abs(net.dt - profile.stdp_timestep_ms) > 1e-12:
            report.problems.append(
                f"projection {proj.label!r}: STDP on sPyNNaker runs at dt={profile.stdp_timestep_ms:g} ms only, the network has "
                f"dt={net.dt:g} ms: use Network(dt={profile.stdp_timestep_ms:g})")
    report.cores_estimate = int(sum(-(-pop.size // npc) for pop in net.populations.values()))
    if report.cores_estimate > report.cores_available:
        report.problems.append(
            f"network needs about {report.cores_estimate} cores at {npc} neurons per core; {profile.name} has "
            f"{report.cores_available} application cores: use a bigger machine (spalloc) or fewer neurons")
    if raise_errors and report.problems:
        raise UnsupportedError(report.problems[0])
    return report
