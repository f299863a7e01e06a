"""Map the mechanism experiments (homeostasis, SAL, astrocyte couplings; docs/mechanisms.md §5)
on SpiNNaker through pynn:spinnaker — a virtual SpiNN-5 when no board is configured, which maps
but runs nothing — and print each network's resources. Needs the [spinnaker] extra:

    python examples/map_mechanisms_spinnaker.py
"""
import json
import warnings

import numpy as np
import neuromorph as nm
from neuromorph.models import homeostasis, sal
from neuromorph.mechanisms import Astrocytes, SlowInwardCurrent, SynapticGain

def astro_net(*coupling):
    rng = np.random.default_rng(0)
    net = nm.Network(dt=1.0, seed=0)
    net.spike_source("src", [sorted(set(np.round(rng.uniform(2.0, 500, 200)).tolist())) for _ in range(4)])
    net.population("n", 4, nm.IF_curr_exp())
    net.connect("src", "n", nm.OneToOne(), weight=1.5, label="in")
    net.add(Astrocytes("astro", 2, covers=("in",), coupling=coupling, input_weight=40.0))
    net.record("n", "spikes")
    return net

cases = {
    "homeostasis (rate shift, SynapticScaling)": homeostasis.rate_shift_network(duration=2000.0, t_switch=1000.0),
    "SAL two neurons": sal.two_neuron_network(),
    "astrocytes SIC": astro_net(SlowInwardCurrent(weight=0.1)),
    "astrocytes gain": astro_net(SynapticGain(gain=0.1)),
}
out = {}
for name, net in cases.items():
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        sim = nm.build(net, backend="pynn:spinnaker", run_dir=f"neuromorph_out/map_{name.split()[0]}_{len(out)}",
                       segment_ms=500.0)
        sim.run(1000.0)
        res = sim.resources()
    msgs = sorted({str(w.message)[:120] for w in said})
    out[name] = {"resources": {k: v for k, v in res.items() if not isinstance(v, (list, dict))}, "warnings": msgs}
    print(name, json.dumps(out[name], default=str), flush=True)
    sim.close()
