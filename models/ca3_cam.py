"""Hippocampal CA3 content-addressable memory (Casanueva-Morato et al., Neural Networks 178, 2024).

Built only from the public model description (``neuromorph.Network``): populations, the 18
connections and the two STDP projections exactly as in the authors' network configuration
(tests/data/README.md has the citation; docs/tasks.md the protocol and the results).

- :func:`build_network` — the network for N one-hot cues and M content bits, driven by given input
  spike times (N + M lists, cue neurons first);
- :func:`run_trace` — simulate it and return every recorded population's spikes as sorted
  ``(t_ms, index)`` pairs, with the reference's population names;
- :class:`Memory` — learn / recall-by-cue / recall-by-content operations, scheduled with the model's
  required spacing, batched into one run, decoded from the output layer;
- :func:`input_spikes` — an operation list turned into the input layer's spike times (and checked);
- :func:`main` — ``neuromorph task ca3-cam``.

Protocol (from the paper's functional test): *learn* holds the cue neuron and the content neurons
for 3 ms (one input spike per ms) and the next operation may start 7 ms after the input ends (a
10 ms slot); *recall* (by cue, or by a content fragment) is a single input spike and the next
operation may start 6 ms after it (a 7 ms slot). The output layer answers one slot long, from 5 ms
after the input on (the network's latency): the content half (``OUTcont``) gives the content of a
recalled cue, the cue half (``OUTcue``) the cues whose content shares a bit of the fragment (OR).
Relearning a cue forgets its old content. Where the model departs from an ideal CAM (recall by
multi-bit fragments after recalls or relearning) is documented in docs/tasks.md.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

import neuromorph as nm
from neuromorph.atomic import atomic_open
from neuromorph.errors import NeuromorphError, UnsupportedError, ValidationError
from neuromorph.validation import finite

__all__ = ["POPULATIONS", "RECORDED", "SET_A", "SET_B", "OUTPUT", "build_network", "run_trace",
           "input_spikes", "run_operations", "parse_ops", "slot_ms", "FUNCTIONAL_TEST", "Memory", "Operation",
           "IdealCAM", "main",
           "LEARN_HOLD_MS", "LEARN_SLOT_MS", "RECALL_SLOT_MS"]

#: neuron parameter sets of the authors' network_config.json (v_init -60 mV for all)
SET_A = dict(cm=0.27, tau_m=3.0, tau_refrac=1.0, tau_syn_E=0.3, tau_syn_I=0.3,
             v_rest=-60.0, v_reset=-60.0, v_thresh=-57.0, i_offset=0.0)
SET_B = dict(SET_A, cm=0.14, tau_m=0.5)
OUTPUT = dict(SET_A, v_thresh=-57.5)
V_INIT = -60.0

#: populations of the model (label -> (size rule, parameter set)); IL is the input spike source
POPULATIONS = {
    "CA3cueCueRecall": ("N", SET_A),
    "CA3cueContRecall": ("N", SET_B),
    "CA3contCueRecall": ("M", SET_A),
    "CA3contContRecall": ("M", SET_A),
    "CA3contCond": ("M", SET_B),
    "CA3contCondInt": ("1", SET_B),
    "CA3mergeCue": ("N", SET_A),
    "CA3mergeCont": ("M", SET_A),
    "OL": ("N+M", OUTPUT),
}
#: the ten recorded populations of the published trace (OL split in its cue and content halves)
RECORDED = ("CA3cueCueRecall", "CA3contCueRecall", "CA3contCond", "CA3contCondInt",
            "CA3cueContRecall", "CA3contContRecall", "CA3mergeCue", "CA3mergeCont",
            "OUTcue", "OUTcont")

STDP_PARAMS = dict(tau_plus=3.0, tau_minus=3.0, A_plus=6.0, A_minus=6.0, w_min=0.0, w_max=6.0)

LEARN_HOLD_MS = 3    # learn: cue and content neurons fire at t, t+1, t+2
LEARN_SLOT_MS = 10   # ... and the next operation starts 7 ms after the input: t + 10
RECALL_SLOT_MS = 7   # recall: one input spike at t, the next operation at t + 7


def _stdp():
    p = STDP_PARAMS
    return nm.STDP(timing=nm.SpikePairRule(tau_plus=p["tau_plus"], tau_minus=p["tau_minus"],
                                           A_plus=p["A_plus"], A_minus=p["A_minus"]),
                   weight=nm.Additive(w_min=p["w_min"], w_max=p["w_max"], step="absolute"))


def _check_sizes(owner: str, cue_size, content_size) -> tuple[int, int]:
    for name, v in (("cue_size", cue_size), ("content_size", content_size)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValidationError(f"{owner}: {name}={v!r} must be a positive integer (number of cues / content bits)")
    return int(cue_size), int(content_size)


def _flat_inputs(owner: str, n: int, m: int, spikes) -> list[list[float]]:
    """Accept the reference JSON's {"cue": [...], "content": [...]} or a flat list of N + M lists."""
    if isinstance(spikes, dict):
        if set(spikes) != {"cue", "content"}:
            raise ValidationError(f"{owner}: input_spikes keys {sorted(spikes)} must be 'cue' and 'content'")
        cue, cont = list(spikes["cue"]), list(spikes["content"])
        if len(cue) != n or len(cont) != m:
            raise ValidationError(f"{owner}: input_spikes has {len(cue)} cue and {len(cont)} content lists; give {n} and {m}")
        rows = cue + cont
    else:
        rows = list(spikes)
        if len(rows) != n + m:
            raise ValidationError(f"{owner}: input_spikes has {len(rows)} lists; give N + M = {n + m} (cue neurons first)")
    out = []
    for i, row in enumerate(rows):
        try:
            out.append(sorted(float(t) for t in row))
        except (TypeError, ValueError):
            raise ValidationError(f"{owner}: input neuron {i} spike times {row!r:.40} must be a list of numbers (ms)") from None
    return out


def build_network(cue_size: int, content_size: int, input_spikes, dt: float = 1.0, seed: int = 0,
                  record: bool = True) -> nm.Network:
    """The CA3 CAM for ``cue_size`` (N) cues and ``content_size`` (M) bits as an ``nm.Network``.

    ``input_spikes``: N + M spike-time lists in ms (cue neurons first), or the reference JSON's
    ``{"cue": [...], "content": [...]}``. Population labels are the reference's (``IL``, ``CA3…``,
    ``OL``); the STDP projections are labelled ``"stdp_cue_to_cont"`` (#10) and
    ``"stdp_cont_to_cue"`` (#11).
    """
    n, m = _check_sizes("ca3_cam.build_network", cue_size, content_size)
    rows = _flat_inputs("ca3_cam.build_network", n, m, input_spikes)
    size = {"N": n, "M": m, "1": 1, "N+M": n + m}
    net = nm.Network(dt=dt, seed=seed)
    net.spike_source("IL", rows)
    for label, (rule, params) in POPULATIONS.items():
        net.population(label, size[rule], nm.IF_curr_exp(**params), initial_values={"v": V_INIT})

    one, every = nm.OneToOne(), nm.AllToAll()
    cue_idx, cont_idx = np.arange(n), np.arange(m)
    il_cue = nm.FromList([(int(i), int(i)) for i in cue_idx])                 # IL[0:N] -> N
    il_cont = nm.FromList([(int(n + j), int(j)) for j in cont_idx])           # IL[N:N+M] -> M
    ol_cue = nm.FromList([(int(i), int(i)) for i in cue_idx])                 # N -> OL[0:N]
    ol_cont = nm.FromList([(int(j), int(n + j)) for j in cont_idx])           # M -> OL[N:N+M]
    # "all-to-all, no self" between two N-sized populations: every i -> j with j != i
    cross = nm.FromList([(int(i), int(j)) for i in cue_idx for j in cue_idx if i != j]) if n > 1 else None
    E, I = "excitatory", "inhibitory"
    table = [  # (#, pre, post, connector, weight, delay, receptor, plasticity)
        (1, "IL", "CA3cueCueRecall", il_cue, 6.0, 1, E, None),
        (2, "IL", "CA3contCueRecall", il_cont, 6.0, 1, E, None),
        (3, "CA3cueCueRecall", "CA3cueContRecall", one, 6.0, 2, E, None),
        (4, "CA3cueCueRecall", "CA3cueContRecall", cross, 6.0 * m, 3, I, None),
        (5, "CA3cueCueRecall", "CA3contCond", every, 6.0, 2, I, None),
        (6, "CA3contCueRecall", "CA3contCond", one, 9.0, 1, E, None),
        (7, "CA3contCond", "CA3contContRecall", one, 6.0, 1, E, None),
        (8, "CA3contCueRecall", "CA3contCondInt", every, 6.0, 1, E, None),
        (9, "CA3contCondInt", "CA3contCond", every, 2.0, 1, E, None),
        (10, "CA3cueCueRecall", "CA3contCueRecall", every, 0.0, 1, E, _stdp()),
        (11, "CA3contContRecall", "CA3cueContRecall", every, 0.0, 1, E, _stdp()),
        (12, "CA3cueContRecall", "CA3cueContRecall", nm.AllToAll(allow_self_connections=False), 6.0 * m, 2, I, None),
        (13, "CA3cueCueRecall", "CA3mergeCue", one, 6.0, 3, E, None),
        (14, "CA3cueContRecall", "CA3mergeCue", one, 6.0, 1, E, None),
        (15, "CA3contCueRecall", "CA3mergeCont", one, 6.0, 3, E, None),
        (16, "CA3contContRecall", "CA3mergeCont", one, 6.0, 1, E, None),
        (17, "CA3mergeCue", "OL", ol_cue, 6.0, 1, E, None),
        (18, "CA3mergeCont", "OL", ol_cont, 6.0, 1, E, None),
    ]
    names = {10: "stdp_cue_to_cont", 11: "stdp_cont_to_cue"}
    for k, pre, post, conn, w, d, rec, plast in table:
        if conn is None:   # a single cue has no "other" cue to inhibit
            continue
        if k == 12 and n == 1:
            continue
        net.connect(pre, post, conn, weight=w, delay=float(d) * dt, receptor=rec, plasticity=plast,
                    label=names.get(k, f"c{k}:{pre}->{post}"))
    if record:
        for label in POPULATIONS:
            net.record(label, "spikes")
    return net


def _spike_pairs(per_neuron, offset: int = 0, count: int | None = None, dt: float = 1.0) -> list[tuple[float, int]]:
    rows = list(per_neuron)
    if count is not None:
        rows = rows[offset:offset + count]
    out = []
    for i, times in enumerate(rows):
        for t in np.asarray(times, dtype=np.float64).ravel():
            out.append((round(float(t) / dt) * dt, i))
    out.sort()
    return out


def _trace_from_sim(sim, n: int, m: int, dt: float, trial: int | None = None) -> dict[str, list]:
    def get(label):
        s = sim.spikes(label)
        return s[trial] if trial is not None else s
    trace = {}
    for label in RECORDED[:8]:
        trace[label] = _spike_pairs(get(label), dt=dt)
    ol = get("OL")
    trace["OUTcue"] = _spike_pairs(ol, 0, n, dt)
    trace["OUTcont"] = _spike_pairs(ol, n, m, dt)
    return trace


def _build_opts(numerics, opts) -> dict:
    """``numerics=None`` leaves the backend's own semantics (PyNN backends accept only theirs)."""
    return dict(opts, numerics=numerics) if numerics is not None else dict(opts)


def run_trace(cue_size: int, content_size: int, input_spikes, duration_ms: float, backend: str = "torch",
              numerics: str = "spinnaker", **opts) -> dict[str, list[tuple[float, int]]]:
    """Simulate the CAM driven by ``input_spikes`` for ``duration_ms`` and return
    ``{population: sorted [(t_ms, index), ...]}`` for the ten recorded populations of the published
    trace (``OUTcue``/``OUTcont`` are the cue and content halves of the output layer).

    Extra ``opts`` go to ``nm.build`` (e.g. ``device``). ``numerics`` is passed to backends that
    take it (torch); PyNN backends get it too and decide what they can honour.
    """
    n, m = _check_sizes("ca3_cam.run_trace", cue_size, content_size)
    net = build_network(n, m, input_spikes)
    sim = nm.build(net, backend=backend, **_build_opts(numerics, opts))
    sim.run(float(duration_ms))
    return _trace_from_sim(sim, n, m, net.dt)


# --------------------------------------------------------------------------------------------
# Operations, scheduling and the ideal CAM
# --------------------------------------------------------------------------------------------
@dataclass
class Operation:
    """One scheduled operation and (after the run) its decoded answer.

    ``kind``: "learn", "recall_by_cue" or "recall_by_content"; ``t``: start [ms]; ``slot``: its
    length [ms]. ``value`` runs the pending operations if needed and returns the answer:
    recall by cue -> sorted content bits; recall by content -> sorted cues; learn -> the content
    bits the output layer echoes while learning (the new content, plus a cue's old content when it
    is relearned: the old association fires once before it is forgotten, as in the published
    trace). ``output`` has both halves of the output layer in the slot, ``{"cue": [...],
    "content": [...]}``.
    """

    kind: str
    t: float
    slot: float
    cue: int | None = None
    content: tuple[int, ...] = ()
    output: dict | None = None
    _memory: Any = field(default=None, repr=False, compare=False)

    @property
    def done(self) -> bool:
        return self.output is not None

    @property
    def value(self) -> list[int]:
        if self.output is None:
            self._memory.run()
        if self.kind == "recall_by_content":
            return list(self.output["cue"])
        return list(self.output["content"])

    def __eq__(self, other):
        if isinstance(other, Operation):
            return self is other
        if not isinstance(other, (list, tuple, set, frozenset, range)):
            return NotImplemented
        return self.value == sorted(other)

    __hash__ = object.__hash__

    def __iter__(self):
        return iter(self.value)

    def __len__(self):
        return len(self.value)

    def as_dict(self) -> dict:
        d = {"t": self.t, "op": self.kind}
        if self.cue is not None:
            d["cue"] = self.cue
        if self.content:
            d["content"] = list(self.content)
        if self.output is not None:
            d["answer"] = self.value
            d["output"] = {k: list(v) for k, v in self.output.items()}
        return d


class IdealCAM:
    """What a content-addressable memory should answer (the reference of the randomised tests):
    learning a cue replaces its content; recall by cue gives its content; recall by a fragment gives
    every cue whose content shares at least one bit of it (OR)."""

    def __init__(self):
        self.store: dict[int, frozenset] = {}

    def learn(self, cue: int, content: Iterable[int]) -> None:
        self.store[cue] = frozenset(content)

    def recall(self, cue: int | None = None, content: Iterable[int] | None = None) -> list[int]:
        if cue is not None:
            return sorted(self.store.get(cue, ()))
        frag = set(content)
        return sorted(c for c, bits in self.store.items() if bits & frag)


def _check_cue(owner, cue, n):
    if isinstance(cue, bool) or not isinstance(cue, (int, np.integer)):
        raise ValidationError(f"{owner}: cue={cue!r} is not an integer; give a cue index in 0..{n - 1}")
    if not 0 <= cue < n:
        raise ValidationError(f"{owner}: cue={cue} is out of range for a memory of {n} cues; give 0..{n - 1}")
    return int(cue)


def _check_content(owner, content, m):
    if content is None or isinstance(content, (str, bytes)) or not hasattr(content, "__iter__"):
        raise ValidationError(f"{owner}: content={content!r} must be a list of bit indices in 0..{m - 1}")
    bits = list(content)
    if not bits:
        raise ValidationError(f"{owner}: content is empty; give at least one bit index in 0..{m - 1}")
    for b in bits:
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)):
            raise ValidationError(f"{owner}: content bit {b!r} is not an integer; give bit indices in 0..{m - 1}")
        if not 0 <= b < m:
            raise ValidationError(f"{owner}: content bit {b} is out of range for {m} content bits; give 0..{m - 1}")
    if len(set(bits)) != len(bits):
        raise ValidationError(f"{owner}: content {bits} repeats a bit; give each bit index once")
    return tuple(sorted(int(b) for b in bits))


def _normalise_op(owner: str, op: dict, n: int, m: int) -> dict:
    kind = op.get("op")
    aliases = {"learn": "learn", "recall_by_cue": "recall_by_cue", "recall-cue": "recall_by_cue",
               "recall_by_content": "recall_by_content", "recall-content": "recall_by_content"}
    if kind not in aliases:
        raise ValidationError(f"{owner}: op={kind!r} must be 'learn', 'recall_by_cue' or 'recall_by_content'")
    kind = aliases[kind]
    out = {"op": kind, "t": op.get("t")}
    if kind in ("learn", "recall_by_cue"):
        out["cue"] = _check_cue(f"{owner} ({kind})", op.get("cue"), n)
    if kind in ("learn", "recall_by_content"):
        out["content"] = _check_content(f"{owner} ({kind})", op.get("content"), m)
    return out


def _check_slot(name: str, value, minimum: int) -> float:
    v = finite("ca3_cam.Memory", name, value)
    if v < minimum or abs(round(v) - v) > 1e-9:
        raise ValidationError(f"ca3_cam.Memory: {name}={value!r} must be a whole number of ms >= {minimum} (the model's minimum spacing)")
    return float(round(v))


def slot_ms(kind: str) -> int:
    return LEARN_SLOT_MS if kind == "learn" else RECALL_SLOT_MS


def input_spikes(cue_size: int, content_size: int, operations: Sequence[dict], dt: float = 1.0) -> list[list[float]]:
    """Turn operations ``[{"t": ms, "op": "learn", "cue": c, "content": [...]}, {"op":
    "recall_by_cue", "cue": c}, {"op": "recall_by_content", "content": [...]}, ...]`` into the N + M
    input spike lists (cue neurons first). ``t`` may be omitted: the operation then starts at the
    earliest allowed time. Raises ValidationError when an operation starts before the previous
    one's slot has ended (learn: 10 ms, recall: 7 ms)."""
    owner = "ca3_cam.input_spikes"
    n, m = _check_sizes(owner, cue_size, content_size)
    rows: list[list[float]] = [[] for _ in range(n + m)]
    earliest, prev = 0.0, None
    for k, raw in enumerate(operations):
        if not isinstance(raw, dict):
            raise ValidationError(f"{owner}: operation {k} is {raw!r:.40}; give a dict with 'op' and its arguments")
        op = _normalise_op(f"{owner}: operation {k}", raw, n, m)
        t = earliest if op["t"] is None else float(op["t"])
        if t < earliest - 1e-9:
            raise ValidationError(
                f"{owner}: operation {k} ({op['op']}) at t={t:g} ms is too close to the previous "
                f"{prev} at t={earliest - slot_ms(prev):g} ms; start it at t >= {earliest:g} ms "
                f"({'learn needs 3 ms of input + 7 ms' if prev == 'learn' else 'recall needs 1 ms of input + 6 ms'})")
        hold = LEARN_HOLD_MS if op["op"] == "learn" else 1
        times = [t + s * dt for s in range(int(round(hold / dt)))]
        if op["op"] in ("learn", "recall_by_cue"):
            rows[op["cue"]].extend(times)
        if op["op"] in ("learn", "recall_by_content"):
            for b in op["content"]:
                rows[n + b].extend(times)
        earliest, prev = t + slot_ms(op["op"]), op["op"]
    return rows


class Memory:
    """A CA3 content-addressable memory for ``cues`` one-hot cues and ``bits`` content bits.

    ``learn(cue, content)``, ``recall(cue=c)`` and ``recall(content=[...])`` schedule the
    operation's input at the earliest allowed time (or at ``at=`` ms, checked) and return an
    :class:`Operation`; its ``value`` is the decoded answer. Pending operations are simulated
    together in one run segment when ``run()`` is called or an answer is read; the simulation is
    stateful (later operations continue it, the memory keeps what it learned). An answer is read
    from the output layer during the operation's slot, shifted by the network's latency
    (:attr:`latency_ms`); operations scheduled after a run start once that run's last answer is
    out.

    ``learn_slot_ms`` / ``recall_slot_ms`` lengthen the slots (never below the model's 10 / 7 ms);
    ``start_ms`` delays the first operation (NEST cannot take a source spike before 2 ms). Other
    keyword arguments go to ``nm.build`` (e.g. ``device``).

    >>> mem = Memory(5, 10)
    >>> _ = mem.learn(0, [0, 1, 8, 9])
    >>> a = mem.recall(cue=0)
    >>> a.value            # runs the two pending operations in one segment
    [0, 1, 8, 9]
    """

    def __init__(self, cues: int, bits: int, backend: str = "torch", numerics: str | None = "spinnaker",
                 learn_slot_ms: float = LEARN_SLOT_MS, recall_slot_ms: float = RECALL_SLOT_MS,
                 start_ms: float = 0.0, **opts):
        self.n, self.m = _check_sizes("ca3_cam.Memory", cues, bits)
        self.backend, self.numerics, self.opts = backend, numerics, dict(opts)
        self.slots = {"learn": _check_slot("learn_slot_ms", learn_slot_ms, LEARN_SLOT_MS),
                      "recall_by_cue": _check_slot("recall_slot_ms", recall_slot_ms, RECALL_SLOT_MS),
                      "recall_by_content": _check_slot("recall_slot_ms", recall_slot_ms, RECALL_SLOT_MS)}
        start = finite("ca3_cam.Memory", "start_ms", start_ms)
        if start < 0 or abs(round(start) - start) > 1e-9:
            raise ValidationError(f"ca3_cam.Memory: start_ms={start_ms!r} must be a whole number of ms >= 0")
        self.operations: list[Operation] = []
        self._next = start          # earliest start of the next operation [ms]
        self._prev_kind: str | None = None
        self._sim = None
        self._net = None
        self._rows: list[list[float]] = [[] for _ in range(self.n + self.m)]  # all input spikes so far

    @property
    def latency_ms(self) -> float:
        """Delay from an operation's first input spike to the output layer's first possible answer:
        three neuron stages (delays 1 + 3 + 1 ms = 5 ms) under sPyNNaker's event order, plus one
        step per stage where spikes are stamped at the end of their step (``exact``/NEST)."""
        name = self.numerics
        if self._sim is not None:
            name = getattr(self._sim, "numerics", None) or name
        offset = nm.PROFILES[name].stamp_offset if name in nm.PROFILES else 1
        return 5.0 + 3.0 * offset

    # -- scheduling ----------------------------------------------------------------------------
    def _schedule(self, kind: str, at, cue=None, content=()) -> Operation:
        owner = f"Memory.{'learn' if kind == 'learn' else 'recall'}"
        simulated = float(self._sim.time) if self._sim is not None else 0.0
        if at is None:
            t = max(self._next, simulated)
        else:
            t = finite(owner, "at", at)
            if t < simulated - 1e-9:
                raise ValidationError(
                    f"{owner}: at={t:g} ms is in the past (the memory has been simulated up to {simulated:g} ms); schedule it at >= {simulated:g} ms")
            if t < self._next - 1e-9 and self._prev_kind is None:
                raise ValidationError(f"{owner}: at={t:g} ms is before the memory's start_ms={self._next:g}; schedule it at >= {self._next:g} ms")
            if t < self._next - 1e-9:
                prev = self._prev_kind
                need = "learn holds its input 3 ms and needs 7 ms more" if prev == "learn" else "recall needs 1 ms of input and 6 ms more"
                raise ValidationError(
                    f"{owner}: at={t:g} ms is too close to the previous {prev} operation ({need}); schedule it at >= {self._next:g} ms")
            if t < 0 or abs(round(t) - t) > 1e-9:
                raise ValidationError(f"{owner}: at={t:g} ms must be a whole number of ms >= 0 (dt = 1 ms)")
        op = Operation(kind, t, self.slots[kind], cue, tuple(content), None, self)
        hold = LEARN_HOLD_MS if kind == "learn" else 1
        times = [t + s for s in range(hold)]
        if cue is not None:
            self._rows[cue].extend(times)
        for b in content:
            self._rows[self.n + b].extend(times)
        self.operations.append(op)
        self._next, self._prev_kind = t + op.slot, kind
        return op

    def learn(self, cue: int, content: Sequence[int], at: float | None = None) -> Operation:
        """Store ``content`` (bit indices) under ``cue``, replacing what the cue held before."""
        cue = _check_cue("Memory.learn", cue, self.n)
        content = _check_content("Memory.learn", content, self.m)
        return self._schedule("learn", at, cue, content)

    def recall(self, cue: int | None = None, content: Sequence[int] | None = None, at: float | None = None) -> Operation:
        """Recall by cue (``cue=c`` -> its content bits) or by a content fragment (``content=[...]``
        -> the cues whose content shares at least one of its bits)."""
        if (cue is None) == (content is None):
            raise ValidationError("Memory.recall: give exactly one of cue=<index> or content=[bits]")
        if cue is not None:
            return self._schedule("recall_by_cue", at, _check_cue("Memory.recall", cue, self.n))
        return self._schedule("recall_by_content", at, None, _check_content("Memory.recall", content, self.m))

    # -- running -------------------------------------------------------------------------------
    @property
    def pending(self) -> list[Operation]:
        return [op for op in self.operations if op.output is None]

    def run(self) -> list[Operation]:
        """Simulate every pending operation in one run segment and decode their answers."""
        pending = self.pending
        if not pending:
            return []
        if self._sim is not None and float(self._sim.time) > 0:
            now = float(self._sim.time)
            try:   # continue the run: hand the source only the spikes still to come
                self._sim.set_spike_times("IL", [[t for t in row if t >= now] for row in self._rows])
            except (AttributeError, NotImplementedError, UnsupportedError):
                self._sim = None   # the backend cannot change a source between segments: replay
        if self._sim is None:
            self._net = build_network(self.n, self.m, self._rows)
            self._sim = nm.build(self._net, backend=self.backend, **_build_opts(self.numerics, self.opts))
        end = pending[-1].t + pending[-1].slot + self.latency_ms
        self._sim.run(end - float(self._sim.time))
        trace = _trace_from_sim(self._sim, self.n, self.m, self._net.dt)
        lat = self.latency_ms
        for op in pending:
            # the operation's answer: output spikes from its input + latency, for one slot
            lo, hi = op.t + lat, op.t + lat + op.slot
            op.output = {
                "cue": sorted({i for t, i in trace["OUTcue"] if lo <= t < hi}),
                "content": sorted({i for t, i in trace["OUTcont"] if lo <= t < hi}),
            }
        return pending

    def trace(self) -> dict[str, list]:
        """The spikes of the ten recorded populations so far (runs pending operations first)."""
        self.run()
        if self._sim is None:
            return {k: [] for k in RECORDED}
        return _trace_from_sim(self._sim, self.n, self.m, self._net.dt)


# --------------------------------------------------------------------------------------------
# CLI: neuromorph task ca3-cam
# --------------------------------------------------------------------------------------------
#: the paper's functional test (N = 5, M = 10; one operation every 10 ms)
FUNCTIONAL_TEST = [
    {"t": 0, "op": "learn", "cue": 0, "content": [0, 1, 8, 9]},
    {"t": 10, "op": "learn", "cue": 4, "content": [1, 5, 6]},
    {"t": 20, "op": "learn", "cue": 3, "content": [4, 5, 6]},
    {"t": 30, "op": "recall_by_cue", "cue": 0},
    {"t": 40, "op": "recall_by_content", "content": [6]},
    {"t": 50, "op": "recall_by_content", "content": [0, 4]},
    {"t": 60, "op": "learn", "cue": 3, "content": [1, 3, 4, 8]},
    {"t": 70, "op": "recall_by_cue", "cue": 3},
    {"t": 80, "op": "recall_by_content", "content": [6]},
]


def parse_ops(text: str) -> list[dict]:
    """``"learn 0 0,1,8,9; cue 0; content 6; learn 3 1,3@60"`` -> operation dicts. Each item is
    ``learn CUE BITS``, ``cue CUE`` (recall by cue) or ``content BITS`` (recall by content),
    optionally followed by ``@T`` (start time in ms)."""
    ops = []
    for item in filter(None, (s.strip() for s in text.split(";"))):
        at = None
        if "@" in item:
            item, _, at_s = item.partition("@")
            try:
                at = float(at_s)
            except ValueError:
                raise ValidationError(f"--ops: start time {at_s!r} in {item!r} is not a number (ms)") from None
        words = item.split()
        try:
            if words[0] == "learn" and len(words) == 3:
                op = {"op": "learn", "cue": int(words[1]), "content": [int(b) for b in words[2].split(",") if b]}
            elif words[0] == "cue" and len(words) == 2:
                op = {"op": "recall_by_cue", "cue": int(words[1])}
            elif words[0] == "content" and len(words) == 2:
                op = {"op": "recall_by_content", "content": [int(b) for b in words[1].split(",") if b]}
            else:
                raise ValueError
        except ValueError:
            raise ValidationError(
                f"--ops: {item!r} is not 'learn CUE BITS', 'cue CUE' or 'content BITS' (BITS like 0,1,8)") from None
        op["t"] = at
        ops.append(op)
    return ops


def run_operations(cues: int, bits: int, operations: Sequence[dict], backend="torch", numerics="spinnaker", **opts):
    """Run an operation list on a :class:`Memory` (one run) and return ``(memory, rows)`` where each
    row has the operation, the network's answer and the ideal CAM's answer (None for learn).
    ``opts`` go to :class:`Memory` (slots, ``start_ms``) and on to ``nm.build``."""
    mem = Memory(cues, bits, backend=backend, numerics=numerics, **opts)
    ideal = IdealCAM()
    results = []
    for k, raw in enumerate(operations):
        op = _normalise_op(f"operation {k}", raw, mem.n, mem.m)
        if op["op"] == "learn":
            results.append((mem.learn(op["cue"], op["content"], at=op["t"]), ideal.learn(op["cue"], op["content"])))
        elif op["op"] == "recall_by_cue":
            results.append((mem.recall(cue=op["cue"], at=op["t"]), ideal.recall(cue=op["cue"])))
        else:
            results.append((mem.recall(content=op["content"], at=op["t"]), ideal.recall(content=op["content"])))
    mem.run()
    rows = []
    for op, expected in results:
        d = op.as_dict()
        d["ideal"] = expected
        d["match"] = True if op.kind == "learn" else op.value == expected
        rows.append(d)
    return mem, rows


def _plain(doc: str) -> str:
    """The ``--help`` description from a docstring: its paragraphs after the usage line, as plain
    text (the RST double backticks removed; argparse prints the usage itself)."""
    return " ".join(doc.split("\n\n", 1)[-1].split()).replace("``", "")


def main(argv: Sequence[str] | None = None) -> int:
    """``neuromorph task ca3-cam [--cues N --bits M --ops "..."] [--backend B --numerics P] [--out DIR]``.

    Without ``--ops`` it runs the paper's functional test (5 cues, 10 bits, 9 operations). Prints
    the operations with the network's and an ideal CAM's answers, writes ``ca3_cam.csv``,
    ``ca3_cam.json`` and the raster ``ca3_cam.png`` to ``--out``. Exit 0 when every answer matches
    the ideal CAM, 1 when one does not, 2 on bad input.
    """
    from pathlib import Path

    p = argparse.ArgumentParser(prog="neuromorph task ca3-cam", description=_plain(main.__doc__))
    p.add_argument("--cues", type=int, default=5, help="number of cues N (default 5)")
    p.add_argument("--bits", type=int, default=10, help="content bits M (default 10)")
    p.add_argument("--ops", default=None, help="operations, e.g. 'learn 0 0,1,8,9; cue 0; content 6' (default: the paper's functional test)")
    p.add_argument("--backend", default="torch", help="torch | pynn:nest | pynn:brian2 | pynn:spinnaker (default torch)")
    p.add_argument("--numerics", default=None, help="torch: spinnaker (default), spinnaker-float, exact; PyNN: the simulator's own")
    p.add_argument("--start", type=float, default=None,
                   help="start of the first operation in ms (default 0; 2 on PyNN backends, which cannot take an earlier source spike)")
    p.add_argument("--device", default=None, help="torch only: cpu | cuda (default: cuda if available, else cpu)")
    p.add_argument("--out", default="neuromorph_out/ca3_cam", help="output folder (default neuromorph_out/ca3_cam)")
    p.add_argument("--no-plot", action="store_true", help="skip the PNG")
    args = p.parse_args(argv)
    try:
        ops = FUNCTIONAL_TEST if args.ops is None else parse_ops(args.ops)
        if args.ops is None and (args.cues, args.bits) != (5, 10):
            raise ValidationError("ca3-cam: the default functional test needs --cues 5 --bits 10; give --ops for other sizes")
        opts = {"device": args.device} if args.device else {}
        numerics = args.numerics or ("spinnaker" if args.backend == "torch" else None)
        start = args.start if args.start is not None else (0.0 if args.backend == "torch" else 2.0)
        if args.ops is None and start:
            ops = [dict(op, t=op["t"] + start) for op in ops]
        opts["start_ms"] = start
        mem, rows = run_operations(args.cues, args.bits, ops, backend=args.backend, numerics=numerics, **opts)
        trace = mem.trace()
    except NeuromorphError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    header = f"{'t (ms)':>7}  {'operation':<18} {'argument':<22} {'answer':<20} {'ideal CAM':<20} ok"
    print(f"CA3 CAM, {args.cues} cues x {args.bits} bits, backend={args.backend}, numerics={numerics or 'backend default'}")
    print(header)
    for r in rows:
        arg = str(r["cue"]) if r["op"] == "recall_by_cue" else (f"{r['cue']} <- {r['content']}" if r["op"] == "learn" else str(r["content"]))
        ideal = "-" if r["ideal"] is None else str(r["ideal"])
        ok_s = "-" if r["op"] == "learn" else ("yes" if r["match"] else "NO")
        print(f"{r['t']:>7g}  {r['op']:<18} {arg:<22} {str(r['answer']):<20} {ideal:<20} {ok_s}")
    n_spikes = sum(len(v) for v in trace.values())
    ok = all(r["match"] for r in rows)
    recalls = [r for r in rows if r["op"] != "learn"]
    print(f"{sum(r['match'] for r in recalls)}/{len(recalls)} recall answers equal the ideal CAM; {n_spikes} spikes recorded")
    with atomic_open(out / "ca3_cam.csv", "w") as fh:
        fh.write("t_ms,op,cue,content,answer,ideal,match\n")
        for r in rows:
            fh.write(f"{r['t']:g},{r['op']},{r.get('cue', '')},\"{' '.join(map(str, r.get('content', [])))}\","
                     f"\"{' '.join(map(str, r['answer']))}\",\"{' '.join(map(str, r['ideal'] or []))}\",{int(r['match'])}\n")
    with atomic_open(out / "ca3_cam.json", "w") as fh:
        json.dump({"cues": args.cues, "bits": args.bits, "backend": args.backend, "numerics": numerics,
                   "operations": rows, "spikes": {k: [[t, i] for t, i in v] for k, v in trace.items()}}, fh, indent=1)
    if not args.no_plot:
        from ._plots import cam_raster
        cam_raster(trace, rows, args.cues, args.bits, out / "ca3_cam.png",
                   title=f"CA3 CAM ({args.backend}, {numerics or 'backend default'})")
    print(f"wrote {out / 'ca3_cam.csv'}, {out / 'ca3_cam.json'}" + ("" if args.no_plot else f", {out / 'ca3_cam.png'}"))
    return 0 if ok else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
