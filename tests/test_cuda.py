"""CUDA gives the same spikes as the CPU (issue 2). Skipped where no GPU is visible."""
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import neuromorph as nm

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from networks import recurrent_stdp  # noqa: E402

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU visible to torch")]


@pytest.mark.parametrize("numerics", ["exact", "spinnaker"])
def test_cuda_matches_cpu_on_recurrent_stdp_network(numerics):
    net, ee = recurrent_stdp(1000)
    runs = {}
    for device in ("cpu", "cuda"):
        sim = nm.build(net, numerics=numerics, device=device)
        sim.run(1000.0)
        runs[device] = (sim.spikes("E"), sim.spikes("I"), sim.weights(ee))
    for pop in (0, 1):
        for a, b in zip(runs["cpu"][pop], runs["cuda"][pop]):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(runs["cpu"][2], runs["cuda"][2], rtol=0, atol=1e-12)
