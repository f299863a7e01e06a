"""Versioned JSON I/O of a Network.

Format: ``{"format": "neuromorph.network", "version": 1, "dt", "seed", "populations",
"projections", "recordings", "extensions"}``; every description object is
``{"type": ClassName, field: value, ...}``. Unknown fields, types or versions are refused with a
one-line error. Floats are written with Python's shortest round-trip repr, so a round trip is
lossless.
"""
from __future__ import annotations

import dataclasses
import json

import numpy as np

from . import model_schema
from .errors import ValidationError
from .registry import DESCRIPTION_TYPES

FORMAT = "neuromorph.network"
VERSION = 1


def dumps(data: dict, indent=1) -> str:
    return json.dumps(data, indent=indent, allow_nan=False)


def loads(text: str) -> dict:
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError("model JSON: not UTF-8 text; give a neuromorph JSON file") from None
    if not isinstance(text, str):
        raise ValidationError(f"model JSON: expected the text of a model file (str), got {type(text).__name__}")
    try:
        data = json.loads(text)  # NaN/Infinity/1e999 parse; model_schema.check refuses them by path
    except json.JSONDecodeError as exc:
        raise ValidationError(f"model JSON: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise ValidationError("model JSON: nested too deeply to be a neuromorph network (a network is at most 6 levels deep)") from None
    if not isinstance(data, dict):
        raise ValidationError("model JSON: the top level must be an object")
    return data


def obj_to_dict(obj):
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (tuple, list)):
        return [obj_to_dict(x) for x in obj]
    if dataclasses.is_dataclass(obj):
        name = type(obj).__name__
        if DESCRIPTION_TYPES.get(name) is not type(obj):
            raise ValidationError(f"model JSON: {name} is not a registered description type")
        out = {"type": name}
        for f in dataclasses.fields(obj):
            out[f.name] = obj_to_dict(getattr(obj, f.name))
        return out
    raise ValidationError(f"model JSON: cannot serialise {obj!r}")


def obj_from_dict(data, where: str):
    if isinstance(data, list):
        return tuple(obj_from_dict(x, where) for x in data)
    if not isinstance(data, dict):
        return data
    name = data.get("type")
    cls = DESCRIPTION_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValidationError(f"model JSON: {where}: unknown type {name!r} (known: {', '.join(sorted(DESCRIPTION_TYPES))})")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names - {"type"}
    if unknown:
        raise ValidationError(f"model JSON: {where}: unknown field(s) {', '.join(sorted(unknown))} for {name}")
    kwargs = {k: obj_from_dict(v, f"{where}.{k}") for k, v in data.items() if k != "type"}
    try:
        return cls(**kwargs)
    except ValidationError as exc:
        raise ValidationError(f"model JSON: {where}: {exc}") from None
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValidationError(f"model JSON: {where}: {' '.join(str(exc).split())}") from None


def _check_keys(d: dict, allowed: set, where: str):
    if not isinstance(d, dict):
        raise ValidationError(f"model JSON: {where} must be an object")
    unknown = set(d) - allowed
    if unknown:
        raise ValidationError(f"model JSON: {where}: unknown field(s) {', '.join(sorted(unknown))}")


def network_to_dict(net) -> dict:
    pops = [{"label": p.label, "size": p.size, "celltype": obj_to_dict(p.celltype),
             "initial_values": {k: obj_to_dict(v) for k, v in p.initial_values.items()},
             **({"structure": obj_to_dict(p.structure)} if p.structure is not None else {})}  # written only when set
            for p in net.populations.values()]
    projs = [{"label": p.label, "pre": p.pre, "post": p.post, "connector": obj_to_dict(p.connector),
              "weight": obj_to_dict(p.weight), "delay": obj_to_dict(p.delay), "receptor": p.receptor,
              "plasticity": obj_to_dict(p.plasticity)} for p in net.projections.values()]
    recs = [{"target": r.target, "variables": list(r.variables), "every": r.every} for r in net.recordings]
    return {"format": FORMAT, "version": VERSION, "dt": net.dt, "seed": net.seed, "populations": pops,
            "projections": projs, "recordings": recs, "extensions": [obj_to_dict(e) for e in net.extensions]}


def network_from_dict(data: dict, cls):
    if not isinstance(data, dict):
        raise ValidationError(f"model JSON: the top level must be an object, not {type(data).__name__}")
    _check_keys(data, {"format", "version", "dt", "seed", "populations", "projections", "recordings", "extensions"}, "top level")
    if data.get("format") != FORMAT:
        raise ValidationError(f"model JSON: format={_short(data.get('format'))}; expected {FORMAT!r}")
    if data.get("version") != VERSION or isinstance(data.get("version"), bool):
        raise ValidationError(f"model JSON: version={_short(data.get('version'))} is not supported; this neuromorph reads version {VERSION}")
    model_schema.check(data, VERSION)  # structure and JSON types first (docs/schema.md), then meaning
    try:
        return _network_from_dict(data, cls)
    except RecursionError:
        raise ValidationError("model JSON: nested too deeply to be a neuromorph network") from None


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _network_from_dict(data: dict, cls):
    net = cls(dt=data.get("dt", 1.0), seed=data.get("seed", 0))
    for i, p in enumerate(data.get("populations", [])):
        _check_keys(p, {"label", "size", "celltype", "initial_values", "structure"}, f"populations[{i}]")
        net.population(p.get("label"), p.get("size"), obj_from_dict(p.get("celltype"), f"populations[{i}].celltype"),
                       p.get("initial_values") or {}, structure=obj_from_dict(p.get("structure"), f"populations[{i}].structure"))
    for i, p in enumerate(data.get("projections", [])):
        where = f"projections[{i}]"
        _check_keys(p, {"label", "pre", "post", "connector", "weight", "delay", "receptor", "plasticity"}, where)
        net.connect(p.get("pre"), p.get("post"), obj_from_dict(p.get("connector"), where + ".connector"),
                    weight=_array(p.get("weight", 0.0)), delay=_array(p.get("delay")), receptor=p.get("receptor", "excitatory"),
                    plasticity=obj_from_dict(p.get("plasticity"), where + ".plasticity"), label=p.get("label"))
    for i, r in enumerate(data.get("recordings", [])):
        _check_keys(r, {"target", "variables", "every"}, f"recordings[{i}]")
        net.record(r.get("target"), *r.get("variables", []), every=r.get("every", 1))
    for i, e in enumerate(data.get("extensions", [])):
        net.add(obj_from_dict(e, f"extensions[{i}]"))
    return net


def _array(value):
    return np.asarray(value, dtype=np.float64) if isinstance(value, list) else value
