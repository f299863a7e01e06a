"""Mutations of model files for tests/test_fuzz.py (and a seeded corpus for before/after statistics).

``mutate(doc, rng)`` applies one edit to a parsed model file: a value replaced by a wrong type,
NaN/inf/huge/negative number, unknown type, dangling reference, huge size or deep nesting; a key
removed or added; a list element duplicated. ``outcome(text)`` classifies what neuromorph does
with the edited text:

- ``"ok"``: it validates, builds and runs 10 ms on torch with finite traces;
- ``"refused"``: ``Network.from_json`` or ``nm.build``/``run`` raised a NeuromorphError whose
  message is one line;
- anything else is a failure: ``"exception:<Type>"`` (an error from inside), ``"multiline"``,
  ``"nonfinite"`` (NaN/inf in a trace), ``"slow"`` (over the time limit).
"""
from __future__ import annotations

import copy
import json
import math
import random
import signal
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))

#: values a mutation puts in place of an existing one
REPLACEMENTS = [None, "abc", "", "2.5", "false", [], {}, [1.0], [["a", 0]], ["nope"], True, False, 0, -1, 1, 2.5,
                -2.5, 1e300, -1e300, 1e308, 1e-300, 10 ** 9, 2 ** 63, 2 ** 64, -(2 ** 63), float("nan"),
                float("inf"), float("-inf"), {"type": "Nope"}, {"type": []}, "nope", 1e9, 1e12, 3]


def _paths(node, path=()):
    """Every (path, value) in the document, the root excluded."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((path + (k,), v))
            out.extend(_paths(v, path + (k,)))
    elif isinstance(node, list):
        for i, v in enumerate(node[:4]):  # long lists: the first few suffice
            out.append((path + (i,), v))
            out.extend(_paths(v, path + (i,)))
    return out


def _parent(doc, path):
    node = doc
    for k in path[:-1]:
        node = node[k]
    return node


def _deep(depth: int):
    """A marker that ``dumps`` writes as ``depth`` nested lists (kept flat until then)."""
    return f"__DEEP_{depth}__"


def mutate(doc: dict, rng: random.Random) -> dict:
    """One edit of a copy of ``doc``."""
    doc = copy.deepcopy(doc)
    paths = _paths(doc)
    path, value = rng.choice(paths)
    parent = _parent(doc, path)
    key = path[-1]
    kind = rng.choice(["replace"] * 6 + ["delete", "extra", "duplicate", "scale", "deep", "type", "reference"])
    if kind == "replace":
        parent[key] = copy.deepcopy(rng.choice(REPLACEMENTS))
    elif kind == "delete":
        if isinstance(parent, dict):
            del parent[key]
        else:
            parent.pop(key)
    elif kind == "extra":
        target = value if isinstance(value, dict) else parent if isinstance(parent, dict) else doc
        target[rng.choice(["extra", "sizes", "tau", "type2"])] = rng.choice(REPLACEMENTS)
    elif kind == "duplicate":
        if isinstance(parent, list):
            parent.append(copy.deepcopy(value))
        else:
            parent[key] = [copy.deepcopy(value)] * rng.choice([0, 2])
    elif kind == "scale":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            parent[key] = value * rng.choice([-1, 0, 1e3, 1e9, 1e300, 1e-9]) if rng.random() < 0.8 else -value
        else:
            parent[key] = rng.choice([1e9, 10 ** 9, -1])
    elif kind == "deep":
        parent[key] = _deep(rng.choice([50, 2000, 100000]))
    elif kind == "type":
        if isinstance(value, dict) and "type" in value:
            value["type"] = rng.choice(["Nope", "IF_curr_exp", "SpikeSourcePoisson", "FromList", "STDP", "OneToOne",
                                        "Izhikevich", "AllToAll", ""])
        else:
            parent[key] = {"type": rng.choice(["IF_curr_exp", "FromList", "Nope"])}
    elif kind == "reference":
        parent[key] = rng.choice(["nope", "input", "exc", "neurons", "input->neurons", ""])
    return doc


def dumps(doc) -> str:
    import re
    text = json.dumps(doc, allow_nan=True)
    return re.sub(r'"__DEEP_(\d+)__"', lambda m: "[" * int(m.group(1)) + "1.0" + "]" * int(m.group(1)), text)


class Slow(Exception):
    pass


def _alarm(signum, frame):
    raise Slow()


def outcome(text: str, limit_s: float = 20.0, run_ms: float = 10.0) -> str:
    """What neuromorph does with ``text`` (see the module docstring)."""
    import neuromorph as nm

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    t0 = time.perf_counter()
    try:
        try:
            net = nm.Network.from_json(text)
            sim = nm.build(net, backend="torch")
            sim.run(run_ms)
            for rec in net.recordings:
                if rec.target in net.populations:
                    for v in rec.variables:
                        if v != "spikes" and not np.all(np.isfinite(sim.trace(rec.target, v))):
                            return "nonfinite"
                else:
                    if not np.all(np.isfinite(sim.weights(rec.target, format="list")[2])):
                        return "nonfinite"
        except nm.NeuromorphError as exc:
            return "refused" if "\n" not in str(exc) and str(exc) else "multiline"
        except Slow:
            return "slow"
        except BaseException as exc:  # noqa: BLE001 - the point is to classify it
            if isinstance(exc, KeyboardInterrupt):
                raise
            return f"exception:{type(exc).__name__}"
        return "ok"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        _ = time.perf_counter() - t0


def cli_exit(text: str, tmp: Path, limit_s: float = 20.0) -> int | str:
    """Exit code of ``neuromorph validate`` (in-process) on ``text``."""
    import contextlib
    import io

    from neuromorph.cli import main

    path = tmp / "model.json"
    path.write_text(text)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            return main(["validate", str(path)])
    except Slow:
        return "slow"
    except SystemExit as exc:
        return exc.code
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def bases():
    """The documents mutated: the example files and a to_json() of a small network with
    every kind of construct."""
    docs = [json.loads(p.read_text()) for p in EXAMPLES]
    import neuromorph as nm
    net = nm.Network(dt=0.5, seed=3)
    src = net.spike_source("src", [[1.0, 2.0], [3.0]])
    pois = net.poisson_source("pois", 3, 20.0)
    a = net.population("a", 2, nm.IF_curr_delta(weight_units="nA"), {"v": [-65.0, -60.0]})
    b = net.population("b", 2, nm.IF_curr_exp(i_offset=0.5))
    c = net.population("c", 2, nm.IF_curr_alpha())
    net.connect(src, a, nm.FromList([(0, 0, 1.0, 1.0), (1, 1, 2.0, 1.5)]), label="fl")
    net.connect(pois, b, nm.FixedProbability(0.5, seed=1), weight=3.0, delay=1.0, label="fp")
    net.connect(a, c, nm.OneToOne(), weight=1.0, receptor="inhibitory", label="oo",
                plasticity=nm.STDP(nm.SpikeNearestPairRule(), nm.Multiplicative(0.0, 2.0)))
    net.connect(c, c, nm.AllToAll(allow_self_connections=False), weight=0.5, label="cc")
    net.record(a, "spikes", "v")
    net.record(c, "v", "isyn_inh", every=2)
    net.record("oo", "weights")
    net.add(nm.SynapticScaling("ss", "c", 5.0))
    net.add(nm.ThresholdAdaptation("ta", "a", 5.0))
    docs.append(json.loads(net.to_json()))
    return docs


def corpus(seed: int, n: int):
    """``n`` mutated model texts, reproducible from ``seed``."""
    rng = random.Random(seed)
    docs = bases()
    out = []
    for _ in range(n):
        doc = rng.choice(docs)
        r = rng.random()
        if r < 0.03:
            out.append(rng.choice(["[" * 100000, "{" * 5000, "", "null", "[]", "1e999", "{\"format\": NaN}"]))
            continue
        m = mutate(doc, rng)
        if r < 0.15:
            m = mutate(m, rng)
        out.append(dumps(m))
    return out


if __name__ == "__main__":  # before/after statistics: python tests/fuzz_corpus.py [n] [seed]
    import collections
    import sys
    import tempfile

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    counts, cli = collections.Counter(), collections.Counter()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        for text in corpus(seed, n):
            counts[outcome(text)] += 1
            cli[cli_exit(text, Path(d))] += 1
    print(f"{n} mutants, seed {seed}, {time.perf_counter() - t0:.1f} s")
    for k, v in counts.most_common():
        print(f"  {k}: {v}")
    print("  CLI exit codes:", dict(cli))
