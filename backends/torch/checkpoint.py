"""Checkpoints of a torch simulation: the description and every piece of state, in one file that
``torch.load(path, weights_only=True)`` reads (tensors, dicts, lists, strings and numbers only — no
pickled code), so a resumed run is bit-identical to an uninterrupted one.

What is saved: time (steps), neuron state, input ring buffers, static and plastic weights, STDP
traces and post-spike histories, spike-source schedules, mechanism state (every tensor-valued
attribute of a mechanism: its dynamics, delay lines, hook contributions, recordings), the mechanism
hooks, and the recordings so far. Poisson input needs no RNG state: each chunk is drawn from a
seed of (network seed, label, trial, chunk). Written to a temporary file and renamed, so an
interrupted save never leaves a truncated checkpoint.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from neuromorph.errors import ValidationError

from .engine import RECEPTOR_INDEX

FORMAT = "neuromorph-checkpoint/1"
_PLASTIC = ("W", "p", "last_pre", "pre_trace", "post_spiked", "post_last", "post_last_trace", "post_prev",
            "cur_last", "cur_trace", "_spiked")


class _NotState(Exception):
    pass


def _pack(x):
    """Tensors (to CPU), NamedTuples, lists, tuples, dicts with string keys, numpy arrays and
    plain values as weights_only-loadable containers; anything else raises _NotState."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().clone()
    if isinstance(x, np.ndarray):
        return {"__ndarray__": torch.from_numpy(np.ascontiguousarray(x)).clone()}
    if isinstance(x, tuple):  # NamedTuples too: _unpack rebuilds them from the fresh simulation's type
        return {"__tuple__": [_pack(v) for v in x]}
    if isinstance(x, list):
        return [_pack(v) for v in x]
    if isinstance(x, dict):
        if not all(isinstance(k, str) for k in x):
            return {"__items__": [[_pack(k), _pack(v)] for k, v in x.items()]}
        return {k: _pack(v) for k, v in x.items()}
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    raise _NotState(type(x).__name__)


def _unpack(saved, like, device):
    """Rebuild a packed value; ``like`` (the freshly built simulation's value, or None) gives the
    NamedTuple types, devices and the Parameters to fill in place."""
    if isinstance(saved, torch.Tensor):
        if isinstance(like, torch.nn.Parameter):
            with torch.no_grad():
                if like.shape != saved.shape:
                    like.data = saved.to(like.device, like.dtype)
                else:
                    like.copy_(saved)
            return like
        dev = like.device if isinstance(like, torch.Tensor) else device
        return saved.to(dev)
    if isinstance(saved, dict):
        if "__ndarray__" in saved:
            return saved["__ndarray__"].numpy().copy()
        if "__tuple__" in saved:
            items = saved["__tuple__"]
            likes = list(like) if isinstance(like, tuple) and len(like) == len(items) else [None] * len(items)
            vals = [_unpack(s, lk, device) for s, lk in zip(items, likes)]
            return type(like)(*vals) if isinstance(like, tuple) and hasattr(like, "_fields") else tuple(vals)
        if "__items__" in saved:
            out = {}
            for k, v in saved["__items__"]:
                key = _unpack(k, None, device)
                out[key] = _unpack(v, (like or {}).get(key), device)
            return out
        like = like if isinstance(like, dict) else {}
        return {k: _unpack(v, like.get(k), device) for k, v in saved.items()}
    if isinstance(saved, list):
        likes = like if isinstance(like, list) and len(like) == len(saved) else [None] * len(saved)
        return [_unpack(s, lk, device) for s, lk in zip(saved, likes)]
    return saved


def _mechanism_state(m) -> dict:
    """Every attribute of a mechanism that holds state (tensors, possibly in containers)."""
    out = {}
    for name, value in vars(m).items():
        try:
            packed = _pack(value)
        except _NotState:
            continue
        if _has_tensor(value):
            out[name] = packed
    return out


def _has_tensor(x) -> bool:
    if isinstance(x, torch.Tensor):
        return True
    if isinstance(x, (list, tuple)):
        return any(_has_tensor(v) for v in x)
    if isinstance(x, dict):
        return any(_has_tensor(v) for v in x.values())
    return False


def state(sim) -> dict:
    """The simulation's state as a weights_only-loadable dict."""
    sim.buffers.set_grad(False)
    return {
        "k": sim.k, "stamp0_done": sim._stamp0_done,
        "neurons": _pack(sim.state),
        "ring": _pack(sim.buffers.buf),
        "static": {label: _pack(sp.W) for label, sp in sim.static.items()},
        # fixed point: the host weights the words came from and each receptor's shift per trial
        "static_host": {label: _pack(sp.host) for label, sp in sim.static.items()},
        "shifts": [[post, r, _pack(s)] for (post, r), s in sim.shifts.items()],
        "biases": {key: _pack(b) for key, b in sim.biases.items()},
        "plastic": {label: {a: _pack(getattr(pp, a)) for a in getattr(pp, "STATE_ATTRS", _PLASTIC)}
                    for label, pp in sim.plastic.items()},
        "sources": {label: _pack({"stamps": src.stamps, "trial": src.trial, "neuron": src.neuron})
                    for label, src in sim.sources.items() if hasattr(src, "stamps")},
        "hooks": _pack({"extra_current": sim.extra_current, "threshold_shift": sim.threshold_shift,
                        "weight_gain": sim.weight_gain}),
        "mechanisms": [_mechanism_state(m) for m in sim.mechanisms],
        "recorded": _pack({"events": sim._events, "traces": sim._traces, "weights": sim._weights}),
    }


def restore(sim, st: dict) -> None:
    dev = sim.device
    sim.k, sim._stamp0_done = int(st["k"]), bool(st["stamp0_done"])
    sim.state = _unpack(st["neurons"], sim.state, dev)
    sim.buffers.buf = _unpack(st["ring"], sim.buffers.buf, dev)
    for label, w in st["static"].items():
        sp = sim.static[label]
        sp.W = _unpack(w, sp.W, dev)
        sp._pad_w = None
    for label, host in st.get("static_host", {}).items():
        sim.static[label].host = _unpack(host, sim.static[label].host, dev)
    for post, r, s in st.get("shifts", []):
        shift = _unpack(s, None, dev)
        sim.shifts[(post, int(r))] = shift
        sim._ring_cache = {}
        for label, sp in sim.static.items():
            proj = sim.net.projections[label]
            if proj.post == post and RECEPTOR_INDEX[proj.receptor] == int(r) and sp.fixed:
                sp.set_shift(shift, reencode=False)
    for key, b in st.get("biases", {}).items():
        _unpack(b, sim.biases[key], dev)
    for label, attrs in st["plastic"].items():
        pp = sim.plastic[label]
        for a, v in attrs.items():
            setattr(pp, a, _unpack(v, getattr(pp, a), dev))
        if hasattr(pp, "invalidate"):
            pp.invalidate()
    for label, s in st["sources"].items():
        s = _unpack(s, None, dev)
        src = sim.sources[label]
        src.stamps, src.trial, src.neuron = s["stamps"], s["trial"], s["neuron"]
    hooks = _unpack(st["hooks"], None, dev)
    sim.extra_current, sim.threshold_shift, sim.weight_gain = hooks["extra_current"], hooks["threshold_shift"], hooks["weight_gain"]
    for m, ms in zip(sim.mechanisms, st["mechanisms"]):
        for name, v in ms.items():
            setattr(m, name, _unpack(v, getattr(m, name, None), dev))
    rec = _unpack(st["recorded"], {"events": sim._events, "traces": sim._traces, "weights": sim._weights}, dev)
    sim._events, sim._weights = rec["events"], rec["weights"]
    sim._traces = {key: (entry[0], entry[1]) for key, entry in rec["traces"].items()}
    sim._decoded = {}


def save(sim, path) -> Path:
    """Write the checkpoint of ``sim`` to ``path`` (atomically)."""
    path = Path(path)
    for m in sim.mechanisms:
        if not _mechanism_state(m) and any(_has_tensor(v) for v in vars(m).values()):
            raise ValidationError(f"save: the state of mechanism {getattr(m, 'label', type(m).__name__)!r} cannot be written")
    data = {
        "format": FORMAT, "backend": "torch", "network": sim.net.to_json(indent=None),
        "options": {"numerics": sim.numerics, "batch": sim.batch, "dtype": str(sim.dtype).replace("torch.", ""),
                    "threads": sim.threads, "trainable": [lab for lab, sp in sim.static.items()
                                                          if isinstance(sp.W, torch.nn.Parameter)],
                    "trainable_biases": dict(sim.bias_modes)},
        "state": state(sim),
    }
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        torch.save(data, tmp)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ValidationError(f"save: cannot write {str(path)!r} ({exc.strerror or exc}); choose a writable path") from None
    return path


def load(data: dict, device=None, **options):
    """Rebuild a torch simulation from a loaded checkpoint dict."""
    from neuromorph.network import Network
    from .engine import TorchSimulation
    net = Network.from_json(data["network"])
    opt = dict(data["options"])
    opt["dtype"] = {"float64": torch.float64, "float32": torch.float32}[opt["dtype"]]
    unknown = set(options) - {"numerics", "batch", "dtype", "spike_grad", "trainable", "trainable_biases", "check", "threads",
                              "max_memory"}
    if unknown:
        from neuromorph.errors import ValidationError
        raise ValidationError(f"load: option(s) {', '.join(sorted(map(str, unknown)))} not understood "
                              "(accepted: device, numerics, batch, dtype, spike_grad, trainable, trainable_biases, check, threads, "
                              "max_memory)")
    opt.update(options)
    sim = TorchSimulation(net, device=device or "cpu", **opt)
    restore(sim, data["state"])
    return sim
