"""The torch backend: snnTorch neurons and PyTorch tensors, CPU or CUDA, batched.

``nm.build(net, backend="torch", numerics="spinnaker" | "spinnaker-float" | "exact", device="cpu",
batch=1, dtype=torch.float64, spike_grad=None)``; ``spike_grad`` is any snnTorch surrogate
(default ``snntorch.surrogate.atan()``).
"""
from .capabilities import capabilities
from .simulation import TorchSimulation


def build(net, backend: str = "torch", numerics: str = "spinnaker", device="cpu", batch: int = 1, **options):
    return TorchSimulation(net, numerics=numerics, device=device, batch=batch, **options)


__all__ = ["build", "capabilities", "TorchSimulation"]
