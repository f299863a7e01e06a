"""Resource estimate of a network on SpiNNaker, per population, without sPyNNaker installed.

Cores, delay-extension cores and chips follow sPyNNaker 1!7.4.1's partitioning and placement rules
(checked against its virtual-board mapping in tests/test_preflight.py):

- neuron populations: ``ceil(n / neurons_per_core)`` cores (256 by default,
  ``POP_TABLE_MAX_ROW_LENGTH``); ``SpikeSourcePoisson``: ``ceil(n / 500)`` (spike_source_poisson.py
  ``DEFAULT_MAX_ATOMS_PER_CORE``); ``SpikeSourceArray``: one core (its maximum atoms per core is
  the population size unless set);
- delay extensions: a source whose projection has delays beyond the post core's ring buffer
  (``limits.delay_slots``) gets one delay-extension vertex split like the source: as many extra
  cores as the source has;
- chips: cores are placed in order, 15 on the Ethernet chip of each board (the monitor, the extra
  monitor and the packet gatherer take 3 of 18) and 16 on every other chip; a multi-board machine
  of N SpiNN-5 boards has N times the chips and cores.

SDRAM is an *estimate* (bytes per core, the way sPyNNaker sizes its regions, with round numbers
for what we do not model): synaptic matrix = for every incoming projection, every pre neuron and
every delay stage a row of (header + longest row of that projection onto the core) 32-bit words
(header 3 words static, 4 plastic; one word per synapse: static words, or a 16-bit plastic plus a
16-bit fixed half-word), plus ``NEURON_BYTES`` per neuron (parameters and state), plus
``CORE_BYTES`` per core (system, provenance and table regions). Recording is listed separately per
simulated second: 1 bit per neuron per step for spikes (rounded to 32-bit words), 4 bytes per
neuron per step per recorded variable (sPyNNaker reserves it for the planned run on a virtual
board and buffers it out to the host on a real one). The mapping's own SDRAM numbers come back in
``sim.resources()`` after a run on ``pynn:spinnaker``.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

#: spike_source_poisson.py DEFAULT_MAX_ATOMS_PER_CORE
POISSON_ATOMS_PER_CORE = 500
#: estimate: bytes of parameters and state per neuron (an IF_curr_exp has ~20 32-bit words)
NEURON_BYTES = 96
#: estimate: bytes per core for the system, provenance, population-table and recording headers
CORE_BYTES = 32 * 1024
#: row header words (sPyNNaker: static rows 3 words; plastic rows add the pre-synaptic event word)
STATIC_HEADER_WORDS, PLASTIC_HEADER_WORDS = 3, 4
#: bytes per spike time of a SpikeSourceArray and per Poisson-source neuron (8 parameter words)
SPIKE_TIME_BYTES, POISSON_NEURON_BYTES = 4, 32


@dataclass
class PopulationResources:
    """One population on the machine: cores, neurons per core, delay-extension cores, SDRAM."""

    label: str
    kind: str
    neurons: int
    atoms_per_core: int
    cores: int
    delay_extension_cores: int = 0
    sdram_bytes: int = 0
    recording_bytes_per_s: int = 0


@dataclass
class ResourceEstimate:
    """The whole network: per population, totals, and what the machine offers."""

    board: str
    n_boards: int
    neurons_per_core: int
    populations: list[PopulationResources] = field(default_factory=list)
    cores_network: int = 0
    cores_delay_extension: int = 0
    cores_total: int = 0
    cores_available: int = 0
    chips_needed: int = 0
    chips_available: int = 0
    boards_needed: int = 1
    sdram_bytes: int = 0
    sdram_bytes_available: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    def table(self) -> str:
        """A fixed-width table, one line per population, then the totals."""
        head = (f"{'population':<20} {'kind':<18} {'neurons':>9} {'atoms/core':>10} {'cores':>6} {'delay cores':>11} "
                f"{'SDRAM':>10} {'recording/s':>11}")
        lines = ["resources (estimate; hardware/resources.py):", head, "-" * len(head)]
        for p in self.populations:
            rec = _size(p.recording_bytes_per_s) if p.recording_bytes_per_s else "-"
            lines.append(f"{p.label[:20]:<20} {p.kind:<18} {p.neurons:>9} {p.atoms_per_core:>10} {p.cores:>6} "
                         f"{p.delay_extension_cores:>11} {_size(p.sdram_bytes):>10} {rec:>11}")
        lines.append("-" * len(head))
        machine = self.board + (f" × {self.n_boards}" if self.n_boards > 1 else "")
        lines.append(f"cores {self.cores_total} ({self.cores_network} network + {self.cores_delay_extension} delay extension) "
                     f"of {self.cores_available} on {machine}; chips {self.chips_needed} of {self.chips_available}; "
                     f"SDRAM {_size(self.sdram_bytes)} of {_size(self.sdram_bytes_available)}")
        if self.boards_needed > self.n_boards:
            lines.append(f"needs {self.boards_needed} SpiNN-5 boards (a spalloc machine: --board {self.boards_needed})")
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)


def _size(n: int) -> str:
    for unit, k in (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= k:
            return f"{n / k:.1f} {unit}"
    return f"{n} B"


def atoms_per_core(pop, neurons_per_core: int) -> int:
    """Neurons of ``pop`` on one core: neurons ``neurons_per_core``, Poisson sources 500, spike
    source arrays the whole population."""
    ct = pop.celltype
    if not pop.is_source:
        return int(neurons_per_core)
    if hasattr(ct, "spike_times"):
        return max(1, pop.size)
    return POISSON_ATOMS_PER_CORE


def chips_for(cores: int, profile) -> int:
    """Chips that hold ``cores`` network cores placed in order (Ethernet chip first, 15 + 16 + ...)."""
    if cores <= 0:
        return 0
    per_board = profile.network_cores(1)
    full, rest = divmod(cores, per_board)
    chips = full * profile.chips
    if rest:
        first = profile.cores_per_chip_for_network - profile.system_cores_per_ethernet_chip
        chips += 1 + max(0, math.ceil((rest - first) / profile.cores_per_chip_for_network))
    return chips


def _row_words(conn, post_core_of, stage_of, n_cores: int, n_stages: int) -> np.ndarray:
    """Longest row [synapses] per (post core, stage) of one projection: ``[n_cores, n_stages]``."""
    from .limits import key_counts
    if not conn.size:
        return np.zeros((n_cores, n_stages), dtype=np.int64)
    core, stage = post_core_of(conn.post), stage_of(conn.delays)
    key = (conn.pre * n_cores + core) * n_stages + stage
    keys, counts = key_counts(key)
    out = np.zeros(n_cores * n_stages, dtype=np.int64)
    np.maximum.at(out, keys % (n_cores * n_stages), counts)
    return out.reshape(n_cores, n_stages)


def estimate(net, profile, neurons_per_core: int, n_boards: int = 1, slots: dict | None = None) -> ResourceEstimate:
    """Per-population cores, delay-extension cores and SDRAM of ``net`` on ``n_boards`` boards of
    ``profile`` (see the module docstring for the rules and what is estimated)."""
    from .limits import network_delay_slots
    npc = int(neurons_per_core)
    if slots is None:
        slots = network_delay_slots(net, npc)
    rec = {}
    for r in net.recordings:
        if r.target in net.populations:
            rec.setdefault(r.target, []).append(r)
    steps_per_s = 1000.0 / net.dt
    est = ResourceEstimate(profile.name, n_boards, npc)
    delayed_sources: set[str] = set()
    sdram_rows: dict[str, np.ndarray] = {}
    for proj in net.projections.values():
        conn = net.connectivity(proj)
        post = net.populations[proj.post]
        s = slots[proj.post]
        n_cores = -(-post.size // npc)
        d_max = int(conn.delays.max()) if conn.size else 1
        n_stages = -(-d_max // s)
        if n_stages > 1:
            delayed_sources.add(proj.pre)
        longest = _row_words(conn, lambda p: p // npc, lambda d: (d - 1) // s, n_cores, n_stages)
        header = PLASTIC_HEADER_WORDS if proj.plasticity is not None else STATIC_HEADER_WORDS
        n_pre = net.populations[proj.pre].size
        # every pre neuron has a row per stage that has synapses on that core, padded to the longest
        words = np.where(longest > 0, n_pre * (header + longest), 0).sum(axis=1)
        sdram_rows[proj.post] = sdram_rows.get(proj.post, np.zeros(n_cores, dtype=np.int64)) + words * 4
    for label, pop in net.populations.items():
        apc = atoms_per_core(pop, npc)
        cores = -(-pop.size // apc) if pop.size else 0
        ct = pop.celltype
        if pop.is_source:
            kind = "spike source array" if hasattr(ct, "spike_times") else "poisson source"
            if hasattr(ct, "spike_times"):
                per_core = CORE_BYTES + SPIKE_TIME_BYTES * sum(len(r) for r in ct.spike_times) + 8 * pop.size
            else:
                per_core = CORE_BYTES + POISSON_NEURON_BYTES * min(apc, pop.size)
            sdram = per_core * cores
        else:
            kind = type(ct).__name__
            rows = sdram_rows.get(label, np.zeros(cores, dtype=np.int64))
            sdram = int(cores * CORE_BYTES + NEURON_BYTES * pop.size + rows.sum())
        rec_bytes = 0
        for r in rec.get(label, []):
            per_step = sum(4 * math.ceil(pop.size / 32) if v == "spikes" else 4 * pop.size for v in r.variables)
            rec_bytes += int(per_step * steps_per_s / max(1, r.every))
        delay_cores = cores if label in delayed_sources else 0
        est.populations.append(PopulationResources(label, kind, pop.size, min(apc, max(pop.size, 1)), cores, delay_cores,
                                                   int(sdram + delay_cores * 1024), rec_bytes))
    est.cores_network = sum(p.cores for p in est.populations)
    est.cores_delay_extension = sum(p.delay_extension_cores for p in est.populations)
    est.cores_total = est.cores_network + est.cores_delay_extension
    est.cores_available = profile.network_cores(n_boards)
    est.chips_available = profile.chips * n_boards
    est.sdram_bytes = sum(p.sdram_bytes for p in est.populations)
    est.sdram_bytes_available = profile.sdram_bytes_per_chip * est.chips_available
    by_cores = chips_for(est.cores_total, profile)
    by_sdram = math.ceil(est.sdram_bytes / profile.sdram_bytes_per_chip)
    est.chips_needed = max(by_cores, by_sdram)
    per_board = profile.network_cores(1)
    est.boards_needed = max(1, math.ceil(est.cores_total / per_board), math.ceil(est.chips_needed / profile.chips))
    if profile.spinnaker_version != 5 and est.boards_needed > 1:
        est.notes.append(f"more than one {profile.name}: multi-board machines are built of SpiNN-5 boards")
    if n_boards > 1:
        est.notes.append(f"{n_boards} SpiNN-5 boards: cores and chips scale with the boards; sPyNNaker partitions the "
                         "network across them (spalloc allocates single boards or triads of 3)")
    return est
