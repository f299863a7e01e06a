"""The ``neuromorph`` command (also ``python -m neuromorph``): run, validate, check, info, demo, task, bench.

Exit codes: 0 success; 2 bad input (a model, option or file neuromorph refuses — printed as one
line, ``neuromorph: error: <message>``, never a traceback); 1 an unexpected internal error (one
line too; set ``NEUROMORPH_DEBUG=1`` for the traceback); 130 interrupted (SIGINT, Ctrl-C), 143
terminated (SIGTERM): ``neuromorph run`` stops at a step boundary and writes what was simulated. ``neuromorph task``
returns the task's own code; ``neuromorph bench`` returns 1 when a benchmark case failed or timed out;
``neuromorph check`` returns 1 when the network does not fit the SpiNNaker machine (errors).
"""
from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys
import time
from pathlib import Path

from .errors import NeuromorphError, ValidationError

#: ``neuromorph task NAME`` -> module whose ``main(argv) -> int`` runs it
TASKS = {"ca3-cam": "neuromorph.models.ca3_cam", "spatial-pattern": "neuromorph.models.spatial_pattern"}
NUMERICS = ("spinnaker", "spinnaker-float", "exact")
#: written on the raster of a ``pynn:spinnaker`` run without a board (it is empty)
VIRTUAL_BOARD_NOTE = ("no SpiNNaker board is configured: sPyNNaker mapped the network onto a VIRTUAL board "
                      "and ran nothing, so there are no spikes to show (a virtual board produces none)")
#: units of what ``neuromorph run`` writes
UNITS = {"v": "mV", "isyn_exc": "nA", "isyn_inh": "nA"}


class CLIError(ValidationError):
    """Bad command-line input (exit code 2)."""


# -- helpers ---------------------------------------------------------------------------------
def _load(path: str):
    """Read and validate a model JSON file; every failure is a one-line NeuromorphError."""
    from .network import Network

    p = Path(path)
    if p.is_dir():
        raise CLIError(f"model file {path!r} is a directory; give a neuromorph JSON file")
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CLIError(f"model file {path!r} does not exist") from None
    except UnicodeDecodeError:
        raise CLIError(f"model file {path!r} is not UTF-8 text; give a neuromorph JSON file") from None
    except OSError as exc:
        raise CLIError(f"model file {path!r} cannot be read ({exc.strerror})") from None
    try:
        return Network.from_json(text)
    except NeuromorphError as exc:
        raise _prefixed(exc, f"{path}: ") from None
    except RecursionError:
        raise CLIError(f"{path}: the JSON is nested too deeply to be a neuromorph network") from None


def _prefixed(exc: NeuromorphError, prefix: str = "", suffix: str = "") -> NeuromorphError:
    """The same kind of error with more context in its one-line message."""
    try:
        return type(exc)(f"{prefix}{exc}{suffix}")
    except Exception:  # a subclass with another constructor
        return ValidationError(f"{prefix}{exc}{suffix}")


def _positive_ms(name: str, value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise CLIError(f"--{name}={value:g} ms must be a finite time > 0")
    return value


def _default_device() -> str:
    from .demo import default_device

    return default_device()


def _safe(label: str) -> str:
    """A file-name-safe form of a population or projection label."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in label.replace("->", "_to_")) or "_"


class _Files:
    """Output file names, unique even when two labels map to the same safe name."""

    def __init__(self, out: Path):
        self.out, self.used, self.written = out, set(), []

    def name(self, stem: str, suffix: str) -> Path:
        name, k = f"{stem}{suffix}", 1
        while name in self.used:
            k += 1
            name = f"{stem}-{k}{suffix}"
        self.used.add(name)
        return self.out / name

    def done(self, path: Path) -> None:
        self.written.append(str(path))


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _weight_unit(net, projection) -> str:
    ct = net.populations[projection.post].celltype
    # IF_curr_delta(weight_units="mV") and Izhikevich (weight_units = "mV", a class constant) take jumps
    return "mV" if getattr(ct, "weight_units", "nA") == "mV" else "nA"


class _Diversion:
    """Shared by _SimulatorOutput and _RunLog: log records of level WARNING and above and Python
    warnings go to ``self._fh`` while active; ``_restore`` puts stdout, fd 1 and logging back."""

    def _divert_logging(self) -> None:
        import logging

        self._handler = logging.StreamHandler(self._fh)
        self._handler.setLevel(logging.WARNING)
        self._handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logging.getLogger().addHandler(self._handler)
        # Python warnings straight into the file: logging.captureWarnings would be a no-op where a
        # library (Brian2 on import) already turned it on, and the warnings would then go wherever
        # that library's showwarning sends them
        import warnings

        self._saved_showwarning = warnings.showwarning
        fh = self._fh

        def showwarning(message, category, filename, lineno, file=None, line=None):
            fh.write(warnings.formatwarning(message, category, filename, lineno, line))

        warnings.showwarning = showwarning

    def _restore(self) -> None:
        import logging

        _flush_stdout()
        if sys.stdout is not self._saved_stdout:
            if sys.stdout is not self._fh:  # our own copy of fd 1
                sys.stdout.close()
            sys.stdout = self._saved_stdout
        if self._saved_fd is not None:
            os.dup2(self._saved_fd, 1)
            os.close(self._saved_fd)
        import warnings

        warnings.showwarning = self._saved_showwarning
        logging.getLogger().removeHandler(self._handler)


class _SimulatorOutput(_Diversion):
    """While active, what a PyNN simulator prints on file descriptor 1 (NEST, sPyNNaker), Python
    warnings and log records of level WARNING and above go to a temporary file, not to stdout; what
    neuromorph (or a task) prints through ``sys.stdout`` still reaches it. ``note()`` then says how
    many lines were held back; with ``NEUROMORPH_DEBUG=1`` they are printed on stderr. (``neuromorph
    run`` keeps them in run.log instead.)"""

    def __enter__(self):
        import tempfile

        self.text = ""
        self._fh = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")
        self._divert_logging()
        _flush_stdout()
        self._saved_fd, self._saved_stdout = None, sys.stdout
        try:
            on_fd1 = sys.stdout is not None and sys.stdout.fileno() == 1
        except (OSError, ValueError, AttributeError):
            on_fd1 = False
        try:
            self._saved_fd = os.dup(1)
            if on_fd1:  # Python-level prints keep going to the real stdout, through a copy of fd 1
                sys.stdout = open(os.dup(self._saved_fd), "w", buffering=1, encoding=getattr(
                    self._saved_stdout, "encoding", None) or "utf-8", errors="replace")
            os.dup2(self._fh.fileno(), 1)
        except (OSError, ValueError):
            if self._saved_fd is not None:
                os.close(self._saved_fd)
            self._saved_fd = None
        return self

    def __exit__(self, *exc):
        self._restore()
        self._fh.flush()
        self._fh.seek(0)
        self.text = self._fh.read()
        self._fh.close()
        if self.text.strip() and os.environ.get("NEUROMORPH_DEBUG"):
            sys.stderr.write(self.text if self.text.endswith("\n") else self.text + "\n")
        return False

    def note(self) -> str:
        """One line about the held-back output, or "" when there was none."""
        n = len(self.text.strip().splitlines()) if self.text.strip() else 0
        if not n:
            return ""
        return (f"note: the simulator printed {_n(n, 'line')} of messages and warnings (PyNN, NEST, "
                "sPyNNaker), kept off stdout; NEUROMORPH_DEBUG=1 prints them on stderr")


def _pynn_task_backend(argv) -> bool:
    """True when a task's arguments choose a PyNN backend (``--backend pynn...``)."""
    argv = list(argv)
    for k, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--backend=") else (
            argv[k + 1] if arg == "--backend" and k + 1 < len(argv) else None)
        if value is not None and value.startswith("pynn"):
            return True
    return False


# -- validate --------------------------------------------------------------------------------
def cmd_validate(args) -> int:
    net = _load(args.model)
    n_neurons = sum(p.size for p in net.populations.values())
    n_syn = {label: net.connectivity(label).size for label in net.projections}
    print(f"{args.model}: valid neuromorph network — dt {net.dt:g} ms, seed {net.seed}, "
          f"{_n(len(net.populations), 'population')} ({_n(n_neurons, 'cell')}), "
          f"{_n(len(net.projections), 'projection')} ({_n(sum(n_syn.values()), 'synapse')})")
    for pop in net.populations.values():
        ct = pop.celltype
        extra = f", weight_units={ct.weight_units}" if type(ct).__name__ == "IF_curr_delta" else ""
        print(f"  population {pop.label}: {pop.size} × {type(ct).__name__}{extra}")
    for proj in net.projections.values():
        conn = net.connectivity(proj)
        delays = conn.distinct_delays
        delay = (f"{delays[0] * net.dt:g} ms" if len(delays) == 1
                 else f"{delays[0] * net.dt:g}–{delays[-1] * net.dt:g} ms" if delays else "-")
        plastic = ""
        if proj.plasticity is not None:
            st = proj.plasticity
            parts = [type(getattr(st, a)).__name__ for a in ("timing", "weight") if hasattr(st, a)]
            plastic = f", plastic: {type(st).__name__}" + (f"({' × '.join(parts)})" if parts else "")
        print(f"  projection {proj.label}: {proj.pre} -> {proj.post}, {type(proj.connector).__name__}, "
              f"{_n(n_syn[proj.label], 'synapse')}, {proj.receptor}, delay {delay}{plastic}")
    for rec in net.recordings:
        every = f" every {rec.every} steps" if rec.every > 1 else ""
        print(f"  record {rec.target}: {', '.join(rec.variables)}{every}")
    for ext in net.extensions:
        print(f"  construct {type(ext).__name__}")
    if not net.recordings:
        print("  note: nothing is recorded; `neuromorph run` would write no spikes or traces")
    if args.backend:
        options = _backend_options(args)
        from .simulation import build

        with _SimulatorOutput() as held:  # NEST/sPyNNaker messages stay off the summary
            build(net, backend=args.backend, **options)  # every check the backend makes, without running
        shown = ", ".join(f"{k} {v}" for k, v in options.items() if k != "run_dir")
        print(f"  builds on backend {args.backend}" + (f" ({shown})" if shown else ""))
        if held.note():
            print(f"  {held.note()}")
    return 0


# -- run -------------------------------------------------------------------------------------
def _backend_options(args) -> dict:
    """Build options from --numerics/--device/--batch, refusing those the backend does not take."""
    from .simulation import BACKENDS, backend_module

    if args.backend not in BACKENDS:
        backend_module(args.backend)  # raises the one-line "does not exist; choose one of ..." error
    max_memory = getattr(args, "max_memory", None)
    board = {key: getattr(args, key, None) for key in BOARD_OPTIONS}
    board = {key: value for key, value in board.items() if value is not None}
    if board and args.backend != "pynn:spinnaker":
        flag = "--" + next(iter(board)).replace("_", "-")
        raise CLIError(f"{flag} applies to --backend pynn:spinnaker only, not {args.backend!r}")
    if args.backend == "torch":
        options = {"numerics": args.numerics or "spinnaker", "device": args.device or _default_device(),
                   "batch": args.batch if args.batch is not None else 1}
        if max_memory is not None:
            options["max_memory"] = max_memory
        return options
    if max_memory is not None:
        raise CLIError(f"--max-memory applies to the torch backend only, not {args.backend!r}: the PyNN simulators "
                       "allocate their own memory, which neuromorph cannot bound")
    if args.device is not None:
        raise CLIError(f"--device applies to the torch backend only, not {args.backend!r}")
    if args.batch not in (None, 1):
        raise CLIError(f"--batch applies to the torch backend only, not {args.backend!r}")
    options = {"numerics": args.numerics} if args.numerics else {}
    options.update(board)
    return options


#: ``neuromorph run`` flags for a physical SpiNNaker board or a spalloc machine (pynn:spinnaker
#: build options, written into the run folder's spynnaker.cfg; docs/spinnaker.md)
BOARD_OPTIONS = ("version", "machine_name", "spalloc_server", "spalloc_port", "spalloc_user", "n_boards")


#: what ``neuromorph run`` writes into --out (globs); ``--overwrite`` removes these, and nothing else
OWN_OUTPUTS = ("spikes.csv", "spikes*.npz", "trace_*.npz", "weights_*.npz", "raster*.png", "traces*.png", "weights*.png",
               "summary.json", "run.log", "results_neo.pkl", "results_neo.nix",
               "checkpoint.ckpt")
#: the checkpoint ``--checkpoint-every`` keeps in --out and ``neuromorph resume`` continues from
CHECKPOINT = "checkpoint.ckpt"
OWN_FOLDERS = ("spinnaker",)
#: signals that stop ``neuromorph run`` at a step boundary, and its exit code after them
STOP_SIGNALS = {"SIGINT": 130, "SIGTERM": 143}
#: wall time one segment of ``sim.run`` aims at (a signal is answered within about this long)
SEGMENT_WALL_S = 0.5
#: steps of the first segment, before the speed is known
FIRST_SEGMENT_STEPS = 100


class Abandoned(BaseException):
    """A third SIGINT/SIGTERM while ``neuromorph run`` writes its files: stop now; the files that
    are complete stay, partly written ones are removed (they are temporary files until complete)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _signal_name(signum: int) -> str:
    import signal

    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class _StopSignals:
    """SIGINT/SIGTERM handlers for ``neuromorph run``: the first asks the run to stop at the next step
    boundary (``self.signum`` set), the second is acknowledged (the files are still finished), a third
    raises :class:`Abandoned`. The previous handlers come back on exit; outside the main thread nothing
    is installed."""

    def __init__(self, quiet: bool = False):
        self.signum: int | None = None
        self.count = 0
        self.quiet = quiet
        self._old: dict = {}

    def __enter__(self):
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            for name in STOP_SIGNALS:
                signum = getattr(signal, name, None)
                if signum is not None:
                    try:
                        self._old[signum] = signal.signal(signum, self._handle)
                    except (ValueError, OSError):
                        pass
        return self

    def __exit__(self, *exc):
        import signal

        for signum, handler in self._old.items():
            signal.signal(signum, handler)
        self._old = {}
        return False

    def _handle(self, signum, frame):
        self.count += 1
        name = _signal_name(signum)
        if self.count == 1:
            self.signum = signum
            msg = f"neuromorph: {name}: stopping at the next step boundary; writing what was simulated so far"
        elif self.count == 2:
            msg = f"neuromorph: {name} again: still writing the files; a third signal abandons the unfinished ones"
        else:
            raise Abandoned(signum)
        if not self.quiet:
            try:  # os.write, not print: a handler may run inside another write to stderr
                os.write(2, (msg + "\n").encode())
            except OSError:
                pass


class _RunLog(_Diversion):
    """While active, what the simulator prints on stdout (file descriptor 1: NEST, PyNN, sPyNNaker)
    and Python warnings and log records of level WARNING and above go to ``run.log`` in --out, not to
    the terminal. The log is a temporary file until it is complete; an empty log is not kept."""

    def __init__(self, path: Path):
        self.path = path
        self.written = False

    def __enter__(self):
        from .atomic import atomic_path

        self._ctx = atomic_path(self.path, fsync=False)
        tmp = self._ctx.__enter__()
        self._fh = open(tmp, "w", buffering=1, encoding="utf-8", errors="replace")
        self._divert_logging()
        self._saved_fd = None
        _flush_stdout()
        self._saved_stdout, sys.stdout = sys.stdout, self._fh  # Python-level prints of the simulator
        try:
            self._saved_fd = os.dup(1)
            os.dup2(self._fh.fileno(), 1)
        except (OSError, ValueError):
            self._saved_fd = None
        return self

    def __exit__(self, exc_type, exc, tb):
        self._restore()
        self._fh.close()
        if exc_type is None and Path(self._fh.name).stat().st_size > 0:
            self._ctx.__exit__(None, None, None)  # the log becomes run.log
            self.written = True
        else:  # an empty log is not kept; after an exception the temporary file goes too
            self._ctx.__exit__(exc_type or _EmptyLog, exc or _EmptyLog(), tb)
        return False


class _EmptyLog(Exception):
    pass


def _flush_stdout() -> None:
    for stream in (sys.stdout, sys.__stdout__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass


def _prepare_out(out: Path, overwrite: bool) -> None:
    """Create --out; refuse a non-empty one unless ``overwrite``, which removes an earlier run's
    files (only neuromorph's own output names) so that none of them survives this run."""
    import shutil

    from .atomic import TEMP_GLOB

    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {str(out)!r} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        entries = sorted(p.name for p in out.iterdir())
    except OSError as exc:
        raise CLIError(f"--out {str(out)!r} cannot be created ({exc.strerror})") from None
    if not entries:
        return
    if not overwrite:
        shown = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
        raise CLIError(f"--out {str(out)!r} is not empty ({shown}); give --overwrite to replace an earlier "
                       "run's files there, or choose another folder")
    for pattern in OWN_OUTPUTS + (TEMP_GLOB,):
        for path in out.glob(pattern):
            if path.is_file() or path.is_symlink():
                try:
                    path.unlink()
                except OSError as exc:
                    raise CLIError(f"--overwrite: {path} cannot be removed ({exc.strerror})") from None
    for name in OWN_FOLDERS:
        if (out / name).is_dir():
            shutil.rmtree(out / name, ignore_errors=True)


class _Progress:
    """A tqdm bar on stderr (simulated s, simulated s per wall s, ETA), shown once a run has taken
    more than 2 s and only when stderr is a terminal; nothing with --quiet."""

    def __init__(self, duration_ms: float, quiet: bool):
        self.bar = None
        self.last = 0.0
        if quiet:
            return
        try:
            from tqdm import tqdm
        except ImportError:  # a core dependency, but a progress bar is never worth failing a run
            return
        try:  # a terminal that reports no width (0 columns) would get an empty bar
            sized = os.get_terminal_size(sys.stderr.fileno()).columns > 0
        except (OSError, ValueError, AttributeError):
            sized = False
        self.bar = tqdm(total=duration_ms / 1000.0, unit="sim-s", file=sys.stderr, delay=2.0, leave=False,
                        disable=None, dynamic_ncols=sized, ncols=None if sized else 100, desc="neuromorph run",
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.2f}/{total:.2f} s simulated "
                                   "[{elapsed}<{remaining}, {rate_noinv_fmt}]")

    def update(self, time_ms: float) -> None:
        if self.bar is not None:
            self.bar.update(max(time_ms / 1000.0 - self.last, 0.0))
            self.last = time_ms / 1000.0

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _simulate(sim, net, duration: float, stop: _StopSignals, progress: _Progress, segmented: bool,
              checkpoint: tuple[Path, float] | None = None) -> None:
    """Run ``sim`` until simulated time ``duration`` (ms; it may already be part way, when resumed)
    in segments of about SEGMENT_WALL_S wall time, stopping early at a segment boundary (a step
    boundary) once ``stop.signum`` is set. Results do not depend on the segments. ``checkpoint``:
    ``(path, every_ms)``: a checkpoint at every multiple of every_ms (segments end there)."""
    total = net.steps(duration, "--duration")
    done = int(round(sim.time / net.dt))
    check = getattr(sim, "check_memory", None)  # torch: refuse recordings that cannot fit, before any step
    if check is not None and total > done:
        check((total - done) * net.dt)
    if not segmented:
        if stop.signum is None:
            sim.run((total - done) * net.dt)
        progress.update(sim.time)
        return
    every = net.steps(checkpoint[1], "--checkpoint-every") if checkpoint else 0
    seg = min(total - done, FIRST_SEGMENT_STEPS)
    while done < total and stop.signum is None:
        n = min(seg, total - done)
        if every:
            n = min(n, every - done % every)
        t = time.perf_counter()
        sim.run(n * net.dt)
        wall = time.perf_counter() - t
        done += n
        progress.update(sim.time)
        if every and done % every == 0 and done < total:
            sim.save(checkpoint[0])
        seg = max(1, min(10 * n, int(n * SEGMENT_WALL_S / max(wall, 1e-3))))


def _neo_io():
    """``(neo, "nix" | "pkl")``: NixIO when nixio is importable, else PickleIO; refused without neo."""
    import importlib.util

    if importlib.util.find_spec("neo") is None:
        raise CLIError('--neo needs the neo package, in the [pynn] extra: pip install "neuromorph[pynn]"')
    import neo

    return neo, ("nix" if importlib.util.find_spec("nixio") is not None else "pkl")


def _write_neo(net, sim, files: "_Files") -> None:
    """``results_neo.nix`` (NixIO) or ``results_neo.pkl`` (PickleIO): a list of neo Blocks, one per
    recorded population (``sim.neo(label)``), written atomically."""
    from .atomic import atomic_path

    neo, kind = _neo_io()
    labels = [r.target for r in net.recordings if r.target in net.populations]
    blocks = [sim.neo(label) for label in dict.fromkeys(labels)]
    if not blocks:
        return
    path = files.name("results_neo", f".{kind}")
    with atomic_path(path) as tmp:
        if kind == "nix":
            tmp.unlink()  # NixIO creates the file itself
            io = neo.io.NixIO(str(tmp), mode="ow")
            try:
                io.write_all_blocks(blocks)
            finally:
                io.close()
        else:
            import pickle

            with open(tmp, "wb") as fh:  # what neo.io.PickleIO writes, for a list of Blocks
                pickle.dump(blocks, fh)
    files.done(path)


def cmd_run(args) -> int:
    net = _load(args.model)
    duration = _positive_ms("duration", args.duration)
    net.steps(duration, "--duration")  # on the dt grid, before anything is built
    options = _backend_options(args)
    if args.checkpoint_every is not None:
        net.steps(_positive_ms("checkpoint-every", args.checkpoint_every), "--checkpoint-every")
        if args.backend != "torch":
            raise CLIError(f"--checkpoint-every needs the torch backend (checkpoints hold its state), not {args.backend!r}")
    if options.get("max_memory") is not None:  # a malformed size is refused before anything runs
        from neuromorph.backends.torch.memory import parse_size

        parse_size(options["max_memory"], "--max-memory")
    if args.neo:
        _neo_io()  # refused before anything runs
    out = Path(args.out)
    with _StopSignals(quiet=args.quiet) as stop:
        _prepare_out(out, args.overwrite)
        return _run(args, net, duration, options, out, stop)


def cmd_resume(args) -> int:
    """Continue a ``neuromorph run --checkpoint-every`` from DIR's checkpoint, into DIR."""
    import json

    from .simulation import load

    out = Path(args.dir)
    try:
        summary = json.loads((out / "summary.json").read_text())
    except (OSError, ValueError) as exc:
        raise CLIError(f"resume: {str(out / 'summary.json')!r} cannot be read ({type(exc).__name__}); give the --out "
                       "folder of a `neuromorph run --checkpoint-every` run") from None
    if not (out / CHECKPOINT).is_file():
        raise CLIError(f"resume: no {CHECKPOINT} in {str(out)!r}; runs write one with --checkpoint-every MS")
    duration = _positive_ms("duration", args.duration) if args.duration is not None else float(summary["duration_ms"])
    sim = load(out / CHECKPOINT, **({"max_memory": summary["max_memory"]} if summary.get("max_memory") else {}))
    if duration < sim.time:
        raise CLIError(f"resume: the checkpoint is at t={sim.time:g} ms, beyond --duration {duration:g} ms")
    run_args = argparse.Namespace(model=summary.get("model", "?"), backend="torch", plot=bool(summary.get("plot")),
                                  quiet=args.quiet, checkpoint_every=summary.get("checkpoint_every_ms"),
                                  neo=bool(summary.get("neo")))
    options = {k: summary[k] for k in ("numerics", "device", "batch", "max_memory") if k in summary}
    with _StopSignals(quiet=args.quiet) as stop:
        return _run(run_args, sim.net, duration, options, out, stop, sim=sim)


def _run(args, net, duration, options, out: Path, stop: _StopSignals, sim=None) -> int:
    from .simulation import build

    if args.backend == "pynn:spinnaker":
        options["run_dir"] = str(out / "spinnaker")
    files = _Files(out)
    shown = {k: v for k, v in options.items() if k != "run_dir"}
    summary = {"model": args.model, "backend": args.backend, **shown, "duration_ms": duration,
               "simulated_ms": 0.0, "interrupted": False, "build_s": None, "run_s": None,
               "populations": {}, "files": files.written, "plot": bool(args.plot)}
    if getattr(args, "neo", False):
        summary["neo"] = True
    checkpoint = None
    if getattr(args, "checkpoint_every", None) is not None:
        checkpoint = (out / CHECKPOINT, float(args.checkpoint_every))
        summary["checkpoint_every_ms"] = checkpoint[1]
    resumed_at = sim.time if sim is not None else None
    if resumed_at is not None:
        summary["resumed_at_ms"] = resumed_at
    lines: list[str] = []  # stdout, printed once the simulator's own output is no longer captured
    error: BaseException | None = None
    abandoned = False
    log = _RunLog(out / "run.log")
    t0 = time.perf_counter()
    t1 = t2 = t0
    try:
        with log:
            progress = _Progress(duration, args.quiet)
            try:
                if sim is None:
                    sim = build(net, backend=args.backend, **options)
                t1 = time.perf_counter()
                # sPyNNaker maps and loads the board on every run call: one call there
                _simulate(sim, net, duration, stop, progress, segmented=args.backend != "pynn:spinnaker",
                          checkpoint=checkpoint)
                if checkpoint is not None:  # where it stopped (the end, or a signal): resumable from here
                    sim.save(checkpoint[0])
                    files.done(checkpoint[0])
                    summary["checkpoint_ms"] = sim.time
            except (Exception, KeyboardInterrupt) as exc:  # keep and write what was recorded before it
                error = exc
            finally:
                progress.close()
            t2 = time.perf_counter()
            if sim is None:
                t1 = t2
            else:
                summary["simulated_ms"] = sim.time
            summary.update(build_s=round(t1 - t0, 3), run_s=round(t2 - t1, 3))
            if stop.signum is not None:  # next to "interrupted", in place (summary["files"] is shared)
                items = list(summary.items())
                summary.clear()
                for key, value in items:
                    summary[key] = value
                    if key == "interrupted":
                        summary.update(interrupted=True, interrupted_at_ms=summary["simulated_ms"],
                                       signal=_signal_name(stop.signum))
            lines.append(f"neuromorph run: {args.model} on {args.backend}"
                         + (" (" + ", ".join(f"{k} {v}" for k, v in shown.items()) + ")" if shown else "")
                         + f": {summary['simulated_ms']:g} of {duration:g} ms simulated"
                         + (f" (stopped by {summary['signal']})" if stop.signum is not None else "")
                         + f", wall {t2 - t0:.2f} s (build {t1 - t0:.2f} s, run {t2 - t1:.2f} s)")
            if sim is not None:
                _write_outputs(args, net, sim, out, files, summary, lines)
        if log.written:
            files.done(log.path)
    except Abandoned:
        abandoned = True
        raise
    except BaseException as exc:
        if error is None:
            error = exc
        raise
    finally:
        if not abandoned:
            if error is not None:
                summary["error"] = f"{type(error).__name__}: {error}"
            from .atomic import write_json

            summary_path = write_json(out / "summary.json", summary, indent=1, default=str)
            if not args.quiet:
                _flush_stdout()
                for line in lines + [f"  wrote {path}" for path in files.written] + [f"  wrote {summary_path}"]:
                    print(line)
    if error is not None:
        if isinstance(error, KeyboardInterrupt):
            raise error
        if sim is None:
            raise error
        if isinstance(error, NeuromorphError):
            raise _prefixed(error, suffix=f" (recordings up to t={sim.time:g} ms written to {out})")
        raise error
    if stop.signum is not None:
        name = _signal_name(stop.signum)
        if summary["interrupted"]:
            print(f"neuromorph: interrupted by {name} at t={summary['simulated_ms']:g} of {duration:g} ms; "
                  f"what was simulated is written to {out}", file=sys.stderr)
        else:  # the signal came after the last step: the run is complete, and so are its files
            print(f"neuromorph: {name} after the run had finished; every file is written to {out}", file=sys.stderr)
        return STOP_SIGNALS.get(name, 128 + stop.signum)
    return 0


def _write_outputs(args, net, sim, out: Path, files: "_Files", summary: dict, lines: list) -> None:
    """Every output file of ``neuromorph run``, each written atomically as soon as its data is read."""
    import numpy as np

    from .atomic import atomic_open, savez_compressed

    say = lines.append
    batch = int(getattr(sim, "batch", 1) or 1)
    virtual = args.backend == "pynn:spinnaker" and bool(getattr(sim, "virtual_board", False))
    recorded: dict[str, list[str]] = {}
    for rec in net.recordings:
        seen = recorded.setdefault(rec.target, [])
        seen += [v for v in rec.variables if v not in seen]
    # spikes first: spikes.csv and spikes.npz
    spike_pops = [label for label in net.populations if "spikes" in recorded.get(label, [])]
    npz = {}
    seconds = max(sim.time, 0.0) / 1000.0
    if virtual:
        say("  VIRTUAL SpiNNaker board: the network was mapped, not run, so it produced no spikes (see the note below)")
    say(f"  {'population':<16} {'cells':>6}  {'type':<20} {'spikes':>8}  {'rate (Hz)':>9}")
    csv_rows = ["population,trial,neuron,time_ms\n" if batch > 1 else "population,neuron,time_ms\n"]
    spikes_of = {}
    for label, pop in net.populations.items():
        kind = type(pop.celltype).__name__
        if label not in spike_pops:
            say(f"  {label:<16} {pop.size:>6}  {kind:<20} {'-':>8}  {'-':>9}   (spikes not recorded)")
            continue
        spikes = spikes_of[label] = sim.spikes(label)
        trials = spikes if batch > 1 else [spikes]
        rows_t, rows_i, rows_b = [], [], []
        for b, trial in enumerate(trials):
            for i, times in enumerate(trial):
                times = np.asarray(times, dtype=float)
                prefix = f"{label},{b},{i}," if batch > 1 else f"{label},{i},"
                csv_rows.extend(f"{prefix}{t:.12g}\n" for t in times)
                rows_t.append(times)
                rows_i.append(np.full(len(times), i, dtype=np.int64))
                rows_b.append(np.full(len(times), b, dtype=np.int64))
        count = int(sum(len(t) for t in rows_t))
        rate = count / (pop.size * batch) / seconds if seconds > 0 else 0.0
        npz[f"{label}.time_ms"] = np.concatenate(rows_t) if rows_t else np.zeros(0)
        npz[f"{label}.neuron"] = np.concatenate(rows_i) if rows_i else np.zeros(0, np.int64)
        if batch > 1:
            npz[f"{label}.trial"] = np.concatenate(rows_b) if rows_b else np.zeros(0, np.int64)
        summary["populations"][label] = {"cells": pop.size, "type": kind, "spikes": count, "rate_hz": round(rate, 4)}
        per = " per trial" if batch > 1 else ("   (virtual board: nothing ran)" if virtual else "")
        say(f"  {label:<16} {pop.size:>6}  {kind:<20} {count:>8}  {rate:>9.2f}{per}")
    if spike_pops:
        path = files.name("spikes", ".csv")
        with atomic_open(path, "w") as fh:
            fh.writelines(csv_rows)
        files.done(path)
        path = files.name("spikes", ".npz")
        savez_compressed(path, **npz)
        files.done(path)
    del csv_rows
    # traces and weights: one compressed .npz each, written as soon as it is read
    for label, variables in recorded.items():
        if label in net.projections:
            rec = next(r for r in net.recordings if r.target == label)
            times, pre, post, w = sim.weight_history(label, format="list")
            path = files.name(f"weights_{_safe(label)}", ".npz")
            savez_compressed(path, pre=pre, post=post, times_ms=np.asarray(times, dtype=float), weight=w,
                             unit=_weight_unit(net, net.projections[label]), every_steps=rec.every)
            files.done(path)
            continue
        for var in variables:
            if var == "spikes":
                continue
            rec = next(r for r in net.recordings if r.target == label and var in r.variables)
            trace = sim.trace(label, var)
            steps = trace.shape[-2]
            path = files.name(f"trace_{_safe(label)}_{_safe(var)}", ".npz")
            savez_compressed(path, trace=trace, time_ms=np.arange(steps) * rec.every * net.dt,
                             unit=UNITS.get(var, ""), every_steps=rec.every)
            files.done(path)
    if getattr(args, "neo", False):
        _write_neo(net, sim, files)
    if args.plot and spike_pops:
        from .plotting import raster

        groups = [(label, spikes_of[label] if batch == 1 else spikes_of[label][0]) for label in spike_pops]
        path = files.name("raster", ".png")
        raster(groups, max(sim.time, net.dt), path,
               title=f"{Path(args.model).name} on {args.backend}" + (" (trial 0)" if batch > 1 else ""),
               note=VIRTUAL_BOARD_NOTE if virtual else "")
        files.done(path)
    if args.plot:
        from .plotting import run_figures

        for path in run_figures(sim, files.name("traces", ".png"), files.name("weights", ".png"),
                                title=f"{Path(args.model).name} on {args.backend}"):
            files.done(path)
    if not net.recordings:
        say("  note: the model records nothing, so no spike or trace files were written")
    if args.backend == "pynn:spinnaker":
        resources = sim.resources()
        summary["resources"] = resources
        say("  SpiNNaker mapping (sPyNNaker's own report):")
        for key, value in resources.items():
            if key != "note":
                say(f"    {key}: {value}")
        if virtual:
            say("  note: no SpiNNaker board is configured, so sPyNNaker mapped the network onto a VIRTUAL "
                "board and ran nothing: a virtual board produces no spikes, traces or weight changes. "
                "The counts above are empty for that reason; the resources are what a real board would use.")


# -- info ------------------------------------------------------------------------------------
def _pynn_available(name: str) -> str | None:
    """None when the simulator packages of a pynn backend are importable, else why not."""
    try:
        from neuromorph.backends.pynn.loader import available
        from neuromorph.backends.pynn.variants import variant_for
    except ImportError:
        return None
    variant = variant_for(name)
    if available(variant):
        return None
    return (f"needs {', '.join(variant.packages)}, not installed here; "
            f'install it from the neuromorph checkout with: pip install -e ".[{variant.extra}]"')


def _diff_rows(base: dict, table: dict) -> dict:
    return {k: c for k, c in table.items() if base.get(k) != c}


def _board_arg(text: str) -> tuple[str, int]:
    """``--board``: spinn-3 | spinn-5 | N (a machine of N SpiNN-5 boards; also "N-boards")."""
    import re

    t = str(text).strip().lower()
    m = re.fullmatch(r"(\d+)(?:[- ]?boards?)?", t)
    if m:
        n = int(m.group(1))
        if not 1 <= n <= 100_000:
            raise CLIError(f"--board {text}: the number of SpiNN-5 boards must be 1 or more")
        return "SpiNN-5", n
    if t.replace("_", "-") in ("spinn-3", "spinn3", "spinn-5", "spinn5"):
        return ("SpiNN-3" if "3" in t else "SpiNN-5"), 1
    raise CLIError(f"--board {text!r} is not a board; give spinn-3, spinn-5 or a number N of SpiNN-5 boards (e.g. 24)")


def cmd_check(args) -> int:
    from .hardware import check

    if args.target != "spinnaker":
        raise CLIError(f"--target {args.target!r}: only 'spinnaker' is checked")
    board, n_boards = _board_arg(args.board)
    if args.neurons_per_core is not None and not 1 <= args.neurons_per_core <= 256:
        raise CLIError(f"--neurons-per-core {args.neurons_per_core}: sPyNNaker places 1 to 256 neurons per core")
    net = _load(args.model)
    report = check(net, board=board, n_boards=n_boards, neurons_per_core=args.neurons_per_core)
    print(f"{args.model}: SpiNNaker pre-flight")
    print(report.text())
    if args.json:
        from .atomic import atomic_open
        data = {"model": args.model, "board": report.board, "n_boards": report.n_boards, "ok": report.ok,
                "neurons_per_core": report.neurons_per_core,
                "findings": [vars(f) for f in report.findings],
                "shifts": {f"{post}/{receptor}": s for (post, receptor), s in report.shifts.items()},
                "resources": report.resources.as_dict()}
        with atomic_open(Path(args.json), "w") as fh:
            json.dump(data, fh, indent=1)
    return 0 if report.ok else 1


def cmd_info(args) -> int:
    import platform

    from . import __version__
    from .capabilities import format_table
    from .simulation import BACKENDS, backend_module

    names = list(BACKENDS)
    if args.backend:
        if args.backend not in BACKENDS:
            backend_module(args.backend)  # the one-line "does not exist; choose one of" error
        names = [args.backend]
    import numpy

    print(f"neuromorph {__version__} (Python {platform.python_version()}, numpy {numpy.__version__})")
    print("units: time ms, voltage mV, current nA, capacitance nF, resistance MΩ, rate Hz")
    for name in names:
        module_name, extra = BACKENDS[name]
        try:
            module = backend_module(name)
        except NeuromorphError as exc:
            print(f"\nbackend {name}: NOT available — {exc}")
            continue
        if name == "torch":
            import torch

            cuda = (f"CUDA yes ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available()
                    else "CUDA no (device cpu only)")
            print(f"\nbackend torch: available (torch {torch.__version__}, {cuda}); numerics {', '.join(NUMERICS)}")
            chosen = [args.numerics] if args.numerics else list(NUMERICS)
            base = module.capabilities(numerics=chosen[0])
            print(f"  capabilities, numerics={chosen[0]}{' (default)' if chosen[0] == 'spinnaker' else ''}:")
            print(format_table(base))
            for numerics in chosen[1:]:
                diff = _diff_rows(base, module.capabilities(numerics=numerics))
                print(f"  numerics={numerics}: as above except:" if diff else f"  numerics={numerics}: same as above")
                if diff:
                    print(format_table(diff))
            continue
        if name == "pynn" and not args.backend:
            print("\nbackend pynn: alias of pynn:nest")
            continue
        why = _pynn_available(name)
        try:
            table = module.capabilities(name, args.numerics) if args.numerics else module.capabilities(name)
        except NeuromorphError as exc:
            print(f"\nbackend {name}: NOT available — {exc}")
            continue
        if why:
            print(f"\nbackend {name}: NOT available — {why}; its capabilities once installed:")
        else:
            print(f"\nbackend {name}: available")
        print(format_table(table))
    return 0


# -- demo, task ------------------------------------------------------------------------------
def cmd_demo(args) -> int:
    from .demo import run_demo

    duration = _positive_ms("duration", args.duration)
    run_demo(args.out, duration_ms=duration, device=args.device, numerics=args.numerics, seed=args.seed,
             plot=not args.no_plot, echo=(lambda *a, **k: None) if args.quiet else print)
    return 0


def cmd_task(args) -> int:
    module_name = TASKS[args.name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise CLIError(f"task {args.name!r} is not installed here ({module_name} is missing); "
                           "reinstall neuromorph from a complete checkout") from None
        raise CLIError(f"task {args.name!r} cannot be imported: {exc}") from None
    except ImportError as exc:
        raise CLIError(f"task {args.name!r} cannot be imported: {exc}") from None
    entry = getattr(module, "main", None)
    if not callable(entry):
        raise CLIError(f"task {args.name!r}: {module_name} has no main(argv)")
    if not _pynn_task_backend(args.args):
        return int(entry(list(args.args)) or 0)
    with _SimulatorOutput() as held:  # the task's own output stays; NEST/sPyNNaker messages go
        rc = entry(list(args.args))
    if held.note():
        print(f"neuromorph task {args.name}: {held.note()}", file=sys.stderr)
    return int(rc or 0)


def cmd_bench(args) -> int:
    from . import bench

    try:
        return bench.bench_command(args)
    except bench.BenchUsageError as exc:
        raise CLIError(str(exc)) from None


# -- parser ----------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse with neuromorph's one-line error format (exit code 2)."""

    def error(self, message):  # noqa: D401 - argparse API
        hint = f"; see '{self.prog} --help'"
        self.exit(2, f"neuromorph: error: {message}{hint}\n")


def parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="neuromorph",
                 description="Run one spiking-network description on snnTorch/PyTorch (CPU/CUDA) or PyNN "
                             "(NEST, Brian2, SpiNNaker). Times in ms, potentials in mV, currents in nA.",
                 epilog="Exit codes: 0 ok, 2 bad input (one line on stderr), 1 internal error, 130/143 interrupted "
                        "(SIGINT/SIGTERM). "
                        "Docs: docs/cli.md")
    from . import __version__

    ap.add_argument("--version", action="version", version=f"neuromorph {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def backend_opts(p, backend_default):
        p.add_argument("--backend", default=backend_default, metavar="NAME",
                       help="torch | pynn | pynn:nest | pynn:brian2 | pynn:spinnaker" +
                            (f" (default {backend_default})" if backend_default else ""))
        p.add_argument("--numerics", default=None, choices=NUMERICS,
                       help="torch: numerics profile (default spinnaker); PyNN: must be what the simulator computes")
        p.add_argument("--device", default=None, metavar="DEVICE", help="torch only: cpu | cuda (default: cuda if available, else cpu)")
        p.add_argument("--batch", type=int, default=None, metavar="N", help="torch only: independent trials in one run (default 1)")

    r = sub.add_parser("run", help="run a model JSON file, write its recordings and print a summary",
                       description="Load MODEL.json, build it on a backend, run it and write the recordings "
                                   "(spikes.csv/.npz, trace_*.npz, weights_*.npz, summary.json, run.log) to --out. SIGINT or "
                                   "SIGTERM stops the run at a step boundary and writes what was simulated "
                                   "(exit code 130 or 143).")
    r.add_argument("model", metavar="MODEL.json")
    backend_opts(r, "torch")
    r.add_argument("--duration", type=float, default=100.0, metavar="MS", help="simulated time in ms (default 100)")
    r.add_argument("--out", default="neuromorph_out", metavar="DIR", help="output folder (default ./neuromorph_out)")
    r.add_argument("--plot", action="store_true",
                   help="also write raster.png of the recorded spikes, traces.png of recorded v/currents and "
                        "weights.png of recorded weights (trial 0 when batched)")
    r.add_argument("--overwrite", action="store_true",
                   help="write into a non-empty --out, removing an earlier run's files there (refused without it)")
    r.add_argument("--quiet", "-q", action="store_true",
                   help="print nothing but errors (no summary, no progress bar); the files are the same")
    r.add_argument("--max-memory", default=None, metavar="SIZE",
                   help="torch only: memory budget for the network and the recordings, bytes or e.g. 8G, 512M "
                        "(default: the memory available); a run whose recordings exceed it is refused before it starts")
    r.add_argument("--neo", action="store_true",
                   help="also write the recordings as neo Blocks, one per recorded population: results_neo.nix "
                        "where nixio is installed, else results_neo.pkl (needs neo, in the [pynn] extra)")
    sp = r.add_argument_group("SpiNNaker hardware (--backend pynn:spinnaker; without these sPyNNaker maps on a virtual "
                              "board and runs nothing)")
    sp.add_argument("--machine-name", default=None, metavar="HOST", help="a physical board's host name or IP address")
    sp.add_argument("--version", type=int, default=None, choices=(3, 5), help="the board: 3 (SpiNN-3) or 5 (SpiNN-5, default)")
    sp.add_argument("--spalloc-server", default=None, metavar="URL", help="a spalloc-managed machine")
    sp.add_argument("--spalloc-port", type=int, default=None, metavar="PORT", help="spalloc port (default 22244)")
    sp.add_argument("--spalloc-user", default=None, metavar="USER", help="spalloc user name")
    sp.add_argument("--n-boards", type=int, default=None, metavar="N", help="SpiNN-5 boards to ask spalloc for")
    r.add_argument("--checkpoint-every", type=float, default=None, metavar="MS",
                   help=f"torch only: write {CHECKPOINT} to --out every MS simulated and where the run stops; "
                        "`neuromorph resume DIR` continues from it bit-identically")
    r.set_defaults(func=cmd_run)

    rs = sub.add_parser("resume", help="continue an interrupted run from its checkpoint",
                        description=f"Continue a `neuromorph run --checkpoint-every` from DIR/{CHECKPOINT} up to its "
                                    "--duration (or a new one), writing the whole run's recordings into DIR: the "
                                    "result is bit-identical to an uninterrupted run.")
    rs.add_argument("dir", metavar="DIR")
    rs.add_argument("--duration", type=float, default=None, metavar="MS", help="new end time in ms (default: the run's)")
    rs.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    rs.set_defaults(func=cmd_resume)

    v = sub.add_parser("validate", help="check a model JSON file and summarise it",
                       description="Check MODEL.json (format, version, every parameter) and summarise it; "
                                   "with --backend also build it there (no run) to check the backend takes it.")
    v.add_argument("model", metavar="MODEL.json")
    backend_opts(v, None)
    v.set_defaults(func=cmd_validate)

    c = sub.add_parser("check", help="SpiNNaker pre-flight: what the board refuses or distorts, and the resources",
                       description="Check MODEL.json against a SpiNNaker machine without running it (no sPyNNaker "
                                   "needed): errors (the board refuses it), warnings (it runs differently from the "
                                   "description) and the resource estimate per population (cores, delay-extension "
                                   "cores, chips, SDRAM). Exit 0 when it fits, 1 when there are errors, 2 on bad input. "
                                   "docs/spinnaker.md")
    c.add_argument("model", metavar="MODEL.json")
    c.add_argument("--target", default="spinnaker", metavar="TARGET", help="spinnaker (the only target)")
    c.add_argument("--board", default="spinn-5", metavar="BOARD",
                   help="spinn-3 | spinn-5 | N: a machine of N SpiNN-5 boards (spalloc; cores and chips scale "
                        "with N) (default spinn-5)")
    c.add_argument("--neurons-per-core", type=int, default=None, metavar="K",
                   help="neurons per core (default 256, sPyNNaker's)")
    c.add_argument("--json", default=None, metavar="FILE", help="also write the report as JSON")
    c.set_defaults(func=cmd_check)

    i = sub.add_parser("info", help="version, backends available here and their capability tables")
    i.add_argument("--backend", default=None, metavar="NAME", help="only this backend")
    i.add_argument("--numerics", default=None, choices=NUMERICS, help="only this numerics profile")
    i.set_defaults(func=cmd_info)

    d = sub.add_parser("demo", help="run the demo network (1 s, 100 neurons, STDP) and write a raster plot",
                       description="Poisson input -> 80 exc + 20 inh IF_curr_exp neurons with STDP on the torch "
                                   "backend; prints rates and the weight change, writes demo_raster.png.")
    d.add_argument("--out", default="neuromorph_out", metavar="DIR", help="output folder (default ./neuromorph_out)")
    d.add_argument("--duration", type=float, default=1000.0, metavar="MS", help="simulated time in ms (default 1000)")
    d.add_argument("--device", default=None, help="cpu | cuda (default: cuda if available, else cpu)")
    d.add_argument("--numerics", default="spinnaker", choices=NUMERICS, help="default spinnaker")
    d.add_argument("--seed", type=int, default=0, metavar="N", help="network and input seed (default 0)")
    d.add_argument("--no-plot", action="store_true", help="skip the PNG")
    d.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    d.set_defaults(func=cmd_demo)

    t = sub.add_parser("task", help="paper tasks: ca3-cam, spatial-pattern (arguments are passed on; try --help)",
                       description="Run a paper task; everything after NAME goes to the task (NAME --help lists it).")
    t.add_argument("name", metavar="NAME", choices=sorted(TASKS), help=" | ".join(sorted(TASKS)))
    t.add_argument("args", nargs=argparse.REMAINDER)
    t.set_defaults(func=cmd_task)

    from .bench import add_arguments as bench_arguments

    b = sub.add_parser("bench", help="time the backends side by side on the benchmark set (docs/benchmarks.md)",
                       description="Run the benchmark set, each case in its own one-thread process with a timeout; "
                                   "print a table (build and run times, ratios to the reference, real-time factor, "
                                   "peak RSS) and write it as JSON with --json. Exit 1 when a case failed or timed out.")
    bench_arguments(b)
    b.set_defaults(func=cmd_bench)
    return ap


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv=None) -> int:
    """Entry point of the ``neuromorph`` console script; returns the exit code."""
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except NeuromorphError as exc:
        print(f"neuromorph: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("neuromorph: interrupted", file=sys.stderr)
        return 130
    except Abandoned as exc:
        print(f"neuromorph: {_signal_name(exc.signum)} a third time: stopped writing; only complete files are "
              "left", file=sys.stderr)
        return STOP_SIGNALS.get(_signal_name(exc.signum), 128 + exc.signum)
    except BrokenPipeError:  # e.g. `neuromorph info | head`
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass
        return 1
    except Exception as exc:
        if os.environ.get("NEUROMORPH_DEBUG"):
            raise
        if isinstance(exc, OSError) and exc.strerror:
            where = f" ({exc.filename})" if exc.filename else ""
            print(f"neuromorph: error: {exc.strerror}{where}", file=sys.stderr)
            return 2
        print(f"neuromorph: error: internal error, {type(exc).__name__}: {_one_line(exc)} "
              "(please report it; NEUROMORPH_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
