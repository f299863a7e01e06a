"""The ``neuromorph`` command: run, validate, info, demo, task.

Every neuromorph error is printed as one line, ``neuromorph: error: ...``, with exit code 2.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

from .errors import NeuromorphError, ValidationError

TASKS = {"ca3-cam": "neuromorph.models.ca3_cam", "spatial-pattern": "neuromorph.models.spatial_pattern"}


def _load(path: str):
    from .network import Network

    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise ValidationError(f"model file {path!r} cannot be read ({exc.strerror}); give a readable JSON file") from None
    return Network.from_json(text)


def cmd_validate(args) -> int:
    net = _load(args.model)
    print(f"{args.model}: valid neuromorph network (dt = {net.dt} ms, seed = {net.seed})")
    for pop in net.populations.values():
        print(f"  population {pop.label}: {pop.size} × {type(pop.celltype).__name__}")
    for proj in net.projections.values():
        n = int(net.connectivity(proj).mask.sum())
        plastic = f", {type(proj.plasticity).__name__}" if proj.plasticity is not None else ""
        print(f"  projection {proj.label}: {proj.pre} -> {proj.post}, {type(proj.connector).__name__}, {n} synapses, {proj.receptor}{plastic}")
    return 0


def cmd_run(args) -> int:
    import numpy as np

    from .simulation import build

    net = _load(args.model)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    options = {}
    if args.backend == "torch":
        options = {"numerics": args.numerics, "device": args.device or "cpu", "batch": args.batch}
    elif args.backend == "pynn:spinnaker":
        options = {"run_dir": str(out)}
    t0 = time.perf_counter()
    sim = build(net, backend=args.backend, **options)
    error = None
    try:
        sim.run(args.duration)
    except NeuromorphError as exc:  # keep what was recorded before the failure
        error = exc
    wall = time.perf_counter() - t0
    summary = {"model": args.model, "backend": args.backend, **{k: str(v) for k, v in options.items()},
               "duration_ms": args.duration, "simulated_ms": sim.time, "wall_s": round(wall, 3), "populations": {}}
    print(f"neuromorph run: {args.model} on {args.backend} {options or ''}, {sim.time:g} of {args.duration:g} ms, wall {wall:.2f} s")
    for rec in net.recordings:
        if rec.target in net.projections:
            times, w = sim.weight_history(rec.target)
            np.savez(out / f"weights_{_safe(rec.target)}.npz", times_ms=times, weights=w)
            continue
        for var in rec.variables:
            if var == "spikes":
                spikes = sim.spikes(rec.target)
                trials = spikes if getattr(sim, "batch", 1) > 1 else [spikes]
                path = out / f"spikes_{_safe(rec.target)}.csv"
                with path.open("w") as fh:
                    fh.write("trial,neuron,time_ms\n")
                    for b, trial in enumerate(trials):
                        for i, times in enumerate(trial):
                            for t in times:
                                fh.write(f"{b},{i},{t:g}\n")
                count = int(sum(len(s) for trial in trials for s in trial))
                n = len(trials[0])
                rate = count / max(1, n * len(trials)) / max(sim.time / 1000.0, 1e-12)
                summary["populations"][rec.target] = {"neurons": n, "spikes": count, "rate_hz": round(rate, 3)}
                print(f"  {rec.target}: {n} neurons, {count} spikes, {rate:.2f} Hz  -> {path}")
            else:
                trace = sim.trace(rec.target, var)
                path = out / f"trace_{_safe(rec.target)}_{var}.npz"
                np.savez(path, trace=trace, dt_ms=net.dt * rec.every)
                print(f"  {rec.target}.{var}: {trace.shape} -> {path}")
    resources = sim.resources()
    if resources:
        summary["resources"] = resources
        print("  SpiNNaker mapping:")
        for key, value in resources.items():
            print(f"    {key}: {value}")
    if args.backend == "pynn:spinnaker":
        print("  note: without a configured board sPyNNaker maps on a virtual board and produces no spikes; this run is a mapping check")
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    if error is not None:
        raise error
    return 0


def cmd_info(args) -> int:
    from . import __version__
    from .capabilities import format_table
    from .simulation import BACKENDS, backend_module

    print(f"neuromorph {__version__}")
    seen = set()
    for name in BACKENDS:
        try:
            module = backend_module(name)
        except NeuromorphError as exc:
            print(f"\nbackend {name}: not available — {exc}")
            continue
        if name == "torch":
            import torch

            print(f"\nbackend torch: available (torch {torch.__version__}, CUDA {'yes' if torch.cuda.is_available() else 'no'})")
            for numerics in ("spinnaker", "spinnaker-float", "exact"):
                print(f"  numerics={numerics}:")
                print(format_table(module.capabilities(numerics=numerics)))
        else:
            variant = name if ":" in name else "pynn:nest"
            if variant in seen:
                print(f"\nbackend {name}: same as {variant}")
                continue
            seen.add(variant)
            try:
                table = module.capabilities(variant)
            except NeuromorphError as exc:
                print(f"\nbackend {name}: not available — {exc}")
                continue
            print(f"\nbackend {name}: available")
            print(format_table(table))
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo

    run_demo(args.out, duration_ms=args.duration, device=args.device, numerics=args.numerics)
    return 0


def cmd_task(args) -> int:
    module_name = TASKS[args.name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValidationError(f"task {args.name!r} is not installed ({exc})") from None
    return int(module.main(list(args.args)))


def _safe(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in label)


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="neuromorph", description="Run one spiking-network description on snnTorch/PyTorch or PyNN.")
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a model JSON file and write its recordings")
    r.add_argument("model")
    r.add_argument("--backend", default="torch")
    r.add_argument("--duration", type=float, default=100.0, help="ms")
    r.add_argument("--numerics", default="spinnaker", choices=["spinnaker", "spinnaker-float", "exact"])
    r.add_argument("--device", default=None)
    r.add_argument("--batch", type=int, default=1)
    r.add_argument("--out", default="neuromorph_out")
    r.set_defaults(func=cmd_run)
    v = sub.add_parser("validate", help="check a model JSON file")
    v.add_argument("model")
    v.set_defaults(func=cmd_validate)
    i = sub.add_parser("info", help="backends available here and their capability tables")
    i.set_defaults(func=cmd_info)
    d = sub.add_parser("demo", help="run the demo network and write a raster plot")
    d.add_argument("--out", default="neuromorph_out")
    d.add_argument("--duration", type=float, default=1000.0, help="ms")
    d.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    d.add_argument("--numerics", default="spinnaker", choices=["spinnaker", "spinnaker-float", "exact"])
    d.set_defaults(func=cmd_demo)
    t = sub.add_parser("task", help="paper tasks: ca3-cam, spatial-pattern (args passed on; try --help)")
    t.add_argument("name", choices=sorted(TASKS))
    t.add_argument("args", nargs=argparse.REMAINDER)
    t.set_defaults(func=cmd_task)
    return ap


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except NeuromorphError as exc:
        print(f"neuromorph: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
