"""Pre-flight checks of a network against a SpiNNaker board, before sPyNNaker maps it.

Every finding names the construct, the value and the fix, and is an *error* (the board, or
sPyNNaker 7.4.1 mapping for it, refuses the network) or a *warning* (it runs, but not as written):

| check | level | what sPyNNaker 7.4.1 does |
|---|---|---|
| ``row`` synaptic row longer than 256 static / 254 plastic synapses | error | ``SynapseRowTooBigException`` while mapping |
| ``stdp-dt`` STDP at dt != 1 ms | error | the plasticity binaries are built for 1 ms ticks |
| ``cores`` more cores than the machine has | error | placement fails |
| ``delay-max`` delay beyond the post core's slots × 9 (8 delay-extension stages) | error | ``DelayExtensionException`` |
| ``delay-stage`` one source projecting with long delays onto posts of different slot counts | error | ``DelayExtensionException`` ("delay per stage is already set") |
| ``s1615`` a parameter (or R = tau_m/cm) outside the s16.15 range | error | encoding overflows at load time |
| ``weight-word`` a word above 0xFFFF at a fixed shift (``check_weight_words``) | error | cannot be stored |
| ``weight-resolution`` ``set_weights`` beyond the loaded range (``reloaded_weight_findings``) | warning | the reload coarsens every projection onto the population |
| ``weight-zero`` a non-zero weight whose 16-bit word rounds to 0 | warning | stores 0: the synapse is silent |
| ``delay-extension`` delays longer than the post core's ring buffer | warning | adds delay-extension cores (listed in the resources) |
| ``ring-buffer`` worst-case input of one tick above the 16-bit ring buffer | warning | the buffer saturates at 0xFFFF |

The row check: sPyNNaker stores the synapses of one pre-synaptic neuron onto one post-synaptic core
as a *row*; its master population table accepts rows of at most 256 words (sPyNNaker 7.4.1
``POP_TABLE_MAX_ROW_LENGTH``), i.e. 256 static or 254 plastic (pair/nearest STDP) synapses. Delays
longer than the post core's ring buffer (``delay_slots``) go to extra delayed rows, one per stage.

The weight and ring-buffer checks use the weight resolution of simulators.md §9.2 (the ring-buffer
shift per post population and receptor) as sPyNNaker 7.4.1 computes it (``board_shift``, checked
against its mapping, with its Poisson bound where delays vary); the torch ``spinnaker`` profile
stores weights at the same shifts. Core counts come from
``hardware/resources.py`` (an estimate; the authoritative numbers come from sPyNNaker's own
placement, ``sim.resources()`` after a run).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from neuromorph.errors import UnsupportedError, ValidationError

from .boards import BoardProfile, load_board

#: delays handled by a 256-neuron core's own ring buffer with two synapse types (kept for callers
#: of ``longest_row``; ``preflight`` computes the slots of each post population, ``delay_slots``)
DELAY_STAGE_STEPS = 16
#: sPyNNaker 7.4.1 utilities/constants.py MAX_RING_BUFFER_BITS: atom, synapse-type and delay bits of a ring-buffer index
MAX_RING_BUFFER_BITS = 14
#: sPyNNaker 7.4.1 DelayExtensionVertex.MAX_SLOTS: stages of one delay extension
MAX_DELAY_STAGES = 8
#: the largest 16-bit synaptic word / ring-buffer entry
WORD_MAX = 0xFFFF
#: s16.15 ``accum``: int32 with 15 fraction bits
S1615_MIN, S1615_MAX = -(2 ** 31) / 2 ** 15, (2 ** 31 - 1) / 2 ** 15
#: sPyNNaker spynnaker.cfg: spikes_per_second (rate assumed for neurons), ring_buffer_sigma
SPIKES_PER_SECOND, RING_BUFFER_SIGMA = 30.0, 5.0
#: spike_source_poisson_machine_vertex.py SLOW_RATE_PER_TICK_CUTOFF
SLOW_RATE_PER_TICK_CUTOFF = 0.01


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
class Finding:
    """One pre-flight result: ``level`` "error" or "warning", a ``code`` (see the module table),
    the ``construct`` it is about and the one-line ``message`` (construct, value, fix)."""

    level: str
    code: str
    construct: str
    message: str


@dataclass
class PreflightReport:
    """What the network needs of the board: findings (errors = ``problems``, ``warnings``), rows
    per projection, ring-buffer shifts, and the resource estimate (``resources``)."""

    board: str
    neurons_per_core: int
    rows: list[RowReport] = field(default_factory=list)
    cores_estimate: int = 0
    cores_available: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    #: (post population, receptor) -> ring-buffer left shift s (weight LSB 2^(s-15))
    shifts: dict = field(default_factory=dict)
    resources: object = None
    n_boards: int = 1

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, level: str, code: str, construct: str, message: str) -> None:
        self.findings.append(Finding(level, code, construct, message))
        (self.problems if level == "error" else self.warnings).append(message)

    def of(self, code: str) -> list[Finding]:
        return [f for f in self.findings if f.code == code]

    def text(self) -> str:
        """The report as ``neuromorph check`` prints it."""
        lines = [f"target: {self.board}" + (f" × {self.n_boards} boards" if self.n_boards > 1 else "")
                 + f", {self.neurons_per_core} neurons per core"]
        for f in self.findings:
            lines.append(f"{f.level}: {f.message}")
        if self.resources is not None:
            lines.append("")
            lines.extend(self.resources.table().splitlines())
        verdict = ("fits" if self.ok else f"does not fit ({len(self.problems)} problem{'s' * (len(self.problems) != 1)})")
        lines.append(f"result: {verdict}; {len(self.warnings)} warning{'s' * (len(self.warnings) != 1)}")
        return "\n".join(lines)


def get_n_bits(n_values: int) -> int:
    """pacman.utilities.utility_calls.get_n_bits: bits to number ``n_values`` values."""
    if n_values <= 0:
        return 0
    if n_values == 1:
        return 1
    return int(math.ceil(math.log2(n_values)))


def network_delay_slots(net, neurons_per_core: int) -> dict[str, int]:
    """:func:`delay_slots` of every population of ``net`` from the longest delay onto it."""
    max_delay: dict[str, int] = {}
    for proj in net.projections.values():
        conn = net.connectivity(proj)
        if conn.size:
            max_delay[proj.post] = max(max_delay.get(proj.post, 1), int(conn.delays.max()))
    return {label: delay_slots(pop.size, max_delay.get(label, 1), int(neurons_per_core))
            for label, pop in net.populations.items()}


def delay_slots(n_post: int, max_delay_steps: int, neurons_per_core: int, n_synapse_types: int = 2) -> int:
    """Delay steps the ring buffer of a post core holds (sPyNNaker 7.4.1
    ``PopulationVertex.max_delay_steps_incoming``): ``min(2^bits(max delay), 2^(14 - atom bits -
    synapse-type bits))``. Longer delays go through delay-extension stages of this many steps."""
    atoms = get_n_bits(min(n_post, neurons_per_core))
    available = 2 ** (MAX_RING_BUFFER_BITS - (atoms + get_n_bits(n_synapse_types)))
    return int(min(2 ** get_n_bits(max(1, int(max_delay_steps))), available))


def key_counts(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(key, return_counts=True)`` without the sort where possible: run lengths when
    ``key`` is already sorted (synapse lists are sorted by (pre, post), so rows without delay
    stages are), a bincount when the key range is small."""
    key = np.asarray(key, dtype=np.int64)
    if key.size == 0:
        return key, np.zeros(0, dtype=np.int64)
    if key.size == 1 or bool(np.all(key[1:] >= key[:-1])):
        starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
        counts = np.diff(np.append(starts, key.size))
        return key[starts], counts
    top = int(key.max())
    if top < 4 * key.size + 1_000_000:
        counts = np.bincount(key, minlength=top + 1)
        keys = np.flatnonzero(counts)
        return keys, counts[keys]
    return np.unique(key, return_counts=True)


def longest_row(pre: np.ndarray, post: np.ndarray, delay_steps: np.ndarray, neurons_per_core: int,
                stage_steps: int = DELAY_STAGE_STEPS) -> tuple[int, int, int, int]:
    """``(length, pre, post_core, stage)`` of the longest row [synapses] of a projection given as
    synapse lists: ``pre``, ``post`` neuron indices and ``delay_steps`` (whole steps >= 1), one
    entry per synapse; delays of ``stage_steps`` or fewer are stage 0. ``(0, -1, -1, -1)`` for a
    projection without synapses."""
    pre, post = np.asarray(pre, dtype=np.int64), np.asarray(post, dtype=np.int64)
    if pre.size == 0:
        return 0, -1, -1, -1
    core = post // neurons_per_core
    stage = (np.asarray(delay_steps, dtype=np.int64) - 1) // int(stage_steps)
    n_core = int(core.max()) + 1
    n_stage = int(stage.max()) + 1
    key = (pre.astype(np.int64) * n_core + core) * n_stage + stage
    keys, counts = key_counts(key)
    best = int(np.argmax(counts))
    k = int(keys[best])
    return int(counts[best]), k // (n_core * n_stage), (k // n_stage) % n_core, k % n_stage


# -- helpers ---------------------------------------------------------------------------------------
def _unit(net, proj) -> str:
    ct = net.populations[proj.post].celltype
    if global_weight_scale(ct) != 1.0:
        return "uS"
    return "mV" if getattr(ct, "weight_units", "nA") == "mV" else "nA"


def global_weight_scale(celltype) -> float:
    """sPyNNaker's global weight scale g of the post cell type's input type: 1024 for conductance
    inputs (µS), 1 for current and delta inputs (input_types/*.py ``get_global_weight_scale``)."""
    return 1024.0 if "cond" in type(celltype).__name__.lower() else 1.0


def _lsb(shift: int, g: float = 1.0) -> float:
    """Value of one 16-bit weight unit in weight units: 2^(s-15) / g."""
    return 2.0 ** (shift - 15) / g


def _lsb_text(shift: int, g: float = 1.0) -> str:
    e = 15 - shift + int(round(math.log2(g)))
    return f"1/{2 ** e}" if e > 0 else f"{2 ** -e}"


def poisson_spikes_per_tick(rate_hz: float, dt_ms: float) -> int:
    """sPyNNaker's ``SpikeSourcePoissonVertex.max_spikes_per_ts``: 1 below 0.01 expected spikes per
    tick, else the 1 - 1/1000 quantile of Poisson(rate·dt) plus 1."""
    lam = float(rate_hz) * dt_ms / 1000.0
    if lam < SLOW_RATE_PER_TICK_CUTOFF:
        return 1
    # quantile by the CDF (no scipy needed); lam is at most 1e6·dt/1000
    target, k, term = 1.0 - 1e-3, 0, math.exp(-lam) if lam < 700 else 0.0
    if term == 0.0:  # large lambda: normal approximation of the quantile
        return int(math.ceil(lam + 3.0902 * math.sqrt(lam))) + 1
    cdf = term
    while cdf < target:
        k += 1
        term *= lam / k
        cdf += term
    return k + 1


def worst_spikes_per_tick(net, pop, emulation: bool = False) -> int:
    """Spikes one neuron of ``pop`` can send in one tick: SpikeSourceArray the most spikes of one
    neuron at one tick; SpikeSourcePoisson on the board the quantile above (its fast sources send
    several spikes per tick), in the torch emulation 1 (a Bernoulli draw per step); neurons 1."""
    ct = pop.celltype
    times = getattr(ct, "spike_times", None)
    if times is not None:
        best = 1
        for row in times:
            if len(row) > 1:
                steps = np.floor(np.asarray(row, dtype=np.float64) / net.dt + 1e-9).astype(np.int64)
                best = max(best, int(np.bincount(steps - steps.min()).max()))
        return best
    if hasattr(ct, "rate") and not emulation:
        return poisson_spikes_per_tick(ct.rate, net.dt)
    return 1


_BOARD = None


def _board():
    """``neuromorph.backends.torch.board`` (the on-board number formats), loaded on its own when the
    torch package is not imported yet: its ``__init__`` imports torch (seconds), board.py needs only
    numpy, and the pre-flight runs for PyNN backends and ``neuromorph check`` too."""
    import sys
    global _BOARD
    name = "neuromorph.backends.torch.board"
    if name in sys.modules:
        return sys.modules[name]
    if _BOARD is None:
        try:
            import importlib.util
            from pathlib import Path

            import neuromorph.backends as backends
            spec = importlib.util.spec_from_file_location("_neuromorph_board_formats",
                                                          Path(backends.__file__).parent / "torch" / "board.py")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            if not hasattr(module, "ring_buffer_shift"):
                raise ImportError("board.py without the shift functions")
            _BOARD = module
        except Exception:  # e.g. board.py grew package-relative imports: import it the normal way
            from neuromorph.backends.torch import board
            return board
    return _BOARD


def _plastic_w_max(proj):
    st = proj.plasticity
    return float(st.weight.w_max) if st is not None and hasattr(st, "weight") else None


# -- the checks ------------------------------------------------------------------------------------
def _check_rows(net, report, profile, npc, limits, slots):
    for proj in net.projections.values():
        conn = net.connectivity(proj)
        plastic = proj.plasticity is not None
        length, pre, core, stage = longest_row(conn.pre, conn.post, conn.delays, npc, slots[proj.post])
        limit = limits["plastic" if plastic else "static"]
        row = RowReport(proj.label, length, pre, core, stage, limit, plastic)
        report.rows.append(row)
        if not row.ok:
            first, last = core * npc, min((core + 1) * npc, net.populations[proj.post].size) - 1
            report.add("error", "row", f"projection {proj.label!r}",
                       f"projection {proj.label!r}: a synaptic row holds {length} synapses (pre neuron {pre} onto post neurons "
                       f"{first}-{last} of {proj.post!r}); sPyNNaker accepts at most {limit} {'plastic' if plastic else 'static'} "
                       f"synapses per row on {profile.name}: pass neurons_per_core={limit} (or fewer) or split {proj.post!r}")
        if plastic and abs(net.dt - profile.stdp_timestep_ms) > 1e-12:
            report.add("error", "stdp-dt", f"projection {proj.label!r}",
                       f"projection {proj.label!r}: STDP on sPyNNaker runs at dt={profile.stdp_timestep_ms:g} ms only, the network has "
                       f"dt={net.dt:g} ms: use Network(dt={profile.stdp_timestep_ms:g})")


def _check_delays(net, report, npc, slots):
    """Delay extensions: stages per projection, the 8-stage limit, one stage length per source."""
    stage_of_source: dict[str, dict[int, str]] = {}
    for proj in net.projections.values():
        conn = net.connectivity(proj)
        if not conn.size:
            continue
        d_max = int(conn.delays.max())
        s = slots[proj.post]
        if d_max <= s:
            continue
        stages = -(-d_max // s) - 1
        where = f"projection {proj.label!r}"
        if d_max > s * (MAX_DELAY_STAGES + 1):
            report.add("error", "delay-max", where,
                       f"{where}: delay {d_max * net.dt:g} ms ({d_max} steps of dt={net.dt:g} ms) is beyond what sPyNNaker maps onto "
                       f"{proj.post!r}: {s} steps on the core plus {MAX_DELAY_STAGES} delay-extension stages of {s} = "
                       f"{s * (MAX_DELAY_STAGES + 1)} steps ({s * (MAX_DELAY_STAGES + 1) * net.dt:g} ms); shorten the delay, use a "
                       f"larger dt, or give {proj.post!r} fewer neurons per core (more ring-buffer slots)")
            continue
        stage_of_source.setdefault(proj.pre, {}).setdefault(s, proj.label)
        report.add("warning", "delay-extension", where,
                   f"{where}: delays up to {d_max * net.dt:g} ms exceed the {s} steps ({s * net.dt:g} ms) the ring buffer of "
                   f"{proj.post!r} holds; sPyNNaker adds {stages} delay-extension stage{'s' * (stages != 1)} on "
                   f"{-(-net.populations[proj.pre].size // _source_npc(net.populations[proj.pre], npc))} extra core(s) for "
                   f"{proj.pre!r} (counted in the resources); keep delays <= {s * net.dt:g} ms to avoid them")
    for pre, by_slots in stage_of_source.items():
        if len(by_slots) > 1:
            labels = ", ".join(f"{lab!r} ({s} steps)" for s, lab in sorted(by_slots.items()))
            report.add("error", "delay-stage", f"population {pre!r}",
                       f"population {pre!r}: its delayed projections {labels} need delay-extension stages of different lengths, "
                       f"which one delay extension of sPyNNaker 7.4.1 cannot serve (DelayExtensionException); give their post "
                       f"populations the same neurons per core / size class, or split {pre!r}")


def _source_npc(pop, npc) -> int:
    from .resources import atoms_per_core
    return atoms_per_core(pop, npc)


def _s1615_values(net):
    """(construct, name, values, unit) of every quantity the board encodes as s16.15."""
    for pop in net.populations.values():
        ct = pop.celltype
        if pop.is_source:
            continue
        params = ct.parameters()
        for name in ("v_rest", "v_reset", "v_thresh", "i_offset", "a", "b", "c", "d"):
            if name in params and isinstance(params[name], (int, float)):
                unit = {"i_offset": "nA", "a": "1/ms", "b": "1/ms", "d": "mV/ms"}.get(name, "mV")
                yield f"population {pop.label!r}", name, np.asarray([params[name]], dtype=np.float64), unit
        if "tau_m" in params and "cm" in params:
            yield f"population {pop.label!r}", "R = tau_m/cm", np.asarray([params["tau_m"] / params["cm"]]), "MΩ"
        for var in getattr(ct, "state_variables", ()):
            if var in pop.initial_values:
                yield f"population {pop.label!r}", f"initial {var}", pop.initial(var), ""
    for proj in net.projections.values():
        st = proj.plasticity
        if st is None:
            continue
        for part in ("timing", "weight"):
            obj = getattr(st, part, None)
            for name in ("A_plus", "A_minus", "w_min", "w_max"):
                if obj is not None and isinstance(getattr(obj, name, None), (int, float)):
                    yield f"projection {proj.label!r}", name, np.asarray([getattr(obj, name)], dtype=np.float64), ""


def _check_s1615(net, report):
    for construct, name, values, unit in _s1615_values(net):
        bad = (values < S1615_MIN) | (values > S1615_MAX)
        if np.any(bad):
            v = float(values[bad][np.argmax(np.abs(values[bad]))])
            report.add("error", "s1615", construct,
                       f"{construct}: {name} = {v:g}{(' ' + unit) if unit else ''} is outside the s16.15 range the board "
                       f"computes in ({S1615_MIN:g} to {S1615_MAX:.5f}); rescale the model (units) so it lies within")


def _check_weights(net, report, shifts):
    """Non-zero weights whose 16-bit word rounds to 0, and words above 0xFFFF."""
    for proj in net.projections.values():
        conn = net.connectivity(proj)
        shift = shifts.get((proj.post, proj.receptor))
        if not conn.size or shift is None:
            continue
        msg = weight_word_findings(net, proj, conn.weights, shift)
        for level, code, text in msg:
            report.add(level, code, f"projection {proj.label!r}", text)


def weight_word_findings(net, proj, weights, shift: int) -> list[tuple[str, str, str]]:
    """``(level, code, message)`` for weights of ``proj`` stored at ring-buffer shift ``shift``:
    an error for a word above 0xFFFF, a warning for non-zero weights that round to word 0."""
    w = np.abs(np.asarray(weights, dtype=np.float64))
    g = global_weight_scale(net.populations[proj.post].celltype)
    lsb = _lsb(shift, g)
    unit = _unit(net, proj)
    words = np.rint(w / lsb)
    out = []
    over = words > WORD_MAX
    if np.any(over):
        top = float(w.max())
        out.append(("error", "weight-word",
                    f"weight {top:g} {unit} of {proj.label!r} needs the 16-bit word {int(np.rint(top / lsb))} (> {WORD_MAX}) at this "
                    f"projection's resolution {_lsb_text(shift, g)} {unit}, which tops out at {WORD_MAX * lsb:g} {unit}; keep weights "
                    f"<= {WORD_MAX * lsb:g} {unit} or raise the weights (or STDP w_max) given at build so the board picks a coarser "
                    f"resolution"))
    zero = (w > 0) & (words == 0)
    if np.any(zero):
        n = int(zero.sum())
        small = float(w[zero].min())
        others = [p.label for p in net.projections.values()
                  if p.post == proj.post and p.receptor == proj.receptor and p.label != proj.label]
        fix = (f"lower the largest weight (w_max) of the other projections onto {proj.post!r} ({', '.join(map(repr, others))})" if others
               else f"lower the largest weight or fan-in of {proj.label!r}")
        out.append(("warning", "weight-zero",
                    f"weight {small:g} {unit} of {proj.label!r} rounds to 0 at this projection's resolution {_lsb_text(shift, g)} {unit}"
                    f" ({n} synapse{'s' * (n != 1)} stored as 0, silent on the board); raise it above {lsb / 2:g} {unit} or "
                    f"{fix}"))
    return out


def _pooled(items):
    """sPyNNaker RunningStats over (mean, variance, n) groups: pooled mean and variance."""
    n = sum(k for _, _, k in items)
    if n == 0:
        return 0.0, 0.0, 0
    mean = sum(m * k for m, _, k in items) / n
    var = sum((v + m * m) * k for m, v, k in items) / n - mean * mean
    return mean, max(var, 0.0), n


def _poisson_upper_bound(w_mean, w_sd, rate, n, dt_ms, sigma=RING_BUFFER_SIGMA) -> float:
    """sPyNNaker 7.4.1 ``_Stats._ring_buffer_expected_upper_bound`` (the weight-variance term needs
    scipy; without it the bound is lower, which only makes the saturation warning come earlier)."""
    lam = n * rate * dt_ms / 1000.0
    poisson_var = lam * w_mean ** 2
    weight_var = 0.0
    if w_sd > 0 and lam > 0:
        upper = int(round(lam + 5.0 * math.sqrt(lam)))  # POSSION_SIGMA_SUMMATION_LIMIT = 5
        try:
            from scipy import special
            lngamma = special.gammaln(1 + upper)
            gammai = special.gammaincc(1 + upper, lam)
            big = math.log(lam) * upper - lngamma
            if -701.0 < big < 701.0 and big != 0.0:
                inner = math.exp(lam) * gammai - math.exp(big)
                if inner > 0:
                    weight_var = math.exp(-lam + math.log(lam) + 2.0 * math.log(w_sd) + math.log(inner))
        except (ImportError, OverflowError, ValueError):
            pass
    return lam * w_mean + sigma * math.sqrt(poisson_var + weight_var)


def board_shift(net, post: str, receptor: str, weights: dict | None = None) -> tuple[int, bool]:
    """``(shift, poisson)``: the shift sPyNNaker 7.4.1 computes for ``(post, receptor)``, which
    uses the Poisson bound when the delays of an incoming projection vary (simulators.md §9.2).
    ``weights`` (label -> per-synapse magnitudes) replaces the description's weights."""
    board = _board()
    g = global_weight_scale(net.populations[post].celltype)
    stats, total, biggest, d_var, rates = [], 0.0, 0.0, 0.0, []
    for proj in net.projections.values():
        if proj.post != post or proj.receptor != receptor:
            continue
        conn = net.connectivity(proj)
        if not conn.size:
            continue
        n = int(conn.fan_in().max())
        w = np.asarray((weights or {}).get(proj.label, conn.weights), dtype=np.float64).reshape(-1)
        w_max, w_mean, w_var = float(w.max()), float(w.mean()), float(w.var())
        pw = _plastic_w_max(proj)
        if pw is not None:
            w_max = max(w_max, pw)
            w_mean, w_var = w_max, 0.0
        # sPyNNaker 7.4.1 asks the *application* pre vertex for AbstractMaxSpikes, which only the
        # Poisson machine vertex implements: every source counts 1 spike per tick at 30 Hz
        # (checked against its virtual-board mapping: a spike array with two spikes at one time
        # and a 300 Hz Poisson source both give the shift of one spike per tick)
        spt = 1.0
        # sPyNNaker 7.4.1 _Stats: the mean, variance and biggest weight are scaled by g, the total
        # spt·w_max·n is not (checked against its mapping: IF_cond_exp, g = 1024)
        stats.append((w_mean * g, w_var * g * g, n))
        rates.append((SPIKES_PER_SECOND, 0.0, n))
        if conn.delays.size > 1:
            d_var += float(np.var(conn.delays * net.dt)) * n
        total += spt * w_max * n
        biggest = max(biggest, w_max * g)
    if d_var == 0.0:
        return board.ring_buffer_shift(max(total, biggest)), False
    mean, var, n = _pooled(stats)
    rate = _pooled(rates)[0]
    m = _poisson_upper_bound(mean, math.sqrt(var), rate, n, net.dt)
    return board.ring_buffer_shift(max(min(m, total), biggest)), True


def _check_ring_buffers(net, report, shifts, poisson_keys=(), emulation: bool = False):
    """Worst case of one tick at one neuron: every synapse's word × its source's spikes per tick."""
    groups: dict[tuple[str, str], list] = {}
    for proj in net.projections.values():
        if net.connectivity(proj).size:
            groups.setdefault((proj.post, proj.receptor), []).append(proj)
    for key, projs in groups.items():
        shift = shifts.get(key)
        poisson = key in poisson_keys
        if shift is None:
            continue
        g = global_weight_scale(net.populations[key[0]].celltype)
        lsb = _lsb(shift, g)
        post_size = net.populations[key[0]].size
        sums = np.zeros(post_size)
        bursty = []
        for proj in projs:
            conn = net.connectivity(proj)
            pw = _plastic_w_max(proj)
            w = np.full(conn.size, pw) if pw is not None else conn.weights
            words = np.minimum(np.rint(w / lsb), WORD_MAX)
            spt = worst_spikes_per_tick(net, net.populations[proj.pre], emulation)
            if spt > 1:
                bursty.append(f"{proj.pre!r} up to {spt}")
            sums += np.bincount(conn.post, weights=words * spt, minlength=post_size)
        worst = int(np.argmax(sums))
        if sums[worst] > WORD_MAX:
            unit = _unit(net, projs[0])
            if poisson:
                why = ("sPyNNaker sizes this buffer with its Poisson bound (30 Hz inputs, 5 sigma) because the delays of "
                       "an incoming projection vary")
                fix = f"give every projection onto {key[0]!r} constant delays (then it sizes for the worst case)"
            elif bursty:
                why = f"the resolution allows for 1 spike per source per tick, and sources send more ({', '.join(bursty)})"
                fix = "spread the sources' spikes over more ticks"
            else:
                why = (f"sPyNNaker 7.4.1 sizes the buffer of a conductance input from the summed weights without their "
                       f"x{g:g} scale (only the largest single weight is scaled)")
                fix = f"keep fan-in x weight of one tick within {WORD_MAX * lsb:g} {unit}"
            report.add("warning", "ring-buffer", f"population {key[0]!r}",
                       f"ring buffer of {key[0]!r} ({key[1]}) can saturate: up to {sums[worst] * lsb:g} {unit} "
                       f"({int(sums[worst])} words) can arrive at neuron {worst} in one tick, the 16-bit buffer holds "
                       f"{WORD_MAX} words ({WORD_MAX * lsb:g} {unit} at resolution {_lsb_text(shift, g)} {unit}); {why}. Input "
                       f"beyond it is clipped: lower the weights or fan-in onto {key[0]!r}, or {fix}")


# -- entry points ------------------------------------------------------------------------------------
def preflight(net, board: BoardProfile | str = "SpiNN-5", neurons_per_core: int | None = None,
              row_limits: dict[str, int] | None = None, raise_errors: bool = True, n_boards: int = 1,
              target: str = "board") -> PreflightReport:
    """Check ``net`` against ``n_boards`` boards of type ``board``: rows, STDP time step, cores,
    delays, s16.15 parameters, weight words and ring-buffer saturation (module docstring); raise
    UnsupportedError on the first error (``raise_errors``) or return the report. ``row_limits``
    overrides the profile's ``{"static": n, "plastic": n}``. ``target="board"`` sizes the ring
    buffers as sPyNNaker does (its Poisson bound where delays vary); ``"emulation"`` as the torch
    ``spinnaker`` profile does."""
    from .resources import estimate
    profile = board if isinstance(board, BoardProfile) else load_board(board)
    if isinstance(n_boards, bool) or not isinstance(n_boards, (int, np.integer)) or n_boards < 1:
        raise ValidationError(f"preflight: n_boards={n_boards!r} must be a whole number >= 1")
    if n_boards > 1 and profile.spinnaker_version != 5:
        raise ValidationError(f"preflight: n_boards={n_boards} needs SpiNN-5 boards (multi-board machines are built of them), "
                              f"not {profile.name}")
    npc = int(neurons_per_core or profile.neurons_per_core_default)
    if npc < 1:
        raise ValidationError(f"preflight: neurons_per_core={npc} must be >= 1")
    limits = {"static": profile.max_static_synapses_per_row, "plastic": profile.max_plastic_synapses_per_row}
    limits.update(row_limits or {})
    report = PreflightReport(profile.name, npc, n_boards=int(n_boards))
    slots = network_delay_slots(net, npc)
    _check_rows(net, report, profile, npc, limits, slots)
    _check_delays(net, report, npc, slots)
    _check_s1615(net, report)
    # the resolution sPyNNaker 7.4.1 maps with, which the torch spinnaker profile stores weights at
    poisson_keys = set()
    report.shifts = {}
    for key in {(p.post, p.receptor) for p in net.projections.values() if net.connectivity(p).size}:
        report.shifts[key], poisson = board_shift(net, *key)
        if poisson:
            poisson_keys.add(key)
    _check_weights(net, report, report.shifts)
    _check_ring_buffers(net, report, report.shifts, poisson_keys, emulation=(target != "board"))
    report.resources = estimate(net, profile, npc, n_boards=int(n_boards), slots=slots)
    report.cores_estimate = report.resources.cores_total
    report.cores_available = report.resources.cores_available
    if report.cores_estimate > report.cores_available:
        machine = f"{profile.name}" + (f" × {n_boards}" if n_boards > 1 else "")
        report.add("error", "cores", "network",
                   f"network needs about {report.cores_estimate} cores at {npc} neurons per core; {machine} has "
                   f"{report.cores_available} application cores: use a bigger machine (spalloc, n_boards="
                   f"{report.resources.boards_needed}) or fewer neurons")
    if raise_errors and report.problems:
        raise UnsupportedError(report.problems[0])
    return report


def check(net, board: BoardProfile | str | int = "SpiNN-5", target: str = "spinnaker",
          neurons_per_core: int | None = None, n_boards: int | None = None) -> PreflightReport:
    """Pre-flight of ``net`` for SpiNNaker without raising: the report lists errors
    (``report.problems``), warnings and the resource estimate (``report.text()`` prints it).

    ``board``: "SpiNN-3" or "SpiNN-5" (or a BoardProfile); ``n_boards``: a machine of that many
    SpiNN-5 boards (cores and chips scale; spalloc). ``target``: "spinnaker" (the board, sized as sPyNNaker 7.4.1
    sizes it) or "emulation" (the torch ``spinnaker`` profile's weight resolution)."""
    if target not in ("spinnaker", "emulation"):
        raise ValidationError(f"check: target={target!r} is not known; use 'spinnaker' (or 'emulation')")
    return preflight(net, board=board, neurons_per_core=neurons_per_core, raise_errors=False,
                     n_boards=1 if n_boards is None else n_boards, target="board" if target == "spinnaker" else "emulation")


def check_weight_words(net, projection, weights, shift: int, owner: str = "set_weights") -> None:
    """For ``set_weights`` under the ``spinnaker`` numerics: raise ValidationError when a weight
    needs a 16-bit word above 0xFFFF at the projection's ring-buffer ``shift`` (the emulation, like
    the board, cannot store it), warn (SpinnakerWarning) about non-zero weights stored as 0.
    ``weights``: per-synapse magnitudes (any shape; batched trials flattened)."""
    import warnings

    from neuromorph.errors import SpinnakerWarning
    proj = net.projection(projection)
    for level, _, text in weight_word_findings(net, proj, np.asarray(weights, dtype=np.float64).reshape(-1), shift):
        if level == "error":
            raise ValidationError(f"{owner}({proj.label!r}): {text}")
        warnings.warn(f"SpiNNaker: {owner}({proj.label!r}): {text}", SpinnakerWarning, stacklevel=3)


def reloaded_weight_findings(net, projection, weights, old_shift: int | None, new_shift: int,
                             others: dict | None = None) -> list[tuple[str, str, str]]:
    """``(level, code, message)`` for ``set_weights(projection, weights)`` when the host reloads
    the board with the new weights (sPyNNaker recomputes the ring-buffer shift from the weights it
    loads; the torch ``spinnaker`` profile does the same): a warning when the shift of the
    projection's post population and receptor changes (every projection onto it is re-quantised),
    and the rounding findings of every projection onto it at the new shift. ``others``: label ->
    current per-synapse weights of the other projections (default: the description's)."""
    proj = net.projection(projection)
    unit = _unit(net, proj)
    g = global_weight_scale(net.populations[proj.post].celltype)
    out = []
    if old_shift is not None and new_shift != old_shift:
        top = float(np.max(np.abs(np.asarray(weights, dtype=np.float64)), initial=0.0))
        onto = [p.label for p in net.projections.values() if p.post == proj.post and p.receptor == proj.receptor]
        coarser = new_shift > old_shift
        out.append(("warning", "weight-resolution",
                    f"set_weights({proj.label!r}): the largest weight {top:g} {unit} changes the resolution of {proj.post!r} "
                    f"({proj.receptor}) from {_lsb_text(old_shift, g)} to {_lsb_text(new_shift, g)} {unit} (ring-buffer shift "
                    f"{old_shift} -> {new_shift}) when the weights are loaded; every projection onto it "
                    f"({', '.join(map(repr, onto))}) is stored at the new resolution"
                    + ("; keep the weights within the loaded range to keep the old one" if coarser else "")))
    for p in net.projections.values():
        if p.post != proj.post or p.receptor != proj.receptor:
            continue
        w = weights if p.label == proj.label else (others or {}).get(p.label, net.connectivity(p).weights)
        out.extend(f for f in weight_word_findings(net, p, np.asarray(w, dtype=np.float64).reshape(-1), new_shift)
                   if f[0] == "warning")
    return out
