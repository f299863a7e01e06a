"""The torch simulation: a Network lowered to tensors ``[batch, n]`` and stepped on CPU or CUDA.

Per step k (both profiles; the arithmetic inside each item differs, see docs/semantics.md):
1. every neuron population consumes its ring-buffer slot k and updates (neurons.py);
2. the events of stamp u = k + stamp_offset are processed: post spikes enter the STDP histories,
   potentiation for post spikes reaching their synapses, pre spikes depress and commit plastic
   weights (stdp.py), and every spike is delivered into slot k + delay of its targets;
3. recordings and network mechanisms (homeostasis, astrocytes, ...) see the step's spikes.
"""
from __future__ import annotations

import numpy as np
import torch

from neuromorph.capabilities import check_supported
from neuromorph.cells import SpikeSourceArray, SpikeSourcePoisson
from neuromorph.errors import SimulationError, UnsupportedError, ValidationError
from neuromorph.numerics import get_profile
from neuromorph.simulation import Simulation
from neuromorph.validation import finite_array

from . import board
from .neurons import LIFPopulation
from .sources import ArraySource, PoissonSource
from .stdp import PlasticProjection


def resolve_device(device) -> torch.device:
    if device is None:
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValidationError(f"device={device!r} is not a torch device; use 'cpu' or 'cuda'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValidationError(f"device={device!r} but no CUDA GPU is visible to torch here; use device='cpu'")
    return dev


class _StaticProjection:
    def __init__(self, proj, conn, device, dtype, lsb):
        self.label, self.pre, self.post, self.receptor = proj.label, proj.pre, proj.post, proj.receptor
        self.mask = torch.as_tensor(conn.mask, device=device)
        self.delays = conn.distinct_delays
        self.delay_masks = {d: torch.as_tensor(conn.delay_steps == d, device=device) for d in self.delays}
        self.lsb = lsb  # board weight resolution (spinnaker profile) or None
        self.device, self.dtype = device, dtype
        self.set_weights(torch.as_tensor(conn.weight, dtype=torch.float64, device=device).unsqueeze(0))

    def set_weights(self, w):
        w = torch.where(self.mask, w, torch.zeros((), dtype=w.dtype, device=w.device))
        if self.lsb is not None:  # host: 16-bit word rint(|w|·weight_scale)
            w = torch.round(w / self.lsb) * self.lsb
        w = w.to(self.dtype)
        if isinstance(getattr(self, "W", None), torch.nn.Parameter):
            with torch.no_grad():
                self.W.copy_(w.expand_as(self.W))
        else:
            self.W = w

    def weights(self):
        return self.W


class TorchSimulation(Simulation, torch.nn.Module):
    def __init__(self, net, numerics: str = "spinnaker", device="cpu", batch: int = 1, dtype=torch.float64,
                 spike_grad=None, trainable=(), check: bool = True):
        torch.nn.Module.__init__(self)
        self.net = net
        self.profile = get_profile(numerics)
        self.numerics = numerics
        self.device = resolve_device(device)
        if isinstance(batch, bool) or int(batch) != batch or batch < 1:
            raise ValidationError(f"batch={batch!r} must be a positive integer")
        self.batch = int(batch)
        if dtype not in (torch.float64, torch.float32):
            raise ValidationError(f"dtype={dtype!r} must be torch.float64 or torch.float32")
        self.dtype = dtype
        from . import capabilities
        if check:
            check_supported(net, capabilities(numerics=numerics), f"torch ({numerics})", self.batch)
        self.dt = net.dt
        self.neurons: dict[str, LIFPopulation] = {}
        self.sources: dict = {}
        for pop in net.populations.values():
            if isinstance(pop.celltype, SpikeSourceArray):
                self.sources[pop.label] = ArraySource(pop, self.batch, self.dt, self.device)
            elif isinstance(pop.celltype, SpikeSourcePoisson):
                self.sources[pop.label] = PoissonSource(pop, self.batch, self.dt, self.device, net.seed)
            else:
                self.neurons[pop.label] = LIFPopulation(pop.celltype, pop.size, self.dt, numerics, spike_grad)
        shifts = board.ring_buffer_shifts(net) if self.profile.board_weights else {}
        self.shifts = shifts
        self.static: dict[str, _StaticProjection] = {}
        self.plastic: dict[str, PlasticProjection] = {}
        max_delay = 1
        for proj in net.projections.values():
            conn = net.connectivity(proj)
            if conn.mask.any():
                max_delay = max(max_delay, max(conn.distinct_delays))
            shift = shifts.get((proj.post, proj.receptor))
            if proj.plasticity is not None and type(proj.plasticity).__name__ == "STDP":
                pp = PlasticProjection(proj, conn, proj.plasticity, self.profile, self.dt, self.batch, self.device,
                                       self.dtype, shift)
                pp.pre, pp.post, pp.receptor = proj.pre, proj.post, proj.receptor
                self.plastic[proj.label] = pp
            else:
                lsb = board.weight_lsb(shift) if shift is not None else None
                self.static[proj.label] = _StaticProjection(proj, conn, self.device, self.dtype, lsb)
        self.ring = max_delay + 1
        # weights the user trains through snnTorch's surrogate gradients become nn.Parameters
        self.trainable = torch.nn.ParameterDict()
        for label in trainable:
            proj = net.projection(label)
            if proj.label not in self.static:
                raise UnsupportedError(f"trainable projection {proj.label!r} is plastic; train static projections only")
            sp = self.static[proj.label]
            sp.W = torch.nn.Parameter(sp.W.clone())
            self.trainable[f"w{len(self.trainable)}"] = sp.W
        self.extra_current = {label: None for label in self.neurons}    # nA, added to i_offset
        self.threshold_shift = {label: None for label in self.neurons}  # mV, added to v_thresh
        self.weight_gain = {label: None for label in net.projections}    # gain on transmitted weights
        self.mechanisms = self._lower_extensions()
        self.reset()

    def _lower_extensions(self):
        if not self.net.extensions:
            return []
        try:
            from .mechanisms import TORCH_MECHANISMS
        except ImportError:
            TORCH_MECHANISMS = {}
        out = []
        for ext in self.net.extensions:
            factory = TORCH_MECHANISMS.get(type(ext).__name__)
            if factory is None:
                raise UnsupportedError(f"{type(ext).__name__} has no torch implementation")
            out.append(factory(ext, self))
        return out

    # -- state ------------------------------------------------------------------------------
    def reset(self) -> None:
        """Time, neuron state, plasticity traces, delay buffers and recordings back to their
        initial values; weights keep their current values (re-set them with set_weights)."""
        self.k = 0
        self._stamp0_done = False
        self._collect = None
        B, dev, dt = self.batch, self.device, self.dtype
        self.state = {label: nrn.initial_state(torch.as_tensor(self.net.populations[label].initial("v"), dtype=dt, device=dev), B)
                      for label, nrn in self.neurons.items()}
        self.buffers = {(label, r): torch.zeros(self.ring, B, nrn.n, dtype=dt, device=dev)
                        for label, nrn in self.neurons.items() for r in ("excitatory", "inhibitory")}
        for pp in self.plastic.values():
            pp.set_weights(pp.weights().to(torch.float64))
            pp.reset_traces()
        self._spikes = {label: [] for label in self.net.populations}
        self._traces = {}
        self._weights = {}
        for rec in self.net.recordings:
            for var in rec.variables:
                if var == "weights":
                    self._weights[rec.target] = (rec.every, [], [])
                elif var != "spikes":
                    self._traces[(rec.target, var)] = (rec.every, [])
        self._recorded_spikes = {rec.target for rec in self.net.recordings if "spikes" in rec.variables}
        for m in self.mechanisms:
            if hasattr(m, "reset"):
                m.reset(self)

    def forward(self, ms: float, outputs=()) -> dict:
        """Run ``ms`` and return the spikes of ``outputs`` (population labels) as tensors
        ``[steps, batch, n]`` that carry snnTorch surrogate gradients to trainable weights."""
        for label in outputs:
            self.net.get(label)
        self._collect = {label: [] for label in outputs}
        try:
            self.run(ms)
            return {label: torch.stack(rows) if rows else None for label, rows in self._collect.items()}
        finally:
            self._collect = None

    @property
    def time(self) -> float:
        return self.k * self.dt

    # -- running ----------------------------------------------------------------------------
    def run(self, ms: float) -> None:
        n = self.net.steps(ms, "run duration")
        if n == 0:
            return
        k0, off = self.k, self.profile.stamp_offset
        u0 = k0 + off if not (off and k0 == 0) else 0
        windows = {label: src.window(u0, k0 + n + off, self.dtype) for label, src in self.sources.items()}
        try:
            if off and k0 == 0 and not self._stamp0_done:
                # exact profile: source spikes stamped 0 are emitted before the first step
                self._process_stamp(-1, 0, {label: w[0] for label, w in windows.items()}, {})
                self._stamp0_done = True
            for k in range(k0, k0 + n):
                self._step(k, {label: w[k + off - u0] for label, w in windows.items()})
        except torch.cuda.OutOfMemoryError as exc:
            raise SimulationError(f"torch ran out of GPU memory at t={self.time} ms ({exc}); reduce batch or size") from None

    def _step(self, k: int, source_spikes: dict):
        self._sample_weights(k)
        slot = k % self.ring
        spikes = {}
        for label, nrn in self.neurons.items():
            be, bi = self.buffers[(label, "excitatory")], self.buffers[(label, "inhibitory")]
            in_e, in_i = be[slot].clone(), bi[slot].clone()
            be[slot].zero_()
            bi[slot].zero_()
            spk, new, seen = nrn(self.state[label], in_e, in_i, self.extra_current[label], self.threshold_shift[label])
            for var in ("v", "isyn_exc", "isyn_inh"):
                entry = self._traces.get((label, var))
                if entry is not None and k % entry[0] == 0:
                    entry[1].append(nrn.recorded(seen, var))
            self.state[label] = new
            spikes[label] = spk
        spikes.update(source_spikes)
        if self._collect is not None:
            for label, rows in self._collect.items():
                rows.append(spikes[label])
        self._process_stamp(k, k + self.profile.stamp_offset, spikes, spikes)
        for m in self.mechanisms:
            m.step(self, k, spikes)
        self.k = k + 1

    def _process_stamp(self, k: int, u: int, pre_spikes: dict, post_spikes: dict):
        """Events with stamp u, processed at the end of step k; deliveries land in step k + delay."""
        for label in self._recorded_spikes:
            s = pre_spikes.get(label)
            if s is not None:
                self._spikes[label].append((u, s.detach() > 0))
        for pp in self.plastic.values():
            post = post_spikes.get(pp.post)
            pp.record_post(u, post.detach() > 0 if post is not None else torch.zeros(self.batch, pp.n_post, dtype=torch.bool, device=self.device))
            # a post reaching the synapse at u pairs with the pre spikes before u (both simulators'
            # facilitation windows end at t_pre - d inclusive), so it goes before this stamp's pres
            pp.post_arrivals(u)
        for proj in list(self.plastic.values()) + list(self.static.values()):
            s = pre_spikes.get(proj.pre)
            if s is None:
                continue
            if self.device.type == "cpu" and not bool((s != 0).any()):
                continue
            if proj.label in self.plastic:
                proj.pre_spikes(u, s.detach() > 0)
            W = proj.weights()
            gain = self.weight_gain[proj.label]
            if gain is not None:
                W = W * gain
            buf = self.buffers[(proj.post, proj.receptor)]
            for d in proj.delays:
                Wd = W if len(proj.delays) == 1 else torch.where(proj.delay_masks[d], W, torch.zeros((), dtype=W.dtype, device=W.device))
                buf[(k + d) % self.ring] += torch.matmul(s.unsqueeze(1), Wd).squeeze(1)

    def _sample_weights(self, k: int):
        for label, (every, times, rows) in self._weights.items():
            if k % every == 0:
                times.append(k * self.dt)
                rows.append(self._weight_tensor(label).detach().clone())

    # -- results ----------------------------------------------------------------------------
    def spikes(self, label) -> list:
        pop = self.net.get(label)
        if pop.label not in self._recorded_spikes:
            raise ValidationError(f"spikes of {pop.label!r} were not recorded; add net.record({pop.label!r}, 'spikes') before build")
        events = self._spikes[pop.label]
        trials = [[[] for _ in range(pop.size)] for _ in range(self.batch)]
        if events:
            stamps = torch.tensor([u for u, _ in events])
            stacked = torch.stack([s for _, s in events]).cpu()            # [T, B, n]
            t_idx, b_idx, n_idx = stacked.nonzero(as_tuple=True)
            times = (stamps[t_idx].to(torch.float64) * self.dt).numpy()
            b_idx, n_idx = b_idx.numpy(), n_idx.numpy()
            order = np.lexsort((times, n_idx, b_idx))
            times, b_idx, n_idx = times[order], b_idx[order], n_idx[order]
            key = b_idx * pop.size + n_idx
            splits = np.searchsorted(key, np.arange(self.batch * pop.size + 1))
            out = [[times[splits[b * pop.size + i]:splits[b * pop.size + i + 1]] for i in range(pop.size)] for b in range(self.batch)]
        else:
            out = [[np.zeros(0) for _ in range(pop.size)] for _ in range(self.batch)]
        return out[0] if self.batch == 1 else out

    def trace(self, label, variable: str = "v") -> np.ndarray:
        pop = self.net.get(label)
        entry = self._traces.get((pop.label, variable))
        if entry is None:
            raise ValidationError(f"{variable!r} of {pop.label!r} was not recorded; add net.record({pop.label!r}, {variable!r}) before build")
        rows = entry[1]
        a = torch.stack(rows, dim=1).detach().cpu().numpy() if rows else np.zeros((self.batch, 0, pop.size))
        return a[0] if self.batch == 1 else a

    def _weight_tensor(self, label) -> torch.Tensor:
        if label in self.plastic:
            return self.plastic[label].weights()
        return self.static[label].weights()

    def _masked_numpy(self, label, w: torch.Tensor) -> np.ndarray:
        """[b, ..., n_pre, n_post] tensor (b = 1 or batch) -> float64 [batch, ..., n_pre, n_post], NaN off-synapse."""
        mask = self.net.connectivity(label).mask
        a = w.detach().to(torch.float64).cpu().numpy()
        a = np.broadcast_to(a, (self.batch,) + a.shape[1:]).copy()
        a[..., ~mask] = np.nan
        return a

    def weights(self, projection) -> np.ndarray:
        label = self._projection(projection).label
        a = self._masked_numpy(label, self._weight_tensor(label))
        return a[0] if self.batch == 1 else a

    def weight_history(self, projection):
        label = self._projection(projection).label
        if label not in self._weights:
            raise ValidationError(f"weights of {label!r} were not recorded; add net.record(projection, 'weights', every=k) before build")
        _, times, rows = self._weights[label]
        shape = self.net.connectivity(label).mask.shape
        if rows:
            b = max(r.shape[0] for r in rows)
            a = self._masked_numpy(label, torch.stack([r.expand(b, *shape) for r in rows], dim=1))
        else:
            a = np.zeros((self.batch, 0) + shape)
        return np.asarray(times), (a[0] if self.batch == 1 else a)

    def set_weights(self, projection, weights) -> None:
        proj = self._projection(projection)
        conn = self.net.connectivity(proj)
        owner = f"set_weights({proj.label!r})"
        a = np.asarray(weights, dtype=np.float64)
        if a.shape == conn.mask.shape:
            a = a[None]
        elif a.shape != (self.batch,) + conn.mask.shape:
            raise ValidationError(f"{owner}: shape {a.shape}; give {conn.mask.shape} (pre × post) or {(self.batch,) + conn.mask.shape}")
        inside = a[:, conn.mask]
        finite_array(owner, "weights", inside)
        if np.any(inside < 0):
            raise ValidationError(f"{owner}: weight {inside.min()} < 0; give magnitudes, the receptor sets the sign")
        a = np.where(conn.mask, a, 0.0)
        w = torch.as_tensor(a, dtype=torch.float64, device=self.device)
        if proj.label in self.plastic:
            self.plastic[proj.label].set_weights(w.expand(self.batch, *conn.mask.shape))
        else:
            self.static[proj.label].set_weights(w)
        for m in self.mechanisms:  # e.g. an STDP gate must not undo weights the user set
            if hasattr(m, "sync"):
                m.sync(self)

    def set_spike_times(self, label, times) -> None:
        pop = self.net.get(label)
        src = self.sources.get(pop.label)
        if not isinstance(src, ArraySource):
            raise ValidationError(f"set_spike_times: {pop.label!r} is not a SpikeSourceArray")
        src.set_times(times)

    def live_weight(self, label) -> torch.Tensor:
        """The live weight tensor of a projection, ``[1 or batch, n_pre, n_post]`` (weight units):
        a plastic projection's committed weights, or a static projection's matrix."""
        label = self._projection(label).label
        return self._weight_tensor(label)

    def plastic_weight(self, label) -> torch.Tensor:
        """The live committed weight tensor of a plastic projection (weight units)."""
        return self.plastic[label].weights()
