"""The torch backend: snnTorch surrogate spikes and PyTorch tensors, CPU or CUDA, batched.

``nm.build(net, backend="torch", numerics="spinnaker" | "spinnaker-float" | "exact", device="cpu",
batch=1, dtype=torch.float64, spike_grad=None, trainable=(), threads=1, max_memory=None)``; ``spike_grad`` is any
snnTorch surrogate (default ``snntorch.surrogate.atan()``). Layout: engine.py (state, ring buffers,
the chunked step loop), synapses.py (sparse storage, event-driven delivery), registry.py + cells/
(neuron lowerings), plasticity/ (STDP), mechanisms/, sources.py, board.py, memory.py.
"""
from .capabilities import capabilities
from .engine import TorchSimulation


#: keyword options ``build`` passes on to TorchSimulation
OPTIONS = ("numerics", "device", "batch", "dtype", "spike_grad", "trainable", "trainable_biases", "check", "threads",
           "max_memory")


def build(net, backend: str = "torch", numerics: str = "spinnaker", device="cpu", batch: int = 1, **options):
    from neuromorph.errors import ValidationError
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise ValidationError(f"build: option(s) {', '.join(sorted(map(str, unknown)))} not understood by backend 'torch' "
                              f"(accepted: {', '.join(OPTIONS)})")
    return TorchSimulation(net, numerics=numerics, device=device, batch=batch, **options)


__all__ = ["build", "capabilities", "TorchSimulation"]
