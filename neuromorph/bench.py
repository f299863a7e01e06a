"""``neuromorph bench``: side-by-side speed of the backends on a fixed benchmark set.

Every case runs in its own subprocess (``python -m neuromorph.bench --case ID --json PATH``) with
one thread (``OMP_NUM_THREADS=1``, ``torch.set_num_threads(1)``, NEST ``local_num_threads=1``)
and a timeout. A case has a *build* phase (network description + ``nm.build``, or NEST's
``Create``/``Connect``) and a *run* phase (``sim.run``, one training iteration, ...); each is
repeated ``--repeats`` times and the minimum is reported, with the child's peak RSS. Ratios are
taken against a reference case (NEST directly for the E/I network). The groups:

- ``ei``: N IF_curr_exp (80 % E / 20 % I), 1000 Poisson inputs (20 Hz, p = 0.04 onto every
  neuron), recurrent FixedProbability(0.1), delay 1 ms, dt 1 ms, all-pairs additive STDP on E→E,
  1 s — torch exact float64 / spinnaker / exact float32, pynn:nest, NEST directly;
- ``delays``: the same at N = 1000 with every delay uniform in 1..16 ms;
- ``dt0.1``: the same at N = 1000 with dt = 0.1 ms;
- ``demo`` and ``stdp-curve``: small-network per-step overhead (the demo network; a 14 Δt × 60
  pairing STDP curve of one pre and one post neuron);
- ``train``: 784 → n → 10 Linear + LIF, batch 16, 100 steps, float32, forward + backward; two
  pairings of the same model: snn.Leaky / by hand / IF_curr_delta, snn.Synaptic / IF_curr_exp;
- ``cam`` and ``spatial``: batched trials against serial runs (per-trial time);
- ``ei-cuda``: the E/I network at N = 100,000 in float32 on CUDA (``--device cuda`` only).

Only the public API is used (``nm.Network``, ``nm.build``, ``sim.run/spikes/weights``, the model
modules' public functions), so the runner works across backend rewrites. docs/benchmarks.md has
the details and the columns.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import math
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA = "neuromorph-bench/1"
DEFAULT_SIZES = (1000, 4000, 10000)
QUICK_SIZE = 200
DEFAULT_TIMEOUT_S = 900.0

# --------------------------------------------------------------------------------------------
# The E/I network (the benchmark)
# --------------------------------------------------------------------------------------------
#: IF_curr_exp parameters (PyNN names and units) of the E/I benchmark network
EI_CELL = dict(cm=1.0, tau_m=20.0, tau_refrac=2.0, tau_syn_E=5.0, tau_syn_I=5.0, v_rest=-65.0, v_reset=-65.0,
               v_thresh=-50.0, i_offset=0.0)
EI_INPUTS, EI_INPUT_P, EI_INPUT_RATE_HZ = 1000, 0.04, 20.0
EI_P = 0.1
#: weights [nA] at N = 1000; recurrent weights scale with 1000/N so that the mean recurrent input
#: per neuron (and the rates) do not depend on N
EI_W_IN, EI_W_E, EI_G = 0.2, 0.02, 5.0
EI_STDP = dict(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012)   # A± times w_max (NEST's lambda)
EI_W_MAX_FACTOR = 2.0                                                        # w_max = 2 × initial E→E weight


def ei_weights(n: int) -> dict:
    """The E/I network's weights [nA] at size ``n``."""
    w_e = EI_W_E * 1000.0 / n
    return {"in": EI_W_IN, "e": w_e, "i": EI_G * w_e, "w_max": EI_W_MAX_FACTOR * w_e}


def ei_network(n: int, p: float = EI_P, dt: float = 1.0, dmax: int = 1, seed: int = 1):
    """The E/I benchmark network: returns ``(net, plastic E→E projection)``. ``dmax`` > 1 draws every
    delay (all projections) uniformly from 1..dmax ms; otherwise every delay is 1 ms."""
    import numpy as np

    import neuromorph as nm

    w = ei_weights(n)
    ne = int(round(0.8 * n))
    ni = n - ne
    rng = np.random.default_rng(seed)
    net = nm.Network(dt=dt, seed=seed)
    inp = net.poisson_source("in", EI_INPUTS, EI_INPUT_RATE_HZ)
    e = net.population("E", ne, nm.IF_curr_exp(**EI_CELL), initial_values={"v": rng.uniform(-65.0, -50.0, ne)})
    i = net.population("I", ni, nm.IF_curr_exp(**EI_CELL), initial_values={"v": rng.uniform(-65.0, -50.0, ni)})

    def delay(n_pre, n_post):
        if dmax <= 1:
            return 1.0
        return rng.integers(1, dmax + 1, size=(n_pre, n_post)).astype(np.float64)

    stdp = nm.STDP(nm.SpikePairRule(**EI_STDP), nm.Additive(w_min=0.0, w_max=w["w_max"], step="times_w_max"))
    net.connect(inp, e, nm.FixedProbability(EI_INPUT_P), weight=w["in"], delay=delay(EI_INPUTS, ne), label="in->E")
    net.connect(inp, i, nm.FixedProbability(EI_INPUT_P), weight=w["in"], delay=delay(EI_INPUTS, ni), label="in->I")
    ee = net.connect(e, e, nm.FixedProbability(p, allow_self_connections=False), weight=w["e"], delay=delay(ne, ne),
                     label="E->E", plasticity=stdp)
    net.connect(e, i, nm.FixedProbability(p), weight=w["e"], delay=delay(ne, ni), label="E->I")
    net.connect(i, e, nm.FixedProbability(p), weight=w["i"], delay=delay(ni, ne), receptor="inhibitory", label="I->E")
    net.connect(i, i, nm.FixedProbability(p, allow_self_connections=False), weight=w["i"], delay=delay(ni, ni),
                receptor="inhibitory", label="I->I")
    net.record(e, "spikes")
    net.record(i, "spikes")
    return net, ee


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------
@dataclass
class Case:
    """One benchmark case. ``id`` = ``group/variant/key=value/...`` fully determines it."""

    group: str
    variant: str
    params: dict
    refs: tuple = ()            # ids of the cases its ratios are taken against (first = "× ref" column)
    torch: bool = False         # runs on torch (``dev`` applies)
    added_as_ref: bool = False

    @property
    def id(self) -> str:
        return "/".join([self.group, self.variant] + [f"{k}={_fmt(v)}" for k, v in self.params.items()])

    @property
    def label(self) -> str:
        p = self.params
        g = self.group
        dev = f" [{p['dev']}]" if p.get("dev", "cpu") != "cpu" else ""
        if g in ("ei", "ei-cuda", "delays", "dt0.1"):
            extra = {"ei": "", "ei-cuda": f" p={_fmt(p.get('p', EI_P))}", "delays": f" d=1..{p.get('dmax', 1)}",
                     "dt0.1": " dt=0.1"}[g]
            return f"E/I n={p['n']}{extra} {_VARIANT_NAMES.get(self.variant, self.variant)}{dev}"
        if g == "demo":
            return f"demo {_VARIANT_NAMES.get(self.variant, self.variant)}{dev}"
        if g == "stdp-curve":
            return f"STDP curve {p['dts']}x{p['pairs']} {_VARIANT_NAMES.get(self.variant, self.variant)}{dev}"
        if g == "train":
            return f"train 784-{p['h']}-10 {self.variant}{dev}"
        if g in ("cam", "spatial"):
            return f"{'CA3 CAM' if g == 'cam' else 'spatial'} {self.variant} x{p['trials']}{dev}"
        return self.id


_VARIANT_NAMES = {"torch-exact": "torch exact f64", "torch-spinnaker": "torch spinnaker f64",
                  "torch-exact-f32": "torch exact f32", "pynn-nest": "pynn:nest", "nest-direct": "NEST direct"}


def _fmt(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def parse_id(case_id: str) -> Case:
    """The inverse of ``Case.id``."""
    parts = case_id.split("/")
    if len(parts) < 2:
        raise ValueError(f"case id {case_id!r} is not GROUP/VARIANT[/key=value...]")
    params = {}
    for item in parts[2:]:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"case id {case_id!r}: {item!r} is not key=value")
        try:
            params[key] = int(value)
        except ValueError:
            try:
                params[key] = float(value)
            except ValueError:
                params[key] = value
    group, variant = parts[0], parts[1]
    if group not in RUNNERS:
        raise ValueError(f"case id {case_id!r}: unknown group {group!r} (groups: {', '.join(RUNNERS)})")
    return Case(group, variant, params, torch=not variant.startswith(("nest", "pynn")))


def plan(sizes=DEFAULT_SIZES, quick: bool = False, device: str = "cpu") -> list[Case]:
    """Every case of the benchmark set, references first within each group."""
    dev = {"dev": device}
    ms = 200 if quick else 1000
    small_n = QUICK_SIZE if quick else 1000
    cases: list[Case] = []

    def add(group, variant, params, refs=(), torch=None):
        c = Case(group, variant, params, tuple(refs), torch=variant.startswith("torch") if torch is None else torch)
        if c.torch:
            c.params.update(dev)
        cases.append(c)
        return c

    # 1. E/I network with STDP
    for n in sizes:
        base = {"n": int(n), "ms": ms}
        ref = add("ei", "nest-direct", dict(base)).id
        for v in ("torch-exact", "torch-spinnaker", "torch-exact-f32", "pynn-nest"):
            add("ei", v, dict(base), [ref])
    # 2. heterogeneous delays
    base = {"n": small_n, "ms": ms}
    nest_1 = Case("ei", "nest-direct", dict(base)).id
    torch_1 = Case("ei", "torch-exact", dict(base, **dev), torch=True).id
    nest_d = add("delays", "nest-direct", dict(base, dmax=16), [nest_1]).id
    add("delays", "torch-exact", dict(base, dmax=16), [nest_d, torch_1])
    # 3. dt = 0.1 ms
    base = {"n": small_n, "ms": 50 if quick else 1000}
    ref = add("dt0.1", "nest-direct", dict(base)).id
    add("dt0.1", "torch-exact", dict(base), [ref])
    # 4. small networks: per-step overhead
    ref = add("demo", "pynn-nest", {"ms": ms}).id
    add("demo", "torch-spinnaker", {"ms": ms}, [ref])
    add("demo", "torch-exact", {"ms": ms}, [ref])
    pairs = 3 if quick else 60
    ref = add("stdp-curve", "pynn-nest", {"dts": 14, "pairs": pairs}).id
    add("stdp-curve", "torch-exact", {"dts": 14, "pairs": pairs}, [ref])
    # 5. training
    for h in ((64,) if quick else (1024, 4096)):
        base = {"h": h, "batch": 16, "steps": 20 if quick else 100}
        # the same model in each row of a pairing (docs/benchmarks.md "The cases"): a one-state
        # delta-input LIF (snn.Leaky, NEST iaf_psc_delta, by hand), then a two-state one
        # (snn.Synaptic, NEST iaf_psc_exp)
        ref = add("train", "snntorch", dict(base), torch=True).id
        hand = add("train", "torch", dict(base), [ref], torch=True).id
        add("train", "neuromorph", dict(base), [ref, hand], torch=True)
        ref = add("train", "snntorch-synaptic", dict(base), torch=True).id
        add("train", "neuromorph-exp", dict(base), [ref], torch=True)
    # 6. batched trials
    trials = 8 if quick else 64
    ref = add("cam", "serial", {"trials": trials}, torch=True).id
    add("cam", "batched", {"trials": trials}, [ref], torch=True)
    ref = add("spatial", "serial", {"trials": 8 if quick else 64}, torch=True).id
    add("spatial", "batched", {"trials": 64 if quick else 1024}, [ref], torch=True)
    # 7. CUDA only: the E/I network at N = 100,000 in float32
    if device.startswith("cuda"):
        add("ei-cuda", "torch-exact-f32", {"n": 2000 if quick else 100_000, "p": EI_P, "ms": ms})
    return cases


def select(cases: list[Case], only=(), add_refs: bool = True) -> list[Case]:
    """Cases whose id contains one of the ``only`` substrings (all when empty), plus (``add_refs``)
    the reference cases their ratios need that are not among them, placed before them."""
    chosen = [c for c in cases if not only or any(s in c.id for s in only)]
    if not add_refs:
        return chosen
    ids = {c.id for c in chosen}
    out = []
    for c in chosen:
        for ref in c.refs:
            if ref not in ids:
                rc = parse_id(ref)
                rc.added_as_ref = True
                out.append(rc)
                ids.add(ref)
        out.append(c)
    return out


# --------------------------------------------------------------------------------------------
# Measuring (child side)
# --------------------------------------------------------------------------------------------
@dataclass
class Spec:
    """What a case does: ``build() -> obj`` (timed as build), ``run(obj) -> out`` (timed as run),
    ``finish(obj, out) -> metrics`` (untimed). ``rebuild``: build again before every repeat (a
    simulation continues from where it stopped) or once (a training loop)."""

    build: object
    run: object
    finish: object
    rebuild: bool = True
    sim_ms: float | None = None   # simulated time per run (for the real-time factor)
    trials: int | None = None     # trials per run (for the per-trial time)
    cuda: bool = False
    notes: list = field(default_factory=list)


def _one_thread():
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import torch

        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
    except ImportError:
        pass


def _rss_mb() -> float:
    import resource

    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kb / (1 << 20) if sys.platform == "darwin" else kb / 1024.0, 1)


def run_case(case: Case, repeats: int = 3, budget_s: float | None = None, out_path: str | None = None) -> dict:
    """Measure one case in this process (the child side). Writes the result to ``out_path`` after
    every repeat, so a timeout still leaves the repeats done."""
    result = {"id": case.id, "group": case.group, "variant": case.variant, "params": case.params,
              "label": case.label, "status": "running", "builds_s": [], "runs_s": []}

    frozen = []

    def save():
        if not frozen:   # the peak of building and running, before the (untimed) checks
            result["peak_rss_mb"] = _rss_mb()
        if out_path:
            tmp = out_path + ".tmp"
            with open(tmp, "w") as fh:
                json.dump(result, fh, default=_json_default)
            os.replace(tmp, out_path)

    t_start = time.perf_counter()
    try:
        if case.torch and str(case.params.get("dev", "cpu")).startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise RuntimeError("CUDA is not available to torch here")
        spec = RUNNERS[case.group](case)
        result["sim_ms"] = spec.sim_ms
        result["trials"] = spec.trials
        save()
        sync = _cuda_sync if spec.cuda else (lambda: None)
        obj = out = None
        for r in range(max(1, repeats)):
            if spec.rebuild or obj is None:
                obj = out = None
                gc.collect()
                t0 = time.perf_counter()
                obj = spec.build()
                sync()
                result["builds_s"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            out = spec.run(obj)
            sync()
            result["runs_s"].append(time.perf_counter() - t0)
            result["build_s"] = min(result["builds_s"])
            result["run_s"] = min(result["runs_s"])
            save()
            spent = time.perf_counter() - t_start
            last = result["runs_s"][-1] + (result["builds_s"][-1] if spec.rebuild else 0.0)
            if budget_s is not None and r + 1 < repeats and spent + 1.2 * last > budget_s:
                spec.notes.append(f"{r + 1} of {repeats} repeats (time budget)")
                break
        result["peak_rss_mb"] = _rss_mb()
        frozen.append(True)
        result["metrics"] = spec.finish(obj, out) or {}
        if spec.cuda:
            import torch

            result["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2 ** 20, 1)
        result["status"] = "ok"
    except BaseException as exc:  # noqa: BLE001 - reported, not raised: the parent prints it
        result["status"] = "failed"
        result["error"] = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:500]
        traceback.print_exc()
        if isinstance(exc, KeyboardInterrupt):
            save()
            raise
    result["repeats"] = len(result["runs_s"])
    if "spec" in locals() and spec.notes:
        result["note"] = "; ".join(spec.notes)
    result["child_wall_s"] = time.perf_counter() - t_start
    save()
    return result


def _cuda_sync():
    import torch

    torch.cuda.synchronize()


def _json_default(o):
    try:
        import numpy as np

        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:
        pass
    return str(o)


def _dtype(variant: str):
    import torch

    return torch.float32 if variant.endswith("f32") else torch.float64


def _numerics(variant: str) -> str:
    return "spinnaker" if "spinnaker" in variant else "exact"


def _rate(spikes, ms) -> float:
    count = sum(len(s) for s in spikes)
    return round(count / max(1, len(spikes)) / (ms / 1000.0), 3)


def _synapses(net, projection) -> int:
    conn = net.connectivity(projection)
    return int(conn.size) if hasattr(conn, "size") else int(conn.mask.sum())


def _mean_weight(sim, projection) -> float:
    """Mean weight of a projection's synapses, from the synapse list where the backend has it."""
    import numpy as np

    try:
        w = sim.weights(projection, format="list")[2]
        return float(np.mean(np.asarray(w, dtype=np.float64)))
    except TypeError:   # a backend without format=
        return float(np.nanmean(np.asarray(sim.weights(projection), dtype=np.float64)))


# -- E/I network ------------------------------------------------------------------------------
def _ei_params(case: Case) -> dict:
    p = case.params
    return dict(n=int(p["n"]), ms=float(p.get("ms", 1000)), p=float(p.get("p", EI_P)),
                dt=0.1 if case.group == "dt0.1" else 1.0, dmax=int(p.get("dmax", 1)))


def _ei_runner(case: Case) -> Spec:
    q = _ei_params(case)
    if case.variant == "nest-direct":
        return _ei_nest_direct(q)
    import numpy as np

    import neuromorph as nm

    if case.variant == "pynn-nest":
        options, cuda = {"backend": "pynn:nest", "threads": 1}, False
    else:
        dev = case.params.get("dev", "cpu")
        options = {"backend": "torch", "numerics": _numerics(case.variant), "dtype": _dtype(case.variant), "device": dev}
        cuda = str(dev).startswith("cuda")

    def build():
        net, ee = ei_network(q["n"], q["p"], q["dt"], q["dmax"])
        sim = nm.build(net, **options)
        return net, ee, sim

    def run(obj):
        obj[2].run(q["ms"])

    def finish(obj, _):
        net, ee, sim = obj
        syn = sum(_synapses(net, p) for p in net.projections)
        return {"rate_hz": {"E": _rate(sim.spikes("E"), q["ms"]), "I": _rate(sim.spikes("I"), q["ms"])},
                "synapses": syn, "w_ee_mean_nA": [ei_weights(q["n"])["e"], _mean_weight(sim, ee)]}

    return Spec(build, run, finish, sim_ms=q["ms"], cuda=cuda)


def _nest_quiet():
    os.environ.setdefault("PYNEST_QUIET", "1")
    import warnings

    import nest

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            nest.set_verbosity("M_ERROR")
        except Exception:  # noqa: BLE001 - newer NEST: attribute instead
            pass
    return nest


def _ei_nest_direct(q: dict) -> Spec:
    """The E/I network written directly in PyNEST (iaf_psc_exp, on-grid, stdp_synapse), same
    sizes, rates, weights and statistics as :func:`ei_network` (connectivity drawn by NEST)."""
    import numpy as np

    nest = _nest_quiet()
    n, dt, dmax = q["n"], q["dt"], q["dmax"]
    w = ei_weights(n)
    ne = int(round(0.8 * n))
    ni = n - ne
    c = EI_CELL
    cell = {"C_m": c["cm"] * 1000.0, "tau_m": c["tau_m"], "t_ref": c["tau_refrac"], "tau_syn_ex": c["tau_syn_E"],
            "tau_syn_in": c["tau_syn_I"], "E_L": c["v_rest"], "V_reset": c["v_reset"], "V_th": c["v_thresh"],
            "I_e": c["i_offset"] * 1000.0, "tau_minus": EI_STDP["tau_minus"]}
    rng = np.random.default_rng(1)
    v_e, v_i = rng.uniform(-65.0, -50.0, ne), rng.uniform(-65.0, -50.0, ni)

    def delay():
        return 1.0 if dmax <= 1 else 1.0 + nest.random.uniform_int(dmax)

    def build():
        nest.ResetKernel()
        nest.SetKernelStatus({"resolution": dt, "local_num_threads": 1, "rng_seed": 12345, "print_time": False})
        E = nest.Create("iaf_psc_exp", ne, params=cell)
        I = nest.Create("iaf_psc_exp", ni, params=cell)
        E.V_m = list(v_e)
        I.V_m = list(v_i)
        gen = nest.Create("poisson_generator", params={"rate": EI_INPUT_RATE_HZ})
        parrots = nest.Create("parrot_neuron", EI_INPUTS)
        nest.Connect(gen, parrots, syn_spec={"delay": dt})
        nest.CopyModel("stdp_synapse", "ee_stdp",
                       {"tau_plus": EI_STDP["tau_plus"], "lambda": EI_STDP["A_plus"],
                        "alpha": EI_STDP["A_minus"] / EI_STDP["A_plus"], "mu_plus": 0.0, "mu_minus": 0.0,
                        "Wmax": w["w_max"] * 1000.0})
        bern = lambda p, autapses=True: {"rule": "pairwise_bernoulli", "p": p, "allow_autapses": autapses}
        for post in (E, I):
            nest.Connect(parrots, post, bern(EI_INPUT_P), {"weight": w["in"] * 1000.0, "delay": delay()})
        nest.Connect(E, E, bern(q["p"], False), {"synapse_model": "ee_stdp", "weight": w["e"] * 1000.0, "delay": delay()})
        nest.Connect(E, I, bern(q["p"]), {"weight": w["e"] * 1000.0, "delay": delay()})
        nest.Connect(I, E, bern(q["p"]), {"weight": -w["i"] * 1000.0, "delay": delay()})
        nest.Connect(I, I, bern(q["p"], False), {"weight": -w["i"] * 1000.0, "delay": delay()})
        sr_e, sr_i = nest.Create("spike_recorder"), nest.Create("spike_recorder")
        nest.Connect(E, sr_e)
        nest.Connect(I, sr_i)
        nest.Prepare()   # NEST builds its connection infrastructure here (part of building)
        return E, I, sr_e, sr_i

    def run(obj):
        nest.Run(q["ms"])

    def finish(obj, _):
        E, I, sr_e, sr_i = obj
        nest.Cleanup()
        ee = nest.GetConnections(E[:min(ne, 100)], E)     # a sample: reading millions of weights is slow
        w_ee = np.asarray(ee.get("weight"), dtype=np.float64).ravel() / 1000.0
        return {"rate_hz": {"E": round(sr_e.n_events / ne / (q["ms"] / 1000.0), 3),
                            "I": round(sr_i.n_events / ni / (q["ms"] / 1000.0), 3)},
                "synapses": int(nest.num_connections) - EI_INPUTS - n,   # less generator->parrot and recorders
                "w_ee_mean_nA": [w["e"], float(w_ee.mean()) if w_ee.size else float("nan")]}

    return Spec(build, run, finish, sim_ms=q["ms"])


# -- small networks -------------------------------------------------------------------------
def _demo_runner(case: Case) -> Spec:
    import numpy as np

    import neuromorph as nm
    from neuromorph.demo import demo_network

    ms = float(case.params.get("ms", 1000))
    if case.variant == "pynn-nest":
        options, cuda = {"backend": "pynn:nest", "threads": 1}, False
    else:
        dev = case.params.get("dev", "cpu")
        options = {"backend": "torch", "numerics": _numerics(case.variant), "device": dev}
        cuda = str(dev).startswith("cuda")

    def build():
        net, ee = demo_network(0)
        return net, ee, nm.build(net, **options)

    def finish(obj, _):
        net, ee, sim = obj
        return {"rate_hz": {p: _rate(sim.spikes(p), ms) for p in ("exc", "inh")}, "w_ee_mean_nA": _mean_weight(sim, ee)}

    return Spec(build, lambda obj: obj[2].run(ms), finish, sim_ms=ms, cuda=cuda)


#: Δt = t_post − t_pre [ms] of the STDP-curve study; one pairing every STDP_PERIOD_MS
STDP_DTS = (-40.0, -30.0, -20.0, -15.0, -10.0, -5.0, -2.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0)
STDP_PERIOD_MS, STDP_T0_MS, STDP_W0_MV = 100.0, 50.0, 2.0


def stdp_pair_network(delta_ms: float, pairs: int):
    """One pre and one post neuron (IF_curr_delta, mV) driven by spike sources: ``pairs`` pairings
    with t_post − t_pre = ``delta_ms``, one every 100 ms; a teacher source forces each post spike
    (30 mV, it fires one step after the teacher's arrival), the plastic synapse (2 mV) is far too
    weak to. A last pre spike collects pending potentiation. Returns ``(net, duration_ms)``."""
    import neuromorph as nm

    pre = [STDP_T0_MS + k * STDP_PERIOD_MS for k in range(pairs)]
    post = [t + delta_ms for t in pre]
    teacher = [t - 1.0 for t in post]      # the post neuron fires one step after its teacher spike
    last = STDP_T0_MS + pairs * STDP_PERIOD_MS
    net = nm.Network(dt=1.0)
    net.spike_source("pre", [pre + [last]])
    net.spike_source("teacher", [teacher])
    net.population("post", 1, nm.IF_curr_delta(weight_units="mV"))
    net.connect("teacher", "post", nm.OneToOne(), weight=30.0, delay=1.0, label="teach")
    net.connect("pre", "post", nm.OneToOne(), weight=STDP_W0_MV, delay=1.0, label="syn",
                plasticity=nm.STDP(nm.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.02, A_minus=0.024),
                                   nm.Additive(w_min=0.0, w_max=2 * STDP_W0_MV)))
    net.record("post", "spikes")
    return net, last + 50.0


def _stdp_curve_runner(case: Case) -> Spec:
    import neuromorph as nm

    pairs = int(case.params.get("pairs", 60))
    dts = STDP_DTS[:int(case.params.get("dts", 14))]
    if case.variant == "pynn-nest":
        options, cuda = {"backend": "pynn:nest", "threads": 1}, False
    else:
        dev = case.params.get("dev", "cpu")
        options = {"backend": "torch", "numerics": _numerics(case.variant), "device": dev}
        cuda = str(dev).startswith("cuda")
    nets = [stdp_pair_network(d, pairs) for d in dts]

    def build():
        # one network and one simulation per Δt, as a study script would (PyNN: one at a time)
        return [(net, ms) for net, ms in nets]

    def run(obj):
        dw = []
        for net, ms in obj:
            sim = nm.build(net, **options)
            sim.run(ms)
            dw.append(float(sim.weights("syn")[0, 0]) - STDP_W0_MV)
        return dw

    def finish(obj, dw):
        return {"curve_dw_mV": [[d, round(x, 9)] for d, x in zip(dts, dw)]}

    spec = Spec(build, run, finish, sim_ms=sum(ms for _, ms in nets), cuda=cuda)
    spec.notes.append("run = build + run of the 14 simulations")
    return spec


# -- training ------------------------------------------------------------------------------
TRAIN_IN, TRAIN_OUT, TRAIN_INPUT_P = 784, 10, 0.1
TRAIN_LR = 1e-5   # small: the network stays in the same regime over the timed iterations
#: neuromorph's weights (non-negative, mV or nA) are ~10x smaller than nn.Linear's and its spike counts
#: larger, so the same regime needs a smaller step; what a step costs does not depend on it
TRAIN_LR_NEUROMORPH = 1e-7


def _train_data(batch, steps, dev):
    import torch

    g = torch.Generator().manual_seed(0)
    x = (torch.rand(steps, batch, TRAIN_IN, generator=g) < TRAIN_INPUT_P).to(torch.float32)
    labels = torch.randint(0, TRAIN_OUT, (batch,), generator=g)
    target = torch.nn.functional.one_hot(labels, TRAIN_OUT).to(torch.float32) * (steps / 10.0)
    return x.to(dev), target.to(dev)


def _train_runner(case: Case) -> Spec:
    """The training cases, in two pairings of the same model (docs/benchmarks.md "The cases"):

    - one state, delta input: ``snntorch`` (``snn.Leaky``), ``torch`` (the same loop by hand) and
      ``neuromorph`` (``IF_curr_delta``, tau_refrac = 0: NEST's iaf_psc_delta, V jumps by the
      input); V in units of the threshold (v_rest = v_reset = 0, v_thresh = 1 mV);
    - two states, exponential synapse: ``snntorch-synaptic`` (``snn.Synaptic``, tau_syn 5 ms) and
      ``neuromorph-exp`` (``IF_curr_exp``: NEST's iaf_psc_exp, V plus two synaptic currents plus
      refractoriness, as the E/I network uses it).
    """
    import numpy as np
    import torch

    h, batch, steps = int(case.params["h"]), int(case.params.get("batch", 16)), int(case.params.get("steps", 100))
    dev = case.params.get("dev", "cpu")
    cuda = str(dev).startswith("cuda")
    x, target = _train_data(batch, steps, dev)
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)   # torch.optim's lazy imports: not the build
    beta = math.exp(-1.0 / 20.0)   # tau_m = 20 ms at dt = 1 ms
    alpha = math.exp(-1.0 / 5.0)   # tau_syn = 5 ms
    notes = []

    if case.variant in ("snntorch", "snntorch-synaptic"):
        import snntorch as snn

        synaptic = case.variant == "snntorch-synaptic"

        def build():
            torch.manual_seed(0)
            lif = (lambda: snn.Synaptic(alpha=alpha, beta=beta)) if synaptic else (lambda: snn.Leaky(beta=beta))
            model = torch.nn.ModuleDict({"fc1": torch.nn.Linear(TRAIN_IN, h), "lif1": lif(),
                                         "fc2": torch.nn.Linear(h, TRAIN_OUT), "lif2": lif()}).to(dev)
            return model, torch.optim.SGD(model.parameters(), lr=TRAIN_LR)

        def run(obj):
            model, opt = obj
            opt.zero_grad()
            out = []
            if synaptic:
                syn1, mem1 = model["lif1"].init_synaptic()
                syn2, mem2 = model["lif2"].init_synaptic()
                for t in range(steps):
                    spk1, syn1, mem1 = model["lif1"](model["fc1"](x[t]), syn1, mem1)
                    spk2, syn2, mem2 = model["lif2"](model["fc2"](spk1), syn2, mem2)
                    out.append(spk2)
            else:
                mem1, mem2 = model["lif1"].init_leaky(), model["lif2"].init_leaky()
                for t in range(steps):
                    spk1, mem1 = model["lif1"](model["fc1"](x[t]), mem1)
                    spk2, mem2 = model["lif2"](model["fc2"](spk1), mem2)
                    out.append(spk2)
            counts = torch.stack(out).sum(0)
            loss = ((counts - target) ** 2).mean()
            loss.backward()
            opt.step()
            return loss.item(), counts.mean().item()
    elif case.variant == "torch":
        class Spike(torch.autograd.Function):
            @staticmethod
            def forward(ctx, v):
                ctx.save_for_backward(v)
                return (v > 0).to(v.dtype)

            @staticmethod
            def backward(ctx, grad):
                (v,) = ctx.saved_tensors
                return grad / (1.0 + (math.pi * v) ** 2)    # arctan surrogate, like snnTorch's default

        def build():
            torch.manual_seed(0)
            w1 = (torch.rand(TRAIN_IN, h, device=dev) * 2 - 1) / math.sqrt(TRAIN_IN)
            w2 = (torch.rand(h, TRAIN_OUT, device=dev) * 2 - 1) / math.sqrt(h)
            params = [w1.requires_grad_(), w2.requires_grad_()]
            return params, torch.optim.SGD(params, lr=TRAIN_LR)

        def run(obj):
            (w1, w2), opt = obj
            opt.zero_grad()
            v1 = torch.zeros(batch, h, device=dev)
            v2 = torch.zeros(batch, TRAIN_OUT, device=dev)
            out = []
            for t in range(steps):
                v1 = beta * v1 + x[t] @ w1
                s1 = Spike.apply(v1 - 1.0)
                v1 = v1 - s1                    # reset by subtraction
                v2 = beta * v2 + s1 @ w2
                s2 = Spike.apply(v2 - 1.0)
                v2 = v2 - s2
                out.append(s2)
            counts = torch.stack(out).sum(0)
            loss = ((counts - target) ** 2).mean()
            loss.backward()
            opt.step()
            return loss.item(), counts.mean().item()
    elif case.variant in ("neuromorph", "neuromorph-exp"):
        import inspect

        import neuromorph as nm

        exp = case.variant == "neuromorph-exp"
        rng = np.random.default_rng(0)
        if exp:   # nA onto IF_curr_exp (the E/I network's cell)
            w1 = rng.uniform(0.0, 0.006, (TRAIN_IN, h))
            w2 = rng.uniform(0.0, 0.008 * 1024.0 / h, (h, TRAIN_OUT))
            cell = nm.IF_curr_exp(tau_refrac=1.0)
        else:     # mV jumps onto a threshold of 1 mV above rest (snn.Leaky's units)
            w1 = rng.uniform(0.0, 0.004, (TRAIN_IN, h))
            w2 = rng.uniform(0.0, 0.0024 * 1024.0 / h, (h, TRAIN_OUT))
            cell = nm.IF_curr_delta(tau_m=20.0, tau_refrac=0.0, v_rest=0.0, v_reset=0.0, v_thresh=1.0, weight_units="mV")
        xs = x.cpu().numpy()
        times = [[list(np.nonzero(xs[:, b, i])[0] * 1.0 + 1.0) for i in range(TRAIN_IN)] for b in range(batch)]

        def build():
            net = nm.Network(dt=1.0, seed=0)
            net.spike_source("in", times[0])
            net.population("hid", h, cell)
            net.population("out", TRAIN_OUT, cell)
            net.connect("in", "hid", nm.AllToAll(), weight=w1, delay=1.0, label="in->hid")
            net.connect("hid", "out", nm.AllToAll(), weight=w2, delay=1.0, label="hid->out")
            sim = nm.build(net, backend="torch", numerics="exact", dtype=torch.float32, batch=batch, device=dev,
                           trainable=["in->hid", "hid->out"])
            tensor_inputs = "inputs" in inspect.signature(sim.forward).parameters
            if not tensor_inputs and batch > 1 and hasattr(sim, "set_spike_times"):
                sim.set_spike_times("in", times)
            notes[:] = ["input: " + ("tensor (sim.forward inputs=)" if tensor_inputs else "spike-time lists")]
            return sim, torch.optim.SGD(sim.parameters(), lr=TRAIN_LR_NEUROMORPH), tensor_inputs

        def run(obj):
            sim, opt, tensor_inputs = obj
            sim.reset()
            opt.zero_grad()
            kw = {"inputs": {"in": x}} if tensor_inputs else {}
            spikes = sim.forward(float(steps), outputs=["out"], **kw)["out"]
            counts = spikes.sum(0)
            loss = ((counts - target.to(spikes.dtype)) ** 2).mean()
            loss.backward()
            opt.step()
            return loss.item(), counts.mean().item()
    else:
        raise ValueError(f"unknown training variant {case.variant!r}")

    def finish(obj, out):
        loss, count = out
        return {"loss": round(float(loss), 6), "output_spikes_per_neuron": round(float(count), 3)}

    spec = Spec(build, run, finish, rebuild=False, cuda=cuda)
    spec.notes = notes
    return spec


# -- batched trials --------------------------------------------------------------------------
def _cam_runner(case: Case) -> Spec:
    import neuromorph as nm
    from neuromorph.models import ca3_cam as cam

    trials = int(case.params["trials"])
    dev = case.params.get("dev", "cpu")
    n, m, numerics = 5, 10, "spinnaker"
    ops = cam.FUNCTIONAL_TEST
    rows = cam.input_spikes(n, m, ops)
    latency = 5.0 + 3.0 * nm.PROFILES[numerics].stamp_offset
    duration = ops[-1]["t"] + cam.slot_ms(ops[-1]["op"]) + latency
    ideal, expected = cam.IdealCAM(), []
    for op in ops:
        if op["op"] == "learn":
            ideal.learn(op["cue"], op["content"])
        else:
            expected.append(ideal.recall(cue=op.get("cue")) if op["op"] == "recall_by_cue"
                            else ideal.recall(content=op["content"]))

    def decode(ol):
        """Answers of the recall operations from the output layer's spikes (one trial)."""
        answers = []
        for op in ops:
            if op["op"] == "learn":
                continue
            lo, hi = op["t"] + latency, op["t"] + latency + cam.slot_ms(op["op"])
            half = range(n) if op["op"] == "recall_by_content" else range(n, n + m)
            off = 0 if op["op"] == "recall_by_content" else n
            answers.append(sorted(i - off for i in half if any(lo <= t < hi for t in ol[i])))
        return answers

    def make():
        return nm.build(cam.build_network(n, m, rows), backend="torch", numerics=numerics, device=dev,
                        batch=trials if case.variant == "batched" else 1)

    if case.variant == "batched":
        def build():
            return make()

        def run(sim):
            sim.run(duration)
            ol = sim.spikes("OL")
            return [decode(ol[b]) for b in range(trials)]
    else:
        def build():
            return [make() for _ in range(trials)]

        def run(sims):
            out = []
            for sim in sims:
                sim.run(duration)
                out.append(decode(sim.spikes("OL")))
            return out

    def finish(obj, answers):
        ok = sum(a == expected for a in answers)
        return {"trials_matching_ideal_cam": ok, "trials": trials}

    return Spec(build, run, finish, sim_ms=duration, trials=trials, cuda=str(dev).startswith("cuda"))


def _spatial_runner(case: Case) -> Spec:
    import numpy as np

    import neuromorph as nm
    from neuromorph.models import spatial_pattern as sp

    trials = int(case.params["trials"])
    dev = case.params.get("dev", "cpu")
    bits, trained = 10, [992, 1008]
    learned = sp.train_words(trained, bits)                   # setup (untimed): the paper's pair of words
    W1 = np.sum([r["W1"] for r in learned], axis=0)
    W0 = np.sum([r["W0"] for r in learned], axis=0)
    h, _ = sp.homeostasis_factor(trained, W1, W0, bits)
    # the trained words plus words spread evenly over all 2^bits (all of them at 1024 trials)
    spread = [int(w) for w in np.linspace(0, 2 ** bits - 1, min(trials, 2 ** bits)).round()]
    words = (trained + [w for w in dict.fromkeys(spread) if w not in trained])[:trials]

    def inputs(word):
        b = sp.word_bits(word, bits)
        return [[sp.TEST_AT_MS] if x else [] for x in b], [[] if x else [sp.TEST_AT_MS] for x in b]

    def make(word, batch):
        return nm.build(sp.build_test_network(W1, W0, [h], bits, word), backend="torch", numerics="spinnaker",
                        device=dev, batch=batch)

    if case.variant == "batched":
        def build():
            sim = make(words[0], len(words))
            ins = [inputs(w) for w in words]
            sim.set_spike_times("source_one", [o for o, _ in ins])
            sim.set_spike_times("source_zero", [z for _, z in ins])
            return sim

        def run(sim):
            sim.run(sp.TEST_MS)
            out = sim.spikes("output")
            return [w for b, w in enumerate(words) if len(out[b][0]) > 0]
    else:
        def build():
            return [make(w, 1) for w in words]

        def run(sims):
            detected = []
            for w, sim in zip(words, sims):
                sim.run(sp.TEST_MS)
                if len(sim.spikes("output")[0]) > 0:
                    detected.append(w)
            return detected

    def finish(obj, detected):
        return {"trials": len(words), "detected": len(detected),
                "trained_detected": sorted(set(detected) & set(trained)), "h": h}

    return Spec(build, run, finish, sim_ms=sp.TEST_MS, trials=len(words), cuda=str(dev).startswith("cuda"))


RUNNERS = {"ei": _ei_runner, "delays": _ei_runner, "dt0.1": _ei_runner, "demo": _demo_runner,
           "stdp-curve": _stdp_curve_runner, "train": _train_runner, "cam": _cam_runner,
           "spatial": _spatial_runner, "ei-cuda": _ei_runner}


# --------------------------------------------------------------------------------------------
# The parent: subprocesses, table, JSON
# --------------------------------------------------------------------------------------------
def machine_info(device: str = "cpu") -> dict:
    from importlib import metadata

    from . import __version__

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for dist in ("torch", "snntorch", "nest-simulator", "PyNN", "numpy"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    info = {"date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "host": platform.node(), "platform": platform.platform(), "python": platform.python_version(),
            "cpu": cpu, "cores": os.cpu_count(),
            "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "load_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            "neuromorph": __version__, "versions": versions, "device": device, "gpu": None,
            "git": _git_rev()}
    try:
        mem = {k: int(v.split()[0]) for k, v in (ln.split(":", 1) for ln in Path("/proc/meminfo").read_text().splitlines())
               if k in ("MemTotal", "MemAvailable")}
        info["memory_gb"] = {k: round(v / 2 ** 20, 1) for k, v in mem.items()}
    except (OSError, ValueError):
        pass
    if device.startswith("cuda"):
        info["gpu"] = _gpu_name()
    return info


def _gpu_name():
    try:
        out = subprocess.run([sys.executable, "-c", "import torch; print(torch.cuda.get_device_name(0) "
                              "if torch.cuda.is_available() else '')"], capture_output=True, text=True, timeout=120)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


def _git_rev():
    try:
        root = Path(__file__).resolve().parents[1]
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             timeout=10)
        if out.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def child_env() -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        env[var] = "1"
    env["PYNEST_QUIET"] = "1"
    return env


def run_subprocess(case: Case, repeats: int, timeout_s: float) -> dict:
    """Run one case in a child process; always returns a result dict (status ok / failed / timeout)."""
    with tempfile.TemporaryDirectory(prefix="nm-bench-") as tmp:
        out_path = os.path.join(tmp, "result.json")
        err_path = os.path.join(tmp, "stderr.txt")
        cmd = [sys.executable, "-m", "neuromorph.bench", "--case", case.id, "--repeats", str(repeats),
               "--budget", f"{max(1.0, timeout_s * 0.85 - 3.0):.1f}", "--json", out_path]
        t0 = time.perf_counter()
        status = None
        with open(err_path, "w") as err, open(os.devnull, "w") as devnull:
            proc = subprocess.Popen(cmd, stdout=devnull, stderr=err, stdin=subprocess.DEVNULL, env=child_env(),
                                    start_new_session=True)
            try:
                rc = proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                status = "timeout"
                try:
                    os.killpg(proc.pid, signal.SIGKILL)   # the child's own session: it and its helpers
                except ProcessLookupError:
                    pass
                rc = proc.wait()
            except KeyboardInterrupt:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
                raise
        wall = time.perf_counter() - t0
        result = None
        try:
            with open(out_path) as fh:
                result = json.load(fh)
        except (OSError, ValueError):
            pass
        if result is None:
            result = {"id": case.id, "group": case.group, "variant": case.variant, "params": case.params,
                      "label": case.label, "status": "failed", "builds_s": [], "runs_s": []}
        if status == "timeout":
            result["status"] = "timeout"
            result["error"] = f"timed out after {timeout_s:.0f} s" + (
                f" ({len(result['runs_s'])} repeat{'' if len(result['runs_s']) == 1 else 's'} done)" if result.get("runs_s") else "")
        elif rc != 0 and result.get("status") != "failed":
            result["status"] = "failed"
            if rc < 0:
                sig = signal.Signals(-rc).name if -rc in signal.valid_signals() else str(-rc)
                result["error"] = f"killed by {sig}" + (" (out of memory?)" if rc == -signal.SIGKILL else "")
            else:
                result["error"] = f"exit code {rc}: {_last_line(err_path)}"
        if result.get("status") == "failed" and not result.get("error"):
            result["error"] = _last_line(err_path)
        result["wall_s"] = round(wall, 3)
        result["repeats"] = len(result.get("runs_s", []))
        result["added_as_ref"] = case.added_as_ref
        return result


def _last_line(path) -> str:
    try:
        lines = [ln.strip() for ln in Path(path).read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def _derived(result: dict) -> None:
    """Per-trial time, real-time factor and the compared time of a result (in place)."""
    run_s, build_s = result.get("run_s"), result.get("build_s")
    if run_s is None:
        return
    trials = result.get("trials")
    if trials:
        result["per_trial_s"] = (run_s + (build_s or 0.0)) / trials
        result["compare_s"] = result["per_trial_s"]
    else:
        result["compare_s"] = run_s
    if result.get("sim_ms") and not trials:
        result["rt_factor"] = run_s / (result["sim_ms"] / 1000.0)


def _ratios(case: Case, result: dict, done: dict) -> None:
    result["ratios"] = {}
    for ref in case.refs:
        other = done.get(ref)
        if other is not None and other.get("compare_s") and result.get("compare_s") is not None:
            result["ratios"][ref] = result["compare_s"] / other["compare_s"]
        # the STDP curve must be the same on both backends
        mine = (result.get("metrics") or {}).get("curve_dw_mV")
        theirs = ((other or {}).get("metrics") or {}).get("curve_dw_mV")
        if mine and theirs and len(mine) == len(theirs):
            result["metrics"]["curve_max_diff_mV"] = max(abs(a[1] - b[1]) for a, b in zip(mine, theirs))


def _short_ref(ref_id: str, case: Case) -> str:
    c = parse_id(ref_id)
    name = {"nest-direct": "NEST", "pynn-nest": "pynn:nest", "snntorch": "snnTorch", "serial": "serial",
            "snntorch-synaptic": "snn.Synaptic",
            "torch-exact": "torch"}.get(c.variant, c.variant)
    if case.group == "delays" and c.group == "ei":
        name += " 1-delay"
    if case.group == "train" and c.variant == "torch":
        name = "by hand"
    return name


def _result_text(result: dict) -> str:
    m = result.get("metrics") or {}
    parts = []
    if "rate_hz" in m:
        parts.append(" / ".join(f"{k} {v:.1f}" for k, v in m["rate_hz"].items()) + " Hz")
    if isinstance(m.get("w_ee_mean_nA"), list):
        a, b = m["w_ee_mean_nA"]
        parts.append(f"wEE {a:.4g}->{b:.4g}")
    if "curve_dw_mV" in m:
        c = dict((d, w) for d, w in m["curve_dw_mV"])
        parts.append(f"dw(+10)={c.get(10.0, float('nan')):+.3f} dw(-10)={c.get(-10.0, float('nan')):+.3f} mV")
        if "curve_max_diff_mV" in m:
            parts.append(f"max |dw - ref| {m['curve_max_diff_mV']:.2g} mV")
    if "loss" in m:
        parts.append(f"loss {m['loss']:.4g}, {m.get('output_spikes_per_neuron', float('nan')):.2f} output spikes/neuron")
    if "trials_matching_ideal_cam" in m:
        parts.append(f"{m['trials_matching_ideal_cam']}/{m['trials']} trials = ideal CAM")
    if "detected" in m and "trained_detected" in m:
        parts.append(f"{m['detected']}/{m['trials']} words fire")
    if result.get("per_trial_s") is not None:
        parts.insert(0, f"{result['per_trial_s'] * 1000:.1f} ms/trial")
    if result.get("note"):
        parts.append(result["note"])
    return ", ".join(parts)


COLUMNS = f"{'case':<44} {'build s':>8} {'run s':>9} {'x real':>7} {'ratio':<34} {'RSS MB':>7}  result"


def format_row(case: Case, result: dict) -> str:
    status = result.get("status")
    label = case.label + (" (ref)" if case.added_as_ref else "")
    if status == "skipped":
        return f"{label:<44} {'-':>8} {'-':>9} {'-':>7} {'-':<34} {'-':>7}  skipped: {result.get('error', '')}"
    build = f"{result['build_s']:.3f}" if result.get("build_s") is not None else "-"
    run = f"{result['run_s']:.3f}" if result.get("run_s") is not None else "-"
    rt = f"{result['rt_factor']:.2f}" if result.get("rt_factor") is not None else "-"
    ratios = result.get("ratios") or {}
    if ratios:
        ratio = ", ".join(f"{v:.2f}x {_short_ref(k, case)}" for k, v in ratios.items())
    elif case.refs:
        ratio = "- (no ref)"
    else:
        ratio = "ref"
    rss = f"{result['peak_rss_mb']:.0f}" if result.get("peak_rss_mb") is not None else "-"
    text = _result_text(result) if status == "ok" else f"{status.upper()}: {result.get('error', '')}"
    if status == "timeout" and result.get("run_s") is not None:
        text = ", ".join(filter(None, [f"TIMEOUT ({result.get('error', '')})", _result_text(result)]))
    return f"{label:<44} {build:>8} {run:>9} {rt:>7} {ratio:<34} {rss:>7}  {text}"


def header_lines(info: dict, repeats: int, timeout_s: float) -> list[str]:
    v = info["versions"]
    load = info.get("load_start")
    gpu = f" ({info['gpu']})" if info.get("gpu") else ""
    return [f"neuromorph bench — {info['date']}, neuromorph {info['neuromorph']}"
            + (f" (git {info['git']})" if info.get("git") else ""),
            f"  machine: {info['cpu']}, {info['cores']} cores ({info['cores_usable']} usable), "
            f"{info.get('memory_gb', {}).get('MemTotal', '?')} GB; load average at start "
            + (" ".join(f"{x:.2f}" for x in load) if load else "?"),
            f"  software: Python {info['python']}, torch {v.get('torch')}, snnTorch {v.get('snntorch')}, "
            f"NEST {v.get('nest-simulator')}, PyNN {v.get('PyNN')}, numpy {v.get('numpy')}; device {info['device']}{gpu}",
            f"  each case in its own process with one thread; build and run are the minimum of {repeats} repeat{'s' if repeats != 1 else ''} "
            f"(s); timeout {timeout_s:g} s per case; 'x real' = run / simulated time; ratio = time / reference "
            "time (per-trial time for batched trials)"]


def run_suite(cases: list[Case], repeats: int = 3, timeout_s: float = DEFAULT_TIMEOUT_S,
              budget_s: float | None = None, device: str = "cpu", json_path: str | None = None,
              echo=print) -> tuple[int, dict]:
    """Run ``cases`` one after another, each in its own subprocess; print the table as it goes and
    write the JSON report. Returns ``(exit code, report)``: 0 when every case ran or was skipped
    with a reason, 1 when one failed or timed out."""
    info = machine_info(device)
    for line in header_lines(info, repeats, timeout_s):
        echo(line)
    cuda_cases = [c.id for c in cases if c.torch and str(c.params.get("dev", "cpu")).startswith("cuda")]
    no_cuda = bool(cuda_cases) and not _cuda_available()
    if no_cuda:
        echo(f"  CUDA: torch.cuda.is_available() is False here, so the {len(cuda_cases)} torch cases on CUDA are "
             "skipped (listed as skipped in the JSON)")
    echo("")
    echo(COLUMNS)
    echo("-" * len(COLUMNS))
    t_start = time.perf_counter()
    results: dict[str, dict] = {}
    report = {"schema": SCHEMA, "machine": info,
              "options": {"repeats": repeats, "timeout_s": timeout_s, "budget_s": budget_s, "device": device},
              "cases": []}

    def write():
        if json_path:
            report["total_wall_s"] = round(time.perf_counter() - t_start, 3)
            Path(json_path).write_text(json.dumps(report, indent=1, default=_json_default))

    for case in cases:
        reason = None
        if no_cuda and case.id in cuda_cases:
            result = {"id": case.id, "group": case.group, "variant": case.variant, "params": case.params,
                      "label": case.label, "status": "skipped", "error": "torch.cuda.is_available() is False here"}
            results[case.id] = result
            report["cases"].append(result)
            continue
        remaining = None if budget_s is None else budget_s - (time.perf_counter() - t_start)
        if reason is None and remaining is not None and remaining < 10:
            reason = f"time budget of {budget_s:g} s spent"
        if reason is not None:
            result = {"id": case.id, "group": case.group, "variant": case.variant, "params": case.params,
                      "label": case.label, "status": "skipped", "error": reason}
        else:
            limit = timeout_s if remaining is None else min(timeout_s, remaining)
            result = run_subprocess(case, repeats, limit)
            _derived(result)
            _ratios(case, result, results)
        results[case.id] = result
        report["cases"].append(result)
        echo(format_row(case, result))
        write()
    info["load_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    total = time.perf_counter() - t_start
    counts = {}
    for r in report["cases"]:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    echo("-" * len(COLUMNS))
    echo(f"{len(cases)} cases in {total:.1f} s: " + ", ".join(f"{v} {k}" for k, v in counts.items())
         + "; load average at end " + (" ".join(f"{x:.2f}" for x in info["load_end"]) if info["load_end"] else "?"))
    write()
    if json_path:
        echo(f"wrote {json_path}")
    bad = counts.get("failed", 0) + counts.get("timeout", 0)
    return (1 if bad else 0), report


# --------------------------------------------------------------------------------------------
# Command line (shared with ``neuromorph bench``)
# --------------------------------------------------------------------------------------------
class BenchUsageError(ValueError):
    """Bad bench options (exit code 2)."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--only", action="append", default=[], metavar="SUBSTR[,SUBSTR...]",
                   help="run the cases whose id contains one of these substrings (repeatable; "
                        "e.g. ei/torch, nest-direct, n=1000, train); their reference cases are added unless --no-refs")
    p.add_argument("--sizes", default=None, metavar="N,N,...",
                   help=f"E/I network sizes (default {','.join(map(str, DEFAULT_SIZES))}; {QUICK_SIZE} with --quick)")
    p.add_argument("--quick", action="store_true", help="tiny sizes and short runs: a smoke run of about a minute")
    p.add_argument("--repeats", type=int, default=None, metavar="R",
                   help="repeats per case; the minimum is reported (default 3; 1 with --quick)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S",
                   help=f"per-case time limit in seconds (default {DEFAULT_TIMEOUT_S:g})")
    p.add_argument("--budget", type=float, default=None, metavar="S",
                   help="total time limit in seconds; cases that would start after it are skipped")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="device of the torch cases (default cpu)")
    p.add_argument("--json", default=None, metavar="PATH", nargs="?", const="-",
                   help="also write the results as JSON to PATH")
    p.add_argument("--no-refs", action="store_true", help="with --only: do not add the reference cases")
    p.add_argument("--list", action="store_true", help="list the selected case ids and exit")


def _sizes(text: str | None, quick: bool) -> tuple[int, ...]:
    if text is None:
        return (QUICK_SIZE,) if quick else DEFAULT_SIZES
    out = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            n = int(item.replace("_", ""))
        except ValueError:
            raise BenchUsageError(f"--sizes {text!r}: {item!r} is not a whole number of neurons") from None
        if n < 5:
            raise BenchUsageError(f"--sizes {text!r}: {n} is too small; give sizes >= 5")
        out.append(n)
    if not out:
        raise BenchUsageError(f"--sizes {text!r} names no size; give e.g. 1000,4000")
    return tuple(out)


def cases_from_args(args) -> list[Case]:
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.repeats < 1:
        raise BenchUsageError(f"--repeats={args.repeats} must be >= 1")
    if not (args.timeout > 0 and math.isfinite(args.timeout)):
        raise BenchUsageError(f"--timeout={args.timeout:g} must be a finite number of seconds > 0")
    if args.budget is not None and not (args.budget > 0 and math.isfinite(args.budget)):
        raise BenchUsageError(f"--budget={args.budget:g} must be a finite number of seconds > 0")
    only = [s.strip() for item in args.only for s in item.split(",") if s.strip()]
    cases = plan(_sizes(args.sizes, args.quick), args.quick, args.device)
    chosen = select(cases, only, add_refs=not args.no_refs)
    if not chosen:
        groups = sorted({c.group for c in cases})
        raise BenchUsageError(f"--only {','.join(only)!r} matches no case; groups: {', '.join(groups)} "
                              "(--list shows every case id)")
    return chosen


def bench_command(args, echo=print) -> int:
    """``neuromorph bench``: returns the exit code (BenchUsageError for bad options)."""
    cases = cases_from_args(args)
    if args.list:
        for c in cases:
            echo(c.id + ("   (reference)" if c.added_as_ref else ""))
        return 0
    if args.json == "-":
        raise BenchUsageError("--json needs a PATH for the report, e.g. --json bench.json")
    if args.json:
        parent = Path(args.json).resolve().parent
        if not parent.is_dir():
            raise BenchUsageError(f"--json {args.json!r}: folder {str(parent)!r} does not exist")
    rc, _ = run_suite(cases, args.repeats, args.timeout, args.budget, args.device, args.json, echo)
    return rc


def main(argv=None) -> int:
    """``python -m neuromorph.bench``: the suite (same options as ``neuromorph bench``), or one case
    in this process with ``--case ID``."""
    p = argparse.ArgumentParser(prog="python -m neuromorph.bench", description=__doc__.split("\n")[0])
    add_arguments(p)
    p.add_argument("--case", default=None, metavar="ID", help="run one case in this process (the child side)")
    args = p.parse_args(argv)
    if args.case is not None:
        _one_thread()
        try:
            case = parse_id(args.case)
        except ValueError as exc:
            print(f"neuromorph bench: error: {exc}", file=sys.stderr)
            return 2
        result = run_case(case, args.repeats or 3, args.budget, args.json if args.json not in (None, "-") else None)
        if args.json in (None, "-"):
            print(json.dumps(result, default=_json_default))
        return 0 if result["status"] == "ok" else 1
    try:
        return bench_command(args)
    except BenchUsageError as exc:
        print(f"neuromorph bench: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
