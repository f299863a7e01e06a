"""PyNNSimulation: the neuromorph Simulation API on a PyNN simulator (NEST, Brian2, sPyNNaker).

PyNN simulators hold one network per process. Building a second simulation on the same simulator
*detaches* the first: its recorded results are copied out (spikes, traces, weights, Neo blocks)
and stay readable, but it can no longer run.
"""
from __future__ import annotations

import contextlib
import math
import warnings
from pathlib import Path

import numpy as np

from neuromorph.capabilities import check_supported
from neuromorph.errors import NeuromorphError, SimulationError, SpinnakerWarning, UnsupportedError, ValidationError
from neuromorph.simulation import Simulation

from . import results, weights as wio
from .capabilities import capabilities, extra_constructs
from .cells import RECORD_NAMES, RECORD_SIGNS
from .homeostasis import HostLoop, segment_steps
from .loader import import_simulator
from .lowering import lower
from .variants import variant_for

#: said (as a SpinnakerWarning, and in resources()["note"]) when a run used a virtual board
VIRTUAL_NOTE = ("pynn:spinnaker: no SpiNNaker board is configured, so sPyNNaker mapped the network onto a VIRTUAL board and "
                "ran nothing: spikes(), trace() and the weights are empty or as loaded (a virtual board produces no spikes). "
                "Give machine_name='<board host>' or spalloc_server='<url>' to run on hardware (docs/spinnaker.md)")

#: the live simulation of each simulator (PyNN state is global per simulator module)
_ACTIVE: dict[str, "PyNNSimulation"] = {}

OPTIONS = {
    "nest": {"threads", "numerics", "segment_ms"},
    "brian2": {"codegen", "numerics", "segment_ms"},
    "spinnaker": {"numerics", "run_dir", "board", "version", "machine_name", "spalloc_server", "spalloc_user",
                  "spalloc_port", "n_boards", "neurons_per_core", "segment_ms"},
}


def build(net, backend: str = "pynn", **options) -> "PyNNSimulation":
    """Lower ``net`` onto ``backend`` ("pynn" = "pynn:nest", "pynn:brian2", "pynn:spinnaker").

    Options — nest: ``threads`` (1; more threads change the order in which NEST sums inputs);
    brian2: ``codegen`` ("numpy" default, "cython" compiles, slow the first time); spinnaker:
    ``run_dir`` (where spynnaker.cfg, reports and the database go; a new temporary directory by
    default), ``board`` ("SpiNN-5" default, or "SpiNN-3"; ``version`` 5 or 3 says the same, as in
    sPyNNaker's cfg), ``machine_name`` (a physical board's host name or IP address) or
    ``spalloc_server`` (a spalloc-managed machine's URL, with ``spalloc_port`` (22244),
    ``spalloc_user``, ``n_boards``): a real board, written into the run folder's spynnaker.cfg;
    without one the board is virtual (it maps the network and produces no spikes).
    ``neurons_per_core``. The SpiNNaker pre-flight (docs/spinnaker.md) refuses what the board
    would refuse and warns (``SpinnakerWarning``) about the rest before anything is mapped. ``numerics``, when
    given, must be what the simulator computes ("exact" for NEST, "spinnaker" for sPyNNaker).
    Every simulator: ``segment_ms`` (1000 ms by default, a multiple of dt), the run segment
    after which the host applies SynapticScaling / ThresholdAdaptation (``homeostasis``).
    """
    variant = variant_for(backend)
    unknown = set(options) - OPTIONS[variant.name]
    if unknown:
        raise ValidationError(
            f"build: option(s) {', '.join(sorted(unknown))} not understood by backend 'pynn:{variant.name}' "
            f"(accepted: {', '.join(sorted(OPTIONS[variant.name]))})")
    if options.get("segment_ms") is not None:
        segment_steps(net, options["segment_ms"])
    if variant.name == "spinnaker":
        options["board"] = spinnaker_board(options)
    return PyNNSimulation(net, variant, options)


def spinnaker_board(options) -> str:
    """The board name from ``board`` / ``version`` (refusing a contradiction) and checked
    real-board options."""
    from neuromorph.hardware import load_board
    board, version = options.get("board"), options.get("version")
    name = load_board(board if board is not None else (version if version is not None else "SpiNN-5")).name
    if version is not None and load_board(version).name != name:
        raise ValidationError(f"pynn:spinnaker: board={board!r} and version={version!r} disagree; give one of them "
                              "(version 3 = SpiNN-3, 5 = SpiNN-5)")
    n_boards = options.get("n_boards")
    if n_boards is not None and (isinstance(n_boards, bool) or not isinstance(n_boards, int) or n_boards < 1):
        raise ValidationError(f"pynn:spinnaker: n_boards={n_boards!r} must be a whole number >= 1")
    if (n_boards or 1) > 1 and name != "SpiNN-5":
        raise ValidationError(f"pynn:spinnaker: n_boards={n_boards} needs SpiNN-5 boards (multi-board machines are built of "
                              f"them), not {name}")
    if options.get("machine_name") and (n_boards or 1) > 1:
        raise ValidationError(f"pynn:spinnaker: machine_name={options['machine_name']!r} is one board; for n_boards="
                              f"{n_boards} give spalloc_server='<url>' instead")
    if options.get("spalloc_port") is not None and not options.get("spalloc_server"):
        raise ValidationError("pynn:spinnaker: spalloc_port is given without spalloc_server='<url>'")
    return name


def supported_check(net, variant, numerics=None, neurons_per_core=None, board="SpiNN-5", n_boards=None) -> None:
    """Raise UnsupportedError naming the first construct ``variant`` cannot run."""
    if numerics is not None and numerics != variant.numerics:  # the mismatch itself, before any construct
        own = (f"numerics {variant.numerics!r}; use numerics={variant.numerics!r} (--numerics {variant.numerics}) or"
               if variant.numerics in ("spinnaker", "spinnaker-float", "exact")
               else "its own discretisation, not a neuromorph numerics profile; give no numerics or use")
        raise UnsupportedError(f"pynn:{variant.name} computes {own} backend='torch' (--backend torch) "
                               f"for numerics={numerics!r}")
    table = capabilities(variant, numerics)
    check_supported(net, table, f"pynn:{variant.name}")
    if variant.name == "spinnaker":  # the board's limits, named precisely, before the generic table rows
        from neuromorph.hardware.limits import preflight
        report = preflight(net, board=board, neurons_per_core=neurons_per_core, n_boards=n_boards or 1)
        for f in report.findings:  # errors raised above: these are warnings
            warnings.warn(f"SpiNNaker pre-flight: {f.message}", SpinnakerWarning, stacklevel=5)
    for key in extra_constructs(net):
        cap = table[key]
        if not cap.supported:
            raise UnsupportedError(f"{key} is unsupported on backend 'pynn:{variant.name}': {cap.how}")


class PyNNSimulation(Simulation):
    """A network lowered to real PyNN objects. Times in ms; weights are magnitudes in the
    description's units (nA, or mV for IF_curr_delta(weight_units="mV"))."""

    def __init__(self, net, variant, options):
        self.net = net
        self.variant = variant
        self.backend = f"pynn:{variant.name}"
        self.options = dict(options)
        self.numerics = variant.numerics
        supported_check(net, variant, options.get("numerics"), options.get("neurons_per_core"),
                        options.get("board") or "SpiNN-5", options.get("n_boards"))
        self.sim = import_simulator(variant)
        self.run_dir: Path | None = None
        if variant.name == "spinnaker":
            from . import spinnaker
            self.run_dir = spinnaker.prepare_run_dir(
                options.get("run_dir"), options.get("board") or "SpiNN-5", options.get("machine_name"),
                options.get("spalloc_server"), options.get("spalloc_user"), spalloc_port=options.get("spalloc_port"),
                n_boards=options.get("n_boards"))
        self.virtual_board = variant.name == "spinnaker" and not (options.get("machine_name") or options.get("spalloc_server"))
        self._board_shifts: dict | None = None  # (post, receptor) -> shift sPyNNaker mapped with
        self._detached = False
        self._frozen: dict | None = None
        self._resources: dict = {}
        self._build(initial_weights=None)

    # -- building ---------------------------------------------------------------------------
    def _build(self, initial_weights):
        previous = _ACTIVE.get(self.variant.name)
        if previous is not None and previous is not self:
            previous._detach()
        _ACTIVE[self.variant.name] = self
        self._steps = 0
        self._weight_samples = {rec.target: ([], []) for rec in self.net.recordings if rec.target in self.net.projections}
        self._weight_every = {rec.target: rec.every for rec in self.net.recordings if rec.target in self.net.projections}
        self._cache = {}
        self._mapped = False
        # per-synapse magnitudes [nsyn] as loaded (sPyNNaker host copy), in connectivity order
        self._loaded = {label: self.net.connectivity(p).weights.copy() for label, p in self.net.projections.items()}
        self._host = None  # host-in-the-loop mechanisms (homeostasis.py), fresh at every build
        try:
            with self._context():
                self._setup()
                self.lowered = lower(self.net, self.sim, self.variant.name)
                # PyNN cell ids, which Neo's multiplexed spike arrays carry (sPyNNaker numbers by index)
                self.lowered_ids = {label: (np.arange(p.size) if self.variant.name == "spinnaker"
                                            else np.asarray(p.all_cells, dtype=np.int64))
                                    for label, p in self.lowered.populations.items()}
                self._host = HostLoop(self, self.options.get("segment_ms"))
                if initial_weights:
                    for label, w in initial_weights.items():
                        self._write_weights(label, w)
                self._host.start(self)
        except NeuromorphError:
            raise
        except Exception as exc:
            raise SimulationError(f"{self.backend}: building the network failed ({_one_line(exc)}); "
                                  "check the parameters against the capability table (neuromorph info)") from None

    def _setup(self):
        sim, net, name = self.sim, self.net, self.variant.name
        max_delay = max([net.dt * 2] + [net.dt * int(c.delays.max()) for c in
                                         (net.connectivity(p) for p in net.projections.values()) if c.size])
        if name == "nest":
            # on_grid: iaf_psc_exp / iaf_psc_delta, not PyNN's default precise-timing *_ps models;
            # NEST's rng_seed must be >= 1
            sim.setup(timestep=net.dt, min_delay=net.dt, max_delay=max_delay, spike_precision="on_grid",
                      rng_seed=net.seed % 2_147_483_646 + 1, threads=int(self.options.get("threads", 1)),
                      verbosity="error")
        elif name == "brian2":
            import brian2
            brian2.prefs.codegen.target = self.options.get("codegen", "numpy")
            # PyNN puts SpikeGeneratorGroups on Brian2's default clock (0.1 ms): align it with dt
            brian2.defaultclock.dt = net.dt * brian2.ms
            brian2.seed(net.seed)
            sim.setup(timestep=net.dt, min_delay=net.dt, max_delay=max_delay)
        else:
            n_boards = self.options.get("n_boards")
            # spalloc (and a virtual machine) of n boards; sPyNNaker rounds more than one up to triads of 3
            extra = {"n_boards_required": int(n_boards)} if n_boards and n_boards > 1 else {}
            sim.setup(timestep=net.dt, min_delay=net.dt, **extra)  # sPyNNaker ignores (and warns about) max_delay
            npc = self.options.get("neurons_per_core")
            if npc:
                for cls in (sim.IF_curr_exp, sim.IF_curr_delta, sim.IF_curr_alpha):
                    sim.set_number_of_neurons_per_core(cls, int(npc))

    @contextlib.contextmanager
    def _context(self):
        """Quiet simulator warnings; for sPyNNaker, run inside the run directory."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if self.run_dir is not None:
                from . import spinnaker
                with spinnaker.in_run_dir(self.run_dir):
                    yield
            else:
                yield

    def _check_live(self):
        if self._detached:
            raise SimulationError(
                f"{self.backend}: this simulation was replaced by a later build on the same simulator (PyNN holds one "
                "network per process); its results are still readable, rebuild it to run again")

    # -- running ----------------------------------------------------------------------------
    @property
    def mechanisms(self) -> list:
        """The host-side mechanism objects (``label``; SynapticScaling: ``factor`` ``[n]``,
        ThresholdAdaptation: ``shift`` ``[n]`` mV), as updated at the last segment end."""
        return [] if self._host is None else list(self._host.mechanisms)

    @property
    def time(self) -> float:
        return self._steps * self.net.dt

    def run(self, ms: float) -> None:
        """Advance by ``ms`` (a whole number of steps), reading weights every k steps where
        recorded. On a simulator failure the results up to the last completed chunk are kept."""
        self._check_live()
        n = self.net.steps(ms)
        if n < 0:
            raise ValidationError(f"run: duration {ms} ms must be >= 0")
        end = self._steps + n
        while self._steps < end:
            self._sample_weights()
            nxt = min([end] + [(self._steps // k + 1) * k for k in self._weight_every.values()]
                      + [b for b in (self._host.next_boundary(self._steps),) if b is not None])
            try:
                with self._context():
                    self.sim.run((nxt - self._steps) * self.net.dt)
            except Exception as exc:
                raise SimulationError(
                    f"{self.backend}: the simulator failed between t={self.time:g} and {nxt * self.net.dt:g} ms "
                    f"({_one_line(exc)}); results up to t={self.time:g} ms are kept") from None
            self._steps = nxt
            self._cache = {}
            if self.variant.name == "spinnaker" and not self._mapped:
                self._on_first_mapping()
            self._mapped = True
            with self._context():
                self._host.after_chunk(self)  # homeostasis at segment ends
        if self.variant.name == "spinnaker" and self._mapped and not self._resources:
            from . import spinnaker
            try:
                self._resources = spinnaker.resources(set(self.net.populations))
            except Exception as exc:  # the mapping ran; a changed sPyNNaker API must not lose the run
                self._resources = {"error": f"resources unavailable ({_one_line(exc)})"}

    def _on_first_mapping(self):
        """sPyNNaker mapped the network: remember the weight resolution it used, and say plainly
        when the board is virtual (nothing ran)."""
        from neuromorph.hardware.limits import board_shift
        keys = {(p.post, p.receptor) for p in self.net.projections.values()}
        self._board_shifts = {k: board_shift(self.net, *k, weights=self._loaded)[0] for k in keys}
        if self.virtual_board:
            warnings.warn(VIRTUAL_NOTE, SpinnakerWarning, stacklevel=3)

    def _sample_weights(self):
        for label, k in self._weight_every.items():
            times, values = self._weight_samples[label]
            if self._steps % k == 0 and (not times or times[-1] < self.time):
                times.append(self.time)
                values.append(self._weight_list(label))

    # -- results ----------------------------------------------------------------------------
    def _recorded(self, label, variable):
        pop = self.net.get(label)
        for rec in self.net.recordings:
            if rec.target == pop.label and variable in rec.variables:
                return pop, rec
        raise ValidationError(f"{variable!r} of {pop.label!r} was not recorded; call net.record({pop.label!r}, {variable!r}) before build")

    def neo(self, label):
        """The Neo Block PyNN returns for a population (all recorded variables)."""
        pop = self.net.get(label)
        if self._frozen is not None:
            return self._frozen["neo"].get(pop.label)
        if self._steps == 0 and not self._mapped:
            return None  # nothing simulated yet: PyNN has no segment to return
        if ("neo", pop.label) not in self._cache:
            with self._context():
                self._cache[("neo", pop.label)] = self.lowered.populations[pop.label].get_data(clear=False)
        return self._cache[("neo", pop.label)]

    def spikes(self, label) -> list:
        pop, _ = self._recorded(label, "spikes")
        block = self.neo(pop.label)
        if block is None or not block.segments:
            return [np.zeros(0) for _ in range(pop.size)]
        return results.spike_lists(block.segments[-1], self.lowered_ids[pop.label], self.time)

    def trace(self, label, variable: str = "v") -> np.ndarray:
        pop, rec = self._recorded(label, variable)
        block = self.neo(pop.label)
        rows = math.ceil(self._steps / rec.every)
        if block is None or not block.segments:
            return np.zeros((0, pop.size))
        name = RECORD_NAMES[self.variant.name][variable]
        sign = RECORD_SIGNS[self.variant.name].get(variable, 1.0)
        return results.analog(block.segments[-1], name, pop.size, rows, sign)

    def weights(self, projection, format: str = "array"):
        """Weight magnitudes: ``[n_pre, n_post]`` with NaN where there is no synapse
        (``format="array"``), or ``(pre, post, weight)`` synapse lists (``format="list"``). See
        ``Simulation.weights``."""
        format = self._weight_format(format)
        proj = self._projection(projection)
        conn = self.net.connectivity(proj)
        w = self._weight_list(proj.label).copy()
        return (conn.pre.copy(), conn.post.copy(), w) if format == "list" else conn.dense(w)

    def _weight_list(self, label) -> np.ndarray:
        """Current magnitudes ``[nsyn]`` in connectivity order (a cached array: do not modify)."""
        if self._frozen is not None:
            return self._frozen["weights"][label]
        if self._host is not None and self._host.scales(label):
            return self._loaded[label]  # stored weights (static; the simulator holds them × the factor)
        if self.variant.name == "spinnaker" and (self.virtual_board or not self._mapped):
            # nothing ran on a board (virtual, or not yet loaded): the weights are what was loaded
            return self._loaded[label]
        key = ("w", label)
        if key not in self._cache:
            with self._context():
                self._cache[key] = wio.read(self.lowered.projections[label], self.variant.name, self.net.connectivity(label))
        return self._cache[key]

    def set_parameters(self, label, **parameters) -> None:
        """Simulation.set_parameters through PyNN's ``Population.set`` (NEST applies the new values
        from the current time and keeps the state)."""
        from neuromorph.cells import IF_curr_delta
        from neuromorph.simulation import with_parameters
        self._check_live()
        net, pop = with_parameters(self.net, label, parameters)
        if self.variant.name == "spinnaker":
            raise UnsupportedError(f"set_parameters({pop.label!r}) on backend 'pynn:spinnaker': sPyNNaker reloads the "
                                   "board for a parameter change and neuromorph has not checked it; rebuild the "
                                   "simulation with the new values or use backend='torch' or 'pynn:nest'")
        if isinstance(pop.celltype, IF_curr_delta) and {"tau_m", "cm"} & set(parameters) and \
                pop.celltype.weight_units == "nA" and self.variant.name in ("nest", "brian2"):
            raise UnsupportedError(f"set_parameters({pop.label!r}, tau_m/cm) on backend '{self.backend}': the nA weights "
                                   "of IF_curr_delta were converted to voltage jumps with the old tau_m and cm; rebuild "
                                   "the simulation with the new values or use backend='torch'")
        # a cell gets every parameter again: PyNN recomputes a NEST parameter from the ones given
        # only (IF_cond_exp's g_L = cm/tau_m: set(cm=...) alone keeps g_L, so tau_m would change)
        names = parameters if pop.is_source else [k for k in pop.celltype.parameters() if k != "weight_units"]
        with self._context():
            self.lowered.populations[pop.label].set(**{k: getattr(pop.celltype, k) for k in names})
        self.net = net   # reset() rebuilds from it
        self._cache = {}

    def set_weights(self, projection, weights) -> None:
        self._check_live()
        proj = self._projection(projection)
        w = wio.checked(proj.label, weights, self.net.connectivity(proj))
        if self.variant.name == "spinnaker":
            self._check_board_weights(proj, w)
        with self._context():
            self._write_weights(proj.label, w)
        self._cache = {}

    def _check_board_weights(self, proj, w):
        """What the board makes of ``w`` when the host loads it: sPyNNaker recomputes the ring-buffer
        shift from the weights it loads, so a weight beyond the current 16-bit range coarsens every
        projection onto the same population and receptor (a SpinnakerWarning says so), and weights
        that round to 0 at the new resolution are named."""
        from neuromorph.hardware.limits import board_shift, reloaded_weight_findings
        key = (proj.post, proj.receptor)
        loaded = {**self._loaded, proj.label: w}
        old = (self._board_shifts or {}).get(key)
        if old is None:
            old = board_shift(self.net, *key, weights=self._loaded)[0]
        new = board_shift(self.net, *key, weights=loaded)[0]
        for _, _, text in reloaded_weight_findings(self.net, proj, w, old, new, others=self._loaded):
            warnings.warn(f"SpiNNaker: {text}", SpinnakerWarning, stacklevel=4)
        if self._board_shifts is not None:
            self._board_shifts[key] = new

    def _write_weights(self, label, w):
        self._loaded[label] = np.array(w, dtype=np.float64)
        if self.variant.name == "spinnaker" and self.virtual_board:
            return  # sPyNNaker generates synapses on the (absent) machine; keep the host copy only
        w = self._loaded[label] if self._host is None else self._host.effective(label, self._loaded[label])
        wio.write(self.lowered.projections[label], self.variant.name, self.net.connectivity(label), w)

    def weight_history(self, projection, format: str = "array"):
        """Recorded weights: ``(times_ms, [samples, n_pre, n_post])`` (``format="array"``) or
        ``(times_ms, pre, post, [samples, nsyn])`` (``format="list"``)."""
        format = self._weight_format(format, "weight_history")
        proj = self._projection(projection)
        if proj.label not in self._weight_samples:
            raise ValidationError(f"weights of {proj.label!r} were not recorded; call net.record({proj.label!r}, 'weights', every=k) before build")
        times, values = self._weight_samples[proj.label]
        conn = self.net.connectivity(proj)
        samples = np.stack(values) if values else np.zeros((0, conn.size))
        times = np.asarray(times, dtype=np.float64)
        return (times, conn.pre.copy(), conn.post.copy(), samples) if format == "list" else (times, conn.dense(samples))

    def reset(self) -> None:
        """Back to t = 0 with the initial state and empty recordings, keeping the current weights
        (PyNN's meaning). Done by rebuilding the PyNN network, which restarts NEST's synapse state
        (STDP traces) too, unlike PyNN's own NEST reset."""
        self._check_live()
        current = {label: self._weight_list(label).copy() for label in self.net.projections}
        self._end()
        self._ended = False
        self._build(initial_weights=current)

    def resources(self) -> dict:
        """sPyNNaker: chips, cores (per population), SDRAM per core [bytes] and routing entries
        from its own mapping, after the first run; {} on other simulators."""
        if self.variant.name != "spinnaker":
            return {}
        if not self._resources:
            return {"note": "run the simulation first: sPyNNaker maps the network at the first run()"}
        out = dict(self._resources)
        out["virtual_board"] = self.virtual_board
        if self.virtual_board:
            out["note"] = ("virtual board: the network was mapped but not run, so no spikes or traces were produced "
                           "(give machine_name or spalloc_server to run on a board)")
        return out

    # -- lifetime ---------------------------------------------------------------------------
    def _detach(self):
        """Copy every recorded result out of the simulator, then stop using it."""
        if self._detached:
            return
        frozen = {"neo": {}, "weights": {}}
        try:
            for rec in self.net.recordings:
                if rec.target in self.net.populations:
                    frozen["neo"][rec.target] = self.neo(rec.target)
            for label in self.net.projections:
                frozen["weights"][label] = self._weight_list(label).copy()
        except Exception:  # a dead kernel: keep what could be read
            pass
        self._frozen = frozen
        self._end()
        self._detached = True

    def _end(self):
        if self.variant.name == "spinnaker" and not getattr(self, "_ended", False):
            self._ended = True  # sPyNNaker warns about a second end()
            try:
                from spynnaker.pyNN.data import SpynnakerDataView
                if SpynnakerDataView.is_shutdown():  # it shuts itself down after a failed run
                    return
            except ImportError:
                return
            try:
                with self._context():
                    self.sim.end()
            except Exception:
                pass

    def close(self):
        """Release the simulator (sPyNNaker: end the run); results stay readable."""
        if _ACTIVE.get(self.variant.name) is self:
            del _ACTIVE[self.variant.name]
        self._detach()

    def __repr__(self):
        return f"<PyNNSimulation {self.backend} t={self.time:g} ms{' detached' if self._detached else ''}>"


def _one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first}"[:300]
