"""AM-SU: the astrocyte-modulated spiking unit (AstroSNN, Shen, Zhao et al., arXiv:2312.07625), and
a retention benchmark against a plain LIF network (docs/mechanisms.md §3).

The paper's full equations were not available; the unit follows its published figure — a spike
``s_t = Θ(u_t + o_t − ϑ)`` from a LIF membrane ``u_t`` plus the readout ``o_t = H_t q_t`` of an
astrocytic state ``H_t`` that is written by ``k_t, v_t`` and decays. The equations we chose, per
step t, for a layer of n units with presynaptic spikes ``x_t`` [n_in]::

    u_t = β·u_{t−1} + W_u x_t − ϑ·s_{t−1}            (snntorch.Leaky, reset by subtraction)
    k_t = W_k x_t ,  v_t = W_v x_t ,  q_t = W_q x_t   (key/value/query: d_k, n, d_k)
    H_t = γ·H_{t−1} + v_t k_tᵀ                        (astrocytic state, [n, d_k]; γ = exp(−dt/τ_astro))
    o_t = H_t q_t                                     ([n])
    s_t = Θ(u_t + o_t − ϑ)                            (Heaviside forward, snntorch.surrogate.atan backward)

Why these: the figure shows synaptic activity writing a slow astrocytic state through a key and a
value, a query reading it out, and the readout added to the membrane before the spike function; an
outer-product (fast-weight / linear-attention) memory is the simplest map with exactly that
structure, and it matches the neuron–astrocyte associative-memory reading of astrocytes
(Kozachkov et al., PNAS 2023). The decay γ is the astrocyte's slow time constant (τ_astro ≫ τ_m),
fixed, not trained. ``AstroLeaky`` extends ``snntorch.Leaky`` in its idiom: ``fire`` and
``mem_reset`` act on ``u + o``.

``retention_benchmark(delays, seed)`` trains an AM-SU network and a recurrent LIF network
(``snntorch.RLeaky``, all-to-all) with exactly the same number of trainable parameters on a
cue–delay–recall task and returns the test accuracy per delay.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import snntorch as snn
import torch
from snntorch import surrogate
from torch import nn

from neuromorph.errors import ValidationError

from ._progress import Progress

__all__ = ["AstroLeaky", "AMSU", "AMSUNet", "LIFNet", "CueRecallTask", "count_parameters", "retention_benchmark",
           "RetentionResult"]


class AstroLeaky(snn.Leaky):
    """``snntorch.Leaky`` whose spike is ``Θ(mem + offset − threshold)``; the reset (by
    subtraction, one step later as in snnTorch) follows that spike."""

    def forward(self, input_, offset, mem=None):
        self._offset = offset
        return super().forward(input_, mem)

    def fire(self, mem):
        total = mem + self._offset
        self._prev_total = total.detach()
        return super().fire(total)

    def mem_reset(self, mem):
        prev = getattr(self, "_prev_total", None)
        if prev is None or prev.shape != mem.shape:
            return torch.zeros_like(mem)
        return super().mem_reset(prev)

    def reset_mem(self):
        self._prev_total = None
        return super().reset_mem()


class AMSU(nn.Module):
    """A layer of ``n`` astrocyte-modulated spiking units (equations in the module docstring)."""

    def __init__(self, n_in: int, n: int, d_key: int, beta: float = 0.9, gamma: float = 0.99, threshold: float = 1.0,
                 spike_grad=None):
        super().__init__()
        for name, v in (("n_in", n_in), ("n", n), ("d_key", d_key)):
            if isinstance(v, bool) or int(v) != v or v < 1:
                raise ValidationError(f"AMSU: {name}={v!r} must be a positive integer")
        if not 0 <= beta <= 1 or not 0 <= gamma <= 1:
            raise ValidationError(f"AMSU: beta={beta}, gamma={gamma} must be decays in [0, 1]")
        self.n, self.d_key, self.gamma = int(n), int(d_key), float(gamma)
        self.w_u = nn.Linear(n_in, n, bias=False)
        self.w_v = nn.Linear(n_in, n, bias=False)
        self.w_k = nn.Linear(n_in, d_key, bias=False)
        self.w_q = nn.Linear(n_in, d_key, bias=False)
        self.lif = AstroLeaky(beta=beta, threshold=threshold, spike_grad=spike_grad or surrogate.atan())

    def init_state(self, batch: int, device=None, dtype=torch.float32):
        self.lif.reset_mem()
        return (torch.zeros(batch, self.n, device=device, dtype=dtype),
                torch.zeros(batch, self.n, self.d_key, device=device, dtype=dtype))

    def forward(self, x, state):
        mem, H = state
        H = self.gamma * H + self.w_v(x).unsqueeze(2) * self.w_k(x).unsqueeze(1)
        o = torch.bmm(H, self.w_q(x).unsqueeze(2)).squeeze(2)
        spk, mem = self.lif(self.w_u(x), o, mem)
        return spk, (mem, H)


class AMSUNet(nn.Module):
    """AM-SU layer + linear readout of the spike counts in the recall window."""

    def __init__(self, n_in, n_classes, n_hidden=16, d_key=9, beta=0.9, gamma=0.99):
        super().__init__()
        self.layer = AMSU(n_in, n_hidden, d_key, beta=beta, gamma=gamma)
        self.readout = nn.Linear(n_hidden, n_classes)

    def forward(self, x, recall_from: int):
        state = self.layer.init_state(x.shape[1], x.device, x.dtype)
        count = 0
        for t in range(x.shape[0]):
            spk, state = self.layer(x[t], state)
            if t >= recall_from:
                count = count + spk
        return self.readout(count)


class LIFNet(nn.Module):
    """Plain LIF baseline: input weights → recurrent LIF layer (``snntorch.RLeaky``, all-to-all,
    same β, threshold and surrogate) → linear readout of the recall-window spike counts."""

    def __init__(self, n_in, n_classes, n_hidden=16, beta=0.9):
        super().__init__()
        self.fc = nn.Linear(n_in, n_hidden, bias=False)
        self.lif = snn.RLeaky(beta=beta, linear_features=n_hidden, all_to_all=True, spike_grad=surrogate.atan())
        self.readout = nn.Linear(n_hidden, n_classes)

    def forward(self, x, recall_from: int):
        spk, mem = self.lif.init_rleaky()
        count = 0
        for t in range(x.shape[0]):
            spk, mem = self.lif(self.fc(x[t]), spk, mem)
            if t >= recall_from:
                count = count + spk
        return self.readout(count)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@dataclass(frozen=True)
class CueRecallTask:
    """Cue–delay–recall: a cue (one of ``n_classes`` input lines firing with probability
    ``p_on`` per step for ``cue_steps``), ``delay`` steps in which only ``n_noise`` distractor lines
    fire (probability ``p_noise``), then a recall line fires for ``recall_steps``; the network must
    report the cue from its spikes in the recall window. Steps of dt = 1 ms."""

    n_classes: int = 4
    n_noise: int = 3
    cue_steps: int = 5
    recall_steps: int = 5
    p_on: float = 0.8
    p_noise: float = 0.05

    @property
    def n_in(self) -> int:
        return self.n_classes + 1 + self.n_noise

    def batch(self, delay: int, size: int, generator: torch.Generator):
        """Inputs ``[T, size, n_in]`` (float32 spikes), labels ``[size]``, recall start index."""
        T = self.cue_steps + delay + self.recall_steps
        labels = torch.randint(0, self.n_classes, (size,), generator=generator)
        x = torch.zeros(T, size, self.n_in)
        on = (torch.rand(self.cue_steps, size, generator=generator) < self.p_on).float()
        x[: self.cue_steps, torch.arange(size), labels] = on
        rec = self.cue_steps + delay
        x[rec:, :, self.n_classes] = (torch.rand(self.recall_steps, size, generator=generator) < self.p_on).float()
        x[:, :, self.n_classes + 1:] = (torch.rand(T, size, self.n_noise, generator=generator) < self.p_noise).float()
        return x, labels, rec


def _train(model, task, delay, iters, batch, lr, gen):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(iters):
        x, y, rec = task.batch(delay, batch, gen)
        loss = nn.functional.cross_entropy(model(x, rec), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


def _accuracy(model, task, delay, n, gen):
    with torch.no_grad():
        x, y, rec = task.batch(delay, n, gen)
        return float((model(x, rec).argmax(1) == y).float().mean())


@dataclass
class RetentionResult:
    delays: list
    amsu: list               # test accuracy per delay
    lif: list
    parameters: dict = field(default_factory=dict)  # trainable parameters of each network
    chance: float = 0.25

    def table(self) -> str:
        rows = [f"delay {d:>4} steps: AM-SU {100 * a:5.1f}%   LIF {100 * b:5.1f}%" for d, a, b in zip(self.delays, self.amsu, self.lif)]
        return "\n".join(rows + [f"trainable parameters: {self.parameters}"])


def retention_benchmark(delays=(10, 50, 100, 200), seed: int = 0, iters: int = 300, batch: int = 64, lr: float = 1e-2,
                        test_size: int = 512, task: CueRecallTask = CueRecallTask(), n_hidden: int = 16, d_key: int = 9,
                        lif_hidden: int = 16, beta: float = 0.9, gamma: float = 0.99,
                        progress: bool = False) -> RetentionResult:
    """Train AM-SU and LIF networks (same number of trainable parameters; both use snnTorch
    surrogate gradients) on the cue–delay–recall task for each delay; return test accuracies.
    ``progress=True`` prints progress lines on stderr (networks trained, elapsed, time left)."""
    delays = [int(d) for d in delays]
    if not delays or any(d < 0 for d in delays):
        raise ValidationError(f"retention_benchmark: delays={delays} must be non-negative whole steps")
    amsu_acc, lif_acc, params = [], [], {}
    bar = Progress(f"retention benchmark (delays {delays}, {iters} iterations each)", 2 * len(delays),
                   "networks trained", enabled=progress)
    for d in delays:
        torch.manual_seed(seed * 7919 + d)
        a = AMSUNet(task.n_in, task.n_classes, n_hidden, d_key, beta, gamma)
        torch.manual_seed(seed * 7919 + d)
        b = LIFNet(task.n_in, task.n_classes, lif_hidden, beta)
        params = {"AM-SU": count_parameters(a), "LIF": count_parameters(b)}
        for model, acc in ((a, amsu_acc), (b, lif_acc)):
            gen = torch.Generator().manual_seed(seed * 104729 + d)
            _train(model, task, d, iters, batch, lr, gen)
            acc.append(_accuracy(model, task, d, test_size, torch.Generator().manual_seed(10 ** 6 + seed * 31 + d)))
            bar.update(len(amsu_acc) + len(lif_acc))
    return RetentionResult(delays, amsu_acc, lif_acc, params, 1.0 / task.n_classes)


def _main():  # python -m neuromorph.models.astro
    print(retention_benchmark(progress=True).table())


if __name__ == "__main__":
    _main()
