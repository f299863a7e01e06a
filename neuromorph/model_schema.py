"""The JSON Schema of model files (``neuromorph/schema/network-v<VERSION>.json``) and its check.

The schema is generated from the registered description types (``generate()``; the shipped file
must equal it — tests/test_fuzz.py checks) and checked with the ``jsonschema`` library before a
file is deserialised: structure, JSON types (booleans are booleans, numbers are not booleans or
strings), required and unknown keys, known ``type`` names and the bounds of docs/schema.md that a
schema can say. The description classes then check meaning (references, ranges that depend on
other values, the dt grid, memory). Every failure is one line naming the JSON path, the value and
the fix.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import math
from importlib import resources

from .errors import ValidationError
from .validation import MAX_SEED, MAX_SIZE, MAX_TIME, MIN_DT

#: deepest nesting of arrays/objects a model file may have (the deepest legal one is 6)
MAX_DEPTH = 32

_SPECIAL = {  # fields whose annotation does not say their JSON shape
    ("SpikeSourceArray", "spike_times"): {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
    ("FromList", "conn_list"): {"type": "array", "items": {"type": "array", "minItems": 2, "maxItems": 4,
                                                          "items": {"type": "number"}}},
    ("Astrocytes", "coupling"): {"oneOf": [{"$ref": "#/$defs/coupling"},
                                           {"type": "array", "items": {"$ref": "#/$defs/coupling"}}]},
    ("Astrocytes", "domain"): {"type": "array", "items": {"type": "integer", "minimum": 0}},
    ("Astrocytes", "size"): {"type": "integer", "minimum": 1, "maximum": MAX_SIZE},
    ("FixedProbability", "seed"): {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_SEED - 1},
    ("FixedProbability", "p"): {"type": "number", "minimum": 0, "maximum": 1},
    **{(k, f): spec for k in ("FixedNumberPre", "FixedNumberPost", "FixedTotalNumber")
       for f, spec in (("seed", {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_SEED - 1}),
                       ("n", {"type": "integer", "minimum": 0}))},
    **{(k, "neurons"): {"type": "array", "items": {"type": "integer", "minimum": 0}}
       for k in ("DCSource", "StepCurrentSource", "ACSource", "NoisyCurrentSource")},
    ("StepCurrentSource", "times"): {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": MAX_TIME}},
    ("StepCurrentSource", "amplitudes"): {"type": "array", "items": {"type": "number"}},
    ("NoisyCurrentSource", "seed"): {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_SEED - 1},
    # spatial structures and the distance-dependent connector (neuromorph/space.py)
    **{(k, f): {"type": "array", "minItems": 3, "maxItems": 3, "items": {"type": "number"}}
       for k, f in (("RandomStructure", "origin"), ("Space", "offset"))},
    ("Space", "axes"): {"enum": ["x", "y", "z", "xy", "yz", "xz", "xyz", None]},
    ("Space", "periodic_boundaries"): {"if": {"type": "null"}, "else": {"type": "array", "minItems": 3, "maxItems": 3, "items": {
        "if": {"type": "null"}, "else": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"}}}}},
    ("DistanceDependentProbability", "space"): {"$ref": "#/$defs/Space"},
    **{(k, "seed"): {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_SEED - 1}
       for k in ("Grid2D", "Grid3D", "RandomStructure", "DistanceDependentProbability")},
    ("WeightFactorCalibration", "patterns"): {"type": "array", "items": {"type": "array", "items": {
        "type": "array", "items": {"type": "number", "minimum": 0, "maximum": MAX_TIME}}}},
}
_LABELS = {"oneOf": [{"type": "string", "minLength": 1}, {"type": "array", "items": {"type": "string", "minLength": 1}}]}
_REFS = {"TimingRule": "timing", "WeightDependence": "weight_dependence", "AstrocyteLR1994": "AstrocyteLR1994",
         "Connector": "connector", "Shape": "shape"}
_GROUPS = {  # $defs that accept any of several registered types
    "celltype": ("CellType", "SourceType"), "connector": ("Connector",), "timing": ("TimingRule",),
    "weight_dependence": ("WeightDependence",), "coupling": ("SlowInwardCurrent", "SynapticGain", "STDPGate"),
    "extension": ("SynapticScaling", "ThresholdAdaptation", "WeightFactorCalibration", "Astrocytes", "SAL",
                  "CurrentSource"),
    "structure": ("Structure",), "shape": ("Shape",),
    "plasticity": ("STDP", "TsodyksMarkram", "Vogels2011"),
}


def _field_schema(cls_name: str, f) -> dict:
    if (cls_name, f.name) in _SPECIAL:
        return _SPECIAL[(cls_name, f.name)]
    t = str(f.type)
    if t.startswith("Literal["):
        return {"enum": list(eval(t[len("Literal"):], {}))}  # noqa: S307 - a literal list of strings
    if t in _REFS:
        return {"$ref": f"#/$defs/{_REFS[t]}"}
    base = {"float": {"type": "number"}, "int": {"type": "integer"}, "bool": {"type": "boolean"},
            "str": {"type": "string", "minLength": 1}, "tuple": _LABELS}
    nullable = t.endswith(" | None")
    t = t.replace(" | None", "")
    out = dict(base.get(t, {}))
    if nullable and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def _type_schema(name: str, cls) -> dict:
    props = {"type": {"const": name}}
    required = ["type"]
    for f in dataclasses.fields(cls):
        props[f.name] = _field_schema(name, f)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(f.name)
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


def _members(group) -> list[str]:
    from .registry import DESCRIPTION_TYPES
    out = []
    for name, cls in sorted(DESCRIPTION_TYPES.items()):
        if name in group or any(b.__name__ in group for b in cls.__mro__[1:]):
            out.append(name)
    return out


def _dispatch(names: list[str]) -> dict:
    """An object whose "type" is one of ``names``, checked against that type's schema."""
    return {"type": "object", "required": ["type"],
            "properties": {"type": {"enum": names}},
            "allOf": [{"if": {"properties": {"type": {"const": n}}}, "then": {"$ref": f"#/$defs/{n}"}} for n in names]}


def generate(version: int) -> dict:
    """The JSON Schema of model files of format version ``version``."""
    from . import cells, connectors, current_sources, mechanisms, plasticity, space  # noqa: F401 - register every type
    from .registry import DESCRIPTION_TYPES
    from .serialization import FORMAT

    defs = {name: _type_schema(name, cls) for name, cls in sorted(DESCRIPTION_TYPES.items())}
    for group, bases in _GROUPS.items():
        defs[group] = _dispatch(_members(bases))
    number_or_list = {"oneOf": [{"type": "number"}, {"type": "array", "items": {"type": "number"}},
                                {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}]}
    defs["population"] = {
        "type": "object", "required": ["label", "size", "celltype"], "additionalProperties": False,
        "properties": {"label": {"type": "string", "minLength": 1},
                       "size": {"type": "integer", "minimum": 1, "maximum": MAX_SIZE},
                       "celltype": {"$ref": "#/$defs/celltype"},
                       "structure": {"if": {"type": "null"}, "else": {"$ref": "#/$defs/structure"}},
                       "initial_values": {"type": ["object", "null"], "additionalProperties": {
                           "oneOf": [{"type": "number"}, {"type": "array", "items": {"type": "number"}}]}}}}
    defs["projection"] = {
        "type": "object", "required": ["pre", "post", "connector"], "additionalProperties": False,
        "properties": {"label": {"type": ["string", "null"], "minLength": 1},
                       "pre": {"type": "string", "minLength": 1}, "post": {"type": "string", "minLength": 1},
                       "connector": {"$ref": "#/$defs/connector"},
                       "weight": number_or_list, "delay": {"if": {"type": "null"}, "else": number_or_list},
                       "receptor": {"enum": ["excitatory", "inhibitory"]},
                       "plasticity": {"if": {"type": "null"}, "else": {"$ref": "#/$defs/plasticity"}}}}
    defs["recording"] = {
        "type": "object", "required": ["target", "variables"], "additionalProperties": False,
        "properties": {"target": {"type": "string", "minLength": 1},
                       "variables": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
                       "every": {"type": "integer", "minimum": 1, "maximum": 10 ** 9}}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://neuromorph.invalid/schema/network-v{version}.json",
        "title": f"neuromorph model file, format version {version}",
        "description": "Generated by neuromorph.model_schema.generate(); bounds and meaning in docs/schema.md.",
        "type": "object", "required": ["format", "version"], "additionalProperties": False,
        "properties": {
            "format": {"const": FORMAT}, "version": {"const": version},
            "dt": {"type": "number", "minimum": MIN_DT, "maximum": MAX_TIME},
            "seed": {"type": "integer", "minimum": 0, "maximum": MAX_SEED - 1},
            "populations": {"type": "array", "items": {"$ref": "#/$defs/population"}},
            "projections": {"type": "array", "items": {"$ref": "#/$defs/projection"}},
            "recordings": {"type": "array", "items": {"$ref": "#/$defs/recording"}},
            "extensions": {"type": "array", "items": {"$ref": "#/$defs/extension"}},
        },
        "$defs": defs,
    }


def schema_path(version: int):
    return resources.files("neuromorph") / "schema" / f"network-v{version}.json"


@functools.lru_cache(maxsize=None)
def _validator(version: int):
    try:
        import jsonschema
    except ImportError:  # pragma: no cover - a core dependency
        return None
    import numpy as np
    schema = json.loads(schema_path(version).read_text(encoding="utf-8"))
    base = jsonschema.Draft202012Validator
    # from_dict callers may pass tuples and numpy scalars (to_dict writes lists and Python numbers)
    checker = base.TYPE_CHECKER.redefine_many({
        "array": lambda _, x: isinstance(x, (list, tuple)),
        "integer": lambda _, x: (isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)))
        or (isinstance(x, (float, np.floating)) and float(x).is_integer()),
        "number": lambda _, x: isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_)),
    })
    return jsonschema.validators.extend(base, type_checker=checker)(schema)


def _scan(data, limit: int = MAX_DEPTH) -> None:
    """Refuse nesting deeper than ``limit`` and non-finite numbers (NaN, ±Infinity, 1e999 — Python's
    json reads them), naming the path; iterative, so any depth is safe."""
    stack = [(data, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            raise ValidationError(f"model JSON: {_path(path)}={node} is not a finite number (JSON has no NaN or "
                                  "Infinity, and 1e999 overflows); give a finite value")
        if isinstance(node, (list, tuple, dict)):
            if len(path) >= limit:
                raise ValidationError(f"model JSON: {_path(path[:4])}... is nested more than {limit} levels deep; "
                                      "a neuromorph network is at most 6")
            items = node.items() if isinstance(node, dict) else enumerate(node)
            stack.extend((v, path + (k,)) for k, v in items)


#: lists longer than this whose items are all numbers (or all flat lists of numbers) are checked by
#: type here and shown to the schema by their first item only: a 10**5-row FromList then costs
#: milliseconds instead of seconds (the description classes check every value's range)
_PRUNE = 64


def _is_number(x) -> bool:
    return (type(x) is float or type(x) is int)


def _pruned(node):
    if isinstance(node, dict):
        return {k: _pruned(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        if len(node) > _PRUNE and (all(_is_number(x) for x in node) or all(
                type(x) in (list, tuple) and all(_is_number(y) for y in x) for x in node)):
            return node[:1]
        return [_pruned(x) for x in node]
    return node


def _path(parts) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _best(error):
    """The most specific of a ValidationError's causes (the branch a "type" selects)."""
    import jsonschema
    return jsonschema.exceptions.best_match([error], key=jsonschema.exceptions.relevance) if error else error


def _message(error) -> str:
    where = _path(error.absolute_path)
    inst = error.instance
    if isinstance(inst, dict) and isinstance(inst.get("type"), str) and error.validator in ("additionalProperties", "required"):
        where += f" ({inst['type']})"
    value = json.dumps(error.instance, allow_nan=True, default=str)
    if len(value) > 60:
        value = value[:57] + "..."
    v, kw = error.validator, error.validator_value
    if v == "type":
        want = kw if isinstance(kw, str) else " or ".join(kw)
        fix = f"give {'an' if want[0] in 'aeiou' else 'a'} {want}" + (" (true or false, not a string or number)" if want == "boolean" else
                                   " (not a boolean or a string)" if "number" in want or "integer" in want else "")
        return f"{where}={value} has the wrong type; {fix}"
    if v == "required":
        return f"{where}: {error.message}; add it"
    if v == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        extra = sorted(str(k) for k in inst if k not in known) if isinstance(inst, dict) else []
        return (f"{where}: unknown field(s) {', '.join(extra)}; remove it or use one of "
                f"{', '.join(sorted(known)) or 'none'} (docs/schema.md)")
    if v in ("enum", "const"):
        choices = kw if v == "enum" else [kw]
        return f"{where}={value} is not allowed; use one of {', '.join(json.dumps(c) for c in choices)}"
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        rel = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[v]
        return f"{where}={value} is out of range; it must be {rel} {kw:g} (docs/schema.md gives the bounds)"
    if v in ("minItems", "maxItems", "minLength"):
        return f"{where}={value}: {error.message}"
    if v == "oneOf":
        return f"{where}={value} has the wrong shape; give a number or a list of numbers, or an object of a known type"
    return f"{where}={value}: {error.message}"


def check(data, version: int) -> None:
    """Raise a one-line ValidationError for the first schema violation of ``data``."""
    _scan(data)
    validator = _validator(version)
    if validator is None:
        return
    try:
        errors = list(validator.iter_errors(_pruned(data)))
    except RecursionError:
        raise ValidationError("model JSON: nested too deeply to be a neuromorph network") from None
    if errors:
        import jsonschema
        error = jsonschema.exceptions.best_match(errors)
        # inside a dispatch on "type", report the selected branch's own complaint
        while error.context:
            error = jsonschema.exceptions.best_match(error.context)
        raise ValidationError(f"model JSON: {_message(error)}")


if __name__ == "__main__":  # regenerate the shipped schema: python -m neuromorph.model_schema
    from .serialization import VERSION
    path = schema_path(VERSION)
    with open(str(path), "w", encoding="utf-8") as fh:
        fh.write(json.dumps(generate(VERSION), indent=1) + "\n")
    print(path)
