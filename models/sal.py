"""Spike-based alignment learning (SAL; Gierlich et al., arXiv:2503.02642): experiments.

Two populations X and Y of stochastic escape-noise LIF neurons (``EscapeLeaky``: snnTorch's
``Leaky`` with sampled spikes) are connected both ways: X→Y with ``W_xy`` [n_x, n_y] (pre × post)
and Y→X with ``W_yx`` [n_y, n_x]. Per step of dt = 1 ms:

    u ← β·u·(1 − s(t − 1)) + (1 − β)·b + Σ_pre W·s_pre(t − 1)   β = exp(−dt/τ_m); reset to 0 after a spike
    s ~ Bernoulli(1 − exp(−ρ0·exp((u − ϑ)/Δu)·dt/1000))                       (escape noise)
    SAL (neuromorph.backends.torch.mechanisms.sal.sal_step) on (W_xy, W_yx), window τ, amplitude η

Neuron noise is the only drive besides the bias b; SAL's antisymmetric window turns the causal
asymmetry of the two directions into a drift of ``W_xy − W_yxᵀ`` toward 0 while ``W_xy + W_yxᵀ``
is conserved exactly (docs/mechanisms.md §4).

- ``two_neuron_alignment(epochs=600, seed=0)``: W01 = 1.5, W10 = 0.5; per-epoch difference and sum.
  With ``backend=`` ("torch", "pynn:nest", …) the same experiment runs from one network description
  (``two_neuron_network``) through ``nm.build`` instead: the stochastic firing is Poisson input
  into IF_curr_exp neurons (``PoissonSALConfig``), because escape noise is not a description
  construct and has no PyNN cell type behind it; on PyNN the SAL update runs host in the loop
  between segments of ``segment_ms`` (neuromorph.backends.pynn.host_sal).
- ``layer_alignment(n_in=50, n_out=20, epochs=…, seed=0)``: forward W (input→output) and feedback
  B (output→input) drawn independently (≈ 90° apart); per-epoch angle between Wᵀ and B.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from neuromorph.backends.torch.mechanisms.escape import EscapeLeaky
from neuromorph.backends.torch.mechanisms.sal import SALParameters, sal_initial_state, sal_step
from neuromorph.errors import ValidationError

from ._progress import Progress

__all__ = ["SALConfig", "LAYER_CONFIG", "PoissonSALConfig", "run_reciprocal", "two_neuron_network", "two_neuron_alignment",
           "layer_alignment", "angle_deg"]


@dataclass(frozen=True)
class SALConfig:
    """Neuron and learning parameters of the experiments (dimensionless membrane).

    Neurons reset to u = 0 after a spike (``snntorch.Leaky`` reset "zero"), which keeps the
    mutually exciting pair from running away. ``chains`` > 1 runs that many independent noise
    realisations (parallel sampling chains) of the same network, sharing one set of weights; the
    SAL update applied is the mean of the chains' updates (chains = 1: the plain rule).
    """

    dt: float = 1.0          # ms
    tau_m: float = 5.0       # ms, membrane (PSP) time constant
    rho0: float = 20.0       # Hz, hazard at u = ϑ
    delta_u: float = 0.3     # escape-noise width
    threshold: float = 0.0   # ϑ
    bias: float = 0.0        # b
    tau: float = 20.0        # ms, SAL window
    eta: float = 1e-3        # SAL amplitude
    epoch_ms: float = 100.0  # one epoch = this much simulated time
    chains: int = 1


#: the layer experiment: faster membranes and window, higher base rate, 8 chains
LAYER_CONFIG = SALConfig(tau_m=2.0, rho0=100.0, delta_u=0.3, tau=2.0, eta=4e-3, chains=8)


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle between two arrays taken as vectors [degrees]."""
    a, b = np.ravel(a), np.ravel(b)
    c = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


def run_reciprocal(w_xy: np.ndarray, w_yx: np.ndarray, epochs: int, cfg: SALConfig = SALConfig(), seed: int = 0,
                   progress: bool | str = False):
    """Simulate X ⇄ Y with SAL for ``epochs`` epochs; return the weights after each epoch as
    float64 arrays ``[epochs + 1, n_x, n_y]`` and ``[epochs + 1, n_y, n_x]`` (row 0: initial).
    ``progress`` (True, or a name for the lines) prints progress lines on stderr."""
    if isinstance(epochs, bool) or int(epochs) != epochs or epochs < 1:
        raise ValidationError(f"SAL experiment: epochs={epochs!r} must be a positive integer")
    if isinstance(cfg.chains, bool) or int(cfg.chains) != cfg.chains or cfg.chains < 1:
        raise ValidationError(f"SALConfig: chains={cfg.chains!r} must be a positive integer")
    w_xy = torch.as_tensor(np.asarray(w_xy, dtype=np.float64)).unsqueeze(0).clone()
    w_yx = torch.as_tensor(np.asarray(w_yx, dtype=np.float64)).unsqueeze(0).clone()
    n_x, n_y = w_xy.shape[1:]
    if w_yx.shape[1:] != (n_y, n_x):
        raise ValidationError(f"SAL experiment: W_yx has shape {tuple(w_yx.shape[1:])}; the reciprocal of [{n_x}, {n_y}] is [{n_y}, {n_x}]")
    K = int(cfg.chains)
    steps = int(round(cfg.epoch_ms / cfg.dt))
    gen = torch.Generator().manual_seed(int(seed))
    beta = math.exp(-cfg.dt / cfg.tau_m)
    lif = EscapeLeaky(beta=beta, rho0=cfg.rho0, delta_u=cfg.delta_u, dt=cfg.dt, threshold=cfg.threshold,
                      reset_mechanism="zero", generator=gen)           # X and Y side by side: [K, n_x + n_y]
    u = torch.full((K, n_x + n_y), cfg.bias, dtype=torch.float64)
    s = torch.zeros(K, n_x + n_y, dtype=torch.float64)
    drive = (1.0 - beta) * cfg.bias
    params = SALParameters(cfg.tau, cfg.eta, cfg.dt)
    state = sal_initial_state(K, n_x, n_y)
    hist_xy, hist_yx = [w_xy[0].numpy().copy()], [w_yx[0].numpy().copy()]
    bar = Progress(progress if isinstance(progress, str) else f"SAL {n_x} <-> {n_y}", int(epochs), "epochs",
                   enabled=bool(progress))
    with torch.no_grad():
        for epoch in range(int(epochs)):
            for _ in range(steps):
                s_x, s_y = s[:, :n_x], s[:, n_x:]
                current = torch.cat((s_y @ w_yx[0], s_x @ w_xy[0]), dim=1)   # spikes of the last step
                if drive:
                    current = current + drive
                s, u = lif(current, u)
                s_x, s_y = s[:, :n_x], s[:, n_x:]
                if K == 1:
                    w_xy, w_yx, state, _ = sal_step(s_x, s_y, w_xy, w_yx, state, params)
                else:
                    _, _, state, delta = sal_step(s_x, s_y, w_xy, w_yx, state, params)
                    d = delta.mean(dim=0, keepdim=True)
                    w_xy, w_yx = w_xy + d, w_yx - d.transpose(1, 2)
            hist_xy.append(w_xy[0].numpy().copy())
            hist_yx.append(w_yx[0].numpy().copy())
            bar.update(epoch + 1)
    return np.stack(hist_xy), np.stack(hist_yx)


@dataclass(frozen=True)
class PoissonSALConfig:
    """The two-neuron experiment as a network description (any backend): neuron 0 (population
    "x") and neuron 1 ("y") are IF_curr_exp cells with default parameters, each driven by its own
    ``noise_n`` Poisson sources ("noise_x", "noise_y", all-to-all projections "drive_x", "drive_y";
    ``noise_rate`` [Hz] each, weight ``noise_weight`` [nA]; many slow sources rather than one fast
    one, because torch draws a Poisson source as one Bernoulli spike per step and NEST as a
    Poisson count per step: at 20 Hz and dt = 1 ms the two differ by < 2e-4 per step), and
    coupled both ways ("xy": x→y = W01, "yx": y→x = W10, [nA]) with SAL(τ = ``tau``, η = ``eta``;
    w_min = 0). One epoch = ``epoch_ms``. ``numerics`` is the torch profile (NEST's conventions
    by default, "exact")."""

    dt: float = 1.0            # ms
    noise_n: int = 50          # Poisson sources per neuron
    noise_rate: float = 20.0   # Hz, each
    noise_weight: float = 0.15  # nA
    tau: float = 20.0          # ms, SAL window
    eta: float = 2.5e-3        # nA, SAL amplitude
    epoch_ms: float = 1000.0   # ms
    numerics: str = "exact"


def two_neuron_network(w01: float = 1.5, w10: float = 0.5, cfg: PoissonSALConfig = PoissonSALConfig(), seed: int = 0):
    """The network description of the two-neuron experiment (see ``PoissonSALConfig``)."""
    import neuromorph as nm
    from neuromorph.mechanisms import SAL

    net = nm.Network(dt=cfg.dt, seed=int(seed))
    for p in ("x", "y"):
        net.poisson_source(f"noise_{p}", int(cfg.noise_n), cfg.noise_rate)
        net.population(p, 1, nm.IF_curr_exp())
        net.connect(f"noise_{p}", p, nm.AllToAll(), weight=cfg.noise_weight, label=f"drive_{p}")
    net.connect("x", "y", nm.AllToAll(), weight=w01, label="xy")
    net.connect("y", "x", nm.AllToAll(), weight=w10, label="yx")
    net.add(SAL("sal", forward="xy", backward="yx", tau=cfg.tau, eta=cfg.eta))
    net.record("x", "spikes")
    net.record("y", "spikes")
    return net


@dataclass
class TwoNeuronResult:
    difference: np.ndarray  # W01 − W10 per epoch (index 0: start)
    total: np.ndarray       # W01 + W10 per epoch
    rates: tuple = ()       # backend runs: mean rate of neuron 0 and neuron 1 [Hz]
    lag: float = 0.0        # PyNN: largest |W(t) − W(segment start)| (the host loop's weight lag) [weight units]

    @property
    def final_ratio(self) -> float:
        """|difference at the end| / |difference at the start|."""
        return float(abs(self.difference[-1]) / abs(self.difference[0]))

    @property
    def sum_drift(self) -> float:
        """max |sum − sum at start| over all epochs."""
        return float(np.max(np.abs(self.total - self.total[0])))


def two_neuron_alignment(epochs: int = 600, seed: int = 0, w01: float = 1.5, w10: float = 0.5,
                         cfg: SALConfig | PoissonSALConfig | None = None, progress: bool = False,
                         backend: str | None = None, segment_ms: float | None = None) -> TwoNeuronResult:
    """Two stochastic neurons, W01 (0→1) = 1.5 and W10 (1→0) = 0.5, learning with SAL.

    ``backend`` None: escape-noise neurons stepped here (``SALConfig``). ``backend`` "torch",
    "pynn:nest", …: ``two_neuron_network`` built with ``nm.build`` (``PoissonSALConfig``; on
    PyNN with ``segment_ms``, default the epoch), one row per epoch of ``cfg.epoch_ms``."""
    if backend is not None:
        return _two_neuron_on_backend(epochs, seed, w01, w10, cfg or PoissonSALConfig(), progress, backend, segment_ms)
    cfg = cfg or SALConfig()
    hx, hy = run_reciprocal(np.array([[w01]]), np.array([[w10]]), epochs, cfg, seed,
                            progress="SAL two neurons" if progress else False)
    a, b = hx[:, 0, 0], hy[:, 0, 0]
    return TwoNeuronResult(a - b, a + b)


def _two_neuron_on_backend(epochs, seed, w01, w10, cfg, progress, backend, segment_ms) -> TwoNeuronResult:
    import neuromorph as nm

    if not isinstance(cfg, PoissonSALConfig):
        raise ValidationError(f"two_neuron_alignment(backend={backend!r}): cfg must be a PoissonSALConfig, got {type(cfg).__name__}")
    if isinstance(epochs, bool) or int(epochs) != epochs or epochs < 1:
        raise ValidationError(f"SAL experiment: epochs={epochs!r} must be a positive integer")
    options = {"numerics": cfg.numerics} if backend == "torch" else {"segment_ms": segment_ms or cfg.epoch_ms}
    sim = nm.build(two_neuron_network(w01, w10, cfg, seed), backend=backend, **options)
    a, b = [w01], [w10]
    bar = Progress(f"SAL two neurons on {backend}", int(epochs), "epochs", enabled=bool(progress))
    for epoch in range(int(epochs)):
        sim.run(cfg.epoch_ms)
        a.append(float(np.nansum(sim.weights("xy"))))
        b.append(float(np.nansum(sim.weights("yx"))))
        bar.update(epoch + 1)
    seconds = sim.time / 1000.0
    rates = tuple(float(len(sim.spikes(p)[0]) / seconds) for p in ("x", "y"))
    lag = max((float(getattr(m, "lag", 0.0)) for m in getattr(sim, "mechanisms", [])), default=0.0)
    if hasattr(sim, "close"):
        sim.close()
    a, b = np.asarray(a), np.asarray(b)
    return TwoNeuronResult(a - b, a + b, rates, lag)


@dataclass
class LayerResult:
    angle: np.ndarray        # angle(Wᵀ, B) per epoch [deg] (index 0: start)
    sum_drift: float         # max |(Wᵀ + B) − (Wᵀ + B) at start| over epochs and synapses
    W: np.ndarray            # final forward weights [n_out, n_in]
    B: np.ndarray            # final feedback weights [n_in, n_out]


def layer_alignment(n_in: int = 50, n_out: int = 20, epochs: int = 200, seed: int = 0, weight_std: float = 0.1,
                    cfg: SALConfig = LAYER_CONFIG, progress: bool = False) -> LayerResult:
    """Input layer (n_in) ⇄ output layer (n_out): forward W [n_out, n_in] and feedback B
    [n_in, n_out] drawn independently from N(0, weight_std²) (so ≈ 90° apart); SAL aligns B
    with Wᵀ. Returns the angle per epoch."""
    for name, v in (("n_in", n_in), ("n_out", n_out)):
        if isinstance(v, bool) or int(v) != v or v < 1:
            raise ValidationError(f"layer_alignment: {name}={v!r} must be a positive integer")
    rng = np.random.default_rng(seed)
    W = rng.normal(0.0, weight_std, size=(n_out, n_in))
    B = rng.normal(0.0, weight_std, size=(n_in, n_out))
    angles = []
    hx, hy = run_reciprocal(W.T, B.T, epochs, cfg, seed,  # X = input (W_xy = Wᵀ), Y = output (W_yx = Bᵀ)
                            progress=f"SAL layer {n_in} -> {n_out}" if progress else False)
    for wt, bt in zip(hx, hy):
        angles.append(angle_deg(wt, bt.T))
    total = hx + np.transpose(hy, (0, 2, 1))
    return LayerResult(np.asarray(angles), float(np.max(np.abs(total - total[0]))), hx[-1].T, hy[-1].T)


def _main():  # python -m neuromorph.models.sal
    r = two_neuron_alignment(progress=True)
    print(f"two neurons: W01 - W10 {r.difference[0]:.3f} -> {r.difference[-1]:.3f} (ratio {r.final_ratio:.3f}); "
          f"W01 + W10 drift {r.sum_drift:.1e}")
    la = layer_alignment(progress=True)
    print(f"layer 50 -> 20: angle(W^T, B) {la.angle[0]:.1f} deg -> {la.angle[-1]:.1f} deg; sum drift {la.sum_drift:.1e}")


if __name__ == "__main__":
    _main()
