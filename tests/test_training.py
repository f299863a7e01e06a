"""The torch backend is differentiable through snnTorch's surrogate gradients (issue 2 §3)."""
import torch

import neuromorph as nm


def _net():
    net = nm.Network(dt=1.0)
    src = net.spike_source("in", [[1, 3, 5, 8, 12], [2, 4, 9]])
    net.population("out", 3, nm.IF_curr_exp(tau_m=10))
    net.connect(src, "out", nm.AllToAll(), weight=3.0, delay=1, label="in->out")
    return net


def test_surrogate_gradient_reaches_trainable_weights_and_training_reduces_loss():
    net = _net()
    sim = nm.build(net, numerics="spinnaker-float", trainable=["in->out"])
    target = torch.tensor(1.0, dtype=torch.float64)  # one spike per output neuron
    opt = torch.optim.SGD(sim.parameters(), lr=0.5)
    losses = []
    for _ in range(15):
        sim.reset()
        opt.zero_grad()
        spikes = sim(20.0, outputs=["out"])["out"]          # [steps, batch, n]
        loss = ((spikes.sum(0) - target) ** 2).mean()
        loss.backward()
        assert sim.trainable["in->out"].grad is not None and torch.isfinite(sim.trainable["in->out"].grad).all()
        opt.step()
        losses.append(loss.item())
    assert losses[0] > 0 and min(losses) < losses[0]
    # the forward value is the exact threshold test: spike counts are whole numbers
    assert torch.equal(spikes, spikes.round())
