"""The torch engine: a Network lowered to state tensors ``[batch, n]``, sparse synapse tables and
ring buffers, stepped on CPU or CUDA. It knows no construct by name — cells come from the
registry (registry.py, cells/), plasticity from plasticity/, mechanisms from mechanisms/.

Per step k (every profile; the arithmetic inside each item is the registered lowering's):

1. every neuron population consumes its ring-buffer slot k and updates (its cell lowering;
   populations of one lowering with equal parameters as one call, cell_groups.py);
2. the events of stamp u = k + stamp_offset are processed: post spikes enter the STDP histories,
   potentiation for post spikes reaching their synapses, pre spikes depress and commit plastic
   weights, and every spike is delivered into slot k + delay of its targets — only the synapses
   of neurons that spiked are touched (synapses.py);
3. recordings (preallocated per chunk) and network mechanisms see the step's spikes.

Steps run in chunks of up to ``CHUNK`` steps: spike-source input is generated per chunk, and
recordings are written into buffers allocated per chunk and decoded once at the chunk's end.
"""
from __future__ import annotations

import contextlib
import math
import sys

import numpy as np
import snntorch
import torch

from neuromorph.capabilities import check_supported
from neuromorph.cells import SpikeSourceArray, recordables
from neuromorph.errors import SimulationError, UnsupportedError, ValidationError
from neuromorph.numerics import get_profile, stamp_times
from neuromorph.simulation import Simulation
from neuromorph.validation import MAX_CURRENT, bounded_array, finite_array

from . import board, cell_groups, fixed_point
from .memory import check_fits, check_run, parse_size
from .plasticity import PLASTICITY, PlasticSynapses
from .registry import cell_lowering
from .sources import SOURCES, ArraySource
from .synapses import DENSE_MAX, RingBuffers, SynapseTable, deliver, ring_slots

CHUNK = 1000  # steps per chunk: bounds the input window and the recording buffers
CHUNK_PRODUCT_ENTRIES = 1 << 24  # entries of one block of a training chunk's source product (_SourceProduct)
SOURCE_PRODUCTS = True  # False: training runs deliver source projections per step too (tests' plain reference)
CELL_GROUPS = True  # False: every population stepped alone (cell_groups.py; tests' plain reference)
RECEPTOR_INDEX = {"excitatory": 0, "inhibitory": 1}  # second axis of the ring buffers



def _shifts_for(M: torch.Tensor) -> torch.Tensor:
    """board.ring_buffer_shift over a tensor of M values (int64): s = ceil(log2 M) floored at 0,
    +1 when 2^s <= M; 0 for M <= 0."""
    pos = M > 0
    s = torch.where(pos, torch.ceil(torch.log2(torch.where(pos, M, torch.ones_like(M)))).clamp(min=0), torch.zeros_like(M))
    s = s + ((torch.pow(2.0, s) <= M) & pos).to(s.dtype)
    return s.to(torch.int64)


def _board_shifts(net) -> dict:
    """(post, receptor) -> the ring-buffer shift sPyNNaker computes from the description
    (neuromorph.hardware.limits.board_shift: the cap M, or its Poisson bound where the delays of an
    incoming projection vary), for every receptor that receives synapses."""
    from neuromorph.hardware.limits import board_shift
    keys = {(p.post, p.receptor) for p in net.projections.values() if net.connectivity(p).size}
    return {key: board_shift(net, *key)[0] for key in keys}


def resolve_device(device) -> torch.device:
    if device is None:
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValidationError(f"device={device!r:.60} is not a torch device; use 'cpu' or 'cuda'") from None
    if dev.type not in ("cpu", "cuda"):
        raise ValidationError(f"device={device!r} is not supported by the torch backend; use 'cpu' or 'cuda'")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValidationError(f"device={device!r} but no CUDA GPU is visible to torch here; use device='cpu'")
    return dev


def param_name(label: str) -> str:
    """A projection's or population's label as the name of its nn.Parameter (torch forbids ".")."""
    return label.replace(".", "\u00b7")


def _plain(x, memo: dict, depth: int = 0):
    """``x`` with every inference tensor in it (also inside tuples, NamedTuples, lists and dicts,
    a few levels deep) replaced by an ordinary copy; ``x`` itself when there is none. ``memo``
    (id -> copy) gives one tensor held in several places one copy: mechanisms test their hook
    tensors by identity (current_sources.py: ``cur is old``)."""
    if isinstance(x, torch.Tensor):
        if not x.is_inference():
            return x
        if id(x) not in memo:
            memo[id(x)] = (x, x.clone())   # (the original kept alive so that its id stays unique)
        return memo[id(x)][1]
    if depth > 3:
        return x
    if isinstance(x, tuple):
        items = [_plain(v, memo, depth + 1) for v in x]
        if all(a is b for a, b in zip(items, x)):
            return x
        return type(x)(*items) if hasattr(x, "_fields") else type(x)(items)
    if isinstance(x, (list, dict)):
        _plain_in(x, memo, depth + 1)
    return x


def _plain_in(container, memo: dict, depth: int = 0) -> None:
    """_plain over the values of a dict or list, in place."""
    keys = container.keys() if isinstance(container, dict) else range(len(container))
    for key in list(keys):
        v = container[key]
        w = _plain(v, memo, depth)
        if w is not v:
            container[key] = w


def _fired(spk: torch.Tensor) -> torch.Tensor:
    """``spk > 0`` as a bool mask: the one the cell step made (``_fired``, see make_fire and
    cells/common.reset), else computed."""
    fired = getattr(spk, "_fired", None)
    return fired if fired is not None else spk.detach() > 0


def make_fire(spike_grad):
    """Spike function: the forward value is the exact ``v >= thr`` test (both simulators spike on
    equality; snnTorch's Heaviside is ``> 0``), the gradient snnTorch's surrogate of ``v − thr``
    when autograd is recording."""
    def fire(v, thr):
        fired = v >= thr
        hard = fired.to(v.dtype)
        if not (v.requires_grad and torch.is_grad_enabled()):
            hard._fired = fired   # the bool mask, for reset and the event path (one kernel less each)
            return hard
        spk = spike_grad(v - thr).to(v.dtype)
        return hard + (spk - spk.detach())
    fire.spike_grad = spike_grad   # for the cells' fused training steps (cells/fused_training.py)
    return fire


class _Population:
    """A neuron population's lowering, parameters and recording requests."""

    def __init__(self, pop, lowering, dt):
        self.label, self.n = pop.label, pop.size
        self.lowering = lowering
        self.params = lowering.parameters(pop.celltype, dt)
        self.step = lowering.step
        self.state_variables = tuple(pop.celltype.state_variables)
        self.recordables = recordables(pop.celltype)
        #: (first step, parameters) set between runs and not yet in use (TorchSimulation.set_parameters)
        self.pending = None

    def switch_parameters(self, state):
        """Take the pending parameters into use; returns the state with V unchanged: a lowering
        that keeps V relative to v_rest (NEST's) shifts it by the change of v_rest, as NEST does
        when E_L is set."""
        old, self.params, self.pending = self.params, self.pending[1], None
        if "v" in self.recordables and hasattr(state, "v") and hasattr(state, "_replace"):
            zero = state._replace(v=torch.zeros_like(state.v))   # the offsets alone: NEST's exact −ΔE_L
            delta = self.lowering.record(old, zero, "v") - self.lowering.record(self.params, zero, "v")
            if bool((delta != 0).any()):
                state = state._replace(v=state.v + delta)
        return state


class _StaticSynapses:
    """A static projection: ``host`` weights ``[1 or batch, nsyn]`` (float64 magnitudes, weight
    units, as the description or ``set_weights`` gave them) and ``W``, what delivery adds to the
    ring buffers, ``[1 or batch, nsyn]`` (sparse) or ``[1 or batch, n_pre, n_post]`` (dense path) in
    the simulation's dtype: the weights themselves in float arithmetic, or — fixed point — the
    16-bit words ``rint(|w| / lsb)`` at the receptor's ring-buffer shift (``set_shift``)."""

    def __init__(self, table: SynapseTable, device, dtype, dense: bool, fixed: bool = False):
        self.table, self.device, self.dtype = table, device, dtype
        self.dense, self.fixed = dense, fixed
        self.shift = self.lsb = None
        self.full = table.nsyn == table.n_pre * table.n_post
        self.mask = table.dense_mask(device) if dense else None
        self.pad = None if dense else table.padded()
        self._pad_w = None
        self.set_weights(torch.as_tensor(table.weights0, dtype=torch.float64, device=device).unsqueeze(0))

    def set_weights(self, w: torch.Tensor):
        """w: magnitudes ``[1 or batch, nsyn]`` (float64, weight units)."""
        self.host = w.to(self.device, torch.float64)
        self._store(self.encode(self.host))

    def set_shift(self, shift: torch.Tensor, reencode: bool = True):
        """Fixed point: the receptor's ring-buffer shift ``[1 or batch, 1]`` (int64); the words
        are re-derived from the host weights, as the host does when it loads the board (not when
        ``reencode`` is False: a checkpoint restores the words themselves)."""
        self.shift = shift
        self.lsb = torch.pow(2.0, (shift - 15).to(torch.float64))
        if reencode:
            self._store(self.encode(self.host))

    def encode(self, w: torch.Tensor) -> torch.Tensor:
        """Host magnitudes -> delivery values (float64): words at this shift in fixed point."""
        if not self.fixed or self.lsb is None:
            return w
        return torch.round(w / self.lsb)

    def _store(self, w: torch.Tensor):
        if self.dense:
            d = torch.zeros(w.shape[0], self.table.n_pre, self.table.n_post, dtype=torch.float64, device=self.device)
            d[:, self.table.pre, self.table.post] = w
            w = d
        w = w.to(self.dtype)
        self._pad_w = None
        if isinstance(getattr(self, "W", None), torch.nn.Parameter):
            with torch.no_grad():
                self.W.copy_(w.expand_as(self.W))
        else:
            self.W = w

    def weights(self) -> torch.Tensor:
        """``[1 or batch, nsyn]`` in weight units: the simulation's dtype (float arithmetic, with
        gradients when trainable) or float64 read back from the words (fixed point)."""
        W = self.W[:, self.table.pre, self.table.post] if self.dense else self.W
        return W.to(torch.float64) * self.lsb if self.fixed and self.lsb is not None else W

    def padded(self):
        """``(pad_post, pad_delay, pad_weight)`` for the padded event path, or None (see
        SynapseTable.padded); the padded weights are rebuilt after every change of W."""
        if self.pad is None:
            return None
        if self._pad_w is None:
            W = self.W.detach()
            ext = torch.cat([W, torch.zeros(W.shape[0], 1, dtype=W.dtype, device=W.device)], dim=1)
            self._pad_w = ext[:, self.pad[0]]
        return self.pad[1], self.pad[2], self._pad_w

    def per_trial(self, batch: int) -> torch.Tensor:
        """The live weight tensor, expanded to one copy per trial (for mechanisms that change
        weights per trial); the caller changes it in place."""
        self._pad_w = None
        if self.W.shape[0] != batch:
            W = self.W.detach().expand(batch, *self.W.shape[1:]).clone()
            self.W = torch.nn.Parameter(W) if isinstance(self.W, torch.nn.Parameter) else W
        return self.W


class _SourceProduct:
    """``x [steps, batch, n_pre] @ W [n_pre, n_post]`` by blocks of steps, one GEMM per block of at
    most CHUNK_PRODUCT_ENTRIES output entries, made when its first row is read; ``[r]``: row r."""

    def __init__(self, x: torch.Tensor, W: torch.Tensor):
        self.x, self.W = x, W
        self.block = max(1, CHUNK_PRODUCT_ENTRIES // (x.shape[1] * W.shape[1]))
        self.rows, self.r0 = (), 0

    def __getitem__(self, r: int) -> torch.Tensor:
        if not self.r0 <= r < self.r0 + len(self.rows):
            self.r0 = r - r % self.block
            x = self.x[self.r0:self.r0 + self.block]
            self.rows = (x.reshape(-1, x.shape[2]).to(self.W.dtype) @ self.W).view(x.shape[0], x.shape[1], -1).unbind(0)
        return self.rows[r - self.r0]


class TorchSimulation(Simulation, torch.nn.Module):
    """``nm.build(net, backend="torch", numerics=..., device=..., batch=..., dtype=...,
    spike_grad=..., trainable=(...), threads=..., max_memory=...)``.

    ``dtype``: torch.float64 (default: the parity contract with NEST is bit-level) or
    torch.float32 (about 2× less memory; statistics within the bounds of docs/semantics.md).
    ``threads``: torch intra-op threads while running on the CPU (default 1: per-step work is
    many small kernels whose thread start-up costs more than it saves, and on a shared machine
    extra threads wait for busy cores; raise it for dense training networks). ``trainable``:
    static projections whose weights become ``nn.Parameter`` s, in ``sim.trainable`` under the
    projection's label ("." written "·"). ``max_memory``: the memory budget in bytes (or a string
    such as ``"8G"``) for the build estimate and every run's recordings (default: what is available
    on the device; backends/torch/memory.py). ``trainable_biases``: population labels (or
    ``{label: "neuron" | "shared"}``) whose ``i_offset`` gets a trainable offset [nA], one per
    neuron (default) or one per population, in ``sim.biases`` (docs/training.md).
    """

    def __init__(self, net, numerics: str = "spinnaker", device="cpu", batch: int = 1, dtype=torch.float64,
                 spike_grad=None, trainable=(), check: bool = True, threads: int | None = 1,
                 max_memory=None, trainable_biases=()):
        torch.nn.Module.__init__(self)
        self.net = net
        if not isinstance(numerics, str):
            raise ValidationError(f"numerics={numerics!r:.60} is not a profile name; choose one of spinnaker, spinnaker-float, exact")
        self.profile = get_profile(numerics)
        self.numerics = numerics
        self.device = resolve_device(device)
        if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
            raise ValidationError(f"batch={batch!r:.60} must be a positive integer")
        self.batch = int(batch)
        if not isinstance(dtype, torch.dtype) or dtype not in (torch.float64, torch.float32):
            raise ValidationError(f"dtype={dtype!r} must be torch.float64 or torch.float32")
        self.dtype = dtype
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1):
            raise ValidationError(f"threads={threads!r} must be a positive integer (or None to keep torch's setting)")
        self.threads = threads
        from .capabilities import capabilities
        if check:
            check_supported(net, capabilities(numerics=numerics), f"torch ({numerics})", self.batch)
        self.max_memory = parse_size(max_memory)
        self.build_bytes = check_fits(net, self.batch, dtype, self.device, self.max_memory)
        self.dt = net.dt
        self._fire = make_fire(spike_grad or snntorch.surrogate.atan())
        self.pops: dict[str, _Population] = {}
        self.sources: dict = {}
        for pop in net.populations.values():
            if pop.is_source:
                self.sources[pop.label] = SOURCES[type(pop.celltype)](pop, self.batch, self.dt, self.device, net.seed)
            else:
                self.pops[pop.label] = _Population(pop, cell_lowering(pop.celltype, self.profile), self.dt)
        self.fixed = self.profile.arithmetic == "fixed"
        # ring-buffer shift per (post population, receptor), from the description's weights (per
        # trial once weights are set per trial: each trial is its own board run)
        shifts = _board_shifts(net) if self.fixed else {}
        self.tables: dict[str, SynapseTable] = {}
        self.static: dict[str, _StaticSynapses] = {}
        self.plastic: dict[str, PlasticSynapses] = {}
        if isinstance(trainable, (str, bytes)) or not isinstance(trainable, (list, tuple, set, frozenset)):
            raise ValidationError(f"trainable={trainable!r:.60} must be a list of projection labels")
        if spike_grad is not None and not callable(spike_grad):
            raise ValidationError(f"spike_grad={spike_grad!r:.60} is not a surrogate gradient; give e.g. snntorch.surrogate.atan()")
        trainable = [net.projection(t).label for t in trainable]
        max_delay = 1
        for proj in net.projections.values():
            table = SynapseTable(net.connectivity(proj), self.device)
            self.tables[proj.label] = table
            if table.nsyn:
                max_delay = max(max_delay, table.max_delay)
            shift = shifts.get((proj.post, proj.receptor))
            if shift is None and self.fixed and proj.plasticity is not None:
                # no synapse onto this receptor (e.g. an empty plastic projection): the rule's w_max sets it
                shift = board.ring_buffer_shift(float(getattr(getattr(proj.plasticity, "weight", None), "w_max", 0.0)))
            lowering = PLASTICITY.get((type(proj.plasticity), self.profile.arithmetic))
            if lowering is not None:
                if proj.label in trainable:
                    raise UnsupportedError(f"trainable projection {proj.label!r} is plastic; train static projections only")
                pp = lowering(proj.label, table, proj.plasticity, self.profile, self.dt, self.batch, self.device,
                              self.dtype, shift)
                pp.post_label = proj.post
                if hasattr(pp, "bind"):   # lowerings that need the target cell (short-term plasticity's tau_psc)
                    pp.bind(net.populations[proj.post].celltype, proj.receptor)
                self.plastic[proj.label] = pp
            else:
                dense = table.wants_dense() or (proj.label in trainable and table.single_delay is not None
                                                and table.n_pre * table.n_post <= DENSE_MAX and not table.repeated_pairs())
                self.static[proj.label] = _StaticSynapses(table, self.device, self.dtype, dense, self.fixed)
        #: fixed point: (post label, receptor index) -> ring-buffer shift ``[1 or batch, 1]`` int64
        self.shifts: dict[tuple[str, int], torch.Tensor] = {}
        self._ring_cache: dict = {}
        if self.fixed:
            self._set_shifts({(p.post, p.receptor) for p in net.projections.values()})
        # delivery order: plastic projections first (as the simulators commit before transmitting)
        self._deliveries = [(label, net.projections[label]) for label in list(self.plastic) + list(self.static)]
        self.max_delay = max_delay
        self.several_delays = any(t.single_delay is None for t in self.tables.values() if t.nsyn)
        self.trainable = torch.nn.ParameterDict()
        for label in trainable:
            sp = self.static[label]
            sp.W = torch.nn.Parameter(sp.W.clone())
            # named after the projection (torch forbids "." in parameter names)
            self.trainable[param_name(label)] = sp.W
        self.biases = torch.nn.ParameterDict()
        if isinstance(trainable_biases, (str, bytes)) or not isinstance(trainable_biases, (list, tuple, set, frozenset, dict)):
            raise ValidationError(f"trainable_biases={trainable_biases!r:.60} must be a list of population labels "
                                  "(or a dict label -> 'neuron' | 'shared')")
        modes = trainable_biases if isinstance(trainable_biases, dict) else {t: "neuron" for t in trainable_biases}
        self.bias_modes = {}
        for target, mode in modes.items():
            pop = net.get(target)
            if pop.is_source or not hasattr(pop.celltype, "i_offset"):
                raise ValidationError(f"trainable_biases: {pop.label!r} has no i_offset to train (a spike source or "
                                      f"{type(pop.celltype).__name__})")
            if mode not in ("neuron", "shared"):
                raise ValidationError(f"trainable_biases[{pop.label!r}]={mode!r:.40} must be 'neuron' or 'shared'")
            n = pop.size if mode == "neuron" else 1
            self.bias_modes[pop.label] = mode
            # an offset [nA] added to the description's i_offset (through the extra-current hook)
            self.biases[param_name(pop.label)] = torch.nn.Parameter(
                torch.zeros(1, n, dtype=self.dtype, device=self.device))
        if self.fixed and (trainable or self.bias_modes):
            raise UnsupportedError(f"trainable={trainable!r:.80} / trainable_biases under numerics={numerics!r}: the board's "
                                   "fixed point has no gradients; train with numerics='spinnaker-float' or 'exact', then run "
                                   "the trained network here")
        # mechanism hooks: extra current [nA] and threshold shift [mV] per population ([batch, n]),
        # a gain per post neuron on a projection's transmitted weights ([batch, 1, n_post])
        self.extra_current = {label: None for label in self.pops}
        self.threshold_shift = {label: None for label in self.pops}
        self.weight_gain = {label: None for label in net.projections}
        self._inputs: dict[str, torch.Tensor] = {}
        self.mechanisms = self._lower_extensions()
        self.reset()

    def _set_shifts(self, keys) -> None:
        """Fixed point: the ring-buffer shift of each (post label, receptor) in ``keys`` from the
        current host weights, per trial (simulators.md §9.2: M = Σ w_max·fan-in over the projections
        onto it — one spike per tick per source, as sPyNNaker 7.4.1 counts it — at least the largest
        w_max; 2^s > M; the Poisson bound where delays vary), and the static words
        re-derived at it. A plastic projection's shift is fixed when it is built (its rule's w_max
        sets it); trials that would need another are refused."""
        for post, receptor in keys:
            total = biggest = None
            plastic = []
            for proj in self.net.projections.values():
                if (proj.post, proj.receptor) != (post, receptor):
                    continue
                t = self.tables[proj.label]
                if proj.label in self.plastic:
                    plastic.append(self.plastic[proj.label])
                    rule_max = float(getattr(getattr(proj.plasticity, "weight", None), "w_max", 0.0))
                    if not t.nsyn:
                        continue
                    w_max = torch.full((1,), max(float(t.weights0.max()), rule_max), dtype=torch.float64, device=self.device)
                else:
                    if not t.nsyn:
                        continue
                    w_max = self.static[proj.label].host.max(dim=1).values
                term = w_max * t.max_fan_in
                total = term if total is None else total + term
                biggest = w_max if biggest is None else torch.maximum(biggest, w_max)
            if total is None:   # nothing onto it but empty projections: a plastic rule's w_max sets it
                M = torch.tensor([max([float(pp.c.w_max) for pp in plastic] or [0.0])], dtype=torch.float64, device=self.device)
            else:
                M = torch.maximum(total, biggest)
            shift = _shifts_for(M).unsqueeze(1)
            if total is not None and any(len(self.tables[p.label].delays) > 1 for p in self.net.projections.values()
                                         if (p.post, p.receptor) == (post, receptor)):
                shift = self._poisson_bound_shift(post, receptor, shift.shape[0])
            for pp in plastic:
                if bool((shift != pp.shift).any()):
                    raise UnsupportedError(
                        f"plastic projection {pp.label!r}: these weights onto {post!r} ({receptor}) need ring-buffer shifts "
                        f"{sorted(set(shift.view(-1).tolist()))} but its words were stored at shift {pp.shift} when it was built; "
                        "build one simulation per weight set (each is its own board run)")
            for proj in self.net.projections.values():
                if (proj.post, proj.receptor) == (post, receptor) and proj.label in self.static:
                    self.static[proj.label].set_shift(shift)
            self.shifts[(post, RECEPTOR_INDEX[receptor])] = shift
        self._ring_cache = {}

    def _poisson_bound_shift(self, post: str, receptor: str, trials: int) -> torch.Tensor:
        """The shift sPyNNaker computes with its Poisson bound (delays vary onto this receptor),
        per trial from that trial's static weights (neuromorph.hardware.limits.board_shift)."""
        from neuromorph.hardware.limits import board_shift
        onto = [label for label, sp in self.static.items()
                if (self.net.projections[label].post, self.net.projections[label].receptor) == (post, receptor)]
        out = []
        for b in range(trials):
            weights = {label: self.static[label].host[min(b, self.static[label].host.shape[0] - 1)].cpu().numpy()
                       for label in onto}
            out.append(board_shift(self.net, post, receptor, weights=weights)[0])
        return torch.tensor(out, dtype=torch.int64, device=self.device).unsqueeze(1)

    def _ring_shifts(self, label: str):
        """Fixed point: ``((shift, wide), (shift, wide))`` of a population's excitatory and
        inhibitory ring buffers: the shift as an int (one for all trials) or ``[batch, 1]``, and
        whether ``words << shift`` can leave 32 bits (a shift of 16 or more). Cached until the
        shifts change."""
        cached = self._ring_cache.get(label)
        if cached is not None:
            return cached
        out = []
        for r in (0, 1):
            s = self.shifts.get((label, r))
            if s is None:
                out.append((0, False))
                continue
            lo, hi = int(s.min()), int(s.max())
            out.append((lo if lo == hi else s, hi >= 16))
        self._ring_cache[label] = tuple(out)
        return self._ring_cache[label]

    def _lower_extensions(self):
        if not self.net.extensions:
            return []
        from .mechanisms import TORCH_MECHANISMS
        out = []
        for ext in self.net.extensions:
            factory = TORCH_MECHANISMS.get(type(ext))
            if factory is None:
                raise UnsupportedError(f"{type(ext).__name__} has no torch implementation")
            out.append(factory(ext, self))
        return out

    # -- state ------------------------------------------------------------------------------
    def reset(self, batch: int | None = None) -> None:
        """Time, neuron state, plasticity traces, delay buffers and recordings back to their
        initial values; weights keep their current values (re-set them with set_weights).
        ``batch``: a new number of trials (see :meth:`set_batch`)."""
        if batch is not None and batch != self.batch:
            self.set_batch(batch)
            return
        self.k = 0
        self._stamp0_done = False
        self._collect = None
        self.__dict__["_chunk_x"] = {}   # a training chunk's source products (_source_products)
        self.__dict__["_dense_w"] = {}   # a chunk's shared dense weight matrices (_shared_dense_weights)
        B, dev, dt = self.batch, self.device, self.dtype
        self.state = {}
        for label, p in self.pops.items():
            if p.pending is not None:   # parameters set between runs stay across reset (PyNN's meaning)
                p.params, p.pending = p.pending[1], None
            pop = self.net.populations[label]
            init = {name: torch.as_tensor(pop.initial(name), dtype=dt, device=dev) for name in p.state_variables}
            self.state[label] = p.lowering.initial_state(p.params, init, B)
        sizes = {label: p.n for label, p in self.pops.items()}
        R = ring_slots(self.max_delay, self.several_delays, 2 * B * sum(sizes.values()) * torch.empty((), dtype=dt).element_size())
        self.buffers = RingBuffers(sizes, R, B, dt, dev)
        for pp in self.plastic.values():
            pp.reset_traces()
        self._events = {rec.target: [] for rec in self.net.recordings if "spikes" in rec.variables}
        self._decoded = {}
        self._traces = {}
        self._weights = {}
        for rec in self.net.recordings:
            for var in rec.variables:
                if var == "weights":
                    self._weights[rec.target] = (rec.every, [], [])
                elif var != "spikes":
                    self._traces[(rec.target, var)] = (rec.every, [])
        for m in self.mechanisms:
            if hasattr(m, "reset"):
                m.reset(self)

    def set_batch(self, batch: int) -> None:
        """Change the number of trials, and reset. Static weights must be shared by the trials
        (not set per trial) and there must be no STDP projection, whose weights are per trial;
        spike sources are rebuilt from the description (``set_spike_times`` changes are dropped)."""
        if isinstance(batch, bool) or int(batch) != batch or batch < 1:
            raise ValidationError(f"batch={batch!r} must be a positive integer")
        if self.plastic:
            raise UnsupportedError(f"set_batch: projection {next(iter(self.plastic))!r} is plastic and holds weights per "
                                   "trial; build a new simulation with batch=...")
        per_trial = [label for label, sp in self.static.items() if sp.W.shape[0] != 1]
        if per_trial:
            raise UnsupportedError(f"set_batch: projection {per_trial[0]!r} has weights per trial; set shared weights "
                                   "first (a [n_pre, n_post] or [nsyn] array) or build a new simulation with batch=...")
        self.batch = int(batch)
        for pop in self.net.populations.values():
            if pop.is_source:
                self.sources[pop.label] = SOURCES[type(pop.celltype)](pop, self.batch, self.dt, self.device, self.net.seed)
        self._inputs = {}
        self.reset()

    def forward(self, ms: float, outputs=(), inputs=None) -> dict:
        """Run ``ms`` and return the spikes of ``outputs`` (population labels) as tensors
        ``[steps, batch, n]`` that carry snnTorch surrogate gradients to trainable weights.
        ``inputs``: ``{source label: tensor [steps, batch, n]}`` (see :meth:`set_input`); at time 0
        their batch may differ from the simulation's, which then takes it (:meth:`set_batch`)."""
        for label in outputs:
            self.net.get(label)
        sizes = {x.shape[1] for x in (inputs or {}).values() if isinstance(x, torch.Tensor) and x.dim() == 3}
        if self.k == 0 and len(sizes) == 1 and sizes != {self.batch} and sizes != {1}:
            self.set_batch(sizes.pop())
        for label, x in (inputs or {}).items():
            self.set_input(label, x)
        self._collect = {label: [] for label in outputs}
        try:
            self.run(ms)
            return {label: torch.stack(rows) if rows else None for label, rows in self._collect.items()}
        finally:
            self._collect = None

    def set_input(self, label, spikes: torch.Tensor) -> None:
        """Drive a spike source with a tensor ``[steps, batch, n]`` (or ``[steps, n]``) during the
        next ``run`` of exactly ``steps`` steps: row r is what the source emits in step k0 + r
        (stamp k0 + r + the profile's stamp offset). Values are used as given (0/1; a tensor that
        requires grad passes gradients to the delivery). Replaces the source's own spikes for that
        run only."""
        pop = self.net.get(label)
        if not pop.is_source:
            raise ValidationError(f"set_input: {pop.label!r} is not a spike source; give inputs to a spike_source population")
        if not isinstance(spikes, torch.Tensor):
            raise ValidationError(f"set_input({pop.label!r}): give a torch tensor [steps, batch, n], got {type(spikes).__name__}")
        x = spikes if spikes.dim() == 3 else spikes.unsqueeze(1)
        if x.dim() != 3 or x.shape[1] not in (1, self.batch) or x.shape[2] != pop.size:
            raise ValidationError(f"set_input({pop.label!r}): shape {tuple(spikes.shape)}; give [steps, {self.batch}, {pop.size}]")
        self._inputs[pop.label] = x.to(self.device, self.dtype).expand(x.shape[0], self.batch, pop.size)

    @property
    def time(self) -> float:
        return self.k * self.dt

    # -- running ----------------------------------------------------------------------------
    def run(self, ms: float, progress: bool = False) -> None:
        """Run ``ms`` more. Refused (SimulationError) before anything is allocated when the run's
        recordings would not fit (backends/torch/memory.py); the length itself allocates nothing.
        ``progress=True``: a tqdm bar on stderr (simulated time, speed, ETA), updated per chunk."""
        n = self.net.steps(ms, "run duration")
        if n == 0:
            return
        for label, x in self._inputs.items():
            if x.shape[0] != n:
                raise ValidationError(f"input of {label!r} has {x.shape[0]} steps; this run has {n} (ms={ms}, dt={self.dt})")
        check_run(self, n, ms)
        bar = self._progress_bar(n) if progress else None
        inputs, self._inputs = self._inputs, {}
        self.buffers.set_grad(torch.is_grad_enabled() and (any(w.requires_grad for w in self.trainable.values())
                                                           or any(b.requires_grad for b in self.biases.values())
                                                           or any(x.requires_grad for x in inputs.values())))
        k0, off = self.k, self.profile.stamp_offset
        # nothing to differentiate: run under inference mode, which skips autograd's per-kernel
        # dispatch work (~15% of a small network's step); the tensors it creates are turned into
        # ordinary ones when the run ends (_leave_inference), so later runs, training and
        # checkpoints see plain tensors. Not for forward(): its outputs go to the caller as they are.
        fast = not self.buffers.grad and self._collect is None and not torch.is_inference_mode_enabled()
        try:
            with self._threads(), (torch.inference_mode() if fast else contextlib.nullcontext()):
                if off and k0 == 0 and not self._stamp0_done:
                    # exact profile: source spikes stamped 0 are emitted before the first step
                    first = {label: src.window(0, 1, self.dtype)[0] for label, src in self.sources.items() if label not in inputs}
                    self._process_stamp(-1, 0, first, {}, None)
                    self._stamp0_done = True
                for c0 in range(k0, k0 + n, CHUNK):
                    c1 = min(c0 + CHUNK, k0 + n)
                    self._run_chunk(c0, c1, inputs, k0)
                    if bar is not None:
                        bar.update((c1 - c0) * self.dt / 1000.0)
        except torch.cuda.OutOfMemoryError as exc:
            raise SimulationError(f"torch ran out of GPU memory at t={self.time} ms ({exc}); reduce batch or size") from None
        finally:
            if bar is not None:
                bar.close()
            if fast:
                self._leave_inference()
        self._check_finite()

    def _leave_inference(self) -> None:
        """Replace the inference tensors a run under ``torch.inference_mode`` left in the state
        (neuron state, mechanism hooks, plasticity, mechanisms) by ordinary copies: outside
        inference mode an inference tensor can neither be changed in place nor saved for backward.
        Recordings and the spike sources' cached input stay as they are (they are only read; copying
        a source's chunk after every short run would cost more than the run). Slot views are taken
        anew."""
        memo = {}
        for d in (self.state, self.extra_current, self.threshold_shift, self.weight_gain):
            _plain_in(d, memo)
        for obj in (*self.plastic.values(), *self.mechanisms):
            attrs = getattr(obj, "__dict__", None)
            if attrs is not None:
                _plain_in(attrs, memo)
        self.buffers._views_of = None

    @property
    def dropped_posts(self) -> dict[str, int]:
        """Fixed point: per plastic projection, the post spikes the board's 15-spike history
        dropped before every synapse had paired them (backends/torch/plasticity/board_stdp.py);
        the float profiles keep every post spike (empty)."""
        return {label: pp.dropped_posts for label, pp in self.plastic.items() if hasattr(pp, "dropped_posts")}

    def check_memory(self, ms: float) -> None:
        """Refuse (SimulationError) a ``run(ms)`` whose recordings would not fit — what ``run``
        checks first; for callers that run ``ms`` in several calls (``neuromorph run``)."""
        check_run(self, self.net.steps(ms, "run duration"), ms)

    def _progress_bar(self, n: int):
        """A tqdm bar on stderr over the run's simulated seconds (None without tqdm)."""
        try:
            from tqdm import tqdm
        except ImportError:
            return None
        return tqdm(total=n * self.dt / 1000.0, unit="sim-s", file=sys.stderr, desc="run", leave=False,
                    bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.2f}/{total:.2f} s simulated "
                               "[{elapsed}<{remaining}, {rate_noinv_fmt}]")

    def _check_finite(self) -> None:
        """Refuse to go on from a state that left the float range (e.g. Izhikevich driven hard at a
        large dt): a SimulationError naming the population, instead of inf/NaN traces."""
        for label, state in self.state.items():
            for x in state:  # the lowering's NamedTuple of tensors
                if isinstance(x, torch.Tensor) and x.is_floating_point() and not bool(torch.isfinite(x).all()):
                    raise SimulationError(
                        f"population {label!r}: its state left the float range (inf/NaN) by t={self.time:g} ms; the "
                        "parameters drive it beyond float64 (e.g. Izhikevich at a large dt); use a smaller dt or smaller "
                        "currents/weights (docs/schema.md gives the bounds)")

    @contextlib.contextmanager
    def _threads(self):
        if self.threads is None or self.device.type != "cpu" or torch.get_num_threads() == self.threads:
            yield
            return
        before = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    def _run_chunk(self, c0: int, c1: int, inputs: dict, k0: int):
        off = self.profile.stamp_offset
        # whether any population has a trainable bias, as a plain attribute: reading the
        # ParameterDict goes through nn.Module.__getattr__, per population and step
        self.__dict__["_bias_on"] = len(self.biases) > 0
        windows = {label: src.window(c0 + off, c1 + off, self.dtype) for label, src in self.sources.items()
                   if label not in inputs}
        for label, x in inputs.items():
            windows[label] = x[c0 - k0:c1 - k0]
        rec = {label: torch.zeros(c1 - c0, self.batch, self.net.populations[label].size, dtype=torch.bool, device=self.device)
               for label in self._events}
        # on the CPU, which sources emit anything in each step, known once per chunk (a host check
        # per source and step would cost more than the steps of a small network)
        quiet = {}
        if self.device.type == "cpu":
            quiet = {label: (~w.reshape(w.shape[0], -1).to(torch.bool).any(dim=1)).tolist()
                     for label, w in windows.items() if not w.requires_grad}
        # per-step views taken once per chunk (one C++ loop each): indexing a tensor per step and
        # source is a kernel call each
        steps = {label: w.unbind(0) for label, w in windows.items()}
        rows = {label: r.unbind(0) for label, r in rec.items()}
        self.__dict__["_chunk_x"] = self._source_products(windows)
        self.__dict__["_dense_w"] = self._shared_dense_weights()
        # populations of one lowering with equal parameters stepped as one (cell_groups.py)
        plan = cell_groups.form_groups(self, c1 - c0) if CELL_GROUPS else list(self.pops.items())
        self.__dict__["_plan"] = plan
        try:
            for k in range(c0, c1):
                r = k - c0
                self._step(k, {label: w[r] for label, w in steps.items()}, rows, r,
                           {label: q[r] for label, q in quiet.items()})
        finally:
            cell_groups.write_back(self, plan)   # the members' states back into self.state
            self.__dict__["_plan"] = None
        self.__dict__["_chunk_x"] = self.__dict__["_dense_w"] = {}
        self._store_events(rec, c0 + off)

    def _source_products(self, windows: dict) -> dict:
        """While autograd records: the deliveries of every trainable dense projection from a spike
        source over the whole chunk, ``X [steps·batch, n_pre] @ W`` as one GEMM, split into per-step
        rows ``[batch, n_post]`` (label -> tuple). Per step that is a thin product per step and, in
        the backward, one more; here autograd's backward of the one product is the weight gradient
        as one GEMM too. Only in training runs: in float32 a GEMV (one trial) may round otherwise
        than a GEMM, and outside training the event path is the contract. Not with mechanisms
        (they may change weights within a chunk)."""
        if not SOURCE_PRODUCTS or not self.buffers.grad or self.mechanisms:
            return {}
        out = {}
        for label, proj in self._deliveries:
            sp = self.static.get(label)
            x = windows.get(proj.pre)
            if sp is None or x is None or not sp.dense or sp.W.shape[0] != 1 or not sp.W.requires_grad:
                continue
            out[label] = _SourceProduct(x, (sp.W if sp.full else sp.W * sp.mask).squeeze(0))
        return out

    def _shared_dense_weights(self) -> dict:
        """label -> ``(W [n_pre, n_post], delay)`` of the static dense projections whose one weight
        matrix (shared by all trials) stays as it is for the chunk: nothing is recorded for autograd
        and no mechanism may replace it (SynapticScaling and SAL change weights per trial). The
        delivery is then one product straight into the ring buffer, without synapses.deliver's
        dispatch — a few µs per projection and step, a tenth of a small network's step."""
        if self.buffers.grad or self.mechanisms:
            return {}
        return {label: (sp.W[0], sp.table.single_delay) for label, sp in self.static.items()
                if sp.dense and sp.W.shape[0] == 1 and not sp.W.requires_grad}

    def _store_events(self, rec: dict, u0: int):
        for label, r in rec.items():
            t, b, i = r.nonzero(as_tuple=True)
            if t.numel():
                self._events[label].append(((t + u0).cpu().numpy(), b.cpu().numpy(), i.cpu().numpy()))
        self._decoded = {}

    def _step(self, k: int, source_spikes: dict, rec: dict, row: int, quiet: dict | None = None):
        self._sample_weights(k)
        spikes = {}
        for label, p in self.__dict__.get("_plan") or self.pops.items():
            if label is None:   # a cell group (cell_groups.py)
                p.step(self, k, spikes)
            else:
                self._step_population(label, p, k, spikes)
        spikes.update(source_spikes)
        if self._collect is not None:
            for label, rows in self._collect.items():
                rows.append(spikes[label])
        self._process_stamp(k, k + self.profile.stamp_offset, spikes, spikes, (rec, row), quiet)
        for m in self.mechanisms:
            m.step(self, k, spikes)
        self.__dict__["k"] = k + 1   # a plain int: skip nn.Module.__setattr__'s checks, once per step

    def _step_population(self, label: str, p: _Population, k: int, spikes: dict) -> None:
        """Step k of one population: consume its slot, update its state, its spikes into ``spikes``."""
        buffers = self.buffers
        if p.pending is not None and k >= p.pending[0]:
            self.state[label] = p.switch_parameters(self.state[label])
        thr = p.params.threshold
        shift = self.threshold_shift[label]
        if shift is not None:
            thr = thr + shift
        in_exc, in_inh = buffers.slot(label, k)
        if self.fixed:   # 16-bit saturating slots -> s16.15 input at each receptor's shift
            in_exc, in_inh = fixed_point.ring_inputs(in_exc, in_inh, self._ring_shifts(label))
        extra = self.extra_current[label]
        if self._bias_on:
            bias = self.biases.get(param_name(label))
            if bias is not None:
                bias = bias.expand(self.batch, p.n)
                extra = bias if extra is None else extra + bias
        spk, new, seen = p.step(p.params, self.state[label], in_exc, in_inh, extra, thr, self._fire)
        buffers.clear(label, k)
        if self._traces:
            for var in p.recordables:
                entry = self._traces.get((label, var))
                if entry is not None and k % entry[0] == 0:
                    entry[1].append(p.lowering.record(p.params, seen, var).detach())
        self.state[label] = new
        spikes[label] = spk

    def _process_stamp(self, k: int, u: int, pre_spikes: dict, post_spikes: dict, rec, quiet: dict | None = None):
        """Events with stamp u, processed at the end of step k; deliveries land in step k + delay.
        ``quiet``: sources known (on the host) to emit nothing at this stamp."""
        # which populations spiked at all (on the CPU: one check per population, so projections
        # from silent populations are skipped; on CUDA that would synchronise, so nothing is skipped)
        cpu = self.device.type == "cpu"
        if cpu:
            # a source's quiet flag, or the cell step's host answer (common.reset), says it without a kernel
            quiet = quiet or {}
            active = {}
            for label, s in pre_spikes.items():
                if label in quiet:
                    active[label] = not quiet[label]
                elif s.requires_grad:
                    active[label] = True
                else:
                    known = getattr(s, "_any", None)
                    active[label] = bool(s.any()) if known is None else known
        else:
            active = None
        if rec is not None:
            buffers, row = rec
            for label, r in buffers.items():
                if not cpu or active[label]:   # the chunk's rows start all False
                    x = pre_spikes[label]
                    r[row].copy_(x.detach() if x.requires_grad else x)   # nonzero -> True
        elif self._events:  # the exact profile's stamp-0 source spikes, before the first step
            self._store_events({label: (pre_spikes[label] > 0).unsqueeze(0) for label in self._events if label in pre_spikes}, u)
        for pp in self.plastic.values():
            post = post_spikes.get(pp.post_label)
            if post is None or (cpu and not active[pp.post_label]):
                pp.record_post(u, None, False)
            else:
                pp.record_post(u, _fired(post), True if cpu else None)
            # a post reaching the synapse at u pairs with the pre spikes before u (both simulators'
            # facilitation windows end at t_pre − d inclusive), so it goes before this stamp's pres
            pp.post_arrivals(u)
        pre_nz = {}  # (trial, neuron) of each pre population's spikes, shared by its projections
        for label, proj in self._deliveries:
            s = pre_spikes.get(proj.pre)
            if s is None or (cpu and not active[proj.pre]):
                continue
            post, r = proj.post, RECEPTOR_INDEX[proj.receptor]
            gain = self.weight_gain[label]
            if gain is not None:
                gain = gain.reshape(gain.shape[0], -1)
            dense_w = self._dense_w.get(label) if rec is not None else None
            if dense_w is not None:   # (the dense branch of synapses.deliver, the same product)
                W, d = dense_w
                x = torch.mm(s if s.dtype == W.dtype else s.to(W.dtype), W)
                self.buffers.add(post, r, k + d, x if gain is None else x * gain)
                continue
            chunk_x = self._chunk_x.get(label) if rec is not None else None
            if chunk_x is not None:   # this step's row of the chunk's product (_source_products)
                x = chunk_x[rec[1]]
                if gain is not None:
                    x = x * gain
                self.buffers.add(post, r, k + self.static[label].table.single_delay, x)
                continue
            pp = self.plastic.get(label)
            if pp is not None:
                fired = _fired(s)
                nz = None
                if getattr(s, "_fired", None) is not None:   # a cell's 0/1 spikes: the pairs of s's nonzero, shared
                    nz = pre_nz.get(proj.pre)
                    if nz is None:
                        nz = pre_nz[proj.pre] = fired.nonzero(as_tuple=True)
                events = pp.table.fan_out_events(fired, nz)
                given = pp.pre_spikes(u, fired, events)
                if given is not None:
                    deliver(self.buffers, post, r, pp.table, fired, None, k, gain, active=events, given=given)
            else:
                sp = self.static[label]
                if sp.dense:
                    # a trainable dense matrix must not grow synapses where there are none
                    W = sp.W if sp.full or not sp.W.requires_grad else sp.W * sp.mask
                    deliver(self.buffers, post, r, sp.table, s, None, k, gain, dense=W)
                else:
                    grad = s.requires_grad or sp.W.requires_grad
                    if pre_nz.get(proj.pre) is None and not grad:
                        pre_nz[proj.pre] = s.nonzero(as_tuple=True)
                    deliver(self.buffers, post, r, sp.table, s, sp.W, k, gain, nz=pre_nz.get(proj.pre),
                            padded=None if grad else sp.padded())

    def _sample_weights(self, k: int):
        for label, (every, times, rows) in self._weights.items():
            if k % every == 0:
                times.append(k * self.dt)
                rows.append(self._weight_tensor(label).detach().to(torch.float64).clone())

    # -- results ----------------------------------------------------------------------------
    def spikes(self, label) -> list:
        pop = self.net.get(label)
        if pop.label not in self._events:
            raise ValidationError(f"spikes of {pop.label!r} were not recorded; add net.record({pop.label!r}, 'spikes') before build")
        if pop.label not in self._decoded:
            self._decoded[pop.label] = self._decode(pop)
        out = self._decoded[pop.label]
        return out[0] if self.batch == 1 else out

    def _decode(self, pop):
        """Per trial, per neuron spike times [ms]: one stable sort of the events by (trial,
        neuron) — events are stored in time order — then one split."""
        events = self._events[pop.label]
        n, B = pop.size, self.batch
        if events:
            u = np.concatenate([e[0] for e in events])
            key = np.concatenate([e[1] for e in events]) * n + np.concatenate([e[2] for e in events])
            order = np.argsort(key, kind="stable")
            times = stamp_times(u[order], self.dt, self.profile.clock)
            splits = np.cumsum(np.bincount(key, minlength=B * n))[:-1]
            rows = np.split(times, splits)
        else:
            rows = [np.zeros(0) for _ in range(B * n)]
        return [rows[b * n:(b + 1) * n] for b in range(B)]

    def trace(self, label, variable: str = "v") -> np.ndarray:
        pop = self.net.get(label)
        entry = self._traces.get((pop.label, variable))
        if entry is None:
            raise ValidationError(f"{variable!r} of {pop.label!r} was not recorded; add net.record({pop.label!r}, {variable!r}) before build")
        rows = entry[1]
        a = torch.stack(rows, dim=1).cpu().numpy() if rows else np.zeros((self.batch, 0, pop.size))
        return a[0] if self.batch == 1 else a

    def _weight_tensor(self, label) -> torch.Tensor:
        """``[1 or batch, nsyn]`` committed weights, weight units."""
        if label in self.plastic:
            return self.plastic[label].weights()
        return self.static[label].weights()

    def _dense(self, label, w: np.ndarray) -> np.ndarray:
        """[b, ..., nsyn] -> [b, ..., n_pre, n_post] with NaN where there is no synapse."""
        t = self.tables[label]
        if t.n_pre * t.n_post > DENSE_MAX:
            raise ValidationError(f"projection {label!r} has {t.n_pre}×{t.n_post} pairs, too many for a dense array; "
                                  "use format='list'")
        out = np.full(w.shape[:-1] + (t.n_pre, t.n_post), np.nan)
        out[..., t.pre_np, t.post_np] = w
        return out

    def weights(self, projection, format: str = "array"):
        """Current weights: ``format="array"``: ``[n_pre, n_post]`` (``[batch, ...]`` batched), NaN
        where there is no synapse, for projections up to 2^26 pairs; ``format="list"``: ``(pre,
        post, weight)`` numpy arrays in synapse order (weight ``[batch, nsyn]`` when batched)."""
        self._weight_format(format)
        label = self._projection(projection).label
        w = self._weight_tensor(label).detach().to(torch.float64).cpu().numpy()
        w = np.broadcast_to(w, (self.batch, w.shape[1])).copy()
        if format == "list":
            t = self.tables[label]
            return t.pre_np.copy(), t.post_np.copy(), (w[0] if self.batch == 1 else w)
        a = self._dense(label, w)
        return a[0] if self.batch == 1 else a

    def weight_history(self, projection, format: str = "array"):
        """Recorded weights: ``(times_ms, [samples, n_pre, n_post])`` (``format="array"``) or
        ``(times_ms, pre, post, [samples, nsyn])`` (``format="list"``); ``[batch, ...]`` batched."""
        self._weight_format(format)
        label = self._projection(projection).label
        if label not in self._weights:
            raise ValidationError(f"weights of {label!r} were not recorded; add net.record(projection, 'weights', every=k) before build")
        _, times, rows = self._weights[label]
        t = self.tables[label]
        if rows:
            a = torch.stack([r.expand(self.batch, -1) for r in rows], dim=1).cpu().numpy()  # [B, samples, nsyn]
        else:
            a = np.zeros((self.batch, 0, t.nsyn))
        times = np.asarray(times)
        if format == "list":
            return times, t.pre_np.copy(), t.post_np.copy(), (a[0] if self.batch == 1 else a)
        a = self._dense(label, a)
        return times, (a[0] if self.batch == 1 else a)

    def set_parameters(self, label, **parameters) -> None:
        """Simulation.set_parameters: the population's lowering parameters are recomputed from the
        changed cell type (its state is kept) and used from the next step — under NEST's
        conventions (``exact``) one step later, as pyNN.nest runs NEST one min_delay (= dt) past the
        time it reports; a Poisson source draws with the new rate from the current step on."""
        from neuromorph.simulation import with_parameters
        net, pop = with_parameters(self.net, label, parameters)
        if pop.is_source:
            self.sources[pop.label] = SOURCES[type(pop.celltype)](pop, self.batch, self.dt, self.device, net.seed)
        else:
            p = self.pops[pop.label]
            lag = 1 if self.profile.convention == "nest" and self.k > 0 else 0
            # (a pending change not yet in use is replaced: both would start at the same step)
            p.pending = (self.k + lag, p.lowering.parameters(pop.celltype, self.dt))
            if not lag:
                self.state[pop.label] = p.switch_parameters(self.state[pop.label])
        self.net = net   # reset() and save() see the new values

    def set_weights(self, projection, weights) -> None:
        """Weights as ``[n_pre, n_post]`` or ``[batch, n_pre, n_post]`` (entries without a synapse
        are ignored), or per synapse ``[nsyn]`` / ``[batch, nsyn]`` in ``weights(format="list")``
        order. Magnitudes ≥ 0 in weight units."""
        proj = self._projection(projection)
        t = self.tables[proj.label]
        owner = f"set_weights({proj.label!r})"
        a = finite_array(owner, "weights", weights)
        pair = (t.n_pre, t.n_post)
        if a.shape in (pair, (self.batch,) + pair):
            a = (a if a.ndim == 3 else a[None])[:, t.pre_np, t.post_np]
        elif a.shape in ((t.nsyn,), (self.batch, t.nsyn)):
            a = a if a.ndim == 2 else a[None]
        else:
            raise ValidationError(f"{owner}: shape {a.shape}; give {pair} (pre × post), {(self.batch,) + pair}, "
                                  f"({t.nsyn},) per synapse or {(self.batch, t.nsyn)}")
        bounded_array(owner, "weights", a, hi=MAX_CURRENT, why="weights are at most 1e6 nA or mV so that V and currents stay finite")
        if np.any(a < 0):
            raise ValidationError(f"{owner}: weight {a.min()} < 0; give magnitudes, the receptor sets the sign")
        w = torch.as_tensor(a, dtype=torch.float64, device=self.device)
        if proj.label in self.plastic:
            self.plastic[proj.label].set_weights(w.expand(self.batch, -1))
        else:
            self.static[proj.label].set_weights(w)
            if self.fixed:   # as the host does when it loads the board: shifts and words from the weights
                key = (proj.post, RECEPTOR_INDEX[proj.receptor])
                old = self.shifts.get(key)
                self._set_shifts({(proj.post, proj.receptor)})
                if w.shape[0] == 1 and old is not None:   # one weight set: say what the reload does
                    self._warn_reload(proj, w[0], int(old.max()), int(self.shifts[key].max()))
        for m in self.mechanisms:  # e.g. an STDP gate must not undo weights the user set
            if hasattr(m, "sync"):
                m.sync(self)

    def _warn_reload(self, proj, w: torch.Tensor, old: int, new: int) -> None:
        """SpinnakerWarning for what loading these weights does on the board: a changed ring-buffer
        shift (every projection onto the receptor re-quantised) and weights that round to 0
        (neuromorph.hardware.limits.reloaded_weight_findings)."""
        import warnings

        from neuromorph.errors import SpinnakerWarning
        from neuromorph.hardware.limits import reloaded_weight_findings
        others = {label: sp.host[0].cpu().numpy() for label, sp in self.static.items() if label != proj.label}
        for _, _, text in reloaded_weight_findings(self.net, proj.label, w.cpu().numpy(), old, new, others=others):
            warnings.warn(f"SpiNNaker: {text}", SpinnakerWarning, stacklevel=3)

    def set_spike_times(self, label, times) -> None:
        pop = self.net.get(label)
        src = self.sources.get(pop.label)
        if not isinstance(src, ArraySource):
            raise ValidationError(f"set_spike_times: {pop.label!r} is not a SpikeSourceArray")
        src.set_times(times)

    def neo(self, label, variables="all"):
        """The recorded variables of population ``label`` as a neo.Block, one Segment per trial
        (backends/torch/neo_results.py; needs the ``[pynn]`` extra's neo)."""
        from .neo_results import to_neo
        return to_neo(self, label, variables)

    # -- trained networks ------------------------------------------------------------------------
    def clamp_weights(self) -> None:
        """Clamp every trainable projection's weights at 0 (in place): the ``sign="fixed"``
        policy, for a training loop that calls it after each ``opt.step()`` (docs/training.md)."""
        with torch.no_grad():
            for w in self.trainable.values():
                w.clamp_(min=0.0)

    def trained_network(self):
        """A new nm.Network equal to the description but with every trainable projection's
        current weights (a FromList with per-synapse delays) and every trainable bias folded into
        ``i_offset``; signed weights are split by receptor: ``<label>`` keeps its receptor and the
        weights ≥ 0, ``<label>:inh`` (``<label>:exc`` for an inhibitory projection) gets the
        magnitudes of the negative ones with the other receptor (appended after the other
        projections; a projection with only negative weights keeps its label and flips its
        receptor). The result saves to JSON and builds on every backend (docs/training.md)."""
        import dataclasses
        import warnings
        from neuromorph.connectors import FromList
        from neuromorph.network import Network
        net = self.net
        out = Network(dt=net.dt, seed=net.seed)
        for label, pop in net.populations.items():
            bias = self.biases.get(param_name(label)) if self.biases else None
            if bias is not None:
                b = bias.detach().to(torch.float64).cpu().numpy().reshape(-1)
                if b.size > 1 and np.ptp(b) > 0:
                    raise ValidationError(
                        f"trained_network: population {label!r} has per-neuron trained biases (i_offset offsets from "
                        f"{b.min():.4g} to {b.max():.4g} nA) but a population has one i_offset; train it with "
                        f"trainable_biases={{{label!r}: 'shared'}}, or split the population into one per neuron group")
                pop = dataclasses.replace(pop, celltype=dataclasses.replace(
                    pop.celltype, i_offset=float(pop.celltype.i_offset) + float(b[0])))
            out.populations[label] = pop
        flipped = {"excitatory": "inhibitory", "inhibitory": "excitatory"}
        extra = []
        for label, proj in net.projections.items():
            key = param_name(label)
            if key not in self.trainable:
                out.projections[label] = proj
                out._connectivity[label] = net._connectivity[label]
                continue
            w = self.static[label].weights().detach().to(torch.float64).cpu().numpy()
            if w.shape[0] != 1 and np.ptp(w, axis=0).max(initial=0.0) > 0:
                raise ValidationError(f"trained_network: projection {label!r} has weights per trial; set shared weights first")
            w = w[0]
            c = net._connectivity[label]
            d = c.delays * net.dt
            pos, neg = w >= 0, w < 0
            rows = lambda m: [(int(i), int(j), float(abs(x)), float(y)) for i, j, x, y in zip(c.pre[m], c.post[m], w[m], d[m])]
            if neg.any():
                post = net.populations[proj.post].celltype
                if getattr(post, "tau_syn_E", None) != getattr(post, "tau_syn_I", None):
                    warnings.warn(f"trained_network: {label!r} has negative weights onto {proj.post!r}, whose tau_syn_E != "
                                  "tau_syn_I; on the other receptor they act with the other time constant", stacklevel=2)
            if neg.all() and w.size:
                out.connect(proj.pre, proj.post, FromList(rows(neg)), receptor=flipped[proj.receptor], label=label)
                continue
            out.connect(proj.pre, proj.post, FromList(rows(pos)), receptor=proj.receptor, label=label)
            if neg.any():
                extra.append((proj, rows(neg)))
        for proj, r in extra:
            other = flipped[proj.receptor]
            out.connect(proj.pre, proj.post, FromList(r), receptor=other, label=f"{proj.label}:{other[:3]}")
        out.recordings = list(net.recordings)
        out.extensions = list(net.extensions)
        return out

    to_network = trained_network

    # -- checkpoints ---------------------------------------------------------------------------
    def save(self, path) -> None:
        """Write a checkpoint (description and all state) that ``nm.load(path)`` resumes
        bit-identically (backends/torch/checkpoint.py)."""
        from .checkpoint import save
        save(self, path)

    # -- for mechanisms -----------------------------------------------------------------------
    def synapse_weights(self, label) -> torch.Tensor:
        """A projection's committed weights ``[1 or batch, nsyn]`` in synapse order, weight units
        (a copy; write changes back with :meth:`write_synapse_weights`)."""
        return self._weight_tensor(self._projection(label).label).detach().clone()

    def write_synapse_weights(self, label, w: torch.Tensor) -> None:
        """Overwrite a projection's weights in place with ``w`` ``[batch, nsyn]`` (weight units):
        what a mechanism that changes weights inside a run (SAL) uses; plastic projections take it
        as both committed and pending weight."""
        label = self._projection(label).label
        with torch.no_grad():
            if label in self.plastic:
                pp = self.plastic[label]
                pp.set_weights(w.to(torch.float64).expand(self.batch, -1))
                return
            sp = self.static[label]
            W = sp.per_trial(self.batch)
            if sp.fixed:   # words at the shift the projection was loaded with (saturating)
                sp.host = w.to(torch.float64).expand(self.batch, -1).clone()
                w = sp.encode(sp.host).clamp(max=fixed_point.WORD_MAX)
            if sp.dense:
                W[:, sp.table.pre, sp.table.post] = w.to(W.dtype)
            else:
                W.copy_(w.to(W.dtype).expand_as(W))

    def synapse_table(self, label) -> SynapseTable:
        """Connectivity of a projection on the device (pre, post, delay per synapse)."""
        return self.tables[self._projection(label).label]
