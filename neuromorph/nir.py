"""NIR (Neuromorphic Intermediate Representation, ``nir==1.0.8``) export and import.

``to_nir(net)`` turns a network of ``IF_curr_delta(weight_units="mV")`` / ``IF_curr_exp``
populations, empty ``SpikeSourceArray`` inputs and static one-step projections into a
``nir.NIRGraph``; ``from_nir(graph)`` builds a :class:`neuromorph.Network` from one. Needs the
``[nir]`` extra (``pip install -e ".[nir]"``); ``import neuromorph`` does not import nir.

Conventions (docs/nir.md derives each line):

- **Time.** NIR has no time step and (by the convention of snnTorch, Norse, Lava) gives time
  constants in seconds. ``nir_dt`` [s] is the NIR step that one neuromorph step ``dt`` [ms] stands
  for (default: real time, ``dt/1000``; snnTorch's exporter and importer assume ``1e-4``).
  ``discretization="exact"``: NIR's ODE integrated exactly, ``τ_nir = τ·nir_dt/dt``;
  ``"euler"``: NIR's τ read as a forward-Euler step does (snnTorch: ``β = 1 − nir_dt/τ_nir``), so
  neuromorph's per-step decay ``exp(−dt/τ_m)`` equals ``1 − nir_dt/τ_nir``.
- **Spikes.** A NIR spike is a pulse of area ``nir_dt`` (height 1 for one step): through a weight
  w it moves a LIF's v by ``r·w·nir_dt/τ`` and a CubaLIF's I by ``w_in·w·nir_dt/τ_syn`` —
  what snnTorch's exporter assumes (it writes ``r = τ/dt``, ``w_in = τ_syn/dt`` so w moves v or I
  by w).
- **Edges.** A NIR edge is instantaneous; a neuromorph projection delays by at least one step.
  Every Affine/Linear becomes a projection with delay ``dt``, so each layer's spikes come one
  step later than in a simulator that passes spikes within the step (snnTorch).

==============================  ===============================================================
neuromorph                      NIR
==============================  ===============================================================
empty SpikeSourceArray P        ``Input`` named P (drive it with ``sim.set_input(P, x)``)
output population P             neuron node ``P.neurons`` → ``Output`` named P (import: the
                                population feeding Output O is labelled O)
IF_curr_delta(weight_units      ``LIF(tau=τ_nir, r=τ_nir/nir_dt, v_leak=v_rest,
="mV"), tau_refrac=0            v_threshold=v_thresh, v_reset=v_reset)``; weights are mV jumps
IF_curr_exp, tau_refrac=0,      ``CubaLIF(tau_mem, tau_syn, r=τ_m/cm, v_leak, v_threshold,
tau_syn_E = tau_syn_I,          v_reset, w_in=τ_syn_nir/nir_dt)``; weights are nA
i_offset=0
static projections pre → post,  one ``Affine`` (or ``Linear``) ``pre → W → post``,
delay dt                        ``W[post, pre] = Σ w_exc − Σ w_inh``; import splits W into an
                                excitatory (W > 0) and an inhibitory (W < 0) projection
i_offset of an IF_curr_delta    the bias of one incoming Affine: ``b = R·i_offset/r`` (exact;
                                euler: ``b = (1 − e^(−dt/τm))·R·i_offset``, the same move per
                                step). A CubaLIF's bias passes its synaptic filter, so it is no
                                i_offset: refused both ways
==============================  ===============================================================

Refused on export (UnsupportedError, one line naming the construct and the fix): delays other
than one step, plasticity, tau_refrac > 0, initial values other than the defaults, Izhikevich /
IF_curr_alpha / IF_curr_delta(weight_units="nA") populations, SpikeSourcePoisson, SpikeSourceArray
with spike times, network mechanisms, tau_syn_E ≠ tau_syn_I on a population receiving both
receptors, i_offset on a population without an incoming projection. Refused on import: node types
other than Input, Output, Affine, Linear, LIF, CubaLIF (IF: no leak, which no neuromorph cell has;
Delay, Conv, Flatten, subgraphs ...), a bias into a CubaLIF, and — unless ``split=True``, which
makes one population per distinct parameter set — neurons of one node with different parameters
or biases (neuromorph cell parameters are per population).

Each neuron/Input/Affine node also carries ``metadata["neuromorph"]``, a JSON string with the
original parameters and labels. ``from_nir`` uses them only when converting them again reproduces
the node's arrays exactly, so an unedited graph comes back bit-identical.
"""
from __future__ import annotations

import json
import math

import numpy as np

from .cells import (IF_curr_delta, IF_curr_exp, SpikeSourceArray, SpikeSourcePoisson)
from .connectors import AllToAll, FromList
from .errors import BackendUnavailableError, UnsupportedError, ValidationError

META = "neuromorph"


def _nir():
    try:
        import nir
    except ImportError:
        raise BackendUnavailableError(
            "NIR export/import needs the nir package; install the extra: pip install -e \".[nir]\" (nir==1.0.8)") from None
    return nir


# -- time and parameter conversions (one formula each) ------------------------------------------
def _tau_to_nir(tau_ms: float, dt: float, nir_dt: float, discretization: str) -> float:
    if discretization == "exact":
        return tau_ms * nir_dt / dt
    return nir_dt / -math.expm1(-dt / tau_ms)  # 1 − nir_dt/τ_nir = exp(−dt/τ)


def _tau_from_nir(owner: str, tau_nir: float, dt: float, nir_dt: float, discretization: str) -> float:
    if not tau_nir > 0:
        raise ValidationError(f"{owner}: time constant {tau_nir} must be > 0")
    if discretization == "exact":
        return tau_nir * dt / nir_dt
    if tau_nir <= nir_dt:
        raise ValidationError(
            f"{owner}: tau={tau_nir} s is not above the step nir_dt={nir_dt} s, so the Euler decay 1 - nir_dt/tau is <= 0; "
            "use discretization='exact' or a smaller nir_dt")
    return -dt / math.log1p(-nir_dt / tau_nir)


def _check_discretization(discretization):
    if discretization not in ("exact", "euler"):
        raise ValidationError(f"discretization={discretization!r}; use 'exact' (NIR's ODE solved exactly) or 'euler' (snnTorch's reading)")


def _lif_bias_per_step(discretization, tau_m, dt, nir_dt, tau_nir):
    """mV a LIF's v moves per step per unit of ``r·b`` (the same for neuromorph's ``R·i_offset``)."""
    return -math.expm1(-dt / tau_m) if discretization == "exact" else nir_dt / tau_nir


def _neuron_node(nir, pop, dt, nir_dt, discretization, receptors):
    """(NIR node, Affine bias for it) of a neuron population."""
    c = pop.celltype
    n = pop.size
    full = lambda v: np.full(n, float(v))  # noqa: E731
    owner = f"population {pop.label!r}"
    if isinstance(c, IF_curr_delta):
        if c.weight_units != "mV":
            raise UnsupportedError(
                f"{owner}: IF_curr_delta(weight_units='nA') has no NIR node (its weight is a one-step current); "
                "use weight_units='mV' with w_mV = w_nA * neuromorph.conversions.delta_jump_per_nA(tau_m, cm, dt)")
        tau = _tau_to_nir(c.tau_m, dt, nir_dt, discretization)
        r = tau / nir_dt
        node = nir.LIF(tau=full(tau), r=full(r), v_leak=full(c.v_rest), v_threshold=full(c.v_thresh), v_reset=full(c.v_reset))
        R = c.tau_m / c.cm
        # per step: f·r·b (NIR) = (1 − e^(−dt/τm))·R·i_offset (neuromorph)
        bias = -math.expm1(-dt / c.tau_m) * R * c.i_offset / (_lif_bias_per_step(discretization, c.tau_m, dt, nir_dt, tau) * r)
    elif type(c) is IF_curr_exp:
        if c.tau_syn_E != c.tau_syn_I and len(receptors) > 1:
            raise UnsupportedError(
                f"{owner}: tau_syn_E={c.tau_syn_E} != tau_syn_I={c.tau_syn_I} ms with both receptors in use; NIR's CubaLIF has one "
                "synaptic time constant: give both the same value")
        if c.i_offset != 0:
            raise UnsupportedError(
                f"{owner}: IF_curr_exp i_offset={c.i_offset} nA; NIR's only constant drive, an Affine bias, reaches a CubaLIF "
                "through its synaptic filter, so it is no i_offset: set i_offset=0 or use IF_curr_delta(weight_units='mV')")
        tau_syn = c.tau_syn_I if receptors == {"inhibitory"} else c.tau_syn_E
        tau_mem = _tau_to_nir(c.tau_m, dt, nir_dt, discretization)
        tau_s = _tau_to_nir(tau_syn, dt, nir_dt, discretization)
        node = nir.CubaLIF(tau_syn=full(tau_s), tau_mem=full(tau_mem), r=full(c.tau_m / c.cm), v_leak=full(c.v_rest),
                           v_threshold=full(c.v_thresh), v_reset=full(c.v_reset), w_in=full(tau_s / nir_dt))
        bias = 0.0
    else:
        raise UnsupportedError(
            f"{owner}: {type(c).__name__} has no NIR node; NIR carries IF_curr_delta(weight_units='mV') as LIF and IF_curr_exp as "
            "CubaLIF (tau_refrac=0)")
    if c.tau_refrac != 0:
        raise UnsupportedError(
            f"{owner}: tau_refrac={c.tau_refrac} ms; NIR's LIF/CubaLIF have no refractory period: set tau_refrac=0.0")
    if pop.initial_values:
        raise UnsupportedError(
            f"{owner}: initial_values {sorted(pop.initial_values)}; a NIR graph carries no initial state (v starts at v_leak): drop them")
    node.metadata = {META: json.dumps({"celltype": type(c).__name__, "parameters": c.parameters(), "label": pop.label})}
    return node, bias


def to_nir(net, dt: float | None = None, discretization: str = "exact", outputs=None):
    """The network as a ``nir.NIRGraph`` (mapping and refusals: module docstring, docs/nir.md).

    ``dt``: the NIR step in seconds that one step of ``net`` stands for (default ``net.dt/1000``:
    real time; ``1e-4`` for ``snntorch.import_nir.import_from_nir``). ``discretization``:
    ``"exact"`` or ``"euler"`` (how a reader integrates NIR's τ; snnTorch: ``"euler"``).
    ``outputs``: population labels that get an Output node (default: the neuron populations that
    project to no other population; if there are none, those recording spikes)."""
    nir = _nir()
    _check_discretization(discretization)
    nir_dt = net.dt / 1000.0 if dt is None else float(dt)
    if not nir_dt > 0:
        raise ValidationError(f"to_nir: dt={dt!r} s must be > 0")
    if net.extensions:
        names = ", ".join(type(e).__name__ for e in net.extensions)
        raise UnsupportedError(f"to_nir: network mechanism(s) {names} have no NIR node; export the network without them")
    for proj in net.projections.values():
        owner = f"projection {proj.label!r}"
        if proj.plasticity is not None:
            raise UnsupportedError(
                f"{owner}: plasticity {type(proj.plasticity).__name__}; NIR holds fixed weights only: export a static copy "
                "(plasticity=None, weights from sim.weights(proj))")
        conn = net.connectivity(proj)
        if conn.size and np.any(conn.delays != 1):
            bad = int(conn.delays[np.argmax(conn.delays != 1)])
            raise UnsupportedError(
                f"{owner}: delay {bad * net.dt:g} ms ({bad} steps); a NIR edge is instantaneous and neuromorph's one-step delay "
                f"(dt={net.dt:g} ms) is its only image: use delay={net.dt:g}")
    pops = net.populations
    has_out = {p.pre for p in net.projections.values() if p.post != p.pre}
    if outputs is None:
        outputs = [label for label, p in pops.items() if not p.is_source and label not in has_out]
        if not outputs:  # every population feeds another: the recorded ones
            outputs = [r.target for r in net.recordings if "spikes" in r.variables and r.target in pops]
    outputs = [net.get(o).label for o in outputs]
    incoming: dict[str, list] = {}
    for proj in net.projections.values():
        incoming.setdefault(proj.post, []).append(proj)
    nodes, edges, name, bias_of = {}, [], {}, {}
    for label, pop in pops.items():
        c = pop.celltype
        if pop.is_source:
            if isinstance(c, SpikeSourcePoisson):
                raise UnsupportedError(
                    f"population {label!r}: SpikeSourcePoisson has no NIR node; use an empty spike source "
                    f"(nm.SpikeSourceArray(((),) * {pop.size})) and drive it with sim.set_input({label!r}, x)")
            if not isinstance(c, SpikeSourceArray) or any(c.spike_times):
                raise UnsupportedError(
                    f"population {label!r}: a SpikeSourceArray with spike times; a NIR Input carries no data: export it empty "
                    f"(nm.SpikeSourceArray(((),) * {pop.size})) and drive it with sim.set_input({label!r}, x)")
            if label in outputs:
                raise ValidationError(f"to_nir: output {label!r} is a spike source; name neuron populations")
            nodes[label] = nir.Input(input_type={"input": np.array([pop.size])},
                                     metadata={META: json.dumps({"celltype": "SpikeSourceArray", "label": label})})
            name[label] = label
            continue
        node, bias = _neuron_node(nir, pop, net.dt, nir_dt, discretization, {p.receptor for p in incoming.get(label, [])})
        if bias != 0 and not incoming.get(label):
            raise UnsupportedError(
                f"population {label!r}: i_offset={c.i_offset} nA but no incoming projection; NIR puts a bias on an Affine "
                "edge: connect an input to it (weight 0 is enough)")
        name[label] = f"{label}.neurons" if label in outputs else label
        nodes[name[label]] = node
        bias_of[label] = bias
    # one Affine per (pre, post): W[post, pre] = Σ w_exc − Σ w_inh; the post's bias on its first
    groups: dict[tuple, list] = {}
    for proj in net.projections.values():
        groups.setdefault((proj.pre, proj.post), []).append(proj)
    biased = set()
    for (pre, post), projs in groups.items():
        W = np.zeros((pops[post].size, pops[pre].size))
        labels = {}
        for proj in projs:
            conn = net.connectivity(proj)
            np.add.at(W, (conn.post, conn.pre), (1.0 if proj.receptor == "excitatory" else -1.0) * conn.weights)
            labels.setdefault(proj.receptor, proj.label)
        meta = {META: json.dumps({"projections": labels})}
        node_name = f"{pre}->{post}"
        if post not in biased and bias_of[post] != 0:
            nodes[node_name] = nir.Affine(weight=W, bias=np.full(pops[post].size, float(bias_of[post])), metadata=meta)
        else:
            nodes[node_name] = nir.Linear(weight=W, metadata=meta)
        biased.add(post)
        edges += [(name[pre], node_name), (node_name, name[post])]
    for label in outputs:
        nodes[label] = nir.Output(output_type={"output": np.array([pops[label].size])})
        edges.append((name[label], label))
    meta = {META: json.dumps({"dt_ms": net.dt, "nir_dt": nir_dt, "discretization": discretization, "seed": net.seed})}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


# -- import -------------------------------------------------------------------------------------
def _meta(node) -> dict:
    md = getattr(node, "metadata", None)
    if not isinstance(md, dict) or META not in md:
        return {}
    v = md[META]
    if isinstance(v, np.ndarray):
        v = v.item()
    if isinstance(v, (bytes, np.bytes_)):
        v = bytes(v).decode("utf8")
    try:
        out = json.loads(v)
    except (TypeError, ValueError):
        return {}
    return out if isinstance(out, dict) else {}


def _uniform(owner: str, what: str, a) -> float:
    a = np.asarray(a, dtype=np.float64).ravel()
    if a.size == 0:
        raise ValidationError(f"{owner}: {what} is empty")
    if not np.all(np.isfinite(a)):
        raise ValidationError(f"{owner}: {what} has a non-finite value")
    if np.any(a != a[0]):
        raise UnsupportedError(
            f"{owner}: {np.unique(a).size} different {what} values; neuromorph cell parameters are per population: "
            "give the node one value, or split it into one node per value")
    return float(a[0])


def _size(owner, shape) -> int:
    shape = np.asarray(shape).ravel()
    if shape.size != 1:
        raise UnsupportedError(f"{owner}: shape {tuple(int(s) for s in shape)}; neuromorph populations are 1-D: flatten it")
    return int(shape[0])


_PARAMS = {"LIF": ("tau", "r", "v_leak", "v_reset", "v_threshold"),
           "CubaLIF": ("tau_mem", "tau_syn", "r", "v_leak", "v_reset", "v_threshold")}


def _param_arrays(node, n: int) -> dict:
    """The node's cell parameters, one float64 value per neuron."""
    return {k: np.broadcast_to(np.asarray(getattr(node, k), dtype=np.float64).ravel() if np.ndim(getattr(node, k)) else
                               np.asarray(getattr(node, k), dtype=np.float64), (n,))
            for k in _PARAMS[type(node).__name__]}


def _cell_from_node(nir, label, node, dt, nir_dt, discretization, idx=None):
    """(cell, weight gain per post neuron (None: weights are already neuromorph's), factor from a
    LIF's bias to i_offset (None: CubaLIF), the bias the exporter wrote (None: not from to_nir)),
    for the neurons ``idx`` of the node (default all), whose parameters must be uniform."""
    owner = f"NIR node {label!r} ({type(node).__name__})"
    if isinstance(node, nir.IF):
        raise UnsupportedError(
            f"{owner}: nir.IF has no leak and no neuromorph cell does (tau_m must be finite); convert it to a LIF with a long "
            "tau (tau >> run time) before importing")
    if not isinstance(node, (nir.LIF, nir.CubaLIF)):
        raise UnsupportedError(f"{owner}: no neuromorph construct for this node type; neuromorph imports Input, Output, "
                               "Affine, Linear, LIF and CubaLIF")
    n = int(np.asarray(node.v_threshold).size)
    sel = np.arange(n) if idx is None else np.asarray(idx)
    arrays = _param_arrays(node, n)
    val = lambda k: _uniform(owner, k, arrays[k][sel])  # noqa: E731
    md = _meta(node) if idx is None else {}
    if isinstance(node, nir.LIF):
        tau_nir = val("tau")
        r = val("r")
        tau_m = _tau_from_nir(owner, tau_nir, dt, nir_dt, discretization)
        cell = IF_curr_delta(cm=1.0, tau_m=tau_m, tau_refrac=0.0, v_rest=val("v_leak"), v_reset=val("v_reset"),
                             v_thresh=val("v_threshold"), weight_units="mV")
        gain = np.full(sel.size, r * nir_dt / tau_nir)  # mV per unit weight (a spike is a pulse of area nir_dt)
        # i_offset from a bias b: per step (1 − e^(−dt/τm))·R·i_offset = f·r·b
        f = _lif_bias_per_step(discretization, tau_m, dt, nir_dt, tau_nir)
        bias_to_i = f * r / (-math.expm1(-dt / tau_m) * (tau_m / cell.cm))
    else:
        tau_mem = val("tau_mem")
        tau_syn = val("tau_syn")
        r = val("r")
        if not r > 0:
            raise UnsupportedError(f"{owner}: r={r}; neuromorph's R = tau_m/cm must be > 0")
        w_in = np.broadcast_to(np.asarray(node.w_in, dtype=np.float64).ravel() if np.ndim(node.w_in) else
                               np.asarray(node.w_in, dtype=np.float64), (n,))[sel]
        tau_m = _tau_from_nir(owner, tau_mem, dt, nir_dt, discretization)
        ts = _tau_from_nir(owner, tau_syn, dt, nir_dt, discretization)
        cell = IF_curr_exp(cm=tau_m / r, tau_m=tau_m, tau_refrac=0.0, tau_syn_E=ts, tau_syn_I=ts,
                           v_rest=val("v_leak"), v_reset=val("v_reset"), v_thresh=val("v_threshold"))
        gain = w_in * nir_dt / tau_syn  # nA per unit weight: the jump of I (R = r)
        bias_to_i = None
    meta_cell = None
    if md.get("celltype") in ("IF_curr_delta", "IF_curr_exp") and isinstance(md.get("parameters"), dict):
        try:
            meta_cell = (IF_curr_delta if md["celltype"] == "IF_curr_delta" else IF_curr_exp)(**md["parameters"])
        except (TypeError, ValidationError):
            meta_cell = None
    if meta_cell is not None:
        # the exporter's own parameters, if converting them again gives this node exactly
        from .network import Population
        p = Population(label, int(np.asarray(node.v_threshold).size), meta_cell, {})
        try:
            again, again_bias = _neuron_node(nir, p, dt, nir_dt, discretization, {"excitatory"})
        except (UnsupportedError, ValidationError):
            again = None
        if again is not None and type(again) is type(node) and all(
                np.array_equal(np.asarray(getattr(again, k)), np.asarray(getattr(node, k)))
                for k in ("tau", "tau_mem", "tau_syn", "r", "v_leak", "v_threshold", "v_reset", "w_in") if hasattr(node, k)):
            if bias_to_i is not None:  # the same factor with the exporter's R = tau_m/cm
                bias_to_i = bias_to_i * meta_cell.cm / cell.cm * (cell.tau_m / meta_cell.tau_m) * (
                    -math.expm1(-dt / cell.tau_m) / -math.expm1(-dt / meta_cell.tau_m))
            return meta_cell, None, bias_to_i, again_bias
    return cell, np.asarray(gain, dtype=np.float64), bias_to_i, None


def from_nir(graph, dt: float = 1.0, nir_dt: float | None = None, discretization: str | None = None, seed: int | None = None,
             record: bool = True, split: bool = False):
    """A :class:`neuromorph.Network` (step ``dt`` ms) from a ``nir.NIRGraph``.

    ``nir_dt``: the NIR step in seconds one neuromorph step stands for (default: the exporter's
    value when the graph came from ``to_nir``, else ``dt/1000``; ``1e-4`` for graphs from
    ``snntorch.export_to_nir``). ``discretization``: ``"exact"`` or ``"euler"`` (default: the
    exporter's, else ``"exact"``; ``"euler"`` for snnTorch graphs). Input nodes become empty
    SpikeSourceArrays (drive them with ``sim.set_input``); the population feeding an Output node
    is labelled after it; ``record=True`` records the spikes of every neuron population; ``seed``:
    the network's (default: the exporter's, else 0). A node whose neurons have different parameters
    (e.g. snnTorch's learned per-neuron beta, or a per-neuron Affine bias, which becomes i_offset)
    is refused unless ``split=True``: then it becomes one population per distinct parameter set,
    labelled ``node#0``, ``node#1``, ... in order of first neuron; ``net.nir_populations`` maps each
    node to its populations and neuron indices and :func:`gather` reassembles their spikes."""
    nir = _nir()
    from .network import Network
    gmeta = _meta(graph)
    if nir_dt is None:
        try:  # the exporter's time scale (NIR seconds per neuromorph ms), else real time
            nir_dt = float(gmeta["nir_dt"]) * dt / float(gmeta["dt_ms"])
        except (KeyError, TypeError, ValueError):
            nir_dt = dt / 1000.0
    if discretization is None:
        discretization = gmeta.get("discretization", "exact")
    _check_discretization(discretization)
    nodes, edges = graph.nodes, [tuple(e) for e in graph.edges]
    for src, dst in edges:
        for x in (src, dst):
            if x not in nodes:
                raise ValidationError(f"from_nir: edge ({src!r}, {dst!r}) names no node {x!r}")
    succ: dict = {k: [] for k in nodes}
    pred: dict = {k: [] for k in nodes}
    for src, dst in edges:
        succ[src].append(dst)
        pred[dst].append(src)
    weights_t = (nir.Affine, nir.Linear)
    spiking_t = (nir.LIF, nir.CubaLIF)
    for key, node in nodes.items():
        if not isinstance(node, (nir.Input, nir.Output) + weights_t + spiking_t):
            if isinstance(node, nir.IF):
                _cell_from_node(nir, key, node, dt, 1.0, "exact")  # raises its own message
            kind = "a subgraph" if isinstance(node, nir.NIRGraph) else type(node).__name__
            raise UnsupportedError(
                f"NIR node {key!r}: {kind} has no neuromorph construct; neuromorph imports Input, Output, Affine, Linear, LIF "
                "and CubaLIF (flatten subgraphs; Delay, Scale, IF, LI, convolutions and pooling have no neuromorph image)")
    # labels: a neuron node feeding an Output node takes the Output's name
    label_of = {}
    for key, node in nodes.items():
        if isinstance(node, nir.Output):
            feeders = pred[key]
            if len(feeders) != 1 or not isinstance(nodes[feeders[0]], spiking_t):
                raise UnsupportedError(
                    f"NIR node {key!r}: an Output fed by {feeders!r}; neuromorph outputs are spikes of one LIF/CubaLIF node")
            if feeders[0] in label_of:
                raise UnsupportedError(f"NIR node {feeders[0]!r} feeds two Output nodes; give it one")
            label_of[feeders[0]] = key
    net = Network(dt=dt, seed=int(gmeta.get("seed", 0)) if seed is None else seed)
    size = {}
    for key, node in nodes.items():
        if isinstance(node, nir.Input):
            n = _size(f"NIR node {key!r} (Input)", node.input_type["input"] if "input" in node.input_type
                      else next(iter(node.input_type.values())))
            net.population(key, n, SpikeSourceArray(((),) * n))
            label_of[key] = key
            size[key] = n
        elif isinstance(node, spiking_t):
            size[key] = _size(f"NIR node {key!r} ({type(node).__name__})", np.asarray(node.v_threshold).shape)
            label_of.setdefault(key, key)
    # projections: source → (Affine | Linear)? → neuron
    proj_specs = []  # (pre key, post key, W [n_post, n_pre] signed, bias or None, weight node key)
    for key, node in nodes.items():
        if isinstance(node, weights_t):
            ins = pred[key]
            if len(ins) != 1 or not isinstance(nodes[ins[0]], (nir.Input,) + spiking_t):
                raise UnsupportedError(
                    f"NIR node {key!r} ({type(node).__name__}): fed by {ins!r}; neuromorph needs exactly one Input/LIF/CubaLIF "
                    "node before each Affine/Linear (merge chained or summed linear maps first)")
            W = np.asarray(node.weight, dtype=np.float64)
            if W.ndim != 2:
                raise UnsupportedError(f"NIR node {key!r}: weight of shape {W.shape}; neuromorph takes 2-D [post, pre] weights")
            b = np.asarray(node.bias, dtype=np.float64) if isinstance(node, nir.Affine) else None
            for out in succ[key]:
                if not isinstance(nodes[out], spiking_t):
                    raise UnsupportedError(
                        f"NIR node {key!r} ({type(node).__name__}) feeds {out!r} ({type(nodes[out]).__name__}); neuromorph "
                        "projections end on LIF/CubaLIF nodes")
                if W.shape != (size[out], size[ins[0]]):
                    raise ValidationError(
                        f"NIR node {key!r}: weight shape {W.shape} does not match {ins[0]!r} ({size[ins[0]]}) → {out!r} ({size[out]})")
                proj_specs.append((ins[0], out, W, b, key))
        elif isinstance(node, (nir.Input,) + spiking_t):
            for out in succ[key]:
                if isinstance(nodes[out], spiking_t):  # a direct (identity) edge
                    if size[out] != size[key]:
                        raise ValidationError(f"NIR edge ({key!r}, {out!r}): {size[key]} neurons into {size[out]}")
                    proj_specs.append((key, out, np.eye(size[out]), None, f"{key}->{out}"))
    # the biases of each post's incoming Affine nodes, summed: its i_offset (LIF only)
    bias_total = {}
    for pre, post, W, b, wkey in proj_specs:
        if b is not None and np.any(b != 0):
            if not isinstance(nodes[post], nir.LIF):
                raise UnsupportedError(
                    f"NIR node {wkey!r}: a bias into CubaLIF {post!r} passes its synaptic filter, which no neuromorph "
                    "i_offset reproduces: drop the bias (or feed a LIF)")
            bias_total[post] = bias_total.get(post, 0.0) + np.broadcast_to(b, (size[post],))
    # neuron nodes → populations: one, or (split=True) one per distinct parameter set
    groups_of = {}
    for key, node in nodes.items():
        if not isinstance(node, spiking_t):
            continue
        n = size[key]
        columns = dict(_param_arrays(node, n))
        if key in bias_total:
            columns["bias"] = bias_total[key]
        rows = np.stack([np.asarray(c, dtype=np.float64) for c in columns.values()], axis=1)
        _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
        inverse = np.asarray(inverse).ravel()
        if first.size > 1 and not split:
            varying = [k for k, c in columns.items() if np.any(np.asarray(c) != np.asarray(c)[0])]
            raise UnsupportedError(
                f"NIR node {key!r} ({type(node).__name__}): {first.size} different sets of {', '.join(varying)} over its {n} "
                "neurons; neuromorph cell parameters are per population: pass split=True (one population per set)")
        groups = []
        for g, u in enumerate(np.argsort(first)):
            idx = np.nonzero(inverse == u)[0]
            cell, gain, bias_to_i, exported_bias = _cell_from_node(nir, key, node, dt, nir_dt, discretization,
                                                                    idx=None if first.size == 1 else idx)
            total = float(columns["bias"][idx[0]]) if "bias" in columns else 0.0
            if exported_bias is None or total != exported_bias:  # else: the exporter's i_offset, unchanged
                cell = type(cell)(**{**cell.parameters(), "i_offset": total * bias_to_i if total else 0.0})
            label = label_of[key] if first.size == 1 else f"{label_of[key]}#{g}"
            net.population(label, idx.size, cell)
            if record:
                net.record(label, "spikes")
            groups.append((label, idx, gain))
        groups_of[key] = groups
    for key, node in nodes.items():
        if isinstance(node, nir.Input):
            groups_of[key] = [(key, np.arange(size[key]), None)]
    for pre, post, W, b, wkey in proj_specs:
        names = _meta(nodes[wkey]).get("projections", {}) if wkey in nodes else {}
        multi = len(groups_of[pre]) > 1 or len(groups_of[post]) > 1
        for gp, (pre_label, pre_idx, _) in enumerate(groups_of[pre]):
            for gq, (post_label, post_idx, gain) in enumerate(groups_of[post]):
                Wn = W[np.ix_(post_idx, pre_idx)]
                if gain is not None:
                    Wn = Wn * gain[:, None]  # [post, pre], neuromorph units
                for receptor, mask in (("excitatory", Wn > 0), ("inhibitory", Wn < 0)):
                    if not mask.any():
                        continue
                    label = names.get(receptor) or (wkey if receptor == "excitatory" else f"{wkey}.inh")
                    if multi:
                        label = f"{label}#{gp}.{gq}"
                    if label in net.projections or label in net.populations:
                        label = f"{wkey}:{pre_label}->{post_label}:{receptor}"
                    if mask.all():
                        net.connect(pre_label, post_label, AllToAll(), weight=np.abs(Wn).T, delay=dt, receptor=receptor,
                                    label=label)
                    else:
                        post_i, pre_i = np.nonzero(mask)
                        order = np.lexsort((post_i, pre_i))  # by (pre, post)
                        pre_i, post_i = pre_i[order], post_i[order]
                        net.connect(pre_label, post_label, FromList(tuple(zip(pre_i.tolist(), post_i.tolist()))),
                                    weight=np.abs(Wn[post_i, pre_i]), delay=dt, receptor=receptor, label=label)
    #: NIR node → [(population label, neuron indices of the node)] (not saved in the network's JSON)
    net.nir_populations = {label_of[k]: [(lab, idx) for lab, idx, _ in g] for k, g in groups_of.items()}
    return net


def gather(net, node: str, tensors: dict):
    """The spikes of a NIR node from ``sim.forward(..., outputs=[...])`` results: its populations'
    ``[steps, batch, n_k]`` tensors put back in the node's neuron order, ``[steps, batch, n]``
    (for a node that ``from_nir(..., split=True)`` split; an unsplit node's tensor as it is)."""
    import torch
    parts = getattr(net, "nir_populations", {}).get(node)
    if parts is None:
        raise ValidationError(f"gather: {node!r} is not a NIR node of this network (from_nir records them in net.nir_populations)")
    missing = [lab for lab, _ in parts if lab not in tensors]
    if missing:
        raise ValidationError(f"gather: no output for {', '.join(map(repr, missing))}; pass outputs={[lab for lab, _ in parts]!r} to forward")
    first = tensors[parts[0][0]]
    n = sum(len(idx) for _, idx in parts)
    out = first.new_zeros(first.shape[:-1] + (n,))
    for lab, idx in parts:
        out[..., torch.as_tensor(idx, device=out.device)] = tensors[lab]
    return out
